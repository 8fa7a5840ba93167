package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/internal/atomicfile"
)

// Every verb that writes a file refuses to replace one that exists, before any
// long work and without touching it, unless given --force.
func TestOutputsNotReplacedWithoutForce(t *testing.T) {
	wd := isolate(t)
	const old = "precious"
	for _, tc := range []struct {
		name  string
		files []string // existing files; the first is the output
		args  []string
	}{
		{"phy tx", []string{"p.sigmf-meta"}, []string{"phy", "tx", "--psdu", "00112233", "--out", "p.sigmf-meta"}},
		{"phy tx over a lone data file", []string{"q.sigmf-data"}, []string{"phy", "tx", "--psdu", "00112233", "--out", "q.sigmf-meta"}},
		{"phy tx raw", []string{"p.cs8"}, []string{"phy", "tx", "--psdu", "00112233", "--out", "p.cs8"}},
		{"rx", []string{"r.sigmf-meta"}, []string{"rx", "--device", "loopback", "--out", "r.sigmf-meta", "--seconds", "0.001"}},
		{"data scene", []string{"s.png"}, []string{"data", "scene", "--seed", "1", "--out", "s.png"}},
		{"ask --out", []string{"o.png"}, []string{"ask", "--task", "image.reconstruct", "--scene", "1", "--out", "o.png"}},
		{"calibrate", []string{"c.yaml"}, []string{"calibrate", "--out", "c.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range tc.files {
				if err := os.WriteFile(filepath.Join(wd, f), []byte(old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, _, errOut := runM4sc(t, tc.args...)
			if code == 0 || !strings.Contains(errOut, "exists; add --force to replace it") {
				t.Errorf("exit %d, stderr %q", code, errOut)
			}
			for _, f := range tc.files {
				if b, _ := os.ReadFile(filepath.Join(wd, f)); string(b) != old {
					t.Errorf("%s was changed", f)
				}
			}
		})
	}
	// With --force they are replaced.
	for _, args := range [][]string{
		{"phy", "tx", "--psdu", "00112233", "--out", "p.sigmf-meta", "--force"},
		{"rx", "--device", "loopback", "--out", "r.sigmf-meta", "--seconds", "0.001", "--force"},
		{"data", "scene", "--seed", "1", "--out", "s.png", "--force"},
	} {
		if code, _, errOut := runM4sc(t, args...); code != 0 {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
	if code, out, errOut := runM4sc(t, "phy", "rx", "--in", "p.sigmf-meta"); code != 0 || !strings.Contains(out, `"decoded":1`) {
		t.Errorf("the replaced recording: exit %d, %s %s", code, out, errOut)
	}
	for _, e := range dirEntries(t, wd) {
		if strings.Contains(e, ".tmp") || strings.HasSuffix(e, ".lock") {
			t.Errorf("left behind: %s", e)
		}
	}
}

// ask --out onto its own --image is refused by name.
func TestAskOutOntoImage(t *testing.T) {
	isolate(t)
	if code, _, errOut := runM4sc(t, "data", "scene", "--seed", "3", "--out", "in.png"); code != 0 {
		t.Fatal(errOut)
	}
	code, _, errOut := runM4sc(t, "ask", "--task", "image.reconstruct", "--image", "in.png", "--out", "./in.png")
	if code == 0 || !strings.Contains(errOut, "--out ./in.png is the --image input; add --force to replace it") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// A recording being written by another process cannot be written at the same
// time: the second writer fails at once and the first one's output stands.
func TestOutputLockedByAnotherWriter(t *testing.T) {
	wd := isolate(t)
	for _, tc := range []struct {
		lock, out string
		args      []string
	}{
		{"r.sigmf-data", "r.sigmf-meta", []string{"rx", "--device", "loopback", "--out", "r.sigmf-meta", "--seconds", "0.001", "--force"}},
		{"p.cf32", "p.cf32", []string{"phy", "tx", "--psdu", "00112233", "--out", "p.cf32"}},
		{"s.png", "s.png", []string{"data", "scene", "--seed", "1", "--out", "s.png"}},
	} {
		l, err := atomicfile.TryLock(filepath.Join(wd, tc.lock))
		if err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runM4sc(t, tc.args...)
		l.Unlock()
		if code == 0 || !strings.HasSuffix(errOut, "m4sc: --out: "+tc.out+" is being written by another process\n") {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, errOut)
		}
	}
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// A bare base name X names a SigMF recording's pair (X.sigmf-meta and
// X.sigmf-data, as sigmf.Create takes it): checkOutput refuses it when either
// file exists, or X itself for a verb that writes X; checkRecordingOutput
// looks at exactly the files sigmf.Create writes.
func TestCheckOutputBaseName(t *testing.T) {
	wd := isolate(t)
	for _, f := range []string{"b.sigmf-meta", "c.sigmf-data", "d", "r.v2", "s.v2.sigmf-data"} {
		if err := os.WriteFile(filepath.Join(wd, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		check  func(flag, path string, force bool) error
		path   string
		exists string // "" when the path is free
	}{
		{checkOutput, "b", "b.sigmf-meta"},
		{checkOutput, "c", "c.sigmf-data"},
		{checkOutput, "d", "d"},
		{checkOutput, "e", ""},
		{checkOutput, "b.sigmf-data", "b.sigmf-meta"},
		{checkOutput, "r.v2", "r.v2"},
		{checkRecordingOutput, "b", "b.sigmf-meta"},
		{checkRecordingOutput, "c", "c.sigmf-data"},
		{checkRecordingOutput, "d", ""},    // the recording is d.sigmf-*
		{checkRecordingOutput, "r.v2", ""}, // r.v2.sigmf-*
		{checkRecordingOutput, "s.v2", "s.v2.sigmf-data"},
	} {
		err := c.check("--out", c.path, false)
		want := ""
		if c.exists != "" {
			want = "--out: " + c.exists + " exists; add --force to replace it"
		}
		if got := fmt.Sprint(err); err == nil && want != "" || err != nil && got != want {
			t.Errorf("%s: %v, want %q", c.path, err, want)
		}
		if err := c.check("--out", c.path, true); err != nil {
			t.Errorf("%s with force: %v", c.path, err)
		}
	}
	if err := checkRecordingOutput("--out", "x.sigmf", false); err == nil {
		t.Error("a SigMF archive: no error")
	}
	// Through the command line: phy tx --out B over a lone B.sigmf-data.
	code, _, errOut := runM4sc(t, "phy", "tx", "--psdu", "00112233", "--out", "c")
	if code == 0 || !strings.Contains(errOut, "--out: c.sigmf-data exists; add --force") {
		t.Errorf("phy tx --out c over c.sigmf-data: exit %d, %q", code, errOut)
	}
}
