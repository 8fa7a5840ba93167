package calibration

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/phy/per"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/devices"
	"github.com/m4sc/m4sc/radio/loopback"
)

// openPair opens a transmitter and a receiver on one simulated air.
func openPair(t testing.TB, seed uint64, txSpec, rxSpec string) (tx, rx radio.Device) {
	t.Helper()
	m := devices.New(devices.Options{Seed: seed})
	ctx := context.Background()
	tx, err := m.Open(ctx, txSpec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Close() })
	rx, err = m.Open(ctx, rxSpec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close() })
	return tx, rx
}

// truePPM is the frequency error a profile should report for the pair: the
// transmitter's clock relative to the receiver's.
func truePPM(tx, rx radio.Device) float64 {
	a, b := tx.(*loopback.Device).Params().PPM, rx.(*loopback.Device).Params().PPM
	return ((1+a*1e-6)/(1+b*1e-6) - 1) * 1e6
}

// Calibration recovers the simulator's impairments within the tolerances it aims at:
// frequency error within 0.5 ppm for errors up to +-40 ppm, DC within 1% of full scale,
// I/Q gain within 0.1 dB and phase within 0.5 degrees. One line per configuration, the
// rest of each device as the hackrf preset has it (30 dB SNR, 8-bit converters, 1 Hz
// phase noise per oscillator).
//
// What theory says the errors should be, so that the tolerances have room: the tone's
// frequency from 2^18 samples at over 20 dB SNR is good to well under 1 Hz (0.001 ppm)
// and phase noise moves it by a few Hz at most; each frame's long-training estimate
// scatters by about 200 Hz (0.08 ppm) at 24 dB, 0.006 ppm over 200 frames. The DC offset
// is quantised to the 8-bit ADC's steps when the idle noise is below them: within half
// a step, 0.4% of full scale. The mirror I/Q estimate from 200 frames has standard
// errors of about 0.016 dB and 0.09 degrees, the moment estimate (once the receive
// gain can raise the noise) 0.007 dB and 0.06 degrees.
func TestRunRecoversImpairments(t *testing.T) {
	tests := []struct {
		tx, rx string
	}{
		{"ppm=20", "ppm=-20"},                                           // +40 ppm
		{"ppm=-20", "ppm=20,iqgain=-0.5,iqphase=-3"},                    // -40 ppm
		{"ppm=12.5", "ppm=-12.5,dc=-0.03+0.02i,iqgain=1,iqphase=5"},     // +25 ppm
		{"ppm=-15", "ppm=10,dc=0.05-0.04i"},                             // -25 ppm
		{"ppm=3", "ppm=-7,iqgain=0.3,iqphase=-1"},                       // +10 ppm
		{"ppm=-10", "ppm=0,iqgain=-1,iqphase=2"},                        // -10 ppm
		{"ppm=5", "ppm=5,dc=0-0.01i"},                                   // 0 ppm
		{"ppm=40", "ppm=39.5,snr=20,channel=tdl-b,ds=50,doppler=50"},    // +0.5 ppm, fading
		{"ppm=-33.3", "ppm=0,iqgain=0.1,iqphase=0.5,bits=12,txbits=12"}, // -33.3 ppm, 12 bits
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.tx, tt.rx), func(t *testing.T) {
			t.Parallel()
			tx, rx := openPair(t, uint64(i+1), "loopback:hackrf,"+tt.tx, "loopback:hackrf,"+tt.rx)
			p, err := Run(context.Background(), tx, rx, Config{Seed: uint64(i)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := rx.(*loopback.Device).Params()
			ppm := truePPM(tx, rx)
			f := p.FrequencyError
			checks := []struct {
				name      string
				got, want float64
				tol       float64
			}{
				{"ppm", f.PPM, ppm, 0.5},
				{"ppm by LTF", f.LTF.Value, ppm, 0.5},
				{"ppm by tone", f.Tone.Value, ppm, 0.5},
				{"sample clock ppm", f.SampleClockPPM, ppm, 0.5},
				{"DC I", p.DC.I, real(want.DC), 0.01},
				{"DC Q", p.DC.Q, imag(want.DC), 0.01},
				{"IQ gain dB", p.IQ.GainDB, want.IQGain, 0.1},
				{"IQ phase deg", p.IQ.PhaseDeg, want.IQPhase, 0.5},
				{"mirror IQ gain dB", p.IQ.Mirror.GainDB, want.IQGain, 0.1},
				{"mirror IQ phase deg", p.IQ.Mirror.PhaseDeg, want.IQPhase, 0.5},
			}
			if p.IQ.Method == IQMoment {
				checks = append(checks,
					struct {
						name      string
						got, want float64
						tol       float64
					}{"moment IQ gain dB", p.IQ.Moment.GainDB, want.IQGain, 0.1},
					struct {
						name      string
						got, want float64
						tol       float64
					}{"moment IQ phase deg", p.IQ.Moment.PhaseDeg, want.IQPhase, 0.5})
			}
			for _, c := range checks {
				t.Logf("%s: measured %.4f, set %.4f", c.name, c.got, c.want)
				if !(math.Abs(c.got-c.want) <= c.tol) {
					t.Errorf("%s: measured %.4f, set %.4f (tolerance %g)", c.name, c.got, c.want, c.tol)
				}
			}
			// The standard errors are honest: the tone's error within 5 of them (plus
			// 0.002 ppm for the phase noise's slow wander).
			if d := math.Abs(f.Tone.Value - ppm); d > 5*f.Tone.SE+0.002 {
				t.Errorf("tone: error %.4f ppm against a standard error of %.4f", d, f.Tone.SE)
			}
			if d := math.Abs(f.LTF.Value - ppm); d > 5*f.LTF.SE+0.002 {
				t.Errorf("LTF: error %.4f ppm against a standard error of %.4f", d, f.LTF.SE)
			}
			if p.Gains.PeakDBFS >= 20*math.Log10(ClipLevel) {
				t.Errorf("chosen gains clip: peak %.2f dBFS", p.Gains.PeakDBFS)
			}
			t.Logf("method %s, gains tx %v rx %v, level %.1f dBFS, EVM %.1f dB, SNR %.1f dB, delay spread %.0f ns, notes %q",
				p.IQ.Method, p.Gains.TX, p.Gains.RX, p.Gains.LevelDBFS, p.Channel.EVMDB, p.Channel.SNRDB, p.Channel.DelaySpreadNS, p.Notes)
		})
	}
}

