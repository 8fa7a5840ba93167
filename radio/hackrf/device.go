package hackrf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m4sc/m4sc/radio"
)

// board is what a Device needs of libhackrf, one method per call, each returning the
// library's code. The cgo binding (build tag hackrf) implements it on an open
// hackrf_device; tests implement it with a simulated board. A Device never calls two
// methods at once, except that a call abandoned by the watchdog may still be running.
type board interface {
	// identify reads the board id name (hackrf_board_id_read), the firmware version
	// (hackrf_version_string_read), the USB API version and the serial number.
	identify() (id Identity, code int)
	setSampleRate(rate float64) int             // hackrf_set_sample_rate
	computeFilter(bw uint32) uint32             // hackrf_compute_baseband_filter_bw
	setFilter(bw uint32) int                    // hackrf_set_baseband_filter_bandwidth
	setFreq(hz uint64) int                      // hackrf_set_freq
	setLNA(db uint32) int                       // hackrf_set_lna_gain
	setVGA(db uint32) int                       // hackrf_set_vga_gain
	setTXVGA(db uint32) int                     // hackrf_set_txvga_gain
	setAmp(on bool) int                         // hackrf_set_amp_enable
	setAntenna(on bool) int                     // hackrf_set_antenna_enable
	startRX(s *rxStream) int                    // hackrf_start_rx; each transfer goes to s.push
	stopRX() int                                // hackrf_stop_rx
	enableTXFlush(s *txStream) int              // hackrf_enable_tx_flush; the callback calls s.flush
	startTX(s *txStream) int                    // hackrf_start_tx; each transfer is filled by s.fill
	stopTX() int                                // hackrf_stop_tx
	m0() (shortfalls, longest uint32, code int) // hackrf_get_m0_state
	isStreaming() int                           // hackrf_is_streaming: reads flags, cannot hang
	transfers() (samples, depth int)            // hackrf_get_transfer_buffer_size/2, hackrf_get_transfer_queue_depth
	close() int                                 // hackrf_close
	errorName(code int) string                  // hackrf_error_name
}

// Identity is what a board says about itself.
type Identity struct {
	Board    string // "HackRF One"
	Firmware string // "2023.01.1"
	USBAPI   uint16 // 0x0107; 0x0106 and later report shortfalls
	Serial   string // 32 hexadecimal digits, as hackrf_info prints it
}

// liveCheck is how long Read and Write wait for the callback before asking libhackrf
// whether the stream still runs (a failed USB transfer ends it without a call). One
// transfer lasts 6.5 ms at 20 Msps and 65 ms at 2 Msps.
const liveCheck = 500 * time.Millisecond

// m0Poll is how often a running stream reads the firmware's shortfall counters.
const m0Poll = time.Second

// Device is an open HackRF. Its methods are safe for concurrent use; a stream's Read or
// Write serves one goroutine at a time.
type Device struct {
	opts Options
	log  *slog.Logger
	info radio.Info
	id   Identity
	m0ok bool // the firmware reports shortfalls (hackrf_get_m0_state)

	mu    sync.Mutex // serialises every call on b; guards what follows
	b     board      // nil once closed
	m     machine
	cfg   radio.Config
	done  Counters // of streams that have ended
	hangs uint64
	rx    *rxStream
	tx    *txStream
}

// newDevice takes over an open board: it reads what the board is and brings it to a
// known state (antenna power as asked, RF amplifier off, default tuning and gains).
// On error the board is closed.
func newDevice(spec string, opts Options, b board) (*Device, error) {
	opts = opts.withDefaults()
	d := &Device{opts: opts, log: opts.Logger, b: b, m: machine{spec: spec}}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.setup(spec); err != nil {
		if cerr := d.closeLocked(); cerr != nil {
			err = fmt.Errorf("%w (closing: %v)", err, cerr)
		}
		return nil, err
	}
	return d, nil
}

