package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// shpSeq is a constant tensor holding 0, 1, 2, ... in the given shape.
func shpSeq[T Float](shape ...int) *Tensor[T] {
	t := NewTensor[T](nil, shape...)
	for i := range t.Data {
		t.Data[i] = T(i)
	}
	return t
}

// shpCheck fails unless got has the wanted shape and elements.
func shpCheck[T Float](t *testing.T, got *Tensor[T], shape []int, data []float64) {
	t.Helper()
	if !equalInts(got.Shape(), shape) {
		t.Fatalf("shape %v, want %v", got.Shape(), shape)
	}
	if len(got.Data) != len(data) {
		t.Fatalf("%d elements, want %d", len(got.Data), len(data))
	}
	for i, v := range data {
		if float64(got.Data[i]) != v {
			t.Fatalf("data %v, want %v", got.Data, data)
		}
	}
}

// Small examples worked out by hand, in both element types.
func TestShapeValues(t *testing.T) {
	t.Run("float64", shpValues[float64])
	t.Run("float32", shpValues[float32])
}

func shpValues[T Float](t *testing.T) {
	g := NewGraph[T](nil)
	x23 := shpSeq[T](2, 3)     // [[0 1 2] [3 4 5]]
	x222 := shpSeq[T](2, 2, 2) // x[i][j][k] = 4i+2j+k
	x232 := shpSeq[T](2, 3, 2) // x[i][j][k] = 6i+2j+k
	table := NewTensor([]T{0, 1, 10, 11, 20, 21}, 3, 2)
	cases := []struct {
		name  string
		got   *Tensor[T]
		shape []int
		data  []float64
	}{
		{"reshape", g.Reshape(x23, 3, 2), []int{3, 2}, []float64{0, 1, 2, 3, 4, 5}},
		{"reshape -1", g.Reshape(x23, -1, 1, 2), []int{3, 1, 2}, []float64{0, 1, 2, 3, 4, 5}},
		{"reshape flat", g.Reshape(x222, -1), []int{8}, []float64{0, 1, 2, 3, 4, 5, 6, 7}},
		{"transpose 2d", g.Transpose(x23, 0, 1), []int{3, 2}, []float64{0, 3, 1, 4, 2, 5}},
		{"transpose negative", g.Transpose(g.Reshape(x23, 1, 2, 3), -1, -2), []int{1, 3, 2}, []float64{0, 3, 1, 4, 2, 5}},
		// y[k][j][i] = x[i][j][k] = 4i+2j+k at flat index 4k+2j+i.
		{"transpose outer", g.Transpose(x222, 0, 2), []int{2, 2, 2}, []float64{0, 4, 2, 6, 1, 5, 3, 7}},
		// y[i][k][j] = x[i][j][k]: the last two swapped within each i.
		{"transpose inner", g.Transpose(x232, 1, 2), []int{2, 2, 3}, []float64{0, 2, 4, 1, 3, 5, 6, 8, 10, 7, 9, 11}},
		// y[j][i][k] = x[i][j][k]: pairs (k) stay contiguous.
		{"transpose heads", g.Transpose(x232, 0, 1), []int{3, 2, 2}, []float64{0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11}},
		{"transpose same", g.Transpose(x23, 1, 1), []int{2, 3}, []float64{0, 1, 2, 3, 4, 5}},
		// y[k][i][j] = x[i][j][k] = 6i+2j+k at flat index 6k+3i+j.
		{"permute", g.Permute(x232, 2, 0, 1), []int{2, 2, 3}, []float64{0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11}},
		{"slice columns", g.Slice(x23, 1, 1, 3), []int{2, 2}, []float64{1, 2, 4, 5}},
		{"slice rows", g.Slice(x23, 0, 1, 2), []int{1, 3}, []float64{3, 4, 5}},
		{"slice middle", g.Slice(x232, 1, 1, 2), []int{2, 1, 2}, []float64{2, 3, 8, 9}},
		{"slice empty", g.Slice(x23, -1, 2, 2), []int{2, 0}, nil},
		{"concat rows", g.Concat(0, NewTensor([]T{0, 1}, 1, 2), NewTensor([]T{2, 3, 4, 5}, 2, 2)), []int{3, 2}, []float64{0, 1, 2, 3, 4, 5}},
		{"concat columns", g.Concat(-1, NewTensor([]T{7, 8}, 2, 1), x23, NewTensor([]T{9, 9}, 2, 1)), []int{2, 5}, []float64{7, 0, 1, 2, 9, 8, 3, 4, 5, 9}},
		{"concat twice", g.Concat(1, x23, x23), []int{2, 6}, []float64{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5}},
		{"gather", g.Gather(table, []int{2, 0, 2, 1}, 2, 2), []int{2, 2, 2}, []float64{20, 21, 0, 1, 20, 21, 10, 11}},
		{"gather flat", g.Gather(table, []int{1}), []int{1, 2}, []float64{10, 11}},
		{"gather none", g.Gather(table, nil), []int{0, 2}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { shpCheck(t, c.got, c.shape, c.data) })
	}
	// Reshape is a view of its input; the other results are copies that a later
	// write to the input leaves alone.
	r := g.Reshape(x23, 6)
	tr := g.Transpose(x23, 0, 1)
	x23.Data[0] = 99
	if r.Data[0] != 99 {
		t.Errorf("Reshape result does not share its input's data")
	}
	if tr.Data[0] != 0 {
		t.Errorf("Transpose result follows a later write to its input")
	}
}

