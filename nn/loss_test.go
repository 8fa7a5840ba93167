package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randMask keeps each position with probability keep; rows listed in dead keep nothing.
func randMask(r *rand.Rand, rows, n int, keep float64, dead ...int) []bool {
	m := make([]bool, rows*n)
	for i := range m {
		m[i] = r.Float64() < keep
	}
	for _, d := range dead {
		clear(m[d*n : d*n+n])
	}
	return m
}

func TestGradSoftmax(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	p := func(shape ...int) *Tensor[float64] { return randParam(r, -3, 3, shape...) }
	big := p(3, 5)
	for i := range big.Data {
		big.Data[i] += 1000 // exp would overflow without the max subtracted
	}
	perElem := randMask(r, 6, 7, 0.6, 2) // row 2 fully masked
	perElem[4*7+3] = true                // row 4 keeps exactly one position
	for j := range 7 {
		if j != 3 {
			perElem[4*7+j] = false
		}
	}
	causal := make([]bool, 3*3) // [tq, tk] over [2, 3, 3]
	for q := range 3 {
		for k := 0; k <= q; k++ {
			causal[q*3+k] = true
		}
	}
	oneRow := []bool{true, false, true, true, false, true, true}
	type op struct {
		name string
		f    func(g *Graph[float64], x *Tensor[float64], mask []bool) *Tensor[float64]
	}
	var cases []gradCase
	for _, o := range []op{{"softmax", (*Graph[float64]).Softmax}, {"logsoftmax", (*Graph[float64]).LogSoftmax}} {
		with := func(mask []bool) func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] { return o.f(g, in[0], mask) }
		}
		cases = append(cases,
			gradCase{o.name + " 2d", []*Tensor[float64]{p(3, 5)}, with(nil)},
			gradCase{o.name + " 3d odd", []*Tensor[float64]{p(2, 3, 7)}, with(nil)},
			gradCase{o.name + " rank 1", []*Tensor[float64]{p(5)}, with(nil)},
			gradCase{o.name + " n=1", []*Tensor[float64]{p(4, 1)}, with(nil)},
			gradCase{o.name + " large values", []*Tensor[float64]{big}, with(nil)},
			gradCase{o.name + " per-element mask", []*Tensor[float64]{p(6, 7)}, with(perElem)},
			gradCase{o.name + " per-element mask 3d", []*Tensor[float64]{p(2, 3, 7)}, with(perElem)},
			gradCase{o.name + " causal mask", []*Tensor[float64]{p(2, 3, 3)}, with(causal)},
			gradCase{o.name + " one-row mask", []*Tensor[float64]{p(4, 7)}, with(oneRow)},
			// Softmax feeding a product, as attention weights do.
			gradCase{o.name + " then mul", []*Tensor[float64]{p(3, 5), p(3, 5)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
				return g.Mul(o.f(g, in[0], perElem[:15]), in[1])
			}},
		)
	}
	runGradCases(t, cases)
}

// slowSoftmax is the definition for kept positions, log p_j = -log sum_k exp(x_k - x_j),
// O(n^2) per row: each j gets its own sum, shifted by the largest x_k - x_j so it cannot
// overflow.
func slowSoftmax(x []float64, mask []bool, n int, log bool) []float64 {
	y := make([]float64, len(x))
	for i := 0; i < len(x); i += n {
		mr := mask
		if mask != nil {
			mr = mask[i%len(mask) : i%len(mask)+n]
		}
		for j := range n {
			if mr != nil && !mr[j] {
				continue
			}
			var top, s float64
			for k := range n {
				if mr == nil || mr[k] {
					top = max(top, x[i+k]-x[i+j])
				}
			}
			for k := range n {
				if mr == nil || mr[k] {
					s += math.Exp(x[i+k] - x[i+j] - top)
				}
			}
			y[i+j] = -top - math.Log(s)
			if !log {
				y[i+j] = math.Exp(y[i+j])
			}
		}
	}
	return y
}

