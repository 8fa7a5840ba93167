package hackrf

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

// stamp encodes a sample counter in a sample: I is the low byte, Q the next one, so a
// reader can tell from the values alone which sample it holds.
func stamp(dst []int8, from uint64) {
	for i := 0; i < len(dst)/2; i++ {
		k := from + uint64(i)
		dst[2*i], dst[2*i+1] = int8(k), int8(k>>8)
	}
}

func stampOf(x complex64) uint64 {
	return uint64(uint8(int8(real(x)*128))) | uint64(uint8(int8(imag(x)*128)))<<8
}

func TestNewRingRounds(t *testing.T) {
	for _, c := range []struct{ n, want int }{{0, minRing}, {1, minRing}, {256, 256}, {257, 512}, {1000, 1024}, {1 << 20, 1 << 20}} {
		if got := newRing(c.n).capacity(); got != c.want {
			t.Errorf("newRing(%d): capacity %d, want %d", c.n, got, c.want)
		}
	}
}

// The ring hands out free and filled slots in two pieces where they wrap, and keeps
// every value.
func TestRingWrapAround(t *testing.T) {
	q := newRing(256)
	var next, want uint64
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 2000; round++ {
		n := 1 + rng.IntN(300)
		a, b := q.space(n)
		if got := (len(a) + len(b)) / 2; got != min(n, q.capacity()-q.len()) {
			t.Fatalf("round %d: space(%d) gave %d slots with %d used", round, n, got, q.len())
		}
		stamp(a, next)
		stamp(b, next+uint64(len(a)/2))
		k := (len(a) + len(b)) / 2
		q.commit(k)
		next += uint64(k)

		m := 1 + rng.IntN(300)
		a, b = q.data(m)
		got := append(append([]int8(nil), a...), b...)
		if len(got)/2 != min(m, q.len()) {
			t.Fatalf("round %d: data(%d) gave %d of %d", round, m, len(got)/2, q.len())
		}
		x := make([]complex64, len(got)/2)
		convertInt8(x, got)
		for i, v := range x {
			if s := stampOf(v); s != (want+uint64(i))&0xffff {
				t.Fatalf("round %d: sample %d holds %d, want %d", round, want+uint64(i), s, (want+uint64(i))&0xffff)
			}
		}
		q.release(len(x))
		want += uint64(len(x))
	}
	if next < 10*uint64(q.capacity()) {
		t.Fatalf("only %d samples went through a ring of %d: no wrap-around tested", next, q.capacity())
	}
}

// errEmpty ends a read that would have to wait: the tests feed the queue themselves.
var errEmpty = errors.New("would wait")

func never() error { return errEmpty }

// A full receive ring drops what does not fit, counts one overrun per gap, and the
// reader sees the gap: a short read before it, then RXMeta.Dropped and a sample counter
// that jumps by the number lost.
func TestRXQueueOverrun(t *testing.T) {
	q := newRXQueue(256)
	block := make([]int8, 2*100)
	var sent uint64
	push := func(n int) {
		stamp(block[:2*n], sent)
		q.push(block[:2*n])
		sent += uint64(n)
	}
	push(100)
	push(100)
	push(100) // 56 fit, 44 lost
	push(100) // all lost: the same gap, the same overrun
	if got := q.overruns.Load(); got != 1 {
		t.Errorf("overruns %d, want 1", got)
	}
	if got := q.dropped.Load(); got != 144 {
		t.Errorf("dropped %d, want 144", got)
	}
	dst := make([]complex64, 300)
	n, meta, err := q.read(dst, never)
	if err != nil || n != 256 || meta.Time != 0 || meta.Dropped != 0 {
		t.Fatalf("first read: n %d meta %+v err %v, want 256 samples from 0 before the gap", n, meta, err)
	}
	for i := 0; i < n; i++ {
		if stampOf(dst[i]) != uint64(i) {
			t.Fatalf("sample %d holds %d", i, stampOf(dst[i]))
		}
	}
	push(100) // after the gap
	push(100) // the ring is empty again: both blocks fit
	n, meta, err = q.read(dst[:200], never)
	if err != nil || n != 200 || meta.Dropped != 144 || meta.Time != 400 {
		t.Fatalf("second read: n %d meta %+v err %v, want 200 samples from 400 after 144 dropped", n, meta, err)
	}
	for i := 0; i < n; i++ {
		if stampOf(dst[i]) != (400+uint64(i))&0xffff {
			t.Fatalf("after the gap, sample %d holds %d, want %d", i, stampOf(dst[i]), 400+i)
		}
	}
	// A second loss later is a second overrun.
	push(100)
	push(100)
	push(100)
	if got := q.overruns.Load(); got != 2 {
		t.Errorf("overruns %d after a second loss, want 2", got)
	}
	if r, d := q.received.Load(), q.dropped.Load(); r != sent || d != 144+44 {
		t.Errorf("received %d dropped %d, want %d and %d", r, d, sent, 144+44)
	}
}