func (d *Device) setup(spec string) error {
	var id Identity
	if err := d.call("hackrf_board_id_read", func(b board) (code int) { id, code = b.identify(); return code }); err != nil {
		return err
	}
	d.id = id
	// hackrf_get_m0_state needs USB API 0x0106 (firmware 2022.09 and later).
	d.m0ok = id.USBAPI >= 0x0106
	if !d.m0ok {
		d.log.Warn("hackrf: firmware too old for shortfall counters: samples the firmware loses are not counted; update it with hackrf_spiflash",
			"device", spec, "firmware", id.Firmware, "usb_api", fmt.Sprintf("%#04x", id.USBAPI))
	}
	d.info = newInfo(spec, id.Serial, fmt.Sprintf("%s, firmware %s, USB API %#04x", id.Board, id.Firmware, id.USBAPI))
	ant := d.opts.AntennaPower
	if err := d.call("hackrf_set_antenna_enable", func(b board) int { return b.setAntenna(ant) }); err != nil {
		return err
	}
	if err := d.setAmp(0); err != nil {
		return err
	}
	cfg, err := d.info.Validate(radio.Config{SampleRate: DefaultSampleRate, Frequency: DefaultFrequency})
	if err != nil {
		return err
	}
	if err := d.apply(cfg); err != nil {
		return err
	}
	d.cfg = cfg
	return nil
}

// call runs one libhackrf function on the board under the watchdog and maps its code to
// an error. d.mu must be held. A hang wedges the device.
func (d *Device) call(op string, f func(board) int) error {
	switch {
	case d.b == nil:
		return fmt.Errorf("hackrf: %s: %s: %w", d.m.spec, op, radio.ErrClosed)
	case d.m.mode == modeWedged:
		return d.m.usable()
	}
	b := d.b
	code, err := guard(d.opts.Watchdog, op, func() int { return f(b) })
	if err != nil {
		d.hangs++
		d.m.hang(err)
		return fmt.Errorf("hackrf: %s: %w", d.m.spec, err)
	}
	return d.codeErr(op, code)
}

func (d *Device) codeErr(op string, code int) error {
	if code == codeSuccess || code == codeTrue {
		return nil
	}
	return codeError(op, code, d.b.errorName(code))
}

// apply sends a validated configuration in the order the board needs. d.mu must be held.
func (d *Device) apply(c radio.Config) error {
	if c.SampleRate < MinRecommendedRate {
		d.log.Warn("hackrf: sample rate below 8 Msps: the ADC's anti-alias filtering is inadequate there, strong signals outside the band may alias in",
			"device", d.m.spec, "rate", c.SampleRate)
	}
	if err := d.call("hackrf_set_sample_rate", func(b board) int { return b.setSampleRate(c.SampleRate) }); err != nil {
		return err
	}
	// After the rate, because setting the rate resets the filter to the firmware's own
	// choice. Validate has put a value of the MAX2837 table in c.Bandwidth, which
	// hackrf_compute_baseband_filter_bw keeps as it is.
	bw := d.b.computeFilter(uint32(c.Bandwidth))
	if err := d.call("hackrf_set_baseband_filter_bandwidth", func(b board) int { return b.setFilter(bw) }); err != nil {
		return err
	}
	hz := uint64(math.Round(c.Frequency))
	if err := d.call("hackrf_set_freq", func(b board) int { return b.setFreq(hz) }); err != nil {
		return err
	}
	lna, vga, txvga := uint32(c.Gains["lna"]), uint32(c.Gains["vga"]), uint32(c.Gains["txvga"])
	if err := d.call("hackrf_set_lna_gain", func(b board) int { return b.setLNA(lna) }); err != nil {
		return err
	}
	if err := d.call("hackrf_set_vga_gain", func(b board) int { return b.setVGA(vga) }); err != nil {
		return err
	}
	return d.call("hackrf_set_txvga_gain", func(b board) int { return b.setTXVGA(txvga) })
}

// setAmp switches the RF amplifier for a gain of 0 or 14 dB. d.mu must be held.
func (d *Device) setAmp(gain float64) error {
	on := gain > 0
	return d.call("hackrf_set_amp_enable", func(b board) int { return b.setAmp(on) })
}

