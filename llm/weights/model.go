package weights

import _ "embed"

// modelFile is llm/weights/model.safetensors: `m4sc train --stage instruct` with the
// shipped tokenizer and seed 1, continued three times (--from, seeds 2 to 4, the last
// with --mix), copied here (MODEL.md's "Reproduce" gives the commands and figures).
//
//go:embed model.safetensors
var modelFile []byte

func init() { modelBytes = modelFile }
