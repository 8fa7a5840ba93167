package hackrf

import (
	"math/bits"
	"sync/atomic"

	"github.com/m4sc/m4sc/radio"
)

// ring is a lock-free queue of interleaved int8 I,Q samples between exactly one
// producer and one consumer. Indices count samples since creation and never wrap in
// practice (2^64 samples is 29,000 years at 20 Msps); a sample's slot is index&mask.
// The producer writes slots from space and publishes them with commit; the consumer
// reads slots from data and hands them back with release. The atomic stores of w and r
// are what orders the slot contents between the two sides.
type ring struct {
	buf  []int8 // 2 values per slot
	size uint64 // slots, a power of two
	mask uint64
	_    [64]byte // keep w and r on their own cache lines: each side writes only one
	w    atomic.Uint64
	_    [56]byte
	r    atomic.Uint64
	_    [56]byte
}

// minRing is the smallest ring: one USB packet of samples.
const minRing = 256

// newRing returns a ring of at least n samples, rounded up to a power of two.
func newRing(n int) *ring {
	if n < minRing {
		n = minRing
	}
	size := uint64(1) << bits.Len64(uint64(n-1))
	return &ring{buf: make([]int8, 2*size), size: size, mask: size - 1}
}

// capacity is the number of samples the ring holds.
func (q *ring) capacity() int { return int(q.size) }

// len is the number of samples waiting to be read. Either side may call it; the answer
// is exact for the caller's own index and a lower (consumer) or upper (producer) bound
// for the other.
func (q *ring) len() int { return int(q.w.Load() - q.r.Load()) }

// slices returns the n slots from index i on, as one or two pieces of buf.
func (q *ring) slices(i uint64, n int) (a, b []int8) {
	start := i & q.mask
	first := min(uint64(n), q.size-start)
	a = q.buf[2*start : 2*(start+first)]
	b = q.buf[:2*(uint64(n)-first)]
	return a, b
}

// space returns up to n free slots for the producer.
func (q *ring) space(n int) (a, b []int8) {
	w := q.w.Load()
	free := q.size - (w - q.r.Load())
	return q.slices(w, int(min(uint64(n), free)))
}

// commit publishes n slots filled through space.
func (q *ring) commit(n int) { q.w.Add(uint64(n)) }

// data returns up to n readable slots for the consumer.
func (q *ring) data(n int) (a, b []int8) {
	r := q.r.Load()
	avail := q.w.Load() - r
	return q.slices(r, int(min(uint64(n), avail)))
}

// release hands n read slots back to the producer.
func (q *ring) release(n int) { q.r.Add(uint64(n)) }

// signal wakes a waiter on c without ever blocking the caller (the USB callback).
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// gapMark records samples lost before the sample of ring index at.
type gapMark struct {
	at, n uint64
}

// rxQueue carries received samples from the USB callback (producer: push) to Read
// (consumer: read), with the gaps where samples were lost because the ring was full.
// A gap is published before any sample after it, so a consumer that has seen the write
// index has seen every gap before it.
type rxQueue struct {
	ring  *ring
	marks []gapMark // a ring of gaps, power-of-two length
	mw    atomic.Uint64
	mr    atomic.Uint64
	ready chan struct{} // signalled after every push

	// Producer only.
	pending uint64 // lost samples not yet marked
	lossAt  uint64 // ring write index after the last loss
	lossing bool   // a loss is in progress at lossAt (no sample kept since)

	// Written by the producer, read by anyone.
	received atomic.Uint64 // samples that arrived from the device, kept or not
	overruns atomic.Uint64 // runs of lost samples (gaps in the stream)
	dropped  atomic.Uint64 // samples lost

	// Consumer only.
	clock     int64         // device sample counter of the next sample to read
	delivered atomic.Uint64 // samples returned by read
}

// maxMarks bounds the gap records in flight; past it, losses merge into one gap.
const maxMarks = 1024

func newRXQueue(samples int) *rxQueue {
	return &rxQueue{ring: newRing(samples), marks: make([]gapMark, maxMarks), ready: make(chan struct{}, 1)}
}

// push stores the interleaved int8 I,Q of src and returns at once. What does not fit
// is dropped and recorded as a gap. Only one goroutine (thread) may push.
func (q *rxQueue) push(src []int8) {
	n := len(src) / 2
	q.received.Add(uint64(n))
	if q.pending > 0 && !q.mark() {
		// The gap cannot be recorded yet, so nothing may be stored after it.
		q.lose(uint64(n))
		signal(q.ready)
		return
	}
	a, b := q.ring.space(n)
	k := copy(a, src)
	k += copy(b, src[k:])
	if k > 0 {
		q.ring.commit(k / 2)
		q.lossing = false
	}
	if lost := n - k/2; lost > 0 {
		q.lose(uint64(lost))
		q.mark()
	}
	signal(q.ready)
}

func (q *rxQueue) lose(n uint64) {
	w := q.ring.w.Load()
	if !q.lossing || q.lossAt != w {
		q.overruns.Add(1)
	}
	q.lossing, q.lossAt = true, w
	q.pending += n
	q.dropped.Add(n)
}

