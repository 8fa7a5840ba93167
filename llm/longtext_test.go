package llm

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// A text longer than MaxText tokens is truncated to what the text encoder's
// positions hold, for every text task, instead of indexing past them.
func TestEncodeLongText(t *testing.T) {
	tok := shippedTokenizer(t)
	cfg := DefaultConfig(tok.VocabSize())
	cfg.Dim, cfg.ImgDim, cfg.Layers, cfg.EncLayers, cfg.ImgLayers = 32, 32, 1, 1, 1
	m, err := New(cfg, tok, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("the union is strong, ", 40)
	for _, task := range []Task{TextTransmit, TextEra} {
		s, err := m.Encode(Input{Task: task, Text: text})
		if err != nil {
			t.Fatalf("%s: %v", task, err)
		}
		if framed := 5 + len(m.taskIDs[task]) + s.N; s.N > cfg.MaxText || framed > cfg.MaxText+8 || s.N < cfg.MaxText-4 {
			t.Errorf("%s: %d semantic vectors, %d encoder positions", task, s.N, framed)
		}
		if _, err := m.Decode(s, Instruction{Task: task}, DecodeOptions{MaxTokens: 2}); err != nil {
			t.Errorf("%s: decode: %v", task, err)
		}
	}
}
