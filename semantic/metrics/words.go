package metrics

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Words splits s into the tokens that BLEU and ExactMatch compare.
//
// The rule: s is lower-cased (Unicode simple case mapping) and cut at white space.
// Within each piece, every punctuation or symbol character (Unicode categories P and
// S) is a token of its own, so "nation." gives "nation" and "." and "$5" gives "$"
// and "5". Two exceptions keep common words and numbers whole: an apostrophe (' or
// U+2019) or a hyphen between two letters or digits stays inside the word ("don't",
// "well-known"), and a '.' or ',' between two digits stays inside the number ("3.5",
// "1,000"). Every other character, letters, digits and marks included, belongs to
// the word it touches. Invalid UTF-8 bytes become U+FFFD, a symbol token.
//
// Punctuation counts as tokens because a hypothesis that drops or garbles it differs
// from the reference, and because words of the corpus (dataset.Sentences) carry
// their punctuation attached: without the split "nation." and "nation" would not
// match at all.
func Words(s string) []string {
	// ToLower also replaces invalid UTF-8 with U+FFFD, so in words every rune is
	// RuneLen(r) bytes wide.
	return words(strings.ToLower(s))
}

// CasedWords is Words without the lower-casing: the same tokens, each with its
// letters' case as in s, so Words(s)[i] is strings.ToLower(CasedWords(s)[i]).
func CasedWords(s string) []string {
	// The identity mapping replaces each invalid UTF-8 byte with U+FFFD, as ToLower
	// does in Words.
	return words(strings.Map(func(r rune) rune { return r }, s))
}

// words cuts valid UTF-8 s into tokens by the rule of Words, case aside.
func words(s string) []string {
	var out []string
	start := -1 // byte offset where the current word began, -1 outside a word
	var prev rune = ' '
	for i, r := range s {
		switch {
		case unicode.IsSpace(r):
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		case (unicode.IsPunct(r) || unicode.IsSymbol(r)) && !joins(prev, r, s[i+utf8.RuneLen(r):]):
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			out = append(out, s[i:i+utf8.RuneLen(r)])
		default:
			if start < 0 {
				start = i
			}
		}
		prev = r
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

// joins reports whether punctuation r, after prev and before rest, stays inside a
// word by the exceptions listed at Words.
func joins(prev, r rune, rest string) bool {
	next, _ := utf8.DecodeRuneInString(rest)
	switch r {
	case '\'', '\u2019', '-':
		return isAlnum(prev) && isAlnum(next)
	case '.', ',':
		return unicode.IsDigit(prev) && unicode.IsDigit(next)
	}
	return false
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// ExactMatch reports whether hyp says exactly what ref says, token for token by
// Words, so differences of case and of spacing around punctuation do not count.
func ExactMatch(ref, hyp string) bool {
	return slices.Equal(Words(ref), Words(hyp))
}

// CasedExactMatch is ExactMatch by CasedWords: the case of every letter counts too,
// spacing around punctuation still does not.
func CasedExactMatch(ref, hyp string) bool {
	return slices.Equal(CasedWords(ref), CasedWords(hyp))
}
