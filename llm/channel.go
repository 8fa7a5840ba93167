package llm

import (
	"fmt"

	"github.com/m4sc/m4sc/nn"
)

// Channel stands between the transmitter's semantic vectors and the receiver's
// decoder during training, so the model and a channel code learn together (joint
// source-channel coding); package semantic's channel codec over its simulated channel
// is one. This package knows nothing of radios: it hands the channel the vectors and
// what each run of them is, and decodes what comes back.
type Channel interface {
	// Transmit returns what the decoder receives for sent [rows, SemDim] (unit-RMS
	// semantic vectors), as operations on g so that gradients reach both the channel's
	// parameters and the vectors. msgs lists the messages the rows belong to, in row
	// order: each text input's tokens, then each image's ImageSlots vectors. Random
	// draws come from g.Rng.
	Transmit(g *nn.Graph[float32], sent *nn.Tensor[float32], msgs []ChannelMessage) *nn.Tensor[float32]
	// Params are the channel's trainable parameters (nil for none); their names must
	// not clash with the model's.
	Params() *nn.Params[float32]
}

// ChannelMessage describes one message of a batch's semantic rows.
type ChannelMessage struct {
	Task Task
	Rows int // semantic vectors of the message
}

// NoiseChannel adds white Gaussian noise to the semantic vectors of a random share of
// the messages: the light perturbation StageInstruct trains with so the decoder is not
// brittle. Each message is noisy with probability Fraction, and then every one of its
// values gets noise of one standard deviation drawn uniformly from [0, MaxSigma]. The
// vectors have unit root-mean-square, so sigma is the noise amplitude relative to the
// signal. It has no parameters.
type NoiseChannel struct {
	MaxSigma float64
	Fraction float64
}

// InstructNoise is the channel StageInstruct uses when TrainOptions.Channel is nil:
// half of the messages with sigma up to MaxTrainSigma.
var InstructNoise = NoiseChannel{MaxSigma: MaxTrainSigma, Fraction: 0.5}

// Transmit implements Channel; the draws come from g.Rng, one or two per message in
// message order, then one per value of each noisy message.
func (c NoiseChannel) Transmit(g *nn.Graph[float32], sent *nn.Tensor[float32], msgs []ChannelMessage) *nn.Tensor[float32] {
	rows, d := sent.Dim(0), sent.Dim(1)
	noise := make([]float32, rows*d)
	r := 0
	noisy := false
	for _, msg := range msgs {
		if g.Rng.Float64() < c.Fraction {
			s := g.Rng.Float64() * c.MaxSigma
			for i := r * d; i < (r+msg.Rows)*d; i++ {
				noise[i] = float32(s * g.Rng.NormFloat64())
			}
			noisy = noisy || s > 0
		}
		r += msg.Rows
	}
	if r != rows {
		panic(fmt.Sprintf("llm: NoiseChannel: messages cover %d rows, the vectors have %d", r, rows))
	}
	if !noisy {
		return sent
	}
	return g.Add(sent, nn.NewTensor(noise, rows, d))
}

// Params implements Channel: none.
func (NoiseChannel) Params() *nn.Params[float32] { return nil }
