package trial

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/m4sc/m4sc/calibration"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/burst"
	"github.com/m4sc/m4sc/radio/devices"
)

// Two hosts: Transmit (m4sc trial tx) sends a plan's runs one after the other on one
// device; Receive (m4sc trial rx), in another process with its own device, hears them,
// tells the runs apart by the header's address (RunAddress) and the messages of a run
// by the header's sequence numbers, and writes the trial directory Run would.

// Two-host defaults. The docs refer to these names.
const (
	// RunAddressBase is the first header address of trial tx: run i's frames go to
	// RunAddressBase+i (MaxRuns keeps it within 16 bits). Trial run uses
	// semantic.DefaultAddress, below it.
	RunAddressBase = 0x8000
	// DefaultRunGap is the silence trial tx sends before each run's burst: 5 ms at
	// 20 Msps, room for the receiver to cut the runs apart.
	DefaultRunGap = 100_000
	// DefaultIdle is how long trial rx waits without hearing a frame of the plan,
	// once it heard one, before it takes the transmitter to be done.
	DefaultIdle = 10 * time.Second
	// cutMargin is the samples a run's recording keeps before its first frame.
	cutMargin = 2000
	// keepSamples is the history the receiver holds between runs (52 ms): more than
	// the longest frame, so that a run's first frame, reported once it is decoded, is
	// still in it.
	keepSamples = 1 << 20
)

// RunAddress is the header address of run i's frames as trial tx sends them.
func RunAddress(run int) uint16 { return uint16(RunAddressBase + run) }

// A StreamSink is a Sink that also watches the receive stream as it arrives (trial rx
// calls it for every buffer, 20 Msps, full scale 1). Like the rest of a Sink it must
// return at once and not keep y.
type StreamSink interface {
	Sink
	Stream(y []complex64)
}

// TXOptions configure Transmit.
type TXOptions struct {
	Gap   int           // samples of silence before each run (0: DefaultRunGap)
	Pause time.Duration // wall time between runs (0: none)
	// Air, when set, replaces the device: the transmission is written to this path
	// as raw cf32 as it goes (a new file), for trial rx's RXOptions.Air in another
	// process. (A file: device writes its recording whole, at the end.)
	Air string
}

// Transmit sends a plan's runs on its tx device, in order, each run's frames addressed
// to RunAddress(run) and preceded by TXOptions.Gap samples of silence, in one
// transmit stream. A calibration profile's gains are applied; a calibration to run
// needs both ends in one process and is refused. The loopback settings of the steps
// (snr, channel, doppler) are the receiver's business and do not apply.
func Transmit(ctx context.Context, p *Plan, o Options, to TXOptions) error {
	if c := p.Calibration; c != nil && c.Run {
		return errors.New("trial: tx: calibration.run needs both ends in one process; calibrate first (m4sc calibrate) and give calibration.profile")
	}
	if p.Soak != nil {
		return errSoakTwoHosts
	}
	if to.Gap <= 0 {
		to.Gap = DefaultRunGap
	}
	r, err := newRunner(p, "", o)
	if err != nil {
		return err
	}
	r.tagged = true
	if c := p.Calibration; c != nil && c.Profile != "" {
		if r.profile, err = calibration.Load(absFrom(o.PlanDir, c.Profile)); err != nil {
			return err
		}
	}
	runs := p.runs()
	var ts radio.TXStream
	if to.Air != "" {
		f, err := os.OpenFile(to.Air, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("trial: tx: %w", err)
		}
		ts = &airWriter{f: f}
	} else {
		txSpec, _, err := r.deviceSpecs(nil)
		if err != nil {
			return err
		}
		m := devices.New(devices.Options{Seed: p.Seed, Loopback: o.Loopback})
		tx, err := m.Open(ctx, txSpec)
		if err != nil {
			return fmt.Errorf("trial: tx: %w", err)
		}
		defer tx.Close()
		if err := r.configure(tx, radio.TX, &p.Steps[runs[0].step]); err != nil {
			return fmt.Errorf("trial: tx: %w", err)
		}
		if ts, err = tx.StartTX(ctx); err != nil {
			return fmt.Errorf("trial: tx: %w", err)
		}
	}
	defer ts.Close()
	gap := make([]complex64, to.Gap)
	write := func(x []complex64) error {
		for len(x) > 0 {
			k := min(len(x), burst.DefaultChunk)
			if _, err := ts.Write(x[:k]); err != nil {
				return err
			}
			x = x[k:]
		}
		return nil
	}
	for i, rs := range runs {
		if err := context.Cause(ctx); err != nil {
			return fmt.Errorf("%w: tx after %d of %d runs: %w", ErrIncomplete, i, len(runs), err)
		}
		items, err := r.stepItems(rs.step)
		if err != nil {
			return err
		}
		x, lay, err := r.send(rs, items)
		if err != nil {
			return fmt.Errorf("trial: tx: run %d (%s): %w", i, rs.name, err)
		}
		if err := write(gap); err != nil {
			return fmt.Errorf("trial: tx: run %d: %w", i, err)
		}
		if err := write(x); err != nil {
			return fmt.Errorf("trial: tx: run %d: %w", i, err)
		}
		frames := 0
		for _, l := range lay {
			frames += l.Frames
		}
		r.log.Info("trial: sent", "run", i+1, "of", len(runs), "name", rs.name, "frames", frames, "samples", len(x))
		if o.Progress != nil {
			o.Progress(i+1, len(runs))
		}
		if to.Pause > 0 && i+1 < len(runs) {
			select {
			case <-ctx.Done():
			case <-time.After(to.Pause):
			}
		}
	}
	if err := write(gap); err != nil {
		return fmt.Errorf("trial: tx: %w", err)
	}
	if err := ts.Close(); err != nil {
		return fmt.Errorf("trial: tx: %w", err)
	}
	return nil
}

