package kan

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/m4sc/m4sc/nn"
)

// naiveBasis is the textbook recursion B_{j,0} = [t_j <= x < t_{j+1}],
// B_{j,p} = (x-t_j)/(t_{j+p}-t_j) B_{j,p-1} + (t_{j+p+1}-x)/(t_{j+p+1}-t_{j+1}) B_{j+1,p-1},
// the slow mathematics the fast paths are held to. t is unpadded.
func naiveBasis(t []float64, j, p int, x float64) float64 {
	if p == 0 {
		if t[j] <= x && x < t[j+1] {
			return 1
		}
		return 0
	}
	var v float64
	if d := t[j+p] - t[j]; d != 0 {
		v += (x - t[j]) / d * naiveBasis(t, j, p-1, x)
	}
	if d := t[j+p+1] - t[j+1]; d != 0 {
		v += (t[j+p+1] - x) / d * naiveBasis(t, j+1, p-1, x)
	}
	return v
}

// naiveDeriv is dB_{j,p}/dx from the order p-1 bases, de Boor ch. X eq. (12).
func naiveDeriv(t []float64, j, p int, x float64) float64 {
	var d float64
	if den := t[j+p] - t[j]; den != 0 {
		d += naiveBasis(t, j, p-1, x) / den
	}
	if den := t[j+p+1] - t[j+1]; den != 0 {
		d -= naiveBasis(t, j+1, p-1, x) / den
	}
	return float64(p) * d
}

// dense expands eval's k+1 values to all nb bases.
func dense(s *splines, i int, x float64) (val, der []float64) {
	val, der = make([]float64, s.nb), make([]float64, s.nb)
	var v, d basisVals
	j0, ok := s.eval(i, x, &v, &d)
	if !ok {
		return
	}
	for r := 0; r <= s.k; r++ {
		if j := j0 + r; j >= 0 && j < s.nb {
			val[j], der[j] = v[r], d[r]
		}
	}
	return
}

// testPoints are random points over and beyond the grid of feature i, every knot, and
// points a hair either side of the ends.
func testPoints(rng *rand.Rand, t []float64) []float64 {
	lo, hi := t[0], t[len(t)-1]
	w := hi - lo
	var xs []float64
	for range 400 {
		xs = append(xs, lo-0.2*w+1.4*w*rng.Float64())
	}
	xs = append(xs, t...)
	return append(xs, math.Nextafter(lo, math.Inf(-1)), math.Nextafter(hi, math.Inf(-1)), hi+1, lo-1, math.NaN())
}

// Every evaluation path (closed forms, Cox-de Boor on uniform and on random knots) must
// agree with the naive recursion in values and derivatives, for orders 1..MaxOrder.
func TestBasisAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 7))
	for k := 1; k <= MaxOrder; k++ {
		for _, g := range []int{1, 4, 5, 9} {
			uni := uniformSplines(2, g, k, -1, 1)
			// Feature 1: random non-decreasing knots with one repeated knot.
			nonu := newSplines(2, g, k)
			knots := make([]float64, nonu.n)
			for q := range knots {
				knots[q] = 4*rng.Float64() - 2
			}
			slices.Sort(knots)
			if nonu.n > 4 {
				knots[nonu.n/2] = knots[nonu.n/2-1]
			}
			nonu.setUniform(0, -1, 1)
			nonu.setKnots(0, uni.real(0)) // uniform knots through the general path
			nonu.setKnots(1, knots)
			for _, c := range []struct {
				name string
				s    *splines
				i    int
			}{{"closed", uni, 0}, {"coxdeboor-uniform", nonu, 0}, {"coxdeboor-random", nonu, 1}} {
				tk := c.s.real(c.i)
				for _, x := range testPoints(rng, tk) {
					val, der := dense(c.s, c.i, x)
					for j := range c.s.nb {
						wantV, wantD := naiveBasis(tk, j, k, x), naiveDeriv(tk, j, k, x)
						if math.IsNaN(x) {
							wantV, wantD = 0, 0
						}
						if math.Abs(val[j]-wantV) > 1e-12 || math.Abs(der[j]-wantD) > 1e-9*(1+math.Abs(wantD)) {
							t.Fatalf("k=%d G=%d %s: x=%v B_%d = %v, %v; naive %v, %v", k, g, c.name, x, j, val[j], der[j], wantV, wantD)
						}
					}
				}
			}
		}
	}
}

