package config

import (
	"fmt"
	"strings"
)

// UnknownKeyError reports a key in a configuration file that the schema does
// not define, most often a typo.
type UnknownKeyError struct {
	File    string // path of the file
	Line    int    // line of the key in the file
	Key     string // dotted name as written ("radio.rat")
	Suggest string // a key or section the user may have meant, or ""
}

func (e *UnknownKeyError) Error() string {
	msg := fmt.Sprintf("config: %s:%d: unknown key %q", e.File, e.Line, e.Key)
	if e.Suggest != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", e.Suggest)
	}
	return msg
}

// ValueError reports a value that does not fit its key: wrong type, not one
// of the key's choices, or rejected by the key's Check.
type ValueError struct {
	Key    string     // dotted name; for a map entry, the map key and the entry ("radio.gains.lna")
	Value  string     // the offending value as the user wrote it, quoted if it was text
	Reason string     // what is wrong, written to follow Value: "is not a number"
	Source SourceKind // layer that supplied the value
	Detail string     // path, variable or "--flag", as for Config.Source
	Line   int        // line in the file for SourceFile, 0 if unknown
}

func (e *ValueError) Error() string {
	o := origin{kind: e.Source, detail: e.Detail, line: e.Line}
	var b strings.Builder
	fmt.Fprintf(&b, "config: %s: ", e.Key)
	if e.Value != "" {
		b.WriteString(e.Value + " ")
	}
	fmt.Fprintf(&b, "%s (from %s)", e.Reason, o.describe())
	return b.String()
}

// reasonError carries the reason a conversion failed, before the key and the
// layer are known.
type reasonError struct {
	entry  string // map entry the reason applies to, "" for the whole value
	value  string
	reason string
}

func (e *reasonError) Error() string { return strings.TrimSpace(e.value + " " + e.reason) }

func reasonf(value, format string, args ...any) *reasonError {
	return &reasonError{value: value, reason: fmt.Sprintf(format, args...)}
}

// valueError places a conversion failure at a key and a layer.
func valueError(key string, r *reasonError, o origin) *ValueError {
	if r.entry != "" {
		key += "." + r.entry
	}
	return &ValueError{Key: key, Value: r.value, Reason: r.reason, Source: o.kind, Detail: o.detail, Line: o.line}
}
