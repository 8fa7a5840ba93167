package main

import (
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
