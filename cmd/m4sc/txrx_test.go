package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/internal/atomicfile"
	"github.com/m4sc/m4sc/radio/sigmf"
)

// m4sc tx replays a recording into another recording (a file device) that phy rx then
// decodes, and m4sc rx records from the simulator.
func TestTxRx(t *testing.T) {
	wd := isolate(t)
	pkt := filepath.Join(wd, "pkt.sigmf-meta")
	if code, _, e := runM4sc(t, "phy", "tx", "--rate", "12", "--psdu", strings.Repeat("ab", 60), "--out", pkt); code != 0 {
		t.Fatal(e)
	}
	rep := filepath.Join(wd, "rep.sigmf-meta")
	code, out, e := runM4sc(t, "tx", "--device", "file:"+rep, "--in", pkt, "--repeat", "4")
	if code != 0 || !strings.Contains(out, "4 x ") {
		t.Fatalf("tx: %d %s %s", code, out, e)
	}
	code, out, e = runM4sc(t, "phy", "rx", "--in", rep)
	if code != 0 || !strings.Contains(out, `"decoded":4`) {
		t.Fatalf("phy rx of the replay: %d %s %s", code, out, e)
	}
	rec := filepath.Join(wd, "rec.sigmf-meta")
	code, out, e = runM4sc(t, "rx", "--device", "loopback:hackrf", "--out", rec, "--seconds", "0.005")
	if code != 0 || !strings.Contains(out, "recorded 100000 samples") {
		t.Fatalf("rx: %d %s %s", code, out, e)
	}
	for _, args := range [][]string{{"rx", "--device", "loopback"}, {"tx", "--device", "loopback"}, {"rx", "--out", rec, "--seconds", "-1"}} {
		if code, _, _ := runM4sc(t, args...); code == 0 {
			t.Errorf("%v succeeded", args)
		}
	}
}

