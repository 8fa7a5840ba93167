package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// attentionRef is the slow mathematics Attention must agree with: for every query, the
// visible keys' scores, their softmax and the weighted sum of values, in float64.
func attentionRef(q, k, v []float64, nb, nh, nt, ns, d, dv int, opt AttentionOptions) []float64 {
	scale := opt.Scale
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(d))
	}
	out := make([]float64, nb*nh*nt*dv)
	for b := 0; b < nb; b++ {
		for h := 0; h < nh; h++ {
			i := b*nh + h
			for t := 0; t < nt; t++ {
				var vis []int
				var z []float64
				for s := 0; s < ns; s++ {
					if opt.Causal && s > t+ns-nt || opt.KeyLens != nil && s >= opt.KeyLens[b] || opt.KeyMask != nil && !opt.KeyMask[b*ns+s] {
						continue
					}
					dot := 0.0
					for j := 0; j < d; j++ {
						dot += q[(i*nt+t)*d+j] * k[(i*ns+s)*d+j]
					}
					vis = append(vis, s)
					z = append(z, scale*dot)
				}
				m := math.Inf(-1)
				for _, x := range z {
					m = math.Max(m, x)
				}
				sum := 0.0
				for j := range z {
					z[j] = math.Exp(z[j] - m)
					sum += z[j]
				}
				for j, s := range vis {
					for c := 0; c < dv; c++ {
						out[(i*nt+t)*dv+c] += z[j] / sum * v[(i*ns+s)*dv+c]
					}
				}
			}
		}
	}
	return out
}

type attnCase struct {
	name                  string
	nb, nh, nt, ns, d, dv int
	opt                   AttentionOptions
}

// attnCases cover odd sizes, every mask, their combination, fully masked queries (a
// padded-out batch element, causal with T > S) and the KV-cache alignment T < S.
var attnCases = []attnCase{
	{"odd", 2, 2, 3, 5, 3, 3, AttentionOptions{}},
	{"self", 1, 3, 5, 5, 4, 4, AttentionOptions{}},
	{"dv differs", 2, 1, 3, 4, 5, 2, AttentionOptions{}},
	{"scale", 1, 2, 3, 3, 3, 3, AttentionOptions{Scale: 0.7}},
	{"causal", 2, 2, 5, 5, 3, 3, AttentionOptions{Causal: true}},
	{"causal cache", 1, 2, 3, 7, 3, 5, AttentionOptions{Causal: true}},
	{"causal T>S", 1, 2, 5, 3, 3, 3, AttentionOptions{Causal: true}},
	{"lens", 3, 2, 3, 5, 3, 3, AttentionOptions{KeyLens: []int{5, 2, 0}}},
	{"mask", 2, 2, 3, 5, 3, 3, AttentionOptions{KeyMask: []bool{
		true, false, true, false, true,
		false, false, false, false, false}}},
	{"all masks", 2, 2, 5, 5, 3, 3, AttentionOptions{Causal: true, KeyLens: []int{4, 3},
		KeyMask: []bool{
			false, true, true, true, true,
			true, true, false, true, true}}},
}

func TestAttentionValues(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, c := range attnCases {
		t.Run(c.name, func(t *testing.T) {
			q := randParam(r, -2, 2, c.nb, c.nh, c.nt, c.d)
			k := randParam(r, -2, 2, c.nb, c.nh, c.ns, c.d)
			v := randParam(r, -2, 2, c.nb, c.nh, c.ns, c.dv)
			want := attentionRef(q.Data, k.Data, v.Data, c.nb, c.nh, c.nt, c.ns, c.d, c.dv, c.opt)

			got := NewGraph[float64](nil).Attention(q, k, v, c.opt)
			if s := got.Shape(); !equalInts(s, []int{c.nb, c.nh, c.nt, c.dv}) {
				t.Fatalf("shape %v", s)
			}
			for i, w := range want {
				if d := math.Abs(got.Data[i] - w); !(d <= 1e-12) {
					t.Fatalf("float64 element %d: got %v, want %v", i, got.Data[i], w)
				}
			}

			f32 := func(x *Tensor[float64]) *Tensor[float32] {
				y := NewTensor[float32](nil, x.Shape()...)
				for i, v := range x.Data {
					y.Data[i] = float32(v)
				}
				return y
			}
			got32 := NewGraph[float32](nil).Attention(f32(q), f32(k), f32(v), c.opt)
			for i, w := range want {
				if d := math.Abs(float64(got32.Data[i]) - w); !(d <= 1e-5) {
					t.Fatalf("float32 element %d: got %v, want %v", i, got32.Data[i], w)
				}
			}
		})
	}
}

