package radio

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// quietDevice delivers limit samples, then, like a board whose firmware stopped
// sending, blocks each Read until its context ends (limit < 0: never stops).
type quietDevice struct {
	limit int64
	delay time.Duration // each Read takes this long
}

func (d *quietDevice) Info() Info                                { return Info{Spec: "quiet", Driver: "quiet", CanRX: true} }
func (d *quietDevice) Configure(Config) error                    { return nil }
func (d *quietDevice) Config() Config                            { return Config{} }
func (d *quietDevice) Stats() Stats                              { return Stats{} }
func (d *quietDevice) Close() error                              { return nil }
func (d *quietDevice) StartTX(context.Context) (TXStream, error) { return nil, ErrUnsupported }
func (d *quietDevice) StartRX(ctx context.Context) (RXStream, error) {
	return &quietRX{d: d, ctx: ctx}, nil
}

type quietRX struct {
	d   *quietDevice
	ctx context.Context
	n   int64
}

func (s *quietRX) Read(dst []complex64) (int, RXMeta, error) {
	meta := RXMeta{Time: s.n}
	if s.d.limit >= 0 && s.n >= s.d.limit {
		<-s.ctx.Done()
		return 0, meta, context.Cause(s.ctx)
	}
	time.Sleep(s.d.delay)
	k := len(dst)
	if s.d.limit >= 0 {
		k = int(min(int64(k), s.d.limit-s.n))
	}
	s.n += int64(k)
	return k, meta, nil
}

func (s *quietRX) Close() error { return nil }

// TestWatchRX: a stream that goes quiet ends with a StallError saying how many samples
// came, within about the timeout; a slow reader, or a stream that delivers steadily,
// never trips it; a cancelled context still says cancelled.
func TestWatchRX(t *testing.T) {
	const timeout = 200 * time.Millisecond
	read := func(d Device, ctx context.Context, reads int, pause time.Duration) (int64, error) {
		s, err := d.StartRX(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		buf := make([]complex64, 1000)
		var got int64
		for range reads {
			n, _, err := s.Read(buf)
			got += int64(n)
			if err != nil {
				return got, err
			}
			time.Sleep(pause)
		}
		return got, nil
	}

	began := time.Now()
	got, err := read(WatchRX(&quietDevice{limit: 2500}, timeout), context.Background(), 100, 0)
	var se *StallError
	if !errors.As(err, &se) || !errors.Is(err, ErrStalled) || se.Samples != 2500 || got != 2500 {
		t.Fatalf("quiet device: %d samples, %v", got, err)
	}
	if el := time.Since(began); el < timeout || el > timeout+2*time.Second {
		t.Errorf("stall reported after %v, timeout %v", el, timeout)
	}
	if !strings.Contains(err.Error(), "stopped streaming after 2500 samples") {
		t.Errorf("message: %v", err)
	}

	// The caller's own time between Reads is not the device's silence.
	if got, err := read(WatchRX(&quietDevice{limit: -1}, timeout), context.Background(), 3, 2*timeout); err != nil || got != 3000 {
		t.Errorf("slow reader: %d samples, %v", got, err)
	}
	// Reads that each take a while (a tenth of the timeout, room for a loaded host)
	// but deliver.
	if got, err := read(WatchRX(&quietDevice{limit: -1, delay: timeout / 2}, 5*timeout), context.Background(), 5, 0); err != nil || got != 5000 {
		t.Errorf("steady device: %d samples, %v", got, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(timeout/4, cancel)
	if _, err := read(WatchRX(&quietDevice{limit: 0}, 10*timeout), ctx, 1, 0); !errors.Is(err, context.Canceled) || errors.Is(err, ErrStalled) {
		t.Errorf("cancelled: %v", err)
	}
	if d := (&quietDevice{}); WatchRX(d, 0) != Device(d) {
		t.Error("WatchRX with no timeout wrapped the device")
	}
}