// m4sc tx to a file device writes a recording: an existing one (either file of
// the pair, or the pair named by its base name) is replaced only with --force,
// and one being written by another process is not written at the same time.
func TestTxFileNotReplacedWithoutForce(t *testing.T) {
	wd := isolate(t)
	pkt := filepath.Join(wd, "pkt.sigmf-meta")
	if code, _, e := runM4sc(t, "phy", "tx", "--rate", "12", "--psdu", "00112233", "--out", pkt); code != 0 {
		t.Fatal(e)
	}
	old, err := os.ReadFile(pkt)
	if err != nil {
		t.Fatal(err)
	}
	const junk = "precious"
	for _, f := range []string{"d.sigmf-data", "b.sigmf-meta", "c.cs8"} {
		if err := os.WriteFile(filepath.Join(wd, f), []byte(junk), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ device, exists string }{
		{"file:" + pkt, pkt},                    // onto its own input
		{"file:d.sigmf-meta", "d.sigmf-data"},   // a lone data file
		{"file:b,datatype=ci8", "b.sigmf-meta"}, // the base name of a pair
		{"file:c.cs8", "c.cs8"},                 // a raw file
		{"file:./c.cs8,loop=false", "./c.cs8"},  // with keys
	} {
		code, out, errOut := runM4sc(t, "tx", "--device", tc.device, "--in", pkt)
		if code == 0 || !strings.Contains(errOut, "--device: "+tc.exists+" exists; add --force to replace it") || out != "" {
			t.Errorf("tx --device %s: exit %d, stdout %q, stderr %q", tc.device, code, out, errOut)
		}
	}
	if b, _ := os.ReadFile(pkt); string(b) != string(old) {
		t.Error("the input recording was changed")
	}
	for _, f := range []string{"d.sigmf-data", "b.sigmf-meta", "c.cs8"} {
		if b, _ := os.ReadFile(filepath.Join(wd, f)); string(b) != junk {
			t.Errorf("%s was changed", f)
		}
	}
	if code, _, errOut := runM4sc(t, "tx", "--device", "file:dir/", "--in", pkt); code == 0 || !strings.Contains(errOut, "directory") {
		t.Errorf("tx --device file:dir/: exit %d, stderr %q", code, errOut)
	}

	// A new recording, then the same one again with --force.
	rep := filepath.Join(wd, "rep.sigmf-meta")
	for i, args := range [][]string{{}, {"--force"}} {
		code, out, errOut := runM4sc(t, append([]string{"tx", "--device", "file:" + rep, "--in", pkt, "--repeat", "2"}, args...)...)
		if code != 0 || !strings.Contains(out, "2 x ") {
			t.Fatalf("tx %d: exit %d, %s %s", i, code, out, errOut)
		}
	}
	if code, out, errOut := runM4sc(t, "phy", "rx", "--in", rep); code != 0 || !strings.Contains(out, `"decoded":2`) {
		t.Errorf("the replaced recording: exit %d, %s %s", code, out, errOut)
	}

	// Another writer holds the recording: refused in the command line's terms.
	l, err := atomicfile.TryLock(filepath.Join(wd, "rep.sigmf-data"))
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runM4sc(t, "tx", "--device", "file:"+rep, "--in", pkt, "--force")
	l.Unlock()
	if code == 0 || !strings.HasSuffix(errOut, "--device: "+rep+" is being written by another process\n") {
		t.Errorf("tx onto a locked recording: exit %d, stderr %q", code, errOut)
	}
	for _, e := range dirEntries(t, wd) {
		if strings.Contains(e, ".tmp") || strings.HasSuffix(e, ".lock") {
			t.Errorf("left behind: %s", e)
		}
	}
}

// m4sc data info without a fetched cache says how to get the data.
func TestDataInfoWithoutCache(t *testing.T) {
	wd := isolate(t)
	t.Setenv("M4SC_CACHE_DIR", filepath.Join(wd, "empty-cache"))
	code, _, e := runM4sc(t, "data", "info")
	if code == 0 || !strings.Contains(e, "m4sc data fetch") {
		t.Errorf("exit %d, stderr %q", code, e)
	}
}

func TestTrainStages(t *testing.T) {
	wd := isolate(t)
	t.Setenv("M4SC_CACHE_DIR", filepath.Join(wd, "no-cache"))
	if code, _, e := runM4sc(t, "train", "--stage", "lm"); code == 0 || !strings.Contains(e, "m4sc data fetch") {
		t.Errorf("stage lm without data: exit %d, %q", code, e)
	}
	if code, _, e := runM4sc(t, "train", "--stage", "pretrain"); code == 0 || !strings.Contains(e, "lm, align, instruct") {
		t.Errorf("unknown stage: exit %d, %q", code, e)
	}
	if code, _, e := runM4sc(t, "train", "--out", filepath.Join(wd, "t.json")); code == 0 || !strings.Contains(e, "m4sc data fetch") {
		t.Errorf("without data: exit %d, %q", code, e)
	}
}

// Progress written to a log (stderr not a terminal) is plain lines, one per
// tenth, not carriage-return frames.
func TestProgressInLogs(t *testing.T) {
	isolate(t)
	code, _, errOut := runM4sc(t, "rx", "--device", "loopback", "--out", "r.sigmf-meta", "--seconds", "0.1")
	if code != 0 {
		t.Fatal(errOut)
	}
	if strings.Contains(errOut, "\r") || !strings.Contains(errOut, "/2000000) after ") || !strings.Contains(errOut, "rx: done after ") ||
		strings.Count(errOut, "\n") > 12 {
		t.Errorf("stderr:\n%q", errOut)
	}
	code, _, errOut = runM4sc(t, "phy", "per", "--snr", "20,30", "--rate", "6", "--frames", "2", "--length", "20")
	if code != 0 || strings.Contains(errOut, "\r") || !strings.Contains(errOut, "PER: 50% (1/2) after ") {
		t.Errorf("phy per: exit %d, stderr:\n%q", code, errOut)
	}
}

// tx --device file:X --force replaces X without reading it: damaged metadata
// or another sample rate do not stop it; and a recording written by tx takes
// the rate and frequency of the one sent unless the device string sets them.
func TestTxFileReplaceUnread(t *testing.T) {
	wd := isolate(t)
	pkt := filepath.Join(wd, "pkt.sigmf-meta")
	if code, _, e := runM4sc(t, "phy", "tx", "--rate", "12", "--psdu", "00112233", "--out", pkt); code != 0 {
		t.Fatal(e)
	}
	// A recording at 10 Msps, 915 MHz.
	ten := filepath.Join(wd, "ten.sigmf-meta")
	w, err := sigmf.Create(ten, sigmf.WriteOptions{SampleRate: 10e6, Frequency: 915e6})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]complex64, 1000))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rateOf := func(path string) (float64, float64, int64) {
		t.Helper()
		r, err := sigmf.Open(path, sigmf.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		return r.Meta().Global.SampleRate, r.Meta().Captures[0].Frequency, r.Len()
	}

	x := filepath.Join(wd, "x.sigmf-meta")
	for _, old := range []string{"{bad", "", "ten"} {
		if old == "ten" {
			b, _ := os.ReadFile(ten)
			d, _ := os.ReadFile(filepath.Join(wd, "ten.sigmf-data"))
			os.WriteFile(x, b, 0o644)
			os.WriteFile(filepath.Join(wd, "x.sigmf-data"), d, 0o644)
		} else {
			os.WriteFile(x, []byte(old), 0o644)
		}
		code, out, errOut := runM4sc(t, "tx", "--device", "file:"+x, "--in", pkt, "--force")
		if code != 0 {
			t.Errorf("tx --force over %q: exit %d, %s", old, code, errOut)
			continue
		}
		if code, out, errOut = runM4sc(t, "phy", "rx", "--in", x); code != 0 || !strings.Contains(out, `"decoded":1`) {
			t.Errorf("the replacement of %q: exit %d, %s %s", old, code, out, errOut)
		}
		if rate, _, _ := rateOf(x); rate != 20e6 {
			t.Errorf("the replacement of %q: %g samples/s, want 2e7", old, rate)
		}
	}

	y := filepath.Join(wd, "y.sigmf-meta")
	if code, _, errOut := runM4sc(t, "tx", "--device", "file:"+y, "--in", ten); code != 0 {
		t.Fatalf("tx from a 10 Msps recording: exit %d, %s", code, errOut)
	}
	if rate, freq, n := rateOf(y); rate != 10e6 || freq != 915e6 || n != 1000 {
		t.Errorf("tx from a 10 Msps recording at 915 MHz wrote %d samples at %g samples/s, %g Hz", n, rate, freq)
	}
	code, _, errOut := runM4sc(t, "tx", "--device", "file:"+y+",rate=2M", "--in", ten, "--force")
	if code == 0 || !strings.Contains(errOut, "drop rate= from the device string") {
		t.Errorf("tx to rate=2M from 10 Msps: exit %d, %q", code, errOut)
	}
}

