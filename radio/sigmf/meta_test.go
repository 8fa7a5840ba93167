package sigmf

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fullMeta uses every modelled field and keys of other namespaces at every level.
const fullMeta = `{
  "global": {
    "core:datatype": "ci16_le",
    "core:version": "1.2.0",
    "core:sample_rate": 2e6,
    "core:description": "test <recording> & more",
    "core:author": "A. Tester",
    "core:recorder": "m4sc test",
    "core:hw": "HackRF One",
    "core:num_channels": 1,
    "core:license": "https://creativecommons.org/licenses/by-sa/4.0/",
    "antenna:model": "ANT500",
    "m4sc:profile": {"ppm": 12.5, "gains": [8, 16], "big": 123456789012345678901234567890}
  },
  "captures": [
    {"core:sample_start": 0, "core:frequency": 2.4e9, "core:datetime": "2024-05-01T12:00:00.123456789Z", "core:global_index": 1000},
    {"core:sample_start": 10, "core:frequency": 915000000, "core:datetime": "2024-05-01T14:00:00+02:00", "m4sc:gain": 20}
  ],
  "annotations": [
    {"core:sample_start": 2, "core:sample_count": 5, "core:label": "frame", "core:comment": "seq 1",
     "core:freq_lower_edge": 2.39e9, "core:freq_upper_edge": 2.41e9, "m4sc:frame": {"kind": "semantic", "seq": 1, "crc_ok": true}},
    {"core:sample_start": 1, "core:generator": "m4sc", "core:uuid": "0b8d6a5e-1b7f-4a53-9d9c-3d3a1b2c4d5e"}
  ],
  "spatial:top": [1, 2, 3]
}`

func TestParseMetaFull(t *testing.T) {
	m, err := ParseMeta([]byte(fullMeta))
	if err != nil {
		t.Fatal(err)
	}
	g := m.Global
	if g.Datatype != CI16LE || g.Version != "1.2.0" || g.SampleRate != 2e6 || g.Description != "test <recording> & more" ||
		g.Author != "A. Tester" || g.Recorder != "m4sc test" || g.HW != "HackRF One" || g.SHA512 != "" {
		t.Errorf("global = %+v", g)
	}
	for _, k := range []string{"core:num_channels", "core:license", "antenna:model", "m4sc:profile"} {
		if _, ok := g.Extra[k]; !ok {
			t.Errorf("global Extra lacks %q: %v", k, g.Extra)
		}
	}
	big := g.Extra["m4sc:profile"].(map[string]any)["big"]
	if big != json.Number("123456789012345678901234567890") {
		t.Errorf("a big integer in Extra became %v (%T)", big, big)
	}
	if len(m.Captures) != 2 || len(m.Annotations) != 2 {
		t.Fatalf("%d captures, %d annotations", len(m.Captures), len(m.Annotations))
	}
	c0, c1 := m.Captures[0], m.Captures[1]
	want0 := time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)
	if c0.SampleStart != 0 || c0.Frequency != 2.4e9 || !c0.Datetime.Equal(want0) || c0.GlobalIndex != 1000 || c0.Extra != nil {
		t.Errorf("captures[0] = %+v", c0)
	}
	if c1.SampleStart != 10 || c1.Datetime != time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) || c1.Extra["m4sc:gain"] != json.Number("20") {
		t.Errorf("captures[1] = %+v (datetime must be converted to UTC)", c1)
	}
	a0, a1 := m.Annotations[0], m.Annotations[1]
	if a0.SampleStart != 2 || a0.SampleCount != 5 || a0.Label != "frame" || a0.Comment != "seq 1" ||
		a0.FreqLowerEdge != 2.39e9 || a0.FreqUpperEdge != 2.41e9 || a0.Extra["m4sc:frame"] == nil {
		t.Errorf("annotations[0] = %+v", a0)
	}
	// Annotations stay in file order.
	if a1.SampleStart != 1 || a1.Extra["core:generator"] != "m4sc" {
		t.Errorf("annotations[1] = %+v", a1)
	}
	if _, ok := m.Extra["spatial:top"]; !ok {
		t.Errorf("top-level Extra = %v", m.Extra)
	}
	roundTrip(t, m)
}