func TestSoftmaxReference(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for _, c := range []struct {
		name          string
		shape         []int
		offset, scale float64
		mask          []bool
	}{
		{"plain", []int{4, 9}, 0, 3, nil},
		{"offset 1000", []int{3, 5}, 1000, 10, nil},
		{"offset -1000", []int{3, 5}, -1000, 10, nil},
		{"wide spread", []int{2, 6}, 0, 60, nil},
		{"mask", []int{5, 6}, 0, 3, randMask(r, 5, 6, 0.5, 1)},
		{"broadcast mask", []int{2, 5, 6}, 0, 3, randMask(r, 5, 6, 0.5, 3)},
		{"n=1", []int{3, 1}, 0, 3, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := NewTensor[float64](nil, c.shape...)
			for i := range x.Data {
				x.Data[i] = c.offset + c.scale*(2*r.Float64()-1)
			}
			n := x.Dim(-1)
			g := NewGraph[float64](nil)
			for _, log := range []bool{false, true} {
				var y *Tensor[float64]
				if log {
					y = g.LogSoftmax(x, c.mask)
				} else {
					y = g.Softmax(x, c.mask)
				}
				want := slowSoftmax(x.Data, c.mask, n, log)
				for i, v := range y.Data {
					if d := math.Abs(v - want[i]); !(d <= 1e-12*math.Max(1, math.Abs(want[i]))) {
						t.Fatalf("log=%v: y[%d] = %.17g, want %.17g", log, i, v, want[i])
					}
				}
			}
		})
	}
}

// Excluded positions and dead rows: exact zeros in value and gradient, never NaN, in
// both precisions.
func TestSoftmaxDeadRows(t *testing.T) {
	testDeadRows[float64](t)
	testDeadRows[float32](t)
}

func testDeadRows[T Float](t *testing.T) {
	inf := math.Inf(-1)
	// Row 0: mixed mask. Row 1: fully masked. Row 2: kept values all -Inf (no mask
	// needed). Row 3: huge masked values must not leak.
	x := NewParam([]T{
		1, 2, 3, 4,
		5, 6, 7, 8,
		T(inf), T(inf), T(inf), T(inf),
		1, 1e30, 2, T(math.NaN()),
	}, 4, 4)
	mask := []bool{
		true, false, true, false,
		false, false, false, false,
		true, true, true, true,
		true, false, true, false,
	}
	dy := []T{1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 15, -16}
	for _, log := range []bool{false, true} {
		name := fmt.Sprintf("%T log=%v", T(0), log)
		g := NewGraph[T](nil)
		x.ZeroGrad()
		var y *Tensor[T]
		if log {
			y = g.LogSoftmax(x, mask)
		} else {
			y = g.Softmax(x, mask)
		}
		g.BackwardWith(y, dy)
		for i, v := range y.Data {
			if math.IsNaN(float64(v)) || math.IsNaN(float64(x.Grad[i])) {
				t.Fatalf("%s: NaN at %d: y %v, dx %v", name, i, y.Data, x.Grad)
			}
			if !mask[i] && (v != 0 || x.Grad[i] != 0) {
				t.Fatalf("%s: excluded position %d has y %v, dx %v", name, i, v, x.Grad[i])
			}
		}
		for _, row := range []int{1, 2} {
			for j := range 4 {
				if y.Data[row*4+j] != 0 || x.Grad[row*4+j] != 0 {
					t.Fatalf("%s: dead row %d: y %v, dx %v", name, row, y.Data[row*4:row*4+4], x.Grad[row*4:row*4+4])
				}
			}
		}
		// Row 0 over its kept positions 1 and 3: p = (1/(1+e^2), e^2/(1+e^2)).
		p0 := 1 / (1 + math.Exp(2))
		want := p0
		if log {
			want = math.Log(p0)
		}
		if math.Abs(float64(y.Data[0])-want) > 1e-6 {
			t.Fatalf("%s: row 0 y[0] = %v, want %v", name, y.Data[0], want)
		}
		// Row 3 over positions 0 and 2, the 1e30 and the NaN excluded: p = 1/(1+e).
		if p3 := 1 / (1 + math.E); !log && math.Abs(float64(y.Data[12])-p3) > 1e-6 {
			t.Fatalf("%s: row 3 y[0] = %v, want %v", name, y.Data[12], p3)
		}
	}
	// NaN in a kept position is not hidden.
	g := NewGraph[T](nil)
	y := g.Softmax(NewTensor([]T{T(math.NaN()), 1, 2}, 3), nil)
	if !math.IsNaN(float64(y.Data[1])) {
		t.Fatalf("%T: softmax of a NaN row gave %v", T(0), y.Data)
	}
}

