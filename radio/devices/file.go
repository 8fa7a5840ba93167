package devices

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/sigmf"
)

// fileDevice plays a recording as a receiver and records a transmitter into a file.
// Keys: rate and freq describe raw files (which carry no metadata) and set what a
// transmitted recording says; datatype picks the encoding of a SigMF recording
// (ci8, ci16_le, cf32_le; default cf32_le); truncated=allow reads a damaged recording up
// to its last whole sample; loop=true replays without end; replace=true lets a
// transmit stream replace a recording that exists (without it StartTX refuses one,
// with an error wrapping fs.ErrExist); raw reads a file of any name as header-less
// samples of the datatype given (ci8 or cs8 for hackrf_transfer's int8 I,Q, ci16_le,
// cf32_le or cf32), as "file:capture.iq,raw=cs8,rate=20M,freq=2.45G". Boolean values
// are those of radio.ParseBoolParam.
//
// With replace=true the device is one to write: an existing recording is not read
// when the device opens, since it is to be replaced and may be damaged or made at
// another rate, so the tuning starts from rate and freq (else DefaultFileRate and
// DefaultFileFrequency) rather than from the recording.
type fileDevice struct {
	path    string
	info    radio.Info
	ropt    sigmf.ReadOptions
	dtype   sigmf.Datatype
	loop    bool
	replace bool
	mu      sync.Mutex
	cfg     radio.Config
	stats   radio.Stats
	rxOn    bool
	txOn    bool
	closed  bool
	open    io.Closer // the running stream, closed with the device
}

// Tuning of a file device before a recording or a key says otherwise.
const (
	DefaultFileRate      = 20e6   // samples/s
	DefaultFileFrequency = 2.45e9 // Hz
)

func openFile(ctx context.Context, sp radio.Spec) (radio.Device, error) {
	if sp.Arg == "" {
		return nil, &radio.SpecError{Spec: sp.String(), Msg: "file needs a path: file:capture.sigmf-meta"}
	}
	d := &fileDevice{path: sp.Arg}
	if err := d.keys(sp); err != nil {
		return nil, err
	}
	cfg := radio.Config{SampleRate: DefaultFileRate, Frequency: DefaultFileFrequency}
	if d.ropt.SampleRate > 0 {
		cfg.SampleRate = d.ropt.SampleRate
	}
	if d.ropt.Frequency > 0 {
		cfg.Frequency = d.ropt.Frequency
	}
	desc := "no such file yet: receiving fails, a transmit stream creates it"
	switch {
	case d.replace:
		desc = "recording to write: a transmit stream creates it, replacing one that exists"
	case recordingExists(d.path):
		// Only the metadata and the length are wanted here: the checksum is
		// verified as StartRX's stream reads the samples.
		opt := d.ropt
		opt.SkipChecksum = true
		r, err := sigmf.OpenContext(ctx, d.path, opt)
		if err != nil {
			return nil, fmt.Errorf("devices: %s: %w", radio.ClipSpec(sp.String()), err)
		}
		m := r.Meta()
		if m.Global.SampleRate > 0 {
			cfg.SampleRate = m.Global.SampleRate
		}
		if len(m.Captures) > 0 && m.Captures[0].Frequency > 0 {
			cfg.Frequency = m.Captures[0].Frequency
		}
		desc = fmt.Sprintf("recording, %d samples of %s", r.Len(), m.Global.Datatype)
		r.Close()
	}
	d.info = radio.Info{
		Spec: sp.String(), Driver: "file", Serial: d.path, Description: desc,
		CanRX: true, CanTX: true, HalfDuplex: true,
		SampleRate: radio.Range{Min: 1, Max: 1e10},
		Frequency:  radio.Range{Min: 0, Max: 1e12},
	}
	v, err := d.info.Validate(cfg)
	if err != nil {
		return nil, err
	}
	d.cfg = v
	return d, nil
}

// recordingExists reports whether anything is at path or at either file of the
// recording it names (X.sigmf-meta and X.sigmf-data for a base name X). A
// directory counts, for sigmf.Open to explain.
func recordingExists(path string) bool {
	if _, err := os.Stat(path); err == nil {
		return true
	}
	meta, data, err := sigmf.Files(path)
	if err != nil {
		return false
	}
	for _, p := range []string{meta, data} {
		if _, err := os.Stat(p); p != "" && err == nil {
			return true
		}
	}
	return false
}