// roundTrip checks that m encodes, both ways, to something that parses back equal
// and encodes to the same bytes again.
func roundTrip(t testing.TB, m *Meta) {
	t.Helper()
	compact, err := m.MarshalJSON()
	if err != nil {
		t.Fatalf("MarshalJSON: %v", err)
	}
	var indented bytes.Buffer
	if err := m.Encode(&indented); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	for _, b := range [][]byte{compact, indented.Bytes()} {
		m2, err := ParseMeta(b)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the metadata:\nbefore %#v\nafter  %#v\njson %s", m, m2, b)
		}
		again, err := m2.MarshalJSON()
		if err != nil || !bytes.Equal(again, compact) {
			t.Fatalf("second encoding differs (%v):\n%s\n%s", err, compact, again)
		}
	}
	if b := indented.Bytes(); !bytes.HasPrefix(b, []byte("{\n")) || !bytes.HasSuffix(b, []byte("\n}\n")) {
		t.Errorf("Encode output is not one indented object and a newline: %q", b)
	}
}

func TestEncodeMinimal(t *testing.T) {
	m := &Meta{Global: Global{Datatype: CI8}}
	b, err := m.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"global":{"core:datatype":"ci8","core:version":"1.2.0"},"captures":[],"annotations":[]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	// As a json.Marshaler and Unmarshaler inside other JSON.
	wrapped, err := json.Marshal(struct{ M *Meta }{m})
	if err != nil {
		t.Fatal(err)
	}
	var back struct{ M *Meta }
	if err := json.Unmarshal(wrapped, &back); err != nil || back.M.Global.Datatype != CI8 {
		t.Errorf("json.Unmarshal: %v, %+v", err, back.M)
	}
}

