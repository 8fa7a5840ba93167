//go:build openblas

package nn

// #cgo linux,amd64 LDFLAGS: -L/usr/lib/x86_64-linux-gnu/openblas-pthread -Wl,-rpath,/usr/lib/x86_64-linux-gnu/openblas-pthread
// #cgo linux,arm64 LDFLAGS: -L/usr/lib/aarch64-linux-gnu/openblas-pthread -Wl,-rpath,/usr/lib/aarch64-linux-gnu/openblas-pthread
// #cgo LDFLAGS: -lopenblas
// int openblas_get_num_threads(void);
// char* openblas_get_config(void);
// char* openblas_get_corename(void);
// void openblas_set_num_threads(int);
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/cpu"

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
// initialises) avoids even that: see StartEnv.
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

// StartEnv returns the environment settings (KEY=VALUE) that OpenBLAS should find
// when the process starts, given the current environment; nil when there are none.
// Today that is OPENBLAS_NUM_THREADS=1 when the variable is unset: OpenBLAS reads it
// once, as the library loads and before any Go code runs, and the threads it starts
// without it spin after each product (see above). A program applies the settings by
// starting itself again with them, as the m4sc command does. A variable the user has
// set, to any value, is left alone.
func StartEnv() []string {
	if _, ok := os.LookupEnv("OPENBLAS_NUM_THREADS"); !ok {
		return []string{"OPENBLAS_NUM_THREADS=1"}
	}
	return nil
}

// Advice returns what the environment costs this process's products, one sentence
// each, or nil. OPENBLAS_NUM_THREADS other than 1 lets the threads OpenBLAS started
// spin (see StartEnv). OpenBLAS sizes its kernels and blocks from the processor unless
// two variables say otherwise, and both can only slow it down on the machine at hand:
//   - OPENBLAS_CORETYPE holding it to kernels without AVX-512 on a processor that has
//     it (F, BW, VL and DQ, what the library's SkylakeX kernels use). On a Zen 5 core
//     the library's own choice (Cooperlake) takes a training step of the real model
//     from about 235 to 200 ms against Haswell's kernels.
//   - OPENBLAS_L2_SIZE (KiB) below the level-2 cache Linux reports: blocks cut for
//     half of a 1 MiB cache cost a further 5-8% a step there.
func Advice() []string {
	var a []string
	if os.Getenv("OPENBLAS_NUM_THREADS") != "1" {
		a = append(a, "start m4sc with OPENBLAS_NUM_THREADS=1 in the environment: OpenBLAS's idle threads spin otherwise (about a tenth of the CPU)")
	}
	avx512CPU := cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512DQ
	if ct, ok := os.LookupEnv("OPENBLAS_CORETYPE"); ok && avx512CPU {
		core := strings.TrimSpace(C.GoString(C.openblas_get_corename()))
		if !slices.Contains([]string{"skylakex", "cooperlake", "sapphirerapids"}, strings.ToLower(core)) {
			a = append(a, fmt.Sprintf("OPENBLAS_CORETYPE=%s in the environment holds OpenBLAS to its %s kernels on a processor with AVX-512; unset it to let OpenBLAS choose (faster products)", ct, core))
		}
	}
	if v, ok := os.LookupEnv("OPENBLAS_L2_SIZE"); ok {
		if set, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			if have := l2KiB(); have > set {
				a = append(a, fmt.Sprintf("OPENBLAS_L2_SIZE=%s in the environment tells OpenBLAS of a %d KiB level-2 cache where this processor has %d KiB; unset it (faster products)", v, set, have))
			}
		}
	}
	return a
}

// l2KiB returns the size of the first processor's level-2 cache in KiB as Linux
// reports it under /sys, or 0 when it cannot tell.
func l2KiB() int {
	for i := 0; i < 8; i++ {
		dir := fmt.Sprintf("/sys/devices/system/cpu/cpu0/cache/index%d/", i)
		lv, err := os.ReadFile(dir + "level")
		if err != nil {
			return 0
		}
		if strings.TrimSpace(string(lv)) != "2" {
			continue
		}
		sz, err := os.ReadFile(dir + "size")
		if err != nil {
			return 0
		}
		t := strings.TrimSpace(string(sz))
		mul := 1
		switch {
		case strings.HasSuffix(t, "K"):
			t = t[:len(t)-1]
		case strings.HasSuffix(t, "M"):
			t, mul = t[:len(t)-1], 1024
		}
		n, err := strconv.Atoi(t)
		if err != nil {
			return 0
		}
		return n * mul
	}
	return 0
}
