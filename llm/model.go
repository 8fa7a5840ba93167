package llm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/kan"
	"github.com/m4sc/m4sc/llm/tokenizer"
	"github.com/m4sc/m4sc/nn"
)

type tensor = nn.Tensor[float32]
type graph = nn.Graph[float32]

// block is one pre-norm transformer block: x += Attn(LN(x)); x += MLP(LN(x)).
type block struct {
	ln1G, ln1B, wqkv, bqkv, wo, bo *tensor
	ln2G, ln2B, w1, b1, w2, b2     *tensor
}

func newBlock(s nn.Scope[float32], in initializer, d, hidden, layers int) block {
	// Output projections start scaled by 1/sqrt(2 layers) (GPT-2's residual scaling)
	// so the residual stream's variance does not grow with depth at initialisation.
	res := 1 / math.Sqrt(2*float64(layers))
	scaled := func(t *tensor) *tensor {
		for i := range t.Data {
			t.Data[i] *= float32(res)
		}
		return t
	}
	return block{
		ln1G: s.Add("ln1/gain", in.ones(nn.NewParam[float32](nil, d))),
		ln1B: s.Add("ln1/bias", nn.NewParam[float32](nil, d)),
		wqkv: s.Add("attn/wqkv", in.xavier(nn.NewParam[float32](nil, d, 3*d))),
		bqkv: s.Add("attn/qkv/bias", nn.NewParam[float32](nil, 3*d)),
		wo:   s.Add("attn/wo", scaled(in.xavier(nn.NewParam[float32](nil, d, d)))),
		bo:   s.Add("attn/o/bias", nn.NewParam[float32](nil, d)),
		ln2G: s.Add("ln2/gain", in.ones(nn.NewParam[float32](nil, d))),
		ln2B: s.Add("ln2/bias", nn.NewParam[float32](nil, d)),
		w1:   s.Add("mlp/w1", in.xavier(nn.NewParam[float32](nil, d, hidden))),
		b1:   s.Add("mlp/b1/bias", nn.NewParam[float32](nil, hidden)),
		w2:   s.Add("mlp/w2", scaled(in.xavier(nn.NewParam[float32](nil, hidden, d)))),
		b2:   s.Add("mlp/b2/bias", nn.NewParam[float32](nil, d)),
	}
}

// initializer sets parameters to their initial values, drawn from rng in the order
// New creates them; with rng nil it leaves every parameter at zero, for a model
// whose every parameter is about to be read from a file (Read), so nothing is drawn
// only to be overwritten.
type initializer struct{ rng *rand.Rand }

func (in initializer) normal(t *tensor, std float64) *tensor {
	if in.rng == nil {
		return t
	}
	return nn.Normal(in.rng, t, std)
}

func (in initializer) xavier(t *tensor) *tensor {
	if in.rng == nil {
		return t
	}
	return nn.XavierUniform(in.rng, t)
}

func (in initializer) kaiming(t *tensor) *tensor {
	if in.rng == nil {
		return t
	}
	return nn.KaimingNormal(in.rng, t, nn.InOut)
}

func (in initializer) ones(t *tensor) *tensor {
	if in.rng == nil {
		return t
	}
	return nn.Ones(t)
}

// layerCache holds one block's keys and values for incremental decoding:
// [batch][heads][position][head dim], capacity MaxSeq positions.
type layerCache struct {
	k, v []float32
	// kk, vv hold the contiguous [B, H, n+T, dh] views handed to Attention; reused
	// from step to step (a step's graph is reset before the next).
	kk, vv []float32
}