// RXOptions configure Receive.
type RXOptions struct {
	// Air, when set, is the path of a raw cf32 stream (a file that grows, as
	// TXOptions.Air has trial tx write it) of a transmitter in another process:
	// the plan's tx, a loopback device, sends it on this process's simulated air and
	// the plan's rx, a loopback device, hears it through its channel. Like a radio
	// the receiver joins the stream where it is (the start if it does not exist yet).
	Air string
	// Idle ends reception when no frame of the plan has arrived for this long after
	// one did (0: DefaultIdle).
	Idle time.Duration
	// Wait bounds the wait for the first frame of the plan (0: no bound): past it
	// every run is missed.
	Wait time.Duration
}

// RXSummary is what Receive heard.
type RXSummary struct {
	Runs, Heard int // runs of the plan, runs of which a frame was heard
	Frames      int // frames the plan sent
	FramesLost  int // of those, not received whole
}

// errHeard ends reception: every run has been heard, or the air went quiet.
var errHeard = errors.New("trial: rx: done")

// errSoakTwoHosts refuses a soak plan to trial tx, rx and score: a soak's runs go on
// for a time, not a number, so the two ends could not agree on them.
var errSoakTwoHosts = errors.New("trial: a soak plan runs both ends in one process (m4sc trial run)")

// notHeard is the reason given for the frames of a run the receiver did not hear.
const notHeard = "run not heard"

// Receive hears the runs Transmit sends and writes the trial directory dir as Run
// does: plan.yaml, a recording per run (the stretch of the stream from its first
// frame to the next run's), results.jsonl, timing.jsonl and the report. It knows from
// the plan and its seeds what each run sent, so a run it did not hear, in full or in
// part, has its frames counted lost. It may start before the transmitter or after
// (runs sent before it started are missed). It stops once the plan's last run has
// been heard whole, the stream ends (a recording), or no frame came for Idle; runs
// not heard by then are missed. Cancelling ctx stops it with the runs heard so far
// written, and an error wrapping ErrIncomplete.
//
// Results follow from the recordings alone (each run is decoded from its recording,
// as Replay does), so Replay of dir reproduces its results.jsonl.
func Receive(ctx context.Context, p *Plan, dir string, o Options, ro RXOptions) (*RXSummary, error) {
	return receive(ctx, p, dir, o, ro, "rx")
}

