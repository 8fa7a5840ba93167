package burst

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/devices"
)

// burstSignal is lead zeros and then n random samples at full scale 1/4.
func burstSignal(lead, n int, seed uint64) []complex64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]complex64, lead+n)
	for i := lead; i < len(x); i++ {
		x[i] = complex(float32(rng.Float64()-0.5)/2, float32(rng.Float64()-0.5)/2)
	}
	return x
}

// find returns where x occurs in y, or -1.
func find(y, x []complex64) int {
	for i := 0; i+len(x) <= len(y); i++ {
		if slices.Equal(y[i:i+len(x)], x) {
			return i
		}
	}
	return -1
}

// On the ideal loopback wire the whole burst arrives, sample for sample, whatever the
// source, the chunk size or how the goroutines are scheduled; on the hackrf preset, which
// starts its receiver up to 20000 samples early, too.
func TestRunOverLoopback(t *testing.T) {
	ctx := context.Background()
	x := burstSignal(0, 300_000, 1)
	for _, c := range []struct {
		name  string
		rx    string
		src   func() Source
		chunk int
	}{
		{"samples", "loopback", func() Source { return Samples(x) }, 0},
		{"samples/small-chunks", "loopback", func() Source { return Samples(x) }, 1000},
		{"func", "loopback", func() Source {
			i := 0
			return Func(func(dst []complex64) []complex64 {
				if i >= len(x) {
					return dst
				}
				k := min(len(x)-i, 7777)
				dst = append(dst, x[i:i+k]...)
				i += k
				return dst
			})
		}, 0},
		{"samples/offset", "loopback,offset=20000", func() Source { return Samples(x) }, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := devices.New(devices.Options{Seed: 7})
			tx, err := m.Open(ctx, "loopback")
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Close()
			rx, err := m.Open(ctx, c.rx)
			if err != nil {
				t.Fatal(err)
			}
			defer rx.Close()
			n := len(x) + 30000
			got, err := Capture(ctx, tx, rx, c.src(), n, Config{Chunk: c.chunk})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Samples) != n || got.Received != int64(n) || got.Sent != int64(len(x)) || got.EOF || got.Dropped != 0 {
				t.Fatalf("%d samples, result %+v", len(got.Samples), got.Result)
			}
			at := find(got.Samples, x[:64])
			if at < 0 || at+len(x) > n || !slices.Equal(got.Samples[at:at+len(x)], x) {
				t.Fatalf("the burst is not in the capture whole (start %d)", at)
			}
			t.Logf("burst found at sample %d", at)
		})
	}
}

