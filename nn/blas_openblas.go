//go:build openblas

package nn

// #cgo LDFLAGS: -lopenblas
// int openblas_get_num_threads(void);
// char* openblas_get_config(void);
// void openblas_set_num_threads(int);
import "C"

import (
	"fmt"
	"strings"

	"gonum.org/v1/netlib/blas/netlib"
)

// Under the openblas tag every float32 matrix product goes to OpenBLAS through
// gonum's netlib wrapper (cblas_sgemm); float64 products (gradient checks only) stay
// with gonum. The library must be installed: Debian's libopenblas-dev.
func init() {
	f32 = netlib.Implementation{}
}

// SetBLASThreads sets the number of threads OpenBLAS splits a product over.
func SetBLASThreads(n int) {
	if n < 1 {
		n = 1
	}
	C.openblas_set_num_threads(C.int(n))
}

// UsingBLAS reports which BLAS this build multiplies matrices with.
func UsingBLAS() BLASInfo {
	cfg := strings.TrimSpace(C.GoString(C.openblas_get_config()))
	n := int(C.openblas_get_num_threads())
	return BLASInfo{Name: "openblas", Detail: fmt.Sprintf("%s, %d threads", cfg, n), Threads: n}
}
