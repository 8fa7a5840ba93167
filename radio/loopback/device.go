package loopback

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/m4sc/m4sc/radio"
)

// Device is one simulated radio on an Air.
type Device struct {
	air    *Air
	params Params
	info   radio.Info
	seed   uint64

	mu     sync.Mutex
	cfg    radio.Config
	stats  radio.Stats
	closed bool
	rxOn   bool
	txOn   bool

	// Receiver state, kept across streams so a later stream resumes where the last
	// stopped.
	cursor    *rxCursor
	ch        *Channel
	chVersion int // transmitter state the channel was built for
	chRate    float64
	chFreq    float64
	n         int64 // receiver sample counter
	nextGap   int64 // receiver sample where the next gap starts
	gaps      *normal
	pendDrop  int64 // dropped samples to report with the next buffer
	started   bool
	scratch   []complex64
	input     SliceInput
	txBuf     []complex64
	inBand    bool    // the transmitter's carrier falls inside the receiver's band
	chStart   float64 // air index of the channel's output sample 0
	chN0      int64   // receiver sample counter at the channel's output sample 0
	chEps     float64 // the channel's clock ratio minus one
	chGain    float64 // receive gain offset the channel was built with, dB
	builds    uint64  // channels built so far, for their seeds
}

// Default tuning of a new device.
const (
	DefaultSampleRate = 20e6
	DefaultFrequency  = 2.45e9
)

// Open creates a device on the air. preset and kv come from a device string
// ("loopback:hackrf,snr=20" gives preset "hackrf" and kv [snr=20]); base holds defaults
// from a configuration file, applied before kv. spec is the string for messages.
func (a *Air) Open(spec, preset string, base, kv []radio.Param) (*Device, error) {
	p, err := DefaultParams(preset)
	if err != nil {
		return nil, err
	}
	if err := p.Apply(base); err != nil {
		return nil, fmt.Errorf("loopback: configuration: %w", err)
	}
	if err := p.Apply(kv); err != nil {
		return nil, fmt.Errorf("loopback: %s: %w", radio.ClipSpec(spec), err)
	}
	a.mu.Lock()
	idx := a.opened
	a.opened++
	a.mu.Unlock()
	seed := p.Seed
	if seed == 0 {
		seed = mix(a.seed, uint64(idx)+1)
	}
	if p.Preset == "hackrf" && !explicit(base, "ppm") && !explicit(kv, "ppm") {
		g := newNormal(mix(seed, 77), newZigTables())
		p.PPM = math.Round((2*g.uniform()-1)*HackRFPPMSpread*100) / 100
	}
	d := &Device{air: a, params: p, seed: seed}
	d.info = deviceInfo(spec, p)
	cfg, err := d.validate(radio.Config{SampleRate: DefaultSampleRate, Frequency: DefaultFrequency})
	if err != nil {
		return nil, err
	}
	d.cfg = cfg
	if err := d.checkChannel(cfg); err != nil {
		return nil, err
	}
	d.cursor = a.register(d)
	d.gaps = newNormal(mix(seed, 99), newZigTables())
	return d, nil
}

// name is the device's string for messages, clipped by radio.ClipSpec: a
// device string may be up to 4096 bytes, more than a message should repeat.
func (d *Device) name() string { return radio.ClipSpec(d.info.Spec) }

// validate is d.info.Validate with the device string in a radio.ConfigError
// clipped as name clips it.
func (d *Device) validate(c radio.Config) (radio.Config, error) {
	v, err := d.info.Validate(c)
	var ce *radio.ConfigError
	if errors.As(err, &ce) && ce.Device == d.info.Spec {
		clipped := *ce
		clipped.Device = d.name()
		return v, &clipped
	}
	return v, err
}

