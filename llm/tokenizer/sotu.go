package tokenizer

import (
	"context"
	"fmt"

	"github.com/m4sc/m4sc/dataset"
)

// SOTUTexts returns the texts of the State of the Union sentences of one
// split, read from the dataset cache in cacheDir (see dataset.ReadSOTU).
func SOTUTexts(cacheDir string, split dataset.Split) ([]string, error) {
	return sotuTexts(cacheDir, split, false)
}

// sotuTexts is SOTUTexts, with the sentences as written (dataset.Sentence.Cased)
// when cased is true.
func sotuTexts(cacheDir string, split dataset.Split, cased bool) ([]string, error) {
	addrs, err := dataset.ReadSOTU(cacheDir)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var texts []string
	for _, s := range dataset.SOTUSentences(addrs) {
		if s.Split == split {
			texts = append(texts, s.TextCase(cased))
		}
	}
	return texts, nil
}

// TrainSOTU trains a tokenizer for a model trained lower-cased: vocabSize tokens
// (DefaultVocabSize when 0) with DefaultSpecials on the training split of the
// State of the Union sentences in cacheDir, lower-cased. The result depends only on the data, so
// saving it reproduces the same tokenizer.json byte for byte.
func TrainSOTU(ctx context.Context, cacheDir string, vocabSize int) (*Tokenizer, error) {
	return trainSOTU(ctx, cacheDir, vocabSize, false)
}

// TrainSOTUCased is TrainSOTU on the sentences with their letters' case as written
// (dataset.Sentence.Cased), for a model trained cased. On the training split it
// takes 25.6 tokens a sentence as written, where TrainSOTU's, trained lower-cased,
// takes 24.9 lower-cased and 28.8 as written. The shipped tokenizer is this one.
func TrainSOTUCased(ctx context.Context, cacheDir string, vocabSize int) (*Tokenizer, error) {
	return trainSOTU(ctx, cacheDir, vocabSize, true)
}

func trainSOTU(ctx context.Context, cacheDir string, vocabSize int, cased bool) (*Tokenizer, error) {
	if vocabSize == 0 {
		vocabSize = DefaultVocabSize
	}
	texts, err := sotuTexts(cacheDir, dataset.Train, cased)
	if err != nil {
		return nil, err
	}
	return TrainContext(ctx, texts, vocabSize, DefaultSpecials)
}
