package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// The tokenizer.json layout written and read here is the one of Hugging Face
// tokenizers 0.x (tokenizers/src/tokenizer/serialization.rs): a BPE model
// with "vocab" (token string -> id) and "merges" in rank order, each merge
// the two token strings joined by a space; byte-level token strings spell
// bytes through GPT-2's byte-to-character map (see byteRunes).

// FormatError reports a tokenizer.json that Read cannot use, naming the
// field at fault, e.g. `model.merges[12]`.
type FormatError struct {
	Field  string
	Reason string
}

func (e *FormatError) Error() string {
	return "tokenizer: tokenizer.json: " + e.Field + ": " + e.Reason
}

func formatErr(field, format string, args ...any) error {
	return &FormatError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	Lstrip     bool   `json:"lstrip"`
	Rstrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type byteLevel struct {
	Type           string `json:"type"`
	AddPrefixSpace bool   `json:"add_prefix_space"`
	TrimOffsets    bool   `json:"trim_offsets"`
	UseRegex       *bool  `json:"use_regex,omitempty"`
}

type bpeModel struct {
	Type                    string            `json:"type"`
	Dropout                 *float64          `json:"dropout"`
	UnkToken                *string           `json:"unk_token"`
	ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
	FuseUnk                 bool              `json:"fuse_unk"`
	ByteFallback            bool              `json:"byte_fallback"`
	IgnoreMerges            bool              `json:"ignore_merges"`
	Vocab                   json.RawMessage   `json:"vocab"`
	Merges                  []json.RawMessage `json:"merges"`
}

type fileJSON struct {
	Version       string          `json:"version"`
	Truncation    json.RawMessage `json:"truncation"`
	Padding       json.RawMessage `json:"padding"`
	AddedTokens   []addedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  *byteLevel      `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       *byteLevel      `json:"decoder"`
	Model         *bpeModel       `json:"model"`
}

// vocabString returns the string id has in the file's vocab.
func (t *Tokenizer) vocabString(fwd *[256]rune, id int) string {
	if t.IsSpecial(id) {
		return string(t.tokens[id])
	}
	var b strings.Builder
	for _, c := range t.tokens[id] {
		b.WriteRune(fwd[c])
	}
	return b.String()
}

// Write writes t as a Hugging Face tokenizer.json, vocab in id order.
func (t *Tokenizer) Write(w io.Writer) error {
	fwd, _ := byteRunes()
	null := json.RawMessage("null")
	yes := true
	f := fileJSON{
		Version:       "1.0",
		Truncation:    null,
		Padding:       null,
		AddedTokens:   []addedToken{},
		Normalizer:    null,
		PreTokenizer:  &byteLevel{Type: "ByteLevel", TrimOffsets: true, UseRegex: &yes},
		PostProcessor: null,
		Decoder:       &byteLevel{Type: "ByteLevel", TrimOffsets: true, UseRegex: &yes},
		Model:         &bpeModel{Type: "BPE", Merges: []json.RawMessage{}},
	}
	for _, s := range t.specials {
		f.AddedTokens = append(f.AddedTokens, addedToken{ID: s.id, Content: s.content, Special: true})
	}
	var v bytes.Buffer
	v.WriteByte('{')
	for id := range t.tokens {
		if id > 0 {
			v.WriteByte(',')
		}
		k, err := marshalString(t.vocabString(&fwd, id))
		if err != nil {
			return fmt.Errorf("tokenizer: write: %w", err)
		}
		fmt.Fprintf(&v, "\n%s:%d", k, id)
	}
	v.WriteString("\n}")
	f.Model.Vocab = v.Bytes()
	for _, m := range t.merges {
		k, err := marshalString(t.vocabString(&fwd, int(m.a)) + " " + t.vocabString(&fwd, int(m.b)))
		if err != nil {
			return fmt.Errorf("tokenizer: write: %w", err)
		}
		f.Model.Merges = append(f.Model.Merges, k)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("tokenizer: write: %w", err)
	}
	return nil
}

// marshalString quotes s as JSON, leaving <, > and & as they are so that
// special tokens read plainly in the file.
func marshalString(s string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Save writes t to path as tokenizer.json (see Write).
func (t *Tokenizer) Save(path string) error {
	var b bytes.Buffer
	if err := t.Write(&b); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("tokenizer: save: %w", err)
	}
	return nil
}

// Load reads a tokenizer.json from path (see Read).
func Load(path string) (*Tokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: load: %w", err)
	}
	defer f.Close()
	t, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return t, nil
}

// Read reads a Hugging Face tokenizer.json holding a byte-level BPE model:
// model.type "BPE" without dropout, unknown token or byte fallback; a
// ByteLevel pre_tokenizer without prefix space and with the GPT-2 regex; a
// ByteLevel decoder; no normalizer. Ids must run from 0 without gaps, all
// 256 bytes must have tokens, and every merge must join two tokens into a
// third one. Anything else is a *FormatError naming the field.
func Read(r io.Reader) (*Tokenizer, error) {
	var f fileJSON
	dec := json.NewDecoder(r)
	if err := dec.Decode(&f); err != nil {
		return nil, &FormatError{Field: "(file)", Reason: "not JSON of the expected shape: " + err.Error()}
	}
	if err := checkHeader(&f); err != nil {
		return nil, err
	}
	var vocab map[string]int
	if err := json.Unmarshal(f.Model.Vocab, &vocab); err != nil {
		return nil, formatErr("model.vocab", "not an object of token -> id: %v", err)
	}
	size := 0
	for _, id := range vocab {
		size = max(size, id+1)
	}
	for _, a := range f.AddedTokens {
		size = max(size, a.ID+1)
	}
	if size < 256 {
		return nil, formatErr("model.vocab", "%d ids, fewer than the 256 bytes", size)
	}
	if size > 1<<24 {
		return nil, formatErr("model.vocab", "id %d too large", size-1)
	}
	t := &Tokenizer{tokens: make([][]byte, size)}
	strs := make([]string, size)
	seen := make([]bool, size)
	for i, a := range f.AddedTokens {
		field := fmt.Sprintf("added_tokens[%d]", i)
		switch {
		case a.ID < 0:
			return nil, formatErr(field, "negative id %d", a.ID)
		case a.Content == "":
			return nil, formatErr(field, "empty content")
		case seen[a.ID]:
			return nil, formatErr(field, "id %d used twice", a.ID)
		}
		seen[a.ID] = true
		strs[a.ID] = a.Content
		t.tokens[a.ID] = []byte(a.Content)
		t.specials = append(t.specials, special{id: a.ID, content: a.Content})
	}
	slices.SortFunc(t.specials, func(a, b special) int { return a.id - b.id })
	_, back := byteRunes()
	for s, id := range vocab {
		field := fmt.Sprintf("model.vocab[%q]", s)
		if id < 0 {
			return nil, formatErr(field, "negative id %d", id)
		}
		if seen[id] {
			if t.IsSpecial(id) && strs[id] == s {
				continue // HF also lists special tokens in the vocab
			}
			return nil, formatErr(field, "id %d used twice (also %q)", id, strs[id])
		}
		b, ok := unmapBytes(back, s)
		if !ok {
			return nil, formatErr(field, "not a byte-level token: a character outside the byte map")
		}
		seen[id], strs[id], t.tokens[id] = true, s, b
	}
	for id, ok := range seen {
		if !ok {
			return nil, formatErr("model.vocab", "no token has id %d (ids must run from 0 to %d)", id, size-1)
		}
	}
	ids := make(map[string]int32, size)
	var haveByte [256]bool
	for id, s := range strs {
		if t.IsSpecial(id) {
			continue
		}
		ids[s] = int32(id)
		if b := t.tokens[id]; len(b) == 1 {
			t.byteID[b[0]], haveByte[b[0]] = int32(id), true
		}
	}
	for b, ok := range haveByte {
		if !ok {
			return nil, formatErr("model.vocab", "no token for byte 0x%02x (%q)", b, string(byteRunesFwd(b)))
		}
	}
	pairs := make(map[uint64]bool, len(f.Model.Merges))
	for i, raw := range f.Model.Merges {
		field := fmt.Sprintf("model.merges[%d]", i)
		a, b, err := parseMerge(raw)
		if err != nil {
			return nil, formatErr(field, "%v", err)
		}
		ia, oka := ids[a]
		ib, okb := ids[b]
		im, okm := ids[a+b]
		switch {
		case !oka:
			return nil, formatErr(field, "left part %q not in vocab", a)
		case !okb:
			return nil, formatErr(field, "right part %q not in vocab", b)
		case !okm:
			return nil, formatErr(field, "merged token %q not in vocab", a+b)
		}
		k := pairKey(ia, ib)
		if pairs[k] {
			continue // as HF: the first rank of a pair counts
		}
		pairs[k] = true
		t.merges = append(t.merges, merge{a: ia, b: ib, id: im})
	}
	t.build()
	return t, nil
}

func checkHeader(f *fileJSON) error {
	isNull := func(m json.RawMessage) bool { return len(m) == 0 || string(m) == "null" }
	switch {
	case f.Model == nil:
		return formatErr("model", "missing")
	case f.Model.Type != "BPE":
		return formatErr("model.type", "%q, want \"BPE\"", f.Model.Type)
	case f.Model.Dropout != nil && *f.Model.Dropout != 0:
		return formatErr("model.dropout", "BPE dropout not supported")
	case f.Model.ByteFallback:
		return formatErr("model.byte_fallback", "not supported (byte-level BPE needs none)")
	case f.Model.ContinuingSubwordPrefix != nil && *f.Model.ContinuingSubwordPrefix != "":
		return formatErr("model.continuing_subword_prefix", "not supported")
	case f.Model.EndOfWordSuffix != nil && *f.Model.EndOfWordSuffix != "":
		return formatErr("model.end_of_word_suffix", "not supported")
	case len(f.Model.Vocab) == 0:
		return formatErr("model.vocab", "missing")
	case !isNull(f.Normalizer):
		return formatErr("normalizer", "not supported, want null")
	case f.PreTokenizer == nil || f.PreTokenizer.Type != "ByteLevel":
		return formatErr("pre_tokenizer", "want type \"ByteLevel\"")
	case f.PreTokenizer.AddPrefixSpace:
		return formatErr("pre_tokenizer.add_prefix_space", "true not supported")
	case f.PreTokenizer.UseRegex != nil && !*f.PreTokenizer.UseRegex:
		return formatErr("pre_tokenizer.use_regex", "false not supported")
	case f.Decoder == nil || f.Decoder.Type != "ByteLevel":
		return formatErr("decoder", "want type \"ByteLevel\"")
	}
	return nil
}

// parseMerge accepts both merge forms of tokenizer.json: "a b" and ["a","b"].
func parseMerge(raw json.RawMessage) (a, b string, err error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		a, b, ok := strings.Cut(s, " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return "", "", fmt.Errorf("%q is not two tokens joined by one space", s)
		}
		return a, b, nil
	}
	var p []string
	if err := json.Unmarshal(raw, &p); err != nil || len(p) != 2 || p[0] == "" || p[1] == "" {
		return "", "", fmt.Errorf("%s is neither \"a b\" nor [\"a\", \"b\"]", raw)
	}
	return p[0], p[1], nil
}

// unmapBytes turns a byte-level token string back into its bytes.
func unmapBytes(back map[rune]byte, s string) ([]byte, bool) {
	if s == "" {
		return nil, false
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		b, ok := back[r]
		if !ok {
			return nil, false
		}
		out = append(out, b)
	}
	return out, true
}

func byteRunesFwd(b int) rune {
	fwd, _ := byteRunes()
	return fwd[b]
}
