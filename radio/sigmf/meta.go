package sigmf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SpecVersion is the core:version that Create and Meta.Encode write when none is
// given. Any 1.x version is accepted on read.
const SpecVersion = "1.2.0"

// MaxMetaSize bounds the .sigmf-meta files that Open reads. Parsing takes memory in
// proportion to the size of the metadata, never to the values in it, so this limit
// bounds the memory that a hostile file can claim.
const MaxMetaSize = 64 << 20

// datetimeLayout writes core:datetime in UTC with nanoseconds, so a time.Time
// survives a round trip exactly ("SigMF specification v1.2.0", section Captures
// Array: core:datetime is RFC 3339 with the offset "Z").
const datetimeLayout = "2006-01-02T15:04:05.000000000Z"

// Meta is the content of a .sigmf-meta file ("SigMF specification v1.2.0",
// section SigMF Metadata Format).
//
// Optional numbers use the zero value for "absent": a field that is zero is left
// out when encoding. Keys this package does not model are kept in the Extra maps,
// so reading, modifying and writing metadata loses nothing. Values in Extra are
// what encoding/json produces with UseNumber (string, bool, nil, json.Number,
// []any, map[string]any) or anything json.Marshal accepts.
type Meta struct {
	Global      Global
	Captures    []Capture    // sorted by SampleStart
	Annotations []Annotation // in file order; Writer sorts them by SampleStart
	Extra       map[string]any
}

// Global is the global object (section Global Object).
type Global struct {
	Datatype    Datatype // core:datatype, required
	Version     string   // core:version, "1.x.y"; empty encodes as SpecVersion
	SampleRate  float64  // core:sample_rate, samples/s; 0 = absent
	SHA512      string   // core:sha512, 128 hex digits of the data file's SHA-512; "" = absent
	Description string   // core:description
	Author      string   // core:author
	Recorder    string   // core:recorder: the software that made the recording
	HW          string   // core:hw: the hardware that made it
	// Extra holds every other key: core:license, core:num_channels (which must
	// be 1), extension namespaces.
	Extra map[string]any
}

// Capture is a capture segment (section Captures Array): the parameters
// that hold from SampleStart to the next segment.
type Capture struct {
	SampleStart int64     // core:sample_start, index into the data file
	GlobalIndex int64     // core:global_index: SampleStart's index in the original stream; 0 = absent
	Frequency   float64   // core:frequency, centre frequency in Hz; 0 = absent
	Datetime    time.Time // core:datetime, the time of sample SampleStart; zero = absent
	Extra       map[string]any
}

// Annotation is an annotation segment (section Annotations Array).
type Annotation struct {
	SampleStart int64  // core:sample_start
	SampleCount int64  // core:sample_count; 0 = absent
	Label       string // core:label, a short name
	Comment     string // core:comment, free text
	// core:freq_lower_edge and core:freq_upper_edge in Hz; both are written when
	// either is non-zero.
	FreqLowerEdge, FreqUpperEdge float64
	// Extra carries other keys, for example "m4sc:frame" on frames sent or
	// decoded, or core:generator and core:uuid.
	Extra map[string]any
}

// Keys modelled by the structs above. Extra must not repeat them.
var (
	topKeys        = []string{"global", "captures", "annotations"}
	globalKeys     = []string{"core:datatype", "core:version", "core:sample_rate", "core:sha512", "core:description", "core:author", "core:recorder", "core:hw"}
	captureKeys    = []string{"core:sample_start", "core:global_index", "core:frequency", "core:datetime"}
	annotationKeys = []string{"core:sample_start", "core:sample_count", "core:label", "core:comment", "core:freq_lower_edge", "core:freq_upper_edge"}
)

// ParseMeta parses and validates the content of a .sigmf-meta file. Checks that need
// the data file (segments within it, the checksum) are left to Open. Errors are
// *FormatError or *UnsupportedError naming the offending field.
//
// ParseMeta is strict about the fields it models and lenient where that loses
// nothing: a missing captures or annotations array reads as empty (Encode always
// writes both), annotations need not be sorted, and a core:datetime with an
// offset other than Z is converted to UTC.
func ParseMeta(data []byte) (*Meta, error) {
	return parseMeta(data)
}

