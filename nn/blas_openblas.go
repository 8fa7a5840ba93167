//go:build openblas

package nn

// #cgo linux,amd64 LDFLAGS: -L/usr/lib/x86_64-linux-gnu/openblas-pthread -Wl,-rpath,/usr/lib/x86_64-linux-gnu/openblas-pthread
// #cgo linux,arm64 LDFLAGS: -L/usr/lib/aarch64-linux-gnu/openblas-pthread -Wl,-rpath,/usr/lib/aarch64-linux-gnu/openblas-pthread
// #cgo LDFLAGS: -lopenblas
// int openblas_get_num_threads(void);
// char* openblas_get_config(void);
// void openblas_set_num_threads(int);
import "C"

import (
	"fmt"
	"runtime"
	"strings"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"
)

// Under the openblas tag every float32 matrix product goes to OpenBLAS through
// gonum's netlib wrapper (cblas_sgemm); float64 products (gradient checks only) stay
// with gonum. The library is Debian's single-threaded build (libopenblas-pthread-dev,
// linked by its multiarch path with an rpath); elsewhere the linker's -lopenblas,
// asked to run one thread.
//
// Threads: OpenBLAS runs each call on the calling thread alone, and this package
// splits each large product into row (or column) blocks over its own pool of
// goroutines, the same pool that runs the elementwise loops, attention and the
// optimiser, so one pool owns the cores. Left to thread itself, OpenBLAS's idle
// threads spin (sched_yield) after each product and take the cores from the Go loops
// that follow: 38% of a training step's CPU time on the real model, measured. Asked
// for one thread after start, its threads still spin for about 10%; starting the
// process with OPENBLAS_NUM_THREADS=1 in the environment (before the library
// initialises) avoids even that, and `m4sc train` suggests it.
func init() {
	f32 = netlib.Implementation{}
	C.openblas_set_num_threads(1)
}

// transposedFast: OpenBLAS packs both operands, so op(A) = A^T costs nothing extra.
const transposedFast = true

// splitWork is the size m*n*k above which a product is split over goroutines: below
// it, one core finishes in about the time a hand-over takes.
const splitWork = 1 << 18

// sgemm runs cblas_sgemm, split into contiguous blocks of C's rows (or of its columns
// when C is wider than tall) over GOMAXPROCS goroutines when the product is large.
func sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	w := runtime.GOMAXPROCS(0)
	if w <= 1 || m*n*k < splitWork || k == 0 {
		f32.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	const align = 16
	if m >= n {
		blocks := (m + align - 1) / align
		parallelFor(w, blocks, 2*align*n*k, func(lo, hi int) {
			r0, r1 := lo*align, min(hi*align, m)
			var ar []float32
			if tA == blas.Trans {
				ar = a[r0:] // columns r0.. of A
			} else {
				ar = a[r0*lda:] // rows r0.. of A
			}
			f32.Sgemm(tA, tB, r1-r0, n, k, alpha, ar, lda, b, ldb, beta, c[r0*ldc:], ldc)
		})
		return
	}
	blocks := (n + align - 1) / align
	parallelFor(w, blocks, 2*align*m*k, func(lo, hi int) {
		c0, c1 := lo*align, min(hi*align, n)
		var bc []float32
		if tB == blas.Trans {
			bc = b[c0*ldb:] // rows c0.. of B
		} else {
			bc = b[c0:] // columns c0.. of B
		}
		f32.Sgemm(tA, tB, m, c1-c0, k, alpha, a, lda, bc, ldb, beta, c[c0:], ldc)
	})
}

// SetBLASThreads sets the number of threads OpenBLAS splits one product over. This
// package keeps it at one and splits products itself (see above); the setting is for
// measuring the alternative.
func SetBLASThreads(n int) {
	C.openblas_set_num_threads(C.int(max(1, n)))
}

// UsingBLAS reports which BLAS this build multiplies matrices with.
func UsingBLAS() BLASInfo {
	cfg := strings.TrimSpace(C.GoString(C.openblas_get_config()))
	n := runtime.GOMAXPROCS(0)
	return BLASInfo{Name: "openblas", Detail: fmt.Sprintf("%s; one OpenBLAS thread per block, products split over %d goroutines", cfg, n), Threads: n}
}