// forward runs the block on x [B, T, d]. With causal set, query t sees keys up to
// itself; keyLens masks right padding (nil for none). With cache set (inference
// only), the block's keys and values for positions [n, n+T) are stored in the cache
// and the queries attend to all n+T cached positions.
func (b *block) forward(g *graph, x *tensor, heads int, causal bool, keyLens []int, cache *layerCache, n, maxSeq int) *tensor {
	h := g.LayerNorm(x, b.ln1G, b.ln1B, nn.DefaultNormEps)
	qkv := g.Linear(h, b.wqkv, b.bqkv) // [B, T, 3*d], ordered (q/k/v, head, dh)
	opt := nn.AttentionOptions{Causal: causal, KeyLens: keyLens}
	var a *tensor // [B, T, d]
	if cache != nil {
		q, k, v := g.SplitHeads(qkv, 0, 3, heads), g.SplitHeads(qkv, 1, 3, heads), g.SplitHeads(qkv, 2, 3, heads)
		k, v = cache.extend(k, v, n, maxSeq)
		a = g.MergeHeads(g.Attention(q, k, v, opt))
	} else {
		a = g.AttentionQKV(qkv, heads, opt) // the same without the layout copies
	}
	x = g.Add(x, g.Linear(a, b.wo, b.bo))
	h = g.LayerNorm(x, b.ln2G, b.ln2B, nn.DefaultNormEps)
	f := g.LinearGELU(h, b.w1, b.b1)
	return g.Add(x, g.Linear(f, b.w2, b.b2))
}

// extend stores new keys and values k, v [B, H, T, dh] at positions [n, n+T) and
// returns tensors of all n+T positions, [B, H, n+T, dh].
func (c *layerCache) extend(k, v *tensor, n, maxSeq int) (*tensor, *tensor) {
	B, H, T, dh := k.Dim(0), k.Dim(1), k.Dim(2), k.Dim(3)
	S := n + T
	c.kk, c.vv = slices.Grow(c.kk[:0], B*H*S*dh)[:B*H*S*dh], slices.Grow(c.vv[:0], B*H*S*dh)[:B*H*S*dh]
	kk, vv := c.kk, c.vv
	for bh := 0; bh < B*H; bh++ {
		base := bh * maxSeq * dh
		copy(c.k[base+n*dh:base+S*dh], k.Data[bh*T*dh:(bh+1)*T*dh])
		copy(c.v[base+n*dh:base+S*dh], v.Data[bh*T*dh:(bh+1)*T*dh])
		copy(kk[bh*S*dh:(bh+1)*S*dh], c.k[base:base+S*dh])
		copy(vv[bh*S*dh:(bh+1)*S*dh], c.v[base:base+S*dh])
	}
	return nn.NewTensor(kk, B, H, S, dh), nn.NewTensor(vv, B, H, S, dh)
}

// projector maps image features [..., ImgDim] into the language model's space [..., Dim].
type projector interface {
	forward(g *graph, x *tensor) *tensor
	numParams() int
}

type kanProjector struct{ l *kan.Layer[float32] }

func (p kanProjector) forward(g *graph, x *tensor) *tensor { return p.l.Forward(g, x) }
func (p kanProjector) numParams() int                      { return p.l.NumParams() }

type mlpProjector struct{ w1, b1, w2, b2 *tensor }

func (p mlpProjector) forward(g *graph, x *tensor) *tensor {
	return g.Linear(g.LinearGELU(x, p.w1, p.b1), p.w2, p.b2)
}

func (p mlpProjector) numParams() int {
	return p.w1.Len() + p.b1.Len() + p.w2.Len() + p.b2.Len()
}

// kanConfig is the KAN projector's layer configuration: LayerNorm on its input, so the
// image features fall on the grid [-3, 3] whatever their scale.
func kanConfig(c Config) kan.Config {
	return kan.Config{GridSize: c.KANGrid, Order: c.KANOrder, Min: -3, Max: 3, Norm: kan.NormLayer}
}

// KANProjectorParams returns the parameter count of the KAN projector of c, which the
// MLP projector matches when Config.MLPHidden is 0.
func KANProjectorParams(c Config) (int, error) {
	l, err := kan.New[float32]("proj/kan", c.ImgDim, c.Dim, kanConfig(c), rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return 0, err
	}
	return l.NumParams(), nil
}

// matchedMLPHidden is the hidden width h whose MLP in*h + h + h*out + out is closest
// to the KAN projector's count.
func matchedMLPHidden(c Config) (int, error) {
	p, err := KANProjectorParams(c)
	if err != nil {
		return 0, err
	}
	h := int(math.Round(float64(p-c.Dim) / float64(c.ImgDim+1+c.Dim)))
	return max(h, 1), nil
}

