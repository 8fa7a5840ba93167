package kan

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/m4sc/m4sc/nn"
)

// splineOut evaluates the layer's spline path alone (ws*sum_j c_j B_j summed over
// inputs) at x, [rows, in], through Forward with the base weights zeroed.
func splineOut(l *Layer[float64], x *nn.Tensor[float64]) []float64 {
	var wb []float64
	if l.Wb != nil {
		wb = slices.Clone(l.Wb.Data)
		clear(l.Wb.Data)
		defer copy(l.Wb.Data, wb)
	}
	return slices.Clone(l.Forward(nn.NewGraph[float64](nil), x).Data)
}

func rmsDiff(a, b []float64) (diff, ref float64) {
	for i := range a {
		diff += (a[i] - b[i]) * (a[i] - b[i])
		ref += b[i] * b[i]
	}
	return math.Sqrt(diff / float64(len(a))), math.Sqrt(ref / float64(len(a)))
}

// setSmooth gives every edge the variation-diminishing spline of a smooth curve
// (coefficient j = f at the Greville abscissa of B_j; de Boor ch. XI), so that refits onto
// other knots have a small, predictable error.
func setSmooth(l *Layer[float64], rng *rand.Rand) {
	nb, k := l.splines().nb, l.splines().k
	for o := range l.out {
		for i := range l.in {
			a, ph := 0.5+rng.Float64(), 2*math.Pi*rng.Float64()
			t := l.splines().real(i)
			for j := range nb {
				var xi float64
				for q := 1; q <= k; q++ {
					xi += t[j+q]
				}
				xi /= float64(k)
				l.Coef.Data[(o*l.in+i)*nb+j] = math.Sin(a*xi + ph)
			}
		}
	}
}

// Grid extension onto a refinement of the knots (uniform grid, G' a multiple of G)
// reproduces the curves on the range to rounding, for every order; onto other sizes the
// least-squares projection of a smooth curve stays within the approximation error of
// cubic splines (de Boor: O(h^4) times the fourth derivative, about 1e-3 here; bound 1e-2).
func TestExtendGrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 1))
	for _, c := range []struct {
		k, g, newG int
		tol        float64
	}{
		{1, 5, 10, 1e-12}, {2, 5, 10, 1e-12}, {3, 5, 10, 1e-12}, {3, 5, 20, 1e-12}, {3, 3, 9, 1e-12}, {4, 2, 6, 1e-12},
		{3, 5, 7, 1e-2}, {3, 10, 5, 1e-2}, {2, 5, 8, 1e-2},
	} {
		l := testLayer(t, rng, 3, 2, Config{Order: c.k, GridSize: c.g, Base: BaseNone})
		setSmooth(l, rng)
		x := nn.NewTensor[float64](nil, 500, 3)
		for i := range x.Data {
			x.Data[i] = 2*rng.Float64() - 1
		}
		before := splineOut(l, x)
		if err := l.ExtendGrid(c.newG, nil); err != nil {
			t.Fatal(err)
		}
		if got := l.Coef.Shape(); !slices.Equal(got, []int{2, 3, c.newG + c.k}) {
			t.Fatalf("coef shape %v after ExtendGrid(%d)", got, c.newG)
		}
		if l.Config().GridSize != c.newG || len(l.Knots(0)) != c.newG+2*c.k+1 {
			t.Fatalf("grid size %d, %d knots after ExtendGrid(%d)", l.Config().GridSize, len(l.Knots(0)), c.newG)
		}
		d, ref := rmsDiff(splineOut(l, x), before)
		t.Logf("k=%d G %d -> %d: rms change %.2e of rms %.2f", c.k, c.g, c.newG, d, ref)
		if d > c.tol*ref {
			t.Errorf("k=%d G %d -> %d: curves moved by rms %.3g (of %.3g), want below %g relative", c.k, c.g, c.newG, d, ref, c.tol)
		}
	}
	l := testLayer(t, rng, 2, 2, Config{})
	for _, g := range []int{0, -1, MaxGridSize + 1} {
		if err := l.ExtendGrid(g, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("ExtendGrid(%d) = %v, want ErrConfig", g, err)
		}
	}
}