// Info implements radio.Device.
func (d *Device) Info() radio.Info { return d.info }

// Identity returns what the board said about itself at Open.
func (d *Device) Identity() Identity { return d.id }

// Config implements radio.Device.
func (d *Device) Config() radio.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg.Clone()
}

// Configure implements radio.Device: it validates cfg, then sets the sample rate, the
// baseband filter, the frequency and the gains, in that order. It is refused while a
// stream runs. If the board rejects a setting, the previous configuration is sent
// again.
func (d *Device) Configure(cfg radio.Config) error {
	v, err := d.info.Validate(cfg)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.m.usable(); err != nil {
		return err
	}
	if err := d.apply(v); err != nil {
		if d.m.mode != modeWedged {
			if rerr := d.apply(d.cfg); rerr != nil {
				return fmt.Errorf("%w (restoring the previous configuration failed too: %v)", err, rerr)
			}
		}
		return err
	}
	d.cfg = v
	return nil
}

// Stats implements radio.Device.
func (d *Device) Stats() radio.Stats { return d.Counters().stats() }

// Counters returns the driver's own counts since Open, a running stream's included.
func (d *Device) Counters() Counters {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.done
	if d.rx != nil {
		c = c.add(d.rx.counters())
	}
	if d.tx != nil {
		c = c.add(d.tx.counters())
	}
	c.FirmwareCounters = d.m0ok
	c.WatchdogTimeouts = d.hangs
	return c
}

// Close implements radio.Device: it stops a running stream (a burst is cut short, not
// flushed) and releases the board. After a hang the board handle is abandoned rather
// than closed, since the hung call may still be using it.
func (d *Device) Close() error {
	d.mu.Lock()
	rx, tx := d.rx, d.tx
	d.mu.Unlock()
	var errs []error
	if rx != nil {
		rx.halt(radio.ErrClosed)
		errs = append(errs, d.stopRX(rx))
	}
	if tx != nil {
		tx.q.abort()
		tx.halt(radio.ErrClosed)
		errs = append(errs, d.stopTX(tx))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	errs = append(errs, d.closeLocked())
	return errors.Join(errs...)
}

func (d *Device) closeLocked() error {
	prev := d.m.close()
	b := d.b
	switch {
	case b == nil || prev == modeClosed:
		return nil
	case prev == modeWedged:
		d.b = nil
		return fmt.Errorf("hackrf: %s: board handle abandoned after a hang (%v); replug the board and restart the program", d.m.spec, d.m.wedge)
	}
	code, err := guard(d.opts.Watchdog, "hackrf_close", b.close)
	if err != nil {
		d.hangs++
		d.b = nil
		return fmt.Errorf("hackrf: %s: %w", d.m.spec, err)
	}
	err = d.codeErr("hackrf_close", code)
	d.b = nil
	return err
}

// firmware tracks one stream's share of the firmware's shortfall counter, which the
// firmware keeps in 32 bits.
type firmware struct {
	base, last uint32
	longest    uint32
	have       bool
}

func (f *firmware) start(count, _ uint32, ok bool) {
	f.base, f.last, f.longest, f.have = count, count, 0, ok
}

func (f *firmware) update(count, longest uint32, ok bool) {
	if ok && f.have {
		f.last = count
		f.longest = max(f.longest, longest)
	}
}

func (f *firmware) shortfalls() uint64 {
	if !f.have {
		return 0
	}
	return uint64(f.last - f.base) // modulo 2^32: survives a wrap
}

// firmwareShortfalls reads the firmware's shortfall count and the longest shortfall in
// bytes. d.mu must be held.
func (d *Device) firmwareShortfalls() (count, longest uint32, ok bool) {
	if !d.m0ok {
		return 0, 0, false
	}
	if err := d.call("hackrf_get_m0_state", func(b board) (code int) { count, longest, code = b.m0(); return code }); err != nil {
		d.log.Debug("hackrf: reading firmware counters", "device", d.m.spec, "err", err)
		return 0, 0, false
	}
	return count, longest, true
}

// pollFirmware reads the firmware counters of a running stream every m0Poll until quit
// is closed.
func (d *Device) pollFirmware(quit <-chan struct{}, fw *firmware) {
	t := time.NewTicker(m0Poll)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
			d.mu.Lock()
			select {
			case <-quit: // the stream stopped while we waited for the lock
			default:
				fw.update(d.firmwareShortfalls())
			}
			d.mu.Unlock()
		}
	}
}

