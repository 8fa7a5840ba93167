package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ReadOptions configures Read. A nil *ReadOptions selects the defaults.
type ReadOptions struct {
	// MaxHeaderSize is the largest JSON header accepted, in bytes. Zero or
	// negative means DefaultMaxHeaderSize.
	MaxHeaderSize int64
}

// entry is one tensor as the header describes it.
type entry struct {
	name       string
	dtype      Dtype
	shape      []uint64
	count      uint64 // elements
	begin, end uint64 // byte offsets into the data buffer
}

// Read decodes the size-byte safetensors file that r holds. Every number in the
// header is checked against size before memory is allocated for it, so a hostile
// header costs at most its own length; the data cost at most twice size (F16 and
// BF16 widen to float32). size must be the true length: for an *os.File, take it
// from Stat.
//
// Structural faults are reported as *FormatError and dtypes other than F64, F32,
// BF16 and F16 as *UnsupportedError; errors from r are returned wrapped.
func Read(r io.ReaderAt, size int64, opts *ReadOptions) (*File, error) {
	limit := int64(DefaultMaxHeaderSize)
	if opts != nil && opts.MaxHeaderSize > 0 {
		limit = opts.MaxHeaderSize
	}
	if size < 8 {
		return nil, &FormatError{"", "header length", fmt.Sprintf("file of %d bytes is shorter than the 8-byte length field", size)}
	}
	var pre [8]byte
	if err := readAt(r, pre[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: read header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(pre[:])
	if n > uint64(limit) {
		return nil, &FormatError{"", "header length", fmt.Sprintf("%d bytes exceeds the limit of %d", n, limit)}
	}
	if n > uint64(size-8) {
		return nil, &FormatError{"", "header length", fmt.Sprintf("%d bytes exceeds the %d bytes after the length field", n, size-8)}
	}
	header := make([]byte, n)
	if err := readAt(r, header, 8); err != nil {
		return nil, fmt.Errorf("safetensors: read header: %w", err)
	}
	entries, meta, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	bufLen := uint64(size) - 8 - n
	if err := checkLayout(entries, bufLen); err != nil {
		return nil, err
	}

	f := &File{Tensors: make([]Tensor, len(entries)), Metadata: meta}
	buf := make([]byte, min(uint64(chunkBytes), bufLen))
	base := 8 + int64(n)
	for i, e := range entries {
		t := &f.Tensors[i]
		t.Name, t.Dtype = e.name, e.dtype
		t.Shape = make([]int, len(e.shape))
		for j, d := range e.shape {
			t.Shape[j] = int(d) // checked to fit in parseHeader
		}
		if err := readData(r, t, e, base, buf); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// readAt fills p from offset off, treating a short read as an error.
func readAt(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func readData(r io.ReaderAt, t *Tensor, e entry, base int64, buf []byte) error {
	size := e.dtype.Size()
	count := int(e.count)
	if e.dtype == F64 {
		t.Data64 = make([]float64, count)
	} else {
		t.Data = make([]float32, count)
	}
	per := len(buf) / size
	off := base + int64(e.begin)
	for lo := 0; lo < count; lo += per {
		hi := min(lo+per, count)
		b := buf[:(hi-lo)*size]
		if err := readAt(r, b, off); err != nil {
			return fmt.Errorf("safetensors: read tensor %q: %w", e.name, err)
		}
		off += int64(len(b))
		switch e.dtype {
		case F64:
			dst := t.Data64[lo:hi]
			for i := range dst {
				dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
			}
		case F32:
			dst := t.Data[lo:hi]
			for i := range dst {
				dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		case F16:
			dst := t.Data[lo:hi]
			for i := range dst {
				dst[i] = f16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
			}
		case BF16:
			dst := t.Data[lo:hi]
			for i := range dst {
				dst[i] = bf16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
			}
		}
	}
	return nil
}

// checkLayout checks each tensor's offsets against its shape and dtype and the
// buffer length, then that the tensors tile the buffer: sorted by offset, each
// starts where the previous one ended and the last ends at the end of the file,
// the rule of the reference reader. It sorts entries into file order.
func checkLayout(entries []entry, bufLen uint64) error {
	for i := range entries {
		e := &entries[i]
		size := e.dtype.Size()
		if size == 0 {
			return &UnsupportedError{e.name, e.dtype}
		}
		count, ok := numElements(e.shape)
		if !ok {
			return &FormatError{e.name, "shape", "element count overflows"}
		}
		e.count = count
		if e.begin > e.end {
			return &FormatError{e.name, "data_offsets", fmt.Sprintf("begin %d is after end %d", e.begin, e.end)}
		}
		if e.end > bufLen {
			return &FormatError{e.name, "data_offsets", fmt.Sprintf("end %d is beyond the %d-byte data buffer", e.end, bufLen)}
		}
		nbytes, ok := byteSize(count, size)
		if !ok || nbytes != e.end-e.begin {
			return &FormatError{e.name, "data_offsets", fmt.Sprintf("%d bytes for %d %s elements of %d bytes each", e.end-e.begin, count, e.dtype, size)}
		}
	}
	// Ties are zero-length tensors at one offset; rank and name order them as
	// Write does, so a file from Write reads back in Write's order.
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end),
			cmp.Compare(a.dtype.rank(), b.dtype.rank()), strings.Compare(a.name, b.name))
	})
	var pos uint64
	for i, e := range entries {
		if e.begin < pos {
			return &FormatError{e.name, "data_offsets", fmt.Sprintf("bytes [%d, %d) overlap tensor %q, which ends at %d", e.begin, e.end, entries[i-1].name, pos)}
		}
		if e.begin > pos {
			return &FormatError{e.name, "data_offsets", fmt.Sprintf("hole of %d bytes before it at offset %d", e.begin-pos, pos)}
		}
		pos = e.end
	}
	if pos != bufLen {
		return &FormatError{"", "data_offsets", fmt.Sprintf("tensors cover %d bytes of the %d-byte data buffer; the rest is a hole", pos, bufLen)}
	}
	return nil
}

// parseHeader walks the JSON token by token rather than unmarshalling into a
// map, to see duplicate keys (encoding/json keeps the last silently) and to
// refuse anything but the expected shapes without recursion.
func parseHeader(header []byte) ([]entry, map[string]string, error) {
	if !utf8.Valid(header) {
		return nil, nil, &FormatError{"", "header", "not valid UTF-8"}
	}
	p := &parser{dec: json.NewDecoder(bytes.NewReader(header))}
	p.dec.UseNumber()
	if err := p.delim('{', "", "header", "not a JSON object"); err != nil {
		return nil, nil, err
	}
	var (
		entries []entry
		meta    map[string]string
		seen    = make(map[string]bool)
	)
	for p.dec.More() {
		key, err := p.key("", "header")
		if err != nil {
			return nil, nil, err
		}
		if seen[key] {
			if key == MetadataKey {
				return nil, nil, &FormatError{"", MetadataKey, "appears twice"}
			}
			return nil, nil, &FormatError{key, "name", "appears twice in the header"}
		}
		seen[key] = true
		if key == MetadataKey {
			if meta, err = p.metadata(); err != nil {
				return nil, nil, err
			}
			continue
		}
		if err := checkName(key); err != nil {
			return nil, nil, err
		}
		e, err := p.tensor(key)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if err := p.delim('}', "", "header", "object not closed"); err != nil {
		return nil, nil, err
	}
	// Only whitespace (the writer's padding) may follow the object.
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, nil, &FormatError{"", "header", "data after the JSON object"}
	}
	return entries, meta, nil
}

type parser struct {
	dec *json.Decoder
}

func (p *parser) token(tensor, field string) (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, &FormatError{tensor, field, fmt.Sprintf("invalid JSON at header byte %d: %v", syn.Offset, err)}
		}
		return nil, &FormatError{tensor, field, "invalid JSON: " + err.Error()}
	}
	return tok, nil
}