// ceCase is one CrossEntropy configuration shared by the value and gradient tests.
type ceCase struct {
	name    string
	shape   []int
	scale   float64
	targets []int
	opts    CrossEntropyOptions
}

func ceCases() []ceCase {
	return []ceCase{
		{"plain", []int{4, 7}, 3, []int{0, 6, 3, 2}, CrossEntropyOptions{}},
		{"3d logits", []int{2, 3, 5}, 3, []int{4, 0, 1, 1, 2, 3}, CrossEntropyOptions{}},
		{"ignored", []int{5, 6}, 3, []int{1, IgnoreIndex, 5, IgnoreIndex, 0}, CrossEntropyOptions{}},
		{"all ignored", []int{3, 4}, 3, []int{IgnoreIndex, IgnoreIndex, IgnoreIndex}, CrossEntropyOptions{}},
		{"smoothing", []int{4, 7}, 3, []int{0, 6, 3, 2}, CrossEntropyOptions{LabelSmoothing: 0.1}},
		{"smoothing 1", []int{3, 5}, 3, []int{0, 4, 2}, CrossEntropyOptions{LabelSmoothing: 1}},
		{"weights", []int{4, 7}, 3, []int{0, 6, IgnoreIndex, 2}, CrossEntropyOptions{Weights: []float64{0.5, 2, 7, 0}}},
		{"weights smoothing", []int{4, 5}, 3, []int{1, 2, 3, 4}, CrossEntropyOptions{LabelSmoothing: 0.2, Weights: []float64{1, 0.25, 3, 2}}},
		{"V=1", []int{3, 1}, 3, []int{0, 0, IgnoreIndex}, CrossEntropyOptions{}},
		{"rank 1", []int{6}, 3, []int{5}, CrossEntropyOptions{}},
		{"large logits", []int{3, 6}, 500, []int{1, 2, 3}, CrossEntropyOptions{LabelSmoothing: 0.1}},
	}
}

// slowCrossEntropy is the definition in float64: -sum_j q_j log p_j per counted row with
// log p from slowSoftmax, weighted mean over counted rows.
func slowCrossEntropy(x []float64, v int, targets []int, opts CrossEntropyOptions) float64 {
	logp := slowSoftmax(x, nil, v, true)
	eps := opts.LabelSmoothing
	var loss, wsum float64
	for i, t := range targets {
		if t == IgnoreIndex {
			continue
		}
		w := 1.0
		if opts.Weights != nil {
			w = opts.Weights[i]
		}
		var l float64
		for j := range v {
			q := eps / float64(v)
			if j == t {
				q += 1 - eps
			}
			l -= q * logp[i*v+j]
		}
		loss += w * l
		wsum += w
	}
	if wsum == 0 {
		return 0
	}
	return loss / wsum
}

func ceLogits(r *rand.Rand, c ceCase) *Tensor[float64] {
	return randParam(r, -c.scale, c.scale, c.shape...)
}

