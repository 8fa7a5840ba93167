package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

// craft lays out a file with the given header text (no padding added) and data.
func craft(header, data string) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(len(header)))
	return []byte(string(b[:]) + header + data)
}

// lenOnly is a file whose length field says n, followed by rest.
func lenOnly(n uint64, rest string) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	return []byte(string(b[:]) + rest)
}

func f32Info(name, shape, offsets string) string {
	return `"` + name + `":{"dtype":"F32","shape":` + shape + `,"data_offsets":` + offsets + `}`
}

var zeros = strings.Repeat("\x00", 64)

// badFiles holds one crafted input per validation rule. field is the
// FormatError field expected, "" for *UnsupportedError.
var badFiles = []struct {
	name  string
	file  []byte
	opts  *ReadOptions
	field string
}{
	{"shorter than length field", []byte("\x08\x00\x00"), nil, "header length"},
	{"empty file", nil, nil, "header length"},
	{"header longer than file", lenOnly(100, "{}"), nil, "header length"},
	{"header over default limit", lenOnly(DefaultMaxHeaderSize+1, "{}"), nil, "header length"},
	{"header length 2^64-1", lenOnly(1<<64-1, "{}"), nil, "header length"},
	{"header over set limit", craft(`{"__metadata__":{"a":"b"}}`, ""), &ReadOptions{MaxHeaderSize: 16}, "header length"},
	{"empty header", craft("", ""), nil, "header"},
	{"not UTF-8", craft("{\"\xff\":{}}", ""), nil, "header"},
	{"not UTF-8 in metadata", craft("{\"__metadata__\":{\"a\":\"\xc3\x28\"}}", ""), nil, "header"},
	{"not JSON", craft(`hello`, ""), nil, "header"},
	{"truncated JSON", craft(`{"a":{"dtype":"F32"`, ""), nil, "header"},
	{"array", craft(`[]`, ""), nil, "header"},
	{"string", craft(`"{}"`, ""), nil, "header"},
	{"null", craft(`null`, ""), nil, "header"},
	{"trailing object", craft(`{}{}`, ""), nil, "header"},
	{"trailing garbage", craft(`{}  x`, ""), nil, "header"},
	{"NUL padding", craft("{}\x00\x00", ""), nil, "header"},
	{"tensor not object", craft(`{"a":[1]}`, ""), nil, "header"},
	{"unknown field", craft(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":1}}`, zeros[:4]), nil, "header"},
	{"unknown dtype", craft(`{"a":{"dtype":"F33","shape":[],"data_offsets":[0,4]}}`, zeros[:4]), nil, ""},
	{"unsupported dtype", craft(`{"a":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}`, zeros[:8]), nil, ""},
	{"lower-case dtype", craft(`{"a":{"dtype":"f32","shape":[],"data_offsets":[0,4]}}`, zeros[:4]), nil, ""},
	{"dtype not string", craft(`{"a":{"dtype":4,"shape":[],"data_offsets":[0,4]}}`, zeros[:4]), nil, "dtype"},
	{"dtype twice", craft(`{"a":{"dtype":"F32","dtype":"F16","shape":[],"data_offsets":[0,4]}}`, zeros[:4]), nil, "dtype"},
	{"dtype missing", craft(`{"a":{"shape":[],"data_offsets":[0,4]}}`, zeros[:4]), nil, "dtype"},
	{"shape missing", craft(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, zeros[:4]), nil, "shape"},
	{"shape negative", craft(`{`+f32Info("a", "[-1]", "[0,4]")+`}`, zeros[:4]), nil, "shape"},
	{"shape fraction", craft(`{`+f32Info("a", "[1.0]", "[0,4]")+`}`, zeros[:4]), nil, "shape"},
	{"shape exponent", craft(`{`+f32Info("a", "[1e0]", "[0,4]")+`}`, zeros[:4]), nil, "shape"},
	{"shape not array", craft(`{`+f32Info("a", "1", "[0,4]")+`}`, zeros[:4]), nil, "shape"},
	{"shape nested", craft(`{`+f32Info("a", "[[1]]", "[0,4]")+`}`, zeros[:4]), nil, "shape"},
	{"shape string", craft(`{`+f32Info("a", `["1"]`, "[0,4]")+`}`, zeros[:4]), nil, "shape"},
	{"shape product overflow", craft(`{`+f32Info("a", "[4294967296,4294967296,0]", "[0,0]")+`}`, ""), nil, "shape"},
	{"shape dim beyond int", craft(`{`+f32Info("a", "[0,9223372036854775808]", "[0,0]")+`}`, ""), nil, "shape"},
	{"shape dim beyond uint64", craft(`{`+f32Info("a", "[18446744073709551616]", "[0,4]")+`}`, zeros[:4]), nil, "shape"},
	{"shape twice", craft(`{"a":{"dtype":"F32","shape":[],"shape":[1],"data_offsets":[0,4]}}`, zeros[:4]), nil, "shape"},
	{"bytes overflow", craft(`{`+f32Info("a", "[4611686018427387904]", "[0,4]")+`}`, zeros[:4]), nil, "data_offsets"},
	{"offsets missing", craft(`{"a":{"dtype":"F32","shape":[]}}`, ""), nil, "data_offsets"},
	{"offsets one entry", craft(`{`+f32Info("a", "[]", "[4]")+`}`, zeros[:4]), nil, "data_offsets"},
	{"offsets three entries", craft(`{`+f32Info("a", "[]", "[0,4,4]")+`}`, zeros[:4]), nil, "data_offsets"},
	{"offsets decreasing", craft(`{`+f32Info("a", "[]", "[4,0]")+`}`, zeros[:4]), nil, "data_offsets"},
	{"offsets negative", craft(`{`+f32Info("a", "[]", "[-4,0]")+`}`, zeros[:4]), nil, "data_offsets"},
	{"offsets fraction", craft(`{`+f32Info("a", "[]", "[0,4.5]")+`}`, zeros[:4]), nil, "data_offsets"},
	{"offsets not array", craft(`{`+f32Info("a", "[]", `{"0":4}`)+`}`, zeros[:4]), nil, "data_offsets"},
	{"end beyond buffer", craft(`{`+f32Info("a", "[]", "[0,4]")+`}`, zeros[:2]), nil, "data_offsets"},
	{"end far beyond buffer", craft(`{`+f32Info("a", "[4611686018427387904]", "[0,18446744073709551612]")+`}`, zeros[:4]), nil, "data_offsets"},
	{"size mismatch", craft(`{`+f32Info("a", "[2]", "[0,4]")+`}`, zeros[:4]), nil, "data_offsets"},
	{"overlap", craft(`{`+f32Info("a", "[2]", "[0,8]")+`,`+f32Info("b", "[2]", "[4,12]")+`}`, zeros[:12]), nil, "data_offsets"},
	{"same offsets", craft(`{`+f32Info("a", "[1]", "[0,4]")+`,`+f32Info("b", "[1]", "[0,4]")+`}`, zeros[:4]), nil, "data_offsets"},
	{"empty tensor inside another", craft(`{`+f32Info("a", "[2]", "[0,8]")+`,`+f32Info("b", "[0]", "[4,4]")+`}`, zeros[:8]), nil, "data_offsets"},
	{"hole between", craft(`{`+f32Info("a", "[1]", "[0,4]")+`,`+f32Info("b", "[1]", "[8,12]")+`}`, zeros[:12]), nil, "data_offsets"},
	{"hole at start", craft(`{`+f32Info("a", "[1]", "[4,8]")+`}`, zeros[:8]), nil, "data_offsets"},
	{"hole at end", craft(`{`+f32Info("a", "[1]", "[0,4]")+`}`, zeros[:8]), nil, "data_offsets"},
	{"data but no tensors", craft(`{}`, zeros[:4]), nil, "data_offsets"},
	{"metadata string", craft(`{"__metadata__":"pt"}`, ""), nil, "__metadata__"},
	{"metadata array", craft(`{"__metadata__":[]}`, ""), nil, "__metadata__"},
	{"metadata number value", craft(`{"__metadata__":{"a":1}}`, ""), nil, "__metadata__"},
	{"metadata null value", craft(`{"__metadata__":{"a":null}}`, ""), nil, "__metadata__"},
	{"metadata object value", craft(`{"__metadata__":{"a":{}}}`, ""), nil, "__metadata__"},
	{"metadata duplicate key", craft(`{"__metadata__":{"a":"1","a":"2"}}`, ""), nil, "__metadata__"},
	{"metadata twice", craft(`{"__metadata__":{},"__metadata__":{}}`, ""), nil, "__metadata__"},
	{"metadata unclosed", craft(`{"__metadata__":{"a":"1"`, ""), nil, "__metadata__"},
	{"duplicate tensor", craft(`{`+f32Info("a", "[1]", "[0,4]")+`,`+f32Info("a", "[1]", "[4,8]")+`}`, zeros[:8]), nil, "name"},
	{"duplicate after unescaping", craft(`{`+f32Info("a", "[1]", "[0,4]")+`,`+f32Info(`\u0061`, "[1]", "[4,8]")+`}`, zeros[:8]), nil, "name"},
	{"empty name", craft(`{`+f32Info("", "[1]", "[0,4]")+`}`, zeros[:4]), nil, "name"},
	{"reserved name", craft(`{`+f32Info("__meta", "[1]", "[0,4]")+`}`, zeros[:4]), nil, "name"},
}

func TestReadErrors(t *testing.T) {
	for _, tc := range badFiles {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Read(bytes.NewReader(tc.file), int64(len(tc.file)), tc.opts)
			if f != nil {
				t.Errorf("returned a File with the error")
			}
			checkErr(t, err, tc.field)
			t.Log(err)
		})
	}
}