// Model is the tailored multi-modal language model: a text semantic encoder, an image
// encoder with a KAN (or MLP) projector, a shared semantic head that maps both into
// SemDim-dimensional semantic vectors, and a decoder-only language model that turns
// semantic vectors plus an instruction into the task's output. See the package
// documentation for the data flow.
type Model struct {
	cfg    Config
	tok    *tokenizer.Tokenizer
	params *nn.Params[float32]

	tokEmb, posEmb, idxEmb *tensor
	blocks                 []block
	lnfG, lnfB             *tensor

	encPos     *tensor
	enc        []block
	encG, encB *tensor

	patchW, patchB, imgPos *tensor
	conv                   []convLayer
	img                    []block
	proj                   projector

	semOut, semIn, semInB *tensor

	recW1, recB1, recW2, recB2 *tensor
	aux                        *auxHeads // nil without Config.AuxHeads
	// cellEmb [ImageSlots, Dim] marks image slot i and reconstruction query i as cell
	// i (Config.Layout >= 1); nil before.
	cellEmb *tensor
	// roleW [Dim, dataset.NumRoles] and roleB are the role head (Config.RoleHead), nil
	// without it.
	roleW, roleB *tensor
	// geoOffW [Dim, 2] and geoOffB predict each image slot's object centre within its
	// cell, geoDirW [Dim, 2] and geoDirB the direction a question looks, geoW
	// [GeoFeatures, Dim] maps the spatial readout into the decoder
	// (Config.GeoReadout); nil without it.
	geoOffW, geoOffB, geoDirW, geoDirB, geoW *tensor

	sp       specials
	taskIDs  [numTasks][]int
	meta     map[string]string
	mlpWidth int
	// weighting is how loss averages tokens; Train sets it for its stage.
	weighting Weighting
	channel   Channel // set by Train for the duration of a stage with TrainOptions.Channel
}

// specials are the template's token ids.
type specials struct {
	pad, bos, eos, task, taskEnd, image, imageEnd, text, textEnd, response int
}

func lookupSpecials(tok *tokenizer.Tokenizer) (specials, error) {
	var s specials
	for _, e := range []struct {
		name string
		dst  *int
	}{
		{"<pad>", &s.pad}, {"<bos>", &s.bos}, {"<eos>", &s.eos}, {"<task>", &s.task},
		{"</task>", &s.taskEnd}, {"<image>", &s.image}, {"</image>", &s.imageEnd},
		{"<text>", &s.text}, {"</text>", &s.textEnd}, {"<response>", &s.response},
	} {
		id, ok := tok.SpecialID(e.name)
		if !ok {
			return s, fmt.Errorf("llm: tokenizer lacks the special token %s", e.name)
		}
		*e.dst = id
	}
	return s, nil
}

// New builds a model of architecture cfg with freshly initialised weights drawn from
// rng. The tokenizer must have cfg.Vocab tokens and the template's special tokens
// (tokenizer.DefaultSpecials).
func New(cfg Config, tok *tokenizer.Tokenizer, rng *rand.Rand) (*Model, error) {
	if rng == nil {
		return nil, fmt.Errorf("%w: nil random source", ErrConfig)
	}
	return newModel(cfg, tok, rng)
}