// UnmarshalJSON implements json.Unmarshaler with the rules of ParseMeta.
func (m *Meta) UnmarshalJSON(b []byte) error {
	p, err := parseMeta(b)
	if err != nil {
		return err
	}
	*m = *p
	return nil
}

// MarshalJSON implements json.Marshaler: compact JSON with the core keys first in
// the order of the specification, then extra keys sorted. It validates m as
// ParseMeta would.
func (m Meta) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := m.appendJSON(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Encode writes m to w as an indented .sigmf-meta document. It validates m as
// ParseMeta would.
func (m *Meta) Encode(w io.Writer) error {
	b, err := m.encodeIndent()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func (m *Meta) encodeIndent() ([]byte, error) {
	var compact, out bytes.Buffer
	if err := m.appendJSON(&compact); err != nil {
		return nil, err
	}
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("sigmf: indent metadata: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// ---- parsing ----

// parser collects the first error met while taking typed fields out of decoded
// JSON objects, so the field code reads as a straight list.
type parser struct {
	err error
}

func (p *parser) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *parser) formatf(field, format string, args ...any) {
	p.fail(&FormatError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

func field(ctx, key string) string { return ctx + " " + key }

func parseMeta(data []byte) (*Meta, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keeps numbers in Extra exactly as written
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, jsonError(data, err)
	}
	if rest := bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		off := int64(len(data) - len(rest))
		return nil, &FormatError{Msg: fmt.Sprintf("malformed JSON at byte offset %d: data after the top-level object", off)}
	}
	obj, ok := top.(map[string]any)
	if !ok {
		return nil, &FormatError{Msg: fmt.Sprintf("top level is a JSON %s, want an object", jsonType(top))}
	}

	var p parser
	m := new(Meta)
	g, ok := obj["global"]
	if !ok {
		return nil, &FormatError{Field: "global", Msg: "missing (required)"}
	}
	delete(obj, "global")
	if gobj, ok := p.object(g, "global"); ok {
		p.global(gobj, &m.Global)
	}
	if v, ok := obj["captures"]; ok {
		delete(obj, "captures")
		for i, c := range p.array(v, "captures") {
			ctx := fmt.Sprintf("captures[%d]", i)
			if cobj, ok := p.object(c, ctx); ok {
				m.Captures = append(m.Captures, p.capture(cobj, ctx))
			}
		}
	}
	if v, ok := obj["annotations"]; ok {
		delete(obj, "annotations")
		for i, a := range p.array(v, "annotations") {
			ctx := fmt.Sprintf("annotations[%d]", i)
			if aobj, ok := p.object(a, ctx); ok {
				m.Annotations = append(m.Annotations, p.annotation(aobj, ctx))
			}
		}
	}
	if p.err != nil {
		return nil, p.err
	}
	m.Extra = extra(obj)
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return &FormatError{Msg: fmt.Sprintf("malformed JSON at byte offset %d: %v", se.Offset, se), Err: err}
	case errors.Is(err, io.EOF):
		return &FormatError{Msg: "empty metadata, want a JSON object", Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &FormatError{Msg: fmt.Sprintf("malformed JSON at byte offset %d: unexpected end of input", len(data)), Err: err}
	}
	return &FormatError{Msg: fmt.Sprintf("malformed JSON: %v", err), Err: err}
}

func (p *parser) global(obj map[string]any, g *Global) {
	const ctx = "global"
	if s, ok := p.str(obj, ctx, "core:datatype"); ok {
		d, known := lookupDatatype(s)
		if !known {
			p.fail(&UnsupportedError{Field: field(ctx, "core:datatype"), Msg: unsupportedDatatypeMsg(s)})
		}
		g.Datatype = d
	} else if p.err == nil {
		p.formatf(field(ctx, "core:datatype"), "missing (required)")
	}
	if s, ok := p.str(obj, ctx, "core:version"); ok {
		// Checked here as well as in validate, where "" means SpecVersion.
		if err := checkVersion(s); err != nil {
			p.fail(err)
		}
		g.Version = s
	} else if p.err == nil {
		p.formatf(field(ctx, "core:version"), "missing (required)")
	}
	if f, ok := p.float(obj, ctx, "core:sample_rate"); ok {
		// Zero stands for "absent" in Global, so it must be refused here
		// rather than in validate.
		if !(f > 0) {
			p.formatf(field(ctx, "core:sample_rate"), "%v, want a positive rate in samples/s", f)
		}
		g.SampleRate = f
	}
	g.SHA512, _ = p.str(obj, ctx, "core:sha512")
	g.Description, _ = p.str(obj, ctx, "core:description")
	g.Author, _ = p.str(obj, ctx, "core:author")
	g.Recorder, _ = p.str(obj, ctx, "core:recorder")
	g.HW, _ = p.str(obj, ctx, "core:hw")
	g.Extra = extra(obj)
}

func (p *parser) capture(obj map[string]any, ctx string) Capture {
	var c Capture
	if v, ok := p.index(obj, ctx, "core:sample_start"); ok {
		c.SampleStart = v
	} else if p.err == nil {
		p.formatf(field(ctx, "core:sample_start"), "missing (required)")
	}
	c.GlobalIndex, _ = p.index(obj, ctx, "core:global_index")
	c.Frequency, _ = p.float(obj, ctx, "core:frequency")
	if s, ok := p.str(obj, ctx, "core:datetime"); ok {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			p.formatf(field(ctx, "core:datetime"), "%q is not an RFC 3339 time such as 2024-05-01T12:00:00.000Z", clip(s))
		}
		c.Datetime = t.UTC()
	}
	c.Extra = extra(obj)
	return c
}

func (p *parser) annotation(obj map[string]any, ctx string) Annotation {
	var a Annotation
	if v, ok := p.index(obj, ctx, "core:sample_start"); ok {
		a.SampleStart = v
	} else if p.err == nil {
		p.formatf(field(ctx, "core:sample_start"), "missing (required)")
	}
	a.SampleCount, _ = p.index(obj, ctx, "core:sample_count")
	a.Label, _ = p.str(obj, ctx, "core:label")
	a.Comment, _ = p.str(obj, ctx, "core:comment")
	a.FreqLowerEdge, _ = p.float(obj, ctx, "core:freq_lower_edge")
	a.FreqUpperEdge, _ = p.float(obj, ctx, "core:freq_upper_edge")
	a.Extra = extra(obj)
	return a
}

// extra returns what is left of a decoded object once the modelled keys are
// taken out, or nil when nothing is.
func extra(obj map[string]any) map[string]any {
	if len(obj) == 0 {
		return nil
	}
	return obj
}

func (p *parser) object(v any, ctx string) (map[string]any, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		p.formatf(ctx, "JSON %s, want an object", jsonType(v))
	}
	return obj, ok
}

func (p *parser) array(v any, ctx string) []any {
	arr, ok := v.([]any)
	if !ok {
		p.formatf(ctx, "JSON %s, want an array", jsonType(v))
	}
	return arr
}

// str, float and index take a key out of obj (so that what remains is Extra)
// and report whether it was present with the right type.
func (p *parser) str(obj map[string]any, ctx, key string) (string, bool) {
	v, ok := obj[key]
	if !ok {
		return "", false
	}
	delete(obj, key)
	s, ok := v.(string)
	if !ok {
		p.formatf(field(ctx, key), "JSON %s, want a string", jsonType(v))
	}
	return s, ok
}

func (p *parser) float(obj map[string]any, ctx, key string) (float64, bool) {
	v, ok := obj[key]
	if !ok {
		return 0, false
	}
	delete(obj, key)
	n, ok := v.(json.Number)
	if !ok {
		p.formatf(field(ctx, key), "JSON %s, want a number", jsonType(v))
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil { // only a range error can get past the JSON decoder
		p.formatf(field(ctx, key), "%s is out of the range of a double", clip(string(n)))
		return 0, false
	}
	return f, true
}

// index takes a sample index or count: an integer from 0 to 2^63-1.
func (p *parser) index(obj map[string]any, ctx, key string) (int64, bool) {
	v, ok := obj[key]
	if !ok {
		return 0, false
	}
	delete(obj, key)
	n, ok := v.(json.Number)
	if !ok {
		p.formatf(field(ctx, key), "JSON %s, want a non-negative integer", jsonType(v))
		return 0, false
	}
	i, ok := numberToIndex(n)
	if !ok {
		p.formatf(field(ctx, key), "%s, want an integer from 0 to %d", clip(string(n)), int64(math.MaxInt64))
		return 0, false
	}
	return i, true
}

// numberToIndex accepts integers written plainly and, for writers that print
// every number as a double, integral values such as 1e6 or 1000.0 up to 2^53.
func numberToIndex(n json.Number) (int64, bool) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, i >= 0
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f < 0 || f > 1<<53 || f != math.Trunc(f) {
		return 0, false
	}
	return int64(f), true
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// ---- validation ----

// validate checks what ParseMeta checks on the typed fields, so that Encode never
// writes what ParseMeta would refuse.
func (m *Meta) validate() error {
	if err := checkExtraKeys(m.Extra, "top level", topKeys); err != nil {
		return err
	}
	if err := m.Global.validate(); err != nil {
		return err
	}
	for i := range m.Captures {
		ctx := fmt.Sprintf("captures[%d]", i)
		if err := m.Captures[i].validate(ctx); err != nil {
			return err
		}
		// Section Captures Array: sorted by core:sample_start, ascending.
		if i > 0 && m.Captures[i].SampleStart < m.Captures[i-1].SampleStart {
			return &FormatError{Field: field(ctx, "core:sample_start"),
				Msg: fmt.Sprintf("%d comes before the previous capture's %d; captures must be sorted by sample_start",
					m.Captures[i].SampleStart, m.Captures[i-1].SampleStart)}
		}
	}
	for i := range m.Annotations {
		if err := m.Annotations[i].validate(fmt.Sprintf("annotations[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

func (g *Global) validate() error {
	const ctx = "global"
	if !g.Datatype.valid() {
		if g.Datatype == 0 {
			return &FormatError{Field: field(ctx, "core:datatype"), Msg: "missing (required)"}
		}
		return &UnsupportedError{Field: field(ctx, "core:datatype"), Msg: fmt.Sprintf("%v is unsupported (supported: %s)", g.Datatype, supportedList)}
	}
	if g.Version != "" {
		if err := checkVersion(g.Version); err != nil {
			return err
		}
	}
	if math.IsNaN(g.SampleRate) || math.IsInf(g.SampleRate, 0) || g.SampleRate < 0 {
		return &FormatError{Field: field(ctx, "core:sample_rate"), Msg: fmt.Sprintf("%v, want a positive rate in samples/s", g.SampleRate)}
	}
	if g.SHA512 != "" && !isHex(g.SHA512, 128) {
		return &FormatError{Field: field(ctx, "core:sha512"), Msg: fmt.Sprintf("%q, want 128 hexadecimal digits", clip(g.SHA512))}
	}
	if err := checkExtraKeys(g.Extra, ctx, globalKeys); err != nil {
		return err
	}
	// Keys left in Extra that change how the data file must be read.
	if v, ok := g.Extra["core:num_channels"]; ok {
		if n, isInt := extraInt(v); !isInt || n != 1 {
			return &UnsupportedError{Field: field(ctx, "core:num_channels"), Msg: fmt.Sprintf("%s: only single-channel recordings are supported (want 1)", describe(v))}
		}
	}
	if v, ok := g.Extra["core:trailing_bytes"]; ok {
		if n, isInt := extraInt(v); !isInt || n != 0 {
			return &UnsupportedError{Field: field(ctx, "core:trailing_bytes"), Msg: fmt.Sprintf("%s: non-conforming datasets are not supported", describe(v))}
		}
	}
	if v, ok := g.Extra["core:metadata_only"]; ok && v != false {
		return &UnsupportedError{Field: field(ctx, "core:metadata_only"), Msg: fmt.Sprintf("%s: metadata-only recordings carry no samples to read", describe(v))}
	}
	if v, ok := g.Extra["core:dataset"]; ok {
		return &UnsupportedError{Field: field(ctx, "core:dataset"), Msg: fmt.Sprintf("%s: non-conforming datasets are not supported", describe(v))}
	}
	return nil
}

// checkVersion accepts any 1.x version: later minor versions add optional fields,
// which an application must be able to ignore (section SigMF Application
// Compliance), and this package keeps them in Extra.
func checkVersion(v string) error {
	const f = "global core:version"
	major, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	if major == "" || strings.Trim(major, "0123456789") != "" {
		return &FormatError{Field: f, Msg: fmt.Sprintf("%q, want a version such as %q", clip(v), SpecVersion)}
	}
	if strings.TrimLeft(major, "0") != "1" {
		return &UnsupportedError{Field: f, Msg: fmt.Sprintf("%q: unsupported major version (supported: 1.x)", clip(v))}
	}
	return nil
}

func (c *Capture) validate(ctx string) error {
	switch {
	case c.SampleStart < 0:
		return &FormatError{Field: field(ctx, "core:sample_start"), Msg: fmt.Sprintf("%d, want >= 0", c.SampleStart)}
	case c.GlobalIndex < 0:
		return &FormatError{Field: field(ctx, "core:global_index"), Msg: fmt.Sprintf("%d, want >= 0", c.GlobalIndex)}
	case !finite(c.Frequency):
		return &FormatError{Field: field(ctx, "core:frequency"), Msg: fmt.Sprintf("%v, want a finite frequency in Hz", c.Frequency)}
	}
	if !c.Datetime.IsZero() {
		if y := c.Datetime.UTC().Year(); y < 0 || y > 9999 {
			return &FormatError{Field: field(ctx, "core:datetime"), Msg: fmt.Sprintf("year %d in UTC, want 0000 to 9999", y)}
		}
	}
	if err := checkExtraKeys(c.Extra, ctx, captureKeys); err != nil {
		return err
	}
	if v, ok := c.Extra["core:header_bytes"]; ok {
		if n, isInt := extraInt(v); !isInt || n != 0 {
			return &UnsupportedError{Field: field(ctx, "core:header_bytes"), Msg: fmt.Sprintf("%s: non-conforming datasets are not supported", describe(v))}
		}
	}
	return nil
}

func (a *Annotation) validate(ctx string) error {
	switch {
	case a.SampleStart < 0:
		return &FormatError{Field: field(ctx, "core:sample_start"), Msg: fmt.Sprintf("%d, want >= 0", a.SampleStart)}
	case a.SampleCount < 0:
		return &FormatError{Field: field(ctx, "core:sample_count"), Msg: fmt.Sprintf("%d, want >= 0", a.SampleCount)}
	case !finite(a.FreqLowerEdge):
		return &FormatError{Field: field(ctx, "core:freq_lower_edge"), Msg: fmt.Sprintf("%v, want a finite frequency in Hz", a.FreqLowerEdge)}
	case !finite(a.FreqUpperEdge):
		return &FormatError{Field: field(ctx, "core:freq_upper_edge"), Msg: fmt.Sprintf("%v, want a finite frequency in Hz", a.FreqUpperEdge)}
	}
	return checkExtraKeys(a.Extra, ctx, annotationKeys)
}

// checkExtraKeys refuses an Extra key that repeats a modelled field: encoding
// would have to pick one of the two values.
func checkExtraKeys(extra map[string]any, ctx string, modelled []string) error {
	for _, k := range modelled {
		if _, ok := extra[k]; ok {
			return &FormatError{Field: field(ctx, k), Msg: "set in Extra; use the struct field"}
		}
	}
	return nil
}

// extraInt reads an integer from an Extra value, decoded (json.Number) or set by
// a caller (Go integers, integral floats).
func extraInt(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		return numberToIndex(x)
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case uint:
		return int64(x), x <= math.MaxInt64
	case uint64:
		return int64(x), x <= math.MaxInt64
	case uint32:
		return int64(x), true
	case float64:
		return int64(x), x == math.Trunc(x) && math.Abs(x) <= 1<<53
	}
	return 0, false
}

func describe(v any) string {
	switch x := v.(type) {
	case json.Number:
		return clip(string(x))
	case string:
		return strconv.Quote(clip(x))
	case bool:
		return strconv.FormatBool(x)
	case int, int32, int64, uint, uint32, uint64, float64:
		return fmt.Sprint(x)
	}
	return "JSON " + jsonType(v)
}

// clip shortens values quoted in error messages: a hostile file must not make
// an error message as long as itself.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// ---- encoding ----

// jsonWriter writes JSON values into buf, keeping the first error.
type jsonWriter struct {
	buf     *bytes.Buffer
	scratch bytes.Buffer
	enc     *json.Encoder
	err     error
}

func newJSONWriter(buf *bytes.Buffer) *jsonWriter {
	w := &jsonWriter{buf: buf}
	w.enc = json.NewEncoder(&w.scratch)
	// Labels and comments are text for people, not HTML.
	w.enc.SetEscapeHTML(false)
	return w
}

func (w *jsonWriter) value(v any) {
	if w.err != nil {
		return
	}
	w.scratch.Reset()
	if err := w.enc.Encode(v); err != nil {
		w.err = err
		return
	}
	w.buf.Write(bytes.TrimSuffix(w.scratch.Bytes(), []byte("\n")))
}

// jsonObject writes the fields of one object; the caller writes the braces.
type jsonObject struct {
	w *jsonWriter
	n int
}

func (o *jsonObject) key(k string) {
	if o.n > 0 {
		o.w.buf.WriteByte(',')
	}
	o.n++
	o.w.value(k)
	o.w.buf.WriteByte(':')
}

func (o *jsonObject) field(k string, v any) { o.key(k); o.w.value(v) }

func (o *jsonObject) extra(m map[string]any) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		o.field(k, m[k])
	}
}

func (m *Meta) appendJSON(buf *bytes.Buffer) error {
	if err := m.validate(); err != nil {
		return err
	}
	w := newJSONWriter(buf)
	top := jsonObject{w: w}
	buf.WriteByte('{')

	top.key("global")
	buf.WriteByte('{')
	m.Global.appendFields(&jsonObject{w: w})
	buf.WriteByte('}')

	top.key("captures")
	buf.WriteByte('[')
	for i := range m.Captures {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('{')
		m.Captures[i].appendFields(&jsonObject{w: w})
		buf.WriteByte('}')
	}
	buf.WriteByte(']')

	top.key("annotations")
	buf.WriteByte('[')
	for i := range m.Annotations {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('{')
		m.Annotations[i].appendFields(&jsonObject{w: w})
		buf.WriteByte('}')
	}
	buf.WriteByte(']')

	top.extra(m.Extra)
	buf.WriteByte('}')
	if w.err != nil {
		return fmt.Errorf("sigmf: encode metadata: %w", w.err)
	}
	return nil
}

// The appendFields methods write core keys in the order of the specification's
// tables, then Extra sorted by key, so that equal metadata encodes to equal bytes.

func (g *Global) appendFields(o *jsonObject) {
	o.field("core:datatype", g.Datatype.String())
	version := g.Version
	if version == "" {
		version = SpecVersion
	}
	o.field("core:version", version)
	if g.SampleRate != 0 {
		o.field("core:sample_rate", g.SampleRate)
	}
	if g.SHA512 != "" {
		o.field("core:sha512", g.SHA512)
	}
	for _, kv := range [...]struct{ k, v string }{
		{"core:description", g.Description},
		{"core:author", g.Author},
		{"core:recorder", g.Recorder},
		{"core:hw", g.HW},
	} {
		if kv.v != "" {
			o.field(kv.k, kv.v)
		}
	}
	o.extra(g.Extra)
}

func (c *Capture) appendFields(o *jsonObject) {
	o.field("core:sample_start", c.SampleStart)
	if c.GlobalIndex != 0 {
		o.field("core:global_index", c.GlobalIndex)
	}
	if c.Frequency != 0 {
		o.field("core:frequency", c.Frequency)
	}
	if !c.Datetime.IsZero() {
		o.field("core:datetime", c.Datetime.UTC().Format(datetimeLayout))
	}
	o.extra(c.Extra)
}

func (a *Annotation) appendFields(o *jsonObject) {
	o.field("core:sample_start", a.SampleStart)
	if a.SampleCount != 0 {
		o.field("core:sample_count", a.SampleCount)
	}
	if a.Label != "" {
		o.field("core:label", a.Label)
	}
	if a.Comment != "" {
		o.field("core:comment", a.Comment)
	}
	if a.FreqLowerEdge != 0 || a.FreqUpperEdge != 0 {
		o.field("core:freq_lower_edge", a.FreqLowerEdge)
		o.field("core:freq_upper_edge", a.FreqUpperEdge)
	}
	o.extra(a.Extra)
}
