package safetensors

import (
	"fmt"
	"math"
	"math/bits"
)

// Dtype names an element type as the header spells it.
type Dtype string

// The element types this package converts. Others are rejected with *UnsupportedError.
const (
	F64  Dtype = "F64"  // IEEE 754 binary64, held in Tensor.Data64
	F32  Dtype = "F32"  // IEEE 754 binary32
	BF16 Dtype = "BF16" // bfloat16: sign, 8 exponent bits, 7 fraction bits
	F16  Dtype = "F16"  // IEEE 754 binary16
)

// Size returns the bytes per element, or 0 for a dtype this package does not handle.
func (d Dtype) Size() int {
	switch d {
	case F64:
		return 8
	case F32:
		return 4
	case F16, BF16:
		return 2
	}
	return 0
}

// rank orders dtypes the way the reference writer lays them out: widest first,
// and BF16 before F16 as in its Dtype enumeration.
func (d Dtype) rank() int {
	switch d {
	case F64:
		return 0
	case F32:
		return 1
	case BF16:
		return 2
	case F16:
		return 3
	}
	return 4
}

// DefaultMaxHeaderSize is the largest JSON header Read accepts unless told
// otherwise, and the largest Write produces: the reference implementation's
// limit of 100,000,000 bytes.
const DefaultMaxHeaderSize = 100_000_000

// MetadataKey is the reserved header key for the file's string-to-string metadata.
const MetadataKey = "__metadata__"

// Tensor is one named array.
type Tensor struct {
	// Name is the header key, for m4sc a parameter path such as
	// "llm/block3/attn/wq". Non-empty valid UTF-8, not starting with "__".
	Name string
	// Dtype is the element type on disk.
	Dtype Dtype
	// Shape lists the dimensions, outermost first; empty for a scalar.
	Shape []int
	// Data holds the elements in row-major order for F32, F16 and BF16.
	// It must be empty for F64.
	Data []float32
	// Data64 holds the elements in row-major order for F64 and must be empty
	// for every other dtype.
	Data64 []float64
}

// File is the content of one safetensors file.
type File struct {
	// Tensors in any order for Write; Read returns them in the order of their
	// data in the file, which for files from Write is Write's order.
	Tensors []Tensor
	// Metadata is the "__metadata__" object. Write leaves it out when empty;
	// Read returns nil when the header has none.
	Metadata map[string]string
}

// Lookup returns the tensor called name.
func (f *File) Lookup(name string) (*Tensor, bool) {
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i], true
		}
	}
	return nil, false
}

// FormatError reports a file, or a File given to Write, that breaks the format.
type FormatError struct {
	Tensor string // tensor name, empty when the fault is not about one tensor
	Field  string // "header length", "header", "name", "dtype", "shape", "data_offsets", "data", "__metadata__"
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Tensor != "" {
		return fmt.Sprintf("safetensors: tensor %q: %s: %s", e.Tensor, e.Field, e.Msg)
	}
	return fmt.Sprintf("safetensors: %s: %s", e.Field, e.Msg)
}

// UnsupportedError reports a dtype this package does not convert. The file may
// be valid; it holds a type (integer, bool, 8-bit float, ...) m4sc has no use for.
type UnsupportedError struct {
	Tensor string
	Dtype  Dtype
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("safetensors: tensor %q: unsupported dtype %q (supported: F64, F32, BF16, F16)", e.Tensor, string(e.Dtype))
}

// numElements multiplies the dimensions left to right with overflow checks, as the
// reference implementation does, so [2^40, 2^40, 0] is an overflow although its
// product is zero. The result also fits an int.
func numElements(shape []uint64) (uint64, bool) {
	n := uint64(1)
	for _, d := range shape {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 || lo > math.MaxInt {
			return 0, false
		}
		n = lo
	}
	return n, true
}

// byteSize returns n elements of size bytes each, or false on overflow.
func byteSize(n uint64, size int) (uint64, bool) {
	hi, lo := bits.Mul64(n, uint64(size))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return lo, true
}
