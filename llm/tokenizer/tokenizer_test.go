package tokenizer

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/m4sc/m4sc/dataset"
)

// smallCorpus is enough English to learn a few hundred merges from.
var smallCorpus = strings.Split(`the congress of the united states shall have power to lay and collect taxes.
we the people of the united states, in order to form a more perfect union, establish justice.
it's the duty of the president to give to the congress information of the state of the union.
i have the honor to lay before you the report of the secretary of the treasury.
the year 1801 saw 12,000 men under arms, and we'll see 3.5 million dollars spent.
our relations with foreign nations continue to be friendly; they've treaties with us.
the government of the united states has been at peace with all nations.
let us continue to work together for the good of the people and the nation.`, "\n")

var (
	smallOnce sync.Once
	smallTok  *Tokenizer
)

func small(tb testing.TB) *Tokenizer {
	tb.Helper()
	smallOnce.Do(func() {
		var err error
		smallTok, err = Train(smallCorpus, 256+len(DefaultSpecials)+200, DefaultSpecials)
		if err != nil {
			panic(err)
		}
	})
	return smallTok
}

func TestPretokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"Hello world", []string{"Hello", " world"}},
		{"it's  ok\n", []string{"it", "'s", " ", " ok", "\n"}},
		{"we'll 3.5 dollars!!", []string{"we", "'ll", " 3", ".", "5", " dollars", "!!"}},
		{"a\n\nb", []string{"a", "\n", "\n", "b"}},
		{"x   ", []string{"x", "   "}},
		{" \t y", []string{" \t", " y"}},
		{"a\xffb\xfe\xfd", []string{"a", "\xff", "b", "\xfe\xfd"}},
		{"naïve 東京 ٣٤", []string{"naïve", " 東京", " ٣٤"}},
		{"'x", []string{"'", "x"}},
	}
	for _, tc := range tests {
		var got []string
		pretokenize(tc.in, func(p string) { got = append(got, p) })
		if !slices.Equal(got, tc.want) {
			t.Errorf("pretokenize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestByteRunes(t *testing.T) {
	fwd, back := byteRunes()
	if fwd[' '] != 'Ġ' || fwd['\n'] != 'Ċ' || fwd['a'] != 'a' {
		t.Errorf("byte map: space %q newline %q a %q, want Ġ Ċ a (GPT-2)", fwd[' '], fwd['\n'], fwd['a'])
	}
	if len(back) != 256 {
		t.Errorf("byte map not one to one: %d characters", len(back))
	}
}

func checkRoundTrip(t *testing.T, tok *Tokenizer, s string) {
	t.Helper()
	ids := tok.Encode(s)
	for _, id := range ids {
		if tok.IsSpecial(id) {
			t.Fatalf("Encode(%q) produced special token %d", s, id)
		}
	}
	got, err := tok.Decode(ids)
	if err != nil {
		t.Fatalf("Decode(Encode(%q)): %v", s, err)
	}
	if got != s {
		t.Fatalf("round trip of %q gave %q", s, got)
	}
}

func TestRoundTripRandom(t *testing.T) {
	tok := small(t)
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("abc ABC 019 .,'!?\n\t\u00a0éß東京😀\ufffd\u0085")
	for range 2000 {
		n := r.IntN(40)
		// Random valid UTF-8 over the whole code space and a mixed alphabet.
		var b strings.Builder
		for range n {
			if r.IntN(2) == 0 {
				b.WriteRune(alphabet[r.IntN(len(alphabet))])
			} else {
				b.WriteRune(rune(r.IntN(utf8.MaxRune + 1)))
			}
		}
		checkRoundTrip(t, tok, b.String())
		// Arbitrary bytes, mostly invalid UTF-8.
		raw := make([]byte, n)
		for i := range raw {
			raw[i] = byte(r.Uint32())
		}
		checkRoundTrip(t, tok, string(raw))
	}
	for _, s := range smallCorpus {
		checkRoundTrip(t, tok, s)
	}
}

func TestSpecials(t *testing.T) {
	tok := small(t)
	for i, s := range DefaultSpecials {
		if id, ok := tok.SpecialID(s); !ok || id != i {
			t.Errorf("SpecialID(%q) = %d, %v; want %d", s, id, ok, i)
		}
	}
	text := "<task>text.transmit</task><text>the <image> of the union</text><response>"
	checkRoundTrip(t, tok, text)

	ids := tok.EncodeWithSpecials(text)
	var specials []string
	for _, id := range ids {
		if tok.IsSpecial(id) {
			specials = append(specials, string(tok.Token(id)))
		}
	}
	want := []string{"<task>", "</task>", "<text>", "<image>", "</text>", "<response>"}
	if !slices.Equal(specials, want) {
		t.Errorf("EncodeWithSpecials specials = %q, want %q", specials, want)
	}
	if got, err := tok.Decode(ids); err != nil || got != text {
		t.Errorf("Decode(EncodeWithSpecials) = %q, %v", got, err)
	}
	// Every ordinary token is made of ordinary text; none spells a special.
	for id := range tok.VocabSize() {
		if !tok.IsSpecial(id) {
			if _, ok := tok.SpecialID(string(tok.Token(id))); ok {
				t.Errorf("token %d spells special %q", id, tok.Token(id))
			}
		}
	}
	if _, err := tok.Decode([]int{0, tok.VocabSize()}); !errors.Is(err, ErrBadID) {
		t.Errorf("Decode of out-of-range id: %v, want ErrBadID", err)
	}
	if _, err := tok.Decode([]int{-1}); !errors.Is(err, ErrBadID) {
		t.Errorf("Decode of -1: %v, want ErrBadID", err)
	}
}

func TestTrainErrors(t *testing.T) {
	tests := []struct {
		name     string
		size     int
		specials []string
	}{
		{"too small", 256, []string{"<pad>"}},
		{"empty special", 300, []string{""}},
		{"twice", 300, []string{"<a>", "<a>"}},
		{"invalid utf-8", 300, []string{"\xff"}},
	}
	for _, tc := range tests {
		if _, err := Train(smallCorpus, tc.size, tc.specials); err == nil {
			t.Errorf("%s: Train succeeded", tc.name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := TrainContext(ctx, smallCorpus, 400, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled training: %v", err)
	}
}

func TestTrainDeterministicAndSpecialSafe(t *testing.T) {
	a, err := Train(smallCorpus, 340, DefaultSpecials)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Train(smallCorpus, 340, DefaultSpecials)
	var wa, wb bytes.Buffer
	if err := a.Write(&wa); err != nil {
		t.Fatal(err)
	}
	b.Write(&wb)
	if !bytes.Equal(wa.Bytes(), wb.Bytes()) {
		t.Error("two trainings on the same data differ")
	}
	if a.VocabSize() != 340 {
		t.Errorf("VocabSize = %d, want 340", a.VocabSize())
	}
	// A special that the corpus spells often must not become a merge.
	corpus := slices.Repeat([]string{"ab ab ab abab"}, 50)
	tok, err := Train(corpus, 300, []string{"ab"})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(tok.Encode("ab"), 0) {
		t.Error(`Encode("ab") gave the special "ab"`)
	}
	for id := 1; id < tok.VocabSize(); id++ {
		if string(tok.Token(id)) == "ab" {
			t.Errorf("merge %d spells the special", id)
		}
	}
}

func TestSaveLoad(t *testing.T) {
	tok := small(t)
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := tok.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, tok, got, append(smallCorpus, "<task>x</task> \xff 東京"))
	var w1, w2 bytes.Buffer
	tok.Write(&w1)
	got.Write(&w2)
	if !bytes.Equal(w1.Bytes(), w2.Bytes()) {
		t.Error("Write after Load differs from the original file")
	}
}

func checkSame(t *testing.T, a, b *Tokenizer, texts []string) {
	t.Helper()
	if a.VocabSize() != b.VocabSize() {
		t.Fatalf("vocab sizes %d and %d", a.VocabSize(), b.VocabSize())
	}
	for _, s := range texts {
		if x, y := a.Encode(s), b.Encode(s); !slices.Equal(x, y) {
			t.Fatalf("Encode(%q): %v before save, %v after", s, x, y)
		}
		if x, y := a.EncodeWithSpecials(s), b.EncodeWithSpecials(s); !slices.Equal(x, y) {
			t.Fatalf("EncodeWithSpecials(%q): %v before save, %v after", s, x, y)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := small(t).Write(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	tests := []struct {
		name, old, new, field string
	}{
		{"not json", `{`, `[`, "(file)"},
		{"model type", `"type": "BPE"`, `"type": "WordPiece"`, "model.type"},
		{"pre-tokenizer", `"pre_tokenizer": {`, `"pre_tokenizer": {"x":1,"type":"Whitespace"}, "p2": {`, "pre_tokenizer"},
		{"prefix space", `"add_prefix_space": false`, `"add_prefix_space": true`, "pre_tokenizer.add_prefix_space"},
		{"normalizer", `"normalizer": null`, `"normalizer": {"type":"NFC"}`, "normalizer"},
		{"merge part", `"merges": [` + "\n" + `      "`, `"merges": [` + "\n" + `      "zzzq `, "model.merges[0]"},
		{"merge shape", `"merges": [`, `"merges": [1,`, "model.merges[0]"},
		{"id gap", `"Ġcontinue": 349,`, ``, "model.vocab"},
		{"byte missing", `"Ġ":`, `"Ġx":`, "model.vocab"},
		{"foreign char", `"Ġ":`, `"☃":`, `model.vocab["☃"]`},
		{"dup id", `"<bos>": 1`, `"<bos>": 1, "zz": 1`, `model.vocab["zz"]`},
		{"added id", `"id": 1,`, `"id": 0,`, "added_tokens[1]"},
		{"no model", `"model": {`, `"m0del": {`, "model"},
	}
	for _, tc := range tests {
		if !strings.Contains(good, tc.old) {
			t.Fatalf("%s: fixture lacks %q", tc.name, tc.old)
		}
		bad := strings.Replace(good, tc.old, tc.new, 1)
		_, err := Read(strings.NewReader(bad))
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v, want a *FormatError", tc.name, err)
			continue
		}
		if fe.Field != tc.field {
			t.Errorf("%s: error names %q, want %q (%v)", tc.name, fe.Field, tc.field, err)
		}
	}
	// Both merge spellings of Hugging Face files load.
	pairs := strings.Replace(good, `"merges": [`+"\n"+`      "Ġ t"`, `"merges": [`+"\n"+`      ["Ġ", "t"]`, 1)
	if pairs == good {
		t.Error(`fixture has no "Ġ t" merge first; pair form untested`)
	} else if _, err := Read(strings.NewReader(pairs)); err != nil {
		t.Errorf("merge as a pair: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.json")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

// Tests on the State of the Union data; they skip when it is not cached.

func sotuOrSkip(tb testing.TB, split dataset.Split) []string {
	tb.Helper()
	base, err := os.UserCacheDir()
	if err != nil {
		tb.Skipf("no cache dir: %v", err)
	}
	texts, err := SOTUTexts(filepath.Join(base, "m4sc"), split)
	if errors.Is(err, dataset.ErrNotFetched) {
		tb.Skipf("SOTU data not in cache (%v); run `m4sc data fetch`", err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return texts
}

var (
	sotuOnce sync.Once
	sotuTok  *Tokenizer
	sotuErr  error
	sotuTime time.Duration
)

// sotu trains the default tokenizer once per test binary.
func sotu(tb testing.TB) *Tokenizer {
	train := sotuOrSkip(tb, dataset.Train)
	sotuOnce.Do(func() {
		start := time.Now()
		sotuTok, sotuErr = TrainContext(context.Background(), train, DefaultVocabSize, DefaultSpecials)
		sotuTime = time.Since(start)
	})
	if sotuErr != nil {
		tb.Fatal(sotuErr)
	}
	return sotuTok
}

func TestSOTU(t *testing.T) {
	tok := sotu(t)
	train := sotuOrSkip(t, dataset.Train)
	test := sotuOrSkip(t, dataset.Test)
	t.Logf("trained %d tokens on %d sentences in %v", tok.VocabSize(), len(train), sotuTime.Round(time.Millisecond))
	if tok.VocabSize() != DefaultVocabSize {
		t.Errorf("VocabSize = %d, want %d", tok.VocabSize(), DefaultVocabSize)
	}
	for _, s := range train {
		checkRoundTrip(t, tok, s)
	}
	var nBytes, nTokens int
	for _, s := range test {
		checkRoundTrip(t, tok, s)
		nBytes += len(s)
		nTokens += len(tok.Encode(s))
	}
	bpt := float64(nBytes) / float64(nTokens)
	t.Logf("compression on the test split: %d bytes in %d tokens = %.2f bytes/token (%d sentences)", nBytes, nTokens, bpt, len(test))
	// A 4k-token BPE on English must beat characters by far; GPT-2's 50k
	// vocabulary reaches about 4 to 4.5 bytes/token on English prose.
	if bpt < 3 {
		t.Errorf("%.2f bytes/token, want at least 3", bpt)
	}

	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := tok.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, tok, got, test)
}

func FuzzRoundTrip(f *testing.F) {
	for _, s := range smallCorpus {
		f.Add(s)
	}
	for _, s := range []string{"", " ", "\xff\xfe", "<task>caption</task><image>", "it's  ok\n\n", "東京 😀 ٣٤", "\u0085\u00a0 x", "a\x00b"} {
		f.Add(s)
	}
	tok := small(f)
	f.Fuzz(func(t *testing.T, s string) {
		var joined strings.Builder
		pretokenize(s, func(p string) {
			if p == "" {
				t.Fatalf("empty piece of %q", s)
			}
			joined.WriteString(p)
		})
		if joined.String() != s {
			t.Fatalf("pieces of %q join to %q", s, joined.String())
		}
		checkRoundTrip(t, tok, s)
		got, err := tok.Decode(tok.EncodeWithSpecials(s))
		if err != nil || got != s {
			t.Fatalf("EncodeWithSpecials round trip of %q: %q, %v", s, got, err)
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	// The SOTU test split when cached, else the small corpus.
	texts, tok := smallCorpus, small(b)
	if base, err := os.UserCacheDir(); err == nil {
		if t, err := SOTUTexts(filepath.Join(base, "m4sc"), dataset.Test); err == nil {
			texts, tok = t, sotu(b)
		}
	}
	n := 0
	for _, s := range texts {
		n += len(s)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	var ids []int
	for b.Loop() {
		for _, s := range texts {
			ids = tok.AppendEncode(ids[:0], s)
		}
	}
}

func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	if err := small(f).Write(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":-1},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"},"decoder":{"type":"ByteLevel"}}`))
	f.Add([]byte(`{"added_tokens":[{"id":99999999,"content":"x"}],"model":{"type":"BPE","vocab":{},"merges":[["a"]]},"pre_tokenizer":{"type":"ByteLevel"},"decoder":{"type":"ByteLevel"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := Read(bytes.NewReader(data))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			return
		}
		// Whatever loads must round trip.
		checkRoundTrip(t, tok, "the union \xff 東京")
	})
}