func TestGradAttention(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	var cases []gradCase
	for _, c := range attnCases {
		opt := c.opt
		cases = append(cases, gradCase{c.name, []*Tensor[float64]{
			randParam(r, -1, 1, c.nb, c.nh, c.nt, c.d),
			randParam(r, -1, 1, c.nb, c.nh, c.ns, c.d),
			randParam(r, -1, 1, c.nb, c.nh, c.ns, c.dv),
		}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.Attention(in[0], in[1], in[2], opt)
		}})
	}
	// One tensor as query, key and value: three gradient contributions to one buffer.
	x := randParam(r, -1, 1, 2, 2, 5, 3)
	constK := NewTensor(randParam(r, -1, 1, 1, 2, 5, 4).Data, 1, 2, 5, 4)
	cases = append(cases,
		gradCase{"q=k=v", []*Tensor[float64]{x}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.Attention(in[0], in[0], in[0], AttentionOptions{})
		}},
		gradCase{"q=k=v causal", []*Tensor[float64]{x}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.Attention(in[0], in[0], in[0], AttentionOptions{Causal: true, KeyLens: []int{5, 0}})
		}},
		// Only some inputs need gradients: a constant key.
		gradCase{"constant k", []*Tensor[float64]{randParam(r, -1, 1, 1, 2, 3, 4), randParam(r, -1, 1, 1, 2, 5, 4)},
			func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
				return g.Attention(in[0], constK, in[1], AttentionOptions{Causal: true})
			}},
		// Attention inside a larger graph: gradients arrive through a later op.
		gradCase{"composed", []*Tensor[float64]{randParam(r, -1, 1, 1, 2, 4, 3), randParam(r, -1, 1, 1, 2, 4, 3)},
			func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
				o := g.Attention(in[0], in[1], in[1], AttentionOptions{Causal: true})
				return g.Tanh(g.Add(o, in[0]))
			}},
	)
	runGradCases(t, cases)
}

// float32 gradients agree with float64 ones to float32 precision.
func TestAttentionFloat32Grad(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	for _, c := range attnCases {
		t.Run(c.name, func(t *testing.T) {
			in64 := []*Tensor[float64]{
				randParam(r, -2, 2, c.nb, c.nh, c.nt, c.d),
				randParam(r, -2, 2, c.nb, c.nh, c.ns, c.d),
				randParam(r, -2, 2, c.nb, c.nh, c.ns, c.dv),
			}
			in32 := make([]*Tensor[float32], 3)
			for j, x := range in64 {
				in32[j] = NewParam[float32](nil, x.Shape()...)
				for i, v := range x.Data {
					in32[j].Data[i] = float32(v)
				}
			}
			seed := make([]float64, c.nb*c.nh*c.nt*c.dv)
			seed32 := make([]float32, len(seed))
			for i := range seed {
				seed[i] = r.Float64()*2 - 1
				seed32[i] = float32(seed[i])
			}
			g64, g32 := NewGraph[float64](nil), NewGraph[float32](nil)
			g64.BackwardWith(g64.Attention(in64[0], in64[1], in64[2], c.opt), seed)
			g32.BackwardWith(g32.Attention(in32[0], in32[1], in32[2], c.opt), seed32)
			for j := range in64 {
				var scale float64
				for _, v := range in64[j].Grad {
					scale = math.Max(scale, math.Abs(v))
				}
				for i, v := range in64[j].Grad {
					if d := math.Abs(float64(in32[j].Grad[i]) - v); !(d <= 1e-5*math.Max(scale, 1)) {
						t.Fatalf("input %d gradient %d: float32 %v, float64 %v", j, i, in32[j].Grad[i], v)
					}
				}
			}
		})
	}
}

// Fully masked queries get zero output and zero gradient, never NaN, in both precisions.
func TestAttentionFullyMasked(t *testing.T) {
	opt := AttentionOptions{KeyLens: []int{0, 2}}
	check := func(t *testing.T, data []float64, name string, zeroUpTo int) {
		for i, x := range data {
			if math.IsNaN(x) || i < zeroUpTo && x != 0 {
				t.Fatalf("%s[%d] = %v", name, i, x)
			}
		}
	}
	t.Run("float64", func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 9))
		q, k, v := randParam(r, -1, 1, 2, 1, 3, 2), randParam(r, -1, 1, 2, 1, 4, 2), randParam(r, -1, 1, 2, 1, 4, 2)
		g := NewGraph[float64](nil)
		o := g.Attention(q, k, v, opt)
		g.Backward(g.Sum(g.Square(o)))
		check(t, o.Data, "out", 6)
		check(t, q.Grad, "dq", 6)
		check(t, k.Grad, "dk", 8)
		check(t, v.Grad, "dv", 8)
	})
	t.Run("float32", func(t *testing.T) {
		q, k, v := NewParam[float32](nil, 2, 1, 3, 2), NewParam[float32](nil, 2, 1, 4, 2), NewParam[float32](nil, 2, 1, 4, 2)
		for i := range k.Data {
			k.Data[i], v.Data[i] = float32(i), float32(-i)
		}
		g := NewGraph[float32](nil)
		o := g.Attention(q, k, v, AttentionOptions{Causal: true, KeyLens: []int{0, 2}})
		g.Backward(g.Sum(g.Square(o)))
		for _, d := range [][]float32{o.Data, q.Grad, k.Grad, v.Grad} {
			for i, x := range d {
				if math.IsNaN(float64(x)) {
					t.Fatalf("NaN at %d", i)
				}
			}
		}
	})
}