// receive is Receive, writing role into the directory's provenance (rx, score).
func receive(ctx context.Context, p *Plan, dir string, o Options, ro RXOptions, role string) (*RXSummary, error) {
	if c := p.Calibration; c != nil && c.Run {
		return nil, errors.New("trial: rx: calibration.run needs both ends in one process; calibrate first (m4sc calibrate) and give calibration.profile")
	}
	if p.Soak != nil {
		return nil, errSoakTwoHosts
	}
	if ro.Idle <= 0 {
		ro.Idle = DefaultIdle
	}
	var air *tail
	if ro.Air != "" {
		air = (&tail{path: ro.Air}).start() // where the stream is now is where this receiver joins
	}
	r, err := prepare(p, dir, role, o)
	if err != nil {
		return nil, err
	}
	r.tagged = true
	if err := r.calibrate(ctx); err != nil {
		return nil, err
	}
	runs := r.plan.runs()
	// The last run's frames, to know when it is heard whole.
	last := runs[len(runs)-1]
	items, err := r.stepItems(last.step)
	if err != nil {
		return nil, err
	}
	_, lay, err := r.send(last, items)
	if err != nil {
		return nil, fmt.Errorf("trial: rx: run %d (%s): %w", last.index, last.name, err)
	}
	lastFrames := 0
	for _, l := range lay {
		lastFrames += l.Frames
	}

	var tx, rx radio.Device
	if ro.Air != "" {
		if tx, rx, err = r.open(ctx, r.plan.Seed, nil); err != nil {
			return nil, fmt.Errorf("trial: rx: %w", err)
		}
		defer tx.Close()
		defer rx.Close()
		if tx.Info().Driver != "loopback" || rx.Info().Driver != "loopback" {
			return nil, fmt.Errorf("trial: rx: a stream from another process (%s) is heard through the loopback: the plan's tx and rx must be loopback devices", ro.Air)
		}
	} else {
		_, rxSpec, err := r.deviceSpecs(nil)
		if err != nil {
			return nil, err
		}
		m := devices.New(devices.Options{Seed: r.plan.Seed, Loopback: o.Loopback})
		if rx, err = r.openRX(ctx, m, rxSpec); err != nil {
			return nil, fmt.Errorf("trial: rx: %w", err)
		}
		defer rx.Close()
		if err := r.configure(rx, radio.RX, &r.plan.Steps[runs[0].step]); err != nil {
			return nil, fmt.Errorf("trial: rx: %w", err)
		}
	}

	res, err := openJournal(filepath.Join(dir, ResultsFile), 0, o.hooks)
	if err != nil {
		return nil, err
	}
	defer res.close()
	timing, err := openJournal(filepath.Join(dir, TimingFile), -1, o.hooks)
	if err != nil {
		return nil, err
	}
	defer timing.close()

	// The decoder: runs handed over in order, decoded off the receive path so that
	// the stream is never held up by the model.
	type job struct {
		rs     runSpec
		y      []complex64
		heard  time.Time
		failed string // why its frames were not all heard, if it was cut short
	}
	jobs := make(chan job, len(runs))
	decoded := make(chan error, 1)
	rxCfg := rx.Config()
	go func() {
		var ferr error
		for j := range jobs {
			if ferr == nil {
				ferr = r.finish(j.rs, j.y, len(runs), rxCfg, res, timing, j.heard, j.failed)
			}
		}
		decoded <- ferr
	}()

	rcv, err := phy.NewReceiver(phy.ReceiverConfig{})
	if err != nil {
		return nil, err
	}
	var streams []StreamSink
	for _, s := range o.Sinks {
		if ss, ok := s.(StreamSink); ok {
			streams = append(streams, ss)
		}
	}
	var (
		hist      []complex64 // received samples from histStart on
		histStart int64
		pos       int64 // samples received
		next      int   // first run not yet handed over
		cur       = -1  // run being heard
		curFirst  int64 // its first frame's start
		curBegan  time.Time
		seen      = map[uint16]bool{} // its frames heard, by sequence
		heard     int
		lastHeard time.Time
		frames    []phy.Frame
		sum       = RXSummary{Runs: len(runs)}
	)
	missed := func(upTo int, why string) {
		for ; next < upTo; next++ {
			r.log.Info("trial: rx: run missed", "run", next, "name", runs[next].name)
			jobs <- job{rs: runs[next], heard: time.Now(), failed: why}
		}
	}
	handOver := func(run int, from, to int64, began time.Time, failed string) {
		missed(run, notHeard)
		from = max(from, histStart)
		to = min(max(to, from), pos)
		jobs <- job{rs: runs[run], y: slices.Clone(hist[from-histStart : to-histStart]), heard: began, failed: failed}
		next = run + 1
	}
	closeCur := func(end int64, failed string) {
		if cur >= 0 {
			r.log.Info("trial: rx: run heard", "run", cur, "name", runs[cur].name, "frames", len(seen))
			handOver(cur, curFirst-cutMargin, end, curBegan, failed)
			cur = -1
		}
	}
	onFrame := func(f *phy.Frame) {
		if f.Err != nil || f.Kind != phy.KindSemantic || f.Header.Address < RunAddressBase {
			return
		}
		run := int(f.Header.Address) - RunAddressBase
		switch {
		case run >= len(runs) || run < next || (cur >= 0 && run < cur):
			return // not of this plan, or of a run handed over already
		case run == cur:
			seen[f.Header.Sequence] = true
			lastHeard = time.Now()
			return
		}
		// A later run begins: the one being heard is over.
		closeCur(f.Start-cutMargin, "")
		cur, curFirst, curBegan = run, f.Start, time.Now()
		clear(seen)
		seen[f.Header.Sequence] = true
		heard++
		lastHeard = time.Now()
	}
	tctx, stopAir := context.WithCancel(ctx)
	defer stopAir()
	var listening time.Time
	sink := func(y []complex64, _ radio.RXMeta) error {
		for _, s := range streams {
			s.Stream(y)
		}
		hist = append(hist, y...)
		pos += int64(len(y))
		frames = rcv.Receive(frames[:0], y)
		for i := range frames {
			onFrame(&frames[i])
		}
		done := false
		switch {
		case cur == len(runs)-1 && len(seen) >= lastFrames:
			done = true
		case heard > 0 && time.Since(lastHeard) > ro.Idle:
			r.log.Info("trial: rx: nothing heard", "for", ro.Idle)
			done = true
		case heard == 0 && ro.Wait > 0 && time.Since(listening) > ro.Wait:
			r.log.Info("trial: rx: no frame of the plan heard", "in", ro.Wait)
			done = true
		}
		if done {
			closeCur(pos, "")
			stopAir()
			return errHeard
		}
		// Drop history nobody needs, keeping the run being heard.
		keep := pos - keepSamples
		if cur >= 0 {
			keep = min(keep, curFirst-cutMargin)
		}
		if drop := keep - histStart; drop > 0 && drop > int64(len(hist))/2 {
			n := copy(hist, hist[drop:])
			hist = hist[:n]
			histStart += drop
		}
		return nil
	}
	var src burst.Source
	if air != nil {
		air.ctx = tctx
		src = burst.Func(air.next)
	}
	r.log.Info("trial: rx: listening", "device", rx.Info().Spec, "runs", len(runs))
	listening = time.Now()
	_, err = burst.Run(ctx, tx, rx, src, math.MaxInt64, burst.Config{}, sink)
	stopAir()
	cancelled := ctx.Err() != nil
	failed := "" // the receiver's failure: what the runs it cut short lost their frames to
	if err != nil && !errors.Is(err, errHeard) && !cancelled && !errors.Is(err, io.EOF) {
		r.log.Warn("trial: rx: the receiver stopped", "err", err)
		failed = failure(err)
	}
	if !errors.Is(err, errHeard) {
		for _, f := range rcv.Flush(frames[:0]) {
			onFrame(&f)
		}
		closeCur(pos, failed)
	}
	if !cancelled {
		// The transmitter is done, or the receiver failed: what was not heard is
		// missed.
		why := notHeard
		if failed != "" {
			why = failed
		}
		missed(len(runs), why)
	}
	close(jobs)
	derr := <-decoded
	if derr != nil {
		return nil, derr
	}
	if err := res.close(); err != nil {
		return nil, err
	}
	all, _, rerr := ReadResults(filepath.Join(dir, ResultsFile))
	if rerr != nil {
		return nil, rerr
	}
	sum.Heard = heard
	for _, l := range all {
		sum.Frames += l.Frames
		sum.FramesLost += l.FramesLost
	}
	if cancelled {
		return &sum, r.stopped(context.Cause(ctx), next)
	}
	if err != nil && !errors.Is(err, errHeard) && !errors.Is(err, io.EOF) {
		// A device that failed: what was heard is written; say why it ended.
		if rerr := r.report(); rerr != nil {
			r.log.Warn("trial: report", "err", rerr)
		}
		return &sum, fmt.Errorf("trial: rx: %w", err)
	}
	return &sum, r.report()
}

