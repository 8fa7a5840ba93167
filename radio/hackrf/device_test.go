package hackrf

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/m4sc/m4sc/radio"
)

// openFake opens a Device on a simulated board; log collects what the device logs.
func openFake(t *testing.T, opts Options, prepare func(*fakeBoard)) (*Device, *fakeBoard, *bytes.Buffer) {
	t.Helper()
	f := newFakeBoard()
	if prepare != nil {
		prepare(f)
	}
	var log bytes.Buffer
	opts.Logger = slog.New(slog.NewTextHandler(&log, nil))
	d, err := newDevice("hackrf:test", opts, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		close(f.release) // let hung calls return
		d.Close()
	})
	return d, f, &log
}

// Opening reads the board and sets a known state: antenna power off unless asked, RF
// amplifier off, then the default tuning with the rate before the filter.
func TestDeviceOpen(t *testing.T) {
	d, f, _ := openFake(t, Options{}, nil)
	want := "identify antenna false amp false rate2e+07 filter15000000 freq2450000000 lna16 vga20 txvga30"
	if got := f.callLog(); got != want {
		t.Errorf("calls at open:\n%s\nwant\n%s", got, want)
	}
	in := d.Info()
	if in.Serial != f.id.Serial || !strings.Contains(in.Description, "2024.02.1") || in.Driver != "hackrf" || !in.HalfDuplex {
		t.Errorf("info %+v", in)
	}
	_, f2, _ := openFake(t, Options{AntennaPower: true}, nil)
	if !strings.Contains(f2.callLog(), "antenna true") {
		t.Errorf("antenna_power=on not applied: %s", f2.callLog())
	}
	// A board that fails while being set up is closed again.
	f3 := newFakeBoard()
	f3.fail["freq"] = codeInvalidParam
	if _, err := newDevice("hackrf:x", Options{}, f3); err == nil || !strings.Contains(err.Error(), "HACKRF_ERROR_INVALID_PARAM") {
		t.Errorf("failed setup: %v", err)
	}
	if !strings.HasSuffix(f3.callLog(), "close") {
		t.Errorf("a board that failed setup was not closed: %s", f3.callLog())
	}
}

// Configure sets the rate, then the filter, then the frequency and gains; it warns
// below 8 Msps; a rejected setting leaves the previous configuration in force.
func TestDeviceConfigure(t *testing.T) {
	d, f, log := openFake(t, Options{}, nil)
	mark := len(f.callLog())
	if err := d.Configure(radio.Config{SampleRate: 4e6, Frequency: 915e6, Gains: map[string]float64{"lna": 24}}); err != nil {
		t.Fatal(err)
	}
	if got, want := f.callLog()[mark:], " rate4e+06 filter3500000 freq915000000 lna24 vga20 txvga30"; got != want {
		t.Errorf("calls: %q, want %q", got, want)
	}
	if !strings.Contains(log.String(), "below 8 Msps") {
		t.Errorf("no warning at 4 Msps: %q", log.String())
	}
	log.Reset()
	if err := d.Configure(radio.Config{SampleRate: 10e6, Frequency: 915e6}); err != nil || log.Len() != 0 {
		t.Errorf("10 Msps: %v, log %q", err, log.String())
	}
	f.fail["freq"] = codeInvalidParam
	before := d.Config()
	err := d.Configure(radio.Config{SampleRate: 20e6, Frequency: 5.8e9})
	var he *Error
	if !errors.As(err, &he) || he.Op != "hackrf_set_freq" || he.Name() != "HACKRF_ERROR_INVALID_PARAM" {
		t.Errorf("rejected frequency: %v", err)
	}
	if d.Config().Frequency != before.Frequency {
		t.Errorf("configuration changed to %g after an error", d.Config().Frequency)
	}
	// Invalid values never reach the board.
	delete(f.fail, "freq")
	mark = len(f.callLog())
	if err := d.Configure(radio.Config{SampleRate: 20e6, Frequency: 2.45e9, Gains: map[string]float64{"lna": 9}}); err == nil {
		t.Error("lna 9 dB accepted")
	}
	if f.callLog()[mark:] != "" {
		t.Errorf("a rejected configuration reached the board: %s", f.callLog()[mark:])
	}
}

