package main

import (
	"os"
	"strings"
	"testing"
)

// TestTrialCLIErrors: bad plans and bad arguments fail with a message naming what is
// wrong, before any model is loaded.
func TestTrialCLIErrors(t *testing.T) {
	wd := isolate(t)
	bad := "tx: loopback\nrx: loopback\nsteps:\n  - task: image.caption\n    content: {count: 1}\n    snr: [5, loud]\n"
	if err := os.WriteFile("bad.yaml", []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	good := "tx: loopback\nrx: loopback\nsteps:\n  - task: image.caption\n    content: {count: 1}\n    schemes: [semantic, digital]\n"
	if err := os.WriteFile("good.yaml", []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"trial", "check", "bad.yaml"}, "bad.yaml: trial: plan line 6: steps[0].snr[1]: \"loud\" is not a number"},
		{[]string{"trial", "run", "bad.yaml", "--out", "t"}, "steps[0].snr[1]"},
		{[]string{"trial", "run", "good.yaml", "--ci"}, "not both"},
		{[]string{"trial", "run"}, "PLAN"},
		{[]string{"trial", "run", "good.yaml"}, "--out"},
		{[]string{"trial", "replay", wd}, "not a trial directory"},
	} {
		code, _, errOut := runM4sc(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, code, errOut, c.want)
		}
	}
	code, out, errOut := runM4sc(t, "trial", "check", "good.yaml")
	if code != 0 || !strings.HasPrefix(out, "# 2 runs\n") || !strings.Contains(out, "bandwidth: 16") {
		t.Errorf("check: exit %d, %q, %q", code, out, errOut)
	}
}
