package phy

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"
)

// ofdmSlowDFT is the defining sum, in float64: sign -1 forward, +1 inverse (unscaled).
func ofdmSlowDFT(x []complex64, sign float64) []complex128 {
	n := len(x)
	out := make([]complex128, n)
	for k := range n {
		var s complex128
		for j, v := range x {
			s += complex128(v) * cmplx.Exp(complex(0, sign*2*math.Pi*float64(j*k%n)/float64(n)))
		}
		out[k] = s
	}
	return out
}

func ofdmRandomBlock(r *rand.Rand) *[FFTSize]complex64 {
	var x [FFTSize]complex64
	for i := range x {
		x[i] = complex(float32(r.NormFloat64()), float32(r.NormFloat64()))
	}
	return &x
}

func TestFFT64(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	f := NewFFT64()
	for trial := range 40 {
		x := ofdmRandomBlock(r)
		if trial < 20 {
			// Unit impulses first: columns of the DFT matrix.
			*x = [FFTSize]complex64{}
			x[trial*7%FFTSize] = 1
		}
		var fwd, inv [FFTSize]complex64
		f.Forward(&fwd, x)
		f.Inverse(&inv, x)
		wf, wi := ofdmSlowDFT(x[:], -1), ofdmSlowDFT(x[:], 1)
		for k := range FFTSize {
			if e := cmplx.Abs(complex128(fwd[k]) - wf[k]); e > 1e-4*(1+cmplx.Abs(wf[k])) {
				t.Fatalf("trial %d: Forward bin %d = %v, want %v", trial, k, fwd[k], wf[k])
			}
			if e := cmplx.Abs(complex128(inv[k]) - wi[k]/FFTSize); e > 1e-6 {
				t.Fatalf("trial %d: Inverse sample %d = %v, want %v", trial, k, inv[k], wi[k]/FFTSize)
			}
		}
		// In place gives the same.
		y := *x
		f.Forward(&y, &y)
		if y != fwd {
			t.Fatalf("trial %d: Forward in place differs", trial)
		}
		f.Inverse(&y, &y)
		for k := range y {
			if cmplx.Abs(complex128(y[k]-x[k])) > 1e-5 {
				t.Fatalf("trial %d: Inverse(Forward(x)) != x at %d", trial, k)
			}
		}
	}
}

func TestSubcarriers(t *testing.T) {
	d := DataSubcarriers()
	p := PilotSubcarriers()
	used := map[int]bool{}
	for i, k := range d {
		if k == 0 || k < -26 || k > 26 || used[k] || (i > 0 && k <= d[i-1]) {
			t.Fatalf("data subcarrier %d is %d", i, k)
		}
		used[k] = true
	}
	for _, k := range p {
		if used[k] {
			t.Fatalf("pilot %d also carries data", k)
		}
		used[k] = true
	}
	if len(used) != 52 || d[0] != -26 || d[5] != -20 || d[47] != 26 {
		t.Fatalf("subcarrier map wrong: %v", d)
	}
	if FFTBin(-26) != 38 || FFTBin(26) != 26 || FFTBin(-1) != 63 {
		t.Fatal("FFTBin")
	}
}

// TestOFDMModulatorWindowing checks the field joins on an arbitrary pair of symbols:
// without windowing the symbols abut, with it their ends are halved and overlapped.
func TestOFDMModulatorWindowing(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	var a, b [DataCarriers]complex64
	for i := range a {
		a[i] = complex(float32(r.NormFloat64()), float32(r.NormFloat64()))
		b[i] = complex(float32(r.NormFloat64()), float32(r.NormFloat64()))
	}
	plain, _ := NewOFDMModulator(WindowingNone)
	win, _ := NewOFDMModulator(WindowingStandard)
	p := plain.Flush(plain.AppendSymbol(plain.AppendSymbol(nil, a[:], 1), b[:], 2))
	w := win.Flush(win.AppendSymbol(win.AppendSymbol(nil, a[:], 1), b[:], 2))
	if len(p) != 2*SymbolLen || len(w) != 2*SymbolLen+1 {
		t.Fatalf("lengths %d and %d", len(p), len(w))
	}
	// The cyclic prefix really is the symbol's tail.
	for i := range CPLen {
		if p[i] != p[FFTSize+i] {
			t.Fatalf("cyclic prefix sample %d differs from sample %d", i, FFTSize+i)
		}
	}
	near := func(x, y complex64) bool { return cmplx.Abs(complex128(x-y)) < 1e-6 }
	for i := range w[:2*SymbolLen] {
		var want complex64
		switch i {
		case 0:
			want = p[0] / 2
		case SymbolLen:
			want = p[SymbolLen]/2 + p[CPLen]/2 // extension of the first symbol is its sample 16
		default:
			want = p[i]
		}
		if !near(w[i], want) {
			t.Fatalf("windowed sample %d = %v, want %v", i, w[i], want)
		}
	}
	if !near(w[2*SymbolLen], p[SymbolLen+CPLen]/2) {
		t.Fatalf("tail sample %v, want %v", w[2*SymbolLen], p[SymbolLen+CPLen]/2)
	}
	if _, err := NewOFDMModulator(Windowing(7)); err == nil {
		t.Error("NewOFDMModulator(Windowing(7)) succeeded")
	}
}

// The FFT choice: BenchmarkFFT64 (this package, complex64) against
// BenchmarkGonumFFT64 (gonum's CmplxFFT, complex128, with the conversions a complex64
// pipeline needs). Both compute one 64-point inverse transform per iteration.
func BenchmarkFFT64(b *testing.B) {
	f := NewFFT64()
	x := ofdmRandomBlock(rand.New(rand.NewPCG(17, 18)))
	var y [FFTSize]complex64
	b.ReportAllocs()
	for b.Loop() {
		f.Inverse(&y, x)
	}
	b.ReportMetric(float64(FFTSize)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Msps")
}

func BenchmarkGonumFFT64(b *testing.B) {
	f := fourier.NewCmplxFFT(FFTSize)
	x := ofdmRandomBlock(rand.New(rand.NewPCG(17, 18)))
	var y [FFTSize]complex64
	in := make([]complex128, FFTSize)
	out := make([]complex128, FFTSize)
	b.ReportAllocs()
	for b.Loop() {
		for i, v := range x {
			in[i] = complex128(v)
		}
		out = f.Sequence(out, in)
		for i, v := range out {
			y[i] = complex64(v / FFTSize)
		}
	}
	b.ReportMetric(float64(FFTSize)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Msps")
}
