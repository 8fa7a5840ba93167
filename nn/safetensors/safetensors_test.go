package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func f32s(bits ...uint32) []float32 {
	out := make([]float32, len(bits))
	for i, b := range bits {
		out[i] = math.Float32frombits(b)
	}
	return out
}

// sameTensor compares everything, elements by bit pattern.
func sameTensor(a, b *Tensor) bool {
	if a.Name != b.Name || a.Dtype != b.Dtype || !slices.Equal(a.Shape, b.Shape) ||
		len(a.Data) != len(b.Data) || len(a.Data64) != len(b.Data64) {
		return false
	}
	for i := range a.Data {
		if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
			return false
		}
	}
	for i := range a.Data64 {
		if math.Float64bits(a.Data64[i]) != math.Float64bits(b.Data64[i]) {
			return false
		}
	}
	return true
}

func encode(t testing.TB, f File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, f); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func decode(t testing.TB, b []byte) *File {
	t.Helper()
	f, err := Read(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return f
}

// TestRoundTrip writes and reads one tensor per case. want is what the
// elements must read back as, bit for bit; nil means the input itself.
func TestRoundTrip(t *testing.T) {
	specials := f32s(
		0x00000000, 0x80000000, // +0, -0
		0x7f800000, 0xff800000, // ±Inf
		0x00000001, 0x807fffff, 0x00800000, // subnormals, min normal
		0x7f7fffff, 0xff7fffff, // ±max
		0x7fc00000, 0xffc00001, 0x7f800001, 0x7fa5a5a5, // quiet and signalling NaNs with payloads
		0x3f800000, 0xc0490fdb, // 1, -pi
	)
	tests := []struct {
		name  string
		dtype Dtype
		shape []int
		data  []float32
		data6 []float64
		want  []float32
	}{
		{"F32 specials", F32, []int{len(specials)}, specials, nil, nil},
		{"F32 scalar", F32, []int{}, []float32{-2.5}, nil, nil},
		{"F32 empty", F32, []int{3, 0, 2}, []float32{}, nil, nil},
		{"F32 matrix", F32, []int{2, 3}, []float32{0, 1, 2, 3, 4, 5}, nil, nil},
		{"F64 specials", F64, []int{8}, nil, []float64{
			0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.SmallestNonzeroFloat64,
			math.MaxFloat64, math.Float64frombits(0x7ff0000000000001), math.Float64frombits(0xfff8dead00000000),
		}, nil},
		{"F16 exact", F16, []int{2, 4}, f32s(0x3f800000, 0x80000000, 0x7f800000, 0xff800000, 0x33800000, 0x477fe000, 0x38800000, 0x7fc00000), nil, nil},
		{"F16 rounded", F16, []int{4}, []float32{1 + 0x1p-11, 0.1, 65520, 0x1p-26},
			nil, []float32{1, f16ToF32(0x2e66), float32(math.Inf(1)), 0}},
		{"F16 NaN payload", F16, []int{2}, f32s(0x7f802000, 0xff800001),
			nil, f32s(0x7f802000, 0xff802000)},
		{"BF16 exact", BF16, []int{5}, f32s(0x3f800000, 0x80000000, 0x7f800000, 0x00010000, 0xffc10000), nil, nil},
		{"BF16 rounded", BF16, []int{3}, []float32{1 + 0x1p-8, 1 + 0x3p-8, math.MaxFloat32},
			nil, []float32{1, 1 + 0x1p-6, float32(math.Inf(1))}},
		{"BF16 NaN payload", BF16, []int{1}, f32s(0x7f800001), nil, f32s(0x7f810000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := Tensor{Name: "x", Dtype: tc.dtype, Shape: tc.shape, Data: tc.data, Data64: tc.data6}
			got := decode(t, encode(t, File{Tensors: []Tensor{in}}))
			if len(got.Tensors) != 1 {
				t.Fatalf("read %d tensors", len(got.Tensors))
			}
			want := in
			if tc.want != nil {
				want.Data = tc.want
			}
			if !sameTensor(&got.Tensors[0], &want) {
				t.Errorf("got %+v\nwant %+v", got.Tensors[0], want)
			}
		})
	}
}

// TestHuggingFaceLayout parses bytes laid out as the Python library writes
// save_file({"weight": torch.arange(6.).reshape(2, 3)}, path, {"format": "pt"}):
// 93 bytes of JSON padded with 3 spaces to 96 = 0x60.
func TestHuggingFaceLayout(t *testing.T) {
	file := []byte("\x60\x00\x00\x00\x00\x00\x00\x00" +
		`{"__metadata__":{"format":"pt"},"weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}` + "   " +
		"\x00\x00\x00\x00" + "\x00\x00\x80\x3f" + "\x00\x00\x00\x40" +
		"\x00\x00\x40\x40" + "\x00\x00\x80\x40" + "\x00\x00\xa0\x40")
	f := decode(t, file)
	want := File{
		Tensors:  []Tensor{{Name: "weight", Dtype: F32, Shape: []int{2, 3}, Data: []float32{0, 1, 2, 3, 4, 5}}},
		Metadata: map[string]string{"format": "pt"},
	}
	if len(f.Tensors) != 1 || !sameTensor(&f.Tensors[0], &want.Tensors[0]) || f.Metadata["format"] != "pt" || len(f.Metadata) != 1 {
		t.Fatalf("got %+v", f)
	}
	// Write reproduces the reference writer's bytes exactly.
	if got := encode(t, want); !bytes.Equal(got, file) {
		t.Errorf("Write differs from the reference layout:\n got %q\nwant %q", got, file)
	}
}

// TestReferenceBytes: layouts of the reference writer built from its rules
// (compact JSON, fields dtype/shape/data_offsets, space padding to 8).
func TestReferenceBytes(t *testing.T) {
	lenField := func(n int) string {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(n))
		return string(b[:])
	}
	data := []float32{0, 1, 2, 3, 4, 5}
	raw := "\x00\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40\x00\x00\xa0\x40"
	tests := []struct {
		name string
		f    File
		want string
	}{
		{"empty", File{}, lenField(8) + "{}      "},
		{"metadata only", File{Metadata: map[string]string{"framework": "pt"}},
			lenField(40) + `{"__metadata__":{"framework":"pt"}}` + "     "},
		{"no padding needed", File{Tensors: []Tensor{{Name: "attn.0", Dtype: F32, Shape: []int{1, 2, 3}, Data: data}}},
			lenField(64) + `{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}` + raw},
		{"padded", File{Tensors: []Tensor{{Name: "attn0", Dtype: F32, Shape: []int{1, 1, 2, 3}, Data: data}}},
			lenField(72) + `{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}` + "       " + raw},
		{"escapes", File{Tensors: []Tensor{{Name: "a\"\\\n\x01é/<>", Dtype: F32, Shape: []int{}, Data: []float32{1}}}},
			lenField(72) + `{"a\"\\\n\u0001é/<>":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}` + "  " + "\x00\x00\x80\x3f"},
		{"order: widest first, then name", File{Tensors: []Tensor{
			{Name: "a", Dtype: F16, Shape: []int{1}, Data: []float32{1}},
			{Name: "b", Dtype: BF16, Shape: []int{1}, Data: []float32{1}},
			{Name: "d", Dtype: F32, Shape: []int{1}, Data: []float32{1}},
			{Name: "c", Dtype: F32, Shape: []int{1}, Data: []float32{1}},
			{Name: "z", Dtype: F64, Shape: []int{1}, Data64: []float64{1}},
		}}, lenField(280) +
			`{"z":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},` +
			`"c":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},` +
			`"d":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},` +
			`"b":{"dtype":"BF16","shape":[1],"data_offsets":[16,18]},` +
			`"a":{"dtype":"F16","shape":[1],"data_offsets":[18,20]}}` + "      " +
			"\x00\x00\x00\x00\x00\x00\xf0\x3f" + "\x00\x00\x80\x3f\x00\x00\x80\x3f" + "\x80\x3f" + "\x00\x3c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := encode(t, tc.f)
			if string(got) != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			decode(t, got)
		})
	}
}

