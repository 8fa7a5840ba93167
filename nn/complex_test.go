package nn

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

// toComplex reads interleaved (re, im) pairs.
func toComplex(x []float64) []complex128 {
	z := make([]complex128, len(x)/2)
	for i := range z {
		z[i] = complex(x[2*i], x[2*i+1])
	}
	return z
}

func closeComplex(t *testing.T, name string, got []float64, want []complex128, tol float64) {
	t.Helper()
	if len(got) != 2*len(want) {
		t.Fatalf("%s: %d reals for %d complex values", name, len(got), len(want))
	}
	for i, w := range want {
		if g := complex(got[2*i], got[2*i+1]); !(cmplx.Abs(g-w) <= tol*math.Max(1, cmplx.Abs(w))) {
			t.Fatalf("%s: element %d = %v, want %v", name, i, g, w)
		}
	}
}

func TestComplexValues(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	p := func(shape ...int) *Tensor[float64] { return randParam(r, -2, 2, shape...) }
	g := NewGraph[float64](nil)

	// ComplexMul in its three broadcast forms against complex128 products.
	a := p(2, 3, 8) // 2x3 blocks of 4 symbols
	for _, c := range []struct {
		name string
		b    *Tensor[float64]
		j    func(i int) int // complex index of b met by complex element i of a
	}{
		{"same", p(2, 3, 8), func(i int) int { return i }},
		{"suffix", p(8), func(i int) int { return i % 4 }},
		{"suffix2", p(3, 8), func(i int) int { return i % 12 }},
		{"scalar", p(2), func(i int) int { return 0 }},
		{"row", p(2, 3, 2), func(i int) int { return i / 4 }},
	} {
		za, zb := toComplex(a.Data), toComplex(c.b.Data)
		want := make([]complex128, len(za))
		for i := range za {
			want[i] = za[i] * zb[c.j(i)]
		}
		closeComplex(t, "ComplexMul "+c.name, g.ComplexMul(a, c.b).Data, want, 1e-15)
	}

	za := toComplex(a.Data)
	conj, abs2 := make([]complex128, len(za)), make([]float64, len(za))
	for i, z := range za {
		conj[i] = cmplx.Conj(z)
		abs2[i] = real(z * cmplx.Conj(z))
	}
	closeComplex(t, "ComplexConj", g.ComplexConj(a).Data, conj, 0)
	y := g.ComplexAbs2(a)
	if s := y.Shape(); !equalInts(s, []int{2, 3, 4}) {
		t.Fatalf("ComplexAbs2 shape %v, want [2 3 4]", s)
	}
	for i, w := range abs2 {
		if math.Abs(y.Data[i]-w) > 1e-15*w {
			t.Fatalf("ComplexAbs2 element %d = %v, want %v", i, y.Data[i], w)
		}
	}

	// PowerNormalize: every block has mean power p and the direction of the input.
	for _, pw := range []float64{1, 0.25, 3} {
		y := g.PowerNormalize(a, pw)
		for row := 0; row < 6; row++ {
			zx, zy := za[row*4:(row+1)*4], toComplex(y.Data[row*8:(row+1)*8])
			var px, py float64
			for i := range zy {
				px += real(zx[i] * cmplx.Conj(zx[i]))
				py += real(zy[i] * cmplx.Conj(zy[i]))
			}
			if math.Abs(py/4-pw) > 1e-14 {
				t.Fatalf("PowerNormalize(%v) row %d: mean power %v", pw, row, py/4)
			}
			s := math.Sqrt(pw * 4 / px)
			want := make([]complex128, 4)
			for i := range want {
				want[i] = complex(s, 0) * zx[i]
			}
			closeComplex(t, "PowerNormalize", y.Data[row*8:(row+1)*8], want, 1e-15)
		}
	}
}