// mark publishes the pending loss at the current write index, if there is room.
func (q *rxQueue) mark() bool {
	mw := q.mw.Load()
	if mw-q.mr.Load() == uint64(len(q.marks)) {
		return false
	}
	q.marks[mw%uint64(len(q.marks))] = gapMark{at: q.ring.w.Load(), n: q.pending}
	q.mw.Store(mw + 1)
	q.pending = 0
	return true
}

// read fills dst under radio.RXStream.Read's contract: samples contiguous in time from
// meta.Time, fewer than len(dst) only when a gap follows (the next read reports it) or
// when wait fails. wait blocks until more may have arrived, or returns why reading must
// stop. Only one goroutine may read.
func (q *rxQueue) read(dst []complex64, wait func() error) (int, radio.RXMeta, error) {
	var meta radio.RXMeta
	n := 0
	for {
		r := q.ring.r.Load()
		// Load w before the marks: every gap before sample w is then visible.
		limit := q.ring.w.Load()
		for mr := q.mr.Load(); mr < q.mw.Load(); mr = q.mr.Load() {
			m := q.marks[mr%uint64(len(q.marks))]
			if m.at != r {
				limit = min(limit, m.at)
				break
			}
			if n > 0 {
				// The samples after this gap do not follow on from those in dst.
				q.delivered.Add(uint64(n))
				return n, meta, nil
			}
			meta.Dropped += int64(m.n)
			q.clock += int64(m.n)
			q.mr.Store(mr + 1)
		}
		if n == 0 {
			meta.Time = q.clock
		}
		if k := min(int(limit-r), len(dst)-n); k > 0 {
			a, b := q.ring.data(k)
			convertInt8(dst[n:n+len(a)/2], a)
			convertInt8(dst[n+len(a)/2:n+k], b)
			q.ring.release(k)
			q.clock += int64(k)
			n += k
		}
		if n == len(dst) {
			q.delivered.Add(uint64(n))
			return n, meta, nil
		}
		// Everything up to limit is read. Go round again if samples came meanwhile or a
		// gap is next (the loop above then ends the buffer); otherwise wait.
		if r = q.ring.r.Load(); q.ring.w.Load() > r || q.gapAt(r) {
			continue
		}
		if err := wait(); err != nil {
			q.delivered.Add(uint64(n))
			return n, meta, err
		}
	}
}

// gapAt reports whether a recorded gap sits before sample r. Consumer only.
func (q *rxQueue) gapAt(r uint64) bool {
	mr := q.mr.Load()
	return mr < q.mw.Load() && q.marks[mr%uint64(len(q.marks))].at == r
}

// txQueue carries samples from Write (producer) to the USB TX callback (consumer:
// fill), and implements the end of a burst: after finish, the last buffer is padded
// with zeros and fill returns 0 for it, then non-zero.
type txQueue struct {
	ring  *ring
	space chan struct{} // signalled when fill frees slots

	finishing atomic.Bool // no sample will be written after those in the ring
	aborted   atomic.Bool // end now, whatever the ring holds
	ended     atomic.Bool // fill has returned non-zero

	sent      atomic.Uint64 // burst samples handed to USB (padding not counted)
	underruns atomic.Uint64 // buffers the writer did not fill in time
	padded    atomic.Uint64 // zero samples inserted mid-burst by underruns
	clipped   atomic.Uint64 // I or Q components saturated by quantisation
}

func newTXQueue(samples int) *txQueue {
	return &txQueue{ring: newRing(samples), space: make(chan struct{}, 1)}
}

// write quantises as much of src as fits and returns how many samples it took; it
// never blocks. Only one goroutine may write, and not after finish.
func (q *txQueue) write(src []complex64) int {
	a, b := q.ring.space(len(src))
	na := len(a) / 2
	c := quantizeInt8(a, src[:na])
	c += quantizeInt8(b, src[na:na+len(b)/2])
	n := na + len(b)/2
	q.ring.commit(n)
	if c > 0 {
		q.clipped.Add(uint64(c))
	}
	return n
}

// finish says no more samples will be written.
func (q *txQueue) finish() { q.finishing.Store(true) }

// abort makes the next fill end the stream.
func (q *txQueue) abort() { q.aborted.Store(true) }

// fill is the TX callback's work: it fills buf (interleaved int8) and returns 0 to send
// it, or non-zero when the burst is over (and keeps returning non-zero). It never
// blocks. Only one goroutine (thread) may fill at a time.
func (q *txQueue) fill(buf []int8) int {
	if q.ended.Load() || q.aborted.Load() {
		q.ended.Store(true)
		return -1
	}
	// Read finishing before the ring: if it is set, every sample is already visible.
	finishing := q.finishing.Load()
	want := len(buf) / 2
	a, b := q.ring.data(want)
	k := copy(buf, a)
	k += copy(buf[k:], b)
	got := k / 2
	if got > 0 {
		q.ring.release(got)
		q.sent.Add(uint64(got))
		signal(q.space)
	}
	if got == want {
		return 0
	}
	clear(buf[2*got:])
	switch {
	case finishing && got == 0:
		q.ended.Store(true)
		return -1
	case finishing:
		return 0 // the last filled buffer, padded with zeros
	case q.finishing.Load() && q.ring.len() == 0:
		// Close came while we copied and nothing followed: this is the last buffer.
		return 0
	}
	// The writer is late: zeros go out inside the burst.
	q.underruns.Add(1)
	q.padded.Add(uint64(want - got))
	return 0
}
