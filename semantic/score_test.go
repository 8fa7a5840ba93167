package semantic

import (
	"math"
	"testing"

	"github.com/m4sc/m4sc/llm"
)

func TestScore(t *testing.T) {
	ref := make([]float32, llm.ImageSize*llm.ImageSize*llm.ImageChannels)
	for i := range ref {
		ref[i] = float32(i%7) / 6
	}
	for _, c := range []struct {
		name       string
		task       llm.Task
		want, text string
		image      []float32
		score      float64
	}{
		{"text exact", llm.TextTransmit, "We the people", "we the people", nil, 1},
		{"text half", llm.TextTransmit, "we the people", "we", nil, math.Exp(1-3.0/1) * 1}, // brevity penalty of 1 word in 3
		{"answer", llm.ImageVQA, "red", "red", nil, 1},
		{"wrong answer", llm.ImageClassify, "7", "1", nil, 0},
		{"perfect image", llm.ImageReconstruct, "", "", ref, MaxPSNR},
	} {
		got, err := Score(c.task, c.want, ref, c.text, c.image)
		if err != nil || math.Abs(got-c.score) > 1e-9 {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.score)
		}
	}
	// Nothing received scores as a mid-grey image: finite, below the cap.
	if got, err := Score(llm.ImageReconstruct, "", ref, "", nil); err != nil || got <= 0 || got >= MaxPSNR {
		t.Errorf("no image: %v, %v", got, err)
	}
}
