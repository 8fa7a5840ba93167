package main

import (
	"os"
	"strings"
	"testing"
)

// TestTrialScoreCLIErrors: trial score without its plan, its recording or --out, and
// trial run with a bad --duration, fail with a message saying what is missing, before
// any model is loaded; --help describes the raw capture it reads.
func TestTrialScoreCLIErrors(t *testing.T) {
	isolate(t)
	plan := "tx: loopback\nrx: loopback\nsteps:\n  - task: image.caption\n    content: {count: 1}\n"
	if err := os.WriteFile("plan.yaml", []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("capture.iq", []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"trial", "score"}, "give the PLAN the recording was sent with and the RECORDING"},
		{[]string{"trial", "score", "capture.iq", "--out", "d"}, "give the PLAN the recording was sent with, then the RECORDING"},
		{[]string{"trial", "score", "plan.yaml", "capture.iq"}, "--out"},
		{[]string{"trial", "score", "nothing.yaml", "capture.iq", "--out", "d"}, "nothing.yaml"},
		{[]string{"trial", "run", "plan.yaml", "--out", "d", "--duration", "-1s"}, "--duration"},
		{[]string{"trial", "run", "plan.yaml", "--out", "d", "--duration", "10ms"}, "soak.duration"},
	} {
		code, _, errOut := runM4sc(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, code, errOut, c.want)
		}
	}
	code, out, _ := runM4sc(t, "trial", "score", "--help")
	for _, s := range []string{"hackrf_transfer", "cs8", ".iq", "--rate", "20 Msps"} {
		if code != 0 || !strings.Contains(out, s) {
			t.Errorf("trial score --help lacks %q:\n%s", s, out)
		}
	}
	code, out, _ = runM4sc(t, "trial", "run", "--help")
	for _, s := range []string{"--stall", "--duration", "soak.jsonl", "within 10%", "disk full"} {
		if code != 0 || !strings.Contains(out, s) {
			t.Errorf("trial run --help lacks %q:\n%s", s, out)
		}
	}
}
