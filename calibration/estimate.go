package calibration

import (
	"math"
	"math/cmplx"

	"github.com/m4sc/m4sc/phy"
)

// meanSE returns the mean of v and its standard error (sample standard deviation over
// the square root of the count); the error is 0 for fewer than two values.
func meanSE(v []float64) (mean, se float64) {
	if len(v) == 0 {
		return 0, 0
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(v)-1) / float64(len(v)))
}

// meanDC returns the mean of x.
func meanDC(x []complex64) complex128 {
	var s complex128
	for _, v := range x {
		s += complex128(v)
	}
	if len(x) == 0 {
		return 0
	}
	return s / complex(float64(len(x)), 0)
}

// meanPower returns the mean of |x - dc|^2.
func meanPower(x []complex64, dc complex128) float64 {
	var s float64
	for _, v := range x {
		d := complex128(v) - dc
		s += real(d)*real(d) + imag(d)*imag(d)
	}
	return s / float64(max(1, len(x)))
}

// moments are the second moments of the in-phase and quadrature parts of a proper
// (circular) signal seen through the receiver's I/Q imbalance.
type moments struct{ ii, qq, iq float64 }

func (m *moments) add(o moments) { m.ii += o.ii; m.qq += o.qq; m.iq += o.iq }

// imbalance inverts the moments of the model Q' = g(Q cos phi - I sin phi) for a signal
// whose I and Q are uncorrelated with equal power P: E[I^2] = P, E[Q'^2] = g^2 P and
// E[I Q'] = -g P sin phi. So g = sqrt(E[Q'^2]/E[I^2]) and
// sin phi = -E[I Q'] / sqrt(E[I^2] E[Q'^2]). It returns g in dB and phi in degrees.
func (m moments) imbalance() (gainDB, phaseDeg float64, ok bool) {
	if !(m.ii > 0 && m.qq > 0) {
		return 0, 0, false
	}
	s := -m.iq / math.Sqrt(m.ii*m.qq)
	if !(math.Abs(s) < 1) {
		return 0, 0, false
	}
	return 10 * math.Log10(m.qq/m.ii), math.Asin(s) * 180 / math.Pi, true
}

// sampleMoments returns the moments of x after removing dc.
func sampleMoments(x []complex64, dc complex128) moments {
	var m moments
	dr, di := real(dc), imag(dc)
	for _, v := range x {
		i, q := float64(real(v))-dr, float64(imag(v))-di
		m.ii += i * i
		m.qq += q * q
		m.iq += i * q
	}
	return m
}

// momentBlocks is how many blocks the moment estimator splits its samples into for
// the standard error (batch means).
const momentBlocks = 16

// iqFromNoise is the moment estimator on received noise (or any proper wideband
// signal): the moments of all of x give the estimate, those of momentBlocks equal
// blocks its standard error.
func iqFromNoise(x []complex64) IQEstimate {
	dc := meanDC(x)
	n := len(x) / momentBlocks
	if n < 64 {
		return IQEstimate{}
	}
	var all moments
	var gs, ps []float64
	for b := 0; b < momentBlocks; b++ {
		m := sampleMoments(x[b*n:(b+1)*n], dc)
		all.add(m)
		if g, p, ok := m.imbalance(); ok {
			gs, ps = append(gs, g), append(ps, p)
		}
	}
	return estimateFrom(all, gs, ps, n*momentBlocks)
}

// estimateFrom makes an IQEstimate from pooled moments and per-batch estimates.
func estimateFrom(all moments, gs, ps []float64, n int) IQEstimate {
	g, p, ok := all.imbalance()
	if !ok || len(gs) < 2 || math.Abs(g) > MaxIQGainDB || math.Abs(p) > MaxIQPhaseDeg {
		return IQEstimate{}
	}
	_, gse := meanSE(gs)
	_, pse := meanSE(ps)
	if !(gse < 1 && pse < 10) {
		return IQEstimate{} // the parts disagree wildly: nothing measured
	}
	return IQEstimate{GainDB: g, GainDBSE: gse, PhaseDeg: p, PhaseDegSE: pse, N: n}
}

// mirrorPairs are the positive data subcarriers; each is paired with its mirror -k,
// also a data subcarrier (the pilots, +-7 and +-21, are left out: their values are
// fixed, so a pilot and its mirror are correlated whatever the radio does).
var mirrorPairs = func() []int {
	var ks []int
	for _, k := range phy.DataSubcarriers() {
		if k > 0 {
			ks = append(ks, k)
		}
	}
	return ks
}()

