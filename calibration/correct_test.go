package calibration

import (
	"context"
	"math"
	"math/big"
	"math/cmplx"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/devices"
)

// testProfile is a valid profile with the given corrections.
func testProfile(ppm, gainDB, phaseDeg float64, dc complex128) *Profile {
	return &Profile{
		Version: ProfileVersion, Created: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		TX:        Device{Spec: "loopback:hackrf", Driver: "loopback", Serial: "air=default"},
		RX:        Device{Spec: "loopback:hackrf", Driver: "loopback", Serial: "air=default"},
		Frequency: 2.45e9, SampleRate: 20e6,
		FrequencyError: FrequencyError{PPM: ppm, PPMSE: 0.01, CarrierOffset: ppm * 2450, SampleClockPPM: ppm,
			LTF: Estimate{Value: ppm, SE: 0.02, N: 200}, Tone: Estimate{Value: ppm, SE: 0.01, N: 4000}},
		DC: DCOffset{I: real(dc), Q: imag(dc), SE: 1e-4, NoiseDBFS: -60},
		IQ: IQImbalance{GainDB: gainDB, PhaseDeg: phaseDeg, Method: IQMoment,
			Moment: IQEstimate{GainDB: gainDB, GainDBSE: 0.01, PhaseDeg: phaseDeg, PhaseDegSE: 0.05, N: 1 << 20}},
		Gains: Gains{TX: map[string]float64{"txvga": 39, "txamp": 0}, RX: map[string]float64{"lna": 16, "vga": 12, "amp": 0},
			LevelDBFS: -17.9, PeakDBFS: -7.5, EVMDB: -26.1},
		Channel: Channel{SNRDB: 30, SNRDBSE: 0.05, EVMDB: -26, SubcarrierSNR: make([]float64, SubcarrierCount), DelaySpreadNS: 18, Frames: 200},
	}
}

// slowPhase returns 2 pi times the fractional part of cyc*n, computed with 256-bit
// floats.
func slowPhase(cyc float64, n int64) float64 {
	x := new(big.Float).SetPrec(256).SetFloat64(cyc)
	x.Mul(x, new(big.Float).SetPrec(256).SetInt64(n))
	i, _ := x.Int(nil)
	x.Sub(x, new(big.Float).SetPrec(256).SetInt(i))
	f, _ := x.Float64()
	return 2 * math.Pi * f
}

// The corrector undoes what the receiver model does (carrier offset, then I/Q
// imbalance, then DC), computed slowly in float64 here, to float32 precision; at any
// position in the stream, however the stream is cut.
func TestCorrectorInvertsTheModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		ppm, gain, phase float64
		dc               complex128
		start            int64
	}{
		{0, 0, 0, 0, 0},
		{40, 0.2, 1.5, 0.015 - 0.008i, 0},
		{-40, -1, -5, -0.03 + 0.02i, 12345},
		{13.7, 3, 20, 0.1, 1 << 40}, // 15 hours into a stream at 20 Msps
	} {
		p := testProfile(c.ppm, c.gain, c.phase, c.dc)
		const fs, fc = 20e6, 915e6 // not the profile's own frequency
		x := gaussian(rng, 5000, 0.1)
		// The receiver sees x turned by the carrier offset, then imbalanced.
		cyc := c.ppm * 1e-6 * fc / fs
		y := make([]complex64, len(x))
		for i, v := range x {
			y[i] = complex64(complex128(v) * cmplx.Rect(1, slowPhase(cyc, c.start+int64(i))))
		}
		y = imbalance(y, c.gain, c.phase, c.dc)
		corr, err := NewCorrector(p, fs, fc)
		if err != nil {
			t.Fatal(err)
		}
		corr.SetPosition(c.start)
		out := make([]complex64, len(y))
		// Uneven pieces, the first one in place.
		copy(out, y)
		corr.Process(out[:7], out[:7])
		for lo := 7; lo < len(y); {
			hi := min(len(y), lo+1+rng.IntN(700))
			corr.Process(out[lo:hi], y[lo:hi])
			lo = hi
		}
		if got := corr.Position(); got != c.start+int64(len(y)) {
			t.Errorf("position %d, want %d", got, c.start+int64(len(y)))
		}
		var worst float64
		for i := range x {
			worst = math.Max(worst, cmplx.Abs(complex128(out[i]-x[i])))
		}
		// float32 rounding of samples near 0.1-0.4 and the phasor: a few 1e-7.
		if worst > 2e-6 {
			t.Errorf("%+v: largest error %g", c, worst)
		}
	}
}