// keys reads the keys of the device string into d.
func (d *fileDevice) keys(sp radio.Spec) error {
	for _, p := range sp.Params {
		var err error
		switch p.Key {
		case "rate":
			d.ropt.SampleRate, err = radio.ParseFloatParam(p.Key, p.Value)
			if err == nil && !(d.ropt.SampleRate > 0) {
				err = fmt.Errorf("parameter rate: must be positive")
			}
		case "freq":
			d.ropt.Frequency, err = radio.ParseFloatParam(p.Key, p.Value)
		case "datatype":
			d.dtype, err = sigmf.ParseDatatype(p.Value)
		case "truncated":
			// allow and reject, or any boolean word (true: allow).
			switch strings.ToLower(p.Value) {
			case "allow":
				d.ropt.AllowTruncated = true
			case "reject":
				d.ropt.AllowTruncated = false
			default:
				if d.ropt.AllowTruncated, err = radio.ParseBoolParam(p.Key, p.Value); err != nil {
					err = fmt.Errorf("parameter truncated: %s, want allow or reject (or true, on, 1 / false, off, 0)", radio.QuoteSpec(p.Value))
				}
			}
		case "raw":
			switch strings.ToLower(p.Value) {
			case "cs8":
				d.ropt.Raw = sigmf.CI8
			case "cf32":
				d.ropt.Raw = sigmf.CF32LE
			default:
				d.ropt.Raw, err = sigmf.ParseDatatype(p.Value)
			}
		case "loop":
			d.loop, err = radio.ParseBoolParam(p.Key, p.Value)
		case "replace":
			d.replace, err = radio.ParseBoolParam(p.Key, p.Value)
		default:
			err = fmt.Errorf("unknown parameter %s (file accepts rate, freq, datatype, raw, truncated, loop, replace)", radio.QuoteSpec(p.Key))
		}
		if err != nil {
			return fmt.Errorf("devices: %s: %w", radio.ClipSpec(sp.String()), err)
		}
	}
	return nil
}

func (d *fileDevice) Info() radio.Info { return d.info }

// name is the device string for messages, clipped by radio.ClipSpec.
func (d *fileDevice) name() string { return radio.ClipSpec(d.info.Spec) }

func (d *fileDevice) Config() radio.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg.Clone()
}

func (d *fileDevice) Configure(c radio.Config) error {
	v, err := d.info.Validate(c)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rxOn || d.txOn {
		return fmt.Errorf("devices: %s: stop the running stream before reconfiguring: %w", d.name(), radio.ErrBusy)
	}
	d.cfg = v
	return nil
}

func (d *fileDevice) Stats() radio.Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// Close ends a running stream (a recording being written is flushed and its meta file
// completed) and releases the device.
func (d *fileDevice) Close() error {
	d.mu.Lock()
	d.closed = true
	s := d.open
	d.mu.Unlock()
	if s != nil {
		return s.Close()
	}
	return nil
}

func (d *fileDevice) begin(dir radio.Direction) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
		return radio.ErrClosed
	case d.rxOn || d.txOn:
		return fmt.Errorf("devices: %s: a stream is already open: %w", d.name(), radio.ErrHalfDuplex)
	}
	if dir == radio.RX {
		d.rxOn = true
	} else {
		d.txOn = true
	}
	return nil
}

func (d *fileDevice) end() {
	d.mu.Lock()
	d.rxOn, d.txOn = false, false
	d.open = nil
	d.mu.Unlock()
}

func (d *fileDevice) running(s io.Closer) {
	d.mu.Lock()
	d.open = s
	d.mu.Unlock()
}

