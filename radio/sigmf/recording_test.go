package sigmf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testSignal returns n samples that the datatype represents exactly: codes of
// the integer grid for ci8 and ci16_le, and arbitrary float32 bit patterns
// (NaN payloads, infinities, subnormals, -0) for cf32_le.
func testSignal(d Datatype, n int, seed uint64) []complex64 {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]complex64, n)
	for i := range x {
		switch d {
		case CI8:
			x[i] = complex(float32(r.IntN(256)-128)/scale8, float32(r.IntN(256)-128)/scale8)
		case CI16LE:
			x[i] = complex(float32(r.IntN(65536)-32768)/scale16, float32(r.IntN(65536)-32768)/scale16)
		case CF32LE:
			x[i] = complex(math.Float32frombits(r.Uint32()), float32(r.NormFloat64()))
		}
	}
	return x
}

// sameSamples compares bit patterns, so NaN and -0 count too.
func sameSamples(t *testing.T, got, want []complex64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d samples, want %d", len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(real(got[i])) != math.Float32bits(real(want[i])) ||
			math.Float32bits(imag(got[i])) != math.Float32bits(imag(want[i])) {
			t.Fatalf("sample %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

// readAll reads the rest of r in chunks of the given size.
func readAll(t *testing.T, r *Reader, chunk int) []complex64 {
	t.Helper()
	var out []complex64
	buf := make([]complex64, chunk)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if n == 0 {
			t.Fatal("Read returned 0 samples and no error")
		}
	}
}

func writeAll(t *testing.T, w *Writer, x []complex64) {
	t.Helper()
	// Uneven chunks cross buffer boundaries in every way.
	for _, k := range []int{1, 999, 70001} {
		k = min(k, len(x))
		if n, err := w.Write(x[:k]); n != k || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
		x = x[k:]
	}
	if n, err := w.Write(x); n != len(x) || err != nil {
		t.Fatalf("Write: %d, %v", n, err)
	}
}

func TestRoundTrip(t *testing.T) {
	when := time.Date(2024, 5, 1, 12, 30, 0, 250_000_000, time.UTC)
	tests := []struct {
		name string
		file string
		dt   Datatype // given to Create; 0 leaves the choice to Create
		want Datatype
		raw  bool
	}{
		{"sigmf ci8 by meta name", "rec.sigmf-meta", CI8, CI8, false},
		{"sigmf ci16_le by data name", "rec.sigmf-data", CI16LE, CI16LE, false},
		{"sigmf cf32_le by base name", "rec", CF32LE, CF32LE, false},
		{"sigmf default datatype", "rec", 0, DefaultDatatype, false},
		{"raw cs8", "rec.cs8", 0, CI8, true},
		{"raw cs8 explicit", "rec.cs8", CI8, CI8, true},
		{"raw cf32", "rec.cf32", 0, CF32LE, true},
		{"raw cfile", "rec.cfile", CF32LE, CF32LE, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.file)
			n := 3*BufferSize/tt.want.SampleBytes()/2 + 7
			x := testSignal(tt.want, n, uint64(len(tt.name)))
			w, err := Create(path, WriteOptions{Datatype: tt.dt, SampleRate: 2e6, Frequency: 2.4e9, Datetime: when,
				Description: "round trip", Author: "test", Recorder: "m4sc", HW: "none"})
			if err != nil {
				t.Fatal(err)
			}
			writeAll(t, w, x)
			if w.Samples() != int64(n) || w.Clipped() != 0 {
				t.Errorf("Samples %d Clipped %d, want %d and 0", w.Samples(), w.Clipped(), n)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if tt.raw {
				if _, err := os.Stat(strings.TrimSuffix(path, filepath.Ext(path)) + ExtMeta); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("raw recording wrote metadata: %v", err)
				}
			}

			r, err := Open(path, ReadOptions{SampleRate: 2e6, Frequency: 2.4e9})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Len() != int64(n) {
				t.Fatalf("Len %d, want %d", r.Len(), n)
			}
			m := r.Meta()
			if m.Global.Datatype != tt.want || m.Global.SampleRate != 2e6 || len(m.Captures) != 1 || m.Captures[0].Frequency != 2.4e9 {
				t.Errorf("Meta = %+v", m)
			}
			if !tt.raw {
				g := m.Global
				if g.Version != SpecVersion || len(g.SHA512) != 128 || g.Description != "round trip" || g.Author != "test" ||
					g.Recorder != "m4sc" || g.HW != "none" || !m.Captures[0].Datetime.Equal(when) {
					t.Errorf("Meta = %+v", m)
				}
			}
			sameSamples(t, readAll(t, r, 777), x)

			// Seeking, reading the tail, reading at the end.
			if err := r.SeekSample(int64(n - 10)); err != nil {
				t.Fatal(err)
			}
			sameSamples(t, readAll(t, r, 4), x[n-10:])
			if k, err := r.Read(nil); k != 0 || err != nil {
				t.Errorf("Read(nil) at the end = %d, %v; want 0, nil", k, err)
			}
			for _, bad := range []int64{-1, int64(n) + 1} {
				if err := r.SeekSample(bad); err == nil {
					t.Errorf("SeekSample(%d) succeeded", bad)
				}
			}
			if err := r.SeekSample(0); err != nil {
				t.Fatal(err)
			}
			// One big Read fills the whole buffer.
			all := make([]complex64, n+5)
			if k, err := r.Read(all); k != n || err != nil {
				t.Errorf("Read of everything = %d, %v", k, err)
			}
			sameSamples(t, all[:n], x)
		})
	}
}