// Inside the range [t_k, t_{G+k}) the bases sum to one (partition of unity) and their
// derivatives to zero.
func TestBasisPartitionOfUnity(t *testing.T) {
	for k := 1; k <= MaxOrder; k++ {
		s := uniformSplines(1, 5, k, -1, 1)
		for q := range 1001 {
			x := -1 + 2*float64(q)/1001
			val, der := dense(s, 0, x)
			var sv, sd float64
			for j := range val {
				sv += val[j]
				sd += der[j]
			}
			if math.Abs(sv-1) > 1e-12 || math.Abs(sd) > 1e-9 {
				t.Fatalf("k=%d x=%v: sum B = %v, sum B' = %v", k, x, sv, sd)
			}
		}
	}
}

// The closed cubic form of the issue, written out, for the record.
func TestCubicClosedForm(t *testing.T) {
	s := uniformSplines(1, 5, 3, -1, 1)
	h := 0.4
	for _, x := range []float64{-0.93, -0.25, 0.1, 0.55, 0.999} {
		u := (x - (-1 - 3*h)) / h
		m := math.Floor(u)
		f := u - m
		want := []float64{math.Pow(1-f, 3) / 6, (3*f*f*f - 6*f*f + 4) / 6, (-3*f*f*f + 3*f*f + 3*f + 1) / 6, f * f * f / 6}
		var val basisVals
		j0, ok := s.eval(0, x, &val, nil)
		if !ok || j0 != int(m)-3 {
			t.Fatalf("x=%v: j0 = %d, ok %v; want %d", x, j0, ok, int(m)-3)
		}
		for r, w := range want {
			if math.Abs(val[r]-w) > 1e-12 {
				t.Errorf("x=%v: B_%d = %v, want %v", x, j0+r, val[r], w)
			}
		}
	}
}

// Forward and the x-gradient against the defining sum evaluated with the naive
// recursion, on a batch large enough for the basis to be computed on several
// goroutines, with an adaptive grid on one feature and a uniform one on the others.
func TestLayerAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 9))
	const rows, in, out = 600, 16, 5
	l := testLayer(t, rng, in, out, Config{})
	knots := slices.Clone(l.Grid.Data)
	n := len(knots) / in
	for q := range n { // feature 3: random knots
		knots[3*n+q] = -2.5 + 5*float64(q)/float64(n-1) + 0.1*rng.Float64()
	}
	if err := l.SetGrid(knots); err != nil {
		t.Fatal(err)
	}
	x := nn.NewParam[float64](nil, rows, in)
	for i := range x.Data {
		x.Data[i] = 5*rng.Float64() - 2.5
	}
	g := nn.NewGraph[float64](nil)
	y := l.Forward(g, x)
	dy := make([]float64, y.Len())
	for i := range dy {
		dy[i] = rng.NormFloat64()
	}
	g.BackwardWith(y, dy)
	nb := l.Coef.Dim(2)
	for r := range rows {
		for o := range out {
			var want float64
			for i := range in {
				v, tk := x.Data[r*in+i], l.Knots(i)
				s := 1 / (1 + math.Exp(-v))
				want += l.Wb.Data[o*in+i] * v * s
				for j := range nb {
					want += l.Ws.Data[o*in+i] * l.Coef.Data[(o*in+i)*nb+j] * naiveBasis(tk, j, 3, v)
				}
			}
			if got := y.Data[r*out+o]; math.Abs(got-want) > 1e-12*(1+math.Abs(want)) {
				t.Fatalf("y[%d,%d] = %v, naive %v", r, o, got, want)
			}
		}
		for i := range in {
			v, tk := x.Data[r*in+i], l.Knots(i)
			s := 1 / (1 + math.Exp(-v))
			var want float64
			for o := range out {
				d := l.Wb.Data[o*in+i] * (s + v*s*(1-s))
				for j := range nb {
					d += l.Ws.Data[o*in+i] * l.Coef.Data[(o*in+i)*nb+j] * naiveDeriv(tk, j, 3, v)
				}
				want += dy[r*out+o] * d
			}
			if got := x.Grad[r*in+i]; math.Abs(got-want) > 1e-10*(1+math.Abs(want)) {
				t.Fatalf("dx[%d,%d] = %v, naive %v", r, i, got, want)
			}
		}
	}
}
