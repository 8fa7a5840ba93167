package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The float32 product of whichever BLAS this build uses (gonum by default, OpenBLAS
// under the openblas tag, split over goroutines when large) must match a float64
// product computed one element at a time, within float32 rounding: each of the k
// products and sums rounds with relative error 2^-24, so the error of an entry is
// bounded by about k 2^-24 sum|a||b| (Higham, Accuracy and Stability, eq. 3.5); a
// blocked or split summation does better in practice. The test allows 4 k 2^-24
// times sum|a_il b_lj| and reports the worst ratio of error to that scale.
func TestGemmMatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := []struct{ m, n, k int }{
		{1, 1, 1}, {3, 5, 7}, {64, 64, 64}, // below the split threshold
		{300, 40, 50},   // taller than wide: rows split
		{40, 300, 50},   // wider than tall: columns split
		{257, 129, 131}, // ragged blocks
		{2048, 128, 128},
	}
	worst := 0.0
	for _, s := range shapes {
		for tr := 0; tr < 4; tr++ {
			tA, tB := tr&1 == 1, tr&2 == 2
			// Leading dimensions wider than the matrices, as sub-matrices have.
			ar, ac := s.m, s.k
			if tA {
				ar, ac = s.k, s.m
			}
			br, bc := s.k, s.n
			if tB {
				br, bc = s.n, s.k
			}
			lda, ldb, ldc := ac+3, bc+1, s.n+2
			a := randSlice(rng, ar*lda)
			b := randSlice(rng, br*ldb)
			c := randSlice(rng, s.m*ldc)
			c0 := append([]float32(nil), c...)
			const alpha, beta = 0.75, 0.5
			gemm(tA, tB, s.m, s.n, s.k, alpha, a, lda, b, ldb, beta, c, ldc)
			at := func(i, l int) float64 {
				if tA {
					return float64(a[l*lda+i])
				}
				return float64(a[i*lda+l])
			}
			bt := func(l, j int) float64 {
				if tB {
					return float64(b[j*ldb+l])
				}
				return float64(b[l*ldb+j])
			}
			for i := 0; i < s.m; i++ {
				for j := 0; j < ldc; j++ {
					if j >= s.n {
						if c[i*ldc+j] != c0[i*ldc+j] {
							t.Fatalf("%v tA=%v tB=%v: wrote outside C at (%d, %d)", s, tA, tB, i, j)
						}
						continue
					}
					var want, scale float64
					for l := 0; l < s.k; l++ {
						want += at(i, l) * bt(l, j)
						scale += math.Abs(at(i, l) * bt(l, j))
					}
					want = alpha*want + beta*float64(c0[i*ldc+j])
					scale = alpha*scale + math.Abs(beta*float64(c0[i*ldc+j]))
					tol := 4 * float64(s.k+1) * 0x1p-24 * scale
					err := math.Abs(float64(c[i*ldc+j]) - want)
					if err > tol {
						t.Fatalf("%v tA=%v tB=%v: C[%d,%d] = %g, want %g (error %.3g > %.3g)", s, tA, tB, i, j, c[i*ldc+j], want, err, tol)
					}
					if scale > 0 {
						worst = max(worst, err/(float64(s.k+1)*0x1p-24*scale))
					}
				}
			}
		}
	}
	t.Logf("%s: worst error %.3f k 2^-24 sum|ab| (bound 4)", UsingBLAS().Name, worst)
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// BenchmarkGemm multiplies at the shapes of m4sc's model (M x N x K: 2048 rows of a
// batch, width 128, MLP 512, the 4096-token output projection) and of the issue that
// introduced the OpenBLAS build, with the BLAS this build uses (run it with and
// without -tags openblas to compare; bench/blas.sh does both).
func BenchmarkGemm(b *testing.B) {
	shapes := []struct{ m, n, k int }{
		{2048, 384, 128},  // query, key and value projections
		{2048, 512, 128},  // MLP up
		{2048, 128, 512},  // MLP down
		{2048, 4096, 128}, // output projection over the vocabulary
		{128, 512, 2048},  // a weight gradient: X^T dY over the batch
	}
	for _, s := range shapes {
		b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			a, bb, c := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), make([]float32, s.m*s.n)
			b.ReportAllocs()
			for b.Loop() {
				gemm(false, false, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n)
			}
			b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// Products running at once on several goroutines (the split of one large product, and
// parallel sections that each multiply) must not disturb each other: a BLAS that
// keeps shared scratch without locks gives wrong results here (Debian's
// single-threaded OpenBLAS did).
func TestGemmConcurrent(t *testing.T) {
	type job struct {
		tA, tB  bool
		m, n, k int
		a, b    []float32
		want    []float32
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var jobs []job
	for range 12 {
		j := job{tA: rng.IntN(2) == 1, tB: rng.IntN(2) == 1, m: 1 + rng.IntN(400), n: 1 + rng.IntN(400), k: 1 + rng.IntN(400)}
		j.a, j.b = randSlice(rng, j.m*j.k), randSlice(rng, j.k*j.n)
		j.want = make([]float32, j.m*j.n)
		jobs = append(jobs, j)
	}
	ld := func(j job) (lda, ldb int) {
		lda, ldb = j.k, j.n
		if j.tA {
			lda = j.m
		}
		if j.tB {
			ldb = j.k
		}
		return lda, ldb
	}
	for _, j := range jobs {
		lda, ldb := ld(j)
		gemm(j.tA, j.tB, j.m, j.n, j.k, 1, j.a, lda, j.b, ldb, 0, j.want, j.n)
	}
	const workers = 4
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for rep := range 30 {
				j := jobs[(w*7+rep)%len(jobs)]
				lda, ldb := ld(j)
				c := make([]float32, j.m*j.n)
				gemm(j.tA, j.tB, j.m, j.n, j.k, 1, j.a, lda, j.b, ldb, 0, c, j.n)
				for i := range c {
					if c[i] != j.want[i] {
						errs <- fmt.Errorf("worker %d, repetition %d (%dx%dx%d, tA %v, tB %v): element %d is %g, alone %g", w, rep, j.m, j.n, j.k, j.tA, j.tB, i, c[i], j.want[i])
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
