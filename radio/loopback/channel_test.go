package loopback

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

// run passes x (index 0 at transmitter time 0) through a channel and returns n samples.
func run(t *testing.T, cfg ChannelConfig, x []complex64, n int) []complex64 {
	t.Helper()
	if cfg.SampleRate == 0 {
		cfg.SampleRate = 20e6
	}
	c, err := NewChannel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]complex64, n)
	c.Process(y, &SliceInput{Data: x})
	return y
}

func gaussianSignal(n int, power float64, seed uint64) []complex64 {
	r := rand.New(rand.NewPCG(seed, 1))
	s := math.Sqrt(power / 2)
	x := make([]complex64, n)
	for i := range x {
		x[i] = complex(float32(r.NormFloat64()*s), float32(r.NormFloat64()*s))
	}
	return x
}

func power(x []complex64) float64 {
	s := 0.0
	for _, v := range x {
		s += float64(real(v)*real(v) + imag(v)*imag(v))
	}
	return s / float64(len(x))
}

// SNR: noise measured as output minus input, signal at the reference power.
func TestChannelAWGN(t *testing.T) {
	const n = 1 << 20
	for _, snr := range []float64{-3, 0, 10, 30} {
		x := gaussianSignal(n, DefaultRefPower, 1)
		y := run(t, ChannelConfig{AWGN: true, SNR: snr, Seed: 5}, x, n)
		var e []complex64
		for i := range y {
			e = append(e, y[i]-x[i])
		}
		got := 10 * math.Log10(power(x)/power(e))
		t.Logf("snr %g dB: measured %.3f dB", snr, got)
		// The noise power estimate from 2^20 samples has relative sd 1e-3 (0.004 dB);
		// the signal's too. 0.05 dB is over ten standard deviations.
		if math.Abs(got-snr) > 0.05 {
			t.Errorf("snr %g dB: measured %.3f dB", snr, got)
		}
	}
}

// The level shifts signal and noise together; the SNR stays.
func TestChannelLevel(t *testing.T) {
	const n = 1 << 18
	x := gaussianSignal(n, DefaultRefPower, 2)
	y := run(t, ChannelConfig{Level: -6}, x, n)
	if got := 10 * math.Log10(power(y)/power(x)); math.Abs(got+6) > 1e-4 {
		t.Errorf("level -6 dB: measured %.5f dB", got)
	}
}

// One oscillator error per device gives both the carrier offset and the sample-clock
// offset; both are measured back from tones.
func TestChannelOscillatorPPM(t *testing.T) {
	const n = 1 << 20
	fs, fc := 20e6, 2.45e9
	for _, c := range []struct{ tx, rx float64 }{{12.5, 0}, {-20, 20}, {40, -40}, {0, 0}} {
		// A DC input turns into a pure carrier-offset tone.
		dc := make([]complex64, n+64)
		for i := range dc {
			dc[i] = 0.1
		}
		y := run(t, ChannelConfig{TxPPM: c.tx, RxPPM: c.rx, CarrierHz: fc}, dc, n)
		cfo := toneFreq(y[64:], fs)
		eTx, eRx := c.tx*1e-6, c.rx*1e-6
		wantCFO := fc * (eTx - eRx) / (1 + eRx) // Hz in the receiver's nominal units
		// Phase-slope estimation of a noiseless tone over 1e6 samples: far below 0.1 Hz.
		if math.Abs(cfo-wantCFO) > 0.1 {
			t.Errorf("ppm %g/%g: carrier offset %.3f Hz, want %.3f", c.tx, c.rx, cfo, wantCFO)
		}
		// A 4 MHz tone comes out at CFO + 4 MHz * ratio: the clock offset.
		f0 := 4e6
		x := make([]complex64, n+4096)
		for i := range x {
			x[i] = complex64(cmplx.Rect(0.1, 2*math.Pi*f0*float64(i)/fs))
		}
		y = run(t, ChannelConfig{TxPPM: c.tx, RxPPM: c.rx, CarrierHz: fc}, x, n)
		ratio := (toneFreq(y[64:], fs) - cfo) / f0
		gotPPM := (ratio - 1) * 1e6
		wantPPM := (eTx - eRx) / (1 + eRx) * 1e6
		// 0.1 Hz of frequency error at 4 MHz is 0.025 ppm; allow 0.05 ppm.
		if math.Abs(gotPPM-wantPPM) > 0.05 {
			t.Errorf("ppm %g/%g: sample clock %.4f ppm, want %.4f", c.tx, c.rx, gotPPM, wantPPM)
		}
	}
}

