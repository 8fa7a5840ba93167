package calibration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/m4sc/m4sc/internal/atomicfile"
)

// ProfileVersion is the version of the profile format this package writes and reads.
const ProfileVersion = 1

// SubcarrierCount is the length of Channel.SubcarrierSNR: the 52 used subcarriers of the
// 802.11a numerology, -26..-1 then 1..26.
const SubcarrierCount = 52

// Limits of a valid profile. A profile outside them is refused by Load and Validate:
// no pair of radios worth calibrating is that far off, so such a value is a typo or a
// corrupted file.
const (
	MaxPPM         = 1000    // |frequency error|, ppm
	MaxIQGainDB    = 6       // |I/Q gain imbalance|, dB
	MaxIQPhaseDeg  = 45      // |I/Q phase imbalance|, degrees
	MaxGainDB      = 200     // |any named gain|, dB
	MinSNRDB       = -50     // SNR fields, dB
	MaxSNRDB       = 100     // SNR fields, dB (also the value written for a noise-free link)
	MinLevelDBFS   = -200    // levels, EVM and noise, dB(FS)
	MaxLevelDBFS   = 10      // levels, dBFS
	MaxDelaySpread = 1e5     // ns
	maxProfileSize = 1 << 20 // bytes read by Parse
)

// Profile is what calibration measured on a pair of radios, in the units its YAML
// field names give. It is applied at the receiver (see Corrector) and by configuring the
// devices' gains (see ApplyGains).
//
// Conventions:
//   - The frequency error is that of the transmitter relative to the receiver:
//     PPM = ((1+eTx)/(1+eRx) - 1) * 1e6 for crystal errors eTx and eRx. The receiver sees
//     a carrier offset of PPM*1e-6*Frequency Hz (received minus expected) and, because
//     one crystal drives both the carrier and the sample clock, a sample-clock offset
//     of PPM as well.
//   - The receiver's front end is modelled as I' = I + DC.I, Q' = g(Q cos phi - I sin
//     phi) + DC.Q with g = 10^(IQ.GainDB/20) and phi = IQ.PhaseDeg degrees: the Q
//     branch's gain and phase error relative to I (the loopback simulator's model).
//   - Levels are dBFS of mean power, full scale 1 (radio's convention); SNR is the
//     project's (signal over noise in the full sample bandwidth) except where a field
//     says per subcarrier.
type Profile struct {
	Version    int       `yaml:"version"`
	Created    time.Time `yaml:"created"`
	TX         Device    `yaml:"tx"`
	RX         Device    `yaml:"rx"`
	Frequency  float64   `yaml:"frequency_hz"` // centre frequency of the measurement
	SampleRate float64   `yaml:"sample_rate"`  // samples/s

	FrequencyError FrequencyError `yaml:"frequency_error"`
	DC             DCOffset       `yaml:"dc"`
	IQ             IQImbalance    `yaml:"iq"`
	Gains          Gains          `yaml:"gains"`
	Channel        Channel        `yaml:"channel"`
	// Notes are warnings of the run: estimates that disagree, stages that had to be
	// skipped.
	Notes []string `yaml:"notes,omitempty"`
}

// Device identifies one radio of the pair.
type Device struct {
	Spec   string `yaml:"spec"`
	Driver string `yaml:"driver"`
	Serial string `yaml:"serial"`
}

// Estimate is one measured figure: its value, its standard error, and how many
// independent observations (frames, blocks) it rests on. N == 0 means not measured.
type Estimate struct {
	Value float64 `yaml:"value"`
	SE    float64 `yaml:"se"`
	N     int     `yaml:"count"`
}

// FrequencyError is the oscillator error of the pair.
type FrequencyError struct {
	// PPM is the figure applied: the inverse-variance weighted mean of LTF and Tone.
	PPM   float64 `yaml:"ppm"`
	PPMSE float64 `yaml:"ppm_se"`
	// CarrierOffset is PPM at Frequency, Hz.
	CarrierOffset float64 `yaml:"carrier_offset_hz"`
	// SampleClockPPM is the receiver's sample-clock offset, derived from PPM (one
	// crystal per device: it is the same figure).
	SampleClockPPM float64 `yaml:"sample_clock_ppm"`
	// LTF is the mean of the receiver's carrier-offset estimates on the long training
	// fields of N frames, in ppm.
	LTF Estimate `yaml:"ltf_ppm"`
	// Tone is the frequency of a CW tone, by the slope of its phase, in ppm.
	Tone Estimate `yaml:"tone_ppm"`
}

