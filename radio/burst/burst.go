// Package burst transmits a burst on one radio.Device while another receives: the one
// place m4sc starts a transmitter and a receiver together, in one documented order
// (see Run). PER measurements, calibration, the demo and the hardware tests all go
// through it.
//
// Samples are complex64 at full scale 1.0, as everywhere in package radio. A burst
// comes from a Source (Samples, Repeat, Func), the received samples go to a Sink, or
// into one slice with Capture.
//
// What it is not: no signal processing (what is sent and what is done with what is
// received belong to the caller), and no timing between the two devices beyond the
// start order; the receiver reads a number of samples, and finding the burst among
// them is the caller's business.
package burst

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/m4sc/m4sc/radio"
)

// Defaults of Config.
const (
	// DefaultChunk is the samples per Read and per Write: 3.3 ms at 20 Msps.
	DefaultChunk = 1 << 16
	// DefaultAhead is how far, in samples, the transmitter may run ahead of the
	// receiver: well inside the loopback air's backlog of 2^24 samples, and far more
	// than a HackRF ever gets ahead (it sends at the sample rate the receiver keeps up
	// with).
	DefaultAhead = 1 << 21
)

// Config tunes Run. The zero value takes the defaults.
type Config struct {
	Chunk int // samples per Read and per Write; DefaultChunk
	Ahead int // samples the transmitter may run ahead of the receiver; DefaultAhead
}

// A Source produces a burst's samples.
type Source interface {
	// Read fills dst with the burst's next samples and returns how many, with io.EOF
	// once there are no more (with the last samples or after them).
	Read(dst []complex64) (n int, err error)
}

// Samples returns a source that sends x once.
func Samples(x []complex64) Source { return &slice{x: x} }

type slice struct{ x []complex64 }