func TestEncodeKeepsText(t *testing.T) {
	m := &Meta{Global: Global{Datatype: CF32LE, Description: "a<b & c>d \"q\" é"}}
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"a<b & c>d \"q\" é"`) {
		t.Errorf("description escaped needlessly: %s", buf.String())
	}
}

func TestDatetimeRoundTrip(t *testing.T) {
	for _, tt := range []time.Time{
		time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2024, 5, 1, 12, 0, 0, 1, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("X", -3*3600)),
	} {
		m := &Meta{Global: Global{Datatype: CI8}, Captures: []Capture{{Datetime: tt}}}
		b, err := m.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		m2, err := ParseMeta(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := m2.Captures[0].Datetime; !got.Equal(tt) || got.Location() != time.UTC {
			t.Errorf("%v came back as %v", tt, got)
		}
		if !bytes.Contains(b, []byte(tt.UTC().Format("2006-01-02T15:04:05.000000000Z"))) {
			t.Errorf("datetime not written as UTC with fractional seconds: %s", b)
		}
	}
}

// errorCase is a metadata document and what must be said about it.
type errorCase struct {
	name        string
	meta        string
	unsupported bool   // *UnsupportedError rather than *FormatError
	want        string // substring of the message
}

// metaErrors are refused by ParseMeta, and so by Open.
var metaErrors = []errorCase{
	{"empty", ``, false, "empty metadata"},
	{"malformed", `{"global": {"core:datatype": "ci8",, }}`, false, "malformed JSON at byte offset 36"},
	{"cut short", `{"global": {"core:datatype": "ci8"`, false, "malformed JSON at byte offset 34: unexpected end"},
	{"trailing data", `{"global": {"core:datatype": "ci8", "core:version": "1.0.0"}} {}`, false, "byte offset 62: data after the top-level object"},
	{"not an object", `[1, 2]`, false, "top level is a JSON array, want an object"},
	{"no global", `{"captures": []}`, false, "global: missing"},
	{"global not object", `{"global": 3}`, false, "global: JSON number, want an object"},
	{"no datatype", `{"global": {"core:version": "1.2.0"}}`, false, "global core:datatype: missing (required)"},
	{"datatype not string", `{"global": {"core:datatype": 8, "core:version": "1.2.0"}}`, false, "global core:datatype: JSON number, want a string"},
	{"unknown datatype", `{"global": {"core:datatype": "ri8", "core:version": "1.2.0"}}`, true, `global core:datatype: "ri8" is unsupported (supported: ci8, ci16_le, cf32_le)`},
	{"no version", `{"global": {"core:datatype": "ci8"}}`, false, "global core:version: missing (required)"},
	{"bad version", `{"global": {"core:datatype": "ci8", "core:version": "one"}}`, false, `global core:version: "one", want a version such as "1.2.0"`},
	{"version 2", `{"global": {"core:datatype": "ci8", "core:version": "2.0.0"}}`, true, `global core:version: "2.0.0": unsupported major version (supported: 1.x)`},
	{"version 0", `{"global": {"core:datatype": "ci8", "core:version": "0.0.2"}}`, true, "unsupported major version"},
	{"sample rate zero", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0", "core:sample_rate": 0}}`, false, "global core:sample_rate: 0, want a positive rate"},
	{"sample rate negative", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0", "core:sample_rate": -1e6}}`, false, "global core:sample_rate: -1e+06, want a positive rate"},
	{"sample rate string", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0", "core:sample_rate": "2e6"}}`, false, "global core:sample_rate: JSON string, want a number"},
	{"sample rate huge", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0", "core:sample_rate": 1e999}}`, false, "global core:sample_rate: 1e999 is out of the range of a double"},
	{"two channels", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0", "core:num_channels": 2}}`, true, "global core:num_channels: 2: only single-channel recordings are supported"},
	{"channels string", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0", "core:num_channels": "1"}}`, true, `core:num_channels: "1"`},
	{"bad sha512", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0", "core:sha512": "abc"}}`, false, `global core:sha512: "abc", want 128 hexadecimal digits`},
	{"trailing bytes", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0", "core:trailing_bytes": 16}}`, true, "non-conforming datasets are not supported"},
	{"metadata only", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0", "core:metadata_only": true}}`, true, "metadata-only recordings"},
	{"dataset", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0", "core:dataset": "x.bin"}}`, true, `core:dataset: "x.bin": non-conforming`},
	{"captures not array", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "captures": {}}`, false, "captures: JSON object, want an array"},
	{"capture not object", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "captures": [[]]}`, false, "captures[0]: JSON array, want an object"},
	{"capture no start", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "captures": [{"core:frequency": 1}]}`, false, "captures[0] core:sample_start: missing (required)"},
	{"capture negative start", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "captures": [{"core:sample_start": -1}]}`, false, "captures[0] core:sample_start: -1, want an integer from 0"},
	{"capture fractional start", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "captures": [{"core:sample_start": 1.5}]}`, false, "captures[0] core:sample_start: 1.5, want an integer"},
	{"capture start too big", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "captures": [{"core:sample_start": 9223372036854775808}]}`, false, "want an integer from 0 to 9223372036854775807"},
	{"captures unsorted", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "captures": [{"core:sample_start": 5}, {"core:sample_start": 4}]}`, false, "captures[1] core:sample_start: 4 comes before the previous capture's 5"},
	{"capture bad datetime", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "captures": [{"core:sample_start": 0, "core:datetime": "yesterday"}]}`, false, `captures[0] core:datetime: "yesterday" is not an RFC 3339 time`},
	{"capture datetime year", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "captures": [{"core:sample_start": 0, "core:datetime": "0000-01-01T00:00:00+01:00"}]}`, false, "captures[0] core:datetime: year -1 in UTC"},
	{"header bytes", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "captures": [{"core:sample_start": 0, "core:header_bytes": 8}]}`, true, "captures[0] core:header_bytes: 8: non-conforming"},
	{"annotation no start", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "annotations": [{"core:label": "x"}]}`, false, "annotations[0] core:sample_start: missing (required)"},
	{"annotation count string", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "annotations": [{"core:sample_start": 0, "core:sample_count": "5"}]}`, false, "annotations[0] core:sample_count: JSON string, want a non-negative integer"},
	{"annotation label number", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "annotations": [{"core:sample_start": 0, "core:label": 5}]}`, false, "annotations[0] core:label: JSON number, want a string"},
	{"annotation null edge", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "annotations": [{"core:sample_start": 0, "core:freq_lower_edge": null}]}`, false, "annotations[0] core:freq_lower_edge: JSON null, want a number"},
}

func checkError(t *testing.T, err error, tc errorCase) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want an error containing %q", tc.want)
	}
	var fe *FormatError
	var ue *UnsupportedError
	if tc.unsupported && !errors.As(err, &ue) {
		t.Errorf("error %T %q, want *UnsupportedError", err, err)
	}
	if !tc.unsupported && !errors.As(err, &fe) {
		t.Errorf("error %T %q, want *FormatError", err, err)
	}
	if !strings.Contains(err.Error(), tc.want) {
		t.Errorf("error %q\nwant it to contain %q", err, tc.want)
	}
	if !strings.HasPrefix(err.Error(), "sigmf: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
}

func TestParseMetaErrors(t *testing.T) {
	for _, tc := range metaErrors {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMeta([]byte(tc.meta))
			checkError(t, err, tc)
		})
	}
}

