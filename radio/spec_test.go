package radio

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseSpec(t *testing.T) {
	good := []struct {
		in   string
		want Spec
	}{
		{"loopback", Spec{Driver: "loopback"}},
		{"loopback:hackrf", Spec{Driver: "loopback", Arg: "hackrf"}},
		{"loopback:hackrf,ppm=12.5,snr=25,channel=epa", Spec{"loopback", "hackrf", []Param{{"ppm", "12.5"}, {"snr", "25"}, {"channel", "epa"}}}},
		{" loopback , snr = 3 ", Spec{"loopback", "", []Param{{"snr", "3"}}}},
		{"file:/tmp/a b/capture.sigmf-meta", Spec{Driver: "file", Arg: "/tmp/a b/capture.sigmf-meta"}},
		{"file:C:x.cs8,rate=2M", Spec{"file", "C:x.cs8", []Param{{"rate", "2M"}}}},
		{"hackrf:0000000000000000457863c82a2a3f1f", Spec{Driver: "hackrf", Arg: "0000000000000000457863c82a2a3f1f"}},
	}
	for _, c := range good {
		got, err := ParseSpec(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %+v want %+v", c.in, got, c.want)
		}
		again, err := ParseSpec(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("%q: canonical form %q does not parse back: %v", c.in, got.String(), err)
		}
	}
	bad := []struct{ in, want string }{
		{"", "no driver"},
		{":hackrf", "no driver"},
		{"Loopback", "driver name"},
		{"loop back", "driver name"},
		{"loopback,", "empty parameter"},
		{"loopback,snr", "no '=value'"},
		{"loopback,snr=", "empty value"},
		{"loopback,SNR=3", "parameter name"},
		{"loopback,snr=3,snr=4", "given twice"},
		{"loopback\x00", "control character"},
		{"loopback,a=\xff", "UTF-8"},
		{strings.Repeat("a", 5000), "longer than"},
	}
	for _, c := range bad {
		_, err := ParseSpec(c.in)
		var se *SpecError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want a SpecError containing %q", c.in, err, c.want)
		}
	}
}

func TestParseFloatParam(t *testing.T) {
	for in, want := range map[string]float64{"2.45G": 2.45e9, "20M": 20e6, "12.5k": 12500, "-3": -3, "1e6": 1e6} {
		got, err := ParseFloatParam("x", in)
		if err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "NaN", "inf", "1x", "M"} {
		if _, err := ParseFloatParam("rate", in); err == nil || !strings.Contains(err.Error(), "rate") {
			t.Errorf("%q: error %v, want one naming the parameter", in, err)
		}
	}
}

// Every boolean key takes the same words, and anything else is an error that
// names the key.
func TestParseBoolParam(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "on": true, "1": true, "TRUE": true, " On ": true,
		"false": false, "off": false, "0": false, "False": false} {
		got, err := ParseBoolParam("loop", in)
		if err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "foo", "yes", "no", "2", "t", "allow", strings.Repeat("x", 5000)} {
		_, err := ParseBoolParam("loop", in)
		if err == nil || !strings.Contains(err.Error(), "parameter loop: ") || len(err.Error()) > 300 {
			t.Errorf("%.20q: error %v, want a short one naming the parameter", in, err)
		}
	}
}

// A long device string is not repeated in full by its error.
func TestSpecErrorClipped(t *testing.T) {
	for _, s := range []string{strings.Repeat("a", 100000), "loopback," + strings.Repeat("X", 3000) + "=1",
		"loopback,snr=" + strings.Repeat("9", 3000), strings.Repeat("é", 60000)} {
		_, err := ParseSpec(s)
		if err == nil {
			if _, err = ParseFloatParam("snr", s[strings.LastIndex(s, "=")+1:]); err == nil {
				t.Fatalf("%.20q parsed", s)
			}
		}
		if msg := err.Error(); len(msg) > 400 || !utf8.ValidString(msg) && utf8.ValidString(s) {
			t.Errorf("error of %d bytes for a %d-byte string: %.300s", len(msg), len(s), msg)
		}
	}
	if _, err := ParseSpec(strings.Repeat("a", 100000)); !strings.Contains(err.Error(), "... (100000 bytes)") {
		t.Errorf("the clipped string's length is not given: %v", err)
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"loopback", "loopback:hackrf,ppm=12.5,snr=25,channel=epa", "file:x.sigmf-meta", "hackrf:123", ",,", "a:b:c,d=e=f", "loopback,snr=3,snr=4",
		"file:a.sigmf-meta,loop=foo", "file:a.sigmf-meta,truncated=yes", "file:a.cs8,loop=ON,truncated=1", strings.Repeat("ab,", 1500), "loopback," + strings.Repeat("K", 200) + "=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpec(s)
		if err != nil {
			var se *SpecError
			if !errors.As(err, &se) {
				t.Fatalf("error of type %T", err)
			}
			// Messages repeat at most a clipped part of the string.
			if len(err.Error()) > 600 {
				t.Fatalf("error of %d bytes: %.100s", len(err.Error()), err)
			}
			return
		}
		for _, p := range sp.Params {
			if _, err := ParseBoolParam(p.Key, p.Value); err != nil && (!strings.Contains(err.Error(), "parameter "+p.Key+": ") || len(err.Error()) > 200+len(p.Key)) {
				t.Fatalf("ParseBoolParam(%q, %.20q): %v", p.Key, p.Value, err)
			}
		}
		again, err := ParseSpec(sp.String())
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", sp.String(), s, err)
		}
		if !reflect.DeepEqual(again, sp) {
			t.Fatalf("canonical form changes the spec: %+v vs %+v", again, sp)
		}
	})
}

func TestValidate(t *testing.T) {
	in := Info{
		Spec:       "test",
		SampleRate: Range{Min: 2e6, Max: 20e6},
		Frequency:  Range{Min: 1e6, Max: 6e9},
		Bandwidths: []float64{1.75e6, 5e6, 10e6, 20e6},
		Gains: []GainInfo{
			{Name: "lna", Range: Range{Min: 0, Max: 40, Step: 8}, Default: 16},
			{Name: "vga", Range: Range{Min: 0, Max: 62, Step: 2}, Default: 20},
		},
	}
	got, err := in.Validate(Config{SampleRate: 10e6, Frequency: 2.4e9, Gains: map[string]float64{"lna": 24}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Bandwidth != 10e6 || got.Gains["lna"] != 24 || got.Gains["vga"] != 20 {
		t.Errorf("defaults not filled: %+v", got)
	}
	for _, c := range []struct {
		cfg   Config
		field string
	}{
		{Config{SampleRate: 1e6, Frequency: 2.4e9}, "sample rate"},
		{Config{SampleRate: 10e6, Frequency: 7e9}, "frequency"},
		{Config{SampleRate: 10e6, Frequency: 2.4e9, Bandwidth: 3e6}, "bandwidth"},
		{Config{SampleRate: 10e6, Frequency: 2.4e9, Gains: map[string]float64{"lna": 20}}, "gain lna"},
		{Config{SampleRate: 10e6, Frequency: 2.4e9, Gains: map[string]float64{"vga": 64}}, "gain vga"},
		{Config{SampleRate: 10e6, Frequency: 2.4e9, Gains: map[string]float64{"amp": 0}}, "gain amp"},
	} {
		_, err := in.Validate(c.cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != c.field {
			t.Errorf("%+v: error %v, want a ConfigError on %q", c.cfg, err, c.field)
		}
	}
}