// mix derives a seed from two numbers (splitmix64 finaliser).
func mix(a, b uint64) uint64 {
	z := a ^ (b * 0x9e3779b97f4a7c15)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// hackrfBandwidths are the MAX2837 baseband filter settings libhackrf offers, Hz.
var hackrfBandwidths = []float64{1.75e6, 2.5e6, 3.5e6, 5e6, 5.5e6, 6e6, 7e6, 8e6, 9e6, 10e6, 12e6, 14e6, 15e6, 20e6, 24e6, 28e6}

// PresetInfo describes the devices of a preset ("" for the ideal radio, or
// "hackrf") before any key: their ranges and gain stages.
func PresetInfo(preset string) (radio.Info, error) {
	p, err := DefaultParams(preset)
	if err != nil {
		return radio.Info{}, err
	}
	spec := "loopback"
	if p.Preset != "" {
		spec += ":" + p.Preset
	}
	return deviceInfo(spec, p), nil
}

func deviceInfo(spec string, p Params) radio.Info {
	in := radio.Info{
		Spec: spec, Driver: "loopback", CanRX: true, CanTX: true,
		Serial: fmt.Sprintf("air=%s", p.Air),
	}
	if p.Preset == "hackrf" {
		in.Description = "simulated HackRF One on a cable with an attenuator"
		in.HalfDuplex = true
		in.SampleRate = radio.Range{Min: 2e6, Max: 20e6}
		in.Frequency = radio.Range{Min: 1e6, Max: 6e9}
		in.Bandwidths = append([]float64(nil), hackrfBandwidths...)
		in.Gains = []radio.GainInfo{
			{Name: "lna", Direction: radio.RX, Range: radio.Range{Min: 0, Max: 40, Step: 8}, Default: 16, Doc: "RX LNA (IF) gain"},
			{Name: "vga", Direction: radio.RX, Range: radio.Range{Min: 0, Max: 62, Step: 2}, Default: 20, Doc: "RX baseband gain"},
			{Name: "amp", Direction: radio.RX, Range: radio.Range{Min: 0, Max: 14, Step: 14}, Default: 0, Doc: "RF amplifier, off or on (RX)"},
			{Name: "txvga", Direction: radio.TX, Range: radio.Range{Min: 0, Max: 47, Step: 1}, Default: 30, Doc: "TX IF gain"},
			{Name: "txamp", Direction: radio.TX, Range: radio.Range{Min: 0, Max: 14, Step: 14}, Default: 0, Doc: "RF amplifier, off or on (TX)"},
		}
		return in
	}
	in.Description = "ideal simulated radio (add impairments with key=value)"
	in.SampleRate = radio.Range{Min: 1e3, Max: 1e9}
	in.Frequency = radio.Range{Min: 0, Max: 300e9}
	in.Gains = []radio.GainInfo{
		{Name: "rx", Direction: radio.RX, Range: radio.Range{Min: -60, Max: 60, Step: 0.5}, Default: 0, Doc: "receive gain"},
		{Name: "tx", Direction: radio.TX, Range: radio.Range{Min: -60, Max: 60, Step: 0.5}, Default: 0, Doc: "transmit gain"},
	}
	return in
}

// gainOffset sums the stages of one direction relative to their defaults, dB.
func (d *Device) gainOffset(dir radio.Direction) float64 {
	s := 0.0
	for _, g := range d.info.Gains {
		if g.Direction == dir {
			s += d.cfg.Gains[g.Name] - g.Default
		}
	}
	return s
}

// Params returns the device's parameters after presets and keys, including the
// oscillator error the hackrf preset drew: the truth that calibration must recover.
func (d *Device) Params() Params { return d.params }

// Info implements radio.Device.
func (d *Device) Info() radio.Info { return d.info }

// Config implements radio.Device.
func (d *Device) Config() radio.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg.Clone()
}

// Configure implements radio.Device. A running stream keeps its tuning: reconfigure
// between streams.
func (d *Device) Configure(c radio.Config) error {
	v, err := d.validate(c)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return radio.ErrClosed
	}
	if d.rxOn || d.txOn {
		return fmt.Errorf("loopback: %s: stop the running stream before reconfiguring: %w", d.name(), radio.ErrBusy)
	}
	if err := d.checkChannel(v); err != nil {
		return err
	}
	d.cfg = v
	return nil
}