// shpNaivePermute is the definition of Permute, one element at a time.
func shpNaivePermute(src []float64, dims, perm []int) []float64 {
	n := len(dims)
	odims := make([]int, n)
	for k := range perm {
		odims[k] = dims[perm[k]]
	}
	dst := make([]float64, len(src))
	idx := make([]int, n)
	for o := range dst {
		rem := o
		for k := n - 1; k >= 0; k-- {
			idx[k] = rem % odims[k]
			rem /= odims[k]
		}
		s := 0
		for a := 0; a < n; a++ {
			k := 0
			for perm[k] != a {
				k++
			}
			s = s*dims[a] + idx[k]
		}
		dst[o] = src[s]
	}
	return dst
}

// The fast permutation (merged dimensions, row copies, tiled transposes) against the
// definition, on random shapes with sizes 0, 1 and odd lengths, in store and add mode.
func TestPermuteMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	sizes := []int{1, 1, 2, 3, 5, 17, 33}
	for trial := range 400 {
		n := 1 + rng.IntN(MaxDims)
		dims := make([]int, n)
		for i := range dims {
			dims[i] = sizes[rng.IntN(len(sizes))]
		}
		if shapeProd(dims) > 1<<16 {
			continue
		}
		if trial%50 == 0 {
			dims[rng.IntN(n)] = 0
		}
		perm := rng.Perm(n)
		src := make([]float64, shapeProd(dims))
		for i := range src {
			src[i] = float64(i)
		}
		want := shpNaivePermute(src, dims, perm)
		got := make([]float64, len(src))
		permuteInto(got, src, dims, perm, false)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("dims %v perm %v: element %d is %g, want %g", dims, perm, i, got[i], want[i])
			}
		}
		for i := range got {
			got[i] = 0.5
		}
		permuteInto(got, src, dims, perm, true)
		for i := range want {
			if got[i] != want[i]+0.5 {
				t.Fatalf("dims %v perm %v, adding: element %d is %g, want %g", dims, perm, i, got[i], want[i]+0.5)
			}
		}
	}
}

