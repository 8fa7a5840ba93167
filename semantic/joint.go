package semantic

import (
	"fmt"
	"math/rand/v2"

	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/nn"
)

// JointChannel is the channel codec over the training channel as an llm.Channel:
// with it, llm.Train trains the codec together with the language model, on the
// model's own task losses (joint KAN-LLM-channel coding). Every message of a batch
// draws its bandwidth, channel family, SNR and fading independently, is encoded,
// placed on the payload as Chain.Send places it, passed through the channel the
// receiver would see (equalised symbols and per-subcarrier SNRs, see Channel) and
// decoded; the decoder's output is what the language model's decoder reads.
type JointChannel struct {
	codec *Codec
	chans []*Channel
	o     JointOptions
}

// JointOptions configure a JointChannel; zero values take the defaults of
// CodecTrainOptions (SNR from DefaultSNRMin to DefaultSNRMax dB, every channel
// family, DefaultErasure).
type JointOptions struct {
	SNRMin, SNRMax float64
	Channels       []ChannelKind
	Erasure        float64
	// Bandwidths are drawn uniformly per message (default: all of Bandwidths).
	Bandwidths []int
	// Clean is the share of messages sent over no channel at all (the decoder's
	// input is the sent vector), so the clean-channel figures are kept; default
	// DefaultClean.
	Clean float64
}

// DefaultClean is JointOptions.Clean when it is left at zero.
const DefaultClean = 0.1

// NewJointChannel returns c over the training channel.
func NewJointChannel(c *Codec, o JointOptions) (*JointChannel, error) {
	if o.SNRMin == 0 && o.SNRMax == 0 {
		o.SNRMin, o.SNRMax = DefaultSNRMin, DefaultSNRMax
	}
	if o.Channels == nil {
		o.Channels = []ChannelKind{ChannelAWGN, ChannelEPA, ChannelTDLC}
	}
	if o.Erasure == 0 {
		o.Erasure = DefaultErasure
	}
	if o.Bandwidths == nil {
		o.Bandwidths = Bandwidths[:]
	}
	if o.Clean == 0 {
		o.Clean = DefaultClean
	}
	if !(o.SNRMax >= o.SNRMin) || o.Erasure < 0 || o.Erasure > 1 || o.Clean < 0 || o.Clean > 1 || len(o.Channels) == 0 {
		return nil, fmt.Errorf("semantic: joint channel: SNR %g..%g, erasure %g, clean %g, %d channels", o.SNRMin, o.SNRMax, o.Erasure, o.Clean, len(o.Channels))
	}
	for _, k := range o.Bandwidths {
		if err := validBandwidth(k); err != nil {
			return nil, err
		}
	}
	j := &JointChannel{codec: c, o: o}
	for _, kind := range o.Channels {
		ch, err := NewChannel(kind)
		if err != nil {
			return nil, err
		}
		j.chans = append(j.chans, ch)
	}
	return j, nil
}

// Params are the codec's parameters.
func (j *JointChannel) Params() *nn.Params[float32] { return j.codec.params }

// Transmit implements llm.Channel.
func (j *JointChannel) Transmit(g *nn.Graph[float32], sent *nn.Tensor[float32], msgs []llm.ChannelMessage) *nn.Tensor[float32] {
	rng := g.Rng
	if rng == nil {
		rng = rand.New(rand.NewPCG(0, 0))
	}
	type plan struct {
		k, row0, rows int
		image, clean  bool
		snr           float64
		fc            FrameChannel
		lostFrom      int
		lostTo        int
	}
	plans := make([]plan, len(msgs))
	row := 0
	for i, m := range msgs {
		p := plan{k: j.o.Bandwidths[rng.IntN(len(j.o.Bandwidths))], row0: row, rows: m.Rows, image: m.Task.Image(), lostFrom: -1, lostTo: -1}
		row += m.Rows
		if rng.Float64() < j.o.Clean {
			p.clean = true
			plans[i] = p
			continue
		}
		p.snr = j.o.SNRMin + (j.o.SNRMax-j.o.SNRMin)*rng.Float64()
		j.chans[rng.IntN(len(j.chans))].Draw(&p.fc, p.snr, rng)
		if rng.Float64() < j.o.Erasure {
			l := m.Rows * p.k
			p.lostFrom = rng.IntN(l)
			p.lostTo = p.lostFrom + max(1, l/4)
		}
		plans[i] = p
	}
	if row != sent.Dim(0) {
		panic(fmt.Sprintf("semantic: joint channel: messages of %d rows for %d vectors", row, sent.Dim(0)))
	}
	// One pass per bandwidth over the rows of the messages that drew it; then the
	// decoded rows go back to their places (clean messages pass unchanged).
	var parts []*nn.Tensor[float32]
	order := make([]int, sent.Dim(0)) // order[r] = row of the concatenated parts holding row r
	placed := 0
	var cleanRows []int
	for _, p := range plans {
		if p.clean {
			for r := range p.rows {
				cleanRows = append(cleanRows, p.row0+r)
			}
		}
	}
	if len(cleanRows) > 0 {
		parts = append(parts, g.Gather(sent, cleanRows))
		for i, r := range cleanRows {
			order[r] = placed + i
		}
		placed += len(cleanRows)
	}
	for _, k := range Bandwidths {
		var rows []int
		for _, p := range plans {
			if !p.clean && p.k == k {
				for r := range p.rows {
					rows = append(rows, p.row0+r)
				}
			}
		}
		if len(rows) == 0 {
			continue
		}
		// Each pass keeps its own constants: backward reads them after every pass.
		var sc symbolChannel
		sc.reset(len(rows), k)
		q := 0 // first row of the message within this bandwidth's pass
		for i := range plans {
			p := &plans[i]
			if p.clean || p.k != k {
				continue
			}
			sc.message(q, p.rows, p.snr, p.image, &p.fc, p.lostFrom, p.lostTo, rng)
			q += p.rows
		}
		parts = append(parts, j.codec.throughChannel(g, g.Gather(sent, rows), &sc))
		for i, r := range rows {
			order[r] = placed + i
		}
		placed += len(rows)
	}
	all := parts[0]
	if len(parts) > 1 {
		all = g.Concat(0, parts...)
	}
	return g.Gather(all, order)
}
