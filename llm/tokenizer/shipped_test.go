package tokenizer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

const shippedPath = "../weights/tokenizer.json"

// The shipped tokenizer loads and round-trips text, with or without the data cache.
func TestShippedTokenizerLoads(t *testing.T) {
	tok, err := Load(shippedPath)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != DefaultVocabSize {
		t.Errorf("vocabulary %d, want %d", tok.VocabSize(), DefaultVocabSize)
	}
	s := "The state of the Union is strong. <task>caption</task> \xff\xfe ünïcödé"
	got, err := tok.Decode(tok.Encode(s))
	if err != nil || got != s {
		t.Errorf("round trip: %q, %v", got, err)
	}
}

// Retraining from the cached data reproduces the shipped file byte for byte.
func TestShippedTokenizerReproduces(t *testing.T) {
	dir := cacheDir(t)
	tok, err := TrainSOTUCased(context.Background(), dir, 0)
	if err != nil {
		t.Skipf("State of the Union data not in the cache %s (run m4sc data fetch): %v", dir, err)
	}
	out := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := tok.Save(out); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(out)
	b, err := os.ReadFile(shippedPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("retrained tokenizer (%d bytes) differs from %s (%d bytes); regenerate it with m4sc train --stage tokenizer", len(a), shippedPath, len(b))
	}
}

// cacheDir is the data cache of the tests that train on the State of the Union:
// $M4SC_CACHE, else m4sc's folder in the user cache directory.
func cacheDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("M4SC_CACHE")
	if dir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			t.Skip("no user cache directory")
		}
		dir = filepath.Join(d, "m4sc")
	}
	return dir
}
