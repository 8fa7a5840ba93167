package nn

import (
	"fmt"
	"strings"
)

// Float is the element type of tensors: float32 for training, float64 for gradient checks.
type Float interface{ float32 | float64 }

// MaxDims is the largest rank a tensor may have.
const MaxDims = 6

// Tensor is a dense row-major array. Grad, when present, has the same length as Data.
// Tensors made by a Graph belong to it until its next Reset; parameters (NewParam) and
// constants made with NewTensor live as long as the caller keeps them.
type Tensor[T Float] struct {
	Data []T
	Grad []T

	dims  [MaxDims]int
	nd    int
	needs bool // gradients flow into this tensor
	// fresh marks a gradient buffer that Backward handed out without zeroing and
	// that no rule has written yet: the first rule to reach it overwrites it
	// (gradTo) or zeroes it (gradOf), so a pass clears only what accumulates.
	fresh bool
}

// NewTensor makes a tensor of the given shape holding data (zeros if data is nil). It
// panics if the shape and data disagree: that is a programming error.
func NewTensor[T Float](data []T, shape ...int) *Tensor[T] {
	t := &Tensor[T]{}
	t.setShape(shape)
	n := t.Len()
	if data == nil {
		data = make([]T, n)
	}
	if len(data) != n {
		panic(fmt.Sprintf("nn: NewTensor: %d values for shape %v", len(data), shape))
	}
	t.Data = data
	return t
}

// NewParam makes a trainable tensor: it has a gradient buffer and gradients flow into it.
func NewParam[T Float](data []T, shape ...int) *Tensor[T] {
	t := NewTensor(data, shape...)
	t.Grad = make([]T, len(t.Data))
	t.needs = true
	return t
}

// setShape copies shape in. Its panics copy the shape before formatting it: handing
// the caller's slice to fmt would move the caller's array to the heap on every call.
func (t *Tensor[T]) setShape(shape []int) {
	if len(shape) > MaxDims {
		panic(fmt.Sprintf("nn: rank %d above %d", len(shape), MaxDims))
	}
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("nn: negative dimension in %v", append([]int(nil), shape...)))
		}
	}
	t.nd = copy(t.dims[:], shape)
}

// Shape returns the dimensions; the slice aliases the tensor, do not modify it.
func (t *Tensor[T]) Shape() []int { return t.dims[:t.nd] }

// Rank is the number of dimensions.
func (t *Tensor[T]) Rank() int { return t.nd }

// Dim returns dimension i; negative i counts from the end.
func (t *Tensor[T]) Dim(i int) int {
	if i < 0 {
		i += t.nd
	}
	return t.dims[i]
}

// Len is the number of elements.
func (t *Tensor[T]) Len() int {
	n := 1
	for _, d := range t.dims[:t.nd] {
		n *= d
	}
	return n
}

// RequiresGrad reports whether gradients flow into t.
func (t *Tensor[T]) RequiresGrad() bool { return t.needs }

// ZeroGrad clears the gradient.
func (t *Tensor[T]) ZeroGrad() { clear(t.Grad) }

func (t *Tensor[T]) String() string {
	s := make([]string, t.nd)
	for i, d := range t.Shape() {
		s[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func sameShape[T Float](a, b *Tensor[T]) bool {
	if a.nd != b.nd {
		return false
	}
	for i := 0; i < a.nd; i++ {
		if a.dims[i] != b.dims[i] {
			return false
		}
	}
	return true
}

// rows is the product of all dimensions but the last.
func (t *Tensor[T]) rows() int {
	if t.nd == 0 {
		return 1
	}
	return t.Len() / max(1, t.dims[t.nd-1])
}
