package llm

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/m4sc/m4sc/nn"
)

// A negative checkpoint interval is an error, not quietly the default.
func TestTrainRejectsNegativeCheckpointEvery(t *testing.T) {
	m := smallModel(t, ProjectorKAN)
	err := Train(context.Background(), m, &Data{}, TrainOptions{Stage: StageLM, Steps: 1, Batch: 1, LR: 1e-3, CheckpointEvery: -time.Second})
	if err == nil || !strings.Contains(err.Error(), "checkpoint interval -1s is negative") {
		t.Errorf("got %v", err)
	}
}

// NoiseChannel draws per message: with Fraction 1 every message is noisy with its own
// sigma in [0, MaxSigma]; with Fraction 0 the vectors pass unchanged.
func TestNoiseChannel(t *testing.T) {
	const rows, d = 40, 32
	sent := make([]float32, rows*d)
	for i := range sent {
		sent[i] = 1
	}
	msgs := []ChannelMessage{{Task: TextTransmit, Rows: 8}, {Task: ImageVQA, Rows: 16}, {Task: ImageCaption, Rows: 16}}
	g := nn.NewGraph[float32](rand.New(rand.NewPCG(1, 2)))
	x := nn.NewTensor(sent, rows, d)
	if got := (NoiseChannel{MaxSigma: 0.3, Fraction: 0}).Transmit(g, x, msgs); got != x {
		t.Fatal("Fraction 0 changed the vectors")
	}
	out := (NoiseChannel{MaxSigma: 0.3, Fraction: 1}).Transmit(g, x, msgs).Data
	r := 0
	var sigmas []float64
	for _, m := range msgs {
		var ss float64
		for i := r * d; i < (r+m.Rows)*d; i++ {
			e := float64(out[i] - 1)
			ss += e * e
		}
		s := math.Sqrt(ss / float64(m.Rows*d))
		if s == 0 || s > 0.3*1.3 {
			t.Errorf("message at row %d: noise rms %.3f, want in (0, 0.39]", r, s)
		}
		sigmas = append(sigmas, s)
		r += m.Rows
	}
	if sigmas[0] == sigmas[1] || sigmas[1] == sigmas[2] {
		t.Errorf("messages share one sigma: %v", sigmas)
	}
}
