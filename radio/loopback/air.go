package loopback

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/m4sc/m4sc/radio"
)

// Air joins the loopback devices of one process: one transmitter at a time, any number
// of receivers, each hearing the transmitter through its own Channel.
//
// Time on the air counts the transmitter's samples. A burst starts at the air's
// present, the furthest point any receiver has read (or where the previous burst
// ended), so a burst written before anyone reads is heard from its first sample. A
// receiver that wants samples an open burst has not yet produced waits for them, for at
// most UnderrunTimeout of wall time; after that the transmitter has underrun: the
// receiver hears silence and the burst continues after the gap. Samples every receiver
// has passed are dropped; a receiver that falls more than MaxBacklog samples behind
// loses the oldest ones (an overrun, counted in its Stats).
//
// A device hears the air from when it is opened; a device that transmitted hears it
// again from when its next receive stream starts (a transmitting device neither hears
// nor holds the air's samples).
//
// An Air is safe for concurrent use. It holds no global state: a process may have
// several, each with its own seed.
type Air struct {
	mu      sync.Mutex
	seed    uint64
	opened  int // devices opened so far, for per-device seeds
	buf     []complex64
	base    int64 // index of buf[0]
	end     int64 // end of everything transmitted so far
	tx      *Device
	burst   bool  // a transmit stream is open
	txPos   int64 // where the open burst's next sample goes
	txState txState
	rx      map[*Device]*rxCursor
	changed chan struct{} // closed and replaced when samples arrive or a burst ends, if anyone waits
	waiters int

	MaxBacklog      int           // samples kept for a lagging receiver; default 1<<24
	UnderrunTimeout time.Duration // default 100 ms
}

// txState is what receivers need to know of the transmitter; version changes force
// receivers to rebuild their channels.
type txState struct {
	version    int
	rate, freq float64
	ppm, pn    float64
	gain       float64 // dB relative to the transmitter's default gains
}

type rxCursor struct {
	lo, hi int64 // air indices this receiver may still read / has read up to
	lost   int64 // air samples dropped from under it, not yet reported
}

// NewAir returns an empty air whose devices draw their randomness from seed.
func NewAir(seed uint64) *Air {
	return &Air{seed: seed, rx: map[*Device]*rxCursor{}, changed: make(chan struct{}), MaxBacklog: 1 << 24, UnderrunTimeout: 100 * time.Millisecond}
}

func (a *Air) notify() {
	if a.waiters == 0 {
		return
	}
	close(a.changed)
	a.changed = make(chan struct{})
}

// now is the air's present; callers hold a.mu.
func (a *Air) now() int64 {
	t := a.end
	for _, c := range a.rx {
		t = max(t, c.hi)
	}
	return t
}

// register adds a receiver starting at the air's present.
func (a *Air) register(d *Device) *rxCursor {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.now()
	c := &rxCursor{lo: t, hi: t}
	a.rx[d] = c
	return c
}

// deafen removes a device's receiver while it transmits (it neither hears nor pins
// the air); it is registered again, at the air's present, when it next receives.
func (a *Air) deafen(d *Device) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.rx, d)
	a.trim()
}

// listening reports whether d has a receiver cursor.
func (a *Air) listening(d *Device) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rx[d] != nil
}

func (a *Air) unregister(d *Device) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.rx, d)
	if a.tx == d {
		if a.burst {
			a.burst = false
			a.notify()
		}
		a.tx = nil
	}
	a.trim()
}

// trim drops samples no receiver can read any more; callers hold a.mu.
func (a *Air) trim() {
	low := a.end
	for _, c := range a.rx {
		low = min(low, c.lo)
	}
	// A receiver too far behind loses the oldest samples.
	if limit := a.end - int64(a.MaxBacklog); low < limit {
		for _, c := range a.rx {
			if c.lo < limit {
				c.lost += limit - c.lo
				c.lo = limit
				c.hi = max(c.hi, limit)
			}
		}
		low = limit
	}
	if drop := low - a.base; drop > 0 {
		if drop >= int64(len(a.buf)) {
			a.buf = a.buf[:0]
		} else if 2*drop >= int64(len(a.buf)) {
			n := copy(a.buf, a.buf[drop:])
			a.buf = a.buf[:n]
		} else {
			return
		}
		a.base = low
	}
}

