//go:build !openblas

package nn

import (
	"fmt"
	"runtime"

	"gonum.org/v1/gonum/blas"
)

// UsingBLAS reports which BLAS this build multiplies matrices with.
func UsingBLAS() BLASInfo {
	n := runtime.GOMAXPROCS(0)
	return BLASInfo{Name: "gonum", Detail: fmt.Sprintf("pure Go, %d goroutines; build with -tags openblas for OpenBLAS", n), Threads: n}
}

// StartEnv returns nil: the pure-Go build needs no environment at start (the
// OpenBLAS build's StartEnv says what that one needs).
func StartEnv() []string { return nil }

// Advice returns nil: nothing in the environment slows the pure-Go build's products.
func Advice() []string { return nil }

// SetBLASThreads does nothing in the pure-Go build: gonum's Gemm uses GOMAXPROCS.
func SetBLASThreads(int) {}

// transposedFast reports whether the BLAS multiplies a transposed first operand as
// fast as a plain one; gonum's does not.
const transposedFast = false

// sgemm is gonum's Sgemm, which splits large products over GOMAXPROCS goroutines
// itself.
func sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	f32.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