// finish records, decodes and writes one run heard by Receive (y nil: missed; failed:
// why its frames were not all heard, when it was cut short or missed).
func (r *runner) finish(rs runSpec, y []complex64, total int, cfg radio.Config, res, timing *journal, began time.Time, failed string) error {
	items, err := r.stepItems(rs.step)
	if err != nil {
		return err
	}
	_, lay, err := r.send(rs, items)
	if err != nil {
		return fmt.Errorf("trial: rx: run %d (%s): %w", rs.index, rs.name, err)
	}
	if err := r.record(rs, y, lay, cfg, failed); err != nil {
		return err
	}
	info := r.info(rs, total)
	for _, s := range r.opts.Sinks {
		s.RunStarted(info)
	}
	lines, err := r.decode(rs, info, y, items, lay, failed)
	if err != nil {
		return err
	}
	b, err := encodeResults(lines)
	if err != nil {
		return err
	}
	if err := res.append(b); err != nil {
		return fmt.Errorf("run %d (%s): %w", rs.index, rs.name, err)
	}
	if err := timing.append(timingLine(rs.index, rs.name, began, map[string]any{"heard": y != nil})); err != nil {
		return fmt.Errorf("run %d (%s): %w", rs.index, rs.name, err)
	}
	if r.opts.Progress != nil {
		r.opts.Progress(rs.index+1, total)
	}
	return nil
}