// toneFreq estimates the frequency of a single tone from the mean phase step, Hz.
func toneFreq(y []complex64, fs float64) float64 {
	var acc complex128
	for i := 1; i < len(y); i++ {
		acc += complex128(y[i]) * cmplx.Conj(complex128(y[i-1]))
	}
	return cmplx.Phase(acc) * fs / (2 * math.Pi)
}

// The interpolator that applies the sample-clock offset must not distort the band:
// a broadband signal delayed by a fraction of a sample keeps its shape to -50 dB.
func TestChannelClockInterpolationAccuracy(t *testing.T) {
	const n = 1 << 16
	fs := 20e6
	// An OFDM-like band: 52 tones across +-8.1 MHz, like 802.11a.
	x := make([]complex64, n+256)
	r := rand.New(rand.NewPCG(3, 3))
	type tone struct{ f, ph float64 }
	var tones []tone
	for k := -26; k <= 26; k++ {
		if k != 0 {
			tones = append(tones, tone{float64(k) * 312.5e3, r.Float64() * 2 * math.Pi})
		}
	}
	eval := func(tm float64) complex128 {
		var s complex128
		for _, tn := range tones {
			s += cmplx.Rect(0.02, 2*math.Pi*tn.f*tm/fs+tn.ph)
		}
		return s
	}
	for i := range x {
		x[i] = complex64(eval(float64(i)))
	}
	eps := 50e-6
	y := run(t, ChannelConfig{TxPPM: 50, RxPPM: 0}, x, n)
	var errP, sigP float64
	for i := 1000; i < n-1000; i++ {
		want := eval(float64(i) * (1 + eps))
		d := complex128(y[i]) - want
		errP += real(d)*real(d) + imag(d)*imag(d)
		sigP += real(want)*real(want) + imag(want)*imag(want)
	}
	got := 10 * math.Log10(errP/sigP)
	t.Logf("interpolation error %.1f dB", got)
	if got > -50 {
		t.Errorf("interpolation error %.1f dB relative to the signal, want below -50 dB", got)
	}
}

// Wiener phase noise: the phase difference over a lag of k samples has variance
// 2*pi*linewidth*k/fs.
func TestChannelPhaseNoise(t *testing.T) {
	const n = 1 << 20
	fs := 20e6
	for _, lw := range []float64{100, 1000, 10000} {
		dc := make([]complex64, n)
		for i := range dc {
			dc[i] = 0.5
		}
		y := run(t, ChannelConfig{PhaseNoise: lw, Seed: 11}, dc, n)
		const lag = 200
		var s float64
		cnt := 0
		for i := 0; i+lag < n; i += lag {
			d := cmplx.Phase(complex128(y[i+lag]) * cmplx.Conj(complex128(y[i])))
			s += d * d
			cnt++
		}
		got := s / float64(cnt) / (2 * math.Pi * lag / fs)
		t.Logf("linewidth %g Hz: measured %.1f Hz", lw, got)
		// 5242 independent increments: the variance estimate has relative sd 2%.
		if math.Abs(got/lw-1) > 0.1 {
			t.Errorf("linewidth %g Hz: measured %.1f Hz", lw, got)
		}
	}
}

// I/Q imbalance and DC by the moment estimator on a circular Gaussian input.
func TestChannelIQAndDC(t *testing.T) {
	const n = 1 << 20
	for _, c := range []struct {
		g, ph float64
		dc    complex128
	}{{0.5, 3, 0.02 - 0.01i}, {-1, -5, 0}, {0.1, 0.5, 0.001 + 0.003i}} {
		x := gaussianSignal(n, 0.02, 4)
		y := run(t, ChannelConfig{IQGain: c.g, IQPhase: c.ph, DC: c.dc}, x, n)
		var mi, mq float64
		for _, v := range y {
			mi += float64(real(v))
			mq += float64(imag(v))
		}
		mi /= n
		mq /= n
		var ii, qq, iq float64
		for _, v := range y {
			a, b := float64(real(v))-mi, float64(imag(v))-mq
			ii += a * a
			qq += b * b
			iq += a * b
		}
		gain := 10 * math.Log10(qq/ii)
		phase := -math.Asin(iq/math.Sqrt(ii*qq)) * 180 / math.Pi
		t.Logf("iq %g dB %g deg, dc %v: measured %.4f dB %.3f deg, dc %.5f", c.g, c.ph, c.dc, gain, phase, complex(mi, mq))
		// Standard errors at n=2^20: gain 0.006 dB, phase 0.06 degrees, DC 1e-4.
		if math.Abs(gain-c.g) > 0.03 || math.Abs(phase-c.ph) > 0.3 {
			t.Errorf("iq %g dB %g deg: measured %.3f dB %.3f deg", c.g, c.ph, gain, phase)
		}
		if cmplx.Abs(complex(mi, mq)-c.dc) > 1e-3 {
			t.Errorf("dc %v: measured %v", c.dc, complex(mi, mq))
		}
	}
}