// startBurst makes d the transmitter and opens a burst at the air's present.
func (a *Air) startBurst(d *Device, st txState) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.burst {
		return fmt.Errorf("loopback: air %s: %s is transmitting; one transmitter at a time: %w", radio.QuoteSpec(d.params.Air), a.tx.name(), radio.ErrBusy)
	}
	a.tx = d
	if st.rate != a.txState.rate || st.freq != a.txState.freq || st.ppm != a.txState.ppm || st.pn != a.txState.pn || st.gain != a.txState.gain {
		st.version = a.txState.version + 1
		a.txState = st
	}
	a.burst = true
	a.txPos = a.now()
	return nil
}

// write appends samples to the open burst and reports whether the transmitter underran.
func (a *Air) write(src []complex64) (underrun bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	pos := a.txPos
	if now := a.now(); now > pos {
		// A receiver gave up waiting and heard silence: the burst goes on after it.
		underrun = pos > a.end || now > a.end
		pos = now
	}
	if pos < a.base {
		pos = a.base
	}
	if len(a.rx) == 0 {
		// Nobody listens: the samples leave into space.
		a.base = pos + int64(len(src))
		a.buf = a.buf[:0]
	} else {
		need := int(pos + int64(len(src)) - a.base)
		if need > len(a.buf) {
			if need > cap(a.buf) {
				b := make([]complex64, len(a.buf), max(2*cap(a.buf), need))
				copy(b, a.buf)
				a.buf = b
			}
			old := len(a.buf)
			a.buf = a.buf[:need]
			clear(a.buf[old:])
		}
		copy(a.buf[pos-a.base:], src)
	}
	a.txPos = pos + int64(len(src))
	a.end = max(a.end, a.txPos)
	a.trim()
	a.notify()
	return underrun
}

func (a *Air) endBurst(d *Device) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.burst && a.tx == d {
		a.burst = false
		a.notify()
	}
}

// fetch waits until the air holds [lo, hi) or no burst will fill it, then copies it
// into dst (silence where nothing was sent) and records the receiver's progress. It
// returns the transmitter's state and the air samples lost from under the receiver.
func (a *Air) fetch(ctx context.Context, d *Device, lo, hi int64, dst []complex64) (txState, int64, error) {
	var timeout <-chan time.Time
	a.mu.Lock()
	for a.burst && a.txPos < hi {
		ch := a.changed
		a.waiters++
		a.mu.Unlock()
		if timeout == nil {
			timeout = time.After(a.UnderrunTimeout)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			a.mu.Lock()
			a.waiters--
			a.mu.Unlock()
			return txState{}, 0, context.Cause(ctx)
		case <-timeout:
			a.mu.Lock()
			a.waiters--
			goto take
		}
		a.mu.Lock()
		a.waiters--
	}
take:
	defer a.mu.Unlock()
	c := a.rx[d]
	if c == nil {
		return txState{}, 0, radio.ErrClosed
	}
	lost := c.lost
	c.lost = 0
	clear(dst)
	s, e := max(lo, a.base), min(hi, a.base+int64(len(a.buf)))
	if s < e {
		copy(dst[s-lo:e-lo], a.buf[s-a.base:e-a.base])
	}
	c.lo = max(c.lo, lo)
	c.hi = max(c.hi, hi)
	a.trim()
	return a.txState, lost, nil
}

// frequency of the transmitted signal as the receiver sees it: nothing outside its
// sample bandwidth reaches it.
func inBand(offset, rate float64) bool { return math.Abs(offset) < rate/2 }
