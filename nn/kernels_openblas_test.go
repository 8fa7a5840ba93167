//go:build openblas

package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ulps is how many float32 steps apart a and b are (0 for two NaNs; a large number
// when one is NaN and the other is not).
func ulps(a, b float32) int64 {
	if math.IsNaN(float64(a)) || math.IsNaN(float64(b)) {
		if math.IsNaN(float64(a)) && math.IsNaN(float64(b)) {
			return 0
		}
		return math.MaxInt64
	}
	key := func(f float32) int64 {
		u := int64(math.Float32bits(f))
		if u&(1<<31) != 0 {
			return -(u &^ (1 << 31))
		}
		return u
	}
	d := key(a) - key(b)
	if d < 0 {
		d = -d
	}
	return d
}

// The C GELU (geluTail's formula in every lane) against the pure-Go build's
// geluRow32 (the table), over a fine grid, random values, the table's edges and
// non-finite inputs, in rows, with and without a bias and a derivative: GELU at most
// one float32 step apart, its derivative at most 2^-23, NaN exactly where the Go loop
// gives NaN.
func TestGELUKernel(t *testing.T) {
	var z []float32
	for i := -12000; i <= 12000; i++ {
		z = append(z, float32(i)/1000)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 30000 {
		z = append(z, float32(r.NormFloat64()*3))
	}
	z = append(z, 4, -4, math.Nextafter32(4, 0), math.Nextafter32(-4, 0), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e30, -1e30, 0, float32(math.Copysign(0, -1)))
	const n = 97
	rows := len(z) / n
	z = z[:rows*n]
	bias := make([]float32, n)
	for j := range bias {
		bias[j] = float32(j%7-3) / 8
	}
	yGo, dGo := make([]float32, len(z)), make([]float32, len(z))
	yC, dC := make([]float32, len(z)), make([]float32, len(z))
	var worst int64
	var differ int
	var worstD float64
	for _, b := range [][]float32{nil, bias} {
		for r := range rows {
			geluRow32(yGo[r*n:r*n+n], dGo[r*n:r*n+n], z[r*n:r*n+n], b)
		}
		for _, withD := range []bool{true, false} {
			clear(yC)
			clear(dC)
			var d []float32
			if withD {
				d = dC
			}
			geluRowsC(yC, d, z, b, rows, n)
			for i := range z {
				u := ulps(yC[i], yGo[i])
				if u > 1 {
					t.Fatalf("GELU(%v + bias %v): C %v, Go %v (%d float32 steps)", z[i], b != nil, yC[i], yGo[i], u)
				}
				if u > 0 {
					differ++
				}
				worst = max(worst, u)
				if !withD {
					if dC[i] != 0 {
						t.Fatalf("derivative written at %d without a buffer", i)
					}
					continue
				}
				// Phi(x) + x phi(x) cancels near x = -0.75, where it crosses zero, so the
				// derivative is held to an absolute bound: a float32 step at 1.
				dd := math.Abs(float64(dC[i]) - float64(dGo[i]))
				if math.IsNaN(float64(dC[i])) != math.IsNaN(float64(dGo[i])) || dd > 0x1p-23 {
					t.Fatalf("GELU'(%v + bias %v): C %v, Go %v", z[i], b != nil, dC[i], dGo[i])
				}
				worstD = max(worstD, dd)
			}
		}
	}
	t.Logf("GELU: %d of %d values one float32 step from the Go loop's, the rest equal; derivative at most %.2g apart", differ, 4*len(z), worstD)
}

// AdamW's C update gives the Go loop's bits, for lengths around the 8-lane blocks,
// with and without weight decay.
func TestAdamKernel(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 7, 8, 9, 1003} {
		for _, shrink := range []float32{1, 0.9999} {
			theta, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range n {
				theta[i], g[i] = float32(r.NormFloat64()), float32(r.NormFloat64()*1e-2)
				m[i], v[i] = float32(r.NormFloat64()*1e-3), float32(r.Float64()*1e-4)
			}
			k := adamConsts[float32]{b1: 0.9, c1: 0.1, b2: 0.999, c2: 1 - 0.999, step: 3e-4, eps: 1e-8, shrink: shrink}
			th2, m2, v2 := append([]float32(nil), theta...), append([]float32(nil), m...), append([]float32(nil), v...)
			adamUpdate(theta, g, m, v, &k)
			adamLoop(th2, g, m2, v2, &k)
			for i := range n {
				if math.Float32bits(theta[i]) != math.Float32bits(th2[i]) || m[i] != m2[i] || v[i] != v2[i] {
					t.Fatalf("n %d, element %d: C %v %v %v, Go %v %v %v", n, i, theta[i], m[i], v[i], th2[i], m2[i], v2[i])
				}
			}
		}
	}
}

// LayerNorm's C rows against the Go loops, forward and backward (fresh and
// accumulating), for row lengths around the 8-lane blocks and rows far from zero
// mean: the means and reciprocal deviations at most a float32 step apart (the
// float64 sums are added in another order), outputs and gradients within a few
// steps of their scale.
func TestLayerNormKernel(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 7, 8, 97, 256} {
		const rows = 5
		x, dy := make([]float32, rows*n), make([]float32, rows*n)
		for i := range x {
			x[i] = float32(r.NormFloat64()*3 + 10*float64(i/n))
			dy[i] = float32(r.NormFloat64())
		}
		gd, bd := make([]float32, n), make([]float32, n)
		for j := range gd {
			gd[j], bd[j] = float32(1+r.NormFloat64()/4), float32(r.NormFloat64()/4)
		}
		yC, yGo := make([]float32, rows*n), make([]float32, rows*n)
		mC, rC, mGo, rGo := make([]float32, rows), make([]float32, rows), make([]float32, rows), make([]float32, rows)
		if !layerNormC(yC, x, gd, bd, mC, rC, n, 0, rows, DefaultNormEps) {
			t.Skip("no AVX2 here: the Go loops run")
		}
		layerNormRowsGo(yGo, x, gd, bd, mGo, rGo, n, 0, rows, DefaultNormEps)
		for i := range rows {
			if ulps(mC[i], mGo[i]) > 1 || ulps(rC[i], rGo[i]) > 1 {
				t.Fatalf("n %d row %d: mean, rstd C %v %v, Go %v %v", n, i, mC[i], rC[i], mGo[i], rGo[i])
			}
		}
		// From here on both use the Go loop's statistics, so differences are the
		// arithmetic's alone.
		layerNormC(yC, x, gd, bd, nil, nil, n, 0, rows, DefaultNormEps)
		close := func(what string, a, b []float32, tol float64) {
			t.Helper()
			for i := range a {
				if math.Abs(float64(a[i])-float64(b[i])) > tol {
					t.Fatalf("n %d: %s[%d] C %v, Go %v", n, what, i, a[i], b[i])
				}
			}
		}
		close("y", yC, yGo, 4e-6)
		for _, fresh := range []bool{true, false} {
			dxC, dxGo := make([]float32, rows*n), make([]float32, rows*n)
			for i := range dxC {
				dxC[i] = float32(i % 3)
				dxGo[i] = dxC[i]
			}
			dgC, dbC, dgGo, dbGo := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			layerNormBackC(dxC, fresh, x, dy, gd, dgC, dbC, mGo, rGo, n, 0, rows)
			layerNormBackRowsGo(dxGo, fresh, x, dy, gd, dgGo, dbGo, mGo, rGo, n, 0, rows)
			close("dx", dxC, dxGo, 4e-6)
			close("dgain", dgC, dgGo, 0)
			close("dbias", dbC, dbGo, 0)
		}
	}
}

