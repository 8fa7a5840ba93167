package radio

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Spec is a parsed device string: "driver[:argument][,key=value...]".
//
// The argument is everything between the first ':' and the first ',' (a preset for
// loopback, a serial for hackrf, a path for file); it may be empty. Keys are lower-case
// words ([a-z][a-z0-9_]*), each given once, with a non-empty value. Spaces around
// tokens are ignored. A path containing a comma cannot be named this way.
type Spec struct {
	Driver string
	Arg    string
	Params []Param // in the order written
}

// Param is one key=value pair of a device string.
type Param struct{ Key, Value string }

// SpecError reports a malformed device string or parameter.
type SpecError struct {
	Spec string
	Msg  string
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("radio: device %s: %s", QuoteSpec(e.Spec), e.Msg)
}

// maxShownSpec is how many bytes of a device string an error message repeats.
const maxShownSpec = 100

// ClipSpec shortens a device string (or a value in one) for a message. A string
// longer than a person would type is cut after maxShownSpec bytes, at a
// character boundary, and followed by an ellipsis and its full length, so that a
// hostile or mistaken argument of megabytes does not fill the terminal.
func ClipSpec(s string) string {
	head, n := clip(s)
	if n == 0 {
		return s
	}
	return fmt.Sprintf("%s... (%d bytes)", head, n)
}

// QuoteSpec is ClipSpec with the kept part quoted as by %q.
func QuoteSpec(s string) string {
	head, n := clip(s)
	if n == 0 {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%q... (%d bytes)", head, n)
}

// clip returns the first maxShownSpec bytes of s, cut at a character boundary,
// and the length of s; or s and 0 when it is short enough.
func clip(s string) (string, int) {
	if len(s) <= maxShownSpec {
		return s, 0
	}
	cut := maxShownSpec
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], len(s)
}

// maxSpecLen bounds what the parser accepts; a device string is typed by a person.
const maxSpecLen = 4096

// ParseSpec splits a device string. It checks syntax only; whether the driver exists
// and the keys mean anything is the opener's business.
func ParseSpec(s string) (Spec, error) {
	fail := func(format string, a ...any) (Spec, error) {
		return Spec{}, &SpecError{Spec: s, Msg: fmt.Sprintf(format, a...)}
	}
	if len(s) > maxSpecLen {
		return fail("longer than %d bytes", maxSpecLen)
	}
	if !utf8.ValidString(s) {
		return fail("not valid UTF-8")
	}
	if strings.ContainsAny(s, "\x00\n\r") {
		return fail("contains a control character")
	}
	parts := strings.Split(s, ",")
	head := strings.TrimSpace(parts[0])
	var sp Spec
	if i := strings.IndexByte(head, ':'); i >= 0 {
		sp.Driver, sp.Arg = strings.TrimSpace(head[:i]), strings.TrimSpace(head[i+1:])
	} else {
		sp.Driver = head
	}
	if sp.Driver == "" {
		return fail("no driver name before ':' (try loopback, file or hackrf)")
	}
	if !isWord(sp.Driver) {
		return fail("driver name %s: use lower-case letters, digits and '_'", QuoteSpec(sp.Driver))
	}
	seen := make(map[string]bool, len(parts)-1)
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		if p == "" {
			return fail("empty parameter between commas")
		}
		k, v, ok := strings.Cut(p, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok {
			return fail("parameter %s has no '=value'", QuoteSpec(p))
		}
		if !isWord(k) {
			return fail("parameter name %s: use lower-case letters, digits and '_'", QuoteSpec(k))
		}
		if v == "" {
			return fail("parameter %s has an empty value", ClipSpec(k))
		}
		if seen[k] {
			return fail("parameter %s given twice", ClipSpec(k))
		}
		seen[k] = true
		sp.Params = append(sp.Params, Param{k, v})
	}
	return sp, nil
}

func isWord(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// String gives the canonical form; ParseSpec(sp.String()) returns sp again.
func (sp Spec) String() string {
	var b strings.Builder
	b.WriteString(sp.Driver)
	if sp.Arg != "" {
		b.WriteByte(':')
		b.WriteString(sp.Arg)
	}
	for _, p := range sp.Params {
		b.WriteByte(',')
		b.WriteString(p.Key)
		b.WriteByte('=')
		b.WriteString(p.Value)
	}
	return b.String()
}

// Lookup returns the value of key and whether it was given.
func (sp Spec) Lookup(key string) (string, bool) {
	for _, p := range sp.Params {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// ParseFloatParam parses a parameter value as a finite number, with an error that
// names the parameter. Values may carry an SI suffix: k, M, G (2.45G = 2.45e9).
func ParseFloatParam(key, value string) (float64, error) {
	v := strings.TrimSpace(value)
	mult := 1.0
	if n := len(v); n > 1 {
		switch v[n-1] {
		case 'k':
			mult, v = 1e3, v[:n-1]
		case 'M':
			mult, v = 1e6, v[:n-1]
		case 'G':
			mult, v = 1e9, v[:n-1]
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("parameter %s: %s is not a finite number", key, QuoteSpec(value))
	}
	return f * mult, nil
}

// ParseBoolParam parses a parameter value as a boolean, with an error that names
// the parameter. Every boolean key of every driver takes the same words, in any
// case: true, on or 1, and false, off or 0.
func ParseBoolParam(key, value string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "true", "on", "1":
		return true, nil
	case "false", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("parameter %s: %s is not a boolean (true, on, 1 or false, off, 0)", key, QuoteSpec(value))
}