// perCrossing returns the SNR at which PER falls through 10%, interpolating log10(PER)
// linearly between the points either side; NaN if it never does within snrs.
func perCrossing(snrs, per []float64) float64 {
	const level = 0.1
	for i := 1; i < len(snrs); i++ {
		if per[i-1] > level && per[i] <= level {
			a, b := math.Log10(per[i-1]), math.Log10(math.Max(per[i], 1e-4))
			return snrs[i-1] + (snrs[i]-snrs[i-1])*(a-math.Log10(level))/(a-b)
		}
	}
	if len(per) > 0 && per[0] <= level {
		return math.Inf(-1)
	}
	return math.NaN()
}

// After its profile is applied, a link with strong impairments (40 ppm between the
// oscillators, 0.02-0.01i DC, 1 dB and 5 degrees of I/Q imbalance: -23 dB image
// rejection, which alone costs 64-QAM several dB) reaches 54 Mbit/s within 1 dB of the
// unimpaired link (the hackrf preset with ppm, DC and I/Q imbalance zero; converters,
// phase noise and thermal noise as before).
//
// Method: PER of 300 frames of 1000 octets at 17..22 dB SNR on both links, and the SNR
// at which each falls through 10% (log-linear interpolation). At 10% PER the count's
// standard deviation is 1.7 percentage points, which the steep curve (about 25% per dB)
// turns into about 0.1 dB: the 1 dB bound has ample room. Both links must also show
// no more than 1% PER at 25 dB, and the uncorrected link must cross more than 1 dB
// later than the unimpaired one, or the test would show nothing. The profile's corrections are applied at the receiver,
// its gains are not: the SNR axis is the simulator's, at the default gains.
func TestProfileRestoresPER(t *testing.T) {
	if testing.Short() {
		t.Skip("PER sweep")
	}
	const (
		txImp = "loopback:hackrf,ppm=20"
		rxImp = "loopback:hackrf,ppm=-20,dc=0.02-0.01i,iqgain=1,iqphase=5"
		txRef = "loopback:hackrf,ppm=0"
		rxRef = "loopback:hackrf,ppm=0,dc=0,iqgain=0,iqphase=0"
	)
	tx, rx := openPair(t, 11, txImp, rxImp)
	p, err := Run(context.Background(), tx, rx, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rate, _ := phy.RateByMbps(54)
	snrs := []float64{17, 18, 19, 20, 21, 22, 25}
	perOf := func(txSpec, rxSpec string, prof *Profile) []float64 {
		var out []float64
		for i, snr := range snrs {
			tx, rx := openPair(t, uint64(100+i), txSpec, fmt.Sprintf("%s,snr=%g", rxSpec, snr))
			if prof != nil {
				rx = prof.CorrectRX(rx)
			}
			res, err := per.Run(context.Background(), tx, rx, per.Config{Rate: rate, PSDULen: 1000, Frames: 300, Seed: uint64(i)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, res.PER)
		}
		return out
	}
	ref := perOf(txRef, rxRef, nil)
	cor := perOf(txImp, rxImp, p)
	raw := perOf(txImp, rxImp, nil)
	t.Logf("SNR dB:      %v", snrs)
	t.Logf("unimpaired:  %v", ref)
	t.Logf("corrected:   %v", cor)
	t.Logf("uncorrected: %v", raw)
	n := len(snrs) - 1 // the last point is 25 dB
	cRef, cCor, cRaw := perCrossing(snrs[:n], ref[:n]), perCrossing(snrs[:n], cor[:n]), perCrossing(snrs[:n], raw[:n])
	t.Logf("PER 10%% at %.2f dB unimpaired, %.2f dB corrected, %.2f dB uncorrected", cRef, cCor, cRaw)
	if math.IsNaN(cRef) || math.IsInf(cRef, 0) || math.IsNaN(cCor) || math.IsInf(cCor, 0) {
		t.Fatalf("PER does not fall through 10%% within %v dB", snrs[:n])
	}
	if d := cRaw - cRef; !(d > 1) {
		t.Errorf("uncorrected, the impairments cost only %.2f dB: the comparison proves nothing", d)
	}
	if d := cCor - cRef; d > 1 {
		t.Errorf("corrected link needs %.2f dB more than the unimpaired one for 10%% PER (bound 1 dB)", d)
	}
	if ref[n] > 0.01 || cor[n] > 0.01 {
		t.Errorf("PER at 25 dB: unimpaired %.3f, corrected %.3f; want both <= 0.01", ref[n], cor[n])
	}
}

// An ideal wire (no noise, no converters) and a plain simulated radio calibrate
// without error; the profile is valid and says there is nothing to correct.
func TestRunIdealLink(t *testing.T) {
	tx, rx := openPair(t, 3, "loopback", "loopback")
	p, err := Run(context.Background(), tx, rx, Config{Frames: 20, ToneSamples: 1 << 14, IdleSamples: 1 << 12, NoiseSamples: 1 << 14}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(p.FrequencyError.PPM) > 1e-3 || p.DC.I != 0 || p.DC.Q != 0 || p.IQ.Method == IQMoment {
		t.Errorf("ideal link: ppm %g, DC %g%+gi, I/Q %s", p.FrequencyError.PPM, p.DC.I, p.DC.Q, p.IQ.Method)
	}
	// Without noise the mirror estimate still scatters with the data: 20 frames give
	// about 0.01 dB and 0.1 degrees of standard error.
	if e := p.IQ.Mirror; math.Abs(e.GainDB) > 4*e.GainDBSE+0.005 || math.Abs(e.PhaseDeg) > 4*e.PhaseDegSE+0.02 {
		t.Errorf("ideal link: I/Q %+v", e)
	}
	if p.Channel.DelaySpreadNS > 5 {
		t.Errorf("ideal link: delay spread %g ns", p.Channel.DelaySpreadNS)
	}
	if err := p.Validate(); err != nil {
		t.Error(err)
	}
}

// Run stops promptly when its context is cancelled, with the context's cause.
func TestRunCancelled(t *testing.T) {
	tx, rx := openPair(t, 4, "loopback:hackrf", "loopback:hackrf")
	cause := errors.New("operator stop")
	ctx, cancel := context.WithCancelCause(context.Background())
	start := time.Now()
	_, err := Run(ctx, tx, rx, Config{}, func(stage string, f float64) {
		if stage == StageNoise {
			cancel(cause)
		}
	})
	if !errors.Is(err, cause) {
		t.Errorf("error %v, want the cause %v", err, cause)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

// Progress runs from 0 to 1 through the stages in order, never backwards.
func TestRunProgress(t *testing.T) {
	tx, rx := openPair(t, 5, "loopback:hackrf", "loopback:hackrf")
	var stages []string
	last := -1.0
	_, err := Run(context.Background(), tx, rx, Config{Frames: 16, Gains: GainFixed}, func(stage string, f float64) {
		if f < last || f < 0 || f > 1 {
			t.Errorf("progress %g after %g", f, last)
		}
		last = f
		if len(stages) == 0 || stages[len(stages)-1] != stage {
			stages = append(stages, stage)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{StageGains, StageDC, StageNoise, StageFrames, StageTone, StageChannel}
	if fmt.Sprint(stages) != fmt.Sprint(want) || last != 1 {
		t.Errorf("stages %q ending at %g, want %q ending at 1", stages, last, want)
	}
}

// Every invalid configuration and device pairing is refused before anything is sent.
func TestRunInvalid(t *testing.T) {
	tx, rx := openPair(t, 6, "loopback:hackrf", "loopback:hackrf")
	for _, c := range []Config{
		{Frames: 3},
		{SampleRate: -1},
		{Frequency: math.Inf(1)},
		{ToneSamples: 100},
		{IdleSamples: 10},
		{NoiseSamples: 10},
		{SweepFrames: -1},
		{Gains: GainMode(7)},
		{TargetLevel: 3},
		{SampleRate: 40e6},                      // beyond the simulated HackRF's 20 Msps
		{RXGains: map[string]float64{"lna": 7}}, // not on the 8 dB grid
		{TXGains: map[string]float64{"bogus": 1}},
	} {
		if _, err := Run(context.Background(), tx, rx, c, nil); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
