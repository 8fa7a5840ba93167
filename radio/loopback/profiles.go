package loopback

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/m4sc/m4sc/radio"
)

// This file holds the multipath power delay profiles used by the channel
// simulator, as plain data plus a few helpers to turn them into path lists.
//
// Two families are provided:
//
//   - The 3GPP TR 38.901 (V16/V17) clause 7.7.2 tapped delay line models
//     TDL-A .. TDL-E (Tables 7.7.2-1 .. 7.7.2-5). Their delays are given in
//     units of the RMS delay spread: the caller picks a delay spread (TR 38.901
//     Table 7.7.3-1 lists 10, 30, 100, 300 and 1000 ns as very short .. very
//     long) and every delay is multiplied by it (clause 7.7.3). TDL-A, TDL-B
//     and TDL-C are NLOS profiles made only of Rayleigh taps. In TDL-D and
//     TDL-E the first tap is split into a specular LOS component and a
//     Rayleigh component at the same delay; the ratio of the two is the Ricean
//     K-factor of the first tap (13.3 dB for TDL-D, 22 dB for TDL-E).
//
//   - The LTE "extended" models of 3GPP TS 36.101 Annex B.2.1 (Tables
//     B.2.1-2 .. B.2.1-4, also in TS 36.104 Annex B.2): EPA, EVA and ETU, with
//     absolute delays in nanoseconds. All taps are Rayleigh.
//
// Taps are kept in the order of the standard's tables. That order is not
// always sorted by delay (for example TDL-A tap 5 comes before tap 4 in time),
// so callers that need increasing delays must sort the result themselves.

// Tap is one path of a power delay profile.
type Tap struct {
	Delay   float64 // seconds, or in units of the delay spread when the profile is Normalised
	PowerDB float64 // relative power, dB
	LOS     bool    // specular line-of-sight component (no Rayleigh fading), TDL-D and TDL-E first tap
}

// Profile is a named power delay profile.
type Profile struct {
	Name       string  // "tdl-a".."tdl-e", "epa", "eva", "etu"
	Normalised bool    // delays are multiples of the RMS delay spread (TDL)
	Doppler    float64 // typical maximum Doppler in Hz for this profile's usual test cases (0 where none is usual)
	Taps       []Tap
}

// Path is one resolved propagation path: an absolute delay and a linear
// power share of the whole profile.
type Path struct {
	Delay float64 // seconds
	Power float64 // linear, all paths of a profile sum to 1
	LOS   bool    // specular component (no fading)
}

// tapRow is the compact form in which the tables below are written.
type tapRow struct {
	delay, powerDB float64
	los            bool
}

// profileDef is the immutable description of one profile. The tables are
// arrays inside functions, so every call builds fresh slices and nothing the
// caller receives aliases package data.
type profileDef struct {
	name       string
	normalised bool
	doppler    float64
	rows       []tapRow
}

// ns converts nanoseconds to seconds.
const ns = 1e-9

// profileDefs returns the definitions of every profile in their fixed order.
func profileDefs() []profileDef {
	return []profileDef{
		{name: "tdl-a", normalised: true, rows: tdlA()},
		{name: "tdl-b", normalised: true, rows: tdlB()},
		{name: "tdl-c", normalised: true, rows: tdlC()},
		{name: "tdl-d", normalised: true, rows: tdlD()},
		{name: "tdl-e", normalised: true, rows: tdlE()},
		// TS 36.101 / 36.104 test cases use EPA with 5 Hz.
		{name: "epa", doppler: 5, rows: epa()},
		// EVA appears as EVA5 and EVA70; 70 Hz is recorded here, 5 Hz is the
		// other common choice.
		{name: "eva", doppler: 70, rows: eva()},
		// ETU appears as ETU70 and ETU300 (and ETU200/ETU30 in a few moving
		// or high-speed cases); 70 Hz is recorded here, 300 Hz is the other
		// common choice.
		{name: "etu", doppler: 70, rows: etu()},
	}
}

// tdlA is TR 38.901 Table 7.7.2-1 (TDL-A, NLOS): normalised delay, power dB.
func tdlA() []tapRow {
	return []tapRow{
		{0.0000, -13.4, false},
		{0.3819, 0.0, false},
		{0.4025, -2.2, false},
		{0.5868, -4.0, false},
		{0.4610, -6.0, false},
		{0.5375, -8.2, false},
		{0.6708, -9.9, false},
		{0.5750, -10.5, false},
		{0.7618, -7.5, false},
		{1.5375, -15.9, false},
		{1.8978, -6.6, false},
		{2.2242, -16.7, false},
		{2.1718, -12.4, false},
		{2.4942, -15.2, false},
		{2.5119, -10.8, false},
		{3.0582, -11.3, false},
		{4.0810, -12.7, false},
		{4.4579, -16.2, false},
		{4.5695, -18.3, false},
		{4.7966, -18.9, false},
		{5.0066, -16.6, false},
		{5.3043, -19.9, false},
		{9.6586, -29.7, false},
	}
}