// Quantisation to the 8-bit grid, clipping at full scale, and the quantisation noise
// of a fine signal: step^2/12 per dimension.
func TestChannelQuantisation(t *testing.T) {
	const n = 1 << 18
	x := gaussianSignal(n, 0.05, 6)
	x[0] = 3 - 3i // far beyond full scale
	y := run(t, ChannelConfig{Bits: 8}, x, n)
	if y[0] != complex(127.0/128, -1) {
		t.Errorf("clipping: %v, want (127/128, -1)", y[0])
	}
	var e []complex64
	for i, v := range y {
		for _, c := range []float32{real(v), imag(v)} {
			if c*128 != float32(math.Round(float64(c*128))) || c < -1 || c > 127.0/128 {
				t.Fatalf("sample %d = %v is not on the 8-bit grid", i, v)
			}
		}
		if i > 0 && math.Abs(float64(real(x[i]))) < 0.9 && math.Abs(float64(imag(x[i]))) < 0.9 {
			e = append(e, v-x[i])
		}
	}
	want := 2 * (1.0 / 128) * (1.0 / 128) / 12
	if got := power(e); math.Abs(got/want-1) > 0.02 {
		t.Errorf("quantisation noise %.3e, want %.3e", got, want)
	}
}

// Multipath power delay profiles: at 100 Msps the LTE profiles' delays fall on whole
// samples, so the impulse response shows each tap's mean power over many channel
// realisations.
func TestChannelMultipathProfile(t *testing.T) {
	fs := 100e6
	for _, name := range []string{"epa", "eva", "etu"} {
		p, _ := LookupProfile(name)
		paths, _ := p.Paths(0)
		const trials = 2000
		n := int(paths[len(paths)-1].Delay*fs) + 16
		for _, pth := range paths {
			n = max(n, int(pth.Delay*fs)+16)
		}
		acc := make([]float64, n)
		for s := 0; s < trials; s++ {
			imp := make([]complex64, 64)
			imp[8] = 1
			y := run(t, ChannelConfig{SampleRate: fs, Paths: paths, Seed: uint64(s + 1)}, imp, n+8)
			for j := range acc {
				v := y[8+j]
				acc[j] += float64(real(v)*real(v)+imag(v)*imag(v)) / trials
			}
		}
		total := 0.0
		for _, pth := range paths {
			k := int(math.Round(pth.Delay * fs))
			total += acc[k]
			// Each tap's power over 2000 realisations of a 16-term sum: relative sd
			// about 2.2%; allow 10%.
			if math.Abs(acc[k]/pth.Power-1) > 0.10 {
				t.Errorf("%s: tap at %g ns: mean power %.4f, want %.4f", name, pth.Delay*1e9, acc[k], pth.Power)
			}
		}
		if math.Abs(total-1) > 0.03 {
			t.Errorf("%s: mean channel gain %.4f, want 1", name, total)
		}
	}
}

// TDL profiles scaled by a delay spread reproduce it in the measured power delay
// profile (1 GHz sampling keeps the interpolation's own spread small).
func TestChannelTDLDelaySpread(t *testing.T) {
	fs := 1e9
	for _, name := range []string{"tdl-a", "tdl-c", "tdl-e"} {
		p, _ := LookupProfile(name)
		paths, _ := p.Paths(50e-9)
		const trials = 400
		acc := make([]float64, int(paths[len(paths)-1].Delay*fs)+100)
		for _, pth := range paths {
			acc = make([]float64, max(len(acc), int(pth.Delay*fs)+100))
		}
		for s := 0; s < trials; s++ {
			imp := make([]complex64, 16)
			imp[8] = 1
			y := run(t, ChannelConfig{SampleRate: fs, Paths: paths, Seed: uint64(1000 + s)}, imp, len(acc)+8)
			for j := range acc {
				v := y[8+j]
				acc[j] += float64(real(v)*real(v) + imag(v)*imag(v))
			}
		}
		var m0, m1, m2 float64
		for j, v := range acc {
			m0 += v
			m1 += v * float64(j)
			m2 += v * float64(j*j)
		}
		mean := m1 / m0
		ds := math.Sqrt(m2/m0-mean*mean) / fs
		t.Logf("%s: RMS delay spread %.2f ns (set 50)", name, ds*1e9)
		if math.Abs(ds/50e-9-1) > 0.08 {
			t.Errorf("%s at 50 ns: measured RMS delay spread %.1f ns", name, ds*1e9)
		}
	}
}