// checkChannel builds the receive channel this tuning implies, so a combination of
// keys that cannot work at this sample rate (a delay spread too long, phase noise or
// Doppler too fast) is refused now, not at the first Read.
func (d *Device) checkChannel(c radio.Config) error {
	saved := d.cfg
	d.cfg = c
	defer func() { d.cfg = saved }()
	if _, err := d.channelConfig(txState{}); err != nil {
		return fmt.Errorf("loopback: %s at %g samples/s: %w", d.name(), c.SampleRate, err)
	}
	return nil
}

// Stats implements radio.Device.
func (d *Device) Stats() radio.Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

func (d *Device) isClosed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closed
}

// Close implements radio.Device.
func (d *Device) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	d.air.unregister(d)
	return nil
}

// StartTX implements radio.Device.
func (d *Device) StartTX(ctx context.Context) (radio.TXStream, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
		return nil, radio.ErrClosed
	case d.txOn:
		return nil, fmt.Errorf("loopback: %s: transmit stream already open: %w", d.name(), radio.ErrBusy)
	case d.rxOn && d.info.HalfDuplex:
		return nil, fmt.Errorf("loopback: %s: receiving; stop RX before TX: %w", d.name(), radio.ErrHalfDuplex)
	}
	st := txState{rate: d.cfg.SampleRate, freq: d.cfg.Frequency, ppm: d.params.PPM, pn: d.params.PhaseNoise, gain: d.gainOffset(radio.TX)}
	if err := d.air.startBurst(d, st); err != nil {
		return nil, err
	}
	if !d.rxOn {
		d.air.deafen(d)
	}
	d.txOn = true
	return &txStream{d: d, ctx: ctx}, nil
}

type txStream struct {
	d      *Device
	ctx    context.Context
	closed bool
	wrote  bool
}

func (s *txStream) Write(src []complex64) (int, error) {
	if s.closed || s.d.isClosed() {
		return 0, radio.ErrClosed
	}
	if err := context.Cause(s.ctx); err != nil {
		return 0, err
	}
	if len(src) == 0 {
		return 0, nil
	}
	under := s.d.air.write(s.d.dac(src))
	s.d.mu.Lock()
	s.d.stats.TXSamples += uint64(len(src))
	if under && s.wrote {
		s.d.stats.Underruns++
	}
	s.d.mu.Unlock()
	s.wrote = true
	return len(src), nil
}

func (s *txStream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.d.air.endBurst(s.d)
	s.d.mu.Lock()
	s.d.txOn = false
	s.d.mu.Unlock()
	return nil
}

// dac returns what the transmitter's converter makes of src: every component clipped
// to full scale, and rounded to TxBits when the device has a finite resolution.
func (d *Device) dac(src []complex64) []complex64 {
	if cap(d.txBuf) < len(src) {
		d.txBuf = make([]complex64, len(src))
	}
	out := d.txBuf[:len(src)]
	if d.params.TxBits == 0 {
		for i, v := range src {
			out[i] = complex(min(max(real(v), -1), 1), min(max(imag(v), -1), 1))
		}
		return out
	}
	// Round to the grid with the 1.5*2^23 trick (see Channel.quant), clipping first.
	const magic = 12582912
	s := float32(math.Ldexp(1, d.params.TxBits-1))
	inv, lo, hi := 1/s, -s, s-1
	for i, v := range src {
		re := min(max(real(v)*s, lo), hi)
		im := min(max(imag(v)*s, lo), hi)
		out[i] = complex(((re+magic)-magic)*inv, ((im+magic)-magic)*inv)
	}
	return out
}

