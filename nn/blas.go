package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"
)

// BLASInfo describes the BLAS behind every float32 matrix product of this package.
type BLASInfo struct {
	// Name is "gonum" (pure Go, the default build) or "openblas" (build tag openblas).
	Name string
	// Detail is the library's own description: its version and kernel for OpenBLAS.
	Detail string
	// Threads is the number of threads the library runs a large product on; gonum's
	// Gemm splits a product over GOMAXPROCS goroutines.
	Threads int
}

// String is "openblas (OpenBLAS 0.3.21 ... , 2 threads)" or "gonum (pure Go, ...)".
func (b BLASInfo) String() string {
	return b.Name + " (" + b.Detail + ")"
}

// f32 is the level-3 float32 BLAS that gemm calls: gonum's, or OpenBLAS under the
// openblas build tag (blas_openblas.go, which replaces it at package initialisation).
// Level-1 vector operations stay with gonum's assembly kernels in every build: a cgo
// call costs more than adding a row of a few hundred numbers.
var f32 blas.Float32Level3 = blas32.Implementation()

// vec32 is the level-1 float32 BLAS of shapeAcc.
var vec32 blas.Float32Level1 = gonum.Implementation{}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major float32 matrices with
// the BLAS this build uses (see UsingBLAS), for code outside the graph such as
// incremental decoding.
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
