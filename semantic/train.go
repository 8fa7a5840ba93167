package semantic

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/nn"
)

// VectorPool holds real semantic vectors from a trained model for training the codec:
// Text is every token vector of many sentences end to end, Images the vectors of many
// images, each llm.ImageSlots long; both flat [n*dim].
type VectorPool struct {
	Dim    int
	Text   []float32
	Images []float32
}

// MessageVectors is the number of vectors in one training message: an image's, or a
// run of text tokens.
const MessageVectors = llm.ImageSlots

// BuildVectorPool encodes sentences and images with m for TrainCodec.
func BuildVectorPool(ctx context.Context, m *llm.Model, sentences []string, images [][]float32) (*VectorPool, error) {
	p := &VectorPool{Dim: m.Config().SemDim}
	const chunk = 64
	for i := 0; i < len(sentences); i += chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var ins []llm.Input
		for _, s := range sentences[i:min(i+chunk, len(sentences))] {
			for _, part := range m.SplitText(llm.TextTransmit, s) {
				ins = append(ins, llm.Input{Task: llm.TextTransmit, Text: part})
			}
		}
		sems, err := m.EncodeBatch(ins)
		if err != nil {
			return nil, err
		}
		for _, s := range sems {
			p.Text = append(p.Text, s.Vectors...)
		}
	}
	for i := 0; i < len(images); i += chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var ins []llm.Input
		for _, im := range images[i:min(i+chunk, len(images))] {
			ins = append(ins, llm.Input{Task: llm.ImageCaption, Image: im})
		}
		sems, err := m.EncodeBatch(ins)
		if err != nil {
			return nil, err
		}
		for _, s := range sems {
			p.Images = append(p.Images, s.Vectors...)
		}
	}
	if len(p.Text) < MessageVectors*p.Dim || len(p.Images) < MessageVectors*p.Dim {
		return nil, fmt.Errorf("semantic: vector pool of %d text and %d image vectors: too few", len(p.Text)/max(p.Dim, 1), len(p.Images)/max(p.Dim, 1))
	}
	return p, nil
}

// CodecTrainOptions configure TrainCodec.
type CodecTrainOptions struct {
	Steps    int64   // optimiser steps (DefaultCodecSteps)
	Messages int     // messages per bandwidth per step, half text, half images (DefaultCodecMessages)
	LR       float64 // peak learning rate (DefaultCodecLR)
	Seed     uint64
	// SNRMin and SNRMax bound the full-band SNR drawn per message, dB
	// (DefaultSNRMin, DefaultSNRMax).
	SNRMin, SNRMax float64
	// Channels are drawn uniformly per message (default awgn, epa, tdl-c).
	Channels []ChannelKind
	// Erasure is the probability that a message loses a frame's worth of its symbols
	// (a run of 48-symbol OFDM symbols given SNR 0), so the decoder learns to work
	// from what arrives (DefaultErasure).
	Erasure float64

	Checkpoint      string        // file to save to and resume from ("" for none)
	CheckpointEvery time.Duration // how often (default 2 minutes)
	Resume          bool
	Report          func(CodecStepReport)
}

// Defaults of CodecTrainOptions.
const (
	DefaultCodecSteps    = 30000
	DefaultCodecMessages = 8
	DefaultCodecLR       = 2e-3
	DefaultSNRMin        = -5.0
	DefaultSNRMax        = 25.0
	DefaultErasure       = 0.1
)

// CodecStepReport is one step's progress.
type CodecStepReport struct {
	Step, Total int64
	Loss        float64 // mean squared error per real value, over the bandwidths
	LR          float64
	Elapsed     time.Duration
}

// ErrCodecCheckpoint is wrapped when a checkpoint belongs to another run.
var ErrCodecCheckpoint = errors.New("semantic: codec checkpoint of another run")

