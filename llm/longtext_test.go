package llm

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// eightyFourWords is the example: 84 words, more tokens than one message
// takes. Before the limit was enforced, text.transmit returned its first 63 tokens
// without a word.
var eightyFourWords = strings.TrimSpace(strings.Repeat("the people of the united states in order to form a more perfect union ", 6))

// A text longer than MaxTextTokens is refused for every text task with an error that
// names the limit in tokens and roughly in words; nothing is cut. A text of exactly
// the limit passes and decodes.
func TestEncodeLongText(t *testing.T) {
	tok := shippedTokenizer(t)
	cfg := DefaultConfig(tok.VocabSize())
	cfg.Dim, cfg.ImgDim, cfg.Layers, cfg.EncLayers, cfg.ImgLayers = 32, 32, 1, 1, 1
	m, err := New(cfg, tok, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if w := len(strings.Fields(eightyFourWords)); w != 84 {
		t.Fatalf("the example has %d words", w)
	}
	for _, task := range []Task{TextTransmit, TextEra} {
		limit := m.MaxTextTokens(task)
		if limit < cfg.MaxText-4 || limit > cfg.MaxText || 5+len(m.taskIDs[task])+limit > cfg.MaxText+8 {
			t.Fatalf("%s: MaxTextTokens %d", task, limit)
		}
		_, err := m.Encode(Input{Task: task, Text: eightyFourWords})
		var long *TextTooLongError
		if !errors.As(err, &long) {
			t.Fatalf("%s: 84 words: error %v, want a *TextTooLongError", task, err)
		}
		n := len(tok.Encode(eightyFourWords))
		if long.Tokens != n || long.Words != 84 || long.Max != limit {
			t.Errorf("%s: %+v, want %d tokens, 84 words, max %d", task, *long, n, limit)
		}
		for _, want := range []string{task.String(), "tokens", "words", "at most " + strconv.Itoa(limit) + " tokens"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q lacks %q", task, err, want)
			}
		}
		// Exactly at the limit: accepted, one vector per token, and it decodes.
		ids := tok.Encode(eightyFourWords)[:limit]
		text, err := tok.Decode(ids)
		if err != nil {
			t.Fatal(err)
		}
		for len(tok.Encode(text)) > limit { // a cut can re-tokenize differently
			text = text[:len(text)-1]
		}
		s, err := m.Encode(Input{Task: task, Text: text})
		if err != nil {
			t.Fatalf("%s: text of %d tokens: %v", task, len(tok.Encode(text)), err)
		}
		if s.N != len(tok.Encode(text)) {
			t.Errorf("%s: %d vectors for %d tokens", task, s.N, len(tok.Encode(text)))
		}
		if _, err := m.Decode(s, Instruction{Task: task}, DecodeOptions{MaxTokens: 2}); err != nil {
			t.Errorf("%s: decode: %v", task, err)
		}
	}
	for _, task := range []Task{ImageCaption, ImageVQA} {
		if n := m.MaxTextTokens(task); n != 0 {
			t.Errorf("MaxTextTokens(%s) = %d, want 0", task, n)
		}
	}
}

// A question or a perplexity sentence that does not fit is refused the same way.
func TestLongQuestionAndSentence(t *testing.T) {
	m := smallModel(t, ProjectorKAN)
	img := make([]float32, ImagePixels)
	s, err := m.Encode(Input{Task: ImageVQA, Image: img})
	if err != nil {
		t.Fatal(err)
	}
	var long *TextTooLongError
	_, err = m.Decode(s, Instruction{Task: ImageVQA, Question: eightyFourWords + "?"}, DecodeOptions{})
	if !errors.As(err, &long) || long.Max != m.cfg.MaxText || !strings.Contains(err.Error(), "image.vqa question") {
		t.Errorf("long question: %v", err)
	}
	sentence := strings.Repeat(eightyFourWords+" ", 3)
	if _, _, err := m.Perplexity([]string{"a short one", sentence}); !errors.As(err, &long) || long.Max != m.cfg.MaxSeq-2 {
		t.Errorf("perplexity of %d tokens: %v", len(m.tok.Encode(sentence)), err)
	}
}