// DCOffset is the receiver's DC offset at the calibrated gains, full scale 1.
type DCOffset struct {
	I  float64 `yaml:"i"`
	Q  float64 `yaml:"q"`
	SE float64 `yaml:"se"` // of each component
	// NoiseDBFS is the idle noise power, DC removed, at the calibrated gains.
	NoiseDBFS float64 `yaml:"noise_dbfs"`
}

// IQImbalance is the receiver's I/Q imbalance.
type IQImbalance struct {
	GainDB   float64 `yaml:"gain_db"`
	PhaseDeg float64 `yaml:"phase_deg"`
	// Method names the estimate applied: IQMoment, IQMirror, or IQNone.
	Method string     `yaml:"method"`
	Moment IQEstimate `yaml:"moment"`
	Mirror IQEstimate `yaml:"mirror"`
}

// Names of the I/Q estimators (IQImbalance.Method).
const (
	IQNone   = "none"   // nothing measured: no correction
	IQMoment = "moment" // second moments of received noise
	IQMirror = "mirror" // each OFDM subcarrier against its mirror
)

// IQEstimate is the result of one I/Q estimator. N is the number of samples (moment)
// or of subcarrier pairs (mirror) it used; 0 means it could not run.
type IQEstimate struct {
	GainDB     float64 `yaml:"gain_db"`
	GainDBSE   float64 `yaml:"gain_db_se"`
	PhaseDeg   float64 `yaml:"phase_deg"`
	PhaseDegSE float64 `yaml:"phase_deg_se"`
	N          int     `yaml:"count"`
}

// Gains are the settings the sweep chose and what they gave.
type Gains struct {
	TX        map[string]float64 `yaml:"tx"`         // transmitter's named gains, dB
	RX        map[string]float64 `yaml:"rx"`         // receiver's named gains, dB
	LevelDBFS float64            `yaml:"level_dbfs"` // mean power of received frames
	PeakDBFS  float64            `yaml:"peak_dbfs"`  // largest |I| or |Q| seen
	EVMDB     float64            `yaml:"evm_db"`     // of the 64-QAM frames demodulated; 0 if none
	Sweep     []SweepPoint       `yaml:"sweep,omitempty"`
}

// SweepPoint is one setting the gain sweep measured. TXGain and RXGain are the sums of
// each side's stages, dB.
type SweepPoint struct {
	TXGain    float64 `yaml:"tx_gain"`
	RXGain    float64 `yaml:"rx_gain"`
	LevelDBFS float64 `yaml:"level_dbfs"`
	PeakDBFS  float64 `yaml:"peak_dbfs"`
	EVMDB     float64 `yaml:"evm_db"`  // of the frames demodulated; 0 if none
	Clipped   int     `yaml:"clipped"` // samples at full scale
	Frames    int     `yaml:"frames"`  // sent
	Decoded   int     `yaml:"decoded"` // with a correct FCS
}

// Channel summarises the link after correction, from the long training fields.
type Channel struct {
	SNRDB   float64 `yaml:"snr_db"` // the receiver's estimate, mean over frames
	SNRDBSE float64 `yaml:"snr_db_se"`
	EVMDB   float64 `yaml:"evm_db"` // of the corrected frames; 0 if none demodulated
	// SubcarrierSNR is |H_k|^2/N0_k in dB for subcarriers -26..-1, 1..26: the SNR in
	// each subcarrier's own bandwidth.
	SubcarrierSNR []float64 `yaml:"subcarrier_snr_db,flow"`
	// DelaySpreadNS is the RMS delay spread, from the correlation of neighbouring
	// subcarriers (see the package documentation).
	DelaySpreadNS float64 `yaml:"delay_spread_ns"`
	Frames        int     `yaml:"frames"`
}

// FieldError reports a profile field that is missing or out of range.
type FieldError struct {
	Field  string // YAML path, "iq.gain_db"
	Value  any
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("calibration: profile field %s: %v %s", e.Field, e.Value, e.Reason)
}

