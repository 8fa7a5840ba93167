package nn

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// record is one operation on the tape: enough to run its backward rule later. The
// rule is a plain function (not a closure), so recording allocates nothing.
type record[T Float] struct {
	bw      func(g *Graph[T], r *record[T])
	out     *Tensor[T]
	a, b, c *Tensor[T]
	i       [4]int
	f       [2]float64
	aux     []T // saved values the rule needs (statistics, masks), from the arena
	aux2    []T
	fn      func() // rule of an operation defined outside the package (OnBackward)
	// view marks an output that shares a's buffers (Reshape): its gradient buffer is
	// a's, so gradients reach a without a rule (bw is nil): y = x in another shape,
	// same element order -> dx += dy has already happened.
	view bool
	// own marks a rule that reaches its inputs' gradients only through gradOf and
	// gradTo; the gradients of other rules' inputs a, b and c are zeroed before
	// the rule runs if they are still fresh.
	own bool
}

// Graph records a forward pass and runs it backwards. Every tensor it returns lives in
// its arena until the next Reset; the arena hands the same buffers back in the same
// order, so repeating a pass of the same shapes allocates nothing.
type Graph[T Float] struct {
	tape []record[T]
	Rng  *rand.Rand // dropout and other random choices; set it for reproducible runs
	// Training enables dropout.
	Training bool

	free    [bits.UintSize + 1][][]T // arena buffers not in use, by size class
	used    [][]T                    // arena buffers handed out since Reset
	tensors []*Tensor[T]
	nextT   int
	workers int
	f64     []float64 // scratch64
}

// scratch64 returns float64 scratch of n elements, reused by the next call: for
// per-row partial results that are summed in order afterwards.
func (g *Graph[T]) scratch64(n int) []float64 {
	if cap(g.f64) < n {
		g.f64 = make([]float64, n)
	}
	return g.f64[:n]
}

// NewGraph returns an empty graph drawing randomness from rng (which may be nil if no
// operation needs randomness).
func NewGraph[T Float](rng *rand.Rand) *Graph[T] {
	return &Graph[T]{Rng: rng, workers: defaultWorkers()}
}

// Reset forgets the recorded pass and recycles every tensor it made.
func (g *Graph[T]) Reset() {
	clear(g.tape)
	g.tape = g.tape[:0]
	for i, b := range g.used {
		c := bits.Len(uint(cap(b))) - 1
		g.free[c] = append(g.free[c], b)
		g.used[i] = nil
	}
	g.used = g.used[:0]
	g.nextT = 0
}

// buf hands out a zeroed buffer of n elements from the arena.
func (g *Graph[T]) buf(n int) []T { return g.bufZ(n, true) }

// bufZ hands out a buffer of n elements from the arena, zeroed if zero is set, else
// holding whatever an earlier pass left: for outputs that every element is written to.
//
// The arena keeps buffers in free lists by size class (powers of two), not by the order
// in which a pass asked for them: passes whose graphs differ from step to step (a batch
// of other tasks, other lengths) then reuse each other's buffers instead of dropping
// and allocating large ones, which costs page faults and garbage collection.
func (g *Graph[T]) bufZ(n int, zero bool) []T {
	c := bits.Len(uint(n)) // the class of capacity 1<<c holds any n < 1<<c
	if n > 0 && n&(n-1) == 0 {
		c-- // a power of two fits its own class
	}
	var b []T
	if k := len(g.free[c]); k > 0 {
		b = g.free[c][k-1]
		g.free[c] = g.free[c][:k-1]
		b = b[:n]
		if zero {
			clear(b)
		}
	} else {
		b = make([]T, n, 1<<c)
	}
	g.used = append(g.used, b)
	return b
}

// New returns a zeroed tensor of the given shape from the arena. It needs a gradient
// when needGrad is set; the buffer is allocated at Backward.
func (g *Graph[T]) New(needGrad bool, shape ...int) *Tensor[T] {
	return g.newZ(needGrad, true, shape...)
}

// newFull is New for an output the operation writes in full: its buffer is not
// cleared first.
func (g *Graph[T]) newFull(needGrad bool, shape ...int) *Tensor[T] {
	return g.newZ(needGrad, false, shape...)
}