// tdlB is TR 38.901 Table 7.7.2-2 (TDL-B, NLOS).
func tdlB() []tapRow {
	return []tapRow{
		{0.0000, 0.0, false},
		{0.1072, -2.2, false},
		{0.2155, -4.0, false},
		{0.2095, -3.2, false},
		{0.2870, -9.8, false},
		{0.2986, -1.2, false},
		{0.3752, -3.4, false},
		{0.5055, -5.2, false},
		{0.3681, -7.6, false},
		{0.3697, -3.0, false},
		{0.5700, -8.9, false},
		{0.5283, -9.0, false},
		{1.1021, -4.8, false},
		{1.2756, -5.7, false},
		{1.5474, -7.5, false},
		{1.7842, -1.9, false},
		{2.0169, -7.6, false},
		{2.8294, -12.2, false},
		{3.0219, -9.8, false},
		{3.6187, -11.4, false},
		{4.1067, -14.9, false},
		{4.2790, -9.2, false},
		{4.7834, -11.3, false},
	}
}

// tdlC is TR 38.901 Table 7.7.2-3 (TDL-C, NLOS).
func tdlC() []tapRow {
	return []tapRow{
		{0.0000, -4.4, false},
		{0.2099, -1.2, false},
		{0.2219, -3.5, false},
		{0.2329, -5.2, false},
		{0.2176, -2.5, false},
		{0.6366, 0.0, false},
		{0.6448, -2.2, false},
		{0.6560, -3.9, false},
		{0.6584, -7.4, false},
		{0.7935, -7.1, false},
		{0.8213, -10.7, false},
		{0.9336, -11.1, false},
		{1.2285, -5.1, false},
		{1.3083, -6.8, false},
		{2.1704, -8.7, false},
		{2.7105, -13.2, false},
		{4.2589, -13.9, false},
		{4.6003, -13.9, false},
		{5.4902, -15.8, false},
		{5.6077, -17.1, false},
		{6.3065, -16.0, false},
		{6.6374, -15.7, false},
		{7.0427, -21.6, false},
		{8.6523, -22.8, false},
	}
}

// tdlD is TR 38.901 Table 7.7.2-4 (TDL-D, LOS). Tap 1 appears twice: the
// specular part (-0.2 dB) and the Rayleigh part (-13.5 dB), hence
// K1 = -0.2 - (-13.5) = 13.3 dB.
func tdlD() []tapRow {
	return []tapRow{
		{0.000, -0.2, true},
		{0.000, -13.5, false},
		{0.035, -18.8, false},
		{0.612, -21.0, false},
		{1.363, -22.8, false},
		{1.405, -17.9, false},
		{1.804, -20.1, false},
		{2.596, -21.9, false},
		{1.775, -22.9, false},
		{4.042, -27.8, false},
		{7.937, -23.6, false},
		{9.424, -24.8, false},
		{9.708, -30.0, false},
		{12.525, -27.7, false},
	}
}

// tdlE is TR 38.901 Table 7.7.2-5 (TDL-E, LOS). Tap 1 is split into a
// specular part (-0.03 dB) and a Rayleigh part (-22.03 dB): K1 = 22 dB.
func tdlE() []tapRow {
	return []tapRow{
		{0.0000, -0.03, true},
		{0.0000, -22.03, false},
		{0.5133, -15.8, false},
		{0.5440, -18.1, false},
		{0.5630, -19.8, false},
		{0.5440, -22.9, false},
		{0.7112, -22.4, false},
		{1.9092, -18.6, false},
		{1.9293, -20.8, false},
		{1.9589, -22.6, false},
		{2.6426, -22.3, false},
		{3.7136, -25.6, false},
		{5.4524, -20.2, false},
		{12.0034, -29.8, false},
		{20.6519, -29.2, false},
	}
}

// epa is TS 36.101 Table B.2.1-2, Extended Pedestrian A (RMS delay spread
// 43 ns, maximum excess delay 410 ns).
func epa() []tapRow {
	return []tapRow{
		{0 * ns, 0.0, false},
		{30 * ns, -1.0, false},
		{70 * ns, -2.0, false},
		{90 * ns, -3.0, false},
		{110 * ns, -8.0, false},
		{190 * ns, -17.2, false},
		{410 * ns, -20.8, false},
	}
}

