package nn

import (
	"runtime"
	"sync"
)

func defaultWorkers() int { return runtime.GOMAXPROCS(0) }

// parallelFor runs fn over [0, n) split into at most workers contiguous ranges, when the
// work is worth splitting (cost is a rough count of scalar operations per item).
func parallelFor(workers, n, cost int, fn func(lo, hi int)) {
	const minWork = 1 << 15
	if workers <= 1 || n < 2 || n*cost < 2*minWork {
		fn(0, n)
		return
	}
	w := min(workers, n, max(1, n*cost/minWork))
	var wg sync.WaitGroup
	step := (n + w - 1) / w
	for lo := step; lo < n; lo += step {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(lo+step, n))
	}
	fn(0, min(step, n))
	wg.Wait()
}