// Parallel and serial runs must agree exactly: heads are independent and each is
// computed by one goroutine.
func TestAttentionParallel(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	q, k, v := randParam(r, -1, 1, 2, 3, 32, 16), randParam(r, -1, 1, 2, 3, 32, 16), randParam(r, -1, 1, 2, 3, 32, 16)
	run := func(workers int) [][]float64 {
		for _, x := range []*Tensor[float64]{q, k, v} {
			x.ZeroGrad()
		}
		g := NewGraph[float64](nil)
		g.SetWorkers(workers)
		o := g.Attention(q, k, v, AttentionOptions{Causal: true})
		g.Backward(g.Sum(g.Square(o)))
		return [][]float64{append([]float64(nil), o.Data...), append([]float64(nil), q.Grad...),
			append([]float64(nil), k.Grad...), append([]float64(nil), v.Grad...)}
	}
	sameRuns(t, run(1), run(4))
}

// sameRuns fails t unless a serial run's tensors equal a parallel run's exactly.
func sameRuns(t *testing.T, serial, par [][]float64) {
	t.Helper()
	for j := range serial {
		for i := range serial[j] {
			if serial[j][i] != par[j][i] {
				t.Fatalf("tensor %d element %d: serial %v, parallel %v", j, i, serial[j][i], par[j][i])
			}
		}
	}
}

// A training step repeated on the same shapes allocates nothing.
func TestAttentionAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	mk := func(shape ...int) *Tensor[float32] {
		x := NewParam[float32](nil, shape...)
		for i := range x.Data {
			x.Data[i] = r.Float32()*2 - 1
		}
		return x
	}
	q, k, v := mk(2, 2, 8, 4), mk(2, 2, 8, 4), mk(2, 2, 8, 4)
	seed := make([]float32, 2*2*8*4)
	opt := AttentionOptions{Causal: true, KeyLens: []int{8, 5}}
	g := NewGraph[float32](nil)
	g.SetWorkers(1)
	allocs := testing.AllocsPerRun(10, func() {
		g.Reset()
		g.BackwardWith(g.Attention(q, k, v, opt), seed)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per step, want 0", allocs)
	}
}

func TestAttentionPanics(t *testing.T) {
	p := func(shape ...int) *Tensor[float64] { return NewTensor[float64](nil, shape...) }
	for _, c := range []struct {
		name    string
		q, k, v *Tensor[float64]
		opt     AttentionOptions
	}{
		{"rank", p(2, 3, 4), p(2, 3, 4), p(2, 3, 4), AttentionOptions{}},
		{"batch", p(2, 1, 3, 4), p(1, 1, 3, 4), p(1, 1, 3, 4), AttentionOptions{}},
		{"heads", p(1, 2, 3, 4), p(1, 1, 3, 4), p(1, 1, 3, 4), AttentionOptions{}},
		{"dim", p(1, 1, 3, 4), p(1, 1, 3, 5), p(1, 1, 3, 4), AttentionOptions{}},
		{"kv length", p(1, 1, 3, 4), p(1, 1, 3, 4), p(1, 1, 2, 4), AttentionOptions{}},
		{"lens count", p(2, 1, 3, 4), p(2, 1, 3, 4), p(2, 1, 3, 4), AttentionOptions{KeyLens: []int{3}}},
		{"lens range", p(2, 1, 3, 4), p(2, 1, 3, 4), p(2, 1, 3, 4), AttentionOptions{KeyLens: []int{3, 4}}},
		{"lens negative", p(1, 1, 3, 4), p(1, 1, 3, 4), p(1, 1, 3, 4), AttentionOptions{KeyLens: []int{-1}}},
		{"mask size", p(1, 1, 3, 4), p(1, 1, 3, 4), p(1, 1, 3, 4), AttentionOptions{KeyMask: make([]bool, 4)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			NewGraph[float64](nil).Attention(c.q, c.k, c.v, c.opt)
		})
	}
}