func TestGradShape(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	p := func(shape ...int) *Tensor[float64] { return randParam(r, -1, 1, shape...) }
	type in = []*Tensor[float64]
	type G = Graph[float64]
	sq := p(3, 3)
	tab := p(5, 3)
	cases := []gradCase{
		{"reshape", in{p(2, 3, 5)}, func(g *G, x in) *Tensor[float64] { return g.Reshape(x[0], 5, -1) }},
		{"reshape twice", in{p(2, 3, 4)}, func(g *G, x in) *Tensor[float64] {
			return g.Mul(g.Reshape(x[0], 6, -1), g.Reshape(g.Reshape(x[0], -1), 6, 4))
		}},
		{"transpose 2d", in{p(3, 5)}, func(g *G, x in) *Tensor[float64] { return g.Transpose(x[0], 0, 1) }},
		{"transpose outer", in{p(2, 3, 5)}, func(g *G, x in) *Tensor[float64] { return g.Transpose(x[0], 0, 2) }},
		{"transpose heads", in{p(2, 5, 3, 4)}, func(g *G, x in) *Tensor[float64] { return g.Transpose(x[0], 1, 2) }},
		{"transpose inner", in{p(2, 3, 5, 7)}, func(g *G, x in) *Tensor[float64] { return g.Transpose(x[0], -1, -2) }},
		{"transpose ones", in{p(3, 1, 5, 2)}, func(g *G, x in) *Tensor[float64] { return g.Transpose(x[0], 1, 2) }},
		{"transpose used twice", in{sq}, func(g *G, x in) *Tensor[float64] { return g.Mul(x[0], g.Transpose(x[0], 0, 1)) }},
		{"permute", in{p(2, 3, 4, 5)}, func(g *G, x in) *Tensor[float64] { return g.Permute(x[0], 3, 1, 0, 2) }},
		{"permute rank 6", in{p(2, 1, 3, 2, 1, 2)}, func(g *G, x in) *Tensor[float64] { return g.Permute(x[0], 5, 3, 1, 0, 4, 2) }},
		{"slice", in{p(3, 5, 2)}, func(g *G, x in) *Tensor[float64] { return g.Slice(x[0], 1, 1, 4) }},
		{"slice first", in{p(3, 5, 2)}, func(g *G, x in) *Tensor[float64] { return g.Slice(x[0], 0, 2, 3) }},
		{"slice last", in{p(3, 5, 2)}, func(g *G, x in) *Tensor[float64] { return g.Slice(x[0], -1, 0, 1) }},
		{"slices overlap", in{p(3, 5)}, func(g *G, x in) *Tensor[float64] {
			return g.Add(g.Slice(x[0], 1, 0, 3), g.Slice(x[0], 1, 2, 5))
		}},
		{"concat 0", in{p(1, 3, 2), p(3, 3, 2)}, func(g *G, x in) *Tensor[float64] { return g.Concat(0, x[0], x[1]) }},
		{"concat 1", in{p(2, 1, 3), p(2, 4, 3), p(2, 2, 3)}, func(g *G, x in) *Tensor[float64] { return g.Concat(1, x[0], x[1], x[2]) }},
		{"concat last", in{p(3, 2), p(3, 5)}, func(g *G, x in) *Tensor[float64] { return g.Concat(-1, x[0], x[1]) }},
		{"concat used twice", in{p(2, 3), p(2, 1)}, func(g *G, x in) *Tensor[float64] { return g.Concat(1, x[0], x[1], x[0]) }},
		{"concat constant", in{p(2, 3)}, func(g *G, x in) *Tensor[float64] {
			return g.Concat(0, NewTensor([]float64{1, 2, 3}, 1, 3), x[0])
		}},
		{"gather repeated ids", in{tab}, func(g *G, x in) *Tensor[float64] {
			return g.Gather(x[0], []int{4, 0, 4, 2, 4, 0}, 2, 3)
		}},
		{"gather twice", in{tab}, func(g *G, x in) *Tensor[float64] {
			return g.Add(g.Gather(x[0], []int{1, 1, 3}), g.Gather(x[0], []int{1, 2, 3}))
		}},
		{"dropout", in{p(4, 7)}, func(g *G, x in) *Tensor[float64] {
			g.Training = true
			return g.Dropout(x[0], 0.3)
		}},
		{"dropout used twice", in{p(5, 3)}, func(g *G, x in) *Tensor[float64] {
			g.Training = true
			return g.Mul(g.Dropout(x[0], 0.5), g.Add(g.Dropout(x[0], 0.2), x[0]))
		}},
		{"dropout eval", in{p(5, 3)}, func(g *G, x in) *Tensor[float64] { return g.Dropout(x[0], 0.5) }},
		// Attention heads: split [B, T, H*D] into [B, H, T, D], scores Q K^T, merge back.
		{"heads", in{p(2, 4, 6)}, func(g *G, x in) *Tensor[float64] {
			h := g.Transpose(g.Reshape(x[0], 2, 4, 2, 3), 1, 2) // [2, 2, 4, 3]
			s := g.BatchMatMul(h, h, false, true)               // [2, 2, 4, 4]
			o := g.BatchMatMul(s, h, false, false)              // [2, 2, 4, 3]
			return g.Reshape(g.Transpose(o, 1, 2), 2, 4, -1)
		}},
	}
	runGradCases(t, cases)
}

