package tokenizer

import (
	"strings"
	"testing"
)

// A vocabulary smaller than the specials and the bytes says how large it must be.
func TestTrainVocabTooSmall(t *testing.T) {
	_, err := Train([]string{"we the people"}, 100, DefaultSpecials)
	want := "vocabulary size 100 is below 266, the 10 special tokens and the 256 byte tokens"
	if len(DefaultSpecials) != 10 {
		t.Fatalf("%d specials; update the expected message", len(DefaultSpecials))
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}
