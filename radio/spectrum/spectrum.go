// Package spectrum measures what a radio link did to a test signal from the received
// samples: the power spectrum (a Hann-windowed periodogram), the strongest line near a
// frequency and its power, the noise floor under the lines, and a tone's frequency to
// near the Cramér-Rao bound with a standard error. It is the one tone estimator of
// m4sc: calibration's CW tone, the demo's two tones and the hardware tests' tones all
// go through it.
//
// Samples are complex64 baseband at full scale 1, frequencies in Hz relative to the
// centre (negative below it), powers in full-scale units (1 = a full-scale tone; use
// 10 log10 for dBFS).
//
// Entry points: NewPeriodogram, then Periodogram.Peak, Power and NoisePerBin; and
// EstimateTone.
//
// What it is not: not a general spectral estimator (one window, no averaging of
// segments), and it knows nothing of OFDM or of the devices; package phy measures
// frames.
package spectrum

import (
	"math"
	"math/cmplx"
	"slices"

	"gonum.org/v1/gonum/dsp/fourier"
)

// Parameters of the estimators.
const (
	// PowerBins is how many bins on each side of a line's peak Power adds to the peak
	// bin: the Hann window's main lobe spans two, and four take in all but 10^-4 of a
	// tone's power wherever it falls between bins.
	PowerBins = 4
	// Prominence is how many times the mean of the bins searched a tone's peak bin must
	// exceed for EstimateTone to call it a tone: a tone puts most of the band's power
	// in a few bins, noise spreads it evenly.
	Prominence = 20
	// ToneBlock is how many samples EstimateTone averages into one phase point once the
	// tone is mixed down to near 0 Hz. Other lines are attenuated by the average (a
	// line B Hz away by the Dirichlet kernel of ToneBlock samples at B; on its nulls
	// when B*ToneBlock/fs is whole: DC and the image of a tone at fs/8 fall there).
	ToneBlock = 64
	// ToneSegments is how many segments the phase line is refitted on for the standard
	// error.
	ToneSegments = 8
	// coarseMax caps the periodogram EstimateTone searches: 2^16 bins, 305 Hz apart at
	// 20 Msps, are plenty to start the phase fit from.
	coarseMax = 1 << 16
	// coarseMin is the smallest periodogram EstimateTone accepts.
	coarseMin = 1 << 10
)

// Periodogram is the Hann-windowed power spectrum of a segment of samples. Bin k holds
// frequency k*fs/n for k < n/2 and (k-n)*fs/n above. P is scaled so that the bins of
// a tone of power A^2 sum to A^2 (Parseval with the window's energy taken out) and
// white noise of power s gives s/n per bin on average.
type Periodogram struct {
	P          []float64 // power per bin, full-scale units
	SampleRate float64   // Hz
}

// NewPeriodogram returns the periodogram of x after subtracting dc (the receiver's DC
// offset; 0 for none), at sample rate fs Hz. Any length works; powers of two are
// fastest.
func NewPeriodogram(x []complex64, dc complex128, fs float64) *Periodogram {
	n := len(x)
	p := &Periodogram{P: make([]float64, n), SampleRate: fs}
	if n == 0 {
		return p
	}
	in := make([]complex128, n)
	var ws float64
	for k, v := range x {
		h := 0.5 - 0.5*math.Cos(2*math.Pi*float64(k)/float64(n))
		in[k] = (complex128(v) - dc) * complex(h, 0)
		ws += h * h
	}
	c := fourier.NewCmplxFFT(n).Coefficients(nil, in)
	if ws == 0 {
		ws = 1 // n = 1: the window is all zero
	}
	for k, v := range c {
		p.P[k] = (real(v)*real(v) + imag(v)*imag(v)) / (float64(n) * ws)
	}
	return p
}

// Freq returns bin k's frequency, Hz.
func (p *Periodogram) Freq(k int) float64 {
	n := len(p.P)
	if n == 0 {
		return 0
	}
	k = ((k % n) + n) % n
	if k >= n/2 {
		k -= n
	}
	return float64(k) * p.SampleRate / float64(n)
}

// Bin returns the bin nearest frequency f, Hz.
func (p *Periodogram) Bin(f float64) int {
	n := len(p.P)
	if n == 0 {
		return 0
	}
	k := int(math.Round(f / p.SampleRate * float64(n)))
	return ((k % n) + n) % n
}

// at is bin k, any integer, taken modulo the length.
func (p *Periodogram) at(k int) float64 {
	n := len(p.P)
	return p.P[((k%n)+n)%n]
}

// Peak returns the strongest bin within span Hz of f, leaving out the bins within guard
// Hz of DC (a receiver's DC spike; guard 0 leaves out nothing), and false when there is
// none.
func (p *Periodogram) Peak(f, span, guard float64) (int, bool) {
	n := len(p.P)
	if n == 0 {
		return 0, false
	}
	lo := int(math.Ceil((f - span) / p.SampleRate * float64(n)))
	hi := int(math.Floor((f + span) / p.SampleRate * float64(n)))
	hi = min(hi, lo+n-1)
	best, ok := 0, false
	for k := lo; k <= hi; k++ {
		if guard > 0 && math.Abs(p.Freq(k)) <= guard {
			continue
		}
		if !ok || p.at(k) > p.at(best) {
			best, ok = k, true
		}
	}
	return ((best % n) + n) % n, ok
}