// mirrorMoments is the blind mirror-subcarrier estimator on one OFDM frame. The
// receiver's imbalance makes y = K1 z + K2 conj(z) with K1 = (1 + g e^{-j phi})/2 and
// K2 = (1 - g e^{j phi})/2, so subcarrier k of a symbol holds
// Y_k = K1 Z_k + K2 conj(Z_{-k}): each subcarrier is mixed with the image of its mirror.
// The data symbols Z are independent and proper (E[Z_k Z_{-k}] = 0 for QAM), so
//
//	A = E|Y_k|^2 + E|Y_{-k}|^2 = (|K1|^2 + |K2|^2) P,   B = 2 E[Y_k Y_{-k}] = 2 K1 K2 P
//
// with P = E|Z_k|^2 + E|Z_{-k}|^2, which is what the time-domain moments give: I^2 =
// (A + Re B)/2, Q^2 = (A - Re B)/2, IQ = Im B/2 (y^2 = I^2 - Q^2 + 2jIQ). The product
// Y_k Y_{-k} does not change with the timing of the FFT window (the phase ramps of k and
// -k cancel) nor with the channel's phase, and the estimate needs no decision or channel
// estimate; the carrier offset must not be corrected first, since derotating y would
// move the image 2*CFO away from its mirror. x holds the frame, dc is subtracted, t1 is
// the index of the first long training symbol and nsym the number of DATA symbols.
func mirrorMoments(fft *phy.FFT64, x []complex64, dc complex64, t1, nsym int) (moments, int) {
	var m moments
	var in, out [phy.FFTSize]complex64
	pairs := 0
	for n := 1; n <= nsym; n++ {
		at := t1 + 2*phy.FFTSize + phy.SymbolLen*n + phy.CPLen - windowAdvance
		if at < 0 || at+phy.FFTSize > len(x) {
			break
		}
		for i := range in {
			in[i] = x[at+i] - dc
		}
		fft.Forward(&out, &in)
		var a float64
		var b complex128
		for _, k := range mirrorPairs {
			p, q := complex128(out[phy.FFTBin(k)]), complex128(out[phy.FFTBin(-k)])
			a += real(p)*real(p) + imag(p)*imag(p) + real(q)*real(q) + imag(q)*imag(q)
			b += 2 * p * q
		}
		m.add(moments{ii: (a + real(b)) / 2, qq: (a - real(b)) / 2, iq: imag(b) / 2})
		pairs += len(mirrorPairs)
	}
	return m, pairs
}

// windowAdvance starts FFT windows this many samples into the cyclic prefix, as the
// phy receiver does by default.
const windowAdvance = 3

// ltfOffset is the distance from a frame's start (the L-STF's first sample, Frame.Start)
// to its first long training symbol: ten short symbols and the long guard interval.
const ltfOffset = phy.STFLen + 2*phy.CPLen

// channelAcc accumulates the least-squares channel estimate of many frames' long
// training fields (clause 17.3.3) for the channel summary.
type channelAcc struct {
	fft    *phy.FFT64
	ltf    [53]float32
	sig    [phy.FFTSize]float64 // sum of |H_k|^2
	noise  [phy.FFTSize]float64 // sum of |Y1_k - Y2_k|^2 / 2, each an estimate of N0_k
	r0, r1 float64              // sums of the per-frame correlations at lags 0 and 1
	frames int
}

func newChannelAcc() *channelAcc {
	return &channelAcc{fft: phy.NewFFT64(), ltf: phy.LTFSequence()}
}

// add takes the frame whose first long symbol starts at x[t1], with carrier offset
// cfo in radians per sample, which it removes.
func (c *channelAcc) add(x []complex64, t1 int, cfo float64) bool {
	at := t1 - windowAdvance
	if at < 0 || at+2*phy.FFTSize > len(x) {
		return false
	}
	var y [2][phy.FFTSize]complex64
	for s := range y {
		var in [phy.FFTSize]complex64
		for i := range in {
			n := at + s*phy.FFTSize + i
			in[i] = x[n] * complex64(cmplx.Rect(1, -cfo*float64(n-t1)))
		}
		c.fft.Forward(&y[s], &in)
	}
	// h[k+26] is the estimate on subcarrier k, nz[k+26] its noise N0.
	var h [53]complex128
	var nz [53]float64
	for k := -26; k <= 26; k++ {
		if k == 0 {
			continue
		}
		b := phy.FFTBin(k)
		y1, y2 := complex128(y[0][b]), complex128(y[1][b])
		h[k+26] = (y1 + y2) / 2 * complex(float64(c.ltf[k+26]), 0)
		d := y1 - y2
		nz[k+26] = (real(d)*real(d) + imag(d)*imag(d)) / 2
		c.sig[b] += real(h[k+26])*real(h[k+26]) + imag(h[k+26])*imag(h[k+26])
		c.noise[b] += nz[k+26]
	}
	// Correlation of neighbouring subcarriers over the 50 pairs that do not include
	// the empty DC subcarrier, and the power of the same subcarriers less the
	// estimate's own noise (N0/2 each; the lag-1 products have none on average). Each
	// frame's magnitude is taken before summing: the frames' timing differs by
	// fractions of a sample, which turns the phase of the product.
	var r1 complex128
	var r0 float64
	pw := func(k int) float64 {
		v := h[k+26]
		return real(v)*real(v) + imag(v)*imag(v) - nz[k+26]/2
	}
	for k := -26; k < 26; k++ {
		if k == -1 || k == 0 {
			continue
		}
		r1 += cmplx.Conj(h[k+26]) * h[k+27]
		r0 += (pw(k) + pw(k+1)) / 2
	}
	c.r0 += r0
	c.r1 += cmplx.Abs(r1)
	c.frames++
	return true
}

