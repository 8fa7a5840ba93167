package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// gradTol is the bound on the relative error of every backward rule against
// float64 central differences.
const gradTol = 1e-6

// randParam makes a float64 parameter with values uniform in [lo, hi).
func randParam(rng *rand.Rand, lo, hi float64, shape ...int) *Tensor[float64] {
	t := NewParam[float64](nil, shape...)
	for i := range t.Data {
		t.Data[i] = lo + (hi-lo)*rng.Float64()
	}
	return t
}

type gradCase struct {
	name   string
	inputs []*Tensor[float64]
	f      func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64]
}

func runGradCases(t *testing.T, cases []gradCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			worst, which := GradCheck(func(g *Graph[float64]) *Tensor[float64] { return c.f(g, c.inputs) }, c.inputs...)
			if worst > gradTol {
				t.Errorf("relative gradient error %.3g on input %d, want below %g", worst, which, gradTol)
			}
		})
	}
}

func TestGradMatMul(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	p := func(shape ...int) *Tensor[float64] { return randParam(r, -1, 1, shape...) }
	w := p(5, 7)
	runGradCases(t, []gradCase{
		{"2d", []*Tensor[float64]{p(3, 5), p(5, 7)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] { return g.MatMul(in[0], in[1]) }},
		{"3d odd", []*Tensor[float64]{p(2, 3, 5), p(5, 1)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] { return g.MatMul(in[0], in[1]) }},
		{"transposed", []*Tensor[float64]{p(2, 3, 5), p(4, 5)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] { return g.MatMulT(in[0], in[1]) }},
		// The same weight used twice (tied weights) and a residual path.
		{"tied", []*Tensor[float64]{p(3, 5), w}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			h := g.MatMul(in[0], in[1]) // [3,7]
			back := g.MatMulT(h, in[1]) // [3,5]
			return g.Add(back, in[0])   // residual uses x twice
		}},
		{"batch", []*Tensor[float64]{p(2, 3, 4, 5), p(2, 3, 5, 6)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.BatchMatMul(in[0], in[1], false, false)
		}},
		{"batch tA", []*Tensor[float64]{p(2, 5, 4), p(2, 5, 6)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.BatchMatMul(in[0], in[1], true, false)
		}},
		{"batch tB", []*Tensor[float64]{p(3, 4, 5), p(3, 6, 5)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.BatchMatMul(in[0], in[1], false, true)
		}},
		{"batch tAtB", []*Tensor[float64]{p(2, 5, 4), p(2, 6, 5)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.BatchMatMul(in[0], in[1], true, true)
		}},
	})
}

func TestGradLinear(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	p := func(shape ...int) *Tensor[float64] { return randParam(r, -1, 1, shape...) }
	runGradCases(t, []gradCase{
		{"bias", []*Tensor[float64]{p(2, 3, 5), p(5, 7), p(7)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.Linear(in[0], in[1], in[2])
		}},
		{"no bias", []*Tensor[float64]{p(3, 5), p(5, 4)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.Linear(in[0], in[1], nil)
		}},
		{"gelu", []*Tensor[float64]{p(4, 5), p(5, 6), p(6)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.LinearGELU(in[0], in[1], in[2])
		}},
		{"gelu no bias", []*Tensor[float64]{p(4, 5), p(5, 6)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.LinearGELU(in[0], in[1], nil)
		}},
		// x feeds the layer twice, as in a residual block.
		{"residual", []*Tensor[float64]{p(3, 4), p(4, 4), p(4)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.Add(in[0], g.Linear(g.LinearGELU(in[0], in[1], in[2]), in[1], nil))
		}},
	})
}

func TestGradHeads(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	p := func(shape ...int) *Tensor[float64] { return randParam(r, -1, 1, shape...) }
	w := p(2, 3, 3, 4) // [B, heads, T, dh] weights that make every output element count differently
	runGradCases(t, []gradCase{
		{"split", []*Tensor[float64]{p(2, 3, 3*3*4)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			// Parts 0 and 2, weighted differently, so each reaches its own gradient slots.
			return g.Add(g.Mul(g.SplitHeads(in[0], 0, 3, 3), w), g.SplitHeads(in[0], 2, 3, 3))
		}},
		{"merge", []*Tensor[float64]{p(2, 3, 3, 4)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.MergeHeads(g.Mul(in[0], w))
		}},
	})
}

// SplitHeads and MergeHeads equal Reshape, Permute and Slice (and Transpose).
func TestHeadsMatchPermute(t *testing.T) {
	const B, T, H, dh = 3, 5, 4, 2
	x := NewTensor(make([]float64, B*T*3*H*dh), B, T, 3*H*dh)
	for i := range x.Data {
		x.Data[i] = float64(i)
	}
	g := NewGraph[float64](nil)
	qkv := g.Permute(g.Reshape(x, B, T, 3, H, dh), 2, 0, 3, 1, 4)
	for p := range 3 {
		want := g.Reshape(g.Slice(qkv, 0, p, p+1), B, H, T, dh)
		got := g.SplitHeads(x, p, 3, H)
		if !slices.Equal(got.Data, want.Data) || !slices.Equal(got.Shape(), want.Shape()) {
			t.Fatalf("part %d: SplitHeads %v differs from permute %v", p, got.Shape(), want.Shape())
		}
		back := g.MergeHeads(got)
		wantBack := g.Reshape(g.Transpose(got, 1, 2), B, T, H*dh)
		if !slices.Equal(back.Data, wantBack.Data) {
			t.Fatalf("part %d: MergeHeads differs from Transpose", p)
		}
	}
}

