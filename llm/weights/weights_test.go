package weights

import (
	"errors"
	"testing"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
)

func TestTokenizer(t *testing.T) {
	tok, err := Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != 4096 {
		t.Errorf("vocabulary %d, want 4096", tok.VocabSize())
	}
}

// The embedded model loads, matches the tokenizer and runs every task; trained weights
// reproduce a test sentence word for word (a clean channel, greedy decoding).
func TestEmbeddedModel(t *testing.T) {
	if !HasModel() {
		if _, err := Model(); !errors.Is(err, ErrNoModel) {
			t.Fatalf("no model embedded, yet Model returned %v", err)
		}
		t.Skip("this build embeds no model")
	}
	m, err := Model()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Config().Validate(); err != nil {
		t.Fatal(err)
	}
	sc := dataset.GenerateScene(dataset.SceneTest.Seed(0))
	img := llm.SceneImage(&sc)
	for _, task := range llm.Tasks() {
		in := llm.Input{Task: task, Text: "we will build a stronger economy for every family", Image: img}
		s, err := m.Encode(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.Decode(s, llm.Instruction{Task: task, Question: "how many objects are there?"}, llm.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if task == llm.TextTransmit && out.Text != in.Text {
			t.Errorf("text.transmit: %q came back as %q", in.Text, out.Text)
		}
	}
}