// delim reads the delimiter want or fails with msg.
func (p *parser) delim(want json.Delim, tensor, field, msg string) error {
	tok, err := p.token(tensor, field)
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return &FormatError{tensor, field, msg}
	}
	return nil
}

func (p *parser) key(tensor, field string) (string, error) {
	tok, err := p.token(tensor, field)
	if err != nil {
		return "", err
	}
	k, ok := tok.(string)
	if !ok { // the decoder only yields strings in key position; be safe anyway
		return "", &FormatError{tensor, field, "object key is not a string"}
	}
	return k, nil
}

// metadata reads the "__metadata__" value: an object of strings, or null as
// the reference reader's optional field allows.
func (p *parser) metadata() (map[string]string, error) {
	tok, err := p.token("", MetadataKey)
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, &FormatError{"", MetadataKey, "not an object"}
	}
	m := make(map[string]string)
	for p.dec.More() {
		k, err := p.key("", MetadataKey)
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, &FormatError{"", MetadataKey, fmt.Sprintf("key %q appears twice", k)}
		}
		tok, err := p.token("", MetadataKey)
		if err != nil {
			return nil, err
		}
		v, ok := tok.(string)
		if !ok {
			return nil, &FormatError{"", MetadataKey, fmt.Sprintf("value of %q is not a string", k)}
		}
		m[k] = v
	}
	return m, p.delim('}', "", MetadataKey, "object not closed")
}