// Linear and LinearGELU equal the unfused operations up to rounding, in float32 at
// the sizes that split over workers.
func TestLinearMatchesUnfused(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	mk := func(shape ...int) *Tensor[float32] {
		t := NewParam[float32](nil, shape...)
		for i := range t.Data {
			t.Data[i] = float32(r.Float64()*2 - 1)
		}
		return t
	}
	x, w, b := mk(300, 128), mk(128, 512), mk(512)
	for _, gelu := range []bool{false, true} {
		run := func(fused bool) (out, dx, dw, db []float32) {
			for _, p := range []*Tensor[float32]{x, w, b} {
				clear(p.Grad)
			}
			g := NewGraph[float32](nil)
			var y *Tensor[float32]
			switch {
			case fused && gelu:
				y = g.LinearGELU(x, w, b)
			case fused:
				y = g.Linear(x, w, b)
			case gelu:
				y = g.GELU(g.Add(g.MatMul(x, w), b))
			default:
				y = g.Add(g.MatMul(x, w), b)
			}
			g.Backward(g.Sum(g.Mul(y, y)))
			return slices.Clone(y.Data), slices.Clone(x.Grad), slices.Clone(w.Grad), slices.Clone(b.Grad)
		}
		o1, x1, w1, b1 := run(true)
		o2, x2, w2, b2 := run(false)
		for name, pair := range map[string][2][]float32{"out": {o1, o2}, "dx": {x1, x2}, "dw": {w1, w2}, "db": {b1, b2}} {
			var worst, scale float64
			for i := range pair[0] {
				worst = max(worst, math.Abs(float64(pair[0][i]-pair[1][i])))
				scale = max(scale, math.Abs(float64(pair[1][i])))
			}
			if worst > 1e-5*scale {
				t.Errorf("gelu %v: %s differs by %.3g (largest value %.3g)", gelu, name, worst, scale)
			}
		}
	}
}

func TestGradElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	p := func(shape ...int) *Tensor[float64] { return randParam(r, -2, 2, shape...) }
	pos := func(shape ...int) *Tensor[float64] { return randParam(r, 0.5, 2, shape...) }
	bin := func(op func(g *Graph[float64], a, b *Tensor[float64]) *Tensor[float64]) func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
		return func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] { return op(g, in[0], in[1]) }
	}
	un := func(op func(g *Graph[float64], a *Tensor[float64]) *Tensor[float64]) func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
		return func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] { return op(g, in[0]) }
	}
	var cases []gradCase
	for _, op := range []struct {
		name string
		f    func(g *Graph[float64], a, b *Tensor[float64]) *Tensor[float64]
	}{
		{"add", (*Graph[float64]).Add}, {"sub", (*Graph[float64]).Sub}, {"mul", (*Graph[float64]).Mul}, {"div", (*Graph[float64]).Div},
	} {
		cases = append(cases,
			gradCase{op.name + " same", []*Tensor[float64]{p(3, 5), pos(3, 5)}, bin(op.f)},
			gradCase{op.name + " suffix", []*Tensor[float64]{p(2, 3, 5), pos(5)}, bin(op.f)},
			gradCase{op.name + " suffix2", []*Tensor[float64]{p(2, 3, 5), pos(3, 5)}, bin(op.f)},
			gradCase{op.name + " row", []*Tensor[float64]{p(2, 3, 5), pos(2, 3, 1)}, bin(op.f)},
			gradCase{op.name + " scalar", []*Tensor[float64]{p(4, 3), pos(1)}, bin(op.f)},
		)
	}
	x := p(3, 4)
	cases = append(cases,
		gradCase{"same input twice", []*Tensor[float64]{x}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] { return g.Mul(in[0], in[0]) }},
		gradCase{"scale", []*Tensor[float64]{p(3, 4)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] { return g.Scale(in[0], -0.7) }},
		gradCase{"gelu", []*Tensor[float64]{p(3, 7)}, un((*Graph[float64]).GELU)},
		gradCase{"silu", []*Tensor[float64]{p(3, 7)}, un((*Graph[float64]).SiLU)},
		gradCase{"tanh", []*Tensor[float64]{p(3, 7)}, un((*Graph[float64]).Tanh)},
		gradCase{"sigmoid", []*Tensor[float64]{p(3, 7)}, un((*Graph[float64]).Sigmoid)},
		gradCase{"exp", []*Tensor[float64]{p(3, 7)}, un((*Graph[float64]).Exp)},
		gradCase{"square", []*Tensor[float64]{p(3, 7)}, un((*Graph[float64]).Square)},
		gradCase{"sum", []*Tensor[float64]{p(3, 7)}, un((*Graph[float64]).Sum)},
		gradCase{"mean", []*Tensor[float64]{p(3, 7)}, un((*Graph[float64]).Mean)},
	)
	runGradCases(t, cases)
}

