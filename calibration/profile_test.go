package calibration

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// A profile survives Save and Load unchanged, and the file carries its header.
func TestProfileSaveLoad(t *testing.T) {
	p := testProfile(-7.25, 0.2, 1.5, 0.015-0.008i)
	p.Gains.Sweep = []SweepPoint{{TXGain: 30, RXGain: 36, LevelDBFS: -19, PeakDBFS: -8, EVMDB: -25, Frames: 8, Decoded: 8}}
	p.Notes = []string{"a note"}
	for i := range p.Channel.SubcarrierSNR {
		p.Channel.SubcarrierSNR[i] = 20 + float64(i)/7
	}
	path := filepath.Join(t.TempDir(), "p.yaml")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	q, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !q.Created.Equal(p.Created) {
		t.Errorf("created %v, want %v", q.Created, p.Created)
	}
	q.Created = p.Created
	if !reflect.DeepEqual(p, q) {
		t.Errorf("loaded\n%+v\nwant\n%+v", q, p)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "# m4sc calibration profile") {
		t.Errorf("no header:\n%s", data)
	}
	// An invalid profile is not written.
	p.IQ.GainDB = 7
	if err := p.Save(path); err == nil {
		t.Error("invalid profile saved")
	}
	if _, err := Load(path); err != nil {
		t.Errorf("the earlier file was damaged: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("missing file loaded")
	}
}

// Load refuses every out-of-range or missing field with a FieldError naming it.
func TestProfileValidate(t *testing.T) {
	tests := []struct {
		field  string
		modify func(p *Profile)
	}{
		{"version", func(p *Profile) { p.Version = 2 }},
		{"created", func(p *Profile) { p.Created = time.Time{} }},
		{"rx.spec", func(p *Profile) { p.RX.Spec = "" }},
		{"frequency_hz", func(p *Profile) { p.Frequency = 0 }},
		{"sample_rate", func(p *Profile) { p.SampleRate = -20e6 }},
		{"frequency_error.ppm", func(p *Profile) { p.FrequencyError.PPM = 1001 }},
		{"frequency_error.ppm_se", func(p *Profile) { p.FrequencyError.PPMSE = -1 }},
		{"frequency_error.carrier_offset_hz", func(p *Profile) { p.FrequencyError.CarrierOffset = math.Inf(1) }},
		{"frequency_error.ltf_ppm.value", func(p *Profile) { p.FrequencyError.LTF.Value = math.NaN() }},
		{"frequency_error.tone_ppm.count", func(p *Profile) { p.FrequencyError.Tone.N = -1 }},
		{"dc.i", func(p *Profile) { p.DC.I = 1.5 }},
		{"dc.q", func(p *Profile) { p.DC.Q = -2 }},
		{"iq.gain_db", func(p *Profile) { p.IQ.GainDB = -6.5 }},
		{"iq.phase_deg", func(p *Profile) { p.IQ.PhaseDeg = 90 }},
		{"iq.method", func(p *Profile) { p.IQ.Method = "magic" }},
		{"iq.mirror.phase_deg_se", func(p *Profile) { p.IQ.Mirror.PhaseDegSE = -0.1 }},
		{"gains.rx.lna", func(p *Profile) { p.Gains.RX["lna"] = 1e6 }},
		{"gains.tx", func(p *Profile) { p.Gains.TX["Bad Name"] = 1 }},
		{"gains.evm_db", func(p *Profile) { p.Gains.EVMDB = 3 }},
		{"gains.sweep[0].clipped", func(p *Profile) { p.Gains.Sweep = []SweepPoint{{Clipped: -1}} }},
		{"channel.snr_db", func(p *Profile) { p.Channel.SNRDB = 300 }},
		{"channel.subcarrier_snr_db", func(p *Profile) { p.Channel.SubcarrierSNR = []float64{1, 2, 3} }},
		{"channel.subcarrier_snr_db[5]", func(p *Profile) { p.Channel.SubcarrierSNR[5] = math.NaN() }},
		{"channel.delay_spread_ns", func(p *Profile) { p.Channel.DelaySpreadNS = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			p := testProfile(1, 0.1, 0.2, 0.01)
			tt.modify(p)
			// Through YAML, as a file would bring it.
			data, err := yaml.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(data)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("error %v, want a FieldError for %s", err, tt.field)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("message %q does not name %s", err, tt.field)
			}
		})
	}
}

// Malformed YAML is refused with an error, never a panic.
func TestParseMalformed(t *testing.T) {
	good, err := encode(testProfile(0, 0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"empty":         "",
		"comment only":  "# nothing\n",
		"not a mapping": "- 1\n- 2\n",
		"unknown field": string(good) + "colour: blue\n",
		"typo":          strings.Replace(string(good), "frequency_hz:", "frequncy_hz:", 1),
		"wrong type":    strings.Replace(string(good), "sample_rate: 2e+07", "sample_rate: fast", 1),
		"two documents": string(good) + "---\nversion: 1\n",
		"bad date":      strings.Replace(string(good), "created: 2025-03-01T12:00:00Z", "created: yesterday", 1),
		"nan":           strings.Replace(string(good), "sample_rate: 2e+07", "sample_rate: .nan", 1),
		"too large":     string(good) + "notes: [" + strings.Repeat("\"x\", ", maxProfileSize/5) + "]\n",
		"tab indent":    "version: 1\n\tcreated: x\n",
	} {
		if _, err := Parse([]byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Parse(good); err != nil {
		t.Errorf("the unmodified profile: %v", err)
	}
}

func encode(p *Profile) ([]byte, error) {
	var b bytes.Buffer
	err := p.Encode(&b)
	return b.Bytes(), err
}

// FuzzParse: whatever Parse accepts is valid, encodes, and reads back as the same
// profile.
func FuzzParse(f *testing.F) {
	good, err := encode(testProfile(3.5, 0.2, 1.5, 0.015-0.008i))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	// Written by `m4sc --seed 1 calibrate --tx loopback:hackrf --rx loopback:hackrf
	// --out hackrf-loopback.yaml`.
	if seed, err := os.ReadFile(filepath.Join("testdata", "hackrf-loopback.yaml")); err == nil {
		f.Add(seed)
	}
	f.Add([]byte("version: 1\n"))
	f.Add([]byte("version: 1\ncreated: 2025-01-01T00:00:00Z\nrx: {spec: x}\nfrequency_hz: 1\nsample_rate: 1\niq: {method: none}\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid profile: %v", err)
		}
		b1, err := encode(p)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		q, err := Parse(b1)
		if err != nil {
			t.Fatalf("re-parse of\n%s\n: %v", b1, err)
		}
		// Equal as values (DeepEqual compares floats with ==, so -0 equals 0); the
		// date as an instant.
		if !q.Created.Equal(p.Created) {
			t.Fatalf("created %v, then %v", p.Created, q.Created)
		}
		q.Created = p.Created
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip changed the profile:\n%+v\n%+v", p, q)
		}
	})
}
