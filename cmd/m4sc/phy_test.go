package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A packet written by `m4sc phy tx` decodes with `m4sc phy rx` at every rate.
func TestPhyTxRxEveryRate(t *testing.T) {
	wd := isolate(t)
	psdu := strings.Repeat("0123456789abcdef", 20) // 160 octets
	for _, rate := range []int{6, 9, 12, 18, 24, 36, 48, 54} {
		out := filepath.Join(wd, fmt.Sprintf("r%d.sigmf-meta", rate))
		if code, _, errOut := runM4sc(t, "phy", "tx", "--rate", fmt.Sprint(rate), "--psdu", psdu, "--out", out); code != 0 {
			t.Fatalf("tx %d: %s", rate, errOut)
		}
		code, stdout, errOut := runM4sc(t, "phy", "rx", "--in", out)
		if code != 0 {
			t.Fatalf("rx %d: %s", rate, errOut)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if len(lines) != 2 {
			t.Fatalf("rate %d: %d lines:\n%s", rate, len(lines), stdout)
		}
		var f struct {
			Rate   int    `json:"rate"`
			Length int    `json:"length"`
			PSDU   string `json:"psdu"`
			Error  string `json:"error"`
		}
		if err := json.Unmarshal([]byte(lines[0]), &f); err != nil {
			t.Fatal(err)
		}
		if f.Rate != rate || f.Length != len(psdu)/2 || f.PSDU != psdu || f.Error != "" {
			t.Errorf("rate %d: decoded %+v", rate, f)
		}
		if !strings.Contains(lines[1], `"summary":true`) {
			t.Errorf("rate %d: no summary line: %s", rate, lines[1])
		}
	}
}

func TestPhyBadInput(t *testing.T) {
	isolate(t)
	for _, args := range [][]string{
		{"phy", "tx", "--rate", "7", "--psdu", "00", "--out", "x.sigmf-meta"},
		{"phy", "tx", "--rate", "6", "--psdu", "zz", "--out", "x.sigmf-meta"},
		{"phy", "tx", "--rate", "6", "--psdu", "00"},
		{"phy", "rx"},
		{"phy", "rx", "--in", "missing.sigmf-meta"},
		{"phy", "per", "--snr", "5:1:1"},
	} {
		if code, _, errOut := runM4sc(t, args...); code == 0 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// phy tx writes every format its help lists, each decoding to the packet; a
// directory is refused by name.
func TestPhyTxEveryFormat(t *testing.T) {
	wd := isolate(t)
	psdu := strings.Repeat("c0ffee", 30)
	for _, out := range []string{"p.sigmf-meta", "q.sigmf-data", "base", "p.cs8", "p.cf32", "p.cfile", "P.CS8"} {
		code, stdout, errOut := runM4sc(t, "phy", "tx", "--rate", "12", "--psdu", psdu, "--out", out)
		if code != 0 || !strings.Contains(stdout, "wrote ") {
			t.Errorf("--out %s: exit %d, %s", out, code, errOut)
			continue
		}
		in := out
		if out == "base" {
			in = "base.sigmf-meta"
		}
		code, stdout, errOut = runM4sc(t, "phy", "rx", "--in", in)
		if code != 0 || !strings.Contains(stdout, `"psdu":"`+psdu+`"`) {
			t.Errorf("phy rx --in %s: exit %d, %s %s", in, code, stdout, errOut)
		}
	}
	if err := os.Mkdir(filepath.Join(wd, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{"dir/", "dir", "missing/"} {
		code, _, errOut := runM4sc(t, "phy", "tx", "--psdu", "00", "--out", out)
		if code == 0 || !strings.Contains(errOut, "directory") {
			t.Errorf("--out %s: exit %d, stderr %q", out, code, errOut)
		}
	}
	if es := dirEntries(t, filepath.Join(wd, "dir")); len(es) != 0 {
		t.Errorf("dir holds %q", es)
	}
}

// --seconds counts samples on every device, exactly, and must be a duration
// above zero and at most a day; for a recording it bounds what is decoded.
func TestPhyRxSeconds(t *testing.T) {
	isolate(t)
	code, out, errOut := runM4sc(t, "phy", "rx", "--device", "loopback:hackrf", "--seconds", "0.02")
	if code != 0 || !strings.Contains(out, `"samples":400000,`) {
		t.Errorf("loopback:hackrf for 0.02 s: exit %d, %s %s", code, out, errOut)
	}
	if code, _, errOut := runM4sc(t, "phy", "tx", "--psdu", "00112233", "--out", "p.sigmf-meta"); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut = runM4sc(t, "phy", "rx", "--in", "p.sigmf-meta", "--seconds", "1e-5")
	if code != 0 || !strings.Contains(out, `"samples":200,`) {
		t.Errorf("recording, --seconds 1e-5: exit %d, %s %s", code, out, errOut)
	}
	for _, v := range []string{"0", "-1", "NaN", "Inf", "-Inf", "1e300", "86401"} {
		for _, args := range [][]string{
			{"phy", "rx", "--device", "loopback", "--seconds", v},
			{"phy", "rx", "--in", "p.sigmf-meta", "--seconds", v},
			{"rx", "--device", "loopback", "--out", "r.sigmf-meta", "--seconds", v},
		} {
			code, _, errOut := runM4sc(t, args...)
			if code == 0 || !strings.Contains(errOut, "--seconds ") || !strings.Contains(errOut, "want a duration in seconds above 0") {
				t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
			}
		}
	}
}

// Interrupted (Ctrl-C), phy rx --in still prints its summary, marked, and fails.
func TestPhyRxInterruptedSummary(t *testing.T) {
	isolate(t)
	if code, _, errOut := runM4sc(t, "phy", "tx", "--psdu", "00112233", "--out", "p.sigmf-meta"); code != 0 {
		t.Fatal(errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"phy", "rx", "--in", "p.sigmf-meta"}, &stdout, &stderr)
	if code == 0 || !strings.Contains(stdout.String(), `"interrupted":true`) || !strings.Contains(stdout.String(), `"summary":true`) ||
		!strings.Contains(stderr.String(), "interrupted after 0 samples") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
