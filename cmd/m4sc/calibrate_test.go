package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/calibration"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio/devices"
	"github.com/m4sc/m4sc/radio/sigmf"
	"go.yaml.in/yaml/v3"
)

// recordThroughPair sends n 802.11a frames from the first to the second loopback
// device a Manager with this seed opens, as `m4sc --seed seed` opens them, and writes what
// the receiver got to a SigMF recording.
func recordThroughPair(t *testing.T, seed uint64, txSpec, rxSpec, path string, n int) {
	t.Helper()
	m := devices.New(devices.Options{Seed: seed})
	ctx := context.Background()
	tx, err := m.Open(ctx, txSpec)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	rx, err := m.Open(ctx, rxSpec)
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tr, err := phy.NewTransmitter(phy.TransmitterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rate, _ := phy.RateByMbps(54)
	burst := make([]complex64, 1000)
	for i := range n {
		psdu := phy.AppendFCS([]byte(strings.Repeat(string(rune('a'+i%26)), 300)))
		burst = tr.Packet(burst, psdu, rate, uint8(1+i))
		burst = append(burst, make([]complex64, 500)...)
	}
	ts, err := tx.StartTX(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Write(burst); err != nil {
		t.Fatal(err)
	}
	rs, err := rx.StartRX(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ts.Close()
	y := make([]complex64, len(burst)+25000)
	for got := 0; got < len(y); {
		k, _, err := rs.Read(y[got:])
		if err != nil {
			t.Fatal(err)
		}
		got += k
	}
	rs.Close()
	w, err := sigmf.Create(path, sigmf.WriteOptions{Datatype: sigmf.CF32LE, SampleRate: 20e6, Frequency: 2.45e9})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(y); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// rxFrames runs `m4sc phy rx` with args and returns its frame lines.
func rxFrames(t *testing.T, args ...string) []rxLine {
	t.Helper()
	code, out, errOut := runM4sc(t, append([]string{"phy", "rx"}, args...)...)
	if code != 0 {
		t.Fatalf("phy rx %v: exit %d: %s", args, code, errOut)
	}
	var frames []rxLine
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.Contains(line, `"summary"`) {
			continue
		}
		var f rxLine
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		frames = append(frames, f)
	}
	return frames
}

// `m4sc calibrate` on the simulated HackRF pair writes a profile with the simulator's
// impairments, and `m4sc phy rx --profile` applies it: a recording made through the
// same simulated pair decodes with its carrier offset removed.
func TestCalibrateCommand(t *testing.T) {
	wd := isolate(t)
	prof := filepath.Join(wd, "p.yaml")
	code, out, errOut := runM4sc(t, "--seed", "7", "calibrate", "--tx", "loopback:hackrf", "--rx", "loopback:hackrf", "--out", prof)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"frequency error (ppm)", "by CW tone", "DC offset I", "I/Q phase (deg)", "receive gains (dB)",
		"RMS delay spread (ns)", "simulator setting", "profile written to " + prof} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	// stderr is not a terminal here, as in a log file: plain lines, no frames.
	if strings.Contains(errOut, "\r") || !strings.Contains(errOut, "calibrate: done after ") {
		t.Errorf("progress in a log:\n%q", errOut)
	}
	p, err := calibration.Load(prof)
	if err != nil {
		t.Fatal(err)
	}
	// The same seed opens the same simulated pair, with the same oscillator errors.
	rec := filepath.Join(wd, "rec.sigmf-meta")
	recordThroughPair(t, 7, "loopback:hackrf", "loopback:hackrf", rec, 20)
	raw := rxFrames(t, "--in", rec)
	cor := rxFrames(t, "--in", rec, "--profile", prof)
	if len(raw) != 20 || len(cor) != 20 {
		t.Fatalf("%d frames without the profile, %d with it; want 20", len(raw), len(cor))
	}
	offset := p.FrequencyError.CarrierOffset
	if math.Abs(offset) < 1000 {
		t.Fatalf("the simulated pair is off by only %g Hz: nothing to see", offset)
	}
	for i := range cor {
		if !raw[i].FCSOK || !cor[i].FCSOK {
			t.Errorf("frame %d: FCS ok %v without the profile, %v with it", i, raw[i].FCSOK, cor[i].FCSOK)
		}
		// Each frame's own estimate scatters by about 200 Hz at 30 dB; the profile's
		// offset is good to a few Hz.
		if math.Abs(raw[i].CFO-offset) > 1000 || math.Abs(cor[i].CFO) > 1000 {
			t.Errorf("frame %d: carrier offset %g Hz without the profile (profile says %g), %g Hz with it", i, raw[i].CFO, offset, cor[i].CFO)
		}
	}
	// `m4sc phy per --profile` corrects its receivers.
	code, out, errOut = runM4sc(t, "phy", "per", "--rate", "54", "--snr", "25", "--frames", "20", "--profile", prof)
	if code != 0 || !strings.Contains(out, "receiver corrected by a calibration profile") {
		t.Errorf("phy per --profile: exit %d, %s\n%s", code, out, errOut)
	}
	// An ideal recording made by `m4sc phy tx` decodes with the profile too (the
	// correction then adds the opposite offset, which the receiver removes).
	pkt := filepath.Join(wd, "pkt.sigmf-meta")
	if code, _, errOut := runM4sc(t, "phy", "tx", "--rate", "54", "--psdu", strings.Repeat("5a", 200), "--out", pkt); code != 0 {
		t.Fatal(errOut)
	}
	if f := rxFrames(t, "--in", pkt, "--profile", prof); len(f) != 1 || f[0].PSDU != strings.Repeat("5a", 200) || math.Abs(f[0].CFO+offset) > 1000 {
		t.Errorf("ideal packet with the profile: %+v (want the offset %g Hz removed, so %g seen)", f, offset, -offset)
	}
}

// A bad profile, a missing one, or a calibration that cannot run are errors.
func TestCalibrateErrors(t *testing.T) {
	wd := isolate(t)
	bad := filepath.Join(wd, "bad.yaml")
	good := filepath.Join(wd, "good.yaml")
	if code, _, errOut := runM4sc(t, "calibrate", "--out", good); code != 0 {
		t.Fatalf("calibrate with the defaults: %s", errOut)
	}
	p, err := calibration.Load(good)
	if err != nil {
		t.Fatal(err)
	}
	p.IQ.PhaseDeg = 50
	data, err := yaml.Marshal(p) // a profile with one field out of range
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"phy", "rx", "--in", good, "--profile", bad}, "iq.phase_deg"},
		{[]string{"phy", "rx", "--in", good, "--profile", filepath.Join(wd, "missing.yaml")}, "missing.yaml"},
		{[]string{"phy", "per", "--snr", "20", "--frames", "1", "--profile", bad}, "iq.phase_deg"},
		{[]string{"calibrate", "--tx", "loopback", "--rx", "loopback,air=elsewhere", "--frames", "4"}, "no frame from loopback reached"},
		{[]string{"calibrate", "--frames", "2"}, "--frames"},
		{[]string{"calibrate", "--out", ""}, "--out"},
		{[]string{"calibrate", "extra"}, "unknown command"},
	} {
		code, _, errOut := runM4sc(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error naming %q", c.args, code, errOut, c.want)
		}
	}
}