// subcarrierSNR returns |H_k|^2/N0_k in dB for k = -26..-1, 1..26, each clamped to the
// profile's SNR range; nil without frames. The estimate H = (Y1+Y2)/2 carries noise of
// N0/2, which is taken out of |H|^2.
func (c *channelAcc) subcarrierSNR() []float64 {
	if c.frames == 0 {
		return nil
	}
	out := make([]float64, 0, SubcarrierCount)
	for k := -26; k <= 26; k++ {
		if k == 0 {
			continue
		}
		b := phy.FFTBin(k)
		s := float64(MaxSNRDB)
		if n := c.noise[b]; n > 0 {
			s = 10 * math.Log10(math.Max(c.sig[b]-n/2, 1e-30)/n)
		}
		out = append(out, clamp(s, MinSNRDB, MaxSNRDB))
	}
	return out
}

// delaySpread returns the RMS delay spread in seconds from the correlation of
// neighbouring subcarriers. The frequency correlation R(f) of a channel is the Fourier
// transform of its power delay profile, so |R(df)|/R(0) falls from 1 as
// 1 - (2 pi df tau)^2/2 for an RMS delay spread tau, whatever the profile, and is exactly
// 1/sqrt(1 + (2 pi df tau)^2) for an exponential one, which is inverted here (within 3%
// of the true spread for the EPA, TDL-B, TDL-C and TDL-E profiles up to 300 ns at
// 312.5 kHz spacing; 12% low for EVA, and spreads near 1 us, ETU's, are beyond what
// one subcarrier's lag can resolve). Unlike the inverse FFT of the channel estimate,
// which smears even a flat channel over several taps (band edges, empty DC
// subcarrier), it gives 0 for a flat channel without a noise threshold. Distortion
// that repeats in both long symbols, the transmitter's quantisation of the identical
// training symbols above all, is indistinguishable from the channel: at a
// distortion-to-signal ratio D it reads as sqrt(2D)/(2 pi df), about 20 ns for 8-bit
// converters at the 802.11a level. Each frame's correlation is taken about its own
// mean delay (the frames' timing differs), so on a fading channel the result is the
// realisations' mean spread about their own mean delays, a little below the power
// delay profile's (4-10% for exponential profiles). df is the subcarrier spacing, Hz.
func (c *channelAcc) delaySpread(df float64) float64 {
	if c.frames == 0 || !(c.r0 > 0) {
		return 0
	}
	rho := math.Min(c.r1/c.r0, 1)
	if rho <= 0.01 {
		return MaxDelaySpread * 1e-9
	}
	return math.Sqrt(1/(rho*rho)-1) / (2 * math.Pi * df)
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

// toneSpan is how far from its nominal frequency a tone is looked for, as a fraction
// of that frequency: the tone at rate/8 is then found within +-0.8*rate/8 and never
// confused with the DC offset at 0 or its own image near -rate/8. At rate/8 both fall
// on nulls of spectrum.EstimateTone's block average (8 and about 16 cycles per block).
const toneSpan = 0.8

// BurstSpan finds where a burst lies in x (samples of a receiver that heard idle noise
// around one transmission) by the power (about dc) of blocks of blk
// samples against the geometric mean of the quietest and loudest block, and returns
// its first and last sample with trim blocks taken off each end. ok is false when the
// loudest block is not 6 dB above the quietest.
func BurstSpan(x []complex64, dc complex128, blk, trim int) (lo, hi int, ok bool) {
	nb := len(x) / blk
	if nb < 3 {
		return 0, 0, false
	}
	pw := make([]float64, nb)
	mn, mx := math.Inf(1), 0.0
	for b := range pw {
		pw[b] = meanPower(x[b*blk:(b+1)*blk], dc)
		mn, mx = math.Min(mn, pw[b]), math.Max(mx, pw[b])
	}
	if !(mx > 4*mn) {
		return 0, 0, false
	}
	thr := math.Sqrt(mn * mx)
	first, last := -1, -1
	for b, p := range pw {
		if p > thr {
			if first < 0 {
				first = b
			}
			last = b
		}
	}
	first, last = first+trim, last-trim
	if last <= first {
		return 0, 0, false
	}
	return first * blk, (last + 1) * blk, true
}
