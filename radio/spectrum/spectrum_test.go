package spectrum

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

func gaussian(rng *rand.Rand, n int, sigma float64) []complex64 {
	x := make([]complex64, n)
	for i := range x {
		x[i] = complex64(complex(rng.NormFloat64()*sigma, rng.NormFloat64()*sigma))
	}
	return x
}

// addTone adds a*exp(j(2 pi f n/fs + ph)) to x.
func addTone(x []complex64, a, f, fs, ph float64) {
	for i := range x {
		x[i] += complex64(cmplx.Rect(a, 2*math.Pi*f*float64(i)/fs+ph))
	}
}

// The periodogram against the definition, a direct DFT, on a length that is not a
// power of two.
func TestPeriodogramAgainstDFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := gaussian(rng, 48, 0.3)
	dc := complex(0.1, -0.05)
	p := NewPeriodogram(x, dc, 48)
	n := len(x)
	var ws float64
	for i := range x {
		h := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
		ws += h * h
	}
	for k := range n {
		var acc complex128
		for i, v := range x {
			h := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
			acc += (complex128(v) - dc) * complex(h, 0) * cmplx.Rect(1, -2*math.Pi*float64(k*i)/float64(n))
		}
		want := real(acc*cmplx.Conj(acc)) / (float64(n) * ws)
		if math.Abs(p.P[k]-want) > 1e-12*math.Max(1, want) {
			t.Errorf("bin %d: %g, DFT %g", k, p.P[k], want)
		}
	}
	for _, c := range []struct {
		k int
		f float64
	}{{0, 0}, {1, 1}, {23, 23}, {24, -24}, {47, -1}, {-1, -1}, {49, 1}} {
		if got := p.Freq(c.k); got != c.f {
			t.Errorf("Freq(%d) = %g, want %g", c.k, got, c.f)
		}
		if got := p.Bin(c.f); p.Freq(got) != c.f {
			t.Errorf("Bin(%g) = %d", c.f, got)
		}
	}
}

// A tone's power comes back wherever it falls between bins (the window's scalloping is
// taken in by PowerBins), and white noise's power from the median.
func TestPeriodogramScale(t *testing.T) {
	const n, fs = 1 << 16, 20e6
	rng := rand.New(rand.NewPCG(3, 4))
	for _, frac := range []float64{0, 0.25, 0.5, 0.77} {
		x := gaussian(rng, n, 0.001)
		f := (1234 + frac) * fs / n
		addTone(x, 0.2, f, fs, 1)
		p := NewPeriodogram(x, 0, fs)
		k, ok := p.Peak(f, 20*fs/n, 0)
		if !ok || math.Abs(p.Freq(k)-f) > fs/n {
			t.Fatalf("offset %g bins: peak at %g Hz, tone at %g", frac, p.Freq(k), f)
		}
		if got := 10 * math.Log10(p.Power(k)/0.04); math.Abs(got) > 0.01 {
			t.Errorf("offset %g bins: tone power off by %.4f dB", frac, got)
		}
	}
	// Noise alone: the median of n bins estimates the mean to about 1/sqrt(n) (0.4%
	// here); allow 3%.
	sigma := 0.05
	p := NewPeriodogram(gaussian(rng, n, sigma), 0, fs)
	want := 2 * sigma * sigma
	if got := p.NoisePerBin() * n; math.Abs(got/want-1) > 0.03 {
		t.Errorf("noise power %g, want %g", got, want)
	}
}

// Peak keeps out of the guard around DC, however strong the DC spike.
func TestPeakGuard(t *testing.T) {
	const n, fs = 1 << 14, 20e6
	x := gaussian(rand.New(rand.NewPCG(5, 6)), n, 0.001)
	addTone(x, 0.01, 1e6, fs, 0)
	for i := range x {
		x[i] += 0.3
	}
	p := NewPeriodogram(x, 0, fs)
	if k, ok := p.Peak(0, fs/2, 100e3); !ok || math.Abs(p.Freq(k)-1e6) > fs/n {
		t.Errorf("peak at %g Hz (%v), want the tone at 1 MHz", p.Freq(k), ok)
	}
	if k, _ := p.Peak(0, fs/2, 0); p.Freq(k) != 0 {
		t.Errorf("without a guard the peak is at %g Hz, want DC", p.Freq(k))
	}
	if _, ok := p.Peak(0, 50e3, 100e3); ok {
		t.Error("a peak found inside the guard")
	}
}

