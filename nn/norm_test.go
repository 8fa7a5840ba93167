package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestGradNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	p := func(shape ...int) *Tensor[float64] { return randParam(r, -2, 2, shape...) }
	// Rows far from zero mean, where a naive one-pass variance would cancel.
	offset := p(3, 6)
	for i := range offset.Data {
		offset.Data[i] += 1000
	}
	// x without a gradient: only the parameters' rules run.
	fixed := NewTensor[float64](nil, 3, 5)
	for i := range fixed.Data {
		fixed.Data[i] = r.Float64()*4 - 2
	}
	const eps = DefaultNormEps
	ln := func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
		return g.LayerNorm(in[0], in[1], in[2], eps)
	}
	rms := func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] { return g.RMSNorm(in[0], in[1], eps) }
	x := p(4, 5)
	runGradCases(t, []gradCase{
		{"layernorm 2d", []*Tensor[float64]{p(3, 5), p(5), p(5)}, ln},
		{"layernorm 3d odd", []*Tensor[float64]{p(2, 3, 7), p(7), p(7)}, ln},
		{"layernorm rank 1", []*Tensor[float64]{p(6), p(6), p(6)}, ln},
		{"layernorm n=1", []*Tensor[float64]{p(4, 1), p(1), p(1)}, ln},
		// With n = 2 the output is +-1 up to eps, so a larger eps gives it a gradient
		// central differences can resolve.
		{"layernorm n=2", []*Tensor[float64]{p(3, 2), p(2), p(2)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.LayerNorm(in[0], in[1], in[2], 0.5)
		}},
		{"layernorm offset rows", []*Tensor[float64]{offset, p(6), p(6)}, ln},
		// Rows in more than two of the backward's blocks, the last one short.
		{"layernorm blocks", []*Tensor[float64]{p(2*layerNormBlock+5, 3), p(3), p(3)}, ln},
		{"layernorm no gain no bias", []*Tensor[float64]{p(3, 5)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.LayerNorm(in[0], nil, nil, eps)
		}},
		{"layernorm gain only", []*Tensor[float64]{p(3, 5), p(5)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.LayerNorm(in[0], in[1], nil, eps)
		}},
		{"layernorm bias only", []*Tensor[float64]{p(3, 5), p(5)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.LayerNorm(in[0], nil, in[1], eps)
		}},
		{"layernorm params only", []*Tensor[float64]{p(5), p(5)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.LayerNorm(fixed, in[0], in[1], eps)
		}},
		{"layernorm eps 0.5", []*Tensor[float64]{p(3, 5), p(5), p(5)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.LayerNorm(in[0], in[1], in[2], 0.5)
		}},
		{"rmsnorm 2d", []*Tensor[float64]{p(3, 5), p(5)}, rms},
		{"rmsnorm 3d odd", []*Tensor[float64]{p(2, 3, 7), p(7)}, rms},
		{"rmsnorm n=1", []*Tensor[float64]{p(4, 1), p(1)}, rms},
		{"rmsnorm no gain", []*Tensor[float64]{p(3, 5)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.RMSNorm(in[0], nil, eps)
		}},
		{"rmsnorm gain only", []*Tensor[float64]{p(5)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.RMSNorm(fixed, in[0], eps)
		}},
		// Pre-norm residual block shape: x feeds the norm and the residual.
		{"norms in a chain", []*Tensor[float64]{x, p(5), p(5)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			h := g.LayerNorm(in[0], in[1], in[2], eps)
			return g.Add(g.RMSNorm(h, in[1], eps), in[0])
		}},
	})
}