func TestEmptyRecording(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty")
	w, err := Create(path, WriteOptions{Datatype: CI8})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path+ExtMeta, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if k, err := r.Read(make([]complex64, 4)); r.Len() != 0 || k != 0 || err != io.EOF {
		t.Errorf("Len %d, Read %d, %v", r.Len(), k, err)
	}
}

// Writing arbitrary values to ci8 and ci16_le gives what quantise defines.
func TestWriteQuantises(t *testing.T) {
	x := []complex64{complex(0.5/128, -0.5/128), complex(1.5/128, 2.5/128), complex(1, -1), complex(3, -3), complex(0.1, 0.2)}
	for _, d := range []Datatype{CI8, CI16LE} {
		path := filepath.Join(t.TempDir(), "q")
		w, err := Create(path, WriteOptions{Datatype: d})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(x); err != nil {
			t.Fatal(err)
		}
		if w.Clipped() != 2 {
			t.Errorf("%v: Clipped %d, want 2", d, w.Clipped())
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := readAll(t, r, 16)
		r.Close()
		scale := map[Datatype]float64{CI8: scale8, CI16LE: scale16}[d]
		want := make([]complex64, len(x))
		for i, v := range x {
			re, _ := slowQuantise(real(v), scale)
			im, _ := slowQuantise(imag(v), scale)
			want[i] = complex(float32(float64(re)/scale), float32(float64(im)/scale))
		}
		sameSamples(t, got, want)
		if d == CI8 && (got[0] != 0 || got[1] != complex(2.0/128, 2.0/128) || got[2] != complex(127.0/128, -1)) {
			t.Errorf("ci8: ties must go to even and +1 must clip to 127/128: %v", got[:3])
		}
	}
}

func TestSegmentsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seg.sigmf-meta")
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	w, err := Create(path, WriteOptions{Datatype: CI8, SampleRate: 1e6, Frequency: 915e6, Datetime: t0})
	if err != nil {
		t.Fatal(err)
	}
	x := testSignal(CI8, 1000, 1)
	frame := map[string]any{"m4sc:frame": map[string]any{"kind": "semantic", "seq": 7, "crc_ok": true}}
	// Annotate before writing, out of order: the writer sorts.
	for _, a := range []Annotation{
		{SampleStart: 600, SampleCount: 100, Label: "rx", Comment: "decoded", Extra: frame},
		{SampleStart: 100, SampleCount: 200, Label: "tx", FreqLowerEdge: 914e6, FreqUpperEdge: 916e6, Extra: map[string]any{"m4sc:sent": "hello <world>"}},
		{SampleStart: 1000, Label: "end"},
	} {
		if err := w.Annotate(a); err != nil {
			t.Fatal(err)
		}
	}
	frame["m4sc:frame"] = "changed after Annotate" // must not leak into the recording
	if _, err := w.Write(x[:500]); err != nil {
		t.Fatal(err)
	}
	if err := w.AddCapture(Capture{SampleStart: 500, Frequency: 2.4e9, Datetime: t0.Add(time.Second), GlobalIndex: 1500, Extra: map[string]any{"m4sc:gain_db": 20}}); err != nil {
		t.Fatal(err)
	}
	if err := w.AddCapture(Capture{SampleStart: 500}); err == nil {
		t.Error("AddCapture at an existing sample_start succeeded")
	}
	if _, err := w.Write(x[500:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	r, err := Open(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sameSamples(t, readAll(t, r, 100), x)
	r.Close()
	m := r.Meta()
	wantCaps := []Capture{
		{SampleStart: 0, Frequency: 915e6, Datetime: t0},
		{SampleStart: 500, Frequency: 2.4e9, Datetime: t0.Add(time.Second), GlobalIndex: 1500, Extra: map[string]any{"m4sc:gain_db": json.Number("20")}},
	}
	wantAnns := []Annotation{
		{SampleStart: 100, SampleCount: 200, Label: "tx", FreqLowerEdge: 914e6, FreqUpperEdge: 916e6, Extra: map[string]any{"m4sc:sent": "hello <world>"}},
		{SampleStart: 600, SampleCount: 100, Label: "rx", Comment: "decoded", Extra: map[string]any{"m4sc:frame": map[string]any{"kind": "semantic", "seq": json.Number("7"), "crc_ok": true}}},
		{SampleStart: 1000, Label: "end"},
	}
	if !reflect.DeepEqual(m.Captures, wantCaps) {
		t.Errorf("captures\n got %+v\nwant %+v", m.Captures, wantCaps)
	}
	if !reflect.DeepEqual(m.Annotations, wantAnns) {
		t.Errorf("annotations\n got %+v\nwant %+v", m.Annotations, wantAnns)
	}

	// Read, modify, write: another tool's keys survive, and the result opens.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.Replace(raw, []byte(`"core:datatype"`), []byte(`"other:key": {"z": [1, 2.50, "x"]}, "core:datatype"`), 1)
	m2, err := ParseMeta(raw)
	if err != nil {
		t.Fatal(err)
	}
	m2.Annotations = append(m2.Annotations, Annotation{SampleStart: 0, SampleCount: 10, Label: "added"})
	var out bytes.Buffer
	if err := m2.Encode(&out); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err = Open(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if got := r.Meta().Global.Extra["other:key"]; !reflect.DeepEqual(got, map[string]any{"z": []any{json.Number("1"), json.Number("2.50"), "x"}}) {
		t.Errorf("unknown key after read-modify-write: %#v", got)
	}
	if len(r.Meta().Annotations) != 4 || !strings.Contains(out.String(), `"m4sc:frame": {`) {
		t.Errorf("annotations lost in read-modify-write:\n%s", out.String())
	}
}

// appendBytes grows a file, as if it had been cut short in the middle of a sample
// (for the extra bytes) by a copy, a crash or a full disk.
func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestTruncated(t *testing.T) {
	for _, file := range []string{"rec.sigmf-meta", "rec.cf32", "rec.cs8"} {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), file)
			w, err := Create(path, WriteOptions{Datatype: 0})
			if err != nil {
				t.Fatal(err)
			}
			d := w.meta.Global.Datatype
			x := testSignal(d, 100, 3)
			if _, err := w.Write(x); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			dataPath := path
			if filepath.Ext(path) == ExtMeta {
				dataPath = strings.TrimSuffix(path, ExtMeta) + ExtData
			}
			appendBytes(t, dataPath, []byte{1})

			_, err = Open(path, ReadOptions{})
			var fe *FormatError
			if !errors.Is(err, ErrTruncated) || !errors.As(err, &fe) || fe.File != dataPath {
				t.Fatalf("Open error %v, want a *FormatError for %s wrapping ErrTruncated", err, dataPath)
			}
			size := d.SampleBytes()
			for _, want := range []string{fmt.Sprintf("%d bytes is not a whole number of %d-byte", 100*size+1, size), "1 byte extra", "last whole sample (100 samples)", "truncated=allow"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}

			r, err := Open(path, ReadOptions{AllowTruncated: true})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Len() != 100 || len(r.Warnings()) == 0 {
				t.Errorf("Len %d, Warnings %q", r.Len(), r.Warnings())
			}
			// The recorded SHA-512 no longer matches; that is a warning here.
			if filepath.Ext(path) == ExtMeta && !strings.Contains(strings.Join(r.Warnings(), "\n"), "sha512") {
				t.Errorf("Warnings %q do not mention the checksum", r.Warnings())
			}
			sameSamples(t, readAll(t, r, 33), x)
		})
	}
}