// Profile.Correct is the corrector at the profile's own rate and frequency.
func TestProfileCorrect(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	p := testProfile(-12.5, 0.5, 2, 0.01+0.01i)
	x := gaussian(rng, 1000, 0.1)
	got := make([]complex64, len(x))
	p.Correct(got, x, 777)
	c, _ := NewCorrector(p, p.SampleRate, p.Frequency)
	c.SetPosition(777)
	want := make([]complex64, len(x))
	c.Process(want, x)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("sample %d: %v, want %v", i, got[i], want[i])
		}
	}
	if _, err := NewCorrector(p, 0, 1e9); err == nil {
		t.Error("zero sample rate accepted")
	}
	if _, err := NewCorrector(p, 20e6, math.NaN()); err == nil {
		t.Error("NaN frequency accepted")
	}
}

// fakeRX delivers the samples of a function of the time index, in buffers with a
// jump in time between them.
type fakeRX struct {
	radio.Device
	src func(n int64) complex64
}

func (d *fakeRX) Config() radio.Config { return radio.Config{SampleRate: 20e6, Frequency: 2.45e9} }
func (d *fakeRX) StartRX(context.Context) (radio.RXStream, error) {
	return &fakeStream{src: d.src}, nil
}

type fakeStream struct {
	src func(n int64) complex64
	t   int64
}

func (s *fakeStream) Read(dst []complex64) (int, radio.RXMeta, error) {
	n := min(len(dst), 300)
	meta := radio.RXMeta{Time: s.t}
	for i := range n {
		dst[i] = s.src(s.t + int64(i))
	}
	s.t += int64(n) + 1000 // every buffer is followed by a gap
	return n, meta, nil
}
func (s *fakeStream) Close() error { return nil }

// CorrectRX corrects every buffer at its own timestamp, so gaps keep the carrier
// correction in phase.
func TestCorrectRX(t *testing.T) {
	p := testProfile(20, 0, 0, 0)
	cyc := 20e-6 * 2.45e9 / 20e6
	// A received carrier offset: the corrected stream must be 1 everywhere.
	d := p.CorrectRX(&fakeRX{src: func(n int64) complex64 { return complex64(cmplx.Rect(1, slowPhase(cyc, n))) }})
	rs, err := d.StartRX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]complex64, 1000)
	for range 3 {
		n, _, _ := rs.Read(buf)
		for i, v := range buf[:n] {
			if cmplx.Abs(complex128(v)-1) > 1e-5 {
				t.Fatalf("sample %d: %v", i, v)
			}
		}
	}
	if u, ok := d.(interface{ Unwrap() radio.Device }); !ok || u.Unwrap() == nil {
		t.Error("no Unwrap")
	}
}

// ApplyGains sets a device's gains of one direction, refuses gains the device does not
// have, and leaves a device with no gains (a recording) alone.
func TestApplyGains(t *testing.T) {
	m := devices.New(devices.Options{Seed: 1})
	ctx := context.Background()
	d, err := m.Open(ctx, "loopback:hackrf")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p := testProfile(0, 0, 0, 0)
	if err := p.ApplyGains(d, radio.RX); err != nil {
		t.Fatal(err)
	}
	if g := d.Config().Gains; g["lna"] != 16 || g["vga"] != 12 || g["txvga"] != 30 {
		t.Errorf("after RX gains: %v", g)
	}
	if err := p.ApplyGains(d, radio.TX); err != nil {
		t.Fatal(err)
	}
	if g := d.Config().Gains; g["txvga"] != 39 || g["vga"] != 12 {
		t.Errorf("after TX gains: %v", g)
	}
	plain, err := m.Open(ctx, "loopback")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := p.ApplyGains(plain, radio.RX); err == nil {
		t.Error("hackrf gains applied to a plain loopback device")
	}
	q := testProfile(0, 0, 0, 0)
	q.Gains.RX = map[string]float64{"lna": 7}
	if err := q.ApplyGains(d, radio.RX); err == nil {
		t.Error("LNA gain off its 8 dB grid accepted")
	}
	if g := d.Config().Gains; g["lna"] != 16 {
		t.Errorf("a refused configuration changed the device: %v", g)
	}
}

// BenchmarkCorrector measures the correction of a receive stream (DC, I/Q, carrier
// offset), which runs on every received sample once a profile is applied.
func BenchmarkCorrector(b *testing.B) {
	c, err := NewCorrector(testProfile(20, 0.2, 1.5, 0.015-0.008i), 20e6, 2.45e9)
	if err != nil {
		b.Fatal(err)
	}
	x := gaussian(rand.New(rand.NewPCG(1, 1)), 1<<16, 0.1)
	y := make([]complex64, len(x))
	b.ReportAllocs()
	for b.Loop() {
		c.Process(y, x)
	}
	b.ReportMetric(float64(b.N)*float64(len(x))/b.Elapsed().Seconds(), "samples/s")
}
