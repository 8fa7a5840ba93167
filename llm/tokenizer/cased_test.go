package tokenizer

import (
	"context"
	"testing"

	"github.com/m4sc/m4sc/dataset"
)

// A tokenizer trained on the sentences as written (the shipped one) encodes them in
// fewer tokens than one trained lower-cased does: BPE merges what its training text
// repeats, and the lower-cased merges never saw a capital.
func TestTrainSOTUCased(t *testing.T) {
	dir := cacheDir(t)
	cased, err := TrainSOTUCased(context.Background(), dir, 0)
	if err != nil {
		t.Skipf("State of the Union data not in the cache %s (run m4sc data fetch): %v", dir, err)
	}
	lower, err := TrainSOTU(context.Background(), dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	texts, err := sotuTexts(dir, dataset.Validation, true)
	if err != nil {
		t.Fatal(err)
	}
	var a, b int
	for _, s := range texts {
		a += len(cased.Encode(s))
		b += len(lower.Encode(s))
	}
	if cased.VocabSize() != DefaultVocabSize || a >= b {
		t.Errorf("cased tokenizer of %d tokens: %d tokens on the cased validation split, the lower-cased one %d", cased.VocabSize(), a, b)
	}
	t.Logf("cased validation split: %d sentences, %.2f tokens each with the cased tokenizer, %.2f with the lower-cased one", len(texts), float64(a)/float64(len(texts)), float64(b)/float64(len(texts)))
}