func TestAttentionExp32(t *testing.T) {
	for x := float32(-104); x <= 0; x += 0.001 {
		got, want := float64(attnExp32(x)), math.Exp(float64(x))
		// Relative error within float32 rounding, plus half a denormal step below e^-87.
		if math.Abs(got-want) > 2e-7*want+1e-45 {
			t.Fatalf("attnExp32(%v) = %v, want %v", x, got, want)
		}
	}
	if attnExp32(-200) != 0 || attnExp32(0) != 1 {
		t.Fatalf("attnExp32(-200) = %v, attnExp32(0) = %v", attnExp32(-200), attnExp32(0))
	}
}

// BenchmarkAttention runs forward and backward at the size of the transformer of the
// speed target: B=32, H=4, T=S=64, D=64, float32. GFLOP/s counts the nominal
// 4*B*H*T*S*D flops forward and twice that backward (masked entries included).
func BenchmarkAttention(b *testing.B) {
	const nb, nh, nt, d = 32, 4, 64, 64
	r := rand.New(rand.NewPCG(12, 12))
	mk := func(param bool) *Tensor[float32] {
		x := NewTensor[float32](nil, nb, nh, nt, d)
		if param {
			x = NewParam[float32](nil, nb, nh, nt, d)
		}
		for i := range x.Data {
			x.Data[i] = r.Float32()*2 - 1
		}
		return x
	}
	seed := make([]float32, nb*nh*nt*d)
	for i := range seed {
		seed[i] = r.Float32()*2 - 1
	}
	fwd := 4.0 * nb * nh * nt * nt * d
	for _, c := range []struct {
		name     string
		backward bool
		opt      AttentionOptions
	}{
		{"fwd+bwd", true, AttentionOptions{}},
		{"fwd+bwd causal", true, AttentionOptions{Causal: true}},
		{"fwd causal", false, AttentionOptions{Causal: true}},
	} {
		b.Run(c.name, func(b *testing.B) {
			q, k, v := mk(c.backward), mk(c.backward), mk(c.backward)
			g := NewGraph[float32](nil)
			step := func() {
				g.Reset()
				o := g.Attention(q, k, v, c.opt)
				if c.backward {
					g.BackwardWith(o, seed)
				}
			}
			step()
			b.ReportAllocs()
			for b.Loop() {
				step()
			}
			flops := fwd
			if c.backward {
				flops *= 3
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// AttentionQKV equals SplitHeads, Attention and MergeHeads, forward and backward, under
// every mask; its gradients pass the float64 check.
func TestAttentionQKV(t *testing.T) {
	const B, T, H, dh = 2, 5, 3, 4
	opts := []struct {
		name string
		opt  AttentionOptions
	}{
		{"none", AttentionOptions{}},
		{"causal", AttentionOptions{Causal: true}},
		{"lens", AttentionOptions{Causal: true, KeyLens: []int{5, 2}}},
		{"mask", AttentionOptions{KeyMask: []bool{true, false, true, true, false, false, true, true, false, true}, Scale: 0.3}},
		{"none seen", AttentionOptions{KeyLens: []int{0, 3}}},
	}
	r := rand.New(rand.NewPCG(5, 6))
	var cases []gradCase
	for _, c := range opts {
		x := randParam(r, -1, 1, B, T, 3*H*dh)
		w := randParam(r, -1, 1, B, T, H*dh) // weights every output element differently
		split := func(g *Graph[float64], x *Tensor[float64]) *Tensor[float64] {
			q, k, v := g.SplitHeads(x, 0, 3, H), g.SplitHeads(x, 1, 3, H), g.SplitHeads(x, 2, 3, H)
			return g.MergeHeads(g.Attention(q, k, v, c.opt))
		}
		grads := func(f func(g *Graph[float64], x *Tensor[float64]) *Tensor[float64]) ([]float64, []float64) {
			x.ZeroGrad()
			g := NewGraph[float64](nil)
			out := g.Mul(f(g, x), w)
			g.BackwardWith(out, out.Data) // any gradient that differs by element
			return out.Data, append([]float64(nil), x.Grad...)
		}
		wantY, wantD := grads(split)
		gotY, gotD := grads(func(g *Graph[float64], x *Tensor[float64]) *Tensor[float64] { return g.AttentionQKV(x, H, c.opt) })
		for i := range wantY {
			if math.Abs(gotY[i]-wantY[i]) > 1e-12 {
				t.Fatalf("%s: output %d is %v, split heads give %v", c.name, i, gotY[i], wantY[i])
			}
		}
		for i := range wantD {
			if math.Abs(gotD[i]-wantD[i]) > 1e-12 {
				t.Fatalf("%s: gradient %d is %v, split heads give %v", c.name, i, gotD[i], wantD[i])
			}
		}
		opt := c.opt
		cases = append(cases, gradCase{c.name, []*Tensor[float64]{x}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.AttentionQKV(in[0], H, opt)
		}})
	}
	runGradCases(t, cases)
}