// GradCheck seeds every graph it builds with PCG(3, 4); Dropout's gradient check is
// only meaningful if that makes the mask repeat, and a different seed must change it.
func TestDropoutMaskRepeats(t *testing.T) {
	x := NewTensor[float64](nil, 64)
	for i := range x.Data {
		x.Data[i] = 1
	}
	run := func(a, b uint64) []float64 {
		g := NewGraph[float64](rand.New(rand.NewPCG(a, b)))
		g.Training = true
		return g.Dropout(x, 0.5).Data
	}
	first, again, other := run(3, 4), run(3, 4), run(5, 6)
	if !shpEqualFloats(first, again) {
		t.Fatalf("same seed, different masks:\n%v\n%v", first, again)
	}
	if shpEqualFloats(first, other) {
		t.Fatalf("different seeds gave the same mask %v", first)
	}
}

func shpEqualFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The dropped fraction is Binomial(n, p)/n: it must lie within 5 standard deviations,
// sqrt(p(1-p)/n), of p (two-sided, a false alarm about once in 1.7 million runs);
// survivors are exactly x/(1-p).
func TestDropoutStatistics(t *testing.T) {
	const n = 1 << 17
	for _, p := range []float64{0.1, 0.25, 0.5, 0.9} {
		g := NewGraph[float32](rand.New(rand.NewPCG(11, uint64(p*100))))
		g.Training = true
		x := NewParam[float32](nil, n)
		for i := range x.Data {
			x.Data[i] = float32(i%7) + 1
		}
		y := g.Dropout(x, p)
		dropped := 0
		scale := float32(1 / (1 - p))
		for i, v := range y.Data {
			switch v {
			case 0:
				dropped++
			case x.Data[i] * scale:
			default:
				t.Fatalf("p=%g: element %d is %g, want 0 or %g", p, i, v, x.Data[i]*scale)
			}
		}
		frac, sd := float64(dropped)/n, math.Sqrt(p*(1-p)/n)
		if math.Abs(frac-p) > 5*sd {
			t.Errorf("p=%g: dropped %.5f of the elements, want within %.5f", p, frac, 5*sd)
		}
		// The gradient passes only through survivors, with the same scale.
		seed := make([]float32, n)
		for i := range seed {
			seed[i] = 1
		}
		g.BackwardWith(y, seed)
		for i, v := range y.Data {
			if want := scale * float32(b2i(v != 0)); x.Grad[i] != want {
				t.Fatalf("p=%g: gradient %g at %d, want %g", p, x.Grad[i], i, want)
			}
		}
	}
	// Outside training, and with p = 0, Dropout is the identity and returns x itself.
	g := NewGraph[float32](nil)
	x := NewParam[float32](nil, 3)
	if g.Dropout(x, 0.5) != x {
		t.Errorf("Dropout outside training did not return its input")
	}
	g.Training = true
	if g.Dropout(x, 0) != x {
		t.Errorf("Dropout with p = 0 did not return its input")
	}
}