// A Repeat source ends with the capture: the burst stops once the receiver has its
// samples, never more than Ahead samples beyond them.
func TestRunRepeatStopsWithTheReceiver(t *testing.T) {
	ctx := context.Background()
	m := devices.New(devices.Options{Seed: 7})
	tx, _ := m.Open(ctx, "loopback")
	defer tx.Close()
	rx, _ := m.Open(ctx, "loopback")
	defer rx.Close()
	tone := burstSignal(0, 1000, 2)
	const n = 1 << 20
	cfg := Config{Ahead: 1 << 17}
	got, err := Capture(ctx, tx, rx, Repeat(tone), n, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sent < n-DefaultChunk || got.Sent > n+int64(cfg.Ahead)+DefaultChunk {
		t.Errorf("sent %d samples for a capture of %d (ahead %d)", got.Sent, n, cfg.Ahead)
	}
	if at := find(got.Samples[:5000], tone[:64]); at < 0 || !slices.Equal(got.Samples[at:at+3000], slices.Concat(tone, tone, tone)) {
		t.Errorf("the repeated chunk is not in the capture (at %d)", at)
	}
}

// Receiving only, from a recording-like device that ends early.
func TestRunReceiveOnlyEOF(t *testing.T) {
	rx := &fakeDevice{rxLimit: 5000}
	got, err := Capture(context.Background(), nil, rx, nil, 10000, Config{Chunk: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Samples) != 5000 || !got.EOF || got.Sent != 0 {
		t.Errorf("%d samples, %+v", len(got.Samples), got.Result)
	}
}

// The documented order: the receiver starts, then the transmitter, the first chunk is
// written, and only then does the receiver read.
func TestRunStartOrder(t *testing.T) {
	var log eventLog
	tx := &fakeDevice{log: &log, name: "tx"}
	rx := &fakeDevice{log: &log, name: "rx"}
	if _, err := Capture(context.Background(), tx, rx, Samples(make([]complex64, 5000)), 3000, Config{Chunk: 1000}); err != nil {
		t.Fatal(err)
	}
	ev := log.get()
	first := func(e string) int { return slices.Index(ev, e) }
	order := []string{"rx start", "tx start", "tx write", "rx read"}
	for i := 1; i < len(order); i++ {
		a, b := first(order[i-1]), first(order[i])
		if a < 0 || b < 0 || a > b {
			t.Fatalf("events %v: want the first %q before the first %q", ev, order[i-1], order[i])
		}
	}
	if first("rx close") < 0 || first("tx close") < 0 {
		t.Errorf("events %v: a stream was not closed", ev)
	}
}

// A transmitter that fails stops the receiver and its error is returned; so is a sink's
// error, and the context's cause when the caller cancels.
func TestRunErrors(t *testing.T) {
	boom := errors.New("boom")
	t.Run("transmit", func(t *testing.T) {
		tx := &fakeDevice{writeErr: boom}
		rx := &fakeDevice{rxBlock: true}
		done := make(chan error, 1)
		go func() {
			_, err := Capture(context.Background(), tx, rx, Samples(make([]complex64, 100)), 1000, Config{})
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, boom) {
				t.Errorf("error %v, want %v", err, boom)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a failed transmitter left the receiver waiting")
		}
	})
	t.Run("sink", func(t *testing.T) {
		_, err := Run(context.Background(), &fakeDevice{}, &fakeDevice{}, Repeat(make([]complex64, 10)), 1000, Config{Chunk: 100},
			func([]complex64, radio.RXMeta) error { return boom })
		if !errors.Is(err, boom) {
			t.Errorf("error %v, want %v", err, boom)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		stop := errors.New("stopped by the caller")
		go func() { time.Sleep(20 * time.Millisecond); cancel(stop) }()
		_, err := Capture(ctx, &fakeDevice{}, &fakeDevice{rxBlock: true}, Repeat(make([]complex64, 10)), 1000, Config{})
		if !errors.Is(err, stop) {
			t.Errorf("error %v, want %v", err, stop)
		}
	})
	t.Run("start", func(t *testing.T) {
		rx := &fakeDevice{startErr: radio.ErrBusy}
		if _, err := Capture(context.Background(), &fakeDevice{}, rx, nil, 10, Config{}); !errors.Is(err, radio.ErrBusy) {
			t.Errorf("error %v", err)
		}
		tx := &fakeDevice{startErr: radio.ErrHalfDuplex}
		rx = &fakeDevice{}
		if _, err := Capture(context.Background(), tx, rx, Samples(make([]complex64, 10)), 10, Config{}); !errors.Is(err, radio.ErrHalfDuplex) {
			t.Errorf("error %v", err)
		}
		if rx.rxOpen {
			t.Error("the receive stream was left open")
		}
	})
}

func TestSources(t *testing.T) {
	read := func(s Source, chunk, max int) ([]complex64, bool) {
		var out []complex64
		buf := make([]complex64, chunk)
		for len(out) < max {
			n, err := s.Read(buf)
			out = append(out, buf[:n]...)
			if errors.Is(err, io.EOF) {
				return out, true
			}
		}
		return out, false
	}
	x := burstSignal(0, 1000, 3)
	for _, chunk := range []int{1, 7, 1000, 4096} {
		if got, eof := read(Samples(x), chunk, 10000); !eof || !slices.Equal(got, x) {
			t.Errorf("Samples, chunk %d: %d samples, eof %v", chunk, len(got), eof)
		}
		if got, eof := read(Repeat(x[:300]), chunk, 3000); eof || !slices.Equal(got[:900], slices.Concat(x[:300], x[:300], x[:300])) {
			t.Errorf("Repeat, chunk %d: eof %v or wrong samples", chunk, eof)
		}
		i := 0
		f := Func(func(dst []complex64) []complex64 {
			if i >= len(x) {
				return dst
			}
			k := min(len(x)-i, 1+i%13)
			dst = append(dst, x[i:i+k]...)
			i += k
			return dst
		})
		if got, eof := read(f, chunk, 10000); !eof || !slices.Equal(got, x) {
			t.Errorf("Func, chunk %d: %d samples, eof %v", chunk, len(got), eof)
		}
	}
}

// eventLog records what the fake devices are asked to do, in order.
type eventLog struct {
	mu sync.Mutex
	ev []string
}

func (l *eventLog) add(e string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.ev = append(l.ev, e)
	l.mu.Unlock()
}

func (l *eventLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ev)
}

// fakeDevice is a radio.Device whose streams move zeros instantly.
type fakeDevice struct {
	name     string
	log      *eventLog
	startErr error // StartRX and StartTX fail with it
	writeErr error // every Write fails with it
	rxLimit  int   // > 0: the receive stream ends (io.EOF) after this many samples
	rxBlock  bool  // Read blocks until the context ends
	rxOpen   bool
}

func (d *fakeDevice) Info() radio.Info {
	return radio.Info{Spec: "fake:" + d.name, Driver: "fake", CanRX: true, CanTX: true}
}
func (d *fakeDevice) Configure(radio.Config) error { return nil }
func (d *fakeDevice) Config() radio.Config         { return radio.Config{} }
func (d *fakeDevice) Stats() radio.Stats           { return radio.Stats{} }
func (d *fakeDevice) Close() error                 { return nil }

func (d *fakeDevice) StartRX(ctx context.Context) (radio.RXStream, error) {
	if d.startErr != nil {
		return nil, d.startErr
	}
	d.log.add(d.name + " start")
	d.rxOpen = true
	return &fakeRX{d: d, ctx: ctx}, nil
}

func (d *fakeDevice) StartTX(ctx context.Context) (radio.TXStream, error) {
	if d.startErr != nil {
		return nil, d.startErr
	}
	d.log.add(d.name + " start")
	return &fakeTX{d: d, ctx: ctx}, nil
}

type fakeRX struct {
	d   *fakeDevice
	ctx context.Context
	n   int
}

func (s *fakeRX) Read(dst []complex64) (int, radio.RXMeta, error) {
	s.d.log.add(s.d.name + " read")
	meta := radio.RXMeta{Time: int64(s.n)}
	if s.d.rxBlock {
		<-s.ctx.Done()
		return 0, meta, context.Cause(s.ctx)
	}
	if err := context.Cause(s.ctx); err != nil {
		return 0, meta, err
	}
	k := len(dst)
	if s.d.rxLimit > 0 && s.n+k >= s.d.rxLimit {
		k = s.d.rxLimit - s.n
		clear(dst[:k])
		s.n += k
		return k, meta, io.EOF
	}
	clear(dst[:k])
	s.n += k
	return k, meta, nil
}

func (s *fakeRX) Close() error {
	s.d.log.add(s.d.name + " close")
	s.d.rxOpen = false
	return nil
}

type fakeTX struct {
	d   *fakeDevice
	ctx context.Context
}

func (s *fakeTX) Write(src []complex64) (int, error) {
	s.d.log.add(s.d.name + " write")
	if s.d.writeErr != nil {
		return 0, s.d.writeErr
	}
	if err := context.Cause(s.ctx); err != nil {
		return 0, err
	}
	return len(src), nil
}

func (s *fakeTX) Close() error {
	s.d.log.add(s.d.name + " close")
	return nil
}
