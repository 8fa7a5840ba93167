package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/llm/tokenizer"
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

// The tokenizer stage does not replace an existing file (by default the shipped
// llm/weights/tokenizer.json) without --force, and says so before training.
func TestTrainTokenizerKeepsExistingOutput(t *testing.T) {
	wd := isolate(t)
	t.Setenv("M4SC_CACHE_DIR", filepath.Join(wd, "no-cache"))
	out := filepath.Join(wd, "tokenizer.json")
	if err := os.WriteFile(out, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runM4sc(t, "train", "--stage", "tokenizer", "--out", out)
	if first, _, _ := strings.Cut(stderr, "\n"); code == 0 || !strings.Contains(first, "--out: "+out+" exists; add --force to replace it") {
		t.Errorf("existing --out: exit %d, %q", code, first)
	}
	// The default --out is the shipped tokenizer, relative to the working directory.
	if err := os.MkdirAll(filepath.Join("llm", "weights"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("llm", "weights", "tokenizer.json"), []byte("shipped"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runM4sc(t, "train", "--stage", "tokenizer"); code == 0 || !strings.Contains(stderr, "llm/weights/tokenizer.json exists; add --force") {
		t.Errorf("default --out: exit %d, %q", code, stderr)
	}
	// With --force the check passes (and training then needs the data).
	if code, _, stderr := runM4sc(t, "train", "--stage", "tokenizer", "--out", out, "--force"); code == 0 || !strings.Contains(stderr, "m4sc data fetch") {
		t.Errorf("--force without data: exit %d, %q", code, stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != "keep me" {
		t.Errorf("--out replaced: %q", b)
	}
}

// With the data, --force replaces the file with the trained tokenizer.
func TestTrainTokenizerForce(t *testing.T) {
	cache := realCache(t)
	wd := isolate(t)
	t.Setenv("M4SC_CACHE_DIR", cache)
	out := filepath.Join(wd, "tokenizer.json")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runM4sc(t, "train", "--stage", "tokenizer", "--vocab", "270", "--out", out, "--force")
	if code != 0 || !strings.Contains(stdout, "tokenizer with 270 tokens written to "+out) {
		t.Fatalf("exit %d, %s%s", code, stdout, stderr)
	}
	if _, err := tokenizer.Load(out); err != nil {
		t.Errorf("written tokenizer: %v", err)
	}
}
