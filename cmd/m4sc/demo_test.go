package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/devices"
	"github.com/m4sc/m4sc/radio/loopback"
	"github.com/m4sc/m4sc/radio/sigmf"
)

// The demo's measurements recover the simulator's settings from the samples alone.
func TestDemoMeasuresTheSimulatedLink(t *testing.T) {
	m := devices.New(devices.Options{Seed: 3})
	ctx := context.Background()
	tx, err := m.Open(ctx, "loopback:hackrf,ppm=-7.5,pn=0")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	rx, err := m.Open(ctx, "loopback:hackrf,ppm=11,pn=0,snr=25,dc=0.02+0.01i,iqgain=0.5,iqphase=3")
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tune := radio.Config{SampleRate: 20e6, Frequency: 2.45e9}
	y, _, err := demoLink(ctx, tx, rx, tune)
	if err != nil {
		t.Fatal(err)
	}
	r := measure(y, tune.SampleRate)
	if !r.found {
		t.Fatal("no burst found")
	}
	p := rx.(*loopback.Device).Params()
	eTx, eRx := -7.5e-6, 11e-6
	// Phase noise is off: a Wiener phase of 2 Hz linewidth alone moves a carrier
	// estimate over these 6.5 ms by about 7 Hz (sqrt(2*pi*2*T)/(2*pi*T)).
	wantCFO := 2.45e9 * (eTx - eRx) / (1 + eRx)
	wantClock := (eTx - eRx) / (1 + eRx) * 1e6
	g, ph := math.Pow(10, p.IQGain/20), p.IQPhase*math.Pi/180
	wantIRR := 10 * math.Log10((1+2*g*math.Cos(ph)+g*g)/(1-2*g*math.Cos(ph)+g*g))
	checks := []struct {
		name      string
		got, want float64
		tol       float64
	}{
		// Tolerances: tone frequencies from 131072 samples at 25 dB SNR are good to a
		// few hundredths of a hertz; the in-burst SNR includes 8-bit quantisation
		// noise of the receiver's ADC (-49.9 dBFS against thermal noise at -43.96: 25 dB
		// becomes 24.0 dB); the transmitter's DAC error on a periodic two-tone signal
		// falls into spurs, which the median estimate ignores, as it ignores the tones
		// and their images; it scatters by about 0.1 dB. DC and image rejection are
		// averages over 10^5 samples.
		{"carrier offset Hz", r.cfoHz, wantCFO, 2},
		{"sample clock ppm", r.clockPPM, wantClock, 0.05},
		{"SNR dB", r.snrDB, 24.0, 0.5},
		{"DC I", real(r.dc), 0.02, 1e-3},
		{"DC Q", imag(r.dc), 0.01, 1e-3},
		{"image rejection dB", r.imageA, wantIRR, 1},
	}
	for _, c := range checks {
		t.Logf("%s: measured %.4f, set %.4f", c.name, c.got, c.want)
		if math.Abs(c.got-c.want) > c.tol {
			t.Errorf("%s: measured %.4f, set %.4f (tolerance %g)", c.name, c.got, c.want, c.tol)
		}
	}
}

// m4sc demo runs end to end through the CLI and writes a readable recording.
func TestDemoCommand(t *testing.T) {
	wd := isolate(t)
	rec := filepath.Join(wd, "demo.sigmf-meta")
	code, out, errOut := runM4sc(t, "demo", "--record", rec)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"loopback:hackrf", "carrier offset (Hz)", "sample clock (ppm)", "SNR (dB)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	r, err := sigmf.Open(rec, sigmf.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Len() != demoLead+demoBurst+demoIdle || len(r.Meta().Annotations) != 1 {
		t.Errorf("recording: %d samples, %d annotations", r.Len(), len(r.Meta().Annotations))
	}
	y := make([]complex64, 10)
	r.Read(y)
}

// demo --record refuses to replace an existing recording, before it runs the
// link and without touching it, unless given --force; a recording that
// appears while the demo runs is not replaced either.
func TestDemoRecordNotReplacedWithoutForce(t *testing.T) {
	wd := isolate(t)
	const old = "precious"
	for _, f := range []string{"a.sigmf-meta", "b.sigmf-data"} {
		if err := os.WriteFile(filepath.Join(wd, f), []byte(old), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, rec := range []string{"a.sigmf-meta", "b.sigmf-meta"} {
		code, out, errOut := runM4sc(t, "demo", "--record", rec)
		if code == 0 || !strings.Contains(errOut, "--record: ") || !strings.Contains(errOut, "exists; add --force to replace it") || out != "" {
			t.Errorf("demo --record %s: exit %d, stdout %q, stderr %q", rec, code, out, errOut)
		}
	}
	for _, rec := range []string{"dir/", "."} {
		if code, _, errOut := runM4sc(t, "demo", "--record", rec); code == 0 || !strings.Contains(errOut, "directory") {
			t.Errorf("demo --record %s: exit %d, stderr %q", rec, code, errOut)
		}
	}

	// The recording is created without replacing what is there by then, and
	// replaced with force.
	y := make([]complex64, 1000)
	path := filepath.Join(wd, "a.sigmf-meta")
	err := writeDemoRecording(path, y, 20e6, 2.45e9, demoResult{}, false)
	if err == nil || !strings.Contains(err.Error(), "--record: ") || !strings.Contains(err.Error(), "exists; add --force to replace it") {
		t.Errorf("writing over a recording without force: %v", err)
	}
	for _, f := range []string{"a.sigmf-meta", "b.sigmf-data"} {
		if b, _ := os.ReadFile(filepath.Join(wd, f)); string(b) != old {
			t.Errorf("%s was changed", f)
		}
	}
	if err := writeDemoRecording(path, y, 20e6, 2.45e9, demoResult{}, true); err != nil {
		t.Fatalf("with force: %v", err)
	}
	r, err := sigmf.Open(path, sigmf.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Len() != int64(len(y)) {
		t.Errorf("the replaced recording holds %d samples, want %d", r.Len(), len(y))
	}
}
