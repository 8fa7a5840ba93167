package semantic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"

	"github.com/m4sc/m4sc/kan"
	"github.com/m4sc/m4sc/nn"
	"github.com/m4sc/m4sc/nn/safetensors"
)

// Bandwidths are the codec's settings of complex channel symbols per semantic vector.
// A text token's vector of 32 reals (16 complex numbers) goes out as 4, 8 or 16
// symbols; an image's 16 vectors of its 32 x 32 x 3 = 3072 pixel values as 64, 128 or
// 256 symbols, bandwidth ratios of 1/48, 1/24 and 1/12 complex symbols per real pixel
// value.
var Bandwidths = [...]int{4, 8, 16}

// Architectures of the codec's networks.
const (
	ArchKAN = "kan" // B-spline KAN layers (package kan): M4SC's choice
	ArchMLP = "mlp" // dense layers with GELU of about the same parameter count: the ablation
)

// CodecConfig describes a codec. The zero value is DefaultCodecConfig's.
type CodecConfig struct {
	SemDim int    `json:"sem_dim"` // reals per semantic vector (llm.DefaultSemDim)
	Hidden int    `json:"hidden"`  // width of the hidden layer of each network (DefaultCodecHidden)
	Arch   string `json:"arch"`    // ArchKAN or ArchMLP
	Grid   int    `json:"grid"`    // KAN grid intervals (kan.DefaultGridSize)
}

// DefaultCodecHidden is the hidden width of the KAN codec's networks.
const DefaultCodecHidden = 64

func (c CodecConfig) withDefaults() CodecConfig {
	if c.SemDim == 0 {
		c.SemDim = 32
	}
	if c.Hidden == 0 {
		c.Hidden = DefaultCodecHidden
	}
	if c.Arch == "" {
		c.Arch = ArchKAN
	}
	if c.Grid == 0 {
		c.Grid = kan.DefaultGridSize
	}
	return c
}

func (c CodecConfig) validate() error {
	switch {
	case c.SemDim < 2 || c.SemDim%2 != 0 || c.SemDim > 1024:
		return fmt.Errorf("semantic: codec sem_dim %d: want an even number from 2 to 1024", c.SemDim)
	case c.Hidden < 1 || c.Hidden > 4096:
		return fmt.Errorf("semantic: codec hidden width %d: want 1 to 4096", c.Hidden)
	case c.Arch != ArchKAN && c.Arch != ArchMLP:
		return fmt.Errorf("semantic: codec architecture %q: want kan or mlp", c.Arch)
	case c.Grid < 1 || c.Grid > 64:
		return fmt.Errorf("semantic: codec KAN grid %d: want 1 to 64", c.Grid)
	}
	return nil
}

// Encoder inputs beside the semantic vector: the SNR hint and the modality.
const encExtra = 2

// encInputs and decInputs are the widths of the networks' inputs for bandwidth k.
func (c CodecConfig) encInputs() int { return c.SemDim + encExtra }
func decInputs(k int) int            { return 3*k + 1 }
func (c CodecConfig) mlpHidden(k int) int {
	// A dense layer in -> h -> out with biases has (in+1)h + (h+1)out parameters; a KAN
	// layer has in*out*(G+Order+2) (coef, base and spline scales). Pick h to match.
	per := c.Grid + kan.DefaultOrder + 2
	match := func(in, out int) int {
		kanParams := in*c.Hidden*per + c.Hidden*out*per
		return max(1, (kanParams-out)/(in+1+out+1))
	}
	return max(match(c.encInputs(), 2*k), match(decInputs(k), c.SemDim))
}

