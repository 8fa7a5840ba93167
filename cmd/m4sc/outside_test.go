package main

import (
	"crypto/sha512"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// liquidChannel builds bench/outside/liquid_channel.c, liquid-dsp's channel emulator
// as a command, and returns its path. The test is skipped where no C compiler or
// liquid-dsp is installed (.ci/run installs Debian's libliquid-dev).
func liquidChannel(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("..", "..", "bench", "outside", "liquid_channel.c"))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler: install gcc and libliquid-dev to pass recordings through liquid-dsp's channel")
	}
	if _, err := os.Stat("/usr/include/liquid/liquid.h"); err != nil {
		t.Skip("liquid-dsp is not installed (Debian: libliquid-dev)")
	}
	bin := filepath.Join(t.TempDir(), "liquid_channel")
	if out, err := exec.Command(cc, "-O2", "-o", bin, src, "-lliquid", "-lm").CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", src, err, out)
	}
	return bin
}

// A recording made by m4sc send, passed through a channel that another tool adds
// (liquid-dsp's channel_cccf: 50 kHz carrier offset, three-path multipath within the
// cyclic prefix, white noise at 20 dB, idle air before and after), is found and
// decoded by m4sc receive to what the clean recording gives.
func TestReceiveThroughOutsideChannel(t *testing.T) {
	tool := liquidChannel(t)
	dir := isolate(t)
	cases := []struct {
		name string
		args []string
		recv []string // receive's own flags
	}{
		{"text semantic", []string{"--task", "text.transmit", "--text", "the state of our union is strong and we will keep it so"}, nil},
		{"text digital", []string{"--task", "text.transmit", "--text", "the state of our union is strong and we will keep it so", "--scheme", "digital"}, nil},
		{"caption", []string{"--task", "image.caption", "--scene", "5"}, nil},
		{"vqa", []string{"--task", "image.vqa", "--scene", "9"}, []string{"--question", "how many objects are there?"}},
	}
	sha := regexp.MustCompile(`"core:sha512": "[0-9a-f]+"`)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clean := filepath.Join(dir, c.name+".sigmf-meta")
			if code, out, errOut := runM4sc(t, append([]string{"send", "--out", clean}, c.args...)...); code != 0 {
				t.Fatalf("send: rc %d: %s %s", code, out, errOut)
			}
			code, want, errOut := runM4sc(t, append([]string{"receive", "--in", clean}, c.recv...)...)
			if code != 0 {
				t.Fatalf("receive clean: rc %d: %s", code, errOut)
			}
			// The impaired copy: new samples, and a metadata file whose checksum is theirs.
			base := strings.TrimSuffix(clean, ".sigmf-meta")
			imp := base + "-air"
			if out, err := exec.Command(tool, base+".sigmf-data", imp+".sigmf-data", "20", "0.0157", strings.Repeat("7", i+1)).CombinedOutput(); err != nil {
				t.Fatalf("liquid_channel: %v\n%s", err, out)
			}
			data, err := os.ReadFile(imp + ".sigmf-data")
			if err != nil {
				t.Fatal(err)
			}
			meta, err := os.ReadFile(clean)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha512.Sum512(data)
			meta = sha.ReplaceAll(meta, []byte(`"core:sha512": "`+hex.EncodeToString(sum[:])+`"`))
			if err := os.WriteFile(imp+".sigmf-meta", meta, 0o644); err != nil {
				t.Fatal(err)
			}
			code, got, errOut := runM4sc(t, append([]string{"receive", "--in", imp + ".sigmf-meta"}, c.recv...)...)
			if code != 0 {
				t.Fatalf("receive through the channel: rc %d: %s", code, errOut)
			}
			last := func(s string) string {
				lines := strings.Split(strings.TrimSpace(s), "\n")
				return lines[len(lines)-1]
			}
			if last(got) != last(want) {
				t.Errorf("through liquid-dsp's channel: %q, clean recording: %q\n%s", last(got), last(want), got)
			}
			if !strings.Contains(got, `"frames_lost":0`) || !regexp.MustCompile(`"cfo_hz":(49|50)\d\d\d`).MatchString(got) {
				t.Errorf("receiver's report: %s", got)
			}
		})
	}
}