func TestCrossEntropyReference(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, c := range ceCases() {
		t.Run(c.name, func(t *testing.T) {
			x := ceLogits(r, c)
			g := NewGraph[float64](nil)
			loss := g.CrossEntropy(x, c.targets, c.opts)
			want := slowCrossEntropy(x.Data, x.Dim(-1), c.targets, c.opts)
			if loss.Len() != 1 || loss.Rank() != 0 {
				t.Fatalf("loss has shape %v, want a scalar", loss.Shape())
			}
			if d := math.Abs(loss.Data[0] - want); !(d <= 1e-12*math.Max(1, math.Abs(want))) {
				t.Fatalf("loss %.17g, want %.17g", loss.Data[0], want)
			}
			// Gradient of ignored and zero-weight rows is exactly zero; no NaN anywhere.
			g.Backward(loss)
			v := x.Dim(-1)
			for i, tg := range c.targets {
				zero := tg == IgnoreIndex || (c.opts.Weights != nil && c.opts.Weights[i] == 0)
				for j := range v {
					d := x.Grad[i*v+j]
					if math.IsNaN(d) || (zero && d != 0) {
						t.Fatalf("row %d (target %d): gradient %v", i, tg, x.Grad[i*v:i*v+v])
					}
				}
			}
		})
	}
}

func TestGradCrossEntropy(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	var cases []gradCase
	for _, c := range ceCases() {
		cases = append(cases, gradCase{"crossentropy " + c.name, []*Tensor[float64]{ceLogits(r, c)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
			return g.CrossEntropy(in[0], c.targets, c.opts)
		}})
	}
	// Logits from a layer, and the loss scaled: the rule must use the upstream gradient.
	cases = append(cases, gradCase{"crossentropy after matmul", []*Tensor[float64]{randParam(r, -1, 1, 4, 3), randParam(r, -1, 1, 3, 6)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] {
		return g.Scale(g.CrossEntropy(g.MatMul(in[0], in[1]), []int{5, IgnoreIndex, 0, 2}, CrossEntropyOptions{LabelSmoothing: 0.05}), 3)
	}})
	runGradCases(t, cases)
}

func TestMSE(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	p := func(shape ...int) *Tensor[float64] { return randParam(r, -2, 2, shape...) }
	pred, target := p(3, 5), p(3, 5)
	var want float64
	for i, v := range pred.Data {
		want += (v - target.Data[i]) * (v - target.Data[i])
	}
	want /= 15
	if got := NewGraph[float64](nil).MSE(pred, target).Data[0]; math.Abs(got-want) > 1e-14 {
		t.Fatalf("MSE %.17g, want %.17g", got, want)
	}
	if got := NewGraph[float64](nil).MSE(NewTensor[float64](nil, 0, 3), NewTensor[float64](nil, 0, 3)).Data[0]; got != 0 {
		t.Fatalf("MSE of empty tensors %v, want 0", got)
	}
	fixed := NewTensor(append([]float64(nil), target.Data...), 3, 5)
	runGradCases(t, []gradCase{
		{"mse both", []*Tensor[float64]{p(3, 5), p(3, 5)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] { return g.MSE(in[0], in[1]) }},
		{"mse odd 3d", []*Tensor[float64]{p(2, 3, 7), p(2, 3, 7)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] { return g.MSE(in[0], in[1]) }},
		{"mse constant target", []*Tensor[float64]{p(3, 5)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] { return g.MSE(in[0], fixed) }},
		{"mse constant pred", []*Tensor[float64]{p(3, 5)}, func(g *Graph[float64], in []*Tensor[float64]) *Tensor[float64] { return g.MSE(fixed, in[0]) }},
	})
}

func TestLossFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	const rows, n = 48, 333
	x32 := to32(randParam(r, -8, 8, rows, n))
	x64 := to64(x32)
	mask := randMask(r, rows, n, 0.7, 5)
	targets := make([]int, rows)
	for i := range targets {
		targets[i] = r.IntN(n)
	}
	targets[3] = IgnoreIndex
	g32, g64 := NewGraph[float32](nil), NewGraph[float64](nil)
	for _, m := range [][]bool{nil, mask} {
		// Probabilities relative to themselves: exp and the sum are accurate to a few
		// float32 ulps however small p is (no underflow in this range).
		agree32(t, "Softmax", g32.Softmax(x32, m).Data, g64.Softmax(x64, m).Data, 0)
		agree32(t, "LogSoftmax", g32.LogSoftmax(x32, m).Data, g64.LogSoftmax(x64, m).Data, 1)
	}
	for _, opts := range []CrossEntropyOptions{{}, {LabelSmoothing: 0.1}} {
		agree32(t, "CrossEntropy", g32.CrossEntropy(x32, targets, opts).Data, g64.CrossEntropy(x64, targets, opts).Data, 0)
	}
	p32, t32 := to32(randParam(r, -1, 1, 7, 9)), to32(randParam(r, -1, 1, 7, 9))
	agree32(t, "MSE", g32.MSE(p32, t32).Data, g64.MSE(to64(p32), to64(t32)).Data, 0)

	// exp32 against math.Exp over float32's whole normal range, relative.
	var worst float64
	for i := range 200000 {
		x := float32(exp32Lo + (88.7-exp32Lo)*float64(i)/200000)
		var e [1]float32
		expShift32(e[:], []float32{x}, 0)
		want := math.Exp(float64(x))
		if want < math.SmallestNonzeroFloat32*(1<<23) {
			continue
		}
		worst = max(worst, math.Abs(float64(e[0])-want)/want)
	}
	if worst > 1.5/(1<<24) {
		t.Fatalf("exp32 relative error %.3g, want within 1.5 float32 half-ulps", worst)
	}
}

// After warm-up a training step of these operations allocates nothing.
func TestLossAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	x := NewParam[float32](nil, 2, 8, 16)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	gain, bias := NewParam[float32](nil, 16), NewParam[float32](nil, 16)
	target := NewTensor[float32](nil, 2, 8, 16)
	mask := randMask(r, 8, 16, 0.5, 2)
	targets := make([]int, 16)
	for i := range targets {
		targets[i] = r.IntN(16)
	}
	targets[4] = IgnoreIndex
	g := NewGraph[float32](nil)
	step := func() {
		g.Reset()
		h := g.LayerNorm(x, gain, bias, DefaultNormEps)
		h = g.RMSNorm(h, gain, DefaultNormEps)
		s := g.Softmax(h, mask)
		l := g.LogSoftmax(s, mask)
		g.MSE(h, target) // its rule runs with a zero upstream gradient
		g.Backward(g.CrossEntropy(l, targets, CrossEntropyOptions{LabelSmoothing: 0.1}))
	}
	step()
	if a := testing.AllocsPerRun(20, step); a != 0 {
		t.Fatalf("%v allocations per step, want 0", a)
	}
}