// eva is TS 36.101 Table B.2.1-3, Extended Vehicular A (RMS delay spread
// 357 ns, maximum excess delay 2510 ns).
func eva() []tapRow {
	return []tapRow{
		{0 * ns, 0.0, false},
		{30 * ns, -1.5, false},
		{150 * ns, -1.4, false},
		{310 * ns, -3.6, false},
		{370 * ns, -0.6, false},
		{710 * ns, -9.1, false},
		{1090 * ns, -7.0, false},
		{1730 * ns, -12.0, false},
		{2510 * ns, -16.9, false},
	}
}

// etu is TS 36.101 Table B.2.1-4, Extended Typical Urban (RMS delay spread
// 991 ns, maximum excess delay 5000 ns).
func etu() []tapRow {
	return []tapRow{
		{0 * ns, -1.0, false},
		{50 * ns, -1.0, false},
		{120 * ns, -1.0, false},
		{200 * ns, 0.0, false},
		{230 * ns, 0.0, false},
		{500 * ns, 0.0, false},
		{1600 * ns, -3.0, false},
		{2300 * ns, -5.0, false},
		{5000 * ns, -7.0, false},
	}
}

// toProfile builds a Profile with its own freshly allocated tap slice.
func (d profileDef) toProfile() Profile {
	taps := make([]Tap, len(d.rows))
	for i, r := range d.rows {
		taps[i] = Tap{Delay: r.delay, PowerDB: r.powerDB, LOS: r.los}
	}
	return Profile{Name: d.name, Normalised: d.normalised, Doppler: d.doppler, Taps: taps}
}

// Profiles lists every known profile in a fixed order: tdl-a .. tdl-e, then
// epa, eva, etu. The result is a new copy on every call.
func Profiles() []Profile {
	defs := profileDefs()
	out := make([]Profile, len(defs))
	for i, d := range defs {
		out[i] = d.toProfile()
	}
	return out
}

// nameKey reduces a profile name to lower-case letters and digits, so that
// "TDL-C", "tdlc", "tdl_c" and "TDL C" all compare equal.
func nameKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// LookupProfile finds a profile by case-insensitive name ("TDL-C", "tdlc",
// "tdl_c" all accepted; "epa", "EVA", ...). Unknown names give an error
// listing the valid ones.
func LookupProfile(name string) (Profile, error) {
	key := nameKey(name)
	defs := profileDefs()
	if key != "" {
		for _, d := range defs {
			if nameKey(d.name) == key {
				return d.toProfile(), nil
			}
		}
	}
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.name
	}
	return Profile{}, fmt.Errorf("loopback: unknown delay profile %s (valid: %s)", radio.QuoteSpec(name), strings.Join(names, ", "))
}

// Paths resolves the profile into absolute delays in seconds and linear
// powers normalised to a total of 1 (the LOS and Rayleigh parts of a split
// tap both count towards the total). For a Normalised (TDL) profile every
// delay is multiplied by delaySpread, which must be a positive finite number
// of seconds; for the LTE profiles delaySpread is ignored. Paths come out in
// the same order as Taps.
func (p Profile) Paths(delaySpread float64) ([]Path, error) {
	scale := 1.0
	if p.Normalised {
		if math.IsNaN(delaySpread) || math.IsInf(delaySpread, 0) || delaySpread <= 0 {
			return nil, fmt.Errorf("loopback: profile %q needs a positive finite delay spread, got %v", p.Name, delaySpread)
		}
		scale = delaySpread
	}
	if len(p.Taps) == 0 {
		return nil, fmt.Errorf("loopback: profile %q has no taps", p.Name)
	}
	paths := make([]Path, len(p.Taps))
	total := 0.0
	for i, t := range p.Taps {
		lin := math.Pow(10, t.PowerDB/10)
		paths[i] = Path{Delay: t.Delay * scale, Power: lin, LOS: t.LOS}
		total += lin
	}
	if !(total > 0) || math.IsInf(total, 0) {
		return nil, errors.New("loopback: profile " + p.Name + " has no usable power")
	}
	for i := range paths {
		paths[i].Power /= total
	}
	return paths, nil
}

// RMSDelaySpread returns the RMS delay spread (seconds) of resolved paths:
// the power-weighted standard deviation of the delays. Powers are weighted
// by their own total, so they need not sum to 1. It returns 0 for an empty
// list or one without positive power.
func RMSDelaySpread(paths []Path) float64 {
	var sumP, sumPT float64
	for _, p := range paths {
		sumP += p.Power
		sumPT += p.Power * p.Delay
	}
	if !(sumP > 0) {
		return 0
	}
	mean := sumPT / sumP
	// Second pass around the mean avoids the cancellation of E[t^2]-E[t]^2.
	var v float64
	for _, p := range paths {
		d := p.Delay - mean
		v += p.Power * d * d
	}
	return math.Sqrt(v / sumP)
}
