package tokenizer

import (
	"context"
	"testing"

	"github.com/m4sc/m4sc/dataset"
)

// A tokenizer trained on the sentences as written encodes them in fewer tokens than
// the shipped one, trained lower-cased, does: BPE merges what its training text
// repeats, and the shipped merges never saw a capital.
func TestTrainSOTUCased(t *testing.T) {
	dir := cacheDir(t)
	cased, err := TrainSOTUCased(context.Background(), dir, 0)
	if err != nil {
		t.Skipf("State of the Union data not in the cache %s (run m4sc data fetch): %v", dir, err)
	}
	shipped, err := Load(shippedPath)
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
		b += len(shipped.Encode(s))
	}
	if cased.VocabSize() != DefaultVocabSize || a >= b {
		t.Errorf("cased tokenizer of %d tokens: %d tokens on the cased validation split, the shipped one %d", cased.VocabSize(), a, b)
	}
	t.Logf("cased validation split: %d sentences, %.2f tokens each with the cased tokenizer, %.2f with the shipped one", len(texts), float64(a)/float64(len(texts)), float64(b)/float64(len(texts)))
}
