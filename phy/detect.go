package phy

import (
	"math"
)

// Packet detection on the short training field (clause 17.3.3): the L-STF repeats every
// 16 samples, so the autocorrelation at lag 16 over a window, normalised by the
// window's power, approaches 1 on a preamble and stays near 0 on noise (Schmidl and
// Cox, IEEE Trans. Commun. 45(12), 1997, adapted to the STF's period).
//
// A DC offset or a carrier wave (HackRF's DC spike, a CW interferer) is periodic at
// every lag and would pass that test. The STF is not: its twelve tones sit on
// subcarriers that are multiples of 4, whose phases over 8 samples alternate between
// +1 and -1 in equal power, so its lag-8 autocorrelation is zero. The detector
// therefore also requires the lag-8 correlation to be small against the lag-16 one.

// Detector parameters.
const (
	// detWindow is the samples summed in each correlation: 96 of the STF's 160, so
	// that at 0 dB the metric's fluctuation is small against its mean.
	detWindow = 96
	// detThreshold is the normalised lag-16 correlation |c16|^2 / (p * p16) a plateau
	// must exceed. On a clean STF it is 1; at SNR S/N it is (S/(S+N))^2 on average:
	// 0.25 at 0 dB, 0.20 at -1 dB, 0.11 at -3 dB. Noise alone averages 1/96. With a
	// 48-sample window and a threshold of 0.25 the detector missed 53% of semantic
	// frames at 0 dB (none at 3 dB); this window and 0.13 miss none of 300 at 0 dB
	// and 10% at -1 dB (TestSemanticFramesAtLowSNR). 0.10 found 9 false alarms in
	// 10^8 noise samples; 0.13 none (BenchmarkFalseAlarms), with detRun windows in a
	// row and the LTF check behind it.
	detThreshold = 0.13
	// detLag8 bounds |c8| / |c16|: zero for an ideal STF, 1 for a DC offset or a tone.
	detLag8 = 0.5
	// detRun is how many consecutive samples must pass both tests. The STF's plateau
	// of full windows lasts 160-16-detWindow = 48 samples.
	detRun = 32
)

// detector keeps running sums over a sliding window so each new sample costs O(1).
type detector struct {
	c16, c8 complex128 // sums of r[n] conj(r[n+16]) and r[n] conj(r[n+8]) over the window
	p, p16  float64    // sums of |r[n]|^2 and |r[n+16]|^2 over the window
	run     int        // consecutive samples passing
	n       int        // samples accumulated in the window (until full)
}

// metric evaluates the window ending at the newest sample.
func (d *detector) passes() bool {
	if d.n < detWindow {
		return false
	}
	den := d.p * d.p16
	if den <= 1e-30 {
		return false
	}
	a := real(d.c16)*real(d.c16) + imag(d.c16)*imag(d.c16)
	if a < detThreshold*den {
		return false
	}
	b := real(d.c8)*real(d.c8) + imag(d.c8)*imag(d.c8)
	return b < detLag8*detLag8*a
}

// scan runs the detector over x from index from, where x[i] is valid for i < len(x);
// the window covers x[i-detWindow-16+1 .. i]. It returns the index at which detRun
// consecutive windows passed (the end of the run), or -1. The sums are recomputed
// exactly at the start of every call, so rounding cannot build up.
func (d *detector) scan(x []complex64, from int) int {
	const W, L = detWindow, 16
	if from < W+L {
		from = W + L
	}
	if from > len(x) {
		return -1
	}
	// Window sums for the window whose last lagged sample is x[from-1]: terms
	// k = from-W-L .. from-L-1 pair x[k] with x[k+16] (and x[k+8]).
	d.c16, d.c8, d.p, d.p16 = 0, 0, 0, 0
	for k := from - W - L; k < from-L; k++ {
		a := complex128(x[k])
		d.c16 += a * conj(complex128(x[k+L]))
		d.c8 += a * conj(complex128(x[k+8]))
		d.p += sq(a)
		d.p16 += sq(complex128(x[k+L]))
	}
	d.n = W
	d.run = 0
	for i := from; i <= len(x); i++ {
		if d.passes() {
			d.run++
			if d.run >= detRun {
				return i
			}
		} else {
			d.run = 0
		}
		if i == len(x) {
			break
		}
		// Slide: add the pair ending at x[i], drop the pair starting at x[i-W-L].
		kNew, kOld := i-L, i-W-L
		a, b := complex128(x[kNew]), complex128(x[kOld])
		d.c16 += a*conj(complex128(x[i])) - b*conj(complex128(x[kOld+L]))
		d.c8 += a*conj(complex128(x[kNew+8])) - b*conj(complex128(x[kOld+8]))
		d.p += sq(a) - sq(b)
		d.p16 += sq(complex128(x[i])) - sq(complex128(x[kOld+L]))
	}
	return -1
}

func conj(c complex128) complex128 { return complex(real(c), -imag(c)) }
func sq(c complex128) float64      { return real(c)*real(c) + imag(c)*imag(c) }

// coarseCFO estimates the carrier offset in radians per sample from the lag-16
// autocorrelation over the STF samples x[a:b] (clause 17.3.3's period): the phase of
// sum x[n] conj(x[n+16]) is -16 w. The range is +-pi/16 rad per sample (+-625 kHz at
// 20 Msps).
func coarseCFO(x []complex64, a, b int) float64 {
	var c complex128
	for n := a; n+16 < b; n++ {
		c += complex128(x[n]) * conj(complex128(x[n+16]))
	}
	return -math.Atan2(imag(c), real(c)) / 16
}
