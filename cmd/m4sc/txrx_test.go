package main

import (
	"path/filepath"
	"strings"
	"testing"
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
