package tokenizer

import (
	"errors"
	"fmt"
	"strings"
)

// Defaults of the model's tokenizer; TrainSOTU uses them.
const (
	// DefaultVocabSize is the number of tokens, counting the special
	// tokens and the 256 byte tokens.
	DefaultVocabSize = 4096
)

// DefaultSpecials are the special tokens of the instruction template, in id
// order: "<pad>" is id 0.
var DefaultSpecials = []string{
	"<pad>", "<bos>", "<eos>",
	"<task>", "</task>", "<image>", "</image>", "<text>", "</text>", "<response>",
}

// ErrBadID is wrapped by Decode's error for an id outside the vocabulary.
var ErrBadID = errors.New("token id out of range")

// Tokenizer is a trained byte-level BPE tokenizer. It is immutable after
// Train or Load and safe for concurrent use.
type Tokenizer struct {
	tokens   [][]byte  // id -> bytes it decodes to
	specials []special // sorted by id
	byteID   [256]int32
	merges   []merge           // in rank order
	ranks    map[uint64]rankID // pair key -> rank and merged id
}

type special struct {
	id      int
	content string
}

type merge struct{ a, b, id int32 }

type rankID struct{ rank, id int32 }

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// VocabSize returns the number of token ids, including special tokens.
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// SpecialID returns the id of the special token with the given content.
func (t *Tokenizer) SpecialID(content string) (int, bool) {
	for _, s := range t.specials {
		if s.content == content {
			return s.id, true
		}
	}
	return 0, false
}

// IsSpecial reports whether id is a special token.
func (t *Tokenizer) IsSpecial(id int) bool {
	for _, s := range t.specials {
		if s.id == id {
			return true
		}
	}
	return false
}

// Token returns the bytes that id decodes to (not to be modified), or nil
// when id is out of range.
func (t *Tokenizer) Token(id int) []byte {
	if id < 0 || id >= len(t.tokens) {
		return nil
	}
	return t.tokens[id]
}

// Encode returns the token ids of text, treating all of it as ordinary
// text: it never returns a special token id. Decode(Encode(text)) == text
// for any string, including invalid UTF-8.
func (t *Tokenizer) Encode(text string) []int {
	return t.AppendEncode(nil, text)
}

// AppendEncode appends the ids of text, as Encode gives them, to dst.
func (t *Tokenizer) AppendEncode(dst []int, text string) []int {
	var buf [64]int32
	pretokenize(text, func(piece string) {
		dst = t.appendPiece(dst, buf[:0], piece)
	})
	return dst
}

// EncodeWithSpecials is Encode, except that occurrences of special tokens'
// contents in text become those tokens, leftmost first and the longest at a
// position, as Hugging Face treats added tokens. Use it for template text,
// never for user input.
func (t *Tokenizer) EncodeWithSpecials(text string) []int {
	var dst []int
	for len(text) > 0 {
		at, which := -1, -1
		for k, s := range t.specials {
			i := strings.Index(text, s.content)
			if i < 0 {
				continue
			}
			if at < 0 || i < at || (i == at && len(s.content) > len(t.specials[which].content)) {
				at, which = i, k
			}
		}
		if at < 0 {
			return t.AppendEncode(dst, text)
		}
		dst = t.AppendEncode(dst, text[:at])
		dst = append(dst, t.specials[which].id)
		text = text[at+len(t.specials[which].content):]
	}
	return dst
}

// appendPiece runs BPE on one pre-token: start from its bytes and merge the
// adjacent pair of lowest rank, leftmost first, until no pair has a merge.
func (t *Tokenizer) appendPiece(dst []int, syms []int32, piece string) []int {
	for i := 0; i < len(piece); i++ {
		syms = append(syms, t.byteID[piece[i]])
	}
	for len(syms) > 1 {
		best, at := rankID{rank: -1}, -1
		for i := 0; i+1 < len(syms); i++ {
			r, ok := t.ranks[pairKey(syms[i], syms[i+1])]
			if ok && (at < 0 || r.rank < best.rank) {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		syms[at] = best.id
		syms = append(syms[:at+1], syms[at+2:]...)
	}
	for _, s := range syms {
		dst = append(dst, int(s))
	}
	return dst
}

// Decode returns the text of ids: the concatenated bytes of their tokens,
// special tokens as their content. It fails, wrapping ErrBadID, on an id
// outside the vocabulary.
func (t *Tokenizer) Decode(ids []int) (string, error) {
	var b strings.Builder
	for i, id := range ids {
		if id < 0 || id >= len(t.tokens) {
			return "", fmt.Errorf("tokenizer: decode: ids[%d] = %d, vocabulary has %d: %w", i, id, len(t.tokens), ErrBadID)
		}
		b.Write(t.tokens[id])
	}
	return b.String(), nil
}

// build fills ranks and byteID from tokens, specials and merges; the other
// fields must be set.
func (t *Tokenizer) build() {
	t.ranks = make(map[uint64]rankID, len(t.merges))
	for r, m := range t.merges {
		t.ranks[pairKey(m.a, m.b)] = rankID{rank: int32(r), id: m.id}
	}
}