// Every invalid call panics with a message naming what was wrong.
func TestShapePanics(t *testing.T) {
	g := NewGraph[float32](nil)
	x := NewTensor[float32](nil, 2, 3)
	table := NewParam[float32](nil, 4, 2)
	cases := []struct {
		name, want string
		f          func()
	}{
		{"reshape count", "[2 3] (6 elements) to [4 2]", func() { g.Reshape(x, 4, 2) }},
		{"reshape two -1", "[2 3] to [-1 -1]", func() { g.Reshape(x, -1, -1) }},
		{"reshape -1 not dividing", "cannot infer", func() { g.Reshape(x, -1, 4) }},
		{"reshape -1 with 0", "cannot infer", func() { g.Reshape(x, -1, 0) }},
		{"reshape negative", "[2 3] to [-2 -3]", func() { g.Reshape(x, -2, -3) }},
		{"reshape rank", "rank 7", func() { g.Reshape(x, 1, 1, 1, 1, 1, 1, 6) }},
		{"transpose axis", "axis 2 outside a tensor of shape [2 3]", func() { g.Transpose(x, 0, 2) }},
		{"transpose negative axis", "axis -3", func() { g.Transpose(x, -3, 0) }},
		{"permute repeat", "[2 3] by [0 0]", func() { g.Permute(x, 0, 0) }},
		{"permute length", "[2 3] by [0]", func() { g.Permute(x, 0) }},
		{"permute range", "[2 3] by [0 2]", func() { g.Permute(x, 0, 2) }},
		{"slice end", "Slice [1:4] of dimension 1 of [2 3]", func() { g.Slice(x, 1, 1, 4) }},
		{"slice reversed", "Slice [2:1]", func() { g.Slice(x, 1, 2, 1) }},
		{"slice start", "Slice [-1:1]", func() { g.Slice(x, 0, -1, 1) }},
		{"slice axis", "axis 2", func() { g.Slice(x, 2, 0, 1) }},
		{"concat none", "no tensors", func() { g.Concat(0) }},
		{"concat dims", "[2 3] and [3 3]", func() { g.Concat(1, x, NewTensor[float32](nil, 3, 3)) }},
		{"concat rank", "[2 3] and [2 3 1]", func() { g.Concat(0, x, NewTensor[float32](nil, 2, 3, 1)) }},
		{"gather id", "id 4 at position 1 outside a table of 4 rows", func() { g.Gather(table, []int{0, 4}) }},
		{"gather negative id", "id -1 at position 0", func() { g.Gather(table, []int{-1}) }},
		{"gather shape", "3 ids into shape [2 2]", func() { g.Gather(table, []int{0, 1, 2}, 2, 2) }},
		{"gather table", "table of shape [2 3 1]", func() { g.Gather(NewTensor[float32](nil, 2, 3, 1), []int{0}) }},
		{"dropout p=1", "probability 1", func() { g.Dropout(x, 1) }},
		{"dropout p<0", "probability -0.1", func() { g.Dropout(x, -0.1) }},
		{"dropout NaN", "probability NaN", func() { g.Dropout(x, math.NaN()) }},
		{"dropout without rng", "needs the graph's Rng", func() {
			g := NewGraph[float32](nil)
			g.Training = true
			g.Dropout(x, 0.5)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatalf("no panic, want one mentioning %q", c.want)
				}
				if msg := fmt.Sprint(r); !strings.Contains(msg, c.want) {
					t.Fatalf("panic %q, want it to mention %q", msg, c.want)
				}
			}()
			c.f()
		})
	}
}