// A data file cut short by whole samples leaves segments hanging past its end.
func TestTruncatedSegments(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cut")
	w, err := Create(path, WriteOptions{Datatype: CI16LE})
	if err != nil {
		t.Fatal(err)
	}
	x := testSignal(CI16LE, 100, 4)
	w.Write(x)
	w.AddCapture(Capture{SampleStart: 80, Frequency: 1e9})
	w.Annotate(Annotation{SampleStart: 10, SampleCount: 20, Label: "kept"})
	w.Annotate(Annotation{SampleStart: 40, SampleCount: 20, Label: "too long"})
	w.Annotate(Annotation{SampleStart: 70, Label: "too late"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path+ExtData, 50*4); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, ReadOptions{SkipChecksum: true})
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "captures[1] core:sample_start: 80 is beyond the end of the data file (50 samples)") {
		t.Errorf("Open error %v", err)
	}
	r, err := Open(path, ReadOptions{AllowTruncated: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m := r.Meta()
	if len(m.Captures) != 1 || len(m.Annotations) != 1 || m.Annotations[0].Label != "kept" || len(r.Warnings()) != 4 {
		t.Errorf("captures %+v\nannotations %+v\nwarnings %q", m.Captures, m.Annotations, r.Warnings())
	}
	sameSamples(t, readAll(t, r, 1000), x[:50])
}

// openErrors are metadata that ParseMeta accepts but that do not fit the data
// file beside them: 10 ci8 samples.
var openErrors = []struct {
	errorCase
	is error
}{
	{errorCase{"capture beyond data", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "captures": [{"core:sample_start": 0}, {"core:sample_start": 11}]}`, false,
		"captures[1] core:sample_start: 11 is beyond the end of the data file (10 samples)"}, ErrTruncated},
	{errorCase{"annotation beyond data", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "annotations": [{"core:sample_start": 11}]}`, false,
		"annotations[0] core:sample_start: 11 is beyond the end of the data file (10 samples)"}, ErrTruncated},
	{errorCase{"annotation too long", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "annotations": [{"core:sample_start": 5, "core:sample_count": 6}]}`, false,
		"annotations[0] core:sample_count: 6 samples from 5 reach past the end of the data file (10 samples)"}, ErrTruncated},
	{errorCase{"annotation count overflows", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "annotations": [{"core:sample_start": 5, "core:sample_count": 9223372036854775807}]}`, false,
		"reach past the end"}, ErrTruncated},
	{errorCase{"checksum", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0", "core:sha512": "` + strings.Repeat("ab", 64) + `"}}`, false,
		"global core:sha512: the data file hashes to "}, ErrChecksum},
	{errorCase{"datatype", `{"global": {"core:datatype": "cu8", "core:version": "1.2.0"}}`, true,
		`global core:datatype: "cu8" is unsupported`}, nil},
}