// Validate checks every field against the limits above and that no number is NaN or
// infinite. The error is a *FieldError naming the first bad field.
func (p *Profile) Validate() error {
	v := validator{}
	if p.Version != ProfileVersion {
		v.fail("version", p.Version, fmt.Sprintf("is not supported (this program reads version %d)", ProfileVersion))
	}
	if p.Created.IsZero() {
		v.fail("created", "(empty)", "is required: the date of the calibration")
	}
	if p.RX.Spec == "" {
		v.fail("rx.spec", `""`, "is required: the receiving device")
	}
	v.in("frequency_hz", p.Frequency, 1e-300, 1e12)
	v.in("sample_rate", p.SampleRate, 1e-300, 1e10)
	f := p.FrequencyError
	v.in("frequency_error.ppm", f.PPM, -MaxPPM, MaxPPM)
	v.in("frequency_error.ppm_se", f.PPMSE, 0, MaxPPM)
	v.finite("frequency_error.carrier_offset_hz", f.CarrierOffset)
	v.in("frequency_error.sample_clock_ppm", f.SampleClockPPM, -MaxPPM, MaxPPM)
	v.estimate("frequency_error.ltf_ppm", f.LTF, MaxPPM)
	v.estimate("frequency_error.tone_ppm", f.Tone, MaxPPM)
	v.in("dc.i", p.DC.I, -1, 1)
	v.in("dc.q", p.DC.Q, -1, 1)
	v.in("dc.se", p.DC.SE, 0, 1)
	v.in("dc.noise_dbfs", p.DC.NoiseDBFS, MinLevelDBFS, MaxLevelDBFS)
	v.in("iq.gain_db", p.IQ.GainDB, -MaxIQGainDB, MaxIQGainDB)
	v.in("iq.phase_deg", p.IQ.PhaseDeg, -MaxIQPhaseDeg, MaxIQPhaseDeg)
	switch p.IQ.Method {
	case IQNone, IQMoment, IQMirror:
	default:
		v.fail("iq.method", fmt.Sprintf("%q", p.IQ.Method), fmt.Sprintf("is not one of %s, %s, %s", IQMoment, IQMirror, IQNone))
	}
	for name, e := range map[string]IQEstimate{"iq.moment": p.IQ.Moment, "iq.mirror": p.IQ.Mirror} {
		v.in(name+".gain_db", e.GainDB, -MaxIQGainDB, MaxIQGainDB)
		v.in(name+".gain_db_se", e.GainDBSE, 0, MaxIQGainDB)
		v.in(name+".phase_deg", e.PhaseDeg, -MaxIQPhaseDeg, MaxIQPhaseDeg)
		v.in(name+".phase_deg_se", e.PhaseDegSE, 0, 180)
		v.count(name+".count", e.N)
	}
	v.gains("gains.tx", p.Gains.TX)
	v.gains("gains.rx", p.Gains.RX)
	v.in("gains.level_dbfs", p.Gains.LevelDBFS, MinLevelDBFS, MaxLevelDBFS)
	v.in("gains.peak_dbfs", p.Gains.PeakDBFS, MinLevelDBFS, MaxLevelDBFS)
	v.in("gains.evm_db", p.Gains.EVMDB, MinLevelDBFS, 0)
	for i, s := range p.Gains.Sweep {
		name := fmt.Sprintf("gains.sweep[%d]", i)
		v.in(name+".tx_gain", s.TXGain, -MaxGainDB*8, MaxGainDB*8)
		v.in(name+".rx_gain", s.RXGain, -MaxGainDB*8, MaxGainDB*8)
		v.in(name+".level_dbfs", s.LevelDBFS, MinLevelDBFS, MaxLevelDBFS)
		v.in(name+".peak_dbfs", s.PeakDBFS, MinLevelDBFS, MaxLevelDBFS)
		v.in(name+".evm_db", s.EVMDB, MinLevelDBFS, 0)
		v.count(name+".clipped", s.Clipped)
		v.count(name+".frames", s.Frames)
		v.count(name+".decoded", s.Decoded)
	}
	c := p.Channel
	v.in("channel.snr_db", c.SNRDB, MinSNRDB, MaxSNRDB)
	v.in("channel.snr_db_se", c.SNRDBSE, 0, MaxSNRDB)
	v.in("channel.evm_db", c.EVMDB, MinLevelDBFS, 0)
	if n := len(c.SubcarrierSNR); n != 0 && n != SubcarrierCount {
		v.fail("channel.subcarrier_snr_db", fmt.Sprintf("(%d values)", n), fmt.Sprintf("must hold %d values (subcarriers -26..-1, 1..26) or none", SubcarrierCount))
	}
	for i, s := range c.SubcarrierSNR {
		v.in(fmt.Sprintf("channel.subcarrier_snr_db[%d]", i), s, MinSNRDB, MaxSNRDB)
	}
	v.in("channel.delay_spread_ns", c.DelaySpreadNS, 0, MaxDelaySpread)
	v.count("channel.frames", c.Frames)
	return v.err
}

