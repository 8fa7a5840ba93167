// Package llm is the tailored multi-modal language model: tokenizer, decoder-only
// transformer, image encoder, KAN projector, one instruction template for every task.
//
// Not built yet: this file holds the place in the layout (issue 5).
package llm
