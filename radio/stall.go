package radio

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// DefaultStallTimeout is how long WatchRX lets a receive stream go without delivering
// a sample before it calls the device stalled: long enough for a HackRF's stream to
// start (tens of milliseconds) and for a loaded host to catch up, short enough that a
// trial does not seem to hang.
const DefaultStallTimeout = 5 * time.Second

// ErrStalled means a receive stream stopped delivering samples without reporting an
// error: a device that stopped streaming (a wedged firmware or USB link). A
// *StallError says more.
var ErrStalled = errors.New("radio: device stopped streaming")

// StallError is a receive stream that went quiet: no sample arrived for After, once
// Samples had been delivered.
type StallError struct {
	Device  string        // the device's spec
	Samples int64         // samples delivered before it stopped
	After   time.Duration // how long the watchdog waited
}

func (e *StallError) Error() string {
	return fmt.Sprintf("radio: %s: device stopped streaming after %d samples (none for %v)", ClipSpec(e.Device), e.Samples, e.After)
}

// Is makes errors.Is(err, ErrStalled) true.
func (e *StallError) Is(target error) bool { return target == ErrStalled }

// WatchRX returns d with a watchdog on its receive streams: a Read that waits more
// than timeout for samples ends the stream, and that Read and every later one return
// a *StallError (errors.Is ErrStalled) instead of blocking on. The watchdog cancels the
// context the stream was started with, so it relies on what Device.StartRX promises: a
// pending Read returns once the context is cancelled. Time spent outside Read (the
// caller processing samples) does not count. A timeout of 0 or less returns d as it is.
// Everything else about d, transmitting included, passes through unchanged.
func WatchRX(d Device, timeout time.Duration) Device {
	if timeout <= 0 {
		return d
	}
	return &watched{Device: d, timeout: timeout}
}

type watched struct {
	Device
	timeout time.Duration
}

func (w *watched) StartRX(ctx context.Context) (RXStream, error) {
	sctx, cancel := context.WithCancelCause(ctx)
	s, err := w.Device.StartRX(sctx)
	if err != nil {
		cancel(nil)
		return nil, err
	}
	ws := &watchedRX{s: s, ctx: sctx, cancel: cancel, spec: w.Info().Spec, timeout: w.timeout}
	// One timer for the stream's life, armed only while a Read waits: no goroutine
	// and no allocation per buffer.
	ws.timer = time.AfterFunc(time.Hour, ws.fire)
	ws.timer.Stop()
	return ws, nil
}

type watchedRX struct {
	s       RXStream
	ctx     context.Context
	cancel  context.CancelCauseFunc
	spec    string
	timeout time.Duration
	timer   *time.Timer
	n       atomic.Int64 // samples delivered
	stalled atomic.Pointer[StallError]
}

func (w *watchedRX) fire() {
	e := &StallError{Device: w.spec, Samples: w.n.Load(), After: w.timeout}
	if w.stalled.CompareAndSwap(nil, e) {
		w.cancel(e)
	}
}

func (w *watchedRX) Read(dst []complex64) (int, RXMeta, error) {
	if e := w.stalled.Load(); e != nil {
		return 0, RXMeta{}, e
	}
	w.timer.Reset(w.timeout)
	n, meta, err := w.s.Read(dst)
	w.timer.Stop()
	w.n.Add(int64(n))
	if e := w.stalled.Load(); e != nil && err != nil {
		// However the stream put it (the context's cause, ErrClosed), it went quiet.
		err = e
	}
	return n, meta, err
}

func (w *watchedRX) Close() error {
	w.timer.Stop()
	err := w.s.Close()
	w.cancel(nil)
	return err
}
