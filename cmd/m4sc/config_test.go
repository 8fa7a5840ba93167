package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/internal/config"
)

// configCases are files whose values have the right types but cannot be used:
// each must fail every verb, config print included, naming the key and the
// file (with the line).
var configCases = []struct{ file, want string }{
	{"loopback: {snr: abc}\n", `loopback.snr: "abc" is not a finite number (from m4sc.yaml:1)`},
	{"loopback:\n  channel: tdl-z\n", "loopback.channel: unknown profile"},
	{"loopback:\n  bogus: 1\n", `loopback.bogus: unknown parameter "bogus"`},
	{"radio:\n  gains:\n    lna: 1000\n", "radio.gains.lna: 1000 is out of range: want 0..40 step 8 dB on loopback:hackrf, hackrf (from m4sc.yaml:3)"},
	{"radio:\n  gains:\n    lna: 12\n", "radio.gains.lna: 12 is out of range"},
	{"radio:\n  gains: {vga: 20, bogus: 5}\n", "radio.gains.bogus: no device has this gain stage (stages: rx, tx, lna, vga, amp, txvga, txamp) (from m4sc.yaml:2)"},
	{"radio:\n  device: usrp\n", `radio.device: radio: device "usrp": unknown driver "usrp"`},
	{"radio:\n  rx: loopback:hackrf,snr=loud\n", `radio.rx: loopback: loopback:hackrf,snr=loud: parameter snr: "loud" is not a finite number (from m4sc.yaml:2)`},
	{"radio:\n  tx: file:x.cs8,loop=foo\n", `radio.tx: devices: file:x.cs8,loop=foo: parameter loop: "foo" is not a boolean`},
	{"radio:\n  device: hackrf:xyz\n", `radio.device: radio: device "hackrf:xyz": serial "xyz"`},
	{"radio:\n  device: loopback:nosuch\n", `radio.device: loopback: unknown preset "nosuch"`},
}

func TestConfigValidatedWhole(t *testing.T) {
	isolate(t)
	for _, tc := range configCases {
		if err := os.WriteFile(config.FileName, []byte(tc.file), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"config", "print"}, {"devices"}, {"phy", "rx", "--in", "x.sigmf-meta"}} {
			code, _, errOut := runM4sc(t, args...)
			if code == 0 || !strings.Contains(errOut, "m4sc: config: "+tc.want) || !strings.Contains(errOut, "(from m4sc.yaml:") {
				t.Errorf("%q, %v: exit %d, stderr %q", tc.file, args, code, errOut)
			}
		}
	}
	// Values that are fine pass, wherever they come from.
	if err := os.WriteFile(config.FileName, []byte("radio:\n  gains: {lna: 16, rx: -3.5, txamp: 14}\n  device: loopback:hackrf,snr=25\nloopback: {channel: epa, ppm: 3}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runM4sc(t, "config", "print"); code != 0 {
		t.Errorf("valid file: %s", errOut)
	}
	t.Setenv("M4SC_LOOPBACK", "snr=abc")
	if code, _, errOut := runM4sc(t, "config", "print"); code == 0 || !strings.Contains(errOut, `loopback.snr: "abc" is not a finite number (from env M4SC_LOOPBACK)`) {
		t.Errorf("bad environment: exit %d, %q", code, errOut)
	}
}

// FuzzConfigFile: any configuration file either fails with an error naming
// the file, or prints a configuration that loads back and prints the same.
func FuzzConfigFile(f *testing.F) {
	for _, tc := range configCases {
		f.Add([]byte(tc.file))
	}
	for _, s := range []string{"", "seed: 3\n", "radio:\n  gains: {lna: 16}\n", "loopback: {snr: 25, channel: epa}\n",
		"radio: {device: 'file:a.sigmf-meta,truncated=yes', rx: 'loopback,air=b'}\n", "radio:\n  gains: lna=8,vga=2\n"} {
		f.Add([]byte(s))
	}
	isolate(f)
	dir := f.TempDir()
	path := filepath.Join(dir, "fuzz.yaml")
	printed := filepath.Join(dir, "printed.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runM4sc(t, "--config", path, "config", "print")
		if code != 0 {
			if !strings.Contains(errOut, path) {
				t.Fatalf("error does not name the file: %q", errOut)
			}
			return
		}
		if err := os.WriteFile(printed, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		code, again, errOut := runM4sc(t, "--config", printed, "config", "print")
		if code != 0 {
			t.Fatalf("printed configuration fails: %s\n%s", errOut, out)
		}
		if values(again) != values(out) {
			t.Fatalf("printed configuration prints differently:\n%s\n---\n%s", out, again)
		}
	})
}

// sourceComment is the comment "m4sc config print" puts after each key.
var sourceComment = regexp.MustCompile(`(?m) # (default|file .*|env .*|flag .*)$`)

// values is the output of "m4sc config print" without the sources.
func values(printed string) string { return sourceComment.ReplaceAllString(printed, "") }
