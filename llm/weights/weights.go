// Package weights holds m4sc's shipped, trained artefacts, embedded in the binary so
// that nothing needs downloading: the byte-level BPE tokenizer (tokenizer.json) and,
// once trained, the multi-modal language model. README.md beside them gives the
// commands, seeds and data versions that reproduce them.
package weights

import (
	"bytes"
	_ "embed"
	"fmt"

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