// A zero block stays zero with zero gradient instead of NaN.
func TestPowerNormalizeZeroRow(t *testing.T) {
	x := NewParam([]float64{0, 0, 0, 0, 1, 2, -1, 0.5}, 2, 4)
	g := NewGraph[float64](nil)
	y := g.PowerNormalize(x, 1)
	g.Backward(g.Sum(g.Square(g.Add(y, x))))
	for i := 0; i < 4; i++ {
		if y.Data[i] != 0 || x.Grad[i] != 0 {
			t.Fatalf("zero row: y[%d] = %v, grad %v", i, y.Data[i], x.Grad[i])
		}
	}
	for i := 4; i < 8; i++ {
		if math.IsNaN(y.Data[i]) || math.IsNaN(x.Grad[i]) {
			t.Fatalf("non-zero row: y[%d] = %v, grad %v", i, y.Data[i], x.Grad[i])
		}
	}
}

func TestGradComplex(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 22))
	p := func(shape ...int) *Tensor[float64] { return randParam(r, -1, 1, shape...) }
	// A zero-free row: entries bounded away from zero, so the norm is far from its kink.
	nz := func(shape ...int) *Tensor[float64] {
		x := randParam(r, 0.3, 1.5, shape...)
		for i := range x.Data {
			if r.IntN(2) == 0 {
				x.Data[i] = -x.Data[i]
			}
		}
		return x
	}
	bin := func(op func(g *Graph[float64], a, b *Tensor[float64]) *Tensor[float64]) func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
		return func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] { return op(g, in[0], in[1]) }
	}
	pn := func(pw float64) func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
		return func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] { return g.PowerNormalize(in[0], pw) }
	}
	mul := bin((*Graph[float64]).ComplexMul)
	x := p(3, 6)
	runGradCases(t, []gradCase{
		{"mul same", []*Tensor[float64]{p(2, 3, 6), p(2, 3, 6)}, mul},
		{"mul suffix", []*Tensor[float64]{p(2, 3, 6), p(6)}, mul},
		{"mul scalar", []*Tensor[float64]{p(4, 6), p(2)}, mul},
		{"mul row", []*Tensor[float64]{p(2, 3, 6), p(2, 3, 2)}, mul},
		{"mul self", []*Tensor[float64]{x}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.ComplexMul(in[0], in[0])
		}},
		{"conj", []*Tensor[float64]{p(3, 6)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.ComplexConj(in[0])
		}},
		{"abs2", []*Tensor[float64]{p(2, 3, 6)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.ComplexAbs2(in[0])
		}},
		{"power 1", []*Tensor[float64]{nz(4, 10)}, pn(1)},
		{"power 0.5 random", []*Tensor[float64]{p(2, 3, 8)}, pn(0.5)},
		{"power single symbol", []*Tensor[float64]{nz(5, 2)}, pn(2)},
		// A channel: normalised transmit block times a per-subcarrier response, then power.
		{"channel", []*Tensor[float64]{nz(3, 8), p(8)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			tx := g.PowerNormalize(in[0], 1)
			rx := g.ComplexMul(tx, in[1])
			return g.ComplexAbs2(g.ComplexMul(rx, g.ComplexConj(tx)))
		}},
	})
}

