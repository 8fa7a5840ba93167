// Package weights holds m4sc's shipped, trained artefacts, embedded in the binary so
// that nothing needs downloading: the byte-level BPE tokenizer (tokenizer.json) and,
// once trained, the multi-modal language model. README.md beside them gives the
// commands, seeds and data versions that reproduce them.
package weights

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"

	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/llm/tokenizer"
)

//go:embed tokenizer.json
var tokenizerJSON []byte

// TokenizerJSON returns the shipped tokenizer file's bytes.
func TokenizerJSON() []byte { return bytes.Clone(tokenizerJSON) }

// Tokenizer returns the shipped tokenizer.
func Tokenizer() (*tokenizer.Tokenizer, error) {
	t, err := tokenizer.Read(bytes.NewReader(tokenizerJSON))
	if err != nil {
		return nil, fmt.Errorf("weights: embedded tokenizer: %w", err)
	}
	return t, nil
}

// modelBytes is the shipped model (model.safetensors), set by model.go once trained
// weights are committed; nil until then.
var modelBytes []byte

// ErrNoModel is returned by Model when this build carries no trained model.
var ErrNoModel = errors.New("weights: no trained model embedded in this build; pass a weights file (m4sc train writes runs/default/instruct.safetensors)")

// HasModel reports whether a trained model is embedded.
func HasModel() bool { return modelBytes != nil }

// Model returns the shipped multi-modal language model with the shipped tokenizer.
func Model() (*llm.Model, error) {
	if modelBytes == nil {
		return nil, ErrNoModel
	}
	tok, err := Tokenizer()
	if err != nil {
		return nil, err
	}
	m, err := llm.ReadBytes(modelBytes, tok)
	if err != nil {
		return nil, fmt.Errorf("weights: embedded model: %w", err)
	}
	return m, nil
}
