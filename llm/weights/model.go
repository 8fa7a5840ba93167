package weights

import _ "embed"

// modelFile is llm/weights/model.safetensors: `m4sc train --stage instruct` with the
// shipped tokenizer and seed 1, copied here (MODEL.md gives the command and figures).
//
//go:embed model.safetensors
var modelFile []byte

func init() { modelBytes = modelFile }
