package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A checkpoint interval that is not positive is refused before anything is loaded.
func TestTrainCheckpointEvery(t *testing.T) {
	wd := isolate(t)
	t.Setenv("M4SC_CACHE_DIR", filepath.Join(wd, "no-cache"))
	for _, every := range []string{"-1s", "0s", "-3m0s"} {
		code, _, stderr := runM4sc(t, "train", "--stage", "lm", "--checkpoint-every", every)
		first, _, _ := strings.Cut(stderr, "\n")
		if code == 0 || !strings.Contains(first, "--checkpoint-every "+every+": want a positive duration (default 3m0s)") {
			t.Errorf("--checkpoint-every %s: exit %d, %q", every, code, first)
		}
	}
}

// A vocabulary too small for the specials and the bytes is named as the problem,
// not blamed on missing data (it was "run m4sc data fetch first" even after a
// fetch).
func TestTrainTokenizerVocab(t *testing.T) {
	wd := isolate(t)
	t.Setenv("M4SC_CACHE_DIR", filepath.Join(wd, "no-cache"))
	for _, vocab := range []string{"100", "0", "-5", "265", "2000000"} {
		code, _, stderr := runM4sc(t, "train", "--stage", "tokenizer", "--vocab", vocab, "--out", filepath.Join(wd, "t.json"))
		first, _, _ := strings.Cut(stderr, "\n")
		if code == 0 || !strings.Contains(first, "--vocab "+vocab+": want 266 (the 10 special tokens and the 256 bytes) to 1048576") || strings.Contains(stderr, "fetch") {
			t.Errorf("--vocab %s: exit %d, %q", vocab, code, first)
		}
	}
	// A good size without data still says what to do.
	code, _, stderr := runM4sc(t, "train", "--stage", "tokenizer", "--vocab", "266", "--out", filepath.Join(wd, "t.json"))
	if code == 0 || !strings.Contains(stderr, "m4sc data fetch") {
		t.Errorf("without data: exit %d, %q", code, stderr)
	}
}
