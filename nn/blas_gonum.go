//go:build !openblas

package nn

import (
	"fmt"
	"runtime"
)

// UsingBLAS reports which BLAS this build multiplies matrices with.
func UsingBLAS() BLASInfo {
	n := runtime.GOMAXPROCS(0)
	return BLASInfo{Name: "gonum", Detail: fmt.Sprintf("pure Go, %d goroutines; build with -tags openblas for OpenBLAS", n), Threads: n}
}

// SetBLASThreads does nothing in the pure-Go build: gonum's Gemm uses GOMAXPROCS.
func SetBLASThreads(int) {}
