package sigmf

import (
	"errors"
	"strings"
)

// Sentinel errors that callers act on. They reach the caller wrapped in a
// *FormatError that names the file and the field and gives the numbers; test for
// them with errors.Is.
var (
	// ErrTruncated means the data file ends before the recording it belongs to:
	// its length is not a whole number of samples, or the metadata refers to
	// samples beyond its end. ReadOptions.AllowTruncated reads such a recording up
	// to its last whole sample.
	ErrTruncated = errors.New("sigmf: truncated recording")

	// ErrChecksum means the data file does not hash to the global core:sha512.
	ErrChecksum = errors.New("sigmf: data does not match core:sha512")
)

// A FormatError reports input that breaks the SigMF specification or this
// package's reading of it: malformed JSON, a missing or mistyped field, a value out
// of range, a data file that does not fit its metadata.
type FormatError struct {
	File  string // path of the offending file; empty when parsing bytes
	Field string // "global core:sample_rate", "annotations[3] core:sample_count"; empty for the whole file
	Msg   string // what is wrong
	Err   error  // underlying cause (a *json.SyntaxError, ErrTruncated, ErrChecksum) or nil
}

func (e *FormatError) Error() string { return formatMsg(e.File, e.Field, e.Msg) }

func (e *FormatError) Unwrap() error { return e.Err }

// An UnsupportedError reports valid SigMF that this package does not handle: a
// datatype other than ci8, ci16_le and cf32_le, a major version other than 1,
// several channels, a non-conforming dataset, an archive.
type UnsupportedError struct {
	File  string // path of the offending file; empty when parsing bytes
	Field string // the field that asks for the unsupported feature, or empty
	Msg   string
}

func (e *UnsupportedError) Error() string { return formatMsg(e.File, e.Field, e.Msg) }

func formatMsg(file, field, msg string) string {
	var b strings.Builder
	b.WriteString("sigmf: ")
	if file != "" {
		b.WriteString(file)
		b.WriteString(": ")
	}
	if field != "" {
		b.WriteString(field)
		b.WriteString(": ")
	}
	b.WriteString(msg)
	return b.String()
}

// withFile fills in the file name of an error made while the name was unknown.
func withFile(err error, file string) error {
	var fe *FormatError
	if errors.As(err, &fe) && fe.File == "" {
		fe.File = file
	}
	var ue *UnsupportedError
	if errors.As(err, &ue) && ue.File == "" {
		ue.File = file
	}
	return err
}
