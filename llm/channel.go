package llm

import "github.com/m4sc/m4sc/nn"

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