// goodFiles holds odd but valid inputs and the number of tensors in each.
var goodFiles = []struct {
	name string
	file []byte
	n    int
}{
	{"null metadata", craft(`{"__metadata__":null}`, ""), 0},
	{"empty object", craft(`{}`, ""), 0},
	{"whitespace around", craft(" \t\r\n{ } \n", ""), 0},
	{"metadata last", craft(`{`+f32Info("a", "[1]", "[0,4]")+`,"__metadata__":{"k":"v"}}`, zeros[:4]), 1},
	{"fields in another order", craft(`{"a":{"data_offsets":[0,4],"shape":[1],"dtype":"F32"}}`, zeros[:4]), 1},
	{"offsets out of name order", craft(`{`+f32Info("a", "[1]", "[4,8]")+`,`+f32Info("b", "[1]", "[0,4]")+`}`, zeros[:8]), 2},
	{"unaligned F32 after F16", craft(`{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},`+f32Info("a", "[1]", "[2,6]")+`}`, zeros[:6]), 2},
	{"zero-size tensors at one offset", craft(`{`+f32Info("a", "[0]", "[4,4]")+`,`+f32Info("b", "[5,0]", "[4,4]")+`,`+f32Info("c", "[1]", "[0,4]")+`}`, zeros[:4]), 3},
	{"zero times huge", craft(`{`+f32Info("a", "[0,9223372036854775807]", "[0,0]")+`}`, ""), 1},
	{"escaped name", craft(`{`+f32Info(`a\/b\u00e9`, "[1]", "[0,4]")+`}`, zeros[:4]), 1},
}

