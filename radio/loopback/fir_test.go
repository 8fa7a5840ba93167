package loopback

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// firCorrRef is firCorr in complex128, the naive sum it is defined by.
func firCorrRef(y []complex128, x, g []complex64) {
	for k := range y {
		var s complex128
		for m, h := range g {
			s += complex128(h) * complex128(x[k+m])
		}
		y[k] = s
	}
}

func randComplex64(r *rand.Rand, n int) []complex64 {
	v := make([]complex64, n)
	for i := range v {
		v[i] = complex(float32(r.NormFloat64()), float32(r.NormFloat64()))
	}
	return v
}

var (
	firTestOutputs = []int{0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 63, 64, 65, 100, 150}
	firTestTaps    = []int{1, 2, 3, 12, 20, 24, 33, 110}
)

// testFIR checks fir against the complex128 sum over all sizes, that it writes nothing
// outside y and that it needs no more of x than len(y)+len(g)-1 samples.
func testFIR(t *testing.T, fir func(y, x, g []complex64)) {
	const (
		guard    = 8
		sentinel = complex64(complex(12345, -6789))
		tol      = 1e-5 // relative to the RMS of the reference output
	)
	r := rand.New(rand.NewPCG(7, 11))
	for _, L := range firTestTaps {
		for _, n := range firTestOutputs {
			g := randComplex64(r, L)
			// Exactly the samples needed, at the end of their backing array, so an
			// overread beyond x would have to leave the allocation.
			x := randComplex64(r, n+L-1)
			x = x[:len(x):len(x)]
			buf := make([]complex64, guard+n+guard)
			for i := range buf {
				buf[i] = sentinel
			}
			y := buf[guard : guard+n : guard+n]
			fir(y, x, g)

			want := make([]complex128, n)
			firCorrRef(want, x, g)
			var norm, worst float64
			for _, w := range want {
				norm += real(w)*real(w) + imag(w)*imag(w)
			}
			norm = math.Sqrt(norm / float64(max(n, 1)))
			for k := range want {
				d := complex128(y[k]) - want[k]
				worst = max(worst, math.Hypot(real(d), imag(d)))
			}
			if worst > tol*norm {
				t.Errorf("len(y)=%d len(g)=%d: max error %.3g, want <= %.3g (%g * rms %.3g)", n, L, worst, tol*norm, tol, norm)
			}
			for i := range guard {
				if buf[i] != sentinel || buf[guard+n+i] != sentinel {
					t.Errorf("len(y)=%d len(g)=%d: wrote outside y", n, L)
					break
				}
			}
		}
	}
}

func TestFIRCorr(t *testing.T) { testFIR(t, firCorr) }

func TestFIRCorrGo(t *testing.T) { testFIR(t, firCorrGo) }

func TestFIRCorrAVX2(t *testing.T) {
	if !useAVX2 {
		t.Skip("CPU lacks AVX2 or FMA")
	}
	testFIR(t, firCorrAVX2)
}

func TestFIRCorrAVX512(t *testing.T) {
	if !useAVX512 {
		t.Skip("CPU lacks AVX-512F")
	}
	testFIR(t, firCorrAVX512)
}

// TestFIRCorrShortX checks that the dispatcher refuses an x too short for y and g.
func TestFIRCorrShortX(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("firCorr with len(x) < len(y)+len(g)-1 did not panic")
		}
	}()
	firCorr(make([]complex64, 16), make([]complex64, 16+24-2), make([]complex64, 24))
}

func BenchmarkFIR(b *testing.B) {
	kernels := []struct {
		name string
		fir  func(y, x, g []complex64)
		ok   bool
	}{
		{"go", firCorrGo, true},
		{"avx2", firCorrAVX2, useAVX2},
		{"avx512", firCorrAVX512, useAVX512},
	}
	// len(y) = fadeBlock = 64 is the multipath fader's block; the clock interpolator's
	// (outBlock = 16 outputs, 24 taps) is the last case.
	sizes := []struct{ n, taps int }{{64, 12}, {64, 20}, {64, 24}, {64, 44}, {16, 24}}
	for _, k := range kernels {
		for _, sz := range sizes {
			name := fmt.Sprintf("%s/taps=%d", k.name, sz.taps)
			if sz.n != 64 {
				name += fmt.Sprintf("/n=%d", sz.n)
			}
			b.Run(name, func(b *testing.B) {
				if !k.ok {
					b.Skip("CPU lacks the instructions")
				}
				r := rand.New(rand.NewPCG(1, uint64(sz.taps)))
				g := randComplex64(r, sz.taps)
				x := randComplex64(r, sz.n+sz.taps-1)
				y := make([]complex64, sz.n)
				b.ReportAllocs()
				for b.Loop() {
					k.fir(y, x, g)
				}
				b.ReportMetric(float64(b.N)*float64(sz.n)/b.Elapsed().Seconds()/1e6, "Msps")
			})
		}
	}
}
