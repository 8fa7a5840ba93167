package tokenizer

import (
	"context"
	"fmt"

	"github.com/m4sc/m4sc/dataset"
)

// SOTUTexts returns the texts of the State of the Union sentences of one
// split, read from the dataset cache in cacheDir (see dataset.ReadSOTU).
func SOTUTexts(cacheDir string, split dataset.Split) ([]string, error) {
	addrs, err := dataset.ReadSOTU(cacheDir)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var texts []string
	for _, s := range dataset.SOTUSentences(addrs) {
		if s.Split == split {
			texts = append(texts, s.Text)
		}
	}
	return texts, nil
}

// TrainSOTU trains the model's tokenizer: vocabSize tokens (DefaultVocabSize
// when 0) with DefaultSpecials on the training split of the State of the
// Union sentences in cacheDir. The result depends only on the data, so
// saving it reproduces the same tokenizer.json byte for byte.
func TrainSOTU(ctx context.Context, cacheDir string, vocabSize int) (*Tokenizer, error) {
	if vocabSize == 0 {
		vocabSize = DefaultVocabSize
	}
	texts, err := SOTUTexts(cacheDir, dataset.Train)
	if err != nil {
		return nil, err
	}
	return TrainContext(ctx, texts, vocabSize, DefaultSpecials)
}