// newModel is New; with rng nil the parameters are left at zero (initializer), the
// KAN projector's too (kan.NewForLoad), for a caller that reads them all from a file.
func newModel(cfg Config, tok *tokenizer.Tokenizer, rng *rand.Rand) (*Model, error) {
	in := initializer{rng}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tok == nil || tok.VocabSize() != cfg.Vocab {
		n := 0
		if tok != nil {
			n = tok.VocabSize()
		}
		return nil, fmt.Errorf("%w: vocab %d but the tokenizer has %d tokens", ErrConfig, cfg.Vocab, n)
	}
	sp, err := lookupSpecials(tok)
	if err != nil {
		return nil, err
	}
	m := &Model{cfg: cfg, tok: tok, params: nn.NewParams[float32](), sp: sp}
	for t := range numTasks {
		m.taskIDs[t] = tok.Encode(taskWords[t])
	}
	d := cfg.Dim
	root := m.params.Scope("llm")
	m.tokEmb = root.Add("tok_emb", in.normal(nn.NewParam[float32](nil, cfg.Vocab, d), 0.02))
	m.posEmb = root.Add("pos_emb", in.normal(nn.NewParam[float32](nil, cfg.MaxSeq, d), 0.02))
	m.idxEmb = root.Add("idx_emb", in.normal(nn.NewParam[float32](nil, cfg.MaxText+1, d), 0.02))
	for l := range cfg.Layers {
		m.blocks = append(m.blocks, newBlock(root.Scope(fmt.Sprintf("block%d", l)), in, d, DefaultMLPRatio*d, cfg.Layers))
	}
	m.lnfG = root.Add("lnf/gain", in.ones(nn.NewParam[float32](nil, d)))
	m.lnfB = root.Add("lnf/bias", nn.NewParam[float32](nil, d))

	enc := m.params.Scope("enc")
	m.encPos = enc.Add("pos_emb", in.normal(nn.NewParam[float32](nil, cfg.MaxText+8, d), 0.02))
	for l := range cfg.EncLayers {
		m.enc = append(m.enc, newBlock(enc.Scope(fmt.Sprintf("block%d", l)), in, d, DefaultMLPRatio*d, cfg.EncLayers))
	}
	m.encG = enc.Add("lnf/gain", in.ones(nn.NewParam[float32](nil, d)))
	m.encB = enc.Add("lnf/bias", nn.NewParam[float32](nil, d))

	di := cfg.ImgDim
	img := m.params.Scope("img")
	if cfg.Stem() == StemConv {
		ch := ImageChannels
		for i, out := range convChannels(di) {
			s := img.Scope(fmt.Sprintf("conv%d", i))
			m.conv = append(m.conv, convLayer{
				w: s.Add("w", in.kaiming(nn.NewParam[float32](nil, 9*ch, out))),
				b: s.Add("bias", nn.NewParam[float32](nil, out)),
			})
			ch = out
		}
	} else {
		m.patchW = img.Add("patch/w", in.xavier(nn.NewParam[float32](nil, PatchPixels, di)))
		m.patchB = img.Add("patch/bias", nn.NewParam[float32](nil, di))
	}
	m.imgPos = img.Add("pos_emb", in.normal(nn.NewParam[float32](nil, ImageSlots, di), 0.02))
	for l := range cfg.ImgLayers {
		m.img = append(m.img, newBlock(img.Scope(fmt.Sprintf("block%d", l)), in, di, DefaultMLPRatio*di, cfg.ImgLayers))
	}
	switch cfg.Projector {
	case ProjectorKAN:
		var l *kan.Layer[float32]
		if rng == nil { // every tensor is read from a file next
			l, err = kan.NewForLoad[float32]("proj/kan", di, d, kanConfig(cfg))
		} else {
			l, err = kan.New[float32]("proj/kan", di, d, kanConfig(cfg), rng)
		}
		if err != nil {
			return nil, fmt.Errorf("llm: KAN projector: %w", err)
		}
		l.AddParams(m.params)
		m.proj = kanProjector{l}
	case ProjectorMLP:
		h := cfg.MLPHidden
		if h == 0 {
			if h, err = matchedMLPHidden(cfg); err != nil {
				return nil, err
			}
		}
		m.mlpWidth = h
		ps := m.params.Scope("proj/mlp")
		m.proj = mlpProjector{
			w1: ps.Add("w1", in.xavier(nn.NewParam[float32](nil, di, h))),
			b1: ps.Add("b1/bias", nn.NewParam[float32](nil, h)),
			w2: ps.Add("w2", in.xavier(nn.NewParam[float32](nil, h, d))),
			b2: ps.Add("b2/bias", nn.NewParam[float32](nil, d)),
		}
	}

	sem := m.params.Scope("sem")
	m.semOut = sem.Add("out/w", in.xavier(nn.NewParam[float32](nil, d, cfg.SemDim)))
	m.semIn = sem.Add("in/w", in.xavier(nn.NewParam[float32](nil, cfg.SemDim, d)))
	m.semInB = sem.Add("in/bias", nn.NewParam[float32](nil, d))

	rec := m.params.Scope("recon")
	m.recW1 = rec.Add("w1", in.xavier(nn.NewParam[float32](nil, d, cfg.ReconHidden)))
	m.recB1 = rec.Add("b1/bias", nn.NewParam[float32](nil, cfg.ReconHidden))
	m.recW2 = rec.Add("w2", in.xavier(nn.NewParam[float32](nil, cfg.ReconHidden, PatchPixels)))
	m.recB2 = rec.Add("b2/bias", nn.NewParam[float32](nil, PatchPixels))

	// Last and zero-initialised: they draw nothing from rng (see heads.go).
	if cfg.AuxHeads {
		m.aux = newAuxHeads(m.params.Scope("aux"), cfg.SemDim)
	}
	// Zero too, for the same reason: a language model trained before the layout
	// existed gains it unchanged, and the lm stage (which never uses it) is the same
	// with or without it.
	if cfg.Layout >= 1 {
		m.cellEmb = m.params.Scope("llm").Add("cell", nn.NewParam[float32](nil, ImageSlots, cfg.Dim))
	}
	if cfg.RoleHead {
		rs := m.params.Scope("aux")
		m.roleW = rs.Add("role/w", nn.NewParam[float32](nil, cfg.Dim, dataset.NumRoles))
		m.roleB = rs.Add("role/bias", nn.NewParam[float32](nil, dataset.NumRoles))
	}
	if cfg.GeoReadout {
		gs := m.params.Scope("llm")
		m.geoOffW = gs.Add("geo/off/w", nn.NewParam[float32](nil, cfg.Dim, 2))
		m.geoOffB = gs.Add("geo/off/bias", nn.NewParam[float32](nil, 2))
		m.geoDirW = gs.Add("geo/dir/w", nn.NewParam[float32](nil, cfg.Dim, 2))
		m.geoDirB = gs.Add("geo/dir/bias", nn.NewParam[float32](nil, 2))
		m.geoW = gs.Add("geo/w", nn.NewParam[float32](nil, GeoFeatures, cfg.Dim))
	}
	return m, nil
}