func (g *Graph[T]) newZ(needGrad, zero bool, shape ...int) *Tensor[T] {
	var t *Tensor[T]
	if g.nextT < len(g.tensors) {
		t = g.tensors[g.nextT]
		*t = Tensor[T]{}
	} else {
		t = new(Tensor[T])
		g.tensors = append(g.tensors, t)
	}
	g.nextT++
	t.setShape(shape)
	t.Data = g.bufZ(t.Len(), zero)
	t.needs = needGrad
	return t
}

// like returns a new tensor with the shape of x.
func (g *Graph[T]) like(x *Tensor[T], needGrad bool) *Tensor[T] {
	return g.New(needGrad, x.Shape()...)
}

// likeFull is like for an output the operation writes in full (see newFull).
func (g *Graph[T]) likeFull(x *Tensor[T], needGrad bool) *Tensor[T] {
	return g.newFull(needGrad, x.Shape()...)
}

// push records an operation whose output needs a gradient.
func (g *Graph[T]) push(r record[T]) {
	g.tape = append(g.tape, r)
}

// Backward seeds d(loss)/d(loss) = 1 for a scalar loss and runs the tape in reverse,
// accumulating into the gradient of every tensor that needs one. Parameter gradients
// accumulate across calls until the caller clears them.
func (g *Graph[T]) Backward(loss *Tensor[T]) {
	if loss.Len() != 1 {
		panic(fmt.Sprintf("nn: Backward of a tensor of shape %v; reduce it to a scalar first", loss.Shape()))
	}
	one := [1]T{1}
	g.BackwardWith(loss, one[:])
}

// anyNeeds reports whether any input needs a gradient.
func anyNeeds[T Float](ts ...*Tensor[T]) bool {
	for _, t := range ts {
		if t != nil && t.needs {
			return true
		}
	}
	return false
}

// gradOf returns t's gradient buffer if gradients flow into t, else nil, zeroing it
// first if no rule has written it yet: for a rule that adds to it.
func gradOf[T Float](t *Tensor[T]) []T {
	if t == nil || !t.needs {
		return nil
	}
	if t.fresh {
		clear(t.Grad)
		t.fresh = false
	}
	return t.Grad
}

// gradTo returns t's gradient buffer (nil if gradients do not flow into t) for a rule
// that contributes to every element of it, and whether no rule has written it yet:
// then the rule must write its contribution (=) instead of adding it (+=).
func gradTo[T Float](t *Tensor[T]) (d []T, fresh bool) {
	if t == nil || !t.needs {
		return nil, false
	}
	fresh, t.fresh = t.fresh, false
	return t.Grad, fresh
}

// OnBackward lets packages built on nn (kan, for example) define operations: make the
// output with New, fill it, then register the rule that adds the inputs' gradients from
// out.Grad. Rules run in reverse order of registration. The closure costs an allocation
// per call; operations inside this package avoid even that.
//
// inputs names the tensors whose gradients fn adds to (at most three): their gradient
// buffers are zeroed, if no rule has written them yet, just before fn runs. Without
// them (or with more) every such buffer of a tensor made before out is zeroed, which
// costs time in a long graph.
func (g *Graph[T]) OnBackward(out *Tensor[T], fn func(), inputs ...*Tensor[T]) {
	if !out.needs {
		return
	}
	var in [3]*Tensor[T]
	if len(inputs) <= 3 {
		copy(in[:], inputs)
	}
	g.push(record[T]{bw: rule[T](customBackward[float32], customBackward[float64]), out: out, fn: fn, a: in[0], b: in[1], c: in[2]})
}

func customBackward[T Float](g *Graph[T], r *record[T]) { r.fn() }

// rule returns a backward rule's instantiation for T. Writing someRule[T] inside a
// generic function makes a closure over the type dictionary, one allocation per
// record; the concrete instantiations are static values, so choosing one allocates
// nothing.
func rule[T Float](f32 func(*Graph[float32], *record[float32]), f64 func(*Graph[float64], *record[float64])) func(*Graph[T], *record[T]) {
	if f, ok := any(f32).(func(*Graph[T], *record[T])); ok {
		return f
	}
	return any(f64).(func(*Graph[T], *record[T]))
}

// Workers is how many goroutines operations may use; it defaults to GOMAXPROCS.
func (g *Graph[T]) SetWorkers(n int) { g.workers = max(1, n) }