// slowLayerNorm is the definition, two passes per row in float64.
func slowLayerNorm(x, gain, bias []float64, n int, eps float64, rms bool) []float64 {
	y := make([]float64, len(x))
	for i := 0; i < len(x); i += n {
		row := x[i : i+n]
		var mean, v float64
		if !rms {
			for _, a := range row {
				mean += a
			}
			mean /= float64(n)
		}
		for _, a := range row {
			v += (a - mean) * (a - mean)
		}
		v /= float64(n)
		for j, a := range row {
			y[i+j] = (a - mean) / math.Sqrt(v+eps)
			if gain != nil {
				y[i+j] *= gain[j]
			}
			if bias != nil {
				y[i+j] += bias[j]
			}
		}
	}
	return y
}

func TestNormReference(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, c := range []struct {
		name          string
		shape         []int
		offset, scale float64
		gain, bias    bool
		eps           float64
	}{
		{"plain", []int{4, 8}, 0, 1, true, true, DefaultNormEps},
		{"odd 3d", []int{2, 3, 5}, 0.5, 2, true, false, DefaultNormEps},
		{"offset 1e4", []int{3, 16}, 1e4, 1, false, true, DefaultNormEps},
		{"tiny", []int{3, 7}, 0, 1e-3, true, true, 1e-9},
		{"constant rows", []int{2, 4}, 3, 0, true, true, DefaultNormEps},
		{"n=1", []int{5, 1}, 0, 1, true, true, DefaultNormEps},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := NewTensor[float64](nil, c.shape...)
			for i := range x.Data {
				x.Data[i] = c.offset + c.scale*(2*r.Float64()-1)
			}
			n := x.Dim(-1)
			var gain, bias *Tensor[float64]
			var gd, bd []float64
			if c.gain {
				gain = randParam(r, 0.5, 1.5, n)
				gd = gain.Data
			}
			if c.bias {
				bias = randParam(r, -1, 1, n)
				bd = bias.Data
			}
			g := NewGraph[float64](nil)
			for _, rms := range []bool{false, true} {
				var y *Tensor[float64]
				if rms {
					y = g.RMSNorm(x, gain, c.eps)
				} else {
					y = g.LayerNorm(x, gain, bias, c.eps)
				}
				want := slowLayerNorm(x.Data, gd, bd, n, c.eps, rms)
				if rms && bd != nil {
					for i := range want {
						want[i] -= bd[i%n]
					}
				}
				for i, v := range y.Data {
					if d := math.Abs(v - want[i]); d > 1e-9*math.Max(1, math.Abs(want[i])) || math.IsNaN(v) {
						t.Fatalf("rms=%v: y[%d] = %.17g, want %.17g", rms, i, v, want[i])
					}
				}
			}
		})
	}
}

// to32 converts a float64 tensor to float32 (data only).
func to32(x *Tensor[float64]) *Tensor[float32] {
	d := make([]float32, len(x.Data))
	for i, v := range x.Data {
		d[i] = float32(v)
	}
	return NewTensor(d, x.Shape()...)
}

// to64 converts a float32 tensor to float64 exactly.
func to64(x *Tensor[float32]) *Tensor[float64] {
	d := make([]float64, len(x.Data))
	for i, v := range x.Data {
		d[i] = float64(v)
	}
	return NewTensor(d, x.Shape()...)
}

// agree32 checks float32 results against float64 ones elementwise: the bound is
// 1e-5 relative, measured against max(|want|, floor) so values near zero (a normalised
// row crosses zero) are held to the scale of their tensor instead.
func agree32(t *testing.T, what string, got []float32, want []float64, floor float64) {
	t.Helper()
	const tol = 1e-5
	for i, w := range want {
		if d := math.Abs(float64(got[i]) - w); !(d <= tol*math.Max(math.Abs(w), floor)) {
			t.Fatalf("%s: float32 [%d] = %.9g, float64 %.17g (difference %.3g)", what, i, got[i], w, d)
		}
	}
}

func TestNormFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	x32 := to32(randParam(r, -3, 3, 64, 257))
	x32.Data[0] += 1 // one row with an offset mean
	gain32, bias32 := to32(randParam(r, 0.5, 1.5, 257)), to32(randParam(r, -1, 1, 257))
	x64, gain64, bias64 := to64(x32), to64(gain32), to64(bias32)
	g32, g64 := NewGraph[float32](nil), NewGraph[float64](nil)
	agree32(t, "LayerNorm", g32.LayerNorm(x32, gain32, bias32, DefaultNormEps).Data, g64.LayerNorm(x64, gain64, bias64, DefaultNormEps).Data, 1)
	agree32(t, "RMSNorm", g32.RMSNorm(x32, gain32, DefaultNormEps).Data, g64.RMSNorm(x64, gain64, DefaultNormEps).Data, 1)
}

// benchNorm runs forward and backward of a normalisation of [2048, 256] float32 in a
// Reset loop and reports elements per second and the bytes of x, y, dy and dx touched.
func benchNorm(b *testing.B, op func(g *Graph[float32], x, gain, bias *Tensor[float32]) *Tensor[float32]) {
	const rows, n = 2048, 256
	r := rand.New(rand.NewPCG(6, 6))
	x := NewParam[float32](nil, rows, n)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	gain, bias := NewParam[float32](nil, n), NewParam[float32](nil, n)
	for i := range gain.Data {
		gain.Data[i] = 1
	}
	dy := make([]float32, rows*n)
	for i := range dy {
		dy[i] = float32(r.NormFloat64())
	}
	g := NewGraph[float32](nil)
	step := func() {
		g.Reset()
		y := op(g, x, gain, bias)
		g.BackwardWith(y, dy)
	}
	step() // warm the arena
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(rows*n/sec/1e6, "Melem/s")
	b.ReportMetric(4*4*rows*n/sec/1e9, "GB/s")
}

func BenchmarkLayerNorm(b *testing.B) {
	benchNorm(b, func(g *Graph[float32], x, gain, bias *Tensor[float32]) *Tensor[float32] {
		return g.LayerNorm(x, gain, bias, DefaultNormEps)
	})
}

func BenchmarkRMSNorm(b *testing.B) {
	benchNorm(b, func(g *Graph[float32], x, gain, _ *Tensor[float32]) *Tensor[float32] {
		return g.RMSNorm(x, gain, DefaultNormEps)
	})
}

// LayerNorm gives the same values and gradients whatever the number of workers: rows
// are independent, and the parameters' gradients are summed in blocks of fixed rows.
// The sizes are large enough that the forward pass, the backward's blocks and the
// backward without parameters (dx alone) are all split over the pool.
func TestLayerNormParallel(t *testing.T) {
	const rows, n = 8*layerNormBlock + 7, 64
	if !split(4, rows, 4*n) || !split(4, rows, 8*n) || !split(4, (rows+layerNormBlock-1)/layerNormBlock, 8*n*layerNormBlock) {
		t.Fatalf("%d rows of %d are not split over 4 workers: the test would compare serial runs", rows, n)
	}
	r := rand.New(rand.NewPCG(12, 12))
	x, gain, bias := randParam(r, -2, 2, rows, n), randParam(r, -2, 2, n), randParam(r, -2, 2, n)
	for _, params := range []bool{true, false} {
		run := func(workers int) [][]float64 {
			for _, p := range []*Tensor[float64]{x, gain, bias} {
				p.ZeroGrad()
			}
			g := NewGraph[float64](nil)
			g.SetWorkers(workers)
			var y *Tensor[float64]
			if params {
				y = g.LayerNorm(x, gain, bias, DefaultNormEps)
			} else {
				y = g.LayerNorm(x, nil, nil, DefaultNormEps)
			}
			g.Backward(g.Sum(g.Square(y)))
			out := [][]float64{append([]float64(nil), y.Data...), append([]float64(nil), x.Grad...)}
			if params {
				out = append(out, append([]float64(nil), gain.Grad...), append([]float64(nil), bias.Grad...))
			}
			return out
		}
		sameRuns(t, run(1), run(4))
	}
}