// GradCheck itself must catch a wrong rule: a deliberately broken backward fails.
func TestGradCheckCatchesErrors(t *testing.T) {
	x := randParam(rand.New(rand.NewPCG(5, 5)), -1, 1, 4, 3)
	broken := func(g *Graph[float64]) *Tensor[float64] {
		out := g.like(x, true)
		for i, v := range x.Data {
			out.Data[i] = v * v * v
		}
		// Wrong rule on purpose: 2x^2 instead of 3x^2.
		g.push(record[float64]{bw: func(g *Graph[float64], r *record[float64]) {
			for i, d := range r.out.Grad {
				r.a.Grad[i] += d * 2 * r.a.Data[i] * r.a.Data[i]
			}
		}, out: out, a: x})
		return out
	}
	if worst, _ := GradCheck(broken, x); worst < 0.1 {
		t.Fatalf("a wrong backward rule passed with relative error %.3g", worst)
	}
}

// gelu32 (the float32 path of GELU) against the exact x Phi(x) from math.Erfc: the
// value and the derivative within a few float32 ulps of their magnitude, over
// [-20, 20] where activations live and beyond, where Phi is 0 or 1.
func TestGELU32(t *testing.T) {
	// gelu32 (its table inside, geluTail outside) and geluTail everywhere.
	for _, f := range []struct {
		name string
		f    func(float64) (float64, float64)
	}{{"gelu32", gelu32}, {"geluTail", geluTail}} {
		worstY, worstD := 0.0, 0.0
		for i := -40000; i <= 40000; i++ {
			x := float64(i) / 2000
			cdf := 0.5 * math.Erfc(-x/math.Sqrt2)
			wantY := x * cdf
			wantD := cdf + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
			y, d := f.f(x)
			// Relative to max(|value|, 2^-24 |x|): tiny GELU values of large negative x
			// need only be tiny.
			ey := math.Abs(y-wantY) / max(math.Abs(wantY), 0x1p-24*math.Abs(x), 0x1p-126)
			// The derivative's two terms cancel near x = -0.75 (GELU's minimum): measure
			// its error against their sizes.
			ed := math.Abs(d-wantD) / max(cdf+math.Abs(x)*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi), 0x1p-126)
			worstY, worstD = max(worstY, ey), max(worstD, ed)
		}
		t.Logf("%s: worst relative error: GELU %.3g, derivative %.3g (float32 ulp 6e-8)", f.name, worstY, worstD)
		if worstY > 5e-7 || worstD > 5e-7 {
			t.Errorf("%s relative error %.3g (value) %.3g (derivative), want below 5e-7", f.name, worstY, worstD)
		}
	}
	for _, x := range []float64{1e4, -1e4, 1e30, -1e30} {
		y, d := gelu32(x)
		if x > 0 && (y != x || d != 1) || x < 0 && (y != 0 || d != 0) {
			t.Errorf("gelu32(%g) = %g, %g; want %g, %v", x, y, d, max(x, 0), b2i(x > 0))
		}
	}
}

// BenchmarkGELU times the forward pass of LinearGELU's activation with its derivative,
// bias added, on one goroutine: values and derivatives per second.
func BenchmarkGELU(b *testing.B) {
	const rows, n = 256, 1024
	r := rand.New(rand.NewPCG(1, 2))
	z, bias := make([]float32, rows*n), make([]float32, n)
	for i := range z {
		z[i] = float32(r.NormFloat64() * 2)
	}
	y, deriv := make([]float32, rows*n), make([]float32, rows*n)
	b.ReportAllocs()
	for b.Loop() {
		biasGELURows(y, z, bias, deriv, n, 0, rows)
	}
	b.ReportMetric(float64(b.N)*rows*n/b.Elapsed().Seconds()/1e6, "Melem/s")
}

// geluRow32, the loop GELU and LinearGELU run in float32, repeats gelu32's choice of
// table or tail to keep the table inlined: it must give gelu32's values rounded to
// float32, inside the table, across its edges and beyond, with a bias and without.
func TestGELURow32(t *testing.T) {
	var z []float32
	for i := -12000; i <= 12000; i++ {
		z = append(z, float32(i)/1000)
	}
	z = append(z, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e30, -1e30)
	bias := make([]float32, len(z))
	for j := range bias {
		bias[j] = float32(j%7-3) / 8
	}
	y, deriv := make([]float32, len(z)), make([]float32, len(z))
	for _, b := range [][]float32{nil, bias} {
		geluRow32(y, deriv, z, b)
		for j, v := range z {
			if b != nil {
				v += b[j]
			}
			g, d := gelu32(float64(v))
			if math.Float32bits(y[j]) != math.Float32bits(float32(g)) || math.Float32bits(deriv[j]) != math.Float32bits(float32(d)) {
				t.Fatalf("geluRow32 at %v: %v, %v; gelu32 gives %v, %v", v, y[j], deriv[j], float32(g), float32(d))
			}
		}
	}
}