// float32 runs the same code as float64: forward values and gradients of a chain of
// every shape operation agree to float32 precision.
func TestShapeFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	x64 := randParam(rng, -1, 1, 2, 6, 4)
	t64 := randParam(rng, -1, 1, 5, 4)
	x32, t32 := NewParam[float32](nil, 2, 6, 4), NewParam[float32](nil, 5, 4)
	for i, v := range x64.Data {
		x32.Data[i] = float32(v)
	}
	for i, v := range t64.Data {
		t32.Data[i] = float32(v)
	}
	out64 := shpChain(x64, t64)
	out32 := shpChain(x32, t32)
	for i := range out64 {
		if math.Abs(out64[i]-out32[i]) > 1e-5 {
			t.Fatalf("output %d: float32 %g, float64 %g", i, out32[i], out64[i])
		}
	}
	for i := range x64.Grad {
		if math.Abs(x64.Grad[i]-float64(x32.Grad[i])) > 1e-5 {
			t.Fatalf("input gradient %d: float32 %g, float64 %g", i, x32.Grad[i], x64.Grad[i])
		}
	}
	for i := range t64.Grad {
		if math.Abs(t64.Grad[i]-float64(t32.Grad[i])) > 1e-5 {
			t.Fatalf("table gradient %d: float32 %g, float64 %g", i, t32.Grad[i], t64.Grad[i])
		}
	}
}

// shpChain runs every shape operation on x [2, 6, 4] and table [5, 4] and back
// propagates a fixed projection, returning the output in float64.
func shpChain[T Float](x, table *Tensor[T]) []float64 {
	g := NewGraph[T](rand.New(rand.NewPCG(1, 2)))
	g.Training = true
	h := g.Transpose(g.Reshape(x, 2, 6, 2, 2), 1, 2)                      // [2, 2, 6, 2]
	h = g.Permute(h, 3, 1, 2, 0)                                          // [2, 2, 6, 2]
	e := g.Gather(table, []int{0, 3, 3, 1, 4, 0, 2, 2, 1, 0, 4, 4}, 2, 6) // [2, 6, 4]
	e = g.Reshape(g.Transpose(e, 1, 2), 2, 2, 6, 2)                       // [2, 2, 6, 2]
	c := g.Concat(2, g.Slice(h, 2, 1, 5), e, g.Slice(h, 2, 0, 1))         // [2, 2, 11, 2]
	y := g.Dropout(g.Mul(c, c), 0.25)
	proj := make([]T, y.Len())
	for i := range proj {
		proj[i] = T(math.Sin(float64(i)))
	}
	g.BackwardWith(y, proj)
	out := make([]float64, y.Len())
	for i, v := range y.Data {
		out[i] = float64(v)
	}
	return out
}

// After the first pass, a training step of shape operations reuses the arena and
// allocates nothing.
func TestShapeAllocs(t *testing.T) {
	g := NewGraph[float32](rand.New(rand.NewPCG(1, 1)))
	g.Training = true
	x := NewParam[float32](nil, 4, 6, 8)
	table := NewParam[float32](nil, 4, 48)
	seed := make([]float32, 2*x.Len())
	cases := []struct {
		name string
		f    func() *Tensor[float32]
		max  float64
	}{
		{"Reshape", func() *Tensor[float32] { return g.Reshape(x, 4, -1, 2, 4) }, 0},
		{"Transpose", func() *Tensor[float32] { return g.Transpose(x, 0, 2) }, 0},
		{"Permute", func() *Tensor[float32] { return g.Permute(x, 1, 2, 0) }, 0},
		{"Dropout", func() *Tensor[float32] { return g.Dropout(x, 0.1) }, 0},
		// New's variadic shape escapes (setShape formats it into a panic message),
		// so the ops that make a tensor of a new size pay one small allocation until
		// that is fixed in tensor.go.
		{"Slice", func() *Tensor[float32] { return g.Slice(x, 1, 2, 5) }, 1},
		{"Concat", func() *Tensor[float32] { return g.Concat(2, x, x) }, 1},
		{"Gather", func() *Tensor[float32] { return g.Gather(table, []int{1, 3, 1}, 3, 1) }, 1},
	}
	for _, c := range cases {
		step := func() {
			g.Reset()
			y := c.f()
			g.BackwardWith(y, seed[:y.Len()])
		}
		step()
		n := testing.AllocsPerRun(20, step)
		if n > c.max {
			t.Errorf("%s: %g allocations per step, want at most %g", c.name, n, c.max)
		}
	}
}

