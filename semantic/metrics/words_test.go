package metrics

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   \t\n", nil},
		{"The Nation.", []string{"the", "nation", "."}},
		{"congress, the", []string{"congress", ",", "the"}},
		{"  many   spaces\there ", []string{"many", "spaces", "here"}},
		{"don't stop", []string{"don't", "stop"}},
		{"it\u2019s", []string{"it\u2019s"}},
		{"'quoted'", []string{"'", "quoted", "'"}},
		{"well-known - fact", []string{"well-known", "-", "fact"}},
		{"a--b", []string{"a", "-", "-", "b"}},
		{"3.5% of 1,000", []string{"3.5", "%", "of", "1,000"}},
		{"1990s.", []string{"1990s", "."}},
		{"end 3.", []string{"end", "3", "."}},
		{"a,b", []string{"a", ",", "b"}},
		{"$5", []string{"$", "5"}},
		{"why?!", []string{"why", "?", "!"}},
		{"ÉCOLE été", []string{"école", "été"}},
		{"x\xffy", []string{"x", "\uFFFD", "y"}},
	}
	for _, tc := range tests {
		if got := Words(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Words(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExactMatch(t *testing.T) {
	tests := []struct {
		ref, hyp string
		want     bool
	}{
		{"the cat sat.", "the cat sat.", true},
		{"The cat sat.", "the cat sat .", true},
		{"the cat sat.", "the cat sat", false},
		{"the cat sat", "the cat sat on", false},
		{"", "", true},
		{"a", "", false},
	}
	for _, tc := range tests {
		if got := ExactMatch(tc.ref, tc.hyp); got != tc.want {
			t.Errorf("ExactMatch(%q, %q) = %v, want %v", tc.ref, tc.hyp, got, tc.want)
		}
		// The tests' pairs differ in case only where ExactMatch ignores it.
		if got, want := CasedExactMatch(tc.ref, tc.hyp), tc.want && tc.ref[:min(1, len(tc.ref))] == tc.hyp[:min(1, len(tc.hyp))]; got != want {
			t.Errorf("CasedExactMatch(%q, %q) = %v, want %v", tc.ref, tc.hyp, got, want)
		}
	}
	if got := CasedWords("Gate B12, DON'T x\xffy"); !slices.Equal(got, []string{"Gate", "B12", ",", "DON'T", "x", "\uFFFD", "y"}) {
		t.Errorf("CasedWords = %q", got)
	}
	if !CasedExactMatch("Meet me at Gate B12.", "Meet me at Gate B12 .") || CasedExactMatch("Meet me at Gate B12.", "meet me at gate b12.") {
		t.Error("CasedExactMatch must ignore spacing and count case")
	}
}

// FuzzWords checks the properties the rule promises for any input: tokens are
// non-empty valid UTF-8 without white space, they spell the lower-cased input with
// the white space removed, and tokenising the tokens joined by spaces changes
// nothing.
func FuzzWords(f *testing.F) {
	for _, s := range []string{
		"", "The nation.", "don't", "3.5% of 1,000", "a--b", "x\xffy", "'quoted'",
		"İstanbul", "\u0301accent", "tab\tand\nnewline", "ǅ", "1.2.3", "-a-",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks := Words(s)
		for _, tok := range toks {
			if tok == "" || !utf8.ValidString(tok) || strings.IndexFunc(tok, unicode.IsSpace) >= 0 {
				t.Fatalf("Words(%q) has token %q", s, tok)
			}
		}
		spelled := strings.Join(strings.FieldsFunc(strings.ToLower(s), unicode.IsSpace), "")
		if got := strings.Join(toks, ""); got != spelled {
			t.Fatalf("Words(%q) spells %q, want %q", s, got, spelled)
		}
		if again := Words(strings.Join(toks, " ")); !slices.Equal(again, toks) {
			t.Fatalf("Words(%q) = %q, but again gives %q", s, toks, again)
		}
		cased := CasedWords(s)
		if len(cased) != len(toks) {
			t.Fatalf("CasedWords(%q) = %q, Words %q", s, cased, toks)
		}
		for i, c := range cased {
			if strings.ToLower(c) != toks[i] {
				t.Fatalf("CasedWords(%q) = %q, Words %q", s, cased, toks)
			}
		}
	})
}