// Codec is the channel codec: per bandwidth k, an encoder network from a semantic
// vector (with the transmitter's SNR hint and the modality) to k complex symbols, and
// a decoder network from k equalised symbols and their subcarriers' SNRs back to a
// semantic vector. Each vector's symbols have unit mean power.
//
// Methods on a Codec are safe for concurrent use once it is built; training goes
// through its Params.
type Codec struct {
	cfg    CodecConfig
	params *nn.Params[float32]
	enc    map[int]network
	dec    map[int]network
	meta   map[string]string
	pool   sync.Pool // *nn.Graph[float32] for inference
}

// network is one of the codec's two-layer networks.
type network interface {
	forward(g *nn.Graph[float32], x *nn.Tensor[float32]) *nn.Tensor[float32]
}

type kanNet struct{ n *kan.Network[float32] }

func (k kanNet) forward(g *nn.Graph[float32], x *nn.Tensor[float32]) *nn.Tensor[float32] {
	return k.n.Forward(g, x)
}

type mlpNet struct{ w1, b1, w2, b2 *nn.Tensor[float32] }

func (m mlpNet) forward(g *nn.Graph[float32], x *nn.Tensor[float32]) *nn.Tensor[float32] {
	h := g.GELU(g.Add(g.MatMul(x, m.w1), m.b1))
	return g.Add(g.MatMul(h, m.w2), m.b2)
}

// NewCodec builds a codec of configuration cfg with weights drawn from rng.
func NewCodec(cfg CodecConfig, rng *rand.Rand) (*Codec, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Codec{cfg: cfg, params: nn.NewParams[float32](), enc: map[int]network{}, dec: map[int]network{}}
	kc := kan.Config{GridSize: cfg.Grid, Min: -3, Max: 3}
	for _, k := range Bandwidths {
		for _, side := range []struct {
			name    string
			in, out int
			nets    map[int]network
		}{
			{fmt.Sprintf("codec/enc%d", k), cfg.encInputs(), 2 * k, c.enc},
			{fmt.Sprintf("codec/dec%d", k), decInputs(k), cfg.SemDim, c.dec},
		} {
			switch cfg.Arch {
			case ArchKAN:
				n, err := kan.NewNetwork[float32](side.name, []int{side.in, cfg.Hidden, side.out}, kc, rng)
				if err != nil {
					return nil, err
				}
				n.AddParams(c.params)
				side.nets[k] = kanNet{n}
			case ArchMLP:
				h := cfg.mlpHidden(k)
				m := mlpNet{
					w1: c.params.Add(side.name+"/w1", nn.XavierUniform(rng, nn.NewParam[float32](nil, side.in, h))),
					b1: c.params.Add(side.name+"/b1", nn.NewParam[float32](nil, h)),
					w2: c.params.Add(side.name+"/w2", nn.XavierUniform(rng, nn.NewParam[float32](nil, h, side.out))),
					b2: c.params.Add(side.name+"/b2", nn.NewParam[float32](nil, side.out)),
				}
				side.nets[k] = m
			}
		}
	}
	c.pool.New = func() any { return nn.NewGraph[float32](nil) }
	return c, nil
}

// Config returns the codec's configuration.
func (c *Codec) Config() CodecConfig { return c.cfg }

// Params returns the codec's parameters, for training and checkpoints.
func (c *Codec) Params() *nn.Params[float32] { return c.params }

// NumParams is the number of trainable values.
func (c *Codec) NumParams() int { return c.params.NumElements() }

// Meta is the provenance metadata of a codec read from a file.
func (c *Codec) Meta() map[string]string { return c.meta }

// NearestBandwidth returns the codec's setting closest to k symbols per vector (the
// smaller one on a tie).
func NearestBandwidth(k float64) int {
	best := Bandwidths[0]
	for _, b := range Bandwidths {
		if math.Abs(float64(b)-k) < math.Abs(float64(best)-k) {
			best = b
		}
	}
	return best
}

func validBandwidth(k int) error {
	if !slices.Contains(Bandwidths[:], k) {
		return fmt.Errorf("semantic: bandwidth of %d symbols per vector: the codec has %v", k, Bandwidths)
	}
	return nil
}

