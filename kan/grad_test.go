package kan

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/m4sc/m4sc/nn"
)

// gradTol is issue 3's bound on the relative error of a backward rule against float64
// finite differences.
const gradTol = 1e-6

// testLayer makes a float64 layer whose coefficients and scales are O(1) (the default
// initial noise would leave the spline path too faint to test against the SiLU path).
func testLayer(t testing.TB, rng *rand.Rand, in, out int, cfg Config) *Layer[float64] {
	t.Helper()
	l, err := New[float64]("kan/test/layer0", in, out, cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	for i := range l.Coef.Data {
		l.Coef.Data[i] = 2*rng.Float64() - 1
	}
	for i := range l.Ws.Data {
		l.Ws.Data[i] = (0.5 + rng.Float64()) * float64(1-2*rng.IntN(2))
	}
	return l
}

// randInput makes x, [shape], uniform in [lo, hi) and at least 1e-4 from every knot of
// its feature, so a central difference with nn.GradCheck's step 1e-6 never straddles one.
func randInput(rng *rand.Rand, l *Layer[float64], lo, hi float64, shape ...int) *nn.Tensor[float64] {
	x := nn.NewParam[float64](nil, shape...)
	for e := range x.Data {
	draw:
		v := lo + (hi-lo)*rng.Float64()
		for _, k := range l.splines().real(e % l.in) {
			if math.Abs(v-k) < 1e-4 {
				goto draw
			}
		}
		x.Data[e] = v
	}
	return x
}

// layerInputs lists x and the layer's parameters for nn.GradCheck.
func layerInputs(x *nn.Tensor[float64], l *Layer[float64]) []*nn.Tensor[float64] {
	ins := []*nn.Tensor[float64]{x}
	for _, p := range l.Params() {
		if p.Tensor.RequiresGrad() {
			ins = append(ins, p.Tensor)
		}
	}
	return ins
}

func checkGrad(t *testing.T, f func(g *nn.Graph[float64]) *nn.Tensor[float64], inputs ...*nn.Tensor[float64]) {
	t.Helper()
	worst, which := nn.GradCheck(f, inputs...)
	t.Logf("worst relative error %.2e (input %d of %d)", worst, which, len(inputs))
	if worst > gradTol || math.IsNaN(worst) {
		t.Errorf("relative gradient error %.3g on input %d, want below %g", worst, which, gradTol)
	}
}

// Central differences (nn.GradCheck, step 1e-6) against the backward rules, with
// respect to x, c, ws and wb, away from knots.
func TestGradLayer(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	for _, c := range []struct {
		name   string
		cfg    Config
		lo, hi float64 // input range; the default grid extends to +-2.2 (k=3, G=5)
		shape  []int
	}{
		{"k1", Config{Order: 1}, -2, 2, []int{6, 4}},
		{"k2", Config{Order: 2}, -2, 2, []int{6, 4}},
		{"k3", Config{}, -2, 2, []int{6, 4}},
		{"k5 cox-de-boor", Config{Order: 5, GridSize: 3}, -2.5, 2.5, []int{6, 4}},
		{"k3 G1", Config{GridSize: 1}, -3, 3, []int{6, 4}},
		{"outside grid", Config{}, -6, 6, []int{8, 4}},
		{"batch tokens features", Config{}, -1.5, 1.5, []int{2, 3, 4}},
		{"odd shape", Config{GridSize: 7, Min: -0.5, Max: 2}, -1, 3, []int{1, 5, 1, 3}},
		{"tanh norm", Config{Norm: NormTanh}, -3, 3, []int{5, 4}},
		{"no base", Config{Base: BaseNone}, -2, 2, []int{5, 4}},
		{"layer norm", Config{Norm: NormLayer, Min: -2, Max: 2}, -3, 3, []int{2, 3, 5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := testLayer(t, rng, c.shape[len(c.shape)-1], 3, c.cfg)
			x := randInput(rng, l, c.lo, c.hi, c.shape...)
			checkGrad(t, func(g *nn.Graph[float64]) *nn.Tensor[float64] { return l.Forward(g, x) }, layerInputs(x, l)...)
		})
	}
}

// Knots of G=4 on [-1, 1] are multiples of 0.5, exact in binary, so inputs sit exactly
// on them. Cubic B-splines are C^2 across knots, so the central difference's error stays
// O(step^2) times the jump of the third derivative and nn.GradCheck is valid there; quadratic and linear ones are
// only C^1 and C^0 (a central difference at a linear spline's knot averages the two
// one-sided slopes), so for every order the x-gradient is also checked one-sided below.
func TestGradOnKnots(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 2))
	knotInput := func(l *Layer[float64], rows int) *nn.Tensor[float64] {
		x := nn.NewParam[float64](nil, rows, l.in)
		for e := range x.Data {
			ks := l.splines().real(e % l.in)
			x.Data[e] = ks[rng.IntN(len(ks))]
		}
		// Every knot of feature 0 at least once, ends of the extended grid included.
		for r, v := range l.splines().real(0) {
			x.Data[(r%rows)*l.in] = v
		}
		return x
	}
	for k := 1; k <= 3; k++ {
		l := testLayer(t, rng, 3, 2, Config{GridSize: 4, Order: k})
		x := knotInput(l, 11)
		f := func(g *nn.Graph[float64]) *nn.Tensor[float64] { return l.Forward(g, x) }
		if k == 3 {
			t.Run("k3 central", func(t *testing.T) { checkGrad(t, f, layerInputs(x, l)...) })
		}
		if k == 1 {
			// The inputs really sit on kinks: a central difference averages the two slopes
			// there and disagrees with the right derivative.
			worst, _ := nn.GradCheck(f, x)
			t.Logf("k=1 on knots, central differences: relative error %.2e (expected large)", worst)
			if worst < 1e-3 {
				t.Errorf("k=1 on knots: central differences agree to %.3g; are the inputs on knots?", worst)
			}
		}
		// Parameters enter linearly (c) or smoothly: central differences hold for any k.
		t.Run("params central k"+string(rune('0'+k)), func(t *testing.T) { checkGrad(t, f, l.Coef, l.Ws, l.Wb) })
		t.Run("x one-sided k"+string(rune('0'+k)), func(t *testing.T) {
			worst := oneSidedCheck(f, x, 1e-4)
			t.Logf("worst relative error %.2e", worst)
			if worst > gradTol {
				t.Errorf("relative error %.3g of the right derivative, want below %g", worst, gradTol)
			}
		})
	}
}

