package sigmf

import (
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// benchBlock is the number of samples per Read or Write call, a typical SDR
// transfer (HackRF delivers 128 KiB, 65536 ci8 samples).
const benchBlock = 65536

// benchWrite measures conversion, buffering and hashing; the data goes to
// io.Discard so the disk's speed does not enter the figure.
func benchWrite(b *testing.B, d Datatype) {
	w, err := Create(filepath.Join(b.TempDir(), "bench"), WriteOptions{Datatype: d, SampleRate: 20e6})
	if err != nil {
		b.Fatal(err)
	}
	w.out = io.Discard
	// Gaussian noise with RMS 0.2 per component: a receiver well inside full scale
	// that clips now and then (a 5-sigma peak).
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]complex64, benchBlock)
	for i := range x {
		x[i] = complex(float32(0.2*r.NormFloat64()), float32(0.2*r.NormFloat64()))
	}
	b.SetBytes(int64(benchBlock * d.SampleBytes()))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := w.Write(x); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)*benchBlock/b.Elapsed().Seconds()/1e6, "Msps")
	w.out = w.data
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// benchRead reads a recording of 64 blocks from the page cache, over and over.
func benchRead(b *testing.B, d Datatype) {
	path := filepath.Join(b.TempDir(), "bench")
	w, err := Create(path, WriteOptions{Datatype: d})
	if err != nil {
		b.Fatal(err)
	}
	x := testSignal(d, benchBlock, 2)
	for range 64 {
		if _, err := w.Write(x); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	r, err := Open(path, ReadOptions{SkipChecksum: true})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.SetBytes(int64(benchBlock * d.SampleBytes()))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		n, err := r.Read(x)
		if err == io.EOF {
			r.SeekSample(0)
			n, err = r.Read(x)
		}
		if err != nil || n != benchBlock {
			b.Fatal(n, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)*benchBlock/b.Elapsed().Seconds()/1e6, "Msps")
}

func BenchmarkWriteCI8(b *testing.B)  { benchWrite(b, CI8) }
func BenchmarkWriteCI16(b *testing.B) { benchWrite(b, CI16LE) }
func BenchmarkWriteCF32(b *testing.B) { benchWrite(b, CF32LE) }
func BenchmarkReadCI8(b *testing.B)   { benchRead(b, CI8) }
func BenchmarkReadCI16(b *testing.B)  { benchRead(b, CI16LE) }
func BenchmarkReadCF32(b *testing.B)  { benchRead(b, CF32LE) }