// UpdateGrid moves the knots to the data's percentiles and keeps the curves on the
// data; an immediate second update onto the same knots is exact.
func TestUpdateGrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	for _, c := range []struct {
		name string
		cfg  Config
		draw func() float64
	}{
		{"normal", Config{}, func() float64 { return 0.4 * rng.NormFloat64() }},
		{"skewed", Config{}, func() float64 { u := rng.Float64(); return 2*u*u - 1 }},
		{"uniform eps", Config{GridEps: 1}, func() float64 { return 1.6*rng.Float64() - 0.8 }},
		{"tanh norm", Config{Norm: NormTanh}, func() float64 { return 3 * rng.NormFloat64() }},
		{"layer norm", Config{Norm: NormLayer}, func() float64 { return 3 * rng.NormFloat64() }},
		{"ExtendGrid with data", Config{GridSize: 4}, func() float64 { return 0.5 * rng.NormFloat64() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := testLayer(t, rng, 3, 2, c.cfg)
			setSmooth(l, rng)
			x := nn.NewTensor[float64](nil, 2000, 3)
			for i := range x.Data {
				x.Data[i] = c.draw()
			}
			before := splineOut(l, x)
			var err error
			if c.name == "ExtendGrid with data" {
				err = l.ExtendGrid(8, x)
			} else {
				err = l.UpdateGrid(x)
			}
			if err != nil {
				t.Fatal(err)
			}
			normed := l.normalize(nn.NewGraph[float64](nil), x).Data
			for i := range 3 {
				z := make([]float64, 0, 2000)
				for r := range 2000 {
					z = append(z, normed[r*3+i])
				}
				slices.Sort(z)
				kn := l.Knots(i)
				lo, hi := kn[l.splines().k], kn[len(kn)-1-l.splines().k]
				if !(lo < z[0] && hi > z[len(z)-1]) {
					t.Errorf("feature %d: range [%g, %g] does not hold the data [%g, %g]", i, lo, hi, z[0], z[len(z)-1])
				}
				if c.cfg.GridEps == 1 && !l.splines().uniform[i] {
					t.Errorf("feature %d: GridEps 1 left a non-uniform grid", i)
				}
				if c.cfg.GridEps == 0 {
					// Middle knot near the median (GridEps 0.02 of uniform mixed in).
					g := l.Config().GridSize
					if mid := kn[l.splines().k+g/2]; math.Abs(mid-z[(len(z)-1)*(g/2)/g]) > 0.05*(z[len(z)-1]-z[0]) {
						t.Errorf("feature %d: knot %g far from the data percentile %g", i, mid, z[(len(z)-1)*(g/2)/g])
					}
				}
			}
			d, ref := rmsDiff(splineOut(l, x), before)
			t.Logf("rms change %.2e of rms %.2f", d, ref)
			if d > 1e-2*ref { // approximation error of smooth curves by cubic splines, as in TestExtendGrid
				t.Errorf("curves moved by rms %.3g (of %.3g) on the data", d, ref)
			}
			before = splineOut(l, x)
			knots := slices.Clone(l.Grid.Data)
			if c.name != "ExtendGrid with data" {
				if err := l.UpdateGrid(x); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(knots, slices.Clone(l.Grid.Data)) {
					t.Fatal("a second UpdateGrid on the same data moved the knots")
				}
				if d, ref := rmsDiff(splineOut(l, x), before); d > 1e-12*ref {
					t.Errorf("refit onto the same knots moved the curves by %.3g", d)
				}
			}
		})
	}
}

func TestUpdateGridErrors(t *testing.T) {
	l := testLayer(t, rand.New(rand.NewPCG(4, 3)), 2, 2, Config{})
	before := slices.Clone(l.Grid.Data)
	for _, c := range []struct {
		name string
		x    *nn.Tensor[float64]
	}{
		{"nil", nil},
		{"empty", nn.NewTensor[float64](nil, 0, 2)},
		{"wrong width", nn.NewTensor[float64](nil, 4, 3)},
		{"scalar", nn.NewTensor[float64](nil)},
		{"NaN", nn.NewTensor([]float64{0, 1, math.NaN(), 0}, 2, 2)},
		{"Inf", nn.NewTensor([]float64{0, 1, math.Inf(-1), 0}, 2, 2)},
	} {
		if err := l.UpdateGrid(c.x); !errors.Is(err, ErrInput) {
			t.Errorf("%s: UpdateGrid = %v, want ErrInput", c.name, err)
		}
	}
	if !slices.Equal(before, slices.Clone(l.Grid.Data)) {
		t.Error("a failed UpdateGrid changed the grid")
	}
	// A constant feature still gets a valid grid around its value.
	x := nn.NewTensor([]float64{0.3, 0.3, 0.3, -1, 0.3, 1}, 3, 2)
	if err := l.UpdateGrid(x); err != nil {
		t.Fatal(err)
	}
	if kn := l.Knots(0); !(kn[0] < 0.3 && 0.3 < kn[len(kn)-1]) || checkKnots(kn) != nil {
		t.Errorf("constant feature: knots %v", kn)
	}
}

func TestGridRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	l := testLayer(t, rng, 3, 2, Config{})
	x := nn.NewTensor[float64](nil, 300, 3)
	for i := range x.Data {
		x.Data[i] = rng.NormFloat64()
	}
	if err := l.UpdateGrid(x); err != nil {
		t.Fatal(err)
	}
	want := splineOut(l, x)
	knots := slices.Clone(l.Grid.Data)
	m := testLayer(t, rng, 3, 2, Config{})
	copy(m.Coef.Data, l.Coef.Data)
	copy(m.Ws.Data, l.Ws.Data)
	if err := m.SetGrid(knots); err != nil {
		t.Fatal(err)
	}
	if got := splineOut(m, x); !slices.Equal(got, want) {
		t.Error("SetGrid(Grid()) does not reproduce the layer")
	}
	// Uniform knots restored through SetGrid are recognised and take the fast path.
	u := testLayer(t, rng, 3, 2, Config{})
	if err := m.SetGrid(slices.Clone(u.Grid.Data)); err != nil || !m.splines().uniform[0] {
		t.Errorf("uniform knots through SetGrid: err %v, uniform %v", err, m.splines().uniform[0])
	}
	bad := slices.Clone(knots)
	bad[5], bad[6] = bad[6], bad[5]-1
	for name, k := range map[string][]float64{"short": knots[1:], "decreasing": bad, "NaN": append(slices.Clone(knots[:len(knots)-1]), math.NaN()), "flat": make([]float64, len(knots))} {
		if err := m.SetGrid(k); !errors.Is(err, ErrInput) {
			t.Errorf("SetGrid(%s) = %v, want ErrInput", name, err)
		}
	}
}

// Every invalid constructor call must fail, naming the cause; the zero Config is valid.
func TestNewInvalid(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	for _, c := range []struct {
		name    string
		in, out int
		cfg     Config
		rng     *rand.Rand
	}{
		{"in 0", 0, 2, Config{}, rng},
		{"out 0", 2, 0, Config{}, rng},
		{"negative grid", 2, 2, Config{GridSize: -1}, rng},
		{"huge grid", 2, 2, Config{GridSize: MaxGridSize + 1}, rng},
		{"order 0 is default, -1 not", 2, 2, Config{Order: -1}, rng},
		{"order too high", 2, 2, Config{Order: MaxOrder + 1}, rng},
		{"empty range", 2, 2, Config{Min: 1, Max: 1}, rng},
		{"reversed range", 2, 2, Config{Min: 1, Max: -1}, rng},
		{"NaN range", 2, 2, Config{Min: math.NaN(), Max: 1}, rng},
		{"infinite range", 2, 2, Config{Min: math.Inf(-1), Max: 1}, rng},
		{"base", 2, 2, Config{Base: 7}, rng},
		{"norm", 2, 2, Config{Norm: -1}, rng},
		{"noise", 2, 2, Config{NoiseScale: -1}, rng},
		{"base scale", 2, 2, Config{BaseScale: math.NaN()}, rng},
		{"spline scale", 2, 2, Config{SplineScale: math.Inf(1)}, rng},
		{"grid eps", 2, 2, Config{GridEps: 1.5}, rng},
		{"grid eps negative", 2, 2, Config{GridEps: -0.1}, rng},
		{"nil rng", 2, 2, Config{}, nil},
	} {
		if _, err := New[float32]("kan/x", c.in, c.out, c.cfg, c.rng); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: New = %v, want ErrConfig", c.name, err)
		}
	}
	if _, err := NewNetwork[float32]("kan/x", []int{3}, Config{}, rng); !errors.Is(err, ErrConfig) {
		t.Errorf("one-width network: %v, want ErrConfig", err)
	}
	l, err := New[float32]("kan/proj/layer0", 4, 3, Config{}, rng)
	if err != nil {
		t.Fatal(err)
	}
	c := l.Config()
	if c.GridSize != DefaultGridSize || c.Order != DefaultOrder || c.Min != DefaultMin || c.Max != DefaultMax || c.GridEps != DefaultGridEps {
		t.Errorf("zero Config resolved to %+v", c)
	}
	var names []string
	for _, p := range l.Params() {
		names = append(names, p.Name)
	}
	if want := []string{"kan/proj/layer0/coef", "kan/proj/layer0/wb", "kan/proj/layer0/ws", "kan/proj/layer0/grid"}; !slices.Equal(names, want) {
		t.Errorf("parameter names %v, want %v", names, want)
	}
	if !slices.Equal(l.Coef.Shape(), []int{3, 4, 8}) || !slices.Equal(l.Wb.Shape(), []int{3, 4}) || !slices.Equal(l.Ws.Shape(), []int{3, 4}) {
		t.Errorf("shapes coef %v wb %v ws %v", l.Coef.Shape(), l.Wb.Shape(), l.Ws.Shape())
	}
	if n := l.NumParams(); n != 3*4*(5+3+2) {
		t.Errorf("NumParams = %d, want out*in*(G+k+2) = %d", n, 3*4*10)
	}
	// Knots are kept in the tensor's type (float32 here) and still count as uniform.
	if kn := l.Knots(0); math.Abs(kn[0]+2.2) > 1e-6 || math.Abs(kn[len(kn)-1]-2.2) > 1e-6 || !l.splines().uniform[0] {
		t.Errorf("default extended grid %v (uniform %v), want -2.2 .. 2.2", kn, l.splines().uniform[0])
	}
}

