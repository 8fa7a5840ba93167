package sigmf

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseDatatype(t *testing.T) {
	tests := []struct {
		in    string
		want  Datatype
		bytes int
		ok    bool
	}{
		{"ci8", CI8, 2, true},
		{"ci16_le", CI16LE, 4, true},
		{"cf32_le", CF32LE, 8, true},
		{"ri8", 0, 0, false},
		{"ci16_be", 0, 0, false},
		{"cf32", 0, 0, false},
		{"CI8", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDatatype(tt.in)
		if !tt.ok {
			var ue *UnsupportedError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), "supported: ci8, ci16_le, cf32_le") {
				t.Errorf("ParseDatatype(%q) error = %v, want *UnsupportedError listing the supported types", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDatatype(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
			continue
		}
		if got.String() != tt.in || got.SampleBytes() != tt.bytes {
			t.Errorf("%v: String %q SampleBytes %d, want %q %d", got, got.String(), got.SampleBytes(), tt.in, tt.bytes)
		}
		var back Datatype
		if text, err := got.MarshalText(); err != nil || back.UnmarshalText(text) != nil || back != got {
			t.Errorf("%v: text round trip gave %v (%v)", got, back, err)
		}
	}
	if s := Datatype(0).String(); s != "Datatype(0)" {
		t.Errorf("Datatype(0).String() = %q", s)
	}
	if _, err := Datatype(9).MarshalText(); err == nil {
		t.Error("MarshalText of an invalid Datatype succeeded")
	}
}

// slowQuantise is the definition that quantise implements quickly.
func slowQuantise(x float32, scale float64) (int32, bool) {
	if math.IsNaN(float64(x)) {
		return 0, true
	}
	r := math.RoundToEven(float64(x) * scale)
	switch {
	case r > scale-1:
		return int32(scale - 1), true
	case r < -scale:
		return int32(-scale), true
	}
	return int32(r), false
}

func TestQuantiseAgainstDefinition(t *testing.T) {
	inf := float32(math.Inf(1))
	for _, scale := range []float64{scale8, scale16} {
		var xs []float32
		// Every grid point and every midpoint, with their float32 neighbours, well
		// beyond full scale on both sides.
		for k := -scale - 4; k <= scale+4; k += 0.5 {
			x := float32(k / scale)
			xs = append(xs, x, math.Nextafter32(x, inf), math.Nextafter32(x, -inf))
		}
		xs = append(xs, 0, float32(math.Copysign(0, -1)), 1, -1, 1e30, -1e30, inf, -inf, float32(math.NaN()),
			math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32)
		for _, x := range xs {
			got, gotClip := quantise(x, scale)
			want, wantClip := slowQuantise(x, scale)
			if got != want || gotClip != wantClip {
				t.Errorf("scale %v: quantise(%v) = %d, %v; want %d, %v", scale, x, got, gotClip, want, wantClip)
			}
		}
	}
}

// Every code of ci8 and ci16_le decodes and re-encodes to itself, so a recording
// of already-quantised samples is copied bit for bit.
func TestCodesRoundTrip(t *testing.T) {
	for _, d := range []Datatype{CI8, CI16LE} {
		var raw []byte
		if d == CI8 {
			for v := 0; v < 256; v++ {
				raw = append(raw, byte(v), byte(255-v))
			}
		} else {
			for v := 0; v < 1<<16; v++ {
				w := 0xffff - v
				raw = append(raw, byte(v), byte(v>>8), byte(w), byte(w>>8))
			}
		}
		n := len(raw) / d.SampleBytes()
		x := make([]complex64, n)
		decode(d, x, raw)
		back := make([]byte, len(raw))
		if c := encode(d, back, x); c != 0 {
			t.Errorf("%v: %d samples clipped, want 0", d, c)
		}
		if string(back) != string(raw) {
			t.Errorf("%v: codes do not survive decode and encode", d)
		}
		if d == CI8 && (x[0] != complex(0, -1.0/128) || x[128] != complex(-1, 127.0/128)) {
			t.Errorf("ci8 scale: got %v and %v", x[0], x[128])
		}
	}
}

func TestEncodeClipsAndCounts(t *testing.T) {
	src := []complex64{0.5, complex(1, 0), complex(0, -1), complex(-1.01, 0), complex(0.2, 2), complex(float32(math.NaN()), 0)}
	for _, tt := range []struct {
		d    Datatype
		want int
	}{{CI8, 4}, {CI16LE, 4}, {CF32LE, 0}} { // +1.0, -1.01, 2 and NaN clip; -1.0 does not
		dst := make([]byte, len(src)*tt.d.SampleBytes())
		if got := encode(tt.d, dst, src); got != tt.want {
			t.Errorf("%v: clipped %d, want %d", tt.d, got, tt.want)
		}
	}
}