// float32 and float64 agree to float32 precision, forward and backward.
func TestComplexFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 23))
	a64, b64 := randParam(r, -1, 1, 4, 16), randParam(r, -1, 1, 16)
	f32 := func(x *Tensor[float64]) *Tensor[float32] {
		y := NewParam[float32](nil, x.Shape()...)
		for i, v := range x.Data {
			y.Data[i] = float32(v)
		}
		return y
	}
	a32, b32 := f32(a64), f32(b64)
	seed := make([]float64, 4*8)
	for i := range seed {
		seed[i] = r.Float64()*2 - 1
	}
	seed32 := make([]float32, len(seed))
	for i, v := range seed {
		seed32[i] = float32(v)
	}
	g64, g32 := NewGraph[float64](nil), NewGraph[float32](nil)
	y64 := g64.ComplexAbs2(g64.ComplexMul(g64.PowerNormalize(a64, 1), g64.ComplexConj(b64)))
	y32 := g32.ComplexAbs2(g32.ComplexMul(g32.PowerNormalize(a32, 1), g32.ComplexConj(b32)))
	g64.BackwardWith(y64, seed)
	g32.BackwardWith(y32, seed32)
	for _, c := range []struct {
		name string
		x64  []float64
		x32  []float32
	}{{"value", y64.Data, y32.Data}, {"da", a64.Grad, a32.Grad}, {"db", b64.Grad, b32.Grad}} {
		var scale float64
		for _, v := range c.x64 {
			scale = math.Max(scale, math.Abs(v))
		}
		for i, v := range c.x64 {
			if d := math.Abs(float64(c.x32[i]) - v); d > 1e-5*scale {
				t.Fatalf("%s[%d]: float32 %v, float64 %v", c.name, i, c.x32[i], v)
			}
		}
	}
}

func TestComplexAllocs(t *testing.T) {
	x, h := NewParam[float32](nil, 8, 64), NewParam[float32](nil, 64)
	for i := range x.Data {
		x.Data[i] = float32(i%7) - 3
	}
	for i := range h.Data {
		h.Data[i] = float32(i%5) - 2
	}
	seed := make([]float32, 8*64)
	g := NewGraph[float32](nil)
	allocs := testing.AllocsPerRun(10, func() {
		g.Reset()
		y := g.ComplexMul(g.ComplexConj(g.PowerNormalize(x, 1)), h)
		g.BackwardWith(g.Sum(g.ComplexAbs2(y)), seed[:1])
	})
	if allocs != 0 {
		t.Errorf("%v allocations per step, want 0", allocs)
	}
}

func TestComplexPanics(t *testing.T) {
	p := func(shape ...int) *Tensor[float64] { return NewTensor[float64](nil, shape...) }
	g := NewGraph[float64](nil)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"mul odd", func() { g.ComplexMul(p(2, 3), p(2, 3)) }},
		{"mul scalar tensor", func() { g.ComplexMul(p(), p(2)) }},
		{"mul b odd", func() { g.ComplexMul(p(2, 4), p(1)) }},
		{"mul shape", func() { g.ComplexMul(p(2, 4), p(3, 4)) }},
		{"mul row", func() { g.ComplexMul(p(2, 4), p(3, 2)) }},
		{"conj odd", func() { g.ComplexConj(p(5)) }},
		{"abs2 odd", func() { g.ComplexAbs2(p(2, 1)) }},
		{"power odd", func() { g.PowerNormalize(p(2, 3), 1) }},
		{"power zero", func() { g.PowerNormalize(p(2, 4), 0) }},
		{"power negative", func() { g.PowerNormalize(p(2, 4), -1) }},
		{"power NaN", func() { g.PowerNormalize(p(2, 4), math.NaN()) }},
		{"power Inf", func() { g.PowerNormalize(p(2, 4), math.Inf(1)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			c.f()
		})
	}
}

func BenchmarkPowerNormalize(b *testing.B) {
	// A batch of 256 OFDM blocks of 64 subcarriers, through a channel, forward and backward.
	x, h := NewParam[float32](nil, 256, 128), NewParam[float32](nil, 128)
	r := rand.New(rand.NewPCG(24, 24))
	for i := range x.Data {
		x.Data[i] = r.Float32()*2 - 1
	}
	for i := range h.Data {
		h.Data[i] = r.Float32()*2 - 1
	}
	seed := make([]float32, x.Len())
	g := NewGraph[float32](nil)
	b.ReportAllocs()
	for b.Loop() {
		g.Reset()
		g.BackwardWith(g.ComplexMul(g.PowerNormalize(x, 1), h), seed)
	}
	b.ReportMetric(float64(b.N)*256*64/b.Elapsed().Seconds()/1e6, "Msymbols/s")
}
