package safetensors

import (
	"bytes"
	"math"
	"testing"
)

// FuzzRead feeds arbitrary bytes to Read. It must never panic, and whatever it
// accepts must write and read back to equal tensors and metadata, with Write's
// output a fixed point.
func FuzzRead(f *testing.F) {
	valid := []File{
		{},
		{Metadata: map[string]string{"format": "pt"}},
		{Tensors: []Tensor{{Name: "w", Dtype: F32, Shape: []int{2, 3}, Data: []float32{0, 1, 2, 3, 4, 5}}}},
		{Tensors: []Tensor{
			{Name: "a", Dtype: F16, Shape: []int{2}, Data: []float32{1, float32(math.NaN())}},
			{Name: "b", Dtype: BF16, Shape: []int{1, 1}, Data: []float32{-3}},
			{Name: "c", Dtype: F64, Shape: []int{}, Data64: []float64{math.Inf(-1)}},
			{Name: "e", Dtype: F32, Shape: []int{0, 7}, Data: []float32{}},
		}, Metadata: map[string]string{"k": "v\n\"", "": ""}},
	}
	for _, v := range valid {
		var buf bytes.Buffer
		if err := Write(&buf, v); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	for _, b := range goodFiles {
		f.Add(b.file)
	}
	for _, b := range badFiles {
		f.Add(b.file)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A small header limit keeps the fuzzer away from allocating for
		// length fields it can never satisfy anyway.
		opts := &ReadOptions{MaxHeaderSize: 1 << 20}
		got, err := Read(bytes.NewReader(data), int64(len(data)), opts)
		if err != nil {
			if got != nil {
				t.Fatal("File returned with an error")
			}
			return
		}
		var buf bytes.Buffer
		if err := Write(&buf, *got); err != nil {
			t.Fatalf("accepted file does not write: %v", err)
		}
		once := buf.Bytes()
		again, err := Read(bytes.NewReader(once), int64(len(once)), opts)
		if err != nil {
			t.Fatalf("rewritten file does not read: %v", err)
		}
		if len(again.Tensors) != len(got.Tensors) {
			t.Fatalf("%d tensors became %d", len(got.Tensors), len(again.Tensors))
		}
		for i := range got.Tensors {
			g, ok := again.Lookup(got.Tensors[i].Name)
			if !ok || !sameTensor(g, &got.Tensors[i]) {
				t.Fatalf("tensor %q changed", got.Tensors[i].Name)
			}
		}
		if len(again.Metadata) != len(got.Metadata) {
			t.Fatalf("metadata %v became %v", got.Metadata, again.Metadata)
		}
		for k, v := range got.Metadata {
			if w, ok := again.Metadata[k]; !ok || w != v {
				t.Fatalf("metadata %q: %q became %q", k, v, w)
			}
		}
		var buf2 bytes.Buffer
		if err := Write(&buf2, *again); err != nil || !bytes.Equal(buf2.Bytes(), once) {
			t.Fatalf("Write is not a fixed point (err %v)", err)
		}
	})
}
