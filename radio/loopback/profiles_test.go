package loopback

import (
	"math"
	"strings"
	"testing"
)

func TestProfileTapCounts(t *testing.T) {
	tests := []struct {
		name       string
		rayleigh   int // fading taps
		los        int // specular components
		normalised bool
	}{
		{"tdl-a", 23, 0, true},
		{"tdl-b", 23, 0, true},
		{"tdl-c", 24, 0, true},
		{"tdl-d", 13, 1, true},
		{"tdl-e", 14, 1, true},
		{"epa", 7, 0, false},
		{"eva", 9, 0, false},
		{"etu", 9, 0, false},
	}
	all := Profiles()
	if len(all) != len(tests) {
		t.Fatalf("Profiles() has %d entries, want %d", len(all), len(tests))
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := all[i]
			if p.Name != tc.name {
				t.Fatalf("Profiles()[%d].Name = %q, want %q", i, p.Name, tc.name)
			}
			if p.Normalised != tc.normalised {
				t.Errorf("Normalised = %v, want %v", p.Normalised, tc.normalised)
			}
			var ray, los int
			for _, tap := range p.Taps {
				if tap.LOS {
					los++
				} else {
					ray++
				}
			}
			if ray != tc.rayleigh || los != tc.los {
				t.Errorf("got %d Rayleigh + %d LOS taps, want %d + %d", ray, los, tc.rayleigh, tc.los)
			}
			if tc.los > 0 && !p.Taps[0].LOS {
				t.Errorf("LOS component should be the first tap")
			}
			if p.Taps[0].Delay != 0 {
				t.Errorf("first tap delay = %v, want 0", p.Taps[0].Delay)
			}
		})
	}
}

func TestProfileDoppler(t *testing.T) {
	tests := []struct {
		name string
		want float64
	}{
		{"tdl-a", 0}, {"tdl-e", 0}, {"epa", 5}, {"eva", 70}, {"etu", 70},
	}
	for _, tc := range tests {
		p, err := LookupProfile(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if p.Doppler != tc.want {
			t.Errorf("%s Doppler = %v, want %v", tc.name, p.Doppler, tc.want)
		}
	}
}

// The TDL tables are scaled so that their RMS delay spread is 1; after
// scaling by DS the spread must come back as DS.
func TestTDLDelaySpreadMatchesScale(t *testing.T) {
	spreads := []float64{10e-9, 30e-9, 100e-9, 300e-9, 1000e-9}
	for _, name := range []string{"tdl-a", "tdl-b", "tdl-c", "tdl-d", "tdl-e"} {
		p, err := LookupProfile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, ds := range spreads {
			paths, err := p.Paths(ds)
			if err != nil {
				t.Fatalf("%s Paths(%g): %v", name, ds, err)
			}
			got := RMSDelaySpread(paths)
			if rel := math.Abs(got-ds) / ds; rel > 0.02 {
				t.Errorf("%s: RMS delay spread %g s for DS %g s (off by %.2f%%)", name, got, ds, 100*rel)
			}
		}
	}
}

// TS 36.101 Annex B.2.1 quotes 43, 357 and 991 ns for EPA, EVA and ETU.
func TestLTEDelaySpreads(t *testing.T) {
	tests := []struct {
		name     string
		wantNS   float64
		maxDelay float64 // ns
	}{
		{"epa", 43, 410},
		{"eva", 357, 2510},
		{"etu", 991, 5000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := LookupProfile(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			// The delay spread argument is ignored for these profiles,
			// whatever its value.
			for _, ds := range []float64{0, -1, math.NaN(), 1e-6} {
				paths, err := p.Paths(ds)
				if err != nil {
					t.Fatalf("Paths(%v): %v", ds, err)
				}
				got := RMSDelaySpread(paths) * 1e9
				if math.Abs(got-tc.wantNS) > 2 {
					t.Errorf("RMS delay spread %.2f ns, want %v ± 2 ns", got, tc.wantNS)
				}
				last := 0.0
				for _, q := range paths {
					last = math.Max(last, q.Delay)
				}
				if math.Abs(last*1e9-tc.maxDelay) > 1e-6 {
					t.Errorf("maximum excess delay %v ns, want %v ns", last*1e9, tc.maxDelay)
				}
			}
		})
	}
}

func TestPathsPowersSumToOne(t *testing.T) {
	for _, p := range Profiles() {
		paths, err := p.Paths(100e-9)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		if len(paths) != len(p.Taps) {
			t.Fatalf("%s: %d paths for %d taps", p.Name, len(paths), len(p.Taps))
		}
		sum := 0.0
		for i, q := range paths {
			if !(q.Power > 0) {
				t.Errorf("%s path %d: non-positive power %v", p.Name, i, q.Power)
			}
			if q.LOS != p.Taps[i].LOS {
				t.Errorf("%s path %d: LOS flag lost", p.Name, i)
			}
			sum += q.Power
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("%s: powers sum to %.15f", p.Name, sum)
		}
	}
}

func TestPathsScalesNormalisedDelays(t *testing.T) {
	p, err := LookupProfile("tdl-a")
	if err != nil {
		t.Fatal(err)
	}
	paths, err := p.Paths(300e-9)
	if err != nil {
		t.Fatal(err)
	}
	// Tap 23 of TDL-A sits at 9.6586 DS.
	if got, want := paths[22].Delay, 9.6586*300e-9; math.Abs(got-want) > 1e-15 {
		t.Errorf("last TDL-A delay %g, want %g", got, want)
	}
}

func TestPathsRejectsBadDelaySpread(t *testing.T) {
	p, err := LookupProfile("tdl-c")
	if err != nil {
		t.Fatal(err)
	}
	for _, ds := range []float64{0, -1e-9, math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := p.Paths(ds); err == nil {
			t.Errorf("Paths(%v) on a TDL profile: expected an error", ds)
		}
	}
}

// The K-factor of TDL-D/E is the ratio of the LOS power to the Rayleigh power
// of the first tap (TR 38.901 clause 7.7.2: 13.3 dB and 22 dB).
func TestTDLKFactor(t *testing.T) {
	tests := []struct {
		name string
		kDB  float64
	}{
		{"tdl-d", 13.3},
		{"tdl-e", 22},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := LookupProfile(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			paths, err := p.Paths(50e-9)
			if err != nil {
				t.Fatal(err)
			}
			var los, ray float64
			var losDelay, rayDelay float64
			foundLOS, foundRay := false, false
			for _, q := range paths {
				switch {
				case q.LOS && !foundLOS:
					los, losDelay, foundLOS = q.Power, q.Delay, true
				case !q.LOS && !foundRay:
					ray, rayDelay, foundRay = q.Power, q.Delay, true
				}
			}
			if !foundLOS || !foundRay {
				t.Fatalf("missing LOS (%v) or Rayleigh (%v) component", foundLOS, foundRay)
			}
			if losDelay != rayDelay {
				t.Errorf("LOS at %g s but first Rayleigh tap at %g s", losDelay, rayDelay)
			}
			k := 10 * math.Log10(los/ray)
			if math.Abs(k-tc.kDB) > 0.1 {
				t.Errorf("K-factor %.3f dB, want %v dB", k, tc.kDB)
			}
		})
	}
}

