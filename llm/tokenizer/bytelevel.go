package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// byteRunes maps each byte to the printable character GPT-2 stands it for in
// vocabulary strings (openai/gpt-2 encoder.py, bytes_to_unicode): printable
// Latin-1 bytes stand for themselves, the other 68 bytes take U+0100 onward
// in byte order, so the space 0x20 becomes 'Ġ' (U+0120).
func byteRunes() (fwd [256]rune, back map[rune]byte) {
	back = make(map[rune]byte, 256)
	n := rune(0)
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			fwd[b] = rune(b)
		} else {
			fwd[b] = 256 + n
			n++
		}
		back[fwd[b]] = byte(b)
	}
	return fwd, back
}

// class of a character for pre-tokenization.
type charClass uint8

const (
	classSpace  charClass = iota // Unicode White_Space
	classLetter                  // \p{L}
	classNumber                  // \p{N}
	classOther                   // anything else, including invalid UTF-8 bytes
)

// nextChar decodes the character at s[i:], returning its class and size in
// bytes. An invalid byte is one classOther character of size 1.
func nextChar(s string, i int) (charClass, int) {
	r, size := utf8.DecodeRuneInString(s[i:])
	switch {
	case r == utf8.RuneError && size <= 1:
		return classOther, 1
	case unicode.IsSpace(r):
		return classSpace, size
	case unicode.IsLetter(r):
		return classLetter, size
	case unicode.IsNumber(r):
		return classNumber, size
	}
	return classOther, size
}

// run returns the end of the run of characters of class c starting at i.
func run(s string, i int, c charClass) int {
	for i < len(s) {
		cc, size := nextChar(s, i)
		if cc != c {
			break
		}
		i += size
	}
	return i
}

// contraction returns the length of an English contraction suffix at s[i:]
// ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d"), or 0.
func contraction(s string, i int) int {
	if s[i] != '\'' || i+1 >= len(s) {
		return 0
	}
	switch s[i+1] {
	case 's', 't', 'm', 'd':
		return 2
	}
	if i+2 < len(s) {
		switch s[i+1 : i+3] {
		case "re", "ve", "ll":
			return 3
		}
	}
	return 0
}

// pretokenize calls f with each piece of s in order; the pieces concatenate
// to s. The rule is GPT-2's pattern, tried in order at each position:
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// written out by hand because Go's regexp has no look-ahead.
func pretokenize(s string, f func(piece string)) {
	for i := 0; i < len(s); {
		if n := contraction(s, i); n > 0 {
			f(s[i : i+n])
			i += n
			continue
		}
		start := i
		c, size := nextChar(s, i)
		if s[i] == ' ' && i+1 < len(s) {
			// An optional leading space joins the word that follows it.
			if c2, _ := nextChar(s, i+1); c2 != classSpace {
				end := run(s, i+1, c2)
				f(s[start:end])
				i = end
				continue
			}
		}
		if c != classSpace {
			end := run(s, i, c)
			f(s[start:end])
			i = end
			continue
		}
		end := run(s, i, classSpace)
		if end < len(s) && end-i > size {
			// \s+(?!\S): leave the last white-space character to start
			// the next piece, which a following word may take.
			end = lastCharStart(s, start, end)
		}
		f(s[start:end])
		i = end
	}
}

// lastCharStart returns where the last character of s[start:end] begins.
func lastCharStart(s string, start, end int) int {
	last := start
	for j := start; j < end; {
		_, size := nextChar(s, j)
		last = j
		j += size
	}
	return last
}