// streamAlive asks libhackrf whether the stream still runs; a USB failure stops it
// without a callback. d.mu must not be held.
func (d *Device) streamAlive(dir radio.Direction) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.b == nil {
		return radio.ErrClosed
	}
	code := d.b.isStreaming()
	if code == codeTrue {
		return nil
	}
	return fmt.Errorf("hackrf: %s: %s stopped (a USB transfer failed: board unplugged, or a USB error): %w",
		d.m.spec, dir, codeError("hackrf_is_streaming", code, d.b.errorName(code)))
}

// rxStream is a running receive stream.
type rxStream struct {
	d       *Device
	ctx     context.Context
	q       *rxQueue
	stopped atomic.Bool // the callback ends the stream once set

	readMu sync.Mutex // one Read at a time
	live   *time.Timer
	after  func() bool // unregisters the context's AfterFunc

	haltOnce sync.Once
	halted   chan struct{} // closed when the stream ends
	haltErr  error         // what Read returns from then on

	quit chan struct{} // ends the firmware poller
	fw   firmware      // guarded by d.mu
}

// push is the RX callback's work: it returns non-zero once the stream is stopping.
func (s *rxStream) push(buf []int8) int {
	if s.stopped.Load() {
		return -1
	}
	s.q.push(buf)
	return 0
}

// StartRX implements radio.Device. The RF amplifier is set from the gain "amp".
func (d *Device) StartRX(ctx context.Context) (radio.RXStream, error) {
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.m.begin(radio.RX); err != nil {
		return nil, err
	}
	s := &rxStream{d: d, ctx: ctx, q: newRXQueue(d.opts.RXBuffer), halted: make(chan struct{}), quit: make(chan struct{})}
	err := d.setAmp(d.cfg.Gains["amp"])
	if err == nil {
		err = d.call("hackrf_start_rx", func(b board) int { return b.startRX(s) })
	}
	if err != nil {
		s.stopped.Store(true)
		if d.m.mode != modeWedged {
			// libhackrf may have switched the board to receive before failing.
			d.call("hackrf_stop_rx", func(b board) int { return b.stopRX() })
		}
		d.m.end(radio.RX)
		return nil, fmt.Errorf("hackrf: %s: start receiving: %w", d.m.spec, err)
	}
	s.fw.start(d.firmwareShortfalls())
	d.rx = s
	s.live = time.NewTimer(liveCheck)
	s.live.Stop()
	s.after = context.AfterFunc(ctx, func() {
		s.halt(context.Cause(ctx))
		d.stopRX(s)
	})
	go d.pollFirmware(s.quit, &s.fw)
	return s, nil
}

func (s *rxStream) halt(err error) {
	s.haltOnce.Do(func() {
		s.haltErr = err
		close(s.halted)
	})
}

// Read implements radio.RXStream: samples are the board's int8 values over 128.
func (s *rxStream) Read(dst []complex64) (int, radio.RXMeta, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	select {
	case <-s.halted:
		return 0, radio.RXMeta{}, s.haltErr
	default:
	}
	if len(dst) == 0 {
		return 0, radio.RXMeta{}, nil
	}
	return s.q.read(dst, s.wait)
}

// wait blocks until the callback has pushed, the stream ends, or it turns out to have
// died.
func (s *rxStream) wait() error {
	s.live.Reset(liveCheck)
	defer s.live.Stop()
	select {
	case <-s.q.ready:
		return nil
	case <-s.halted:
		return s.haltErr
	case <-s.live.C:
		if err := s.d.streamAlive(radio.RX); err != nil {
			s.halt(err)
			return err
		}
		return nil
	}
}