func (s *slice) Read(dst []complex64) (int, error) {
	n := copy(dst, s.x)
	s.x = s.x[n:]
	if len(s.x) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// Repeat returns a source that sends x over and over, without end: the burst then
// lasts until the receiver has its samples (a CW tone whose x holds a whole number of
// cycles, for example). x must not be empty.
func Repeat(x []complex64) Source {
	if len(x) == 0 {
		panic("burst: Repeat of no samples")
	}
	return &repeat{x: x}
}

type repeat struct {
	x   []complex64
	pos int
}

func (r *repeat) Read(dst []complex64) (int, error) {
	n := 0
	for n < len(dst) {
		k := copy(dst[n:], r.x[r.pos:])
		n += k
		r.pos = (r.pos + k) % len(r.x)
	}
	return n, nil
}

// Func returns a source made of the pieces next produces, one per call: next appends a
// piece (a frame and its gap, say) to dst and returns it, or returns dst unchanged
// when the burst is over. Bursts too long to hold in memory are sent this way.
func Func(next func(dst []complex64) []complex64) Source { return &pieces{next: next} }

type pieces struct {
	next func([]complex64) []complex64
	buf  []complex64
	pos  int
	done bool
}

func (p *pieces) Read(dst []complex64) (int, error) {
	n := 0
	for n < len(dst) {
		if p.pos == len(p.buf) {
			if p.done {
				break
			}
			p.buf, p.pos = p.next(p.buf[:0]), 0
			if len(p.buf) == 0 {
				p.done = true
				break
			}
		}
		k := copy(dst[n:], p.buf[p.pos:])
		n += k
		p.pos += k
	}
	if p.done && p.pos == len(p.buf) {
		return n, io.EOF
	}
	return n, nil
}

// A Sink takes each received buffer in turn: y is valid only during the call, meta is
// what the receive stream said of it (meta.Dropped > 0: samples were lost just before
// y). An error stops Run, which returns it.
type Sink func(y []complex64, meta radio.RXMeta) error

// Result says what a Run did.
type Result struct {
	Received int64 // samples handed to the sink: n, or fewer if a recording ended first
	Sent     int64 // samples written to the transmitter
	Dropped  int64 // samples the receive stream reported lost after its first buffer
	EOF      bool  // the receiver's recording ended before n samples
}

// Run sends src from tx while rx receives n samples, handing them to sink in order.
// tx and src may be nil: Run then only receives.
//
// The start order, for every device:
//
//  1. The receive stream starts first, so that hardware whose streams take tens of
//     milliseconds to start (a HackRF) hears the whole burst.
//  2. The transmit stream starts (the burst opens), and a goroutine writes the first
//     chunk of src.
//  3. Only then does the receiver read. The loopback simulator places a burst at the
//     air's present, the furthest point a receiver has read; reading only once the
//     burst is open and has samples makes the receiver hear it from its first sample
//     instead of racing past it into silence.
//
// The rest of src is written while the receiver reads, as on hardware, but never more
// than cfg.Ahead samples ahead of it (a simulated transmitter writes instantly and
// would overflow the simulated air). The burst ends when src does (a Samples or Func
// source) or once the receiver has its n samples (a Repeat source; the samples written
// until then are sent). Run returns when both streams are closed.
//
// Cancelling ctx stops both streams: Run returns the context's cause. A failing
// transmitter stops the receiver too, and the other way round.
func Run(ctx context.Context, tx, rx radio.Device, src Source, n int64, cfg Config, sink Sink) (Result, error) {
	if cfg.Chunk <= 0 {
		cfg.Chunk = DefaultChunk
	}
	if cfg.Ahead <= 0 {
		cfg.Ahead = DefaultAhead
	}
	if cfg.Ahead < cfg.Chunk {
		// A reader that waits for a whole chunk must be able to get it.
		cfg.Ahead = cfg.Chunk
	}
	var res Result
	if n < 0 {
		return res, fmt.Errorf("burst: %d samples to receive", n)
	}
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	rs, err := rx.StartRX(ctx)
	if err != nil {
		return res, fmt.Errorf("burst: receive: %w", err)
	}
	defer rs.Close()

	var w *writer
	if tx != nil && src != nil {
		ts, err := tx.StartTX(ctx)
		if err != nil {
			return res, fmt.Errorf("burst: transmit: %w", err)
		}
		w = newWriter(ts, src, cfg)
		go w.run(cancel)
		<-w.primed
	}

	buf := make([]complex64, cfg.Chunk)
	var rerr error
	for res.Received < n {
		k, meta, err := rs.Read(buf[:min(int64(len(buf)), n-res.Received)])
		if meta.Dropped > 0 && res.Received > 0 {
			res.Dropped += meta.Dropped
		}
		if k > 0 {
			if serr := sink(buf[:k], meta); serr != nil {
				rerr = serr
				break
			}
			res.Received += int64(k)
			w.progress(res.Received)
		}
		if errors.Is(err, io.EOF) {
			res.EOF = true
			break
		}
		if err != nil {
			if w != nil && w.failed() {
				break // the transmitter's error says why
			}
			rerr = fmt.Errorf("burst: receive: %w", err)
			break
		}
	}
	rs.Close()
	if w != nil {
		w.stop()
		werr := <-w.done
		res.Sent = w.sent
		if rerr == nil && werr != nil {
			rerr = fmt.Errorf("burst: transmit: %w", werr)
		}
	}
	if rerr != nil && parent.Err() != nil {
		// Cancelled from outside: say so rather than how a stream noticed.
		return res, context.Cause(parent)
	}
	return res, rerr
}

// writer sends a source on a transmit stream, paced by the receiver.
type writer struct {
	ts     radio.TXStream
	src    Source
	chunk  int
	ahead  int64
	primed chan struct{} // closed after the first write (or the writer's end)
	done   chan error

	mu       sync.Mutex
	cond     *sync.Cond
	sent     int64
	received int64
	stopped  bool
	err      error
}

func newWriter(ts radio.TXStream, src Source, cfg Config) *writer {
	w := &writer{ts: ts, src: src, chunk: cfg.Chunk, ahead: int64(cfg.Ahead), primed: make(chan struct{}), done: make(chan error, 1)}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// progress records how many samples the receiver has read.
func (w *writer) progress(received int64) {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.received = received
	w.cond.Broadcast()
	w.mu.Unlock()
}

// stop ends the burst at the next chunk.
func (w *writer) stop() {
	w.mu.Lock()
	w.stopped = true
	w.cond.Broadcast()
	w.mu.Unlock()
}

func (w *writer) failed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err != nil
}

// run writes the source until it ends, the receiver is done or a write fails; a
// failure cancels the receiver through cancel.
func (w *writer) run(cancel context.CancelCauseFunc) {
	buf := make([]complex64, w.chunk)
	first := true
	var err error
	for {
		w.mu.Lock()
		for !w.stopped && w.sent-w.received > w.ahead {
			w.cond.Wait()
		}
		stopped := w.stopped
		w.mu.Unlock()
		if stopped {
			break
		}
		k, rerr := w.src.Read(buf)
		if k > 0 {
			if _, err = w.ts.Write(buf[:k]); err != nil {
				break
			}
			w.mu.Lock()
			w.sent += int64(k)
			w.mu.Unlock()
			if first {
				close(w.primed)
				first = false
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			err = fmt.Errorf("source: %w", rerr)
			break
		}
	}
	if first {
		close(w.primed)
	}
	if cerr := w.ts.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w.mu.Lock()
		w.err = err
		w.mu.Unlock()
		cancel(err)
	}
	w.done <- err
}

// Received is what Capture gathered.
type Received struct {
	Samples []complex64
	// First is the receive stream's description of the first buffer: First.Time is
	// where the capture starts on the receiver's sample clock.
	First radio.RXMeta
	// Breaks are the indices in Samples before which samples were lost.
	Breaks []int
	Result
}

// Capture is Run with the received samples gathered into one slice of n samples
// (fewer if a recording ends first).
func Capture(ctx context.Context, tx, rx radio.Device, src Source, n int, cfg Config) (Received, error) {
	out := Received{Samples: make([]complex64, 0, n)}
	res, err := Run(ctx, tx, rx, src, int64(n), cfg, func(y []complex64, meta radio.RXMeta) error {
		if len(out.Samples) == 0 {
			out.First = meta
		} else if meta.Dropped > 0 {
			out.Breaks = append(out.Breaks, len(out.Samples))
		}
		out.Samples = append(out.Samples, y...)
		return nil
	})
	out.Result = res
	return out, err
}