// Every invalid call panics with a message naming what was wrong.
func TestLossPanics(t *testing.T) {
	g := NewGraph[float64](nil)
	x := NewTensor[float64](nil, 4, 3)
	scalar := NewTensor[float64](nil)
	for _, c := range []struct {
		name, want string
		f          func()
	}{
		{"softmax mask length", "mask of 5", func() { g.Softmax(x, make([]bool, 5)) }},
		{"softmax mask rows", "mask of 9", func() { g.Softmax(x, make([]bool, 9)) }},
		{"softmax empty mask", "mask of 0", func() { g.Softmax(x, []bool{}) }},
		{"logsoftmax mask", "mask of 2", func() { g.LogSoftmax(x, make([]bool, 2)) }},
		{"softmax scalar", "scalar", func() { g.Softmax(scalar, nil) }},
		{"ce targets", "2 targets", func() { g.CrossEntropy(x, []int{0, 1}, CrossEntropyOptions{}) }},
		{"ce target range", "target 3", func() { g.CrossEntropy(x, []int{0, 1, 3, 0}, CrossEntropyOptions{}) }},
		{"ce negative target", "target -2", func() { g.CrossEntropy(x, []int{0, -2, 1, 0}, CrossEntropyOptions{}) }},
		{"ce smoothing", "smoothing", func() { g.CrossEntropy(x, []int{0, 1, 2, 0}, CrossEntropyOptions{LabelSmoothing: 1.5}) }},
		{"ce weights length", "3 weights", func() { g.CrossEntropy(x, []int{0, 1, 2, 0}, CrossEntropyOptions{Weights: []float64{1, 1, 1}}) }},
		{"ce negative weight", "weight -1", func() {
			g.CrossEntropy(x, []int{0, 1, 2, 0}, CrossEntropyOptions{Weights: []float64{1, -1, 1, 1}})
		}},
		{"ce scalar", "scalar", func() { g.CrossEntropy(scalar, []int{0}, CrossEntropyOptions{}) }},
		{"mse shapes", "[4 3] and [3 4]", func() { g.MSE(x, NewTensor[float64](nil, 3, 4)) }},
		{"layernorm gain", "shape [4]", func() { g.LayerNorm(x, NewTensor[float64](nil, 4), nil, DefaultNormEps) }},
		{"layernorm bias rank", "shape [1 3]", func() { g.LayerNorm(x, nil, NewTensor[float64](nil, 1, 3), DefaultNormEps) }},
		{"layernorm eps", "eps -1", func() { g.LayerNorm(x, nil, nil, -1) }},
		{"rmsnorm gain", "shape [2]", func() { g.RMSNorm(x, NewTensor[float64](nil, 2), DefaultNormEps) }},
		{"rmsnorm eps", "eps NaN", func() { g.RMSNorm(x, nil, math.NaN()) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				msg := fmt.Sprint(recover())
				if !strings.Contains(msg, c.want) {
					t.Fatalf("panic %q, want one mentioning %q", msg, c.want)
				}
			}()
			c.f()
		})
	}
}

func BenchmarkSoftmax(b *testing.B) {
	const rows, n = 2048, 256
	r := rand.New(rand.NewPCG(14, 14))
	x := NewParam[float32](nil, rows, n)
	for i := range x.Data {
		x.Data[i] = float32(3 * r.NormFloat64())
	}
	dy := make([]float32, rows*n)
	for i := range dy {
		dy[i] = float32(r.NormFloat64())
	}
	g := NewGraph[float32](nil)
	step := func() {
		g.Reset()
		g.BackwardWith(g.Softmax(x, nil), dy)
	}
	step()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(rows*n/sec/1e6, "Melem/s")
	b.ReportMetric(4*4*rows*n/sec/1e9, "GB/s") // x, y, dy, dx once each
}

func BenchmarkCrossEntropy(b *testing.B) {
	const rows, v = 2048, 4096
	r := rand.New(rand.NewPCG(15, 15))
	x := NewParam[float32](nil, rows, v)
	for i := range x.Data {
		x.Data[i] = float32(2 * r.NormFloat64())
	}
	targets := make([]int, rows)
	for i := range targets {
		targets[i] = r.IntN(v)
	}
	for _, eps := range []float64{0, 0.1} {
		b.Run(fmt.Sprintf("smoothing=%v", eps), func(b *testing.B) {
			g := NewGraph[float32](nil)
			step := func() {
				g.Reset()
				g.Backward(g.CrossEntropy(x, targets, CrossEntropyOptions{LabelSmoothing: eps}))
			}
			step()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				step()
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(rows*v/sec/1e6, "Melem/s")
			b.ReportMetric(3*4*rows*v/sec/1e9, "GB/s") // x read, dx read and written
		})
	}
}