// snrFeature maps an SNR in dB to the encoder's input scale.
func snrFeature(db float64) float32 { return float32(math.Max(-1, math.Min(4, db/10))) }

// modality is the encoder's and decoder's modality input.
func modality(image bool) float32 {
	if image {
		return 1
	}
	return -1
}

// encodeGraph records the encoder for n vectors [n, SemDim] with their extra inputs
// [n, encExtra], giving symbols [n, 2k] (re, im interleaved), each vector's k symbols
// of unit mean power: every vector gets the same energy, so none is starved and a
// message's power is the same whatever its length.
func (c *Codec) encodeGraph(g *nn.Graph[float32], vecs *nn.Tensor[float32], extra *nn.Tensor[float32], k int) *nn.Tensor[float32] {
	x := g.Concat(-1, vecs, extra)
	y := c.enc[k].forward(g, x) // [n, 2k]
	return g.PowerNormalize(y, 1)
}

// MaxSymbolSNR caps the linear SNR the decoder is told a symbol has (35 dB): the
// training channel's SNRs reach about that (25 dB with fading peaks), and a noiseless
// recording's SNR of 140 dB would put the decoder's inputs far outside anything it
// learned from; beyond 35 dB the noise is negligible for the codec anyway.
const MaxSymbolSNR = 3162

// clampSNR maps a reported SNR into [0, MaxSymbolSNR]; NaN counts as lost (0).
func clampSNR(r float32) float32 {
	if !(r > 0) {
		return 0
	}
	return min(r, MaxSymbolSNR)
}

// decoderFeatures fills feats [n, 3k+1] from equalised symbols sym [n*k] and their
// linear SNRs snr [n*k]: each symbol shrunk by rho/(1+rho) (its linear MMSE estimate
// for unit-power symbols), then ln(1+rho)/4 per symbol, then the modality. A symbol
// that never arrived has rho = 0 and contributes nothing.
func decoderFeatures(feats []float32, sym []complex64, snr []float32, n, k int, image bool) {
	w := 3*k + 1
	for i := range n {
		f := feats[i*w : (i+1)*w]
		for j := range k {
			s, r := sym[i*k+j], clampSNR(snr[i*k+j])
			sh := r / (1 + r)
			re, im := real(s)*sh, imag(s)*sh
			if math.IsNaN(float64(re)) || math.IsNaN(float64(im)) {
				re, im = 0, 0
			}
			f[2*j], f[2*j+1] = max(-8, min(8, re)), max(-8, min(8, im))
			f[2*k+j] = float32(math.Log1p(float64(r)) / 4)
		}
		f[3*k] = modality(image)
	}
}

// Encode appends the channel symbols of n vectors (vecs [n*SemDim]) at bandwidth k to
// dst: n*k symbols, vector i's at [i*k, (i+1)*k), each vector's of unit mean power.
// snrHint is the SNR in dB the transmitter expects at the receiver.
func (c *Codec) Encode(dst []complex64, vecs []float32, n, k int, image bool, snrHint float64) ([]complex64, error) {
	if err := validBandwidth(k); err != nil {
		return dst, err
	}
	d := c.cfg.SemDim
	if n < 1 || len(vecs) != n*d {
		return dst, fmt.Errorf("semantic: encode %d values as %d vectors of %d", len(vecs), n, d)
	}
	if math.IsNaN(snrHint) {
		return dst, errors.New("semantic: encode: SNR hint is NaN")
	}
	g := c.pool.Get().(*nn.Graph[float32])
	defer c.pool.Put(g)
	g.Reset()
	extra := make([]float32, n*encExtra)
	for i := range n {
		extra[i*encExtra], extra[i*encExtra+1] = snrFeature(snrHint), modality(image)
	}
	y := c.encodeGraph(g, nn.NewTensor(vecs, n, d), nn.NewTensor(extra, n, encExtra), k)
	for i := 0; i < len(y.Data); i += 2 {
		dst = append(dst, complex(y.Data[i], y.Data[i+1]))
	}
	return dst, nil
}

