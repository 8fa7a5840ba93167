package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// GradCheck compares the gradients Backward computes for f with central differences,
// in float64. f builds its output on the graph it is given from inputs (which must need
// gradients, see NewParam); it is called once for the analytic gradient and twice per
// input element. The output is reduced to a scalar by a fixed random projection, so
// every output element's gradient path is exercised.
//
// It returns the largest relative error over the inputs, each measured as
// |analytic - numeric| / max(|analytic|, |numeric|) in the 2-norm over the input's
// elements, and the name (index) of the worst input.
func GradCheck(f func(g *Graph[float64]) *Tensor[float64], inputs ...*Tensor[float64]) (worst float64, which int) {
	const h = 1e-6
	rng := rand.New(rand.NewPCG(1, 2))
	g := NewGraph[float64](rand.New(rand.NewPCG(3, 4)))
	out := f(g)
	proj := make([]float64, out.Len())
	for i := range proj {
		proj[i] = rng.Float64()*2 - 1
	}
	for _, in := range inputs {
		if !in.needs {
			panic("nn: GradCheck input does not need a gradient; make it with NewParam")
		}
		in.ZeroGrad()
	}
	g.BackwardWith(out, proj)
	loss := func() float64 {
		g := NewGraph[float64](rand.New(rand.NewPCG(3, 4)))
		o := f(g)
		s := 0.0
		for i, v := range o.Data {
			s += v * proj[i]
		}
		return s
	}
	for k, in := range inputs {
		var num2, diff2, ana2 float64
		for j := range in.Data {
			old := in.Data[j]
			in.Data[j] = old + h
			lp := loss()
			in.Data[j] = old - h
			lm := loss()
			in.Data[j] = old
			num := (lp - lm) / (2 * h)
			a := in.Grad[j]
			num2 += num * num
			ana2 += a * a
			diff2 += (a - num) * (a - num)
		}
		den := math.Max(math.Sqrt(num2), math.Sqrt(ana2))
		var rel float64
		if den > 1e-12 {
			rel = math.Sqrt(diff2) / den
		} else {
			rel = math.Sqrt(diff2)
		}
		if rel > worst || k == 0 {
			worst, which = rel, k
		}
	}
	return worst, which
}

// BackwardWith runs the tape backwards from out with the given gradient of some scalar
// with respect to out (len(grad) == out.Len()).
func (g *Graph[T]) BackwardWith(out *Tensor[T], grad []T) {
	if len(grad) != out.Len() {
		panic(fmt.Sprintf("nn: BackwardWith: %d gradient values for shape %v", len(grad), out.Shape()))
	}
	if !out.needs {
		return
	}
	// Gradient buffers are handed out without zeroing (fresh): most are written in
	// full by the first rule that reaches them (a residual Add's, a product's), and
	// the others are zeroed by gradOf or below just before a rule adds to them.
	for i := range g.tape {
		r := &g.tape[i]
		if r.view {
			if r.a.Grad == nil {
				r.a.Grad = g.buf(len(r.a.Data))
			}
			gradOf(r.a) // views share a's buffer, so it accumulates from the start
			r.out.Grad = r.a.Grad
			continue
		}
		if r.out.Grad == nil {
			r.out.Grad = g.bufZ(len(r.out.Data), false)
			r.out.fresh = true
		}
	}
	copy(out.Grad, grad)
	out.fresh = false
	for i := len(g.tape) - 1; i >= 0; i-- {
		r := &g.tape[i]
		if r.view {
			continue // no rule: its gradient is a's buffer already
		}
		gradOf(r.out) // no rule reached it: its gradient is zero
		switch {
		case r.fn != nil && r.a == nil:
			// A rule defined outside the package that names no inputs: zero every
			// gradient not yet written of the tensors made before its output.
			g.zeroFresh(r.out)
		case !r.own:
			gradOf(r.a)
			gradOf(r.b)
			gradOf(r.c)
		}
		r.bw(g, r)
	}
	g.zeroFresh(nil) // tensors no gradient reached read as zero
}

// zeroFresh zeroes the gradient of every tensor of the pass made before until (all
// of them if until is nil or not the graph's) that no rule has written.
func (g *Graph[T]) zeroFresh(until *Tensor[T]) {
	for _, t := range g.tensors[:g.nextT] {
		if t == until {
			return
		}
		gradOf(t)
	}
}
