package kan

import (
	"runtime"
	"sync"
)

// forRows runs fn over rows [0, n) split across GOMAXPROCS goroutines when the work
// (cost: rough scalar operations per row) is large enough to pay for them.
func forRows(n, cost int, fn func(lo, hi int)) {
	const minWork = 1 << 16
	w := min(runtime.GOMAXPROCS(0), n, n*cost/minWork)
	if w <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + w - 1) / w
	for lo := step; lo < n; lo += step {
		wg.Go(func() { fn(lo, min(lo+step, n)) })
	}
	fn(0, min(step, n))
	wg.Wait()
}
