package safetensors

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// chunkBytes is the size of the buffer that elements are converted through on
// their way to and from the byte stream.
const chunkBytes = 1 << 18

// Write encodes f to w. Tensors are laid out widest dtype first, then by name
// in byte order, and metadata keys are sorted, so equal input gives equal bytes
// whatever the order of f.Tensors or of the metadata map.
//
// Before writing anything, Write checks f against the rules Read enforces: it
// returns *UnsupportedError for a dtype other than F64, F32, BF16 and F16, and
// *FormatError for an empty or duplicate name, a name starting with "__" or not
// valid UTF-8, a negative dimension, a shape whose element count overflows,
// elements of the wrong number or in the wrong field (Data vs Data64), metadata
// that is not valid UTF-8, or a header larger than DefaultMaxHeaderSize. Errors
// from w are returned wrapped.
func Write(w io.Writer, f File) error {
	order, header, err := encodeHeader(f)
	if err != nil {
		return err
	}
	var pre [8]byte
	binary.LittleEndian.PutUint64(pre[:], uint64(len(header)))
	if _, err := w.Write(pre[:]); err != nil {
		return fmt.Errorf("safetensors: write header: %w", err)
	}
	if _, err := w.Write(header); err != nil {
		return fmt.Errorf("safetensors: write header: %w", err)
	}
	buf := make([]byte, chunkBytes)
	for _, t := range order {
		if err := writeData(w, t, buf); err != nil {
			return fmt.Errorf("safetensors: write tensor %q: %w", t.Name, err)
		}
	}
	return nil
}

// encodeHeader validates f and returns the tensors in file order with the
// padded JSON header.
func encodeHeader(f File) ([]*Tensor, []byte, error) {
	order := make([]*Tensor, len(f.Tensors))
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if err := checkTensor(t); err != nil {
			return nil, nil, err
		}
		order[i] = t
	}
	slices.SortFunc(order, func(a, b *Tensor) int {
		return cmp.Or(cmp.Compare(a.Dtype.rank(), b.Dtype.rank()), strings.Compare(a.Name, b.Name))
	})
	if err := checkUnique(order); err != nil {
		return nil, nil, err
	}

	h := make([]byte, 0, 64+96*len(order))
	h = append(h, '{')
	if len(f.Metadata) > 0 {
		keys := make([]string, 0, len(f.Metadata))
		for k, v := range f.Metadata {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, nil, &FormatError{"", MetadataKey, "key or value of " + strconv.Quote(k) + " is not valid UTF-8"}
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		h = appendString(h, MetadataKey)
		h = append(h, ":{"...)
		for i, k := range keys {
			if i > 0 {
				h = append(h, ',')
			}
			h = appendString(h, k)
			h = append(h, ':')
			h = appendString(h, f.Metadata[k])
		}
		h = append(h, '}')
	}
	var offset uint64
	for i, t := range order {
		if i > 0 || len(f.Metadata) > 0 {
			h = append(h, ',')
		}
		h = appendString(h, t.Name)
		h = append(h, `:{"dtype":`...)
		h = appendString(h, string(t.Dtype))
		h = append(h, `,"shape":[`...)
		for j, d := range t.Shape {
			if j > 0 {
				h = append(h, ',')
			}
			h = strconv.AppendInt(h, int64(d), 10)
		}
		n := uint64(len(t.Data) + len(t.Data64)) // one of them is empty
		end := offset + n*uint64(t.Dtype.Size()) // slices in memory cannot overflow this
		h = append(h, `],"data_offsets":[`...)
		h = strconv.AppendUint(h, offset, 10)
		h = append(h, ',')
		h = strconv.AppendUint(h, end, 10)
		h = append(h, "]}"...)
		offset = end
		if len(h) > DefaultMaxHeaderSize {
			break
		}
	}
	h = append(h, '}')
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	if len(h) > DefaultMaxHeaderSize {
		return nil, nil, &FormatError{"", "header", "longer than " + strconv.Itoa(DefaultMaxHeaderSize) + " bytes"}
	}
	return order, h, nil
}

func checkUnique(order []*Tensor) error {
	seen := make(map[string]bool, len(order))
	for _, t := range order {
		if seen[t.Name] {
			return &FormatError{t.Name, "name", "duplicate name"}
		}
		seen[t.Name] = true
	}
	return nil
}

// checkTensor applies the rules Read enforces, so that whatever Write accepts
// reads back.
func checkTensor(t *Tensor) error {
	if err := checkName(t.Name); err != nil {
		return err
	}
	if t.Dtype.Size() == 0 {
		return &UnsupportedError{t.Name, t.Dtype}
	}
	dims := make([]uint64, len(t.Shape))
	for i, d := range t.Shape {
		if d < 0 {
			return &FormatError{t.Name, "shape", "negative dimension " + strconv.Itoa(d)}
		}
		dims[i] = uint64(d)
	}
	n, ok := numElements(dims)
	if !ok {
		return &FormatError{t.Name, "shape", "element count overflows"}
	}
	data, other, field := len(t.Data), len(t.Data64), "Data"
	if t.Dtype == F64 {
		data, other, field = other, data, "Data64"
	}
	if other != 0 {
		return &FormatError{t.Name, "data", "elements must be in " + field + " for dtype " + string(t.Dtype)}
	}
	if uint64(data) != n {
		return &FormatError{t.Name, "data", field + " has " + strconv.Itoa(data) + " elements, shape needs " + strconv.FormatUint(n, 10)}
	}
	return nil
}

func checkName(name string) error {
	switch {
	case name == "":
		return &FormatError{"", "name", "empty tensor name"}
	case strings.HasPrefix(name, "__"):
		return &FormatError{name, "name", `names starting with "__" are reserved`}
	case !utf8.ValidString(name):
		return &FormatError{name, "name", "not valid UTF-8"}
	}
	return nil
}

// appendString appends s as a JSON string the way the reference writer
// (serde_json) does: quote and backslash escaped, \b \f \n \r \t by name, other
// control characters as \u00xx, everything else as raw UTF-8. s must be valid UTF-8.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// writeData converts t's elements to little-endian bytes through buf.
func writeData(w io.Writer, t *Tensor, buf []byte) error {
	size := t.Dtype.Size()
	per := len(buf) / size
	n := len(t.Data)
	if t.Dtype == F64 {
		n = len(t.Data64)
	}
	for lo := 0; lo < n; lo += per {
		hi := min(lo+per, n)
		b := buf[:(hi-lo)*size]
		switch t.Dtype {
		case F64:
			for i, v := range t.Data64[lo:hi] {
				binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
			}
		case F32:
			for i, v := range t.Data[lo:hi] {
				binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
			}
		case F16:
			for i, v := range t.Data[lo:hi] {
				binary.LittleEndian.PutUint16(b[2*i:], f32ToF16(v))
			}
		case BF16:
			for i, v := range t.Data[lo:hi] {
				binary.LittleEndian.PutUint16(b[2*i:], f32ToBF16(v))
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}