// TrainCodec trains c to carry pool's vectors over the training channel: each step,
// for every bandwidth, a batch of messages (half runs of text vectors, half images)
// is encoded, power-normalised per message, passed through a channel drawn per message
// (kind, SNR, fading, estimate error, residual phase; a lost frame now and then), and
// decoded; the loss is the mean squared error against the sent vectors.
func TrainCodec(ctx context.Context, c *Codec, pool *VectorPool, o CodecTrainOptions) error {
	if o.Steps == 0 {
		o.Steps = DefaultCodecSteps
	}
	if o.Messages == 0 {
		o.Messages = DefaultCodecMessages
	}
	if o.LR == 0 {
		o.LR = DefaultCodecLR
	}
	if o.SNRMin == 0 && o.SNRMax == 0 {
		o.SNRMin, o.SNRMax = DefaultSNRMin, DefaultSNRMax
	}
	if o.Channels == nil {
		o.Channels = []ChannelKind{ChannelAWGN, ChannelEPA, ChannelTDLC}
	}
	if o.CheckpointEvery == 0 {
		o.CheckpointEvery = 2 * time.Minute
	}
	switch {
	case o.Steps < 1 || o.Messages < 2 || !(o.LR > 0) || !(o.SNRMax >= o.SNRMin) || len(o.Channels) == 0:
		return fmt.Errorf("semantic: codec training: need steps >= 1 (%d), messages >= 2 (%d), lr > 0 (%g), snr range %g..%g, channels", o.Steps, o.Messages, o.LR, o.SNRMin, o.SNRMax)
	case o.Erasure < 0 || o.Erasure > 1:
		return fmt.Errorf("semantic: codec training: erasure probability %g outside [0, 1]", o.Erasure)
	case pool.Dim != c.cfg.SemDim:
		return fmt.Errorf("semantic: codec of %d-real vectors, pool of %d", c.cfg.SemDim, pool.Dim)
	}
	chans := make([]*Channel, len(o.Channels))
	for i, k := range o.Channels {
		var err error
		if chans[i], err = NewChannel(k); err != nil {
			return err
		}
	}
	opt, err := nn.NewAdamW[float32](nn.AdamConfig{LR: o.LR, WeightDecay: 0.01,
		Schedule: nn.Schedule{Kind: nn.WarmupCosine, Warmup: min(100, o.Steps/10), Total: o.Steps, Floor: 0.05}})
	if err != nil {
		return err
	}
	meta := func() map[string]string {
		return map[string]string{"stage": "channel", "seed": strconv.FormatUint(o.Seed, 10),
			"steps": strconv.FormatInt(o.Steps, 10), "messages": strconv.Itoa(o.Messages),
			"lr": strconv.FormatFloat(o.LR, 'g', -1, 64), "codec": c.String()}
	}
	var start int64
	if o.Resume && o.Checkpoint != "" {
		if _, err := os.Stat(o.Checkpoint); err == nil {
			got, err := nn.LoadCheckpoint(o.Checkpoint, c.params, opt)
			if err != nil {
				return err
			}
			want := meta()
			for _, k := range []string{"stage", "seed", "steps", "messages", "lr", "codec"} {
				if got[k] != want[k] {
					return fmt.Errorf("%w: %s has %s=%q, this run %q", ErrCodecCheckpoint, o.Checkpoint, k, got[k], want[k])
				}
			}
			start = opt.Steps()
		}
	}
	save := func() error {
		if o.Checkpoint == "" {
			return nil
		}
		return nn.SaveCheckpoint(o.Checkpoint, c.params, opt, meta())
	}
	g := nn.NewGraph[float32](nil)
	// One batch per bandwidth: Backward, after all three passes, reads each pass's
	// vectors and channel constants, so no pass may reuse another's buffers.
	batches := make(map[int]*codecBatch, len(Bandwidths))
	for _, k := range Bandwidths {
		batches[k] = newCodecBatch(c.cfg.SemDim, o.Messages)
	}
	began, lastSave := time.Now(), time.Now()
	for step := start; step < o.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return errors.Join(err, save())
		}
		rng := rand.New(rand.NewPCG(o.Seed, uint64(step)+0x636f646563))
		g.Reset()
		c.params.ZeroGrad()
		total, loss := c.stepLoss(g, batches, Bandwidths[:], pool, chans, o, rng)
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return fmt.Errorf("semantic: codec training step %d: loss is %v; lower the learning rate (%g)", step, loss, o.LR)
		}
		g.Backward(total)
		c.params.ClipGradNorm(1)
		lr := opt.LR()
		opt.Step(c.params)
		if o.Report != nil {
			o.Report(CodecStepReport{Step: step + 1, Total: o.Steps, Loss: loss, LR: lr, Elapsed: time.Since(began)})
		}
		if time.Since(lastSave) >= o.CheckpointEvery {
			if err := save(); err != nil {
				return err
			}
			lastSave = time.Now()
		}
	}
	return save()
}

// symbolChannel holds what the channel does to each symbol of n vectors at bandwidth
// k, as constant inputs of the graph (see Codec.throughChannel): for each vector the
// encoder's extra inputs and the modality, for each symbol the equalised gain c and
// noise w (x^ = c x + w) and the receiver's view of its SNR rho.
type symbolChannel struct {
	n, k           int
	extra          []float32 // [n, encExtra]
	mod            []float32 // [n, 1]
	gain, noise    []float32 // [n, 2k]: c (re, im) and w (re, im) per symbol
	shrink, logSNR []float32 // [n, 2k] rho/(1+rho) per real, [n, k] ln(1+rho)/4
}

// reset sizes s for n vectors at bandwidth k, reusing its buffers.
func (s *symbolChannel) reset(n, k int) {
	s.n, s.k = n, k
	s.extra, s.mod = grow(s.extra, n*encExtra), grow(s.mod, n)
	s.gain, s.noise = grow(s.gain, n*2*k), grow(s.noise, n*2*k)
	s.shrink, s.logSNR = grow(s.shrink, n*2*k), grow(s.logSNR, n*k)
}