// oneSidedCheck compares the analytic gradient of sum(proj*f) with respect to x with the
// second-order forward difference (-3L(x) + 4L(x+h) - L(x+2h))/(2h), which is exact for
// quadratics and O(h^2) for cubics on [x, x+2h]: the right derivative, which is what the
// half-open intervals of eval give at a knot. h must keep [x, x+2h] inside one interval.
func oneSidedCheck(f func(g *nn.Graph[float64]) *nn.Tensor[float64], x *nn.Tensor[float64], h float64) float64 {
	rng := rand.New(rand.NewPCG(9, 9))
	g := nn.NewGraph[float64](nil)
	out := f(g)
	proj := make([]float64, out.Len())
	for i := range proj {
		proj[i] = 2*rng.Float64() - 1
	}
	x.ZeroGrad()
	g.BackwardWith(out, proj)
	loss := func() float64 {
		o := f(nn.NewGraph[float64](nil))
		var s float64
		for i, v := range o.Data {
			s += v * proj[i]
		}
		return s
	}
	var diff2, ref2 float64
	for j := range x.Data {
		old := x.Data[j]
		l0 := loss()
		x.Data[j] = old + h
		l1 := loss()
		x.Data[j] = old + 2*h
		l2 := loss()
		x.Data[j] = old
		num := (-3*l0 + 4*l1 - l2) / (2 * h)
		diff2 += (x.Grad[j] - num) * (x.Grad[j] - num)
		ref2 += num * num
	}
	return math.Sqrt(diff2 / ref2)
}

// Off the extended grid the spline contributes nothing and passes no gradient; only the
// SiLU path does.
func TestOffGridZeroSplineGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, base := range []Base{BaseNone, BaseSiLU} {
		l := testLayer(t, rng, 2, 3, Config{Base: base})
		x := nn.NewParam([]float64{-2.2000001, 2.3, 5, -40, 1e9, math.Inf(1)}, 3, 2)
		g := nn.NewGraph[float64](nil)
		y := l.Forward(g, x)
		dy := []float64{1, -2, 0.5, 0.25, 3, -1, 1, 1, 1}
		g.BackwardWith(y, dy)
		for e, v := range x.Data {
			var wantDx float64
			if base == BaseSiLU && !math.IsInf(v, 0) {
				s := 1 / (1 + math.Exp(-v))
				r, i := e/2, e%2
				for o := range 3 {
					wantDx += dy[r*3+o] * l.Wb.Data[o*2+i] * (s + v*s*(1-s))
				}
			}
			if base == BaseNone && x.Grad[e] != wantDx {
				t.Errorf("base %v: x=%v: dx = %v, want exactly 0", base, v, x.Grad[e])
			}
			if base == BaseSiLU && !math.IsInf(v, 0) && math.Abs(x.Grad[e]-wantDx) > 1e-12*(1+math.Abs(wantDx)) {
				t.Errorf("base %v: x=%v: dx = %v, want SiLU path only %v", base, v, x.Grad[e], wantDx)
			}
		}
		if base == BaseNone {
			for _, v := range y.Data {
				if v != 0 {
					t.Errorf("off-grid output %v, want 0", y.Data)
					break
				}
			}
		}
	}
}