// Losses recorded while the gap queue is full merge into one gap, still in the right
// place, and the reader is told of every lost sample.
func TestRXQueueGapQueueFull(t *testing.T) {
	q := newRXQueue(4096)
	var sent uint64
	push := func(n int) {
		b := make([]int8, 2*n)
		stamp(b, sent)
		q.push(b)
		sent += uint64(n)
	}
	push(4096)
	dst := make([]complex64, 1)
	// Each round frees one slot and pushes two samples: one kept, one lost, so every
	// round makes a new gap, until the gap queue is full; then everything is lost.
	for i := 0; i < maxMarks+100; i++ {
		if n, _, err := q.read(dst, never); n != 1 || err != nil {
			t.Fatalf("round %d: read %d, %v", i, n, err)
		}
		push(2)
	}
	if got := q.mw.Load() - q.mr.Load(); got != maxMarks {
		t.Fatalf("%d gaps queued, want the queue full (%d)", got, maxMarks)
	}
	var seen int64
	buf := make([]complex64, 700)
	drain := func() {
		for q.ring.len() > 0 || q.gapAt(q.ring.r.Load()) {
			n, meta, err := q.read(buf, never)
			if err != nil && err != errEmpty {
				t.Fatal(err)
			}
			seen += meta.Dropped
			for i := 0; i < n; i++ {
				if want := uint64(meta.Time+int64(i)) & 0xffff; stampOf(buf[i]) != want {
					t.Fatalf("sample at %d holds %d", meta.Time+int64(i), stampOf(buf[i]))
				}
			}
		}
	}
	drain()
	push(1) // the pending loss is recorded before this sample
	drain()
	if uint64(seen) != q.dropped.Load() || q.delivered.Load()+q.dropped.Load() != q.received.Load() {
		t.Errorf("reader saw %d lost; queue: %d delivered, %d dropped, %d received", seen, q.delivered.Load(), q.dropped.Load(), q.received.Load())
	}
}

// A read blocks (calls wait) until enough samples arrive, and returns wait's error
// with the samples it has.
func TestRXQueueWait(t *testing.T) {
	q := newRXQueue(1024)
	block := make([]int8, 2*100)
	stamp(block, 0)
	q.push(block)
	calls := 0
	stop := errors.New("stop")
	dst := make([]complex64, 250)
	n, meta, err := q.read(dst, func() error {
		calls++
		if calls == 1 {
			stamp(block, 100)
			q.push(block)
			return nil
		}
		return stop
	})
	if n != 200 || err != stop || meta.Time != 0 || calls != 2 {
		t.Fatalf("n %d err %v meta %+v calls %d, want 200 samples then the wait error", n, err, meta, calls)
	}
}

