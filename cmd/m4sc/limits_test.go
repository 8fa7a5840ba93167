package main

import (
	"strings"
	"testing"
)

// Sizes a user can ask for are bounded, and the error names the bound: a beam of
// 100,000 once grew to 24 GB, and 4096 ran out of memory.
func TestAskBeamLimit(t *testing.T) {
	wd := isolate(t)
	w := tinyWeights(t, wd)
	for _, beam := range []string{"65", "4096", "100000", "-1"} {
		code, stdout, stderr := runM4sc(t, "ask", "--weights", w, "--task", "text.transmit", "--text", "we the people", "--beam", beam)
		first, _, _ := strings.Cut(stderr, "\n")
		if code != 1 || stdout != "" || !strings.Contains(first, "--beam "+beam+": want 0 to 64") {
			t.Errorf("--beam %s: exit %d, stdout %q, stderr %q", beam, code, stdout, first)
		}
	}
	code, stdout, stderr := runM4sc(t, "ask", "--weights", w, "--task", "text.transmit", "--text", "we the people", "--beam", "64")
	if code != 0 {
		t.Errorf("--beam 64: exit %d, %s", code, stderr)
	}
	if ls := lines(t, stdout); len(ls) != 3 {
		t.Errorf("--beam 64: output %q", stdout)
	}
	if _, help, _ := runM4sc(t, "ask", "--help"); !strings.Contains(help, "beam width of text decoding, 0 to 64") {
		t.Errorf("help does not give the beam's limit:\n%s", help)
	}
}

// A text longer than one message is refused with the limit in tokens and words,
// not answered with its first tokens (the 84 words came back as 63).
func TestAskLongText(t *testing.T) {
	wd := isolate(t)
	w := tinyWeights(t, wd)
	text := strings.TrimSpace(strings.Repeat("the people of the united states in order to form a more perfect union ", 6))
	code, stdout, stderr := runM4sc(t, "ask", "--weights", w, "--task", "text.transmit", "--text", text)
	first, _, _ := strings.Cut(stderr, "\n")
	if code != 1 || stdout != "" {
		t.Fatalf("84 words: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	for _, want := range []string{"text.transmit text of", "(84 words) is too long", "at most 15 tokens", "words of this text"} {
		if !strings.Contains(first, want) {
			t.Errorf("stderr %q lacks %q", first, want)
		}
	}
}