// StartRX implements radio.Device.
func (d *Device) StartRX(ctx context.Context) (radio.RXStream, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
		return nil, radio.ErrClosed
	case d.rxOn:
		return nil, fmt.Errorf("loopback: %s: receive stream already open: %w", d.name(), radio.ErrBusy)
	case d.txOn && d.info.HalfDuplex:
		return nil, fmt.Errorf("loopback: %s: transmitting; stop TX before RX: %w", d.name(), radio.ErrHalfDuplex)
	}
	if !d.air.listening(d) {
		// Back from transmitting: listen from the air's present. The receive clock
		// ran on meanwhile: the samples this receiver missed advance its counter and
		// are reported as Dropped with the next buffer (Stats.Dropped counts only
		// losses while receiving).
		d.cursor = d.air.register(d)
		if d.ch != nil {
			d.air.mu.Lock()
			now := d.cursor.lo
			d.air.mu.Unlock()
			pos := d.chStart + float64(d.n-d.chN0)*(1+d.chEps)
			if missed := int64(math.Round((float64(now) - pos) / (1 + d.chEps))); missed > 0 {
				d.n += missed
				d.pendDrop += missed
			}
			d.started = false
		}
	}
	d.rxOn = true
	return &rxStream{d: d, ctx: ctx}, nil
}

type rxStream struct {
	d      *Device
	ctx    context.Context
	closed bool
}

// readChunk bounds the work done per air fetch.
const readChunk = 1 << 14

var errRateMismatch = errors.New("loopback: receiver and transmitter sample rates differ; the simulator does not resample between nominal rates")