// Config returns the model's architecture.
func (m *Model) Config() Config { return m.cfg }

// Tokenizer returns the model's tokenizer.
func (m *Model) Tokenizer() *tokenizer.Tokenizer { return m.tok }

// Params returns the model's parameters, named by path ("llm/block0/attn/wqkv").
func (m *Model) Params() *nn.Params[float32] { return m.params }

// NumParams returns the number of trainable values.
func (m *Model) NumParams() int { return m.params.NumElements() }

// ProjectorParams returns the parameter count of the image projector.
func (m *Model) ProjectorParams() int { return m.proj.numParams() }

// ParamGroups returns the parameter count of each module: llm, enc, img, proj, sem,
// recon.
func (m *Model) ParamGroups() map[string]int {
	out := map[string]int{}
	for name, t := range m.params.All() {
		for i := 0; i < len(name); i++ {
			if name[i] == '/' {
				out[name[:i]] += t.Len()
				break
			}
		}
	}
	return out
}

// encodeText runs the text semantic encoder on ids [B, T] (right-padded, lens[b]
// valid tokens each) and returns its hidden states [B*T, Dim].
func (m *Model) encodeText(g *graph, ids []int, lens []int, B, T int) *tensor {
	pos := make([]int, B*T)
	for i := range pos {
		pos[i] = i % T
	}
	x := g.Add(g.Gather(m.tokEmb, ids, B, T), g.Gather(m.encPos, pos, B, T))
	for i := range m.enc {
		x = m.enc[i].forward(g, x, m.cfg.Heads, false, lens, nil, 0, 0)
	}
	x = g.LayerNorm(x, m.encG, m.encB, nn.DefaultNormEps)
	return g.Reshape(x, B*T, m.cfg.Dim)
}