// Every size a caller can ask of Decode is bounded and the error names the bound;
// the bounds themselves are accepted.
func TestDecodeOptionsLimits(t *testing.T) {
	m := smallModel(t, ProjectorKAN)
	s, err := m.Encode(Input{Task: TextTransmit, Text: "we the people"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		o    DecodeOptions
		want string // "" for accepted
	}{
		{DecodeOptions{}, ""},
		{DecodeOptions{Beam: 1}, ""},
		{DecodeOptions{Beam: MaxBeam}, ""},
		{DecodeOptions{MaxTokens: m.cfg.MaxText}, ""},
		{DecodeOptions{Beam: -1}, "0 to 64"},
		{DecodeOptions{Beam: MaxBeam + 1}, "beam width 65 outside 0 to 64"},
		{DecodeOptions{Beam: 4096}, "0 to 64"},
		{DecodeOptions{Beam: 100000}, "0 to 64"},
		{DecodeOptions{MaxTokens: -1}, "max tokens -1 outside 0 to 64"},
		{DecodeOptions{MaxTokens: m.cfg.MaxText + 1}, "outside 0 to 64"},
		{DecodeOptions{MaxTokens: 1 << 30}, "outside 0 to 64"},
	} {
		verr := c.o.Validate(m.cfg)
		if (verr == nil) != (c.want == "") || verr != nil && !strings.Contains(verr.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want %q", c.o, verr, c.want)
		}
		if c.o.Beam > MaxBeam+1 {
			continue // unchecked, these widths would exhaust memory
		}
		_, derr := m.Decode(s, Instruction{Task: TextTransmit}, c.o)
		if (derr == nil) != (c.want == "") || derr != nil && !strings.Contains(derr.Error(), c.want) {
			t.Errorf("Decode with %+v: %v, want %q", c.o, derr, c.want)
		}
	}
}

// SplitText gives parts that each fit one message, cut between words, in order.
func TestSplitText(t *testing.T) {
	m := smallModel(t, ProjectorKAN)
	limit := m.MaxTextTokens(TextTransmit)
	parts := m.SplitText(TextTransmit, "  "+eightyFourWords+"\n")
	if len(parts) < 2 || strings.Join(parts, " ") != eightyFourWords {
		t.Fatalf("parts %q", parts)
	}
	for i, p := range parts {
		n := len(m.tok.Encode(p))
		if n > limit {
			t.Errorf("part %d has %d tokens, limit %d", i, n, limit)
		}
		// Greedy: the next part's first word did not fit after this one.
		if i+1 < len(parts) {
			next, _, _ := strings.Cut(parts[i+1], " ")
			if len(m.tok.Encode(p+" "+next)) <= limit {
				t.Errorf("part %d could have taken %q", i, next)
			}
		}
		if _, err := m.Encode(Input{Task: TextTransmit, Text: p}); err != nil {
			t.Errorf("part %d: %v", i, err)
		}
	}
	// A word longer than a message is cut between characters.
	word := strings.Repeat("ünïcödé", 40)
	parts = m.SplitText(TextEra, "a "+word+" b")
	if len(parts) < 3 || parts[0] != "a" || strings.ReplaceAll(strings.Join(parts, ""), " ", "") != "a"+word+"b" {
		t.Errorf("parts %q do not give the text back", parts)
	}
	for i, p := range parts {
		if len(m.tok.Encode(p)) > m.MaxTextTokens(TextEra) || !utf8.ValidString(p) {
			t.Errorf("part %d %q: %d tokens or invalid UTF-8", i, p, len(m.tok.Encode(p)))
		}
	}
	if m.SplitText(ImageCaption, "a b") != nil || m.SplitText(TextTransmit, " \t ") != nil {
		t.Error("parts for an image task or a text without words")
	}
}

// FuzzEncodeText feeds arbitrary text to Encode: it returns one vector per token of
// the whole text, or a *TextTooLongError when the text has more tokens than the
// model takes; never a cut text. SplitText's parts each fit and give the words back.
func FuzzEncodeText(f *testing.F) {
	tok := shippedTokenizer(f)
	cfg := DefaultConfig(tok.VocabSize())
	cfg.Dim, cfg.ImgDim, cfg.Layers, cfg.EncLayers, cfg.ImgLayers, cfg.SemDim = 8, 8, 1, 1, 1, 2
	cfg.MaxText, cfg.MaxSeq = 8, 32
	m, err := New(cfg, tok, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("we the people")
	f.Add(eightyFourWords)
	f.Add("one two three four five six seven")
	f.Add("1776 1787 1791 1865 1920 1964")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, text string) {
		n := len(tok.Encode(text))
		for _, task := range []Task{TextTransmit, TextEra} {
			s, err := m.Encode(Input{Task: task, Text: text})
			var long *TextTooLongError
			switch {
			case text == "":
				if err == nil {
					t.Fatalf("%s: empty text accepted", task)
				}
			case n > m.MaxTextTokens(task):
				if !errors.As(err, &long) || long.Tokens != n {
					t.Fatalf("%s: %d tokens (limit %d): %v", task, n, m.MaxTextTokens(task), err)
				}
			case err != nil:
				t.Fatalf("%s: %d tokens: %v", task, n, err)
			case s.N != n:
				t.Fatalf("%s: %d vectors for %d tokens", task, s.N, n)
			}
			parts := m.SplitText(task, text)
			for _, p := range parts {
				if p == "" || len(tok.Encode(p)) > m.MaxTextTokens(task) {
					t.Fatalf("%s: part %q of %d tokens", task, p, len(tok.Encode(p)))
				}
			}
			if got, want := strings.Join(strings.Fields(strings.Join(parts, " ")), ""), strings.Join(strings.Fields(text), ""); got != want {
				t.Fatalf("%s: parts %q lose or add characters", task, parts)
			}
		}
	})
}