// counters are the stream's share of the device counters. d.mu must be held.
func (s *rxStream) counters() Counters {
	return Counters{
		RXReceived:       s.q.received.Load(),
		RXDelivered:      s.q.delivered.Load(),
		RXOverruns:       s.q.overruns.Load(),
		RXDropped:        s.q.dropped.Load(),
		RXShortfalls:     s.fw.shortfalls(),
		LongestShortfall: uint64(s.fw.longest),
	}
}

// Close implements radio.RXStream.
func (s *rxStream) Close() error {
	s.after()
	s.halt(radio.ErrClosed)
	return s.d.stopRX(s)
}

// stopRX stops the board's receiving if s is still its stream.
func (d *Device) stopRX(s *rxStream) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rx != s {
		return nil
	}
	s.fw.update(d.firmwareShortfalls())
	s.stopped.Store(true)
	close(s.quit)
	err := d.call("hackrf_stop_rx", func(b board) int { return b.stopRX() })
	d.done = d.done.add(s.counters())
	d.rx = nil
	d.m.end(radio.RX)
	if err != nil {
		return fmt.Errorf("hackrf: %s: stop receiving: %w", d.m.spec, err)
	}
	return nil
}

// txStream is a transmit burst.
type txStream struct {
	d       *Device
	ctx     context.Context
	q       *txQueue
	prefill int       // samples libhackrf takes before its first transfer
	flushed chan bool // the flush callback's verdict
	running atomic.Bool

	mu      sync.Mutex // serialises Write and Close; guards what follows
	started bool       // start has been called
	closed  bool
	err     error // the first error, kept
	live    *time.Timer
	after   func() bool

	haltOnce sync.Once
	halted   chan struct{}
	haltErr  error

	quit chan struct{}
	fw   firmware // guarded by d.mu
}

// fill is the TX callback's work.
func (s *txStream) fill(buf []int8) int { return s.q.fill(buf) }

// flush is the flush callback's work: every sample has reached the board.
func (s *txStream) flush(ok bool) {
	select {
	case s.flushed <- ok:
	default:
	}
}

// StartTX implements radio.Device. The board starts sending once libhackrf's queue of
// transfers can be filled (four transfers of 128 Ki samples, 26 ms at 20 Msps), or at
// Close for a shorter burst, so a burst does not begin with a gap. The RF amplifier is
// set from the gain "txamp".
func (d *Device) StartTX(ctx context.Context) (radio.TXStream, error) {
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.m.begin(radio.TX); err != nil {
		return nil, err
	}
	s := &txStream{d: d, ctx: ctx, q: newTXQueue(d.opts.TXBuffer), flushed: make(chan bool, 1), halted: make(chan struct{}), quit: make(chan struct{})}
	per, depth := d.b.transfers()
	s.prefill = max(1, min(per*depth, s.q.ring.capacity()))
	d.tx = s
	s.live = time.NewTimer(liveCheck)
	s.live.Stop()
	s.after = context.AfterFunc(ctx, func() {
		s.q.abort()
		s.halt(context.Cause(ctx))
		d.stopTX(s)
	})
	return s, nil
}

func (s *txStream) halt(err error) {
	s.haltOnce.Do(func() {
		s.haltErr = err
		close(s.halted)
	})
}

// start hands the buffered samples to libhackrf. s.mu must be held.
func (s *txStream) start() error {
	s.started = true
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tx != s {
		return fmt.Errorf("hackrf: %s: transmit stream stopped: %w", d.m.spec, radio.ErrClosed)
	}
	err := d.setAmp(d.cfg.Gains["txamp"])
	if err == nil {
		err = d.call("hackrf_enable_tx_flush", func(b board) int { return b.enableTXFlush(s) })
	}
	if err == nil {
		s.running.Store(true)
		err = d.call("hackrf_start_tx", func(b board) int { return b.startTX(s) })
	}
	if err != nil {
		return fmt.Errorf("hackrf: %s: start transmitting: %w", d.m.spec, err)
	}
	s.fw.start(d.firmwareShortfalls())
	go d.pollFirmware(s.quit, &s.fw)
	return nil
}