// TestReadAccepts covers inputs that look odd but are valid.
func TestReadAccepts(t *testing.T) {
	for _, tc := range goodFiles {
		t.Run(tc.name, func(t *testing.T) {
			f := decode(t, tc.file)
			if len(f.Tensors) != tc.n {
				t.Fatalf("read %d tensors, want %d", len(f.Tensors), tc.n)
			}
			// Whatever is accepted writes and reads back.
			g := decode(t, encode(t, *f))
			if len(g.Tensors) != tc.n {
				t.Fatal("rewrite lost tensors")
			}
		})
	}
	f := decode(t, craft(`{`+f32Info(`a\/b\u00e9`, "[1]", "[0,4]")+`}`, zeros[:4]))
	if f.Tensors[0].Name != "a/bé" {
		t.Errorf("name %q", f.Tensors[0].Name)
	}
	f = decode(t, craft(`{`+f32Info("a", "[1]", "[4,8]")+`,`+f32Info("b", "[1]", "[0,4]")+`}`, "\x00\x00\x80\x3f\x00\x00\x00\x40"))
	if f.Tensors[0].Name != "b" || f.Tensors[0].Data[0] != 1 || f.Tensors[1].Data[0] != 2 {
		t.Errorf("file order not kept: %+v", f.Tensors)
	}
}

// shortReader claims more bytes than it has, as a file truncated after Stat.
type shortReader struct{ r *bytes.Reader }

func (s shortReader) ReadAt(p []byte, off int64) (int, error) { return s.r.ReadAt(p, off) }

func TestReadIOError(t *testing.T) {
	b := encode(t, File{Tensors: []Tensor{{Name: "w", Dtype: F32, Shape: []int{100}, Data: make([]float32, 100)}}})
	_, err := Read(shortReader{bytes.NewReader(b[:len(b)-1])}, int64(len(b)), nil)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v, want unexpected EOF", err)
	}
	var fe *FormatError
	if errors.As(err, &fe) {
		t.Fatal("an I/O failure reported as a format error")
	}
}