func (d *fileDevice) StartRX(ctx context.Context) (radio.RXStream, error) {
	if err := d.begin(radio.RX); err != nil {
		return nil, err
	}
	// The checksum is verified as the samples are read, so a long recording is
	// read once and the check stops with the stream's context.
	opt := d.ropt
	opt.StreamChecksum = true
	r, err := sigmf.OpenContext(ctx, d.path, opt)
	if err != nil {
		d.end()
		return nil, fmt.Errorf("devices: %s: %w", d.name(), err)
	}
	if r.Meta().Global.SampleRate == 0 && d.ropt.SampleRate == 0 {
		r.Close()
		d.end()
		return nil, fmt.Errorf("devices: %s: the recording does not say its sample rate; add ,rate=RATE (for example ,rate=20M)", d.name())
	}
	if rate := r.Meta().Global.SampleRate; rate > 0 && rate != d.Config().SampleRate {
		r.Close()
		d.end()
		return nil, &radio.ConfigError{Device: d.name(), Field: "sample rate", Value: d.Config().SampleRate,
			Reason: fmt.Sprintf("the recording was made at %g samples/s", rate)}
	}
	rs := &fileRX{d: d, r: r, ctx: ctx}
	d.running(rs)
	return rs, nil
}

type fileRX struct {
	d   *fileDevice
	r   *sigmf.Reader
	ctx context.Context
	n   int64
}

func (s *fileRX) Read(dst []complex64) (int, radio.RXMeta, error) {
	if s.r == nil {
		return 0, radio.RXMeta{}, radio.ErrClosed
	}
	meta := radio.RXMeta{Time: s.n}
	if err := context.Cause(s.ctx); err != nil {
		return 0, meta, err
	}
	done := 0
	for done < len(dst) {
		k, err := s.r.Read(dst[done:])
		done += k
		if errors.Is(err, io.EOF) && s.d.loop && s.r.Len() > 0 {
			if err := s.r.SeekSample(0); err != nil {
				return done, meta, err
			}
			continue
		}
		if err != nil {
			s.account(done)
			return done, meta, err
		}
	}
	s.account(done)
	return done, meta, nil
}

func (s *fileRX) account(n int) {
	s.n += int64(n)
	s.d.mu.Lock()
	s.d.stats.RXSamples += uint64(n)
	s.d.mu.Unlock()
}

func (s *fileRX) Close() error {
	if s.r == nil {
		return nil
	}
	err := s.r.Close()
	s.r = nil
	s.d.end()
	return err
}

func (d *fileDevice) StartTX(ctx context.Context) (radio.TXStream, error) {
	if err := d.begin(radio.TX); err != nil {
		return nil, err
	}
	cfg := d.Config()
	opt := sigmf.WriteOptions{
		SampleRate: cfg.SampleRate, Frequency: cfg.Frequency, Datetime: time.Now().UTC(),
		Recorder: "m4sc", Datatype: d.dtype,
		// Created exclusively, so that a check that the recording is free
		// and its creation cannot be raced.
		Exclusive: !d.replace,
	}
	if strings.HasSuffix(d.path, ".sigmf-meta") || strings.HasSuffix(d.path, ".sigmf-data") {
		if opt.Datatype == 0 {
			opt.Datatype = sigmf.CF32LE
		}
	}
	w, err := sigmf.Create(d.path, opt)
	if err != nil {
		d.end()
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("devices: %s: %w (add replace=true to replace it)", d.name(), err)
		}
		return nil, fmt.Errorf("devices: %s: %w", d.name(), err)
	}
	ts := &fileTX{d: d, w: w, ctx: ctx}
	d.running(ts)
	return ts, nil
}

type fileTX struct {
	d   *fileDevice
	w   *sigmf.Writer
	ctx context.Context
}

func (s *fileTX) Write(src []complex64) (int, error) {
	if s.w == nil {
		return 0, radio.ErrClosed
	}
	if err := context.Cause(s.ctx); err != nil {
		// Cancelled: finish the recording now, so what was written is safe.
		if cerr := s.Close(); cerr != nil {
			return 0, fmt.Errorf("%w (closing the recording: %v)", err, cerr)
		}
		return 0, err
	}
	n, err := s.w.Write(src)
	s.d.mu.Lock()
	s.d.stats.TXSamples += uint64(n)
	s.d.mu.Unlock()
	return n, err
}

// Close finishes the recording; it is written even when Writes failed.
func (s *fileTX) Close() error {
	if s.w == nil {
		return nil
	}
	err := s.w.Close()
	s.w = nil
	s.d.end()
	return err
}
