package calibration

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"github.com/m4sc/m4sc/phy"
)

// imbalance applies the receiver model of Profile to x: Q' = g(Q cos phi - I sin phi),
// then adds dc. Slow and plain, in float64.
func imbalance(x []complex64, gainDB, phaseDeg float64, dc complex128) []complex64 {
	g := math.Pow(10, gainDB/20)
	s, c := math.Sincos(phaseDeg * math.Pi / 180)
	y := make([]complex64, len(x))
	for i, v := range x {
		re, im := float64(real(v)), float64(imag(v))
		y[i] = complex64(complex(re, g*(im*c-re*s)) + dc)
	}
	return y
}

func gaussian(rng *rand.Rand, n int, sigma float64) []complex64 {
	x := make([]complex64, n)
	for i := range x {
		x[i] = complex64(complex(rng.NormFloat64()*sigma, rng.NormFloat64()*sigma))
	}
	return x
}

// The moment estimator recovers the imbalance of white Gaussian noise. With N samples
// the estimates scatter by about 8.7*sqrt(2/N) dB in gain and 57/sqrt(N) degrees in
// phase (0.024 dB and 0.11 degrees at N = 2^18); the reported standard errors must
// say so, within a factor of two, and the errors must lie within 4 of them.
func TestIQFromNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 1 << 18
	for _, c := range []struct{ gain, phase float64 }{
		{0, 0}, {0.2, 1.5}, {-1, -5}, {3, 20}, {-5, 40},
	} {
		y := imbalance(gaussian(rng, n, 0.05), c.gain, c.phase, 0.01-0.02i)
		e := iqFromNoise(y)
		t.Logf("set %g dB %g deg: %.4f±%.4f dB %.3f±%.3f deg", c.gain, c.phase, e.GainDB, e.GainDBSE, e.PhaseDeg, e.PhaseDegSE)
		if e.N != n {
			t.Fatalf("N = %d", e.N)
		}
		if math.Abs(e.GainDB-c.gain) > 4*e.GainDBSE || math.Abs(e.PhaseDeg-c.phase) > 4*e.PhaseDegSE {
			t.Errorf("set %g dB %g deg, measured %+v", c.gain, c.phase, e)
		}
		// At large imbalance the scatter grows by 1/cos(phi) and with g; only the order
		// of magnitude is checked.
		if e.GainDBSE < 0.5*0.024 || e.GainDBSE > 4*0.024 || e.PhaseDegSE < 0.5*0.11 || e.PhaseDegSE > 4*0.11 {
			t.Errorf("standard errors %.4f dB %.3f deg, want about 0.024 and 0.11", e.GainDBSE, e.PhaseDegSE)
		}
	}
	// Too few samples, or no noise at all: nothing measured.
	if e := iqFromNoise(make([]complex64, n)); e.N != 0 {
		t.Errorf("silence: %+v", e)
	}
	if e := iqFromNoise(gaussian(rng, 100, 1)); e.N != 0 {
		t.Errorf("100 samples: %+v", e)
	}
}