// Power returns the power of the line whose peak is bin k: the bins within PowerBins
// of it added up.
func (p *Periodogram) Power(k int) float64 {
	if len(p.P) == 0 {
		return 0
	}
	var s float64
	for d := -PowerBins; d <= PowerBins; d++ {
		s += p.at(k + d)
	}
	return s
}

// NoisePerBin returns the noise power per bin: the median bin over ln 2. Each bin of
// white noise of power s is exponentially distributed with mean s/n and median
// ln 2 times that; a few lines (tones, their images, spurs) do not move the median.
// Times len(P) it is the noise power in the whole band.
func (p *Periodogram) NoisePerBin() float64 {
	if len(p.P) == 0 {
		return 0
	}
	q := slices.Clone(p.P)
	slices.Sort(q)
	return q[len(q)/2] / math.Ln2
}

// Tone is a tone EstimateTone measured.
type Tone struct {
	Freq   float64 // Hz
	SE     float64 // standard error of Freq, Hz
	Power  float64 // full-scale units, from the periodogram (Periodogram.Power)
	Blocks int     // phase points the frequency was fitted on (ToneBlock samples each)
}

// EstimateTone finds the strongest line within span Hz of f0 in x (dc subtracted) at
// sample rate fs and measures it: the peak of a Hann-windowed periodogram of up to 2^16
// samples, interpolated parabolically in log power; then the tone mixed down by that
// estimate, averaged in blocks of ToneBlock samples, and a straight line fitted to the
// blocks' unwrapped phase over all of x, whose slope is the remaining offset (S. A.
// Tretter, "Estimating the frequency of a noisy sinusoid by linear regression", IEEE
// Trans. Inf. Theory 31(6), 1985: at the Cramér-Rao bound above a few dB of SNR). The
// standard error is the scatter of the slopes fitted on ToneSegments segments over the
// square root of their number. ok is false when x is too short (under 1024 samples, or
// 4*ToneSegments blocks) or no line in the span stands Prominence times above the
// span's mean.
//
// Keep other lines out of the span (DC, the tone's image), and away from where the
// block average passes them (see ToneBlock).
func EstimateTone(x []complex64, dc complex128, fs, f0, span float64) (t Tone, ok bool) {
	nfft := 1
	for nfft*2 <= len(x) && nfft < coarseMax {
		nfft *= 2
	}
	nb := len(x) / ToneBlock
	if nfft < coarseMin || nb < 4*ToneSegments {
		return t, false
	}
	p := NewPeriodogram(x[:nfft], dc, fs)
	lo := int(math.Ceil((f0 - span) / fs * float64(nfft)))
	hi := int(math.Floor((f0 + span) / fs * float64(nfft)))
	if hi < lo {
		return t, false
	}
	best := lo
	var total float64
	for k := lo; k <= hi; k++ {
		total += p.at(k)
		if p.at(k) > p.at(best) {
			best = k
		}
	}
	if !(p.at(best) >= Prominence*total/float64(hi-lo+1)) {
		return t, false
	}
	a, b, c := math.Log(p.at(best-1)+1e-300), math.Log(p.at(best)+1e-300), math.Log(p.at(best+1)+1e-300)
	d := 0.0
	if den := a - 2*b + c; den < 0 {
		d = math.Max(-0.5, math.Min(0.5, 0.5*(a-c)/den))
	}
	fc := (float64(best) + d) * fs / float64(nfft)
	// Mix down and average into blocks.
	ph := make([]float64, nb)
	w := 2 * math.Pi * fc / fs
	s, co := math.Sincos(-w)
	step := complex(co, s)
	for blk := range ph {
		var acc complex128
		base := blk * ToneBlock
		s, co := math.Sincos(-w * float64(base))
		rot := complex(co, s)
		for i := 0; i < ToneBlock; i++ {
			acc += (complex128(x[base+i]) - dc) * rot
			rot *= step
		}
		ph[blk] = cmplx.Phase(acc)
	}
	for i := 1; i < len(ph); i++ {
		ph[i] = ph[i-1] + math.Remainder(ph[i]-ph[i-1], 2*math.Pi)
	}
	slope := lineSlope(ph)
	seg := nb / ToneSegments
	slopes := make([]float64, ToneSegments)
	for s := range slopes {
		slopes[s] = lineSlope(ph[s*seg : (s+1)*seg])
	}
	perHz := fs / (2 * math.Pi * ToneBlock) // Hz per radian per block
	return Tone{Freq: fc + slope*perHz, SE: standardError(slopes) * perHz, Power: p.Power(best), Blocks: nb}, true
}

// lineSlope returns the least-squares slope of y against its index.
func lineSlope(y []float64) float64 {
	n := float64(len(y))
	var sx, sy, sxx, sxy float64
	for i, v := range y {
		x := float64(i)
		sx += x
		sy += v
		sxx += x * x
		sxy += x * v
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

// standardError is the sample standard deviation of v over the square root of its
// count.
func standardError(v []float64) float64 {
	var mean, ss float64
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss / float64(len(v)-1) / float64(len(v)))
}