// tail reads a raw cf32 file as another process writes it, waiting for it to appear
// and to grow: the transmitter's side of a simulated air shared between processes.
type tail struct {
	ctx  context.Context
	path string
	f    *os.File
	off  int64
	buf  []byte
	// fromStart: the file did not exist when reception began, so all of it is new.
	fromStart bool
	idle      int // polls without news
}

// tail looks for new samples every tailPoll; after tailQuiet polls without any it
// sends tailSilence samples of silence.
const (
	tailPoll    = 20 * time.Millisecond
	tailQuiet   = 5
	tailSilence = 4096
)

func (t *tail) start() *tail {
	if f, err := os.Open(t.path); err != nil {
		t.fromStart = true
	} else {
		t.f = f
		if st, err := f.Stat(); err == nil {
			t.off = st.Size() &^ 7
		}
	}
	t.buf = make([]byte, 8*burst.DefaultChunk)
	return t
}

// next appends the samples written since the last call, waiting for some; it returns
// dst unchanged (the end of the burst) when the context ends.
func (t *tail) next(dst []complex64) []complex64 {
	for t.ctx.Err() == nil {
		if t.f == nil {
			if f, err := os.Open(t.path); err == nil {
				t.f = f
			}
		}
		if t.f != nil {
			n, _ := t.f.ReadAt(t.buf, t.off)
			n &^= 7
			if n > 0 {
				t.idle = 0
				t.off += int64(n)
				for i := 0; i < n; i += 8 {
					re := math.Float32frombits(binary.LittleEndian.Uint32(t.buf[i:]))
					im := math.Float32frombits(binary.LittleEndian.Uint32(t.buf[i+4:]))
					dst = append(dst, complex(re, im))
				}
				return dst
			}
			if st, err := t.f.Stat(); err == nil && st.Size() < t.off {
				t.off = 0 // replaced by a new transmission
			}
		}
		select {
		case <-t.ctx.Done():
		case <-time.After(tailPoll):
		}
		// Nothing new for a while: a little silence, so that the receiver goes on
		// reading (and can tell that the air is quiet) without spinning on it.
		if t.idle++; t.idle >= tailQuiet {
			t.idle = 0
			return append(dst, make([]complex64, tailSilence)...)
		}
	}
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
	return dst
}

// airWriter writes a transmit stream to a file as raw cf32 (little-endian float32 I,
// Q), each Write reaching the file at once, for a tail in another process.
type airWriter struct {
	f   *os.File
	buf []byte
}

func (w *airWriter) Write(src []complex64) (int, error) {
	if w.f == nil {
		return 0, radio.ErrClosed
	}
	w.buf = w.buf[:0]
	for _, v := range src {
		w.buf = binary.LittleEndian.AppendUint32(w.buf, math.Float32bits(real(v)))
		w.buf = binary.LittleEndian.AppendUint32(w.buf, math.Float32bits(imag(v)))
	}
	if _, err := w.f.Write(w.buf); err != nil {
		return 0, err
	}
	return len(src), nil
}

func (w *airWriter) Close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
