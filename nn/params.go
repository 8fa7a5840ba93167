package nn

import (
	"errors"
	"fmt"
	"iter"
	"strings"
)

// Params is a store of named model parameters kept in insertion order. Names are
// slash-separated paths ("llm/block3/attn/wq", "kan/proj/layer0/coef") so that
// checkpoints stay stable when code moves; Scope builds them.
//
// A store may also hold tensors without gradients (made with NewTensor), such as
// running statistics that belong in a checkpoint: optimisers skip them.
type Params[T Float] struct {
	names   []string
	ts      []*Tensor[T]
	index   map[string]int
	seen    map[*Tensor[T]]string
	version int // changes on every Add, so optimisers notice a grown store
}

// NewParams returns an empty store. The zero Params is empty too and ready to use.
func NewParams[T Float]() *Params[T] { return new(Params[T]) }

// Add stores t under name and returns t, so layers can write
// w := p.Add("wq", nn.XavierUniform(rng, nn.NewParam[float32](nil, d, d))).
// It panics, as a programming error, if the name is empty, has an empty path
// segment, is taken, or if t is nil or already stored under another name (tied
// weights are stored once; a second entry would be updated twice per step).
func (p *Params[T]) Add(name string, t *Tensor[T]) *Tensor[T] {
	checkParamName(name)
	if t == nil {
		panic(fmt.Sprintf("nn: Params.Add(%q): nil tensor", name))
	}
	if p.index == nil {
		p.index, p.seen = map[string]int{}, map[*Tensor[T]]string{}
	}
	if _, ok := p.index[name]; ok {
		panic(fmt.Sprintf("nn: Params.Add: duplicate parameter name %q", name))
	}
	if other, ok := p.seen[t]; ok {
		panic(fmt.Sprintf("nn: Params.Add(%q): tensor already stored as %q", name, other))
	}
	p.index[name] = len(p.ts)
	p.seen[t] = name
	p.names = append(p.names, name)
	p.ts = append(p.ts, t)
	p.version++
	return t
}

func checkParamName(name string) {
	if name == "" {
		panic("nn: empty parameter name")
	}
	for seg := range strings.SplitSeq(name, "/") {
		if seg == "" {
			panic(fmt.Sprintf("nn: parameter name %q has an empty path segment", name))
		}
	}
}

// Get returns the parameter stored under the full name, or nil.
func (p *Params[T]) Get(name string) *Tensor[T] {
	if i, ok := p.index[name]; ok {
		return p.ts[i]
	}
	return nil
}

// Len is the number of stored tensors.
func (p *Params[T]) Len() int { return len(p.ts) }

// Names returns the full names in insertion order, in a new slice.
func (p *Params[T]) Names() []string { return append([]string(nil), p.names...) }

// All iterates over (name, tensor) pairs in insertion order.
func (p *Params[T]) All() iter.Seq2[string, *Tensor[T]] {
	return func(yield func(string, *Tensor[T]) bool) {
		for i, t := range p.ts {
			if !yield(p.names[i], t) {
				return
			}
		}
	}
}

// ZeroGrad clears the gradient of every stored tensor.
func (p *Params[T]) ZeroGrad() {
	for _, t := range p.ts {
		clear(t.Grad)
	}
}

// NumElements is the total number of values over all stored tensors.
func (p *Params[T]) NumElements() int {
	n := 0
	for _, t := range p.ts {
		n += len(t.Data)
	}
	return n
}

// Scope returns a view of p that prefixes names with prefix + "/". It panics on a
// malformed prefix, as Add does on a malformed name.
func (p *Params[T]) Scope(prefix string) Scope[T] {
	checkParamName(prefix)
	return Scope[T]{p: p, prefix: prefix + "/"}
}

// Scope is a view of a Params under a path prefix, handed to a layer's constructor
// so that it names its parameters relative to its place in the model:
//
//	blk := params.Scope("llm").Scope(fmt.Sprint("block", i))
//	wq := blk.Add("attn/wq", w) // stored as "llm/block3/attn/wq"
type Scope[T Float] struct {
	p      *Params[T]
	prefix string // ends in "/"
}

// Scope returns a view nested one level deeper.
func (s Scope[T]) Scope(prefix string) Scope[T] {
	checkParamName(prefix)
	return Scope[T]{p: s.p, prefix: s.prefix + prefix + "/"}
}