// Regularisation values: equal magnitudes give entropy log(out*in); a single live edge
// gives entropy 0 and L1 its magnitude.
func TestRegularizationValues(t *testing.T) {
	l := testLayer(t, rand.New(rand.NewPCG(4, 6)), 3, 2, Config{})
	for i := range l.Coef.Data {
		l.Coef.Data[i] = 0.5 * float64(1-2*(i%2))
	}
	for i := range l.Ws.Data {
		l.Ws.Data[i] = -2
	}
	g := nn.NewGraph[float64](nil)
	if got, want := l.Regularization(g, 1, 0).Data[0], 6.0; math.Abs(got-want) > 1e-12 {
		t.Errorf("L1 = %v, want %v", got, want)
	}
	if got, want := l.Regularization(g, 0, 1).Data[0], math.Log(6); math.Abs(got-want) > 1e-12 {
		t.Errorf("entropy = %v, want log 6 = %v", got, want)
	}
	clear(l.Ws.Data)
	l.Ws.Data[4] = 3
	if got, want := l.Regularization(g, 0.5, 1).Data[0], 0.5*1.5; math.Abs(got-want) > 1e-12 {
		t.Errorf("one live edge: R = %v, want %v", got, want)
	}
}

// A checkpoint through nn.Params (Export, Import) carries the fitted grid: the restored
// layer computes the same outputs, and Check catches corrupt knots.
func TestCheckpointThroughParams(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 7))
	n, err := NewNetwork[float32]("kan/proj", []int{3, 4, 2}, Config{Norm: NormLayer}, rng)
	if err != nil {
		t.Fatal(err)
	}
	x := nn.NewTensor[float32](nil, 64, 3)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	if err := n.UpdateGrid(x); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(n.Forward(nn.NewGraph[float32](nil), x).Data)
	src := nn.NewParams[float32]()
	n.AddParams(src)
	recs := src.Export()

	m, err := NewNetwork[float32]("kan/proj", []int{3, 4, 2}, Config{Norm: NormLayer}, rand.New(rand.NewPCG(0, 1)))
	if err != nil {
		t.Fatal(err)
	}
	dst := nn.NewParams[float32]()
	m.AddParams(dst)
	if !slices.Equal(src.Names(), dst.Names()) {
		t.Fatalf("names differ: %v vs %v", src.Names(), dst.Names())
	}
	if err := dst.Import(recs); err != nil {
		t.Fatal(err)
	}
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	if got := m.Forward(nn.NewGraph[float32](nil), x).Data; !slices.Equal(got, want) {
		t.Error("restored network computes different outputs")
	}
	if got, want := m.NumParams(), 4*3*10+2*3+2*4*10+2*4; got != want {
		t.Errorf("NumParams = %d, want %d (coef, wb, ws and layer-norm gain, bias)", got, want)
	}
	m.Layers[1].Grid.Data[3] = m.Layers[1].Grid.Data[2] - 1
	if err := m.Check(); !errors.Is(err, ErrInput) {
		t.Errorf("Check of decreasing knots = %v, want ErrInput", err)
	}
}

// NewForLoad draws nothing: coefficients and base weights are zero, the rest as New.
func TestNewForLoad(t *testing.T) {
	l, err := NewForLoad[float32]("k", 3, 2, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range append(append([]float32(nil), l.Coef.Data...), l.Wb.Data...) {
		if v != 0 {
			t.Fatalf("NewForLoad drew a value %v", v)
		}
	}
	if l.Ws.Data[0] != float32(DefaultSplineScale) {
		t.Errorf("spline scale %v, want %v", l.Ws.Data[0], DefaultSplineScale)
	}
	if _, err := NewForLoad[float32]("k", 0, 2, Config{}); err == nil {
		t.Error("a layer of 0 inputs accepted")
	}
}