// A receive stream delivers the board's samples in order with their sample counter,
// refuses the other direction and reconfiguration while it runs, and stops the board
// on Close.
func TestDeviceReceive(t *testing.T) {
	d, f, _ := openFake(t, Options{}, nil)
	if err := d.Configure(radio.Config{SampleRate: 20e6, Frequency: 2.45e9, Gains: map[string]float64{"amp": 14}}); err != nil {
		t.Fatal(err)
	}
	s, err := d.StartRX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(f.callLog(), "amp true startRX m0") {
		t.Errorf("calls at start: %s", f.callLog())
	}
	if _, err := d.StartTX(context.Background()); !errors.Is(err, radio.ErrHalfDuplex) {
		t.Errorf("StartTX while receiving: %v", err)
	}
	if _, err := d.StartRX(context.Background()); !errors.Is(err, radio.ErrBusy) {
		t.Errorf("second StartRX: %v", err)
	}
	if err := d.Configure(radio.Config{SampleRate: 10e6, Frequency: 2.45e9}); !errors.Is(err, radio.ErrBusy) {
		t.Errorf("Configure while receiving: %v", err)
	}
	buf := make([]complex64, 3000)
	var next int64
	for i := 0; i < 10; i++ {
		n, meta, err := s.Read(buf)
		if err != nil || n != len(buf) || meta.Time != next || meta.Dropped != 0 {
			t.Fatalf("read %d: n %d meta %+v err %v", i, n, meta, err)
		}
		for k := 0; k < n; k++ {
			if want := uint64(meta.Time+int64(k)) & 0xffff; stampOf(buf[k]) != want {
				t.Fatalf("sample %d holds %d", meta.Time+int64(k), stampOf(buf[k]))
			}
		}
		next += int64(n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if !strings.HasSuffix(f.callLog(), "m0 stopRX") {
		t.Errorf("calls at stop: %s", f.callLog())
	}
	if _, _, err := s.Read(buf); !errors.Is(err, radio.ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if st := d.Stats(); st.RXSamples != 30000 || st.Overruns != 0 {
		t.Errorf("stats %+v", st)
	}
	// The other direction is free again.
	ts, err := d.StartTX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ts.Close()
}

// A reader that falls behind loses samples: counted in Stats and reported by the next
// buffer, whose counter jumps past them.
func TestDeviceReceiveOverrun(t *testing.T) {
	d, _, _ := openFake(t, Options{RXBuffer: 4096}, nil)
	s, err := d.StartRX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	time.Sleep(20 * time.Millisecond) // 100 transfers of 1024 into a ring of 4096
	buf := make([]complex64, 512)
	var lost int64
	for i := 0; i < 40; i++ {
		n, meta, err := s.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		lost += meta.Dropped
		for k := 0; k < n; k++ {
			if want := uint64(meta.Time+int64(k)) & 0xffff; stampOf(buf[k]) != want {
				t.Fatalf("sample %d holds %d", meta.Time+int64(k), stampOf(buf[k]))
			}
		}
	}
	st := d.Stats()
	if st.Overruns == 0 || st.Dropped == 0 || lost == 0 || uint64(lost) > st.Dropped {
		t.Errorf("stats %+v, reader saw %d lost", st, lost)
	}
}

// Cancelling the context ends a pending Read with the cause and stops the board; a
// board whose USB stream dies makes Read fail instead of hang.
func TestDeviceReceiveEnds(t *testing.T) {
	d, f, _ := openFake(t, Options{}, func(f *fakeBoard) { f.period = time.Hour })
	ctx, cancel := context.WithCancelCause(context.Background())
	s, err := d.StartRX(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("operator stop")
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel(stop)
	}()
	if _, _, err := s.Read(make([]complex64, 100)); !errors.Is(err, stop) {
		t.Errorf("Read after cancel: %v", err)
	}
	waitFor(t, func() bool { return strings.Contains(f.callLog(), "stopRX") }, "the board to be stopped after cancel")
	s.Close()

	s, err = d.StartRX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f.die()
	start := time.Now()
	_, _, err = s.Read(make([]complex64, 100))
	if err == nil || !strings.Contains(err.Error(), "HACKRF_ERROR_STREAMING_STOPPED") || time.Since(start) > 5*liveCheck {
		t.Errorf("Read from a dead stream: %v after %v", err, time.Since(start))
	}
	s.Close()
}

// A burst shorter than libhackrf's queue starts at Close; every sample goes out,
// followed only by zero padding, and the board stops only after the flush callback.
func TestDeviceTransmitShort(t *testing.T) {
	d, f, _ := openFake(t, Options{}, nil)
	s, err := d.StartTX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	x := ramp(2500)
	if n, err := s.Write(x); n != len(x) || err != nil {
		t.Fatalf("Write: %d %v", n, err)
	}
	if strings.Contains(f.callLog(), "startTX") {
		t.Errorf("a short burst started before Close: %s", f.callLog())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if log := f.callLog(); !strings.HasSuffix(log, "amp false flushOn startTX m0 m0 flushed stopTX") {
		t.Errorf("calls: %s", log)
	}
	checkSent(t, f.sent(), x, f.per)
	if st := d.Stats(); st.TXSamples != 2500 || st.Underruns != 0 {
		t.Errorf("stats %+v", st)
	}
	if _, err := s.Write(x); !errors.Is(err, radio.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
}

// A long burst starts once the queue can be filled and blocks the writer while the
// ring is full; all of it goes out in order.
func TestDeviceTransmitLong(t *testing.T) {
	// The fake board runs at 4 Msps here (4096 samples a millisecond), so the
	// one-megasample ring holds 260 ms: a writer held up by a loaded machine (the whole
	// suite runs packages in parallel) must not turn into underruns, which would put
	// zeros into the burst and fail the content check.
	d, f, _ := openFake(t, Options{TXBuffer: 1}, func(f *fakeBoard) { f.per = 4096; f.period = time.Millisecond })
	if err := d.Configure(radio.Config{SampleRate: 20e6, Frequency: 2.45e9, Gains: map[string]float64{"txamp": 14}}); err != nil {
		t.Fatal(err)
	}
	s, err := d.StartTX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	x := ramp(3 * MinTXBuffer)
	for off := 0; off < len(x); off += 10000 {
		if _, err := s.Write(x[off:min(off+10000, len(x))]); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(f.callLog(), "amp true flushOn startTX") {
		t.Errorf("the burst did not start while writing: %s", f.callLog())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkSent(t, f.sent(), x, f.per)
	t.Logf("underruns %d", d.Stats().Underruns)
}

// A writer that stops writing mid-burst makes the board send zeros: counted as
// underruns.
func TestDeviceTransmitUnderrun(t *testing.T) {
	d, _, _ := openFake(t, Options{}, nil)
	s, err := d.StartTX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Write(ramp(5000))
	time.Sleep(20 * time.Millisecond)
	s.Write(ramp(100))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	c := d.Counters()
	if c.TXUnderruns == 0 || c.TXPadded == 0 || d.Stats().Underruns < c.TXUnderruns {
		t.Errorf("counters %+v", c)
	}
}

// Without the flush callback Close gives up after the watchdog's time, says so, and
// still stops the board. Cancelling a blocked Write returns the cause and stops the
// board.
func TestDeviceTransmitFailures(t *testing.T) {
	d, f, _ := openFake(t, Options{Watchdog: 100 * time.Millisecond}, func(f *fakeBoard) { f.noFlush = true })
	s, _ := d.StartTX(context.Background())
	s.Write(ramp(100))
	err := s.Close()
	if !errors.Is(err, ErrHang) || !strings.Contains(err.Error(), "flush") {
		t.Errorf("Close without flush: %v", err)
	}
	if !strings.HasSuffix(f.callLog(), "stopTX") {
		t.Errorf("board not stopped: %s", f.callLog())
	}

	d, f, _ = openFake(t, Options{TXBuffer: 1}, func(f *fakeBoard) { f.period = time.Hour })
	ctx, cancel := context.WithCancelCause(context.Background())
	s, _ = d.StartTX(ctx)
	stop := errors.New("operator stop")
	x := ramp(4 * MinTXBuffer)
	go func() {
		// Cancel once the burst runs and the writer waits for room.
		for !strings.Contains(f.callLog(), "startTX") {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(10 * time.Millisecond)
		cancel(stop)
	}()
	if _, err := s.Write(x); !errors.Is(err, stop) {
		t.Errorf("blocked Write after cancel: %v", err)
	}
	if err := s.Close(); !errors.Is(err, stop) {
		t.Errorf("Close after cancel: %v", err)
	}
	if !strings.Contains(f.callLog(), "stopTX") {
		t.Errorf("board not stopped after cancel: %s", f.callLog())
	}
	if _, err := d.StartRX(context.Background()); err != nil {
		t.Errorf("StartRX after a cancelled burst: %v", err)
	}
}

// A stop that hangs comes back as ErrHang within the watchdog's time; the device is
// then wedged: it refuses everything, and Close abandons the board instead of calling
// into it again.
func TestDeviceHang(t *testing.T) {
	d, f, _ := openFake(t, Options{Watchdog: 100 * time.Millisecond}, func(f *fakeBoard) { f.hang["stopRX"] = true })
	s, err := d.StartRX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Close()
	if !errors.Is(err, ErrHang) || time.Since(start) > 2*time.Second {
		t.Fatalf("hung stop: %v after %v", err, time.Since(start))
	}
	if _, err := d.StartTX(context.Background()); !errors.Is(err, ErrHang) {
		t.Errorf("StartTX on a wedged device: %v", err)
	}
	if err := d.Configure(radio.Config{SampleRate: 20e6, Frequency: 2.45e9}); !errors.Is(err, ErrHang) {
		t.Errorf("Configure on a wedged device: %v", err)
	}
	if c := d.Counters(); c.WatchdogTimeouts != 1 {
		t.Errorf("watchdog timeouts %d", c.WatchdogTimeouts)
	}
	err = d.Close()
	if err == nil || !strings.Contains(err.Error(), "abandoned") {
		t.Errorf("Close of a wedged device: %v", err)
	}
	if strings.Contains(f.callLog(), "close") {
		t.Errorf("a wedged board was closed: %s", f.callLog())
	}
}

// Closing the device stops a running stream: a blocked Read returns ErrClosed.
func TestDeviceCloseWhileStreaming(t *testing.T) {
	d, f, _ := openFake(t, Options{}, func(f *fakeBoard) { f.period = time.Hour })
	s, _ := d.StartRX(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := s.Read(make([]complex64, 10))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, radio.ErrClosed) {
		t.Errorf("Read: %v", err)
	}
	if !strings.HasSuffix(f.callLog(), "stopRX close") {
		t.Errorf("calls: %s", f.callLog())
	}
	if _, err := d.StartRX(context.Background()); !errors.Is(err, radio.ErrClosed) {
		t.Errorf("StartRX after Close: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// Firmware shortfalls during a stream count as overruns; firmware too old to report
// them is said so once and never asked.
func TestDeviceFirmwareCounters(t *testing.T) {
	d, f, _ := openFake(t, Options{}, func(f *fakeBoard) { f.m0Count = 5 })
	s, _ := d.StartRX(context.Background())
	s.Read(make([]complex64, 100))
	f.mu.Lock()
	f.m0Count = 8
	f.mu.Unlock()
	s.Close()
	c := d.Counters()
	if c.RXShortfalls != 3 || !c.FirmwareCounters || d.Stats().Overruns != c.RXOverruns+3 {
		t.Errorf("counters %+v", c)
	}

	d, f, log := openFake(t, Options{}, func(f *fakeBoard) { f.id.USBAPI = 0x0104 })
	s, _ = d.StartRX(context.Background())
	s.Read(make([]complex64, 100))
	s.Close()
	if strings.Contains(f.callLog(), "m0") || !strings.Contains(log.String(), "too old") || d.Counters().FirmwareCounters {
		t.Errorf("old firmware: calls %s, log %q", f.callLog(), log.String())
	}
}

// ramp is a burst whose samples say their index: I = 1 + k%127 (never 0), Q = k/127.
func ramp(n int) []complex64 {
	x := make([]complex64, n)
	for k := range x {
		x[k] = complex(float32(1+k%127)/128, float32(int8(k/127))/128)
	}
	return x
}

// checkSent compares what the board sent with the burst: every sample in order, then
// zeros to the end of the last transfer, nothing else.
func checkSent(t *testing.T, sent []int8, x []complex64, per int) {
	t.Helper()
	want := make([]int8, 2*len(x))
	quantizeInt8(want, x)
	if len(sent) < len(want) {
		t.Fatalf("sent %d samples, want %d", len(sent)/2, len(x))
	}
	for i := range want {
		if sent[i] != want[i] {
			t.Fatalf("sample %d: %d, want %d", i/2, sent[i], want[i])
		}
	}
	for i := len(want); i < len(sent); i++ {
		if sent[i] != 0 {
			t.Fatalf("after the burst, value %d is %d, want padding 0", i, sent[i])
		}
	}
	if pad := len(sent)/2 - len(x); pad >= per {
		t.Errorf("%d samples of padding, more than a transfer (%d)", pad, per)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