// Name returns the full name of a name relative to s.
func (s Scope[T]) Name(name string) string { return s.prefix + name }

// Add stores t under the relative name; see Params.Add.
func (s Scope[T]) Add(name string, t *Tensor[T]) *Tensor[T] {
	checkParamName(name)
	return s.p.Add(s.prefix+name, t)
}

// Get returns the parameter stored under the relative name, or nil.
func (s Scope[T]) Get(name string) *Tensor[T] { return s.p.Get(s.prefix + name) }

// Params returns the store s is a view of.
func (s Scope[T]) Params() *Params[T] { return s.p }

// NamedArray is one tensor as a flat record: what checkpoint formats such as
// nn/safetensors store. Data is row-major with len(Data) equal to the product of
// Shape.
type NamedArray struct {
	Name  string
	Shape []int
	Data  []float32
}

// Errors from Import and Adam.ImportState, wrapped with the parameter's name.
var (
	// ErrUnknownParam: a record names no parameter of the store.
	ErrUnknownParam = errors.New("unknown parameter")
	// ErrMissingParam: a parameter of the store has no record.
	ErrMissingParam = errors.New("missing parameter")
)

// ShapeError reports a record whose shape differs from the parameter it names.
type ShapeError struct {
	Name string
	Want []int // the parameter's shape
	Got  []int // the record's shape
}

func (e *ShapeError) Error() string {
	return fmt.Sprintf("parameter %q has shape %v, record has %v", e.Name, e.Want, e.Got)
}

// Export copies every stored tensor into a record, in insertion order, converting
// to float32 (exact for float32 stores; float64 values are rounded to nearest).
func (p *Params[T]) Export() []NamedArray {
	out := make([]NamedArray, len(p.ts))
	for i, t := range p.ts {
		out[i] = toNamedArray(p.names[i], t.Shape(), t.Data)
	}
	return out
}

func toNamedArray[T Float](name string, shape []int, data []T) NamedArray {
	d := make([]float32, len(data))
	for j, v := range data {
		d[j] = float32(v)
	}
	return NamedArray{Name: name, Shape: append([]int(nil), shape...), Data: d}
}

// Import copies records into the stored tensors of the same name. Every stored tensor
// must have exactly one record of its shape, and every record must name a stored
// tensor; otherwise Import changes nothing and returns an error naming the parameter
// (ErrUnknownParam, ErrMissingParam or a *ShapeError). Gradients are left alone.
func (p *Params[T]) Import(recs []NamedArray) error {
	if err := matchParamRecords("nn: import", p, recs, func(int, *Tensor[T]) bool { return true }); err != nil {
		return err
	}
	for _, r := range recs {
		fromFloat32(p.ts[p.index[r.Name]].Data, r.Data)
	}
	return nil
}

func fromFloat32[T Float](dst []T, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = T(v)
	}
}

// matchParamRecords checks that recs hold exactly one well-formed record for each stored
// tensor that want selects, and none for others.
func matchParamRecords[T Float](ctx string, p *Params[T], recs []NamedArray, want func(i int, t *Tensor[T]) bool) error {
	got := make(map[string]bool, len(recs))
	for _, r := range recs {
		i, ok := p.index[r.Name]
		if !ok || !want(i, p.ts[i]) {
			return fmt.Errorf("%s %q: %w", ctx, r.Name, ErrUnknownParam)
		}
		if got[r.Name] {
			return fmt.Errorf("%s %q: more than one record", ctx, r.Name)
		}
		got[r.Name] = true
		t := p.ts[i]
		if !equalInts(t.Shape(), r.Shape) {
			return fmt.Errorf("%s: %w", ctx, &ShapeError{Name: r.Name, Want: append([]int(nil), t.Shape()...), Got: append([]int(nil), r.Shape...)})
		}
		if len(r.Data) != len(t.Data) {
			return fmt.Errorf("%s %q: record holds %d values for shape %v", ctx, r.Name, len(r.Data), r.Shape)
		}
	}
	for i, t := range p.ts {
		if want(i, t) && !got[p.names[i]] {
			return fmt.Errorf("%s %q: %w", ctx, p.names[i], ErrMissingParam)
		}
	}
	return nil
}