// The same layer applied twice, in sequence and on a residual path, and a two-layer
// network: gradients from every use add up.
func TestGradTiedAndNetwork(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	l := testLayer(t, rng, 3, 3, Config{})
	x := randInput(rng, l, -1.2, 1.2, 4, 3)
	t.Run("tied", func(t *testing.T) {
		checkGrad(t, func(g *nn.Graph[float64]) *nn.Tensor[float64] {
			h := l.Forward(g, x)
			return g.Add(l.Forward(g, g.Tanh(h)), h)
		}, layerInputs(x, l)...)
	})
	t.Run("network", func(t *testing.T) {
		n, err := NewNetwork[float64]("kan/test", []int{2, 3, 1}, Config{Norm: NormTanh}, rng)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range n.Params() {
			if p.Tensor.RequiresGrad() {
				for i := range p.Tensor.Data {
					p.Tensor.Data[i] = 2*rng.Float64() - 1
				}
			}
		}
		x := randInput(rng, n.Layers[0], -2, 2, 5, 2)
		ins := []*nn.Tensor[float64]{x}
		for _, p := range n.Params() {
			if p.Tensor.RequiresGrad() {
				ins = append(ins, p.Tensor)
			}
		}
		checkGrad(t, func(g *nn.Graph[float64]) *nn.Tensor[float64] { return n.Forward(g, x) }, ins...)
	})
	t.Run("adaptive grid", func(t *testing.T) {
		// After UpdateGrid the knots are non-uniform: the Cox-de Boor path.
		l := testLayer(t, rng, 3, 2, Config{})
		data := nn.NewTensor[float64](nil, 200, 3)
		for i := range data.Data {
			data.Data[i] = rng.NormFloat64() * 0.6
		}
		if err := l.UpdateGrid(data); err != nil {
			t.Fatal(err)
		}
		if l.splines().uniform[0] {
			t.Fatal("grid still uniform after UpdateGrid with GridEps 0.02")
		}
		x := randInput(rng, l, -2, 2, 6, 3)
		checkGrad(t, func(g *nn.Graph[float64]) *nn.Tensor[float64] { return l.Forward(g, x) }, layerInputs(x, l)...)
	})
	t.Run("regularization", func(t *testing.T) {
		checkGrad(t, func(g *nn.Graph[float64]) *nn.Tensor[float64] { return l.Regularization(g, 0.7, 0.3) }, l.Coef, l.Ws)
		// As used in a loss: added to a scalar that depends on the same parameters.
		checkGrad(t, func(g *nn.Graph[float64]) *nn.Tensor[float64] {
			return g.Add(g.Mean(l.Forward(g, x)), l.Regularization(g, 0.7, 0.3))
		}, layerInputs(x, l)...)
		n := &Network[float64]{Layers: []*Layer[float64]{l, l}}
		checkGrad(t, func(g *nn.Graph[float64]) *nn.Tensor[float64] { return n.Regularization(g, 0.2, 1.1) }, l.Coef, l.Ws)
	})
}

// Float32 training agrees with the float64 reference to float32 rounding.
func TestFloat32MatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	l64 := testLayer(t, rng, 16, 8, Config{})
	l32, err := New[float32]("kan/test/layer0", 16, 8, Config{}, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	conv := func(dst *nn.Tensor[float32], src *nn.Tensor[float64]) {
		for i, v := range src.Data {
			dst.Data[i] = float32(v)
		}
	}
	conv(l32.Coef, l64.Coef)
	conv(l32.Ws, l64.Ws)
	conv(l32.Wb, l64.Wb)
	x64 := randInput(rng, l64, -2.5, 2.5, 3, 5, 16)
	x32 := nn.NewParam[float32](nil, 3, 5, 16)
	conv(x32, x64)
	// The float64 reference sees the float32-rounded inputs and parameters.
	for _, p := range []*nn.Tensor[float64]{x64, l64.Coef, l64.Ws, l64.Wb} {
		for i, v := range p.Data {
			p.Data[i] = float64(float32(v))
		}
	}
	g64, g32 := nn.NewGraph[float64](nil), nn.NewGraph[float32](nil)
	y64, y32 := l64.Forward(g64, x64), l32.Forward(g32, x32)
	dy64, dy32 := make([]float64, y64.Len()), make([]float32, y32.Len())
	for i := range dy64 {
		dy32[i] = float32(2*rng.Float64() - 1)
		dy64[i] = float64(dy32[i])
	}
	g64.BackwardWith(y64, dy64)
	g32.BackwardWith(y32, dy32)
	relErr := func(a []float32, b []float64) float64 {
		var d, n float64
		for i := range b {
			d += (float64(a[i]) - b[i]) * (float64(a[i]) - b[i])
			n += b[i] * b[i]
		}
		return math.Sqrt(d / n)
	}
	for _, c := range []struct {
		name string
		a    []float32
		b    []float64
	}{{"y", y32.Data, y64.Data}, {"dx", x32.Grad, x64.Grad}, {"dcoef", l32.Coef.Grad, l64.Coef.Grad}, {"dws", l32.Ws.Grad, l64.Ws.Grad}, {"dwb", l32.Wb.Grad, l64.Wb.Grad}} {
		// float32 epsilon 6e-8 times a few hundred-term sums, with margin.
		if e := relErr(c.a, c.b); e > 1e-5 {
			t.Errorf("%s: float32 relative error %.3g against float64", c.name, e)
		} else {
			t.Logf("%s: float32 relative error %.2e", c.name, e)
		}
	}
}