func shpFill(t *Tensor[float32]) {
	for i := range t.Data {
		t.Data[i] = float32(i % 251)
	}
}

// shpGBps reports the bytes read and written per second by an operation that moves
// n elements of float32 once in each direction.
func shpGBps(b *testing.B, n int) {
	b.ReportMetric(float64(8*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

// Splitting attention heads, [32, 64, 4, 64] -> [32, 4, 64, 64], against a per-element
// reference and a plain copy of the same bytes (the memory bandwidth bound).
func BenchmarkTranspose(b *testing.B) {
	x := NewTensor[float32](nil, 32, 64, 4, 64)
	shpFill(x)
	n := x.Len()
	b.Run("heads", func(b *testing.B) {
		g := NewGraph[float32](nil)
		g.Transpose(x, 1, 2)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			g.Reset()
			g.Transpose(x, 1, 2)
		}
		shpGBps(b, n)
	})
	b.Run("heads-backward", func(b *testing.B) {
		p := NewParam[float32](x.Data, 32, 64, 4, 64)
		seed := make([]float32, n)
		g := NewGraph[float32](nil)
		step := func() {
			g.Reset()
			g.BackwardWith(g.Transpose(p, 1, 2), seed)
		}
		step()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			step()
		}
		shpGBps(b, 2*n) // forward and backward
	})
	b.Run("last-two", func(b *testing.B) {
		g := NewGraph[float32](nil)
		g.Transpose(x, 2, 3)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			g.Reset()
			g.Transpose(x, 2, 3)
		}
		shpGBps(b, n)
	})
	b.Run("naive", func(b *testing.B) {
		dst := make([]float32, n)
		b.ResetTimer()
		for b.Loop() {
			o := 0
			for i := range 32 {
				for h := range 4 {
					for t := range 64 {
						for d := range 64 {
							dst[o] = x.Data[((i*64+t)*4+h)*64+d]
							o++
						}
					}
				}
			}
		}
		shpGBps(b, n)
	})
	b.Run("copy", func(b *testing.B) {
		dst := make([]float32, n)
		for b.Loop() {
			copy(dst, x.Data)
		}
		shpGBps(b, n)
	})
}

// The other shape operations at a training step's size, [32, 64, 256] float32.
func BenchmarkShapeOps(b *testing.B) {
	x := NewTensor[float32](nil, 32, 64, 256)
	shpFill(x)
	table := NewTensor[float32](nil, 4096, 256)
	ids := make([]int, 32*64)
	for i := range ids {
		ids[i] = (i * 997) % 4096
	}
	rng := rand.New(rand.NewPCG(1, 1))
	n := x.Len()
	for _, c := range []struct {
		name  string
		moved int
		f     func(g *Graph[float32])
	}{
		{"Reshape", n, func(g *Graph[float32]) { g.Reshape(x, 32, 64, 4, 64) }},
		{"Slice", n / 2, func(g *Graph[float32]) { g.Slice(x, 1, 16, 48) }},
		{"Concat", 2 * n, func(g *Graph[float32]) { g.Concat(2, x, x) }},
		{"Gather", n, func(g *Graph[float32]) { g.Gather(table, ids, 32, 64) }},
		{"Dropout", n, func(g *Graph[float32]) { g.Dropout(x, 0.1) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			g := NewGraph[float32](rng)
			g.Training = true
			c.f(g)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				g.Reset()
				c.f(g)
			}
			shpGBps(b, c.moved)
		})
	}
}