// The tone estimator finds a tone's frequency to near the Cramer-Rao bound, which for
// N samples at SNR s is sqrt(12/((2 pi)^2 s N^3)) * fs Hz: 0.02 Hz for 2^17 samples at
// 20 dB. Phase-noise-free tones, so the bound is 1 Hz (a few parts in 10^9 of a
// carrier), with the DC offset and an image 20 dB down that must not disturb it. Pure
// noise has no tone.
func TestEstimateTone(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const fs, n = 20e6, 1 << 17
	f0 := fs / 8
	for _, df := range []float64{0, 1.5, -37.25, 12345.6, -98000, 195000, -1.9e6} {
		f := f0 + df
		x := gaussian(rng, n, 0.1/math.Sqrt(2)/10) // 20 dB below the tone
		for i := range x {
			ph := 2*math.Pi*f*float64(i)/fs + 0.3
			x[i] += complex64(cmplx.Rect(0.1, ph) + cmplx.Rect(0.01, -ph) + 0.02 - 0.01i)
		}
		got, ok := EstimateTone(x, 0.02-0.01i, fs, f0, 0.8*f0)
		if !ok || math.Abs(got.Freq-f) > 1 {
			t.Errorf("tone at f0%+g Hz: measured f0%+g Hz (ok %v)", df, got.Freq-f0, ok)
		}
		if got.SE <= 0 || got.SE > 1 {
			t.Errorf("tone at f0%+g Hz: standard error %g Hz", df, got.SE)
		}
		if p := 10 * math.Log10(got.Power/0.01); math.Abs(p) > 0.1 {
			t.Errorf("tone at f0%+g Hz: power off by %.3f dB", df, p)
		}
		if got.Blocks != n/ToneBlock {
			t.Errorf("%d blocks", got.Blocks)
		}
	}
	if _, ok := EstimateTone(gaussian(rng, n, 0.1), 0, fs, f0, 0.8*f0); ok {
		t.Error("a tone found in noise")
	}
	if _, ok := EstimateTone(make([]complex64, 100), 0, fs, f0, 0.8*f0); ok {
		t.Error("a tone found in 100 samples")
	}
}

// Two tones of equal power (the demo's, +3 and -5 MHz) with their images 25 dB down
// and a DC offset: each is measured as if it were alone, to within 0.1 Hz (the bound
// is 0.02 Hz at 22 dB per tone over 2^17 samples).
func TestEstimateTwoTones(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const fs, n = 20e6, 1 << 17
	a := math.Sqrt(52.0 / 4096 / 2)
	fa, fb := 3e6+123.4, -5e6-56.7
	x := gaussian(rng, n, a/math.Sqrt(2)/math.Pow(10, 22.0/20))
	addTone(x, a, fa, fs, 0.1)
	addTone(x, a, fb, fs, 2)
	addTone(x, a/18, -fa, fs, 1) // images, 25 dB down
	addTone(x, a/18, -fb, fs, 3)
	for i := range x {
		x[i] += 0.02 + 0.01i
	}
	for _, f := range []float64{fa, fb} {
		nominal := math.Round(f/1e6) * 1e6
		got, ok := EstimateTone(x, 0.02+0.01i, fs, nominal, 300e3)
		if !ok || math.Abs(got.Freq-f) > 0.1 {
			t.Errorf("tone at %g Hz: measured %.3f Hz (ok %v)", f, got.Freq, ok)
		}
		if p := 10 * math.Log10(got.Power/(a*a)); math.Abs(p) > 0.1 {
			t.Errorf("tone at %g Hz: power off by %.3f dB", f, p)
		}
	}
}
