package llm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"

	"github.com/m4sc/m4sc/llm/tokenizer"
	"github.com/m4sc/m4sc/nn"
	"github.com/m4sc/m4sc/nn/safetensors"
)

// MetaConfig is the metadata key under which a weights file stores its Config as JSON.
const MetaConfig = "llm.config"

// MetaTokenizer is the metadata key under which a weights file stores the tokenizer it
// was trained with (its tokenizer.json), so the file cannot be read with another.
const MetaTokenizer = "llm.tokenizer"

// Save writes the model's weights (F32) to path as safetensors, atomically, with its
// Config, its tokenizer and the given provenance metadata (command, seed, data
// versions).
func (m *Model) Save(path string, meta map[string]string) error {
	f := safetensors.File{Metadata: map[string]string{MetaConfig: m.cfg.marshal()}}
	for k, v := range meta {
		f.Metadata[k] = v
	}
	if m.tok != nil {
		var b strings.Builder
		if err := m.tok.Write(&b); err != nil {
			return fmt.Errorf("llm: save %s: tokenizer: %w", path, err)
		}
		f.Metadata[MetaTokenizer] = b.String()
	}
	for _, a := range m.params.Export() {
		f.Tensors = append(f.Tensors, safetensors.Tensor{Name: a.Name, Dtype: safetensors.F32, Shape: a.Shape, Data: a.Data})
	}
	if err := safetensors.WriteFile(path, f); err != nil {
		return fmt.Errorf("llm: save %s: %w", path, err)
	}
	return nil
}

// Load reads a weights file written by Save (or a training checkpoint) into a new
// model. A file that holds its tokenizer (MetaTokenizer) is read with that one and tok
// is not used; for older files tok must be the tokenizer it was trained with.
func Load(path string, tok *tokenizer.Tokenizer) (*Model, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	m, err := Read(fh, st.Size(), tok)
	if err != nil {
		return nil, fmt.Errorf("llm: %s: %w", path, err)
	}
	return m, nil
}

// ReadBytes is Read on an in-memory file (the embedded weights).
func ReadBytes(b []byte, tok *tokenizer.Tokenizer) (*Model, error) {
	return Read(bytes.NewReader(b), int64(len(b)), tok)
}

// Read decodes a weights file of size bytes. Every parameter of the stored
// configuration must be present with its shape and finite values (a NaN or infinity
// is an error wrapping ErrBadWeights that names the tensor); optimiser state, if
// any, is ignored.
func Read(r io.ReaderAt, size int64, tok *tokenizer.Tokenizer) (*Model, error) {
	f, err := safetensors.Read(r, size, nil)
	if err != nil {
		return nil, err
	}
	cs, ok := f.Metadata[MetaConfig]
	if !ok {
		return nil, fmt.Errorf("%w: no %q metadata: not an m4sc model file", ErrConfig, MetaConfig)
	}
	cfg, err := parseConfig(cs)
	if err != nil {
		return nil, err
	}
	if ts, ok := f.Metadata[MetaTokenizer]; ok {
		if tok, err = tokenizer.Read(strings.NewReader(ts)); err != nil {
			return nil, fmt.Errorf("%w: the tokenizer in %q: %v", ErrConfig, MetaTokenizer, err)
		}
	}
	if tok == nil {
		return nil, fmt.Errorf("%w: the file holds no tokenizer (%q) and none was given", ErrConfig, MetaTokenizer)
	}
	// The configuration decides how much New allocates; a file whose tensors are far
	// smaller than that is refused before any allocation.
	var have int64
	for _, t := range f.Tensors {
		have += int64(len(t.Data))
	}
	if need := cfg.minParams(); have < need {
		return nil, fmt.Errorf("%w: the file holds %d values, its configuration needs at least %d", ErrConfig, have, need)
	}
	var recs []nn.NamedArray
	for _, t := range f.Tensors {
		if rest, ok := strings.CutPrefix(t.Name, safetensors.OptimizerPrefix); ok && rest != "" {
			continue
		}
		if t.Dtype == safetensors.F64 {
			return nil, fmt.Errorf("%w: tensor %s is F64; model weights are F32, F16 or BF16", ErrConfig, t.Name)
		}
		if err := checkFinite(t.Name, t.Data); err != nil {
			return nil, err
		}
		recs = append(recs, nn.NamedArray{Name: t.Name, Shape: t.Shape, Data: t.Data})
	}
	// Every parameter is read from the file (Import refuses a missing one), so the
	// model is built without drawing initial weights.
	m, err := newModel(cfg, tok, nil)
	if err != nil {
		return nil, err
	}
	if err := m.params.Import(recs); err != nil {
		return nil, err
	}
	m.meta = f.Metadata
	return m, nil
}

// ErrBadWeights is wrapped when a weights file holds values that are not finite
// (NaN or infinite): the file is damaged or was saved from a training run that
// diverged, and every output of the model would be NaN.
var ErrBadWeights = errors.New("llm: bad weights")

// checkFinite refuses a tensor with a NaN or infinite value, naming it, the first
// such value and how many there are.
func checkFinite(name string, data []float32) error {
	first, bad := -1, 0
	for i, v := range data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			if first < 0 {
				first = i
			}
			bad++
		}
	}
	if bad == 0 {
		return nil
	}
	return fmt.Errorf("%w: tensor %s holds %v at index %d (%d of its %d values are not finite); the file is damaged or its training diverged",
		ErrBadWeights, name, data[first], first, bad, len(data))
}

// Meta returns the metadata of the file the model was read from (nil for a new model).
func (m *Model) Meta() map[string]string { return m.meta }

// WithProjector returns a model with m's weights and a freshly initialised projector
// of kind p (the others are copied): how the projector ablation starts its align stage
// from the same language model as the shipped model.
func (m *Model) WithProjector(p Projector, rng *rand.Rand) (*Model, error) {
	cfg := m.cfg
	cfg.Projector, cfg.MLPHidden = p, 0
	return m.Rebuild(cfg, rng, "proj/")
}

// Rebuild returns a model of configuration cfg that keeps every weight of m with the
// same name and shape, except those whose names start with one of fresh; the others
// are initialised from rng. It swaps a module (projector, image stem) under a trained
// language model.
func (m *Model) Rebuild(cfg Config, rng *rand.Rand, fresh ...string) (*Model, error) {
	out, err := New(cfg, m.tok, rng)
	if err != nil {
		return nil, err
	}
	keep := func(name string) bool {
		for _, f := range fresh {
			if strings.HasPrefix(name, f) {
				return false
			}
		}
		return true
	}
	var recs []nn.NamedArray
	for _, a := range out.params.Export() {
		if old := m.params.Get(a.Name); old != nil && keep(a.Name) && slices.Equal(old.Shape(), a.Shape) {
			a.Data = old.Data
		}
		recs = append(recs, a)
	}
	if err := out.params.Import(recs); err != nil {
		return nil, err
	}
	return out, nil
}
