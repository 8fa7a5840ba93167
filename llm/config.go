package llm

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/m4sc/m4sc/dataset"
)

// Projector names the module that maps image features into the language model's
// embedding space.
type Projector string

const (
	// ProjectorKAN is a B-spline Kolmogorov-Arnold layer (package kan): M4SC's choice.
	ProjectorKAN Projector = "kan"
	// ProjectorMLP is a two-layer GELU perceptron with the hidden width chosen so it
	// has as many parameters as the KAN projector: the ablation.
	ProjectorMLP Projector = "mlp"
)

// ImageStem names how an image becomes its ImageSlots tokens.
type ImageStem string

const (
	// StemPatch embeds each PatchSize x PatchSize patch linearly (as a ViT does).
	StemPatch ImageStem = "patch"
	// StemConv runs four 3x3 convolutions with GELU, strides 1, 2, 2, 2, taking the
	// 32x32 image to a 4x4 grid of ImgDim features: shape and size survive patch
	// boundaries, which a linear patch embedding has to relearn at every offset.
	StemConv ImageStem = "conv"
)

// Image geometry. Every image is SceneSize x SceneSize RGB (digits are padded to it),
// cut into PatchSize x PatchSize patches, one image token (and one semantic vector) per
// patch.
const (
	ImageSize     = dataset.SceneSize
	ImageChannels = dataset.SceneChannels
	ImagePixels   = ImageSize * ImageSize * ImageChannels
	PatchSize     = 8
	PatchGrid     = ImageSize / PatchSize
	// ImageSlots is the fixed number of semantic vectors per image.
	ImageSlots = PatchGrid * PatchGrid
	// PatchPixels is the length of one patch, PatchSize*PatchSize*ImageChannels.
	PatchPixels = PatchSize * PatchSize * ImageChannels
)

// Defaults of Config, referred to by the documentation.
const (
	DefaultDim         = 128
	DefaultHeads       = 4
	DefaultLayers      = 4
	DefaultEncLayers   = 2
	DefaultImgDim      = 128
	DefaultImgLayers   = 2
	DefaultSemDim      = 32
	DefaultMaxSeq      = 160
	DefaultMaxText     = 64
	DefaultKANGrid     = 5
	DefaultKANOrder    = 3
	DefaultReconHidden = 256
	DefaultMLPRatio    = 4
)

// MaxVocab is the largest vocabulary a Config may have.
const MaxVocab = 1 << 20

