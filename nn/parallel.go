package nn

import (
	"runtime"
	"sync"
)

func defaultWorkers() int { return runtime.GOMAXPROCS(0) }

// minWork is the rough count of scalar operations below which a loop runs in the
// calling goroutine: handing a range to a pool goroutine costs about a microsecond.
const minWork = 1 << 15

// parallelFor runs fn over [0, n) split into at most workers contiguous ranges, when the
// work is worth splitting (cost is a rough count of scalar operations per item). The
// calling goroutine takes the first range; the others go to a pool of long-lived
// goroutines, so a call starts no goroutine.
//
// A closure handed to parallelFor escapes to the heap, so a call site that must not
// allocate for small work tests split first and calls its kernel directly when it
// says no.
func parallelFor(workers, n, cost int, fn func(lo, hi int)) {
	if !split(workers, n, cost) {
		fn(0, n)
		return
	}
	w := min(workers, n, max(1, n*cost/minWork))
	if w <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + w - 1) / w
	for lo := step; lo < n; lo += step {
		wg.Add(1)
		poolRun(task{fn: fn, lo: lo, hi: min(lo+step, n), wg: &wg})
	}
	fn(0, min(step, n))
	wg.Wait()
}

// split reports whether n items of cost operations each are worth splitting over
// workers goroutines.
func split(workers, n, cost int) bool {
	return workers > 1 && n >= 2 && n*cost >= 2*minWork
}

// parallelElems runs fn over [0, n) elements of an elementwise loop costing about
// cost operations per element, in ranges whose ends are multiples of 64 so that no
// two goroutines write the same cache line.
func parallelElems(workers, n, cost int, fn func(lo, hi int)) {
	if workers <= 1 || n*cost < 2*minWork {
		fn(0, n)
		return
	}
	const line = 64
	blocks := (n + line - 1) / line
	parallelFor(workers, blocks, cost*line, func(lo, hi int) {
		fn(lo*line, min(hi*line, n))
	})
}

type task struct {
	fn     func(lo, hi int)
	lo, hi int
	wg     *sync.WaitGroup
}

// The pool: long-lived goroutines, each waiting on one unbuffered channel. A range is
// handed over only to a goroutine that is idle at that moment; when none is, the
// caller runs the range itself, so nested parallel sections cannot deadlock. The pool
// grows to GOMAXPROCS-1 goroutines as sections ask for them and never shrinks: it is
// process-wide plumbing like gonum's, holding no state a caller can see.
var (
	poolMu   sync.Mutex
	poolSize int
	poolCh   = make(chan task)
)

func poolRun(t task) {
	select {
	case poolCh <- t:
		return
	default:
	}
	poolMu.Lock()
	if poolSize < runtime.GOMAXPROCS(0)-1 {
		poolSize++
		go poolWorker(t)
		poolMu.Unlock()
		return
	}
	poolMu.Unlock()
	t.fn(t.lo, t.hi)
	t.wg.Done()
}

func poolWorker(t task) {
	for {
		t.fn(t.lo, t.hi)
		t.wg.Done()
		t = <-poolCh
	}
}
