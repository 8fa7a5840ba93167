package llm

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/nn"
)

// cacheData loads the training data from the user's cache, skipping the test when it
// has not been fetched.
func cacheData(t testing.TB) *Data {
	t.Helper()
	dir := os.Getenv("M4SC_CACHE_DIR")
	if dir == "" {
		home, err := os.UserCacheDir()
		if err != nil {
			t.Skip("no cache directory")
		}
		dir = filepath.Join(home, "m4sc")
	}
	d, err := LoadData(dir)
	if err != nil {
		t.Skipf("data not fetched (m4sc data fetch): %v", err)
	}
	return d
}

// BenchmarkTrainStep times one optimiser step of the default model on each stage's
// batches (32 examples), reporting decoder tokens per second.
func BenchmarkTrainStep(b *testing.B) {
	d := cacheData(b)
	tok := shippedTokenizer(b)
	for _, st := range Stages {
		b.Run(string(st), func(b *testing.B) {
			m, err := New(DefaultConfig(tok.VocabSize()), tok, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				b.Fatal(err)
			}
			opt, err := nn.NewAdamW[float32](nn.AdamConfig{LR: 1e-3})
			if err != nil {
				b.Fatal(err)
			}
			g := nn.NewGraph[float32](nil)
			var tokens int
			step := 0
			b.ResetTimer()
			for b.Loop() {
				rng := stepRand(1, st, int64(step))
				step++
				exs, err := sampleBatch(d, stageMixtures[st], dataset.Train, 32, nil, rng)
				if err != nil {
					b.Fatal(err)
				}
				bt, err := m.buildBatch(exs)
				if err != nil {
					b.Fatal(err)
				}
				g.Reset()
				m.params.ZeroGrad()
				loss, _ := m.loss(g, bt)
				g.Backward(loss)
				opt.Step(m.params)
				tokens += bt.tokens
			}
			b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e3, "ms/step")
		})
	}
}

// BenchmarkTransmitSentence encodes a 20-word sentence and decodes it greedily
// (text.transmit) with the default architecture: the inference budget is 30 ms on one
// core (run with -cpu 1). Untrained weights would stop at a random <eos>, so decoding
// is forced to the sentence's length: the work is that of a perfect reproduction.
func BenchmarkTransmitSentence(b *testing.B) {
	tok := shippedTokenizer(b)
	m, err := New(DefaultConfig(tok.VocabSize()), tok, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		b.Fatal(err)
	}
	const sentence = "we must work together to build an economy that gives every family in this nation a fair chance at a good life"
	n := len(tok.Encode(sentence))
	b.ReportAllocs()
	for b.Loop() {
		s, err := m.Encode(Input{Task: TextTransmit, Text: sentence})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Decode(s, Instruction{Task: TextTransmit}, DecodeOptions{MaxTokens: n, forceLength: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e3, "ms/sentence")
	b.ReportMetric(float64(n), "tokens")
}