// Config fixes a model's architecture. It is stored in every weights file's metadata,
// so a file always loads into the model that wrote it.
type Config struct {
	Vocab     int `json:"vocab"`      // tokenizer vocabulary
	Dim       int `json:"dim"`        // language model width (DefaultDim)
	Heads     int `json:"heads"`      // attention heads, dividing Dim (DefaultHeads)
	Layers    int `json:"layers"`     // decoder blocks of the language model (DefaultLayers)
	EncLayers int `json:"enc_layers"` // bidirectional blocks of the text semantic encoder (DefaultEncLayers)
	ImgDim    int `json:"img_dim"`    // width of the image encoder (DefaultImgDim)
	ImgLayers int `json:"img_layers"` // bidirectional blocks of the image encoder (DefaultImgLayers)
	SemDim    int `json:"sem_dim"`    // reals per semantic vector (DefaultSemDim)
	MaxSeq    int `json:"max_seq"`    // longest decoder sequence, instruction included (DefaultMaxSeq)
	MaxText   int `json:"max_text"`   // most tokens in a text input or a response (DefaultMaxText)

	// ImgStem is StemPatch or StemConv; empty (files from before it existed) means
	// StemPatch.
	ImgStem ImageStem `json:"img_stem,omitempty"`

	Projector Projector `json:"projector"` // ProjectorKAN or ProjectorMLP
	KANGrid   int       `json:"kan_grid"`  // B-spline intervals of the KAN projector (DefaultKANGrid)
	KANOrder  int       `json:"kan_order"` // B-spline order (DefaultKANOrder)
	// MLPHidden is the hidden width of the MLP projector; 0 picks the width that
	// matches the KAN projector's parameter count.
	MLPHidden   int `json:"mlp_hidden"`
	ReconHidden int `json:"recon_hidden"` // hidden width of the image decoder head (DefaultReconHidden)

	// AuxHeads adds the training-only readouts of image semantics (see heads.go):
	// linear heads that name the object centred in each image cell and a digit's
	// class, so the image encoder learns attributes from a direct signal and not only
	// through the language model. Files from before it existed load without them.
	AuxHeads bool `json:"aux_heads,omitempty"`

	// RoleHead adds a linear head on the decoder's image slots after RoleLayer
	// blocks, which names each slot's part in an image.vqa question (heads.go); it is
	// trained on the question's roles, and inference uses it only through the spatial
	// readout (GeoReadout). `m4sc train` adds it when the instruct stage starts; it
	// needs Layout >= 1, where the slots come after the question.
	RoleHead bool `json:"role_head,omitempty"`

	// GeoReadout adds the spatial readout of image.vqa (readout.go): after RoleLayer
	// blocks, the role head's per-cell probabilities pick where the question's first
	// and second objects are, an offset head refines each cell's centre, a direction
	// head reads which way the question looks, and the positions, their difference
	// and its sign along that direction enter every position after the image.
	// Relations ("is the A left of the B?") need the two positions compared; without
	// it the decoder answered them at chance. It needs RoleHead.
	GeoReadout bool `json:"geo_readout,omitempty"`

	// Layout is the instruction layout the decoder was trained on (see PromptLayout);
	// 0 for files from before it was recorded. Task prompts need PromptLayout.
	Layout int `json:"layout,omitempty"`

	// Cased is set when the model's text was trained with each letter's case as
	// written (dataset.NormalizeCased, dataset.Sentence.Cased); unset, as in files
	// from before it existed, the text was lower-cased (dataset.Normalize).
	// Model.NormalizeText prepares a user's text to match, and Train draws the
	// sentences so.
	Cased bool `json:"cased,omitempty"`

	// Augment is the perturbation Train applies to the training images of the align
	// and instruct stages (see Augmentation); AugmentOff, as in files from before it
	// existed, trains on clean images. It changes no parameter: it records how the
	// weights were trained, and keeps a checkpoint of one setting from resuming a run
	// of the other.
	Augment Augmentation `json:"augment,omitempty"`
}

// PromptLayout is the instruction layout this code builds (Template):
//
//   - 0, the first: image.vqa's question after the image; image.reconstruct read at
//     the image slots themselves.
//   - 1: the question comes before the image, so that the causal decoder's image slots
//     can already attend to it; every image slot and reconstruction query carries a
//     learned cell embedding (llm/cell), the slots' places being no longer fixed; and
//     image.reconstruct reads 16 query positions after <response>, each of which sees
//     every image slot (a slot sees only those before it, and so misses the parts of
//     objects centred further on).
//
// Models are built, trained and run in the layout of their configuration, so files of
// layout 0 keep working; New models (DefaultConfig) and `m4sc train`'s align stage
// use PromptLayout.
const PromptLayout = 1