// TestBiasBackKernel: the C pass of a dense layer's backward rule gives the Go loop's
// bits, for dz *= dy with and without the bias sum, the sum alone, and column bands
// that are not multiples of the vector width.
func TestBiasBackKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const m, n = 37, 77
	fill := func() []float32 {
		s := make([]float32, m*n)
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return s
	}
	dy0, dz0 := fill(), fill()
	for _, mode := range []string{"mul+sum", "mul", "sum"} {
		for _, band := range [][2]int{{0, n}, {0, 13}, {13, 40}, {40, n}, {5, 6}} {
			lo, hi := band[0], band[1]
			dzGo, dzC := append([]float32(nil), dz0...), append([]float32(nil), dz0...)
			var dbGo, dbC, dy []float32
			if mode != "mul" {
				dbGo, dbC = make([]float32, n), make([]float32, n)
				for j := range dbGo {
					dbGo[j] = float32(j) / 7
					dbC[j] = dbGo[j]
				}
			}
			if mode != "sum" {
				dy = dy0
			}
			for r := 0; r < m; r++ {
				for j := lo; j < hi; j++ {
					if dy != nil {
						dzGo[r*n+j] *= dy[r*n+j]
					}
					if dbGo != nil {
						dbGo[j] += dzGo[r*n+j]
					}
				}
			}
			biasBackC(dzC, dy, dbC, m, n, lo, hi)
			for i := range dzGo {
				if math.Float32bits(dzGo[i]) != math.Float32bits(dzC[i]) {
					t.Fatalf("%s, columns [%d, %d): dz[%d] = %v in C, %v in Go", mode, lo, hi, i, dzC[i], dzGo[i])
				}
			}
			for j := range dbGo {
				if math.Float32bits(dbGo[j]) != math.Float32bits(dbC[j]) {
					t.Fatalf("%s, columns [%d, %d): db[%d] = %v in C, %v in Go", mode, lo, hi, j, dbC[j], dbGo[j])
				}
			}
		}
	}
}
