package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// freshCases are graphs in which intermediate tensors' gradients are first written by
// rules that overwrite rather than add (residual Add, products, layer norm, heads,
// attention) or zeroed just before a rule adds to them (views, other rules, rules
// defined with OnBackward, tensors no gradient reaches).
func freshCases(r *rand.Rand) []gradCase {
	p := func(shape ...int) *Tensor[float64] { return randParam(r, -1, 1, shape...) }
	const B, L, d, heads = 2, 3, 8, 2
	block := []*Tensor[float64]{p(B, L, d), p(d), p(d), p(d, 3*d), p(3 * d), p(d, d), p(d), p(d, 2*d), p(2 * d), p(2*d, d), p(d)}
	return []gradCase{
		// A transformer block: x + f(LN(x)) twice.
		{"block", block, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			x := in[0]
			h := g.LayerNorm(x, in[1], in[2], DefaultNormEps)
			qkv := g.Linear(h, in[3], in[4])
			q, k, v := g.SplitHeads(qkv, 0, 3, heads), g.SplitHeads(qkv, 1, 3, heads), g.SplitHeads(qkv, 2, 3, heads)
			a := g.MergeHeads(g.Attention(q, k, v, AttentionOptions{Causal: true, KeyMask: []bool{true, false, true, false, true, true}}))
			x = g.Add(x, g.Linear(a, in[5], in[6]))
			h = g.LayerNorm(x, in[1], in[2], DefaultNormEps)
			return g.Add(x, g.Linear(g.LinearGELU(h, in[7], in[8]), in[9], in[10]))
		}},
		// The same with the fused attention, whose input feeds a product too.
		{"block qkv", block, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			x := in[0]
			qkv := g.Linear(g.LayerNorm(x, in[1], in[2], DefaultNormEps), in[3], in[4])
			y := g.MatMulT(qkv, in[3]) // its rule runs after the attention's, which writes first
			x = g.Add(x, g.Linear(g.AttentionQKV(qkv, heads, AttentionOptions{Causal: true, KeyLens: []int{3, 1}}), in[5], in[6]))
			return g.Add(x, y)
		}},
		// One tensor on both sides of an Add, a difference, a product, a bias.
		{"add self", []*Tensor[float64]{p(3, 5), p(5, 4), p(4)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			h := g.MatMul(in[0], in[1])
			s := g.Add(h, h)
			u := g.Sub(s, g.MatMul(in[0], in[1]))
			return g.Mul(g.Add(u, in[2]), h)
		}},
		// A view of a tensor whose gradient also comes from elsewhere, and a tensor
		// that needs a gradient but reaches no output.
		{"view unused", []*Tensor[float64]{p(2, 6), p(6, 6)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			h := g.MatMul(in[0], in[1])
			g.MatMul(h, in[1]) // unused
			v := g.Reshape(h, 3, 4)
			return g.Add(g.Reshape(g.Square(v), 2, 6), h)
		}},
		// A cross-entropy over intermediate logits with an ignored position, and
		// logits that also feed another output (the loss's rule runs first).
		{"cross-entropy", []*Tensor[float64]{p(4, 5), p(5, 6)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			logits := g.MatMul(in[0], in[1])
			sq := g.Sum(g.Square(logits))
			return g.Add(sq, g.CrossEntropy(logits, []int{1, IgnoreIndex, 5, 0}, CrossEntropyOptions{LabelSmoothing: 0.1}))
		}},
		// A rule defined outside the package adding into a tensor first reached by it.
		{"custom", []*Tensor[float64]{p(3, 4), p(4, 4)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			h := g.MatMul(in[0], in[1])
			return g.Add(customSquare(g, h, false), g.MatMul(h, in[1]))
		}},
		// The same naming its input, after a rule that writes h's gradient first.
		{"custom named", []*Tensor[float64]{p(3, 4), p(4, 4)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			h := g.MatMul(in[0], in[1])
			k := g.MatMul(h, in[1])
			return g.Add(g.MatMul(customSquare(g, h, true), in[1]), k)
		}},
	}
}

// customSquare is x*x as an operation defined with OnBackward, naming its input when
// named is set.
func customSquare(g *Graph[float64], x *Tensor[float64], named bool) *Tensor[float64] {
	out := g.New(true, x.Shape()...)
	for i, v := range x.Data {
		out.Data[i] = v * v
	}
	rule := func() {
		for i, v := range x.Data {
			x.Grad[i] += 2 * v * out.Grad[i]
		}
	}
	if named {
		g.OnBackward(out, rule, x)
	} else {
		g.OnBackward(out, rule)
	}
	return out
}

func TestGradFresh(t *testing.T) {
	runGradCases(t, freshCases(rand.New(rand.NewPCG(7, 7))))
}

// TestBackwardOverStaleBuffers runs each fresh case on a graph whose recycled
// buffers hold NaN: gradients must not depend on what earlier passes left, and must
// equal those of a first pass (whose buffers are new, so zero) exactly.
func TestBackwardOverStaleBuffers(t *testing.T) {
	for _, c := range freshCases(rand.New(rand.NewPCG(7, 7))) {
		t.Run(c.name, func(t *testing.T) {
			grads := func(g *Graph[float64]) ([][]float64, []*Tensor[float64]) {
				for _, in := range c.inputs {
					in.ZeroGrad()
				}
				out := c.f(g, c.inputs)
				proj := make([]float64, out.Len())
				for i := range proj {
					proj[i] = math.Sin(float64(i))
				}
				g.BackwardWith(out, proj)
				var gs [][]float64
				for _, in := range c.inputs {
					gs = append(gs, append([]float64(nil), in.Grad...))
				}
				return gs, g.tensors[:g.nextT]
			}
			want, _ := grads(NewGraph[float64](nil))
			g := NewGraph[float64](nil)
			grads(g)
			g.Reset()
			for _, class := range g.free {
				for _, b := range class {
					b = b[:cap(b)]
					for i := range b {
						b[i] = math.NaN()
					}
				}
			}
			got, tensors := grads(g)
			for k := range want {
				for i := range want[k] {
					if got[k][i] != want[k][i] {
						t.Fatalf("input %d element %d: gradient %v over stale buffers, %v over new ones", k, i, got[k][i], want[k][i])
					}
				}
			}
			for k, x := range tensors {
				for i, v := range x.Grad {
					if math.IsNaN(v) {
						t.Fatalf("tensor %d %v: gradient element %d is NaN after Backward", k, x, i)
					}
				}
			}
		})
	}
}