// TestDeterministic: input order and map iteration order do not matter.
func TestDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var ts []Tensor
	for i, d := range []Dtype{F32, F16, BF16, F64, F32, F16, F32} {
		n := 1 + rng.IntN(20)
		tt := Tensor{Name: string(rune('a'+i)) + "/w", Dtype: d, Shape: []int{n}}
		if d == F64 {
			for range n {
				tt.Data64 = append(tt.Data64, rng.NormFloat64())
			}
		} else {
			for range n {
				tt.Data = append(tt.Data, float32(rng.NormFloat64()))
			}
		}
		ts = append(ts, tt)
	}
	meta := map[string]string{}
	for i := range 50 {
		meta[strings.Repeat("k", i)] = strings.Repeat("v", 50-i)
	}
	first := encode(t, File{Tensors: ts, Metadata: meta})
	for range 20 {
		shuffled := slices.Clone(ts)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		m2 := map[string]string{}
		for k, v := range meta {
			m2[k] = v
		}
		if got := encode(t, File{Tensors: shuffled, Metadata: m2}); !bytes.Equal(got, first) {
			t.Fatal("output depends on input order")
		}
	}
	// Reading gives Write's order, and writing that again the same bytes.
	f := decode(t, first)
	if again := encode(t, *f); !bytes.Equal(again, first) {
		t.Fatal("read-write is not idempotent")
	}
	for i := 1; i < len(f.Tensors); i++ {
		a, b := f.Tensors[i-1], f.Tensors[i]
		if a.Dtype.rank() > b.Dtype.rank() || a.Dtype == b.Dtype && a.Name > b.Name {
			t.Fatalf("read order %q before %q", a.Name, b.Name)
		}
	}
	// Data starts 8-byte aligned and each tensor at a multiple of its size.
	n := binary.LittleEndian.Uint64(first)
	if (8+n)%8 != 0 {
		t.Fatalf("data buffer starts at %d", 8+n)
	}
}