func TestParseMetaLenient(t *testing.T) {
	for _, tt := range []struct{ name, meta string }{
		{"no captures or annotations", `{"global": {"core:datatype": "ci8", "core:version": "1.0.0"}}`},
		{"v prefix and minor version", `{"global": {"core:datatype": "ci8", "core:version": "v1.9"}}`},
		{"integral doubles as indices", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "captures": [{"core:sample_start": 0.0}, {"core:sample_start": 1e3}]}`},
		{"equal capture starts", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "captures": [{"core:sample_start": 3}, {"core:sample_start": 3}]}`},
		{"unsorted annotations", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "annotations": [{"core:sample_start": 3}, {"core:sample_start": 1}]}`},
		{"header bytes zero", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0", "core:trailing_bytes": 0, "core:metadata_only": false}, "captures": [{"core:sample_start": 0, "core:header_bytes": 0}]}`},
		{"offset datetime", `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "captures": [{"core:sample_start": 0, "core:datetime": "2024-01-01T00:00:00-05:00"}]}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMeta([]byte(tt.meta))
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, m)
		})
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	for _, tt := range []struct {
		name string
		m    Meta
		want string
	}{
		{"no datatype", Meta{}, "global core:datatype: missing"},
		{"bad datatype", Meta{Global: Global{Datatype: 42}}, "Datatype(42) is unsupported"},
		{"NaN rate", Meta{Global: Global{Datatype: CI8, SampleRate: math.NaN()}}, "global core:sample_rate: NaN"},
		{"version 3", Meta{Global: Global{Datatype: CI8, Version: "3.0.0"}}, "unsupported major version"},
		{"extra repeats field", Meta{Global: Global{Datatype: CI8, Extra: map[string]any{"core:hw": "x"}}}, "global core:hw: set in Extra"},
		{"extra repeats top", Meta{Global: Global{Datatype: CI8}, Extra: map[string]any{"captures": 1}}, "top level captures: set in Extra"},
		{"unsorted", Meta{Global: Global{Datatype: CI8}, Captures: []Capture{{SampleStart: 2}, {SampleStart: 1}}}, "captures[1] core:sample_start: 1 comes before"},
		{"negative count", Meta{Global: Global{Datatype: CI8}, Annotations: []Annotation{{SampleCount: -1}}}, "annotations[0] core:sample_count: -1"},
		{"infinite edge", Meta{Global: Global{Datatype: CI8}, Annotations: []Annotation{{FreqUpperEdge: math.Inf(1)}}}, "annotations[0] core:freq_upper_edge: +Inf"},
		{"unencodable extra", Meta{Global: Global{Datatype: CI8, Extra: map[string]any{"x:f": func() {}}}}, "encode metadata"},
		{"two channels", Meta{Global: Global{Datatype: CI8, Extra: map[string]any{"core:num_channels": 2}}}, "core:num_channels: 2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.m.MarshalJSON()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("MarshalJSON error %v, want %q", err, tt.want)
			}
			if err := tt.m.Encode(&bytes.Buffer{}); err == nil {
				t.Error("Encode succeeded")
			}
		})
	}
}

// Hostile metadata is refused without panicking and without memory sized by the
// numbers in it; values quoted in errors are shortened.
func TestParseMetaHostile(t *testing.T) {
	deep := `{"global": {"core:datatype": "ci8", "core:version": "1.2.0", "x:y": ` + strings.Repeat("[", 100000) + `}}`
	long := `{"global": {"core:datatype": "` + strings.Repeat("z", 1<<20) + `", "core:version": "1.2.0"}}`
	hugeNumber := `{"global": {"core:datatype": "ci8", "core:version": "1.2.0"}, "captures": [{"core:sample_start": 1` + strings.Repeat("0", 1<<20) + `}]}`
	for _, tt := range []struct{ name, meta, want string }{
		{"deep nesting", deep, "malformed JSON at byte offset"},
		{"long string", long, "is unsupported"},
		{"huge number", hugeNumber, "want an integer from 0"},
	} {
		_, err := ParseMeta([]byte(tt.meta))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %.200v, want %q", tt.name, err, tt.want)
			continue
		}
		if len(err.Error()) > 300 {
			t.Errorf("%s: error message of %d bytes", tt.name, len(err.Error()))
		}
	}
}