// tensor reads one tensor description {"dtype", "shape", "data_offsets"}.
func (p *parser) tensor(name string) (entry, error) {
	e := entry{name: name}
	if err := p.delim('{', name, "header", "tensor description not an object"); err != nil {
		return e, err
	}
	var haveDtype, haveShape, haveOffsets bool
	for p.dec.More() {
		k, err := p.key(name, "header")
		if err != nil {
			return e, err
		}
		dup := false
		switch k {
		case "dtype":
			dup, haveDtype = haveDtype, true
			tok, err := p.token(name, k)
			if err != nil {
				return e, err
			}
			s, ok := tok.(string)
			if !ok {
				return e, &FormatError{name, k, "not a string"}
			}
			e.dtype = Dtype(s)
		case "shape":
			dup, haveShape = haveShape, true
			if e.shape, err = p.uints(name, k); err != nil {
				return e, err
			}
			for _, d := range e.shape {
				if d > math.MaxInt {
					return e, &FormatError{name, k, fmt.Sprintf("dimension %d is too large", d)}
				}
			}
		case "data_offsets":
			dup, haveOffsets = haveOffsets, true
			offs, err := p.uints(name, k)
			if err != nil {
				return e, err
			}
			if len(offs) != 2 {
				return e, &FormatError{name, k, fmt.Sprintf("%d entries, want 2", len(offs))}
			}
			e.begin, e.end = offs[0], offs[1]
		default:
			return e, &FormatError{name, "header", fmt.Sprintf("unknown field %q", k)}
		}
		if dup {
			return e, &FormatError{name, k, "appears twice"}
		}
	}
	if err := p.delim('}', name, "header", "tensor description not closed"); err != nil {
		return e, err
	}
	switch {
	case !haveDtype:
		return e, &FormatError{name, "dtype", "missing"}
	case !haveShape:
		return e, &FormatError{name, "shape", "missing"}
	case !haveOffsets:
		return e, &FormatError{name, "data_offsets", "missing"}
	}
	return e, nil
}

// uints reads an array of non-negative integers in plain decimal notation.
func (p *parser) uints(tensor, field string) ([]uint64, error) {
	if err := p.delim('[', tensor, field, "not an array"); err != nil {
		return nil, err
	}
	var out []uint64
	for p.dec.More() {
		tok, err := p.token(tensor, field)
		if err != nil {
			return nil, err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, &FormatError{tensor, field, "entry is not a number"}
		}
		s := string(num)
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			msg := "entry " + s + " is too large"
			switch {
			case strings.ContainsAny(s, ".eE"):
				msg = "entry " + s + " is not an integer"
			case strings.HasPrefix(s, "-"):
				msg = "entry " + s + " is negative"
			}
			return nil, &FormatError{tensor, field, msg}
		}
		out = append(out, v)
	}
	return out, p.delim(']', tensor, field, "array not closed")
}
