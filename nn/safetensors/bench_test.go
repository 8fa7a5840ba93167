package safetensors

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// benchFile is about 100 MB of tensors of the given dtype (25 tensors of 1M
// elements each for F32).
func benchFile(dtype Dtype) File {
	rng := rand.New(rand.NewPCG(7, 8))
	const perTensor = 1 << 20
	n := 100_000_000 / dtype.Size() / perTensor
	if dtype == F16 || dtype == BF16 {
		n = 100_000_000 / 4 / perTensor // same number of float32 in memory
	}
	f := File{Metadata: map[string]string{"format": "pt"}}
	for i := range n {
		d := make([]float32, perTensor)
		for j := range d {
			d[j] = float32(rng.NormFloat64())
		}
		f.Tensors = append(f.Tensors, Tensor{Name: "layer" + string(rune('A'+i)) + "/w", Dtype: dtype, Shape: []int{1024, 1024}, Data: d})
	}
	return f
}

func benchWrite(b *testing.B, dtype Dtype) {
	f := benchFile(dtype)
	var cw countWriter
	if err := Write(&cw, f); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(cw.n)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := Write(io.Discard, f); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRead(b *testing.B, dtype Dtype) {
	var buf bytes.Buffer
	if err := Write(&buf, benchFile(dtype)); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Read(bytes.NewReader(data), int64(len(data)), nil); err != nil {
			b.Fatal(err)
		}
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// MB/s below counts file bytes.
func BenchmarkWriteF32(b *testing.B)  { benchWrite(b, F32) }
func BenchmarkReadF32(b *testing.B)   { benchRead(b, F32) }
func BenchmarkWriteF16(b *testing.B)  { benchWrite(b, F16) }
func BenchmarkReadF16(b *testing.B)   { benchRead(b, F16) }
func BenchmarkWriteBF16(b *testing.B) { benchWrite(b, BF16) }
func BenchmarkReadBF16(b *testing.B)  { benchRead(b, BF16) }
