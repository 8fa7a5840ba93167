package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/nn/safetensors"
)

// An unknown --augment is refused before anything is loaded.
func TestTrainAugmentFlag(t *testing.T) {
	wd := isolate(t)
	t.Setenv("M4SC_CACHE_DIR", filepath.Join(wd, "no-cache"))
	for _, v := range []string{"heavy", "", "on"} {
		code, _, stderr := runM4sc(t, "train", "--stage", "align", "--augment", v)
		first, _, _ := strings.Cut(stderr, "\n")
		if code == 0 || !strings.Contains(first, `--augment "`+v+`": realistic or off`) {
			t.Errorf("--augment %q: exit %d, %q", v, code, first)
		}
	}
}

// --from starts the requested stage from a weights file, without the stages before
// it, and records where it started; it is refused for stages it does not apply to
// and for a file that is not there.
func TestTrainFrom(t *testing.T) {
	shipped, err := filepath.Abs("../../llm/weights/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	cache := realCache(t)
	wd := isolate(t)
	t.Setenv("M4SC_CACHE_DIR", cache)
	if code, _, e := runM4sc(t, "train", "--stage", "channel", "--from", shipped); code == 0 || !strings.Contains(e, "--from applies to the lm, align and instruct stages") {
		t.Errorf("--from on the channel stage: exit %d, %q", code, e)
	}
	if code, _, e := runM4sc(t, "train", "--stage", "channel", "--codec-hidden", "0"); code == 0 || !strings.Contains(e, "--codec-hidden 0: want 1 to 4096") {
		t.Errorf("--codec-hidden 0: exit %d, %q", code, e)
	}
	for _, share := range []string{"0", "1.5", "NaN"} {
		if code, _, e := runM4sc(t, "train", "--stage", "channel", "--clean-share", share); code == 0 || !strings.Contains(e, "--clean-share "+share) {
			t.Errorf("--clean-share %s: exit %d, %q", share, code, e)
		}
	}
	if code, _, e := runM4sc(t, "train", "--stage", "instruct", "--from", "missing.safetensors"); code == 0 || !strings.Contains(e, "missing.safetensors") {
		t.Errorf("--from a missing file: exit %d, %q", code, e)
	}
	if code, _, e := runM4sc(t, "train", "--stage", "lm", "--mix", "text.transmit=0.5"); code == 0 || !strings.Contains(e, `not stage "lm"`) {
		t.Errorf("--mix on the lm stage: exit %d, %q", code, e)
	}
	if code, _, e := runM4sc(t, "train", "--stage", "instruct", "--mix", "text.transmit=-2"); code == 0 || !strings.Contains(e, "--mix") || !strings.Contains(e, "want a number >= 0") {
		t.Errorf("--mix with a negative weight: exit %d, %q", code, e)
	}
	code, out, e := runM4sc(t, "train", "--stage", "instruct", "--from", shipped, "--steps", "2", "--batch", "2", "--augment", "off", "--run-dir", "ft", "--mix", "text.transmit=0.5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	if !strings.Contains(out, "weights written to ft/instruct.safetensors") {
		t.Errorf("stdout %q", out)
	}
	for _, st := range []string{"lm", "align"} {
		if _, err := os.Stat(filepath.Join(wd, "ft", st+".safetensors")); err == nil {
			t.Errorf("stage %s ran before a stage started --from weights", st)
		}
	}
	b, err := os.ReadFile(filepath.Join(wd, "ft", "instruct.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b[:min(len(b), 1<<16)]), shipped) {
		t.Error("the weights do not record the file they started from")
	}
	f, err := safetensors.ReadFile(filepath.Join(wd, "ft", "instruct.safetensors"))
	if err != nil || f.Metadata["mix"] != "text.transmit=0.5" {
		t.Fatalf("the weights do not record the task mix: %v", err)
	}
	for _, part := range []string{"--from " + shipped, "--steps 2", "--batch 2", "--mix text.transmit=0.5", "--augment off"} {
		if !strings.Contains(f.Metadata["command"], part) {
			t.Errorf("command %q leaves out %q", f.Metadata["command"], part)
		}
	}
}