// Decode appends n vectors (n*SemDim reals) decoded at bandwidth k from sym [n*k]
// equalised symbols, vector i's at [i*k, (i+1)*k), and snr [n*k] the linear SNR of the
// subcarrier each symbol sat on (0 for a symbol that was lost).
func (c *Codec) Decode(dst []float32, sym []complex64, snr []float32, n, k int, image bool) ([]float32, error) {
	if err := validBandwidth(k); err != nil {
		return dst, err
	}
	if n < 1 || len(sym) != n*k || len(snr) != n*k {
		return dst, fmt.Errorf("semantic: decode %d symbols and %d SNRs as %d vectors of %d symbols", len(sym), len(snr), n, k)
	}
	g := c.pool.Get().(*nn.Graph[float32])
	defer c.pool.Put(g)
	g.Reset()
	feats := make([]float32, n*decInputs(k))
	decoderFeatures(feats, sym, snr, n, k, image)
	y := c.dec[k].forward(g, nn.NewTensor(feats, n, decInputs(k)))
	return append(dst, y.Data...), nil
}

// Codec weights files: safetensors with the configuration as JSON under MetaCodec.
const MetaCodec = "semantic.codec"

// Save writes the codec's weights and configuration to path, with meta (provenance).
func (c *Codec) Save(path string, meta map[string]string) error {
	cfg, err := json.Marshal(c.cfg)
	if err != nil {
		return err
	}
	f := safetensors.File{Metadata: map[string]string{MetaCodec: string(cfg)}}
	for k, v := range meta {
		f.Metadata[k] = v
	}
	for _, a := range c.params.Export() {
		f.Tensors = append(f.Tensors, safetensors.Tensor{Name: a.Name, Dtype: safetensors.F32, Shape: a.Shape, Data: a.Data})
	}
	if err := safetensors.WriteFile(path, f); err != nil {
		return fmt.Errorf("semantic: save codec %s: %w", path, err)
	}
	return nil
}

// LoadCodec reads a codec written by Save.
func LoadCodec(path string) (*Codec, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("semantic: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("semantic: %w", err)
	}
	c, err := ReadCodec(fh, st.Size())
	if err != nil {
		return nil, fmt.Errorf("semantic: %s: %w", path, err)
	}
	return c, nil
}

// ReadCodec decodes a codec file of size bytes.
func ReadCodec(r io.ReaderAt, size int64) (*Codec, error) {
	f, err := safetensors.Read(r, size, nil)
	if err != nil {
		return nil, err
	}
	cs, ok := f.Metadata[MetaCodec]
	if !ok {
		return nil, fmt.Errorf("no %q metadata: not an m4sc codec file", MetaCodec)
	}
	var cfg CodecConfig
	dec := json.NewDecoder(bytes.NewReader([]byte(cs)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("codec configuration: %w", err)
	}
	c, err := NewCodec(cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, err
	}
	var recs []nn.NamedArray
	for _, t := range f.Tensors {
		if t.Dtype == safetensors.F64 {
			return nil, fmt.Errorf("tensor %s is F64; codec weights are F32", t.Name)
		}
		for i, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("bad codec weights: tensor %s holds %v at index %d", t.Name, v, i)
			}
		}
		recs = append(recs, nn.NamedArray{Name: t.Name, Shape: t.Shape, Data: t.Data})
	}
	if err := c.params.Import(recs); err != nil {
		return nil, err
	}
	c.meta = f.Metadata
	return c, nil
}

// String describes the codec: architecture, widths and parameter count.
func (c *Codec) String() string {
	return c.cfg.Arch + " codec, hidden " + strconv.Itoa(c.cfg.Hidden) + ", " + strconv.Itoa(c.NumParams()) + " parameters"
}