// One producer pushing USB-sized blocks and one consumer reading odd-sized buffers,
// sometimes too slowly, under the race detector: every sample read sits at its own
// counter, gaps are reported once, and nothing is lost without being counted.
func TestRXQueueConcurrent(t *testing.T) {
	q := newRXQueue(1 << 12)
	const blocks = 3000
	done := make(chan struct{})
	go func() {
		defer close(done)
		block := make([]int8, 2*512)
		for i := 0; i < blocks; i++ {
			stamp(block, uint64(i)*512)
			q.push(block)
			if i%64 == 0 {
				time.Sleep(50 * time.Microsecond)
			}
		}
	}()
	rng := rand.New(rand.NewPCG(3, 4))
	buf := make([]complex64, 5000)
	var next int64
	var gaps, lost int64
	wait := func() error {
		select {
		case <-q.ready:
			return nil
		case <-done:
			select {
			case <-q.ready:
				return nil
			default:
			}
			if q.ring.len() == 0 && !q.gapAt(q.ring.r.Load()) {
				return errEnd
			}
			return nil
		}
	}
	for {
		n, meta, err := q.read(buf[:1+rng.IntN(len(buf))], wait)
		if meta.Dropped > 0 {
			gaps++
			lost += meta.Dropped
		}
		if n > 0 && meta.Time != next+meta.Dropped {
			t.Fatalf("buffer at %d after %d dropped, expected %d", meta.Time, meta.Dropped, next+meta.Dropped)
		}
		for i := 0; i < n; i++ {
			if want := uint64(meta.Time+int64(i)) & 0xffff; stampOf(buf[i]) != want {
				t.Fatalf("sample %d holds %d, want %d", meta.Time+int64(i), stampOf(buf[i]), want)
			}
		}
		if n > 0 || meta.Dropped > 0 {
			next = meta.Time + int64(n)
		}
		if err == errEnd {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rng.IntN(50) == 0 {
			time.Sleep(2 * time.Millisecond) // a slow consumer: overruns
		}
	}
	total := int64(blocks * 512)
	if next != total {
		t.Errorf("the sample counter ended at %d, want %d", next, total)
	}
	if q.delivered.Load()+q.dropped.Load() != q.received.Load() || q.received.Load() != uint64(total) {
		t.Errorf("delivered %d + dropped %d, received %d, want %d", q.delivered.Load(), q.dropped.Load(), q.received.Load(), total)
	}
	if uint64(lost) != q.dropped.Load() {
		t.Errorf("reader saw %d lost, queue counted %d", lost, q.dropped.Load())
	}
	if gaps < int64(q.overruns.Load()) {
		t.Errorf("reader saw %d gaps, queue counted %d overruns", gaps, q.overruns.Load())
	}
	t.Logf("%d samples: %d delivered, %d lost in %d overruns", total, q.delivered.Load(), lost, q.overruns.Load())
}

var errEnd = errors.New("end of test stream")

// The TX callback's end of burst: full buffers, then the last one padded with zeros
// and 0 returned, then non-zero, and non-zero again.
func TestTXQueueBurstEnd(t *testing.T) {
	q := newTXQueue(1024)
	x := make([]complex64, 700)
	for i := range x {
		x[i] = complex(float32(i%100+1)/128, -float32(i%100+1)/128)
	}
	if n := q.write(x); n != 700 {
		t.Fatalf("wrote %d of 700", n)
	}
	q.finish()
	buf := make([]int8, 2*256)
	var got []int8
	var rets []int
	for i := 0; i < 5; i++ {
		for j := range buf {
			buf[j] = 99 // what the padding must overwrite
		}
		r := q.fill(buf)
		rets = append(rets, r)
		if r == 0 {
			got = append(got, buf...)
		}
	}
	if want := []int{0, 0, 0, -1, -1}; !equalInts(rets, want) {
		t.Fatalf("fill returned %v, want %v", rets, want)
	}
	for i := 0; i < 700; i++ {
		if v := int8(i%100 + 1); got[2*i] != v || got[2*i+1] != -v {
			t.Fatalf("sample %d: %d,%d want %d,%d", i, got[2*i], got[2*i+1], v, -v)
		}
	}
	for i := 2 * 700; i < len(got); i++ {
		if got[i] != 0 {
			t.Fatalf("padding value %d at %d is %d, want 0", i/2, i, got[i])
		}
	}
	if q.underruns.Load() != 0 || q.sent.Load() != 700 {
		t.Errorf("underruns %d sent %d, want 0 and 700", q.underruns.Load(), q.sent.Load())
	}
}

// A burst that is an exact number of buffers ends with 0 for its last full buffer and
// non-zero on the next call, with no padding buffer.
func TestTXQueueExactEnd(t *testing.T) {
	q := newTXQueue(1024)
	q.write(make([]complex64, 512))
	q.finish()
	buf := make([]int8, 2*256)
	var rets []int
	for i := 0; i < 4; i++ {
		rets = append(rets, q.fill(buf))
	}
	if want := []int{0, 0, -1, -1}; !equalInts(rets, want) {
		t.Fatalf("fill returned %v, want %v", rets, want)
	}
}

// A late writer makes the callback send zeros inside the burst, counted as underruns;
// it never blocks.
func TestTXQueueUnderrun(t *testing.T) {
	q := newTXQueue(1024)
	buf := make([]int8, 2*256)
	q.write(make([]complex64, 300))
	if r := q.fill(buf); r != 0 {
		t.Fatal(r)
	}
	if r := q.fill(buf); r != 0 { // 44 samples and 212 zeros: the writer is late
		t.Fatal(r)
	}
	if r := q.fill(buf); r != 0 { // nothing at all: still streaming zeros
		t.Fatal(r)
	}
	if u, p := q.underruns.Load(), q.padded.Load(); u != 2 || p != 212+256 {
		t.Errorf("underruns %d padded %d, want 2 and %d", u, p, 212+256)
	}
	// A partial buffer after finish is the burst's end, not an underrun.
	q.write(make([]complex64, 10))
	q.finish()
	if r := q.fill(buf); r != 0 {
		t.Fatal(r)
	}
	if r := q.fill(buf); r == 0 {
		t.Fatal("fill went on after the last sample")
	}
	if u := q.underruns.Load(); u != 2 {
		t.Errorf("underruns %d after the end, want still 2", u)
	}
	// Abort ends at once.
	q2 := newTXQueue(1024)
	q2.write(make([]complex64, 1000))
	q2.abort()
	if r := q2.fill(buf); r == 0 {
		t.Error("fill sent a buffer after abort")
	}
}

// A writer that blocks on a full ring and a callback that fills USB buffers, under the
// race detector: the samples come out in order and whole; zeros appear only where an
// underrun was counted and after the end.
func TestTXQueueConcurrent(t *testing.T) {
	q := newTXQueue(1 << 12)
	const total = 200_000
	// I is 1 + k%127, never 0, so padding (0, 0) cannot pass for a sample.
	code := func(k int) (int8, int8) { return int8(1 + k%127), int8(k / 127) }
	go func() {
		rng := rand.New(rand.NewPCG(5, 6))
		src := make([]complex64, 3000)
		for off := 0; off < total; {
			n := min(1+rng.IntN(len(src)), total-off)
			for i := 0; i < n; i++ {
				re, im := code(off + i)
				src[i] = complex(float32(re)/128, float32(im)/128)
			}
			for w := 0; w < n; {
				w += q.write(src[w:n])
				if w < n {
					<-q.space
				}
			}
			off += n
		}
		q.finish()
	}()
	buf := make([]int8, 2*1024)
	k, zeros := 0, 0
	for calls := 0; ; calls++ {
		if calls > 1e6 {
			t.Fatal("burst never ended")
		}
		if q.fill(buf) != 0 {
			break
		}
		for i := 0; i < len(buf)/2; i++ {
			re, im := code(k)
			switch {
			case buf[2*i] == 0 && buf[2*i+1] == 0:
				zeros++
			case k < total && buf[2*i] == re && buf[2*i+1] == im:
				k++
			default:
				t.Fatalf("sample %d: %d,%d want %d,%d", k, buf[2*i], buf[2*i+1], re, im)
			}
		}
		if calls%50 == 0 {
			time.Sleep(100 * time.Microsecond)
		}
	}
	if k != total || q.sent.Load() != total {
		t.Fatalf("%d samples came out (%d sent), want %d", k, q.sent.Load(), total)
	}
	// Zeros: the padding of underruns and of the last buffer.
	if tail := zeros - int(q.padded.Load()); tail < 0 || tail >= len(buf)/2 {
		t.Errorf("%d zero samples with %d padded by underruns: the end's padding must be under one buffer", zeros, q.padded.Load())
	}
	t.Logf("%d samples, %d underruns", total, q.underruns.Load())
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The receive path per USB transfer: the callback's push and Read's conversion.
func BenchmarkRXQueue(b *testing.B) {
	q := newRXQueue(DefaultRXBuffer)
	block := make([]int8, 2*131072) // one libhackrf transfer
	dst := make([]complex64, 131072)
	b.ReportAllocs()
	b.SetBytes(int64(len(block)))
	for b.Loop() {
		q.push(block)
		if n, _, err := q.read(dst, never); n != len(dst) || err != nil {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(dst))/b.Elapsed().Seconds(), "samples/s")
}

// The transmit path per USB transfer: Write's quantisation and the callback's fill.
func BenchmarkTXQueue(b *testing.B) {
	q := newTXQueue(DefaultTXBuffer)
	src := make([]complex64, 131072)
	for i := range src {
		src[i] = complex(float32(i%200)/256, -float32(i%100)/256)
	}
	buf := make([]int8, 2*len(src))
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if n := q.write(src); n != len(src) {
			b.Fatal(n)
		}
		if r := q.fill(buf); r != 0 {
			b.Fatal(r)
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(src))/b.Elapsed().Seconds(), "samples/s")
}