func (s *rxStream) Read(dst []complex64) (int, radio.RXMeta, error) {
	if s.closed {
		return 0, radio.RXMeta{}, radio.ErrClosed
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	meta := radio.RXMeta{Time: d.n, Dropped: d.pendDrop}
	d.pendDrop = 0
	done := 0
	for done < len(dst) {
		if err := context.Cause(s.ctx); err != nil {
			return done, meta, err
		}
		if !d.started {
			if err := d.startReceiver(); err != nil {
				return done, meta, err
			}
		}
		// Stop short before a gap: the next buffer's timestamp shows it.
		if d.params.GapRate > 0 && d.n >= d.nextGap {
			if done > 0 {
				return done, meta, nil
			}
			d.ch.Skip(int64(d.params.GapLen))
			d.n += int64(d.params.GapLen)
			d.stats.Overruns++
			d.stats.Dropped += uint64(d.params.GapLen)
			meta = radio.RXMeta{Time: d.n, Dropped: meta.Dropped + int64(d.params.GapLen)}
			d.scheduleGap()
			continue
		}
		k := min(len(dst)-done, readChunk)
		if d.params.GapRate > 0 && d.nextGap > d.n {
			k = int(min(int64(k), d.nextGap-d.n))
		}
		lo, hi := d.ch.Need(k)
		if int(hi-lo) > cap(d.scratch) {
			d.scratch = make([]complex64, 2*(hi-lo))
		}
		buf := d.scratch[:hi-lo]
		d.mu.Unlock()
		st, lost, err := d.air.fetch(s.ctx, d, lo, hi, buf)
		d.mu.Lock()
		if err != nil {
			return done, meta, err
		}
		if lost > 0 {
			// The air dropped samples from under this receiver: an overrun.
			d.ch.Skip(lost)
			d.n += lost
			d.stats.Overruns++
			d.stats.Dropped += uint64(lost)
			if done > 0 {
				d.pendDrop += lost
				return done, meta, nil
			}
			meta = radio.RXMeta{Time: d.n, Dropped: meta.Dropped + lost}
			continue
		}
		if st.version != 0 && st.version != d.chVersion || d.cfg.SampleRate != d.chRate || d.cfg.Frequency != d.chFreq || d.gainOffset(radio.RX) != d.chGain {
			if st.version != 0 && st.rate != d.cfg.SampleRate {
				return done, meta, fmt.Errorf("%w (receiver %s at %g samples/s, transmitter at %g)", errRateMismatch, d.name(), d.cfg.SampleRate, st.rate)
			}
			if err := d.rebuild(st); err != nil {
				return done, meta, err
			}
			continue // the new channel may need a different window
		}
		if !d.inBand {
			clear(buf)
		}
		d.input = SliceInput{Start: lo, Data: buf}
		d.ch.Process(dst[done:done+k], &d.input) // a pointer: no allocation per call
		d.n += int64(k)
		done += k
	}
	d.stats.RXSamples += uint64(done)
	return done, meta, nil
}

func (s *rxStream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.d.mu.Lock()
	s.d.rxOn = false
	s.d.mu.Unlock()
	return nil
}

// startReceiver places the receiver on the air: at its cursor, minus the random start
// offset, so the first samples are idle noise.
func (d *Device) startReceiver() error {
	d.started = true
	off := int64(0)
	if d.params.Offset > 0 {
		off = int64(d.gaps.uniform() * float64(d.params.Offset+1))
	}
	d.air.mu.Lock()
	lo, st := d.cursor.lo, d.air.txState
	d.air.mu.Unlock()
	d.chStart = float64(lo - off)
	d.chN0 = d.n
	d.ch = nil // a fresh channel at this position
	if err := d.rebuild(st); err != nil {
		d.started = false
		return err
	}
	d.scheduleGap()
	return nil
}

// channelConfig derives the receive channel from the device's parameters and tuning
// and the transmitter's state, and checks it.
func (d *Device) channelConfig(st txState) (ChannelConfig, error) {
	p := d.params
	cfg := ChannelConfig{
		SampleRate: d.cfg.SampleRate,
		RxPPM:      p.PPM,
		TxPPM:      p.PPM, // no transmitter yet: nothing to be offset from
		CarrierHz:  d.cfg.Frequency,
		PhaseNoise: p.PhaseNoise,
		Level:      p.Level + d.gainOffset(radio.RX),
		AWGN:       !math.IsInf(p.SNR, 1),
		SNR:        p.SNR,
		RefPower:   math.Pow(10, p.Ref/10),
		IQGain:     p.IQGain,
		IQPhase:    p.IQPhase,
		DC:         p.DC,
		Bits:       p.Bits,
		Start:      int64(math.Round(d.chStart)),
		Seed:       mix(d.seed, d.builds),
	}
	if st.version != 0 {
		cfg.TxPPM = st.ppm
		cfg.CarrierOffset = st.freq - d.cfg.Frequency
		cfg.PhaseNoise += st.pn
		cfg.TxGain = st.gain
	}
	if p.Channel != "" {
		prof, err := LookupProfile(p.Channel)
		if err != nil {
			return cfg, err
		}
		cfg.Paths, err = prof.Paths(p.DelaySpread)
		if err != nil {
			return cfg, err
		}
		cfg.Doppler = p.Doppler
		if cfg.Doppler < 0 {
			cfg.Doppler = prof.Doppler
		}
	}
	_, err := NewChannel(cfg)
	return cfg, err
}

// rebuild makes a new channel for the transmitter state st, continuing at the
// receiver's current sample.
func (d *Device) rebuild(st txState) error {
	if d.ch != nil {
		d.chStart += float64(d.n-d.chN0) * (1 + d.chEps)
		d.chN0 = d.n
	}
	cfg, err := d.channelConfig(st)
	if err != nil {
		return fmt.Errorf("loopback: %s: %w", d.name(), err)
	}
	d.builds++
	d.inBand = true
	if st.version != 0 {
		d.inBand = inBand(cfg.CarrierOffset+d.cfg.Frequency*(st.ppm-d.params.PPM)*1e-6, d.cfg.SampleRate)
	}
	ch, err := NewChannel(cfg)
	if err != nil {
		return fmt.Errorf("loopback: %s: %w", d.name(), err)
	}
	d.ch = ch
	d.chEps = (cfg.TxPPM - cfg.RxPPM) * 1e-6 / (1 + cfg.RxPPM*1e-6)
	d.chVersion = st.version
	d.chRate, d.chFreq = d.cfg.SampleRate, d.cfg.Frequency
	d.chGain = d.gainOffset(radio.RX)
	return nil
}

// scheduleGap draws when the next lost buffer happens (a Poisson process).
func (d *Device) scheduleGap() {
	if d.params.GapRate <= 0 {
		return
	}
	mean := d.cfg.SampleRate / d.params.GapRate
	d.nextGap = d.n + 1 + int64(-math.Log(d.gaps.uniform())*mean)
}