// Jakes Doppler: the fading autocorrelation follows J0(2*pi*fD*tau).
func TestChannelDopplerAutocorrelation(t *testing.T) {
	fs, fd := 1e6, 200.0
	paths := []Path{{Delay: 0, Power: 1}}
	const n = 1 << 16
	const seeds = 40
	lags := []int{0, 200, 400, 600, 800, 1200, 1600, 2400, 3200}
	acc := make([]complex128, len(lags))
	var p0 float64
	for s := 0; s < seeds; s++ {
		dc := make([]complex64, n+64)
		for i := range dc {
			dc[i] = 1
		}
		y := run(t, ChannelConfig{SampleRate: fs, Paths: paths, Doppler: fd, Seed: uint64(s + 7)}, dc, n)
		for i := 0; i < n-4000; i += 50 {
			for k, l := range lags {
				acc[k] += complex128(y[i+l]) * cmplx.Conj(complex128(y[i]))
			}
			p0 += float64(real(y[i])*real(y[i]) + imag(y[i])*imag(y[i]))
		}
	}
	for k, l := range lags {
		got := real(acc[k]) / p0
		want := math.J0(2 * math.Pi * fd * float64(l) / fs)
		t.Logf("lag %4d: autocorrelation %+.3f, J0 %+.3f", l, got, want)
		// 40 realisations of 16 sinusoids over 12 Doppler periods: the estimate scatters
		// by about 0.03; allow 0.06.
		if math.Abs(got-want) > 0.06 {
			t.Errorf("lag %d: autocorrelation %.3f, J0 gives %.3f", l, got, want)
		}
	}
}

// However the output is cut into calls, the samples are the same.
func TestChannelChunkingInvariance(t *testing.T) {
	p, _ := LookupProfile("eva")
	paths, _ := p.Paths(0)
	cfg := ChannelConfig{SampleRate: 20e6, Paths: paths, Doppler: 70, TxPPM: 15, RxPPM: -3, CarrierHz: 2.4e9,
		PhaseNoise: 50, AWGN: true, SNR: 20, IQGain: 0.3, IQPhase: 2, DC: 0.01, Bits: 8, Start: -777, Seed: 9}
	x := gaussianSignal(40000, DefaultRefPower, 8)
	in := &SliceInput{Data: x}
	a, _ := NewChannel(cfg)
	ya := make([]complex64, 45000)
	a.Process(ya, in)
	b, _ := NewChannel(cfg)
	yb := make([]complex64, 45000)
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < len(yb); {
		k := min(len(yb)-i, 1+r.IntN(3000))
		lo, hi := b.Need(k)
		rec := &recordingInput{in: in}
		b.Process(yb[i:i+k], rec)
		if rec.used && (rec.lo < lo || rec.hi > hi) {
			t.Fatalf("Need said [%d,%d) but Process read [%d,%d)", lo, hi, rec.lo, rec.hi)
		}
		i += k
	}
	for i := range ya {
		if ya[i] != yb[i] {
			t.Fatalf("sample %d differs: %v vs %v", i, ya[i], yb[i])
		}
	}
}

type recordingInput struct {
	in     Input
	lo, hi int64
	used   bool
}

func (r *recordingInput) Samples(dst []complex64, start int64) {
	if !r.used || start < r.lo {
		r.lo = start
	}
	if end := start + int64(len(dst)); !r.used || end > r.hi {
		r.hi = end
	}
	r.used = true
	r.in.Samples(dst, start)
}

// Every invalid configuration fails at construction.
func TestChannelInvalidConfig(t *testing.T) {
	bad := []ChannelConfig{
		{},
		{SampleRate: -1},
		{SampleRate: math.NaN()},
		{SampleRate: 20e6, Doppler: -1},
		{SampleRate: 20e6, TxPPM: 5000},
		{SampleRate: 20e6, PhaseNoise: math.NaN()},
		{SampleRate: 20e6, IQGain: 10},
		{SampleRate: 20e6, Bits: 40},
		{SampleRate: 20e6, DC: 2},
		{SampleRate: 20e6, RefPower: -1},
		{SampleRate: 20e6, Paths: []Path{{Delay: -1, Power: 1}}},
		{SampleRate: 20e6, Paths: []Path{{Delay: 1, Power: 1}}}, // one second of delay
	}
	for i, c := range bad {
		if _, err := NewChannel(c); err == nil {
			t.Errorf("case %d (%+v): no error", i, c)
		}
	}
}