// encodeImages runs the image encoder and projector on N images (HWC, one after
// another) and returns language-model-space tokens [N*ImageSlots, Dim].
func (m *Model) encodeImages(g *graph, images []float32, N int) *tensor {
	var x *tensor
	if m.cfg.Stem() == StemConv {
		x = nn.NewTensor(images, N*ImageSize*ImageSize, ImageChannels)
		hw := ImageSize
		for i, c := range m.conv {
			stride := 2
			if i == 0 {
				stride = 1
			}
			x, hw = conv3x3(g, x, N, hw, stride, c.w, c.b)
		}
	} else {
		patches := g.New(false, N*ImageSlots, PatchPixels) // from the arena: no allocation per step
		p := patches.Data[:0]
		for n := range N {
			p = patchify(p, images[n*ImagePixels:(n+1)*ImagePixels])
		}
		x = g.Linear(patches, m.patchW, m.patchB)
	}
	x = g.Add(g.Reshape(x, N, ImageSlots, m.cfg.ImgDim), m.imgPos)
	for i := range m.img {
		x = m.img[i].forward(g, x, m.cfg.Heads, false, nil, nil, 0, 0)
	}
	return m.proj.forward(g, g.Reshape(x, N*ImageSlots, m.cfg.ImgDim))
}

// semantics maps language-model-space rows [n, Dim] to semantic vectors [n, SemDim]
// of unit root-mean-square each: the shared semantic space of text and images.
func (m *Model) semantics(g *graph, x *tensor) *tensor {
	return g.RMSNorm(g.MatMul(x, m.semOut), nil, nn.DefaultNormEps)
}

// slotEmbeddings maps received semantic vectors [n, SemDim] back into the language
// model's space [n, Dim].
func (m *Model) slotEmbeddings(g *graph, s *tensor) *tensor {
	return g.Linear(s, m.semIn, m.semInB)
}

// reconstruct maps decoder hidden states at image slots [n, Dim] to patches
// [n, PatchPixels] in [0, 1].
func (m *Model) reconstruct(g *graph, h *tensor) *tensor {
	return g.Sigmoid(g.Linear(g.LinearGELU(h, m.recW1, m.recB1), m.recW2, m.recB2))
}

// convLayer is one 3x3 convolution of the conv image stem: w [9*in, out] with taps
// ordered (dy, dx, channel), bias [out].
type convLayer struct{ w, b *tensor }

// convChannels are the output channels of the conv stem's four layers; the last is
// the image encoder's width.
func convChannels(imgDim int) []int { return []int{32, 64, 128, imgDim} }

// conv3x3 applies a 3x3 convolution with zero padding 1 and the given stride, then
// GELU, to x [N*hw*hw, C] (rows are pixels, row-major per image) and returns
// [N*o*o, out] with o = ceil(hw/stride). It is an im2col product built from Gather
// (whose backward rule scatters the gradient back to the pixels) and MatMul.
func conv3x3(g *graph, x *tensor, N, hw, stride int, w, b *tensor) (*tensor, int) {
	C := x.Dim(1)
	o := (hw-1)/stride + 1
	zero := N * hw * hw // the appended zero row: padding
	ids := make([]int, 0, N*o*o*9)
	for n := range N {
		for oy := range o {
			for ox := range o {
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						iy, ix := oy*stride+dy, ox*stride+dx
						if iy < 0 || ix < 0 || iy >= hw || ix >= hw {
							ids = append(ids, zero)
						} else {
							ids = append(ids, n*hw*hw+iy*hw+ix)
						}
					}
				}
			}
		}
	}
	padded := g.Concat(0, x, nn.NewTensor(make([]float32, C), 1, C))
	cols := g.Reshape(g.Gather(padded, ids, N*o*o, 9), N*o*o, 9*C)
	return g.LinearGELU(cols, w, b), o
}