// Write implements radio.TXStream: it quantises src to int8 and queues it, blocking
// while the ring is full.
func (s *txStream) Write(src []complex64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, radio.ErrClosed
	}
	done := 0
	for s.err == nil {
		select {
		case <-s.halted:
			s.err = s.haltErr
			continue
		default:
		}
		done += s.q.write(src[done:])
		if !s.started && (s.q.ring.len() >= s.prefill || done < len(src)) {
			if err := s.start(); err != nil {
				s.err = err
				break
			}
		}
		if done == len(src) {
			return done, nil
		}
		s.err = s.wait()
	}
	return done, s.err
}

// wait blocks until the callback has freed room or the stream ends.
func (s *txStream) wait() error {
	s.live.Reset(liveCheck)
	defer s.live.Stop()
	select {
	case <-s.q.space:
		return nil
	case <-s.halted:
		return s.haltErr
	case <-s.live.C:
		if err := s.d.streamAlive(radio.TX); err != nil {
			s.halt(err)
			return err
		}
		return nil
	}
}

// counters are the stream's share of the device counters. d.mu must be held.
func (s *txStream) counters() Counters {
	return Counters{
		TXSent:           s.q.sent.Load(),
		TXUnderruns:      s.q.underruns.Load(),
		TXPadded:         s.q.padded.Load(),
		TXClipped:        s.q.clipped.Load(),
		TXShortfalls:     s.fw.shortfalls(),
		LongestShortfall: uint64(s.fw.longest),
	}
}

// Close implements radio.TXStream: it ends the burst after the last written sample,
// waits for libhackrf's flush callback (every sample has reached the board), then stops
// transmitting. After a cancelled context it only stops, and returns the cause.
func (s *txStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.after()
	s.q.finish()
	err := s.err
	select {
	case <-s.halted: // cancelled, or the device closed under us
		if err == nil {
			err = s.haltErr
		}
	default:
	}
	if err == nil && !s.started && s.q.ring.len() > 0 {
		err = s.start()
	}
	if err == nil && s.started {
		// The firmware counters now: once the burst has drained, the idle firmware
		// counts a shortfall that is no underrun.
		s.d.mu.Lock()
		if s.d.tx == s {
			s.fw.update(s.d.firmwareShortfalls())
		}
		s.d.mu.Unlock()
		err = s.awaitFlush()
	}
	if err != nil {
		s.q.abort()
	}
	if serr := s.d.stopTX(s); err == nil {
		err = serr
	}
	s.halt(radio.ErrClosed)
	return err
}

// awaitFlush waits for the flush callback, as long as the queued samples take to send
// plus the watchdog's time.
func (s *txStream) awaitFlush() error {
	rate := s.d.Config().SampleRate
	left := time.Duration(float64(s.q.ring.len()+s.prefill) / rate * float64(time.Second))
	limit := left + s.d.opts.Watchdog
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case ok := <-s.flushed:
		if !ok {
			return fmt.Errorf("hackrf: %s: the flush transfer at the end of the burst failed", s.d.m.spec)
		}
		return nil
	case <-s.halted:
		return s.haltErr
	case <-t.C:
		return fmt.Errorf("hackrf: %s: the end of the burst was not confirmed within %v (no flush callback): %w", s.d.m.spec, limit, ErrHang)
	}
}

// stopTX stops the board's transmitting if s is still its stream.
func (d *Device) stopTX(s *txStream) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tx != s {
		return nil
	}
	s.q.abort()
	close(s.quit)
	var err error
	if s.running.Load() {
		err = d.call("hackrf_stop_tx", func(b board) int { return b.stopTX() })
	}
	d.done = d.done.add(s.counters())
	d.tx = nil
	d.m.end(radio.TX)
	if err != nil {
		return fmt.Errorf("hackrf: %s: stop transmitting: %w", d.m.spec, err)
	}
	return nil
}