// txRecording reads a file device's string: --force becomes replace=true (the
// device otherwise creates its recording exclusively), a replace key counts as
// --force, and replace=false with --force is refused.
func TestTxRecording(t *testing.T) {
	for _, c := range []struct {
		spec    string
		force   bool
		want    txFile
		wantErr bool
	}{
		{"file:a.sigmf-meta", false, txFile{spec: "file:a.sigmf-meta", path: "a.sigmf-meta"}, false},
		{"file:a.sigmf-meta", true, txFile{spec: "file:a.sigmf-meta,replace=true", path: "a.sigmf-meta", replace: true}, false},
		{"file:a.cs8,rate=2M", true, txFile{spec: "file:a.cs8,rate=2M,replace=true", path: "a.cs8", replace: true, rate: true}, false},
		{"file:a,replace=on,freq=1G", false, txFile{spec: "file:a,replace=on,freq=1G", path: "a", replace: true, freq: true}, false},
		{"file:a,replace=0", false, txFile{spec: "file:a,replace=0", path: "a"}, false},
		{"file:a,replace=false", true, txFile{}, true},
		{"file:a,replace=maybe", true, txFile{spec: "file:a,replace=maybe", path: "a", replace: true}, false}, // the opener explains
		{"loopback:hackrf", true, txFile{spec: "loopback:hackrf"}, false},
		{"file:a,,", true, txFile{spec: "file:a,,"}, false},
	} {
		got, err := txRecording("--device", c.spec, c.force)
		if (err != nil) != c.wantErr || err == nil && got != c.want {
			t.Errorf("txRecording(%q, %v) = %+v, %v; want %+v", c.spec, c.force, got, err, c.want)
		}
	}
}