// testFrames builds n 54 Mbit/s frames of 1000 octets back to back, each after gap
// zeros, and returns the samples and each frame's first long training symbol.
func testFrames(t testing.TB, rng *rand.Rand, n, gap int) ([]complex64, []int) {
	tx, err := phy.NewTransmitter(phy.TransmitterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rate, _ := phy.RateByMbps(54)
	var x []complex64
	var t1 []int
	for i := range n {
		x = append(x, make([]complex64, gap)...)
		t1 = append(t1, len(x)+ltfOffset)
		psdu := make([]byte, 996)
		for j := range psdu {
			psdu[j] = byte(rng.Uint32())
		}
		x = tx.Packet(x, phy.AppendFCS(psdu), rate, uint8(1+i%127))
	}
	return x, t1
}

// The mirror-subcarrier estimator recovers the imbalance from OFDM frames whatever the
// carrier offset, timing and channel phase, because it looks only at products
// Y_k Y_-k. 40 frames of 38 symbols, 24 subcarrier pairs each: about 36000 pairs, a
// standard error near 0.03 dB and 0.2 degrees; the bound is 4 reported errors.
func TestMirrorMoments(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x, t1 := testFrames(t, rng, 40, 500)
	rate, _ := phy.RateByMbps(54)
	nsym := rate.DataSymbols(1000)
	fft := phy.NewFFT64()
	for _, c := range []struct {
		gain, phase float64
		cfo         float64 // Hz at 20 Msps
		shift       int     // samples of delay
		snr         float64 // dB; 0: no noise
	}{
		{0.2, 1.5, 0, 0, 0},
		{0.2, 1.5, 98e3, 0, 30},
		{-1, 5, -180e3, 2, 25},
		{2, -10, 12e3, 1, 30},
	} {
		// Channel: a delay, a two-tap echo and a rotation, then the carrier offset,
		// noise, and the receiver's imbalance last (as the simulator orders them).
		y := make([]complex64, len(x)+c.shift+1)
		h0, h1 := cmplx.Rect(0.9, 1), cmplx.Rect(0.3, -2)
		for i := range x {
			y[i+c.shift] += complex64(complex128(x[i]) * h0)
			y[i+c.shift+1] += complex64(complex128(x[i]) * h1)
		}
		for i := range y {
			y[i] *= complex64(cmplx.Rect(1, 2*math.Pi*c.cfo*float64(i)/20e6))
		}
		if c.snr > 0 {
			sigma := math.Sqrt(52.0 / 4096 / math.Pow(10, c.snr/10) / 2)
			for i := range y {
				y[i] += complex64(complex(rng.NormFloat64()*sigma, rng.NormFloat64()*sigma))
			}
		}
		y = imbalance(y, c.gain, c.phase, 0)
		var all, batch moments
		var gs, ps []float64
		pairs := 0
		for i, t := range t1 {
			m, n := mirrorMoments(fft, y, 0, t, nsym)
			all.add(m)
			batch.add(m)
			pairs += n
			if i%4 == 3 {
				g, p, _ := batch.imbalance()
				gs, ps = append(gs, g), append(ps, p)
				batch = moments{}
			}
		}
		e := estimateFrom(all, gs, ps, pairs)
		t.Logf("%+v: %.4f±%.4f dB %.3f±%.3f deg", c, e.GainDB, e.GainDBSE, e.PhaseDeg, e.PhaseDegSE)
		if e.N != 40*nsym*24 {
			t.Errorf("%d pairs, want %d", e.N, 40*nsym*24)
		}
		if math.Abs(e.GainDB-c.gain) > 4*e.GainDBSE+0.002 || math.Abs(e.PhaseDeg-c.phase) > 4*e.PhaseDegSE+0.01 {
			t.Errorf("%+v: measured %+v", c, e)
		}
	}
}

// The channel summary on synthetic frames: per-subcarrier SNR and the delay spread of
// a known channel.
func TestChannelSummary(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	// Per-subcarrier SNR: a flat channel with white noise of variance s2 per sample
	// puts N0 = 64 s2 in every bin of the unscaled FFT against |H|^2 = 1: SNR_k =
	// 1/(64 s2). 100 frames estimate each subcarrier's N0 to about 10% (0.4 dB); their
	// mean over 52 subcarriers to 0.1 dB.
	x, t1 := testFrames(t, rng, 100, 200)
	const want = 25.0
	s2 := 1 / (64 * math.Pow(10, want/10))
	y := append([]complex64(nil), x...)
	for i := range y {
		y[i] += complex64(complex(rng.NormFloat64()*math.Sqrt(s2/2), rng.NormFloat64()*math.Sqrt(s2/2)))
	}
	acc := newChannelAcc()
	for _, t := range t1 {
		acc.add(y, t, 0)
	}
	snr := acc.subcarrierSNR()
	if len(snr) != SubcarrierCount {
		t.Fatalf("%d subcarriers", len(snr))
	}
	var mean float64
	for _, s := range snr {
		mean += s / SubcarrierCount
		if math.Abs(s-want) > 2 {
			t.Errorf("subcarrier SNR %.2f dB, want %g", s, want)
		}
	}
	if math.Abs(mean-want) > 0.3 {
		t.Errorf("mean subcarrier SNR %.2f dB, want %g", mean, want)
	}
	// Flat channel: no delay spread, noise or not (the noise is taken out).
	if ds := acc.delaySpread(312.5e3); ds > 5e-9 {
		t.Errorf("flat channel with noise: delay spread %.1f ns", ds*1e9)
	}
	flat := newChannelAcc()
	flat.add(x, t1[0], 0)
	if ds := flat.delaySpread(312.5e3); ds > 0.5e-9 {
		t.Errorf("flat channel: delay spread %.2f ns", ds*1e9)
	}
	// Rayleigh taps every 50 ns with an exponential profile of decay time d, 200
	// realisations, against the sampled profile's RMS spread. Each frame's
	// correlation is measured about that frame's own mean delay (its phase is
	// dropped), so for a fading channel the estimate is the mean spread of the
	// realisations about their own mean delays, which falls short of the profile's by
	// the scatter of the mean delay: 4-10% for these profiles. The bound is 15% low,
	// 5% high.
	for _, d := range []float64{50e-9, 100e-9, 200e-9} {
		const taps = 16
		var pdp [taps]float64
		var p0, m1, m2 float64
		for k := range pdp {
			tau := float64(k) * 50e-9
			pdp[k] = math.Exp(-tau / d)
			p0 += pdp[k]
			m1 += pdp[k] * tau
			m2 += pdp[k] * tau * tau
		}
		m1 /= p0
		rms := math.Sqrt(m2/p0 - m1*m1)
		acc := newChannelAcc()
		frame := x[:t1[1]-ltfOffset]
		for range 200 {
			var h [taps]complex128
			for k := range h {
				h[k] = complex(rng.NormFloat64(), rng.NormFloat64()) * complex(math.Sqrt(pdp[k]/p0/2), 0)
			}
			y := make([]complex64, len(frame)+taps)
			for i, v := range frame {
				for k, hk := range h {
					y[i+k] += complex64(complex128(v) * hk)
				}
			}
			acc.add(y, t1[0], 0)
		}
		got := acc.delaySpread(312.5e3)
		t.Logf("exponential decay %.0f ns: RMS spread %.1f ns, measured %.1f ns", d*1e9, rms*1e9, got*1e9)
		if got < 0.85*rms || got > 1.05*rms {
			t.Errorf("decay %.0f ns: measured %.1f ns, want %.1f", d*1e9, got*1e9, rms*1e9)
		}
	}
}

// BurstSpan finds a burst by its power and trims it; longestRun keeps the longest part
// without a break.
func TestBurstSpanAndRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	x := gaussian(rng, 40960, 0.001)
	for i := 10240; i < 30720; i++ {
		x[i] += 0.1 + 0.2i
	}
	lo, hi, ok := BurstSpan(x, 0, 1024, 1)
	if !ok || lo != 11264 || hi != 29696 {
		t.Errorf("burst at [%d, %d) ok %v, want [11264, 29696)", lo, hi, ok)
	}
	if _, _, ok := BurstSpan(gaussian(rng, 40960, 0.1), 0, 1024, 1); ok {
		t.Error("burst found in noise")
	}
	if lo, hi := longestRun(100, 1000, []int{50, 300, 400, 2000}); lo != 400 || hi != 1000 {
		t.Errorf("longest run [%d, %d), want [400, 1000)", lo, hi)
	}
}