// validator keeps the first failure.
type validator struct{ err error }

func (v *validator) fail(field string, value any, reason string) {
	if v.err == nil {
		v.err = &FieldError{Field: field, Value: value, Reason: reason}
	}
}

func (v *validator) finite(field string, x float64) bool {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		v.fail(field, x, "is not a finite number")
		return false
	}
	return true
}

func (v *validator) in(field string, x, lo, hi float64) {
	if v.finite(field, x) && (x < lo || x > hi) {
		v.fail(field, x, fmt.Sprintf("is out of range %g..%g", lo, hi))
	}
}

func (v *validator) count(field string, n int) {
	if n < 0 {
		v.fail(field, n, "is negative")
	}
}

func (v *validator) estimate(field string, e Estimate, limit float64) {
	v.in(field+".value", e.Value, -limit, limit)
	v.in(field+".se", e.SE, 0, limit)
	v.count(field+".count", e.N)
}

func (v *validator) gains(field string, g map[string]float64) {
	names := make([]string, 0, len(g))
	for k := range g {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !isGainName(k) {
			v.fail(field, fmt.Sprintf("%q", k), "is not a gain name (lower-case letters, digits and '_')")
		}
		v.in(field+"."+k, g[k], -MaxGainDB, MaxGainDB)
	}
}

func isGainName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, c := range s {
		if !(c >= 'a' && c <= 'z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Parse reads a profile from YAML and validates it. Unknown fields are errors, so a
// misspelt key is not silently ignored.
func Parse(data []byte) (*Profile, error) {
	if len(data) > maxProfileSize {
		return nil, fmt.Errorf("calibration: profile larger than %d bytes", maxProfileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("calibration: profile is empty")
		}
		return nil, fmt.Errorf("calibration: profile: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("calibration: profile: more than one YAML document")
	}
	// One form for what YAML writes alike: empty maps, no lists.
	if len(p.Channel.SubcarrierSNR) == 0 {
		p.Channel.SubcarrierSNR = nil
	}
	if len(p.Gains.Sweep) == 0 {
		p.Gains.Sweep = nil
	}
	if len(p.Notes) == 0 {
		p.Notes = nil
	}
	if p.Gains.TX == nil {
		p.Gains.TX = map[string]float64{}
	}
	if p.Gains.RX == nil {
		p.Gains.RX = map[string]float64{}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Load reads and validates the profile at path.
func Load(path string) (*Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxProfileSize+1))
	if err != nil {
		return nil, fmt.Errorf("calibration: %s: %w", path, err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// profileHeader opens every file Encode writes.
const profileHeader = `# m4sc calibration profile (package calibration). Frequency error: transmitter
# relative to receiver, ppm. I/Q: Q' = g(Q cos phi - I sin phi), g = 10^(gain_db/20).
# Levels dBFS, full scale 1. subcarrier_snr_db: subcarriers -26..-1, 1..26.
`

// Encode validates p and writes it as YAML.
func (p *Profile) Encode(w io.Writer) error {
	if err := p.Validate(); err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString(profileHeader)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("calibration: encode profile: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("calibration: encode profile: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Save validates p and writes it to path, replacing the file only once the whole
// profile is written (package internal/atomicfile): on any error, and on Linux
// also when the process is killed while writing, path is left as it was and no
// temporary file behind.
func (p *Profile) Save(path string) error {
	var b bytes.Buffer
	if err := p.Encode(&b); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("calibration: save %s: %w", path, err)
	}
	return nil
}