func TestOpenErrors(t *testing.T) {
	data := make([]byte, 20)
	cases := openErrors
	for _, tc := range metaErrors {
		cases = append(cases, struct {
			errorCase
			is error
		}{tc, nil})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			meta := filepath.Join(dir, "x"+ExtMeta)
			os.WriteFile(meta, []byte(tc.meta), 0o644)
			os.WriteFile(filepath.Join(dir, "x"+ExtData), data, 0o644)
			r, err := Open(meta, ReadOptions{})
			if err == nil {
				r.Close()
			}
			checkError(t, err, tc.errorCase)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), meta) {
				t.Errorf("error %q does not name the file %s", err, meta)
			}
		})
	}
}

func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	good := `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}}`
	os.WriteFile(filepath.Join(dir, "nodata"+ExtMeta), []byte(good), 0o644)
	os.WriteFile(filepath.Join(dir, "nometa"+ExtData), []byte{1, 2}, 0o644)
	os.WriteFile(filepath.Join(dir, "big"+ExtMeta), bytes.Repeat([]byte(" "), MaxMetaSize+1), 0o644)
	os.WriteFile(filepath.Join(dir, "big"+ExtData), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "dir"+ExtData), 0o755)
	os.WriteFile(filepath.Join(dir, "dir"+ExtMeta), []byte(good), 0o644)

	for _, tt := range []struct {
		path string
		want string
		is   error
	}{
		{"nodata" + ExtMeta, "data file of " + filepath.Join(dir, "nodata"+ExtMeta), fs.ErrNotExist},
		{"nodata" + ExtData, "nodata.sigmf-data", fs.ErrNotExist},
		{"nometa" + ExtData, "nometa.sigmf-meta", fs.ErrNotExist},
		{"missing.cs8", "missing.cs8", fs.ErrNotExist},
		{"big" + ExtMeta, "larger than MaxMetaSize", nil},
		{"dir" + ExtMeta, "not a regular file", nil},
		{"archive.sigmf", "SigMF archives are not supported", nil},
	} {
		r, err := Open(filepath.Join(dir, tt.path), ReadOptions{})
		if err == nil {
			r.Close()
			t.Errorf("Open(%s) succeeded", tt.path)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("Open(%s) error %q, want %q (%v)", tt.path, err, tt.want, tt.is)
		}
	}
	if _, err := Open(filepath.Join(dir, "nometa"+ExtData), ReadOptions{}); err == nil {
		t.Error("opened data without metadata")
	}
	os.WriteFile(filepath.Join(dir, "r.cs8"), []byte{1, 2}, 0o644)
	for _, opt := range []ReadOptions{{SampleRate: -1}, {SampleRate: math.NaN()}, {Frequency: math.Inf(1)}} {
		if _, err := Open(filepath.Join(dir, "r.cs8"), opt); err == nil {
			t.Errorf("Open raw with %+v succeeded", opt)
		}
	}
}

func TestReaderClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.cs8")
	os.WriteFile(path, []byte{1, 2, 3, 4}, 0o644)
	r, err := Open(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(make([]complex64, 1)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if err := r.SeekSample(0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("SeekSample after Close: %v", err)
	}
	if err := r.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

func TestCreateErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		path string
		opt  WriteOptions
		want string
	}{
		{"raw datatype mismatch", "a.cs8", WriteOptions{Datatype: CF32LE}, "does not match the extension"},
		{"NaN rate", "a", WriteOptions{SampleRate: math.NaN()}, "core:sample_rate: NaN"},
		{"negative rate", "a", WriteOptions{SampleRate: -1}, "core:sample_rate: -1"},
		{"infinite frequency", "a", WriteOptions{Frequency: math.Inf(-1)}, "core:frequency: -Inf"},
		{"bad datatype", "a", WriteOptions{Datatype: 7}, "Datatype(7) is unsupported"},
		{"archive", "a.sigmf", WriteOptions{}, "archives are not supported"},
		{"no directory", "missing/a", WriteOptions{}, "no such file"},
	} {
		w, err := Create(filepath.Join(dir, tt.path), tt.opt)
		if err == nil {
			w.Close()
			t.Errorf("%s: Create succeeded", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := Create("", WriteOptions{}); err == nil {
		t.Error("Create(\"\") succeeded")
	}
}

func TestWriterMisuse(t *testing.T) {
	dir := t.TempDir()
	raw, err := Create(filepath.Join(dir, "r.cf32"), WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ue *UnsupportedError
	if err := raw.Annotate(Annotation{}); !errors.As(err, &ue) {
		t.Errorf("Annotate on a raw file: %v", err)
	}
	if err := raw.AddCapture(Capture{SampleStart: 5}); !errors.As(err, &ue) {
		t.Errorf("AddCapture on a raw file: %v", err)
	}
	if err := raw.Flush(); err != nil {
		t.Errorf("Flush on a raw file: %v", err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	w, err := Create(filepath.Join(dir, "s"), WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []Annotation{
		{SampleStart: -1},
		{SampleCount: -5},
		{FreqLowerEdge: math.NaN()},
		{Extra: map[string]any{"core:label": "x"}},
		{Extra: map[string]any{"m4sc:bad": math.Inf(1)}},
	} {
		if err := w.Annotate(a); err == nil {
			t.Errorf("Annotate(%+v) succeeded", a)
		}
	}
	for _, c := range []Capture{{SampleStart: 0}, {SampleStart: -3}, {SampleStart: 9, Frequency: math.NaN()}, {SampleStart: 9, Extra: map[string]any{"x:c": make(chan int)}}} {
		if err := w.AddCapture(c); err == nil {
			t.Errorf("AddCapture(%+v) succeeded", c)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]complex64, 1)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := w.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

// An annotation that never came to lie within the data is dropped, and Close says so.
func TestCloseReportsDroppedAnnotations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d")
	w, err := Create(path, WriteOptions{Datatype: CI8})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]complex64, 10))
	w.Annotate(Annotation{SampleStart: 5, SampleCount: 5, Label: "fits"})
	w.Annotate(Annotation{SampleStart: 5, SampleCount: 6, Label: "does not"})
	err = w.Close()
	if err == nil || !strings.Contains(err.Error(), "dropped 1 captures or annotations that lie beyond the 10 samples written") {
		t.Errorf("Close: %v", err)
	}
	r, err := Open(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if a := r.Meta().Annotations; len(a) != 1 || a[0].Label != "fits" {
		t.Errorf("annotations %+v", a)
	}
}

// WriteOptions.Extra reaches the global object and reads back; a key that Global
// models, or a value JSON cannot hold, is refused at Create.
func TestCreateGlobalExtra(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "g.sigmf-meta")
	w, err := Create(path, WriteOptions{SampleRate: 1e6, Extra: map[string]any{"m4sc:share": map[string]any{"seed": 7, "role": "air"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]complex64, 10)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	want := map[string]any{"seed": json.Number("7"), "role": "air"}
	if got := r.Meta().Global.Extra["m4sc:share"]; !reflect.DeepEqual(got, want) {
		t.Errorf("global m4sc:share: %#v, want %#v", got, want)
	}
	for _, extra := range []map[string]any{{"core:sample_rate": 2e6}, {"m4sc:bad": math.NaN()}} {
		if w, err := Create(filepath.Join(dir, "bad"), WriteOptions{Extra: extra}); err == nil {
			w.Abort()
			t.Errorf("Create with Extra %v succeeded", extra)
		}
	}
}