func TestWriteErrors(t *testing.T) {
	one := []float32{1}
	tests := []struct {
		name  string
		f     File
		field string // FormatError field; "" for UnsupportedError
	}{
		{"empty name", File{Tensors: []Tensor{{Name: "", Dtype: F32, Shape: []int{1}, Data: one}}}, "name"},
		{"reserved name", File{Tensors: []Tensor{{Name: "__metadata__", Dtype: F32, Shape: []int{1}, Data: one}}}, "name"},
		{"reserved prefix", File{Tensors: []Tensor{{Name: "__x", Dtype: F32, Shape: []int{1}, Data: one}}}, "name"},
		{"invalid UTF-8 name", File{Tensors: []Tensor{{Name: "a\xff", Dtype: F32, Shape: []int{1}, Data: one}}}, "name"},
		{"duplicate", File{Tensors: []Tensor{
			{Name: "w", Dtype: F32, Shape: []int{1}, Data: one},
			{Name: "w", Dtype: F32, Shape: []int{1}, Data: one}}}, "name"},
		{"duplicate across dtypes", File{Tensors: []Tensor{
			{Name: "w", Dtype: F32, Shape: []int{1}, Data: one},
			{Name: "v", Dtype: F16, Shape: []int{1}, Data: one},
			{Name: "w", Dtype: BF16, Shape: []int{1}, Data: one}}}, "name"},
		{"negative dim", File{Tensors: []Tensor{{Name: "w", Dtype: F32, Shape: []int{-1, -1}, Data: one}}}, "shape"},
		{"overflow", File{Tensors: []Tensor{{Name: "w", Dtype: F32, Shape: []int{1 << 40, 1 << 40, 0}}}}, "shape"},
		{"too few elements", File{Tensors: []Tensor{{Name: "w", Dtype: F32, Shape: []int{2}, Data: one}}}, "data"},
		{"too many elements", File{Tensors: []Tensor{{Name: "w", Dtype: F32, Shape: []int{}, Data: []float32{1, 2}}}}, "data"},
		{"F64 in Data", File{Tensors: []Tensor{{Name: "w", Dtype: F64, Shape: []int{1}, Data: one}}}, "data"},
		{"F32 in Data64", File{Tensors: []Tensor{{Name: "w", Dtype: F32, Shape: []int{1}, Data: one, Data64: []float64{1}}}}, "data"},
		{"bad metadata", File{Metadata: map[string]string{"k": "\xfe"}}, "__metadata__"},
		{"unsupported dtype", File{Tensors: []Tensor{{Name: "w", Dtype: "I64", Shape: []int{1}, Data: one}}}, ""},
		{"empty dtype", File{Tensors: []Tensor{{Name: "w", Shape: []int{1}, Data: one}}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tc.f)
			checkErr(t, err, tc.field)
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

// checkErr wants a *FormatError with the given field, or *UnsupportedError
// when field is "".
func checkErr(t *testing.T, err error, field string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	var fe *FormatError
	var ue *UnsupportedError
	switch {
	case field == "" && errors.As(err, &ue):
	case field != "" && errors.As(err, &fe) && fe.Field == field:
	default:
		t.Fatalf("got %T %v, want field %q", err, err, field)
	}
}

func TestLookup(t *testing.T) {
	f := File{Tensors: []Tensor{{Name: "a"}, {Name: "b"}}}
	if p, ok := f.Lookup("b"); !ok || p != &f.Tensors[1] {
		t.Fatal("Lookup(b)")
	}
	if _, ok := f.Lookup("c"); ok {
		t.Fatal("Lookup(c) found something")
	}
}

// TestNameEscapes round-trips names with every ASCII character and some
// beyond, through the writer's own JSON escaping and the reader's decoding.
func TestNameEscapes(t *testing.T) {
	var ts []Tensor
	for c := 1; c < 0x80; c++ {
		ts = append(ts, Tensor{Name: "n" + string(rune(c)), Dtype: F32, Shape: []int{}, Data: []float32{float32(c)}})
	}
	ts = append(ts, Tensor{Name: "\u2028\U0001F600\uFFFD", Dtype: F32, Shape: []int{}, Data: []float32{0}})
	meta := map[string]string{"\x00\t\"": "\\\x1f\u00e9"}
	f := decode(t, encode(t, File{Tensors: ts, Metadata: meta}))
	for i := range ts {
		g, ok := f.Lookup(ts[i].Name)
		if !ok || !sameTensor(g, &ts[i]) {
			t.Errorf("name %q lost", ts[i].Name)
		}
	}
	if f.Metadata["\x00\t\""] != "\\\x1f\u00e9" || len(f.Metadata) != 1 {
		t.Errorf("metadata %q", f.Metadata)
	}
}

func TestWriteHeaderLimit(t *testing.T) {
	f := File{Tensors: []Tensor{{Name: strings.Repeat("a", DefaultMaxHeaderSize), Dtype: F32, Shape: []int{}, Data: []float32{1}}}}
	checkErr(t, Write(io.Discard, f), "header")
}

// failWriter fails once more than limit bytes have been written.
type failWriter struct{ limit, n int }

var errFull = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n+len(p) > w.limit {
		return 0, errFull
	}
	w.n += len(p)
	return len(p), nil
}

func TestWriteIOError(t *testing.T) {
	f := File{Tensors: []Tensor{{Name: "w", Dtype: F32, Shape: []int{1 << 17}, Data: make([]float32, 1<<17)}}}
	for _, limit := range []int{0, 7, 8, 100, 1 << 18} {
		if err := Write(&failWriter{limit: limit}, f); !errors.Is(err, errFull) {
			t.Errorf("limit %d: got %v", limit, err)
		}
	}
}