// message fills rows [r0, r0+rows) for one message sent at snr dB over fc, placed as
// Chain.Send places it; payload positions [lostFrom, lostTo) carry nothing.
func (s *symbolChannel) message(r0, rows int, snr float64, image bool, fc *FrameChannel, lostFrom, lostTo int, rng *rand.Rand) {
	k := s.k
	pl := NewPlacement(rows, k)
	for v := range rows {
		r := r0 + v
		s.extra[r*encExtra], s.extra[r*encExtra+1] = snrFeature(snr), modality(image)
		s.mod[r] = modality(image)
		for j := range k {
			pos := pl.Pos(v, j)
			sc := pos % len(fc.Gain)
			gn, sd, rho := fc.Gain[sc], fc.Noise[sc], clampSNR(fc.SNR[sc])
			if pos >= lostFrom && pos < lostTo {
				gn, sd, rho = 0, 0, 0
			}
			q := (r*k + j) * 2
			s.gain[q], s.gain[q+1] = real(gn), imag(gn)
			s.noise[q], s.noise[q+1] = sd*float32(rng.NormFloat64()), sd*float32(rng.NormFloat64())
			sh := rho / (1 + rho)
			s.shrink[q], s.shrink[q+1] = sh, sh
			s.logSNR[r*k+j] = float32(math.Log1p(float64(rho)) / 4)
		}
	}
}

// throughChannel records encoder, channel and decoder for vectors x [n, SemDim]:
// x^ = c x + w per symbol, the receiver's shrink rho/(1+rho), the decoder.
func (c *Codec) throughChannel(g *nn.Graph[float32], x *nn.Tensor[float32], s *symbolChannel) *nn.Tensor[float32] {
	n, k := s.n, s.k
	sym := c.encodeGraph(g, x, nn.NewTensor(s.extra, n, encExtra), k)
	rx := g.Add(g.ComplexMul(sym, nn.NewTensor(s.gain, n, 2*k)), nn.NewTensor(s.noise, n, 2*k))
	rx = g.Mul(rx, nn.NewTensor(s.shrink, n, 2*k))
	feats := g.Concat(-1, rx, nn.NewTensor(s.logSNR, n, k), nn.NewTensor(s.mod, n, 1))
	return c.dec[k].forward(g, feats)
}

// stepLoss draws each bandwidth's batch of ks (in batches, one per bandwidth) and
// records its pass, returning the summed loss to differentiate and the mean loss.
func (c *Codec) stepLoss(g *nn.Graph[float32], batches map[int]*codecBatch, ks []int, pool *VectorPool, chans []*Channel, o CodecTrainOptions, rng *rand.Rand) (*nn.Tensor[float32], float64) {
	var total *nn.Tensor[float32]
	var sum float64
	for _, k := range ks {
		b := batches[k]
		b.draw(pool, k, chans, o, rng)
		l := c.batchLoss(g, b)
		sum += float64(l.Data[0])
		if total == nil {
			total = l
		} else {
			total = g.Add(total, l)
		}
	}
	return total, sum / float64(len(ks))
}

// codecBatch holds one bandwidth's batch: the sent vectors and the drawn channel.
type codecBatch struct {
	dim, msgs, n int
	vecs         []float32 // [n, dim]
	ch           symbolChannel
	fc           FrameChannel
}

func newCodecBatch(dim, msgs int) *codecBatch {
	n := msgs * MessageVectors
	return &codecBatch{dim: dim, msgs: msgs, n: n, vecs: make([]float32, n*dim)}
}

// draw fills the batch for bandwidth k: messages alternate text and image.
func (b *codecBatch) draw(pool *VectorPool, k int, chans []*Channel, o CodecTrainOptions, rng *rand.Rand) {
	d, per := b.dim, MessageVectors
	b.ch.reset(b.n, k)
	l := per * k
	for m := range b.msgs {
		image := m%2 == 1
		dst := b.vecs[m*per*d : (m+1)*per*d]
		if image {
			imgs := len(pool.Images) / (per * d)
			i := rng.IntN(imgs)
			copy(dst, pool.Images[i*per*d:(i+1)*per*d])
		} else {
			tokens := len(pool.Text) / d
			i := rng.IntN(tokens - per + 1)
			copy(dst, pool.Text[i*d:(i+per)*d])
		}
		snr := o.SNRMin + (o.SNRMax-o.SNRMin)*rng.Float64()
		chans[rng.IntN(len(chans))].Draw(&b.fc, snr, rng)
		// A lost frame: a run of OFDM symbols of the payload carries nothing.
		lostFrom, lostTo := -1, -1
		if rng.Float64() < o.Erasure {
			lostFrom = rng.IntN(l)
			lostTo = lostFrom + max(1, l/4)
		}
		b.ch.message(m*per, per, snr, image, &b.fc, lostFrom, lostTo, rng)
	}
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// batchLoss records encoder, channel and decoder for bandwidth k and returns the MSE.
func (c *Codec) batchLoss(g *nn.Graph[float32], b *codecBatch) *nn.Tensor[float32] {
	vecs := nn.NewTensor(b.vecs, b.n, b.dim)
	return g.MSE(c.throughChannel(g, vecs, &b.ch), vecs)
}