// DefaultConfig returns the shipped model's architecture for a vocabulary of vocab
// tokens.
func DefaultConfig(vocab int) Config {
	return Config{
		Vocab: vocab, Dim: DefaultDim, Heads: DefaultHeads, Layers: DefaultLayers,
		EncLayers: DefaultEncLayers, ImgDim: DefaultImgDim, ImgLayers: DefaultImgLayers,
		SemDim: DefaultSemDim, MaxSeq: DefaultMaxSeq, MaxText: DefaultMaxText,
		Projector: ProjectorKAN, KANGrid: DefaultKANGrid, KANOrder: DefaultKANOrder,
		ReconHidden: DefaultReconHidden, AuxHeads: true, Layout: PromptLayout,
	}
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("llm: invalid model configuration")

// Validate reports the first field out of range.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch {
	case c.Vocab < 16 || c.Vocab > MaxVocab:
		return bad("vocab %d outside [16, %d]", c.Vocab, MaxVocab)
	case c.Dim < 8 || c.Dim > 4096:
		return bad("dim %d outside [8, 4096]", c.Dim)
	case c.Heads < 1 || c.Dim%c.Heads != 0:
		return bad("heads %d do not divide dim %d", c.Heads, c.Dim)
	case c.Layers < 1 || c.Layers > 64:
		return bad("layers %d outside [1, 64]", c.Layers)
	case c.EncLayers < 1 || c.EncLayers > 64:
		return bad("enc_layers %d outside [1, 64]", c.EncLayers)
	case c.ImgDim < 8 || c.ImgDim > 4096 || c.ImgDim%c.Heads != 0:
		return bad("img_dim %d outside [8, 4096] or not divisible by heads %d", c.ImgDim, c.Heads)
	case c.ImgLayers < 1 || c.ImgLayers > 64:
		return bad("img_layers %d outside [1, 64]", c.ImgLayers)
	case c.SemDim < 2 || c.SemDim > 4096 || c.SemDim%2 != 0:
		return bad("sem_dim %d must be even and in [2, 4096] (vectors become complex symbols)", c.SemDim)
	case c.MaxText < 4 || c.MaxText > 1024:
		return bad("max_text %d outside [4, 1024]", c.MaxText)
	case c.MaxSeq < 2*c.MaxText+ImageSlots || c.MaxSeq > 8192:
		return bad("max_seq %d must hold two texts of max_text %d plus an image (%d) and be at most 8192", c.MaxSeq, c.MaxText, 2*c.MaxText+ImageSlots)
	case c.ImgStem != "" && c.ImgStem != StemPatch && c.ImgStem != StemConv:
		return bad("img_stem %q: want %q or %q", c.ImgStem, StemPatch, StemConv)
	case c.Projector != ProjectorKAN && c.Projector != ProjectorMLP:
		return bad("projector %q: want %q or %q", c.Projector, ProjectorKAN, ProjectorMLP)
	case c.KANGrid < 1 || c.KANGrid > 64:
		return bad("kan_grid %d outside [1, 64]", c.KANGrid)
	case c.KANOrder < 1 || c.KANOrder > 7:
		return bad("kan_order %d outside [1, 7]", c.KANOrder)
	case c.Augment != AugmentOff && c.Augment != AugmentRealistic:
		return bad("augment %q: want %q or empty", c.Augment, AugmentRealistic)
	case c.Layout < 0 || c.Layout > PromptLayout:
		return bad("layout %d outside [0, %d] (a file from newer code?)", c.Layout, PromptLayout)
	case c.RoleHead && (c.Layout < 1 || c.Layers <= RoleLayer):
		return bad("role_head needs layout >= 1 (has %d) and more than %d layers (has %d)", c.Layout, RoleLayer, c.Layers)
	case c.GeoReadout && !c.RoleHead:
		return bad("geo_readout needs role_head")
	case c.MLPHidden < 0 || c.MLPHidden > 1<<16:
		return bad("mlp_hidden %d outside [0, 65536]", c.MLPHidden)
	case c.ReconHidden < 1 || c.ReconHidden > 1<<16:
		return bad("recon_hidden %d outside [1, 65536]", c.ReconHidden)
	}
	return nil
}

func (c Config) marshal() string {
	b, _ := json.Marshal(c) // a struct of ints and strings always marshals
	return string(b)
}

func parseConfig(s string) (Config, error) {
	var c Config
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("%w: metadata %q: %v", ErrConfig, "config", err)
	}
	return c, c.Validate()
}

// minParams is a lower bound on the parameter count of a model of c: embeddings and
// the weight matrices of every transformer block.
func (c Config) minParams() int64 {
	d, di := int64(c.Dim), int64(c.ImgDim)
	return int64(c.Vocab)*d + int64(c.Layers+c.EncLayers)*12*d*d + int64(c.ImgLayers)*12*di*di
}

// Stem returns the image stem, StemPatch for files from before ImgStem existed.
func (c Config) Stem() ImageStem {
	if c.ImgStem == "" {
		return StemPatch
	}
	return c.ImgStem
}