func TestLookupProfileNames(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"tdl-a", "tdl-a"},
		{"TDL-A", "tdl-a"},
		{"tdlb", "tdl-b"},
		{"TDL-C", "tdl-c"},
		{"tdlc", "tdl-c"},
		{"tdl_c", "tdl-c"},
		{"Tdl C", "tdl-c"},
		{" tdl-d ", "tdl-d"},
		{"TDL_E", "tdl-e"},
		{"epa", "epa"},
		{"EVA", "eva"},
		{"Etu", "etu"},
	}
	for _, tc := range tests {
		p, err := LookupProfile(tc.in)
		if err != nil {
			t.Errorf("LookupProfile(%q): %v", tc.in, err)
			continue
		}
		if p.Name != tc.want {
			t.Errorf("LookupProfile(%q).Name = %q, want %q", tc.in, p.Name, tc.want)
		}
	}
}

func TestLookupProfileUnknown(t *testing.T) {
	for _, in := range []string{"", "tdl-f", "cdl-a", "epa5", "-"} {
		_, err := LookupProfile(in)
		if err == nil {
			t.Errorf("LookupProfile(%q): expected an error", in)
			continue
		}
		msg := err.Error()
		for _, p := range Profiles() {
			if !strings.Contains(msg, p.Name) {
				t.Errorf("error for %q does not list %q: %s", in, p.Name, msg)
			}
		}
	}
}

// Callers get copies: changing what they receive must not change the tables.
func TestProfilesAreCopies(t *testing.T) {
	a := Profiles()
	a[0].Taps[0].PowerDB = 99
	a[0].Taps = nil
	a[0].Name = "changed"
	p, err := LookupProfile("tdl-a")
	if err != nil {
		t.Fatal(err)
	}
	p.Taps[1].Delay = 42

	b := Profiles()
	if b[0].Name != "tdl-a" || len(b[0].Taps) != 23 {
		t.Fatalf("table changed: %q with %d taps", b[0].Name, len(b[0].Taps))
	}
	if b[0].Taps[0].PowerDB != -13.4 || b[0].Taps[1].Delay != 0.3819 {
		t.Errorf("table values changed: %+v %+v", b[0].Taps[0], b[0].Taps[1])
	}
}

func TestRMSDelaySpreadSimple(t *testing.T) {
	tests := []struct {
		name  string
		paths []Path
		want  float64
	}{
		{"empty", nil, 0},
		{"single", []Path{{Delay: 1e-6, Power: 1}}, 0},
		// Two equal paths 2 µs apart: spread 1 µs.
		{"two equal", []Path{{Delay: 0, Power: 0.5}, {Delay: 2e-6, Power: 0.5}}, 1e-6},
		// Unnormalised powers give the same answer.
		{"unnormalised", []Path{{Delay: 0, Power: 3}, {Delay: 2e-6, Power: 3}}, 1e-6},
		{"zero power", []Path{{Delay: 0, Power: 0}}, 0},
	}
	for _, tc := range tests {
		if got := RMSDelaySpread(tc.paths); math.Abs(got-tc.want) > 1e-18 {
			t.Errorf("%s: got %g, want %g", tc.name, got, tc.want)
		}
	}
}
