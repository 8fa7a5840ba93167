package loopback

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/m4sc/m4sc/radio"
)

// Params are the impairments and identity of one loopback device. The channel a
// receiver hears is built from its own Params and the transmitter's (oscillator error,
// phase noise, gains).
type Params struct {
	Preset string // "" (ideal) or "hackrf"
	Air    string // devices on the same air hear each other; default "default"
	Seed   uint64 // 0: derived from the air's seed and the order of opening
	// SNR in dB of a signal of mean power Ref dBFS (see ChannelConfig.SNR); +Inf: none.
	SNR float64
	Ref float64 // dBFS

	Channel     string  // "" or "none", tdl-a..tdl-e, epa, eva, etu
	DelaySpread float64 // s, for TDL profiles
	Doppler     float64 // Hz; negative: the profile's usual value

	PPM        float64 // this device's crystal error, ppm (carrier and sample clock)
	PhaseNoise float64 // this device's oscillator linewidth, Hz (Wiener)

	IQGain  float64    // dB
	IQPhase float64    // degrees
	DC      complex128 // full scale 1
	Bits    int        // ADC bits, 0 = none
	TxBits  int        // DAC bits, 0 = none (the DAC clips at full scale either way)
	Level   float64    // dB added to the received level at the default gains

	GapRate float64 // lost buffers per second of received samples
	GapLen  int     // samples lost per gap
	Offset  int     // a receiver starts up to this many samples before the air's present
}

// Defaults of the hackrf preset: two HackRF One joined by a coaxial cable with an
// attenuator. Each value is a typical figure, not a worst case; every one can be
// overridden in the device string.
const (
	HackRFSNR        = 30.0   // dB: cable, 30-60 dB attenuation, gains at their defaults
	HackRFPPMSpread  = 20.0   // each device's crystal error is drawn from +-20 ppm
	HackRFPhaseNoise = 1.0    // Hz linewidth per device (about -85 dBc/Hz at 10 kHz)
	HackRFIQGain     = 0.2    // dB
	HackRFIQPhase    = 1.5    // degrees
	HackRFDC         = 0.015  // full scale, in-phase part of the DC offset
	HackRFDCQ        = -0.008 // full scale, quadrature part
	HackRFBits       = 8      // MAX5864 ADC as HackRF delivers it
	HackRFOffset     = 20000  // samples: 1 ms at 20 Msps of random start
)

// DefaultParams returns the parameters of a preset before any key is applied. The
// hackrf preset's ppm is drawn per device by the air (see Air.Open) unless a key sets it.
func DefaultParams(preset string) (Params, error) {
	p := Params{Preset: preset, Air: "default", SNR: math.Inf(1), Ref: 10 * math.Log10(DefaultRefPower), Doppler: -1, DelaySpread: 100e-9, GapLen: 65536}
	switch preset {
	case "", "ideal":
		p.Preset = ""
	case "hackrf":
		p.SNR = HackRFSNR
		p.PhaseNoise = HackRFPhaseNoise
		p.IQGain, p.IQPhase = HackRFIQGain, HackRFIQPhase
		p.DC = complex(HackRFDC, HackRFDCQ)
		p.Bits = HackRFBits
		p.TxBits = HackRFBits
		p.Offset = HackRFOffset
	default:
		return Params{}, fmt.Errorf("loopback: unknown preset %s (known: hackrf, or none for an ideal wire)", radio.QuoteSpec(preset))
	}
	return p, nil
}

// Key documents one parameter of a loopback device string.
type Key struct {
	Name string
	Doc  string
	set  func(p *Params, v string) error
}

func floatKey(name, doc string, lo, hi float64, dst func(*Params) *float64) Key {
	return Key{name, doc, func(p *Params, v string) error {
		f, err := radio.ParseFloatParam(name, v)
		if err != nil {
			return err
		}
		if f < lo || f > hi {
			return fmt.Errorf("parameter %s: %g out of range %g..%g", name, f, lo, hi)
		}
		*dst(p) = f
		return nil
	}}
}

func intKey(name, doc string, lo, hi int, dst func(*Params) *int) Key {
	return Key{name, doc, func(p *Params, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("parameter %s: %s is not a whole number", name, radio.QuoteSpec(v))
		}
		if n < lo || n > hi {
			return fmt.Errorf("parameter %s: %d out of range %d..%d", name, n, lo, hi)
		}
		*dst(p) = n
		return nil
	}}
}

// Keys lists every parameter a loopback device string or configuration accepts.
func Keys() []Key {
	return []Key{
		{"air", "name of the simulated air; devices on the same air hear each other (default: default)", func(p *Params, v string) error {
			p.Air = v
			return nil
		}},
		{"seed", "seed of this device's random streams (default: from the run's seed and the order of opening)", func(p *Params, v string) error {
			s, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return fmt.Errorf("parameter seed: %s is not a non-negative whole number", radio.QuoteSpec(v))
			}
			p.Seed = s
			return nil
		}},
		{"snr", "signal-to-noise ratio in dB of a signal at the reference power; inf or off for none", func(p *Params, v string) error {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "inf", "+inf", ".inf", "+.inf", "off", "none":
				p.SNR = math.Inf(1)
				return nil
			}
			f, err := radio.ParseFloatParam("snr", v)
			if err != nil {
				return err
			}
			if f < -50 || f > 200 {
				return fmt.Errorf("parameter snr: %g dB out of range -50..200 (or inf)", f)
			}
			p.SNR = f
			return nil
		}},
		floatKey("ref", "reference signal power for snr, dBFS (default -18.96: an 802.11a frame at the standard's amplitude)", -100, 10, func(p *Params) *float64 { return &p.Ref }),
		{"channel", "multipath: none, tdl-a .. tdl-e (38.901), epa, eva, etu (36.101)", func(p *Params, v string) error {
			if n := strings.ToLower(strings.TrimSpace(v)); n == "none" || n == "flat" {
				p.Channel = ""
				return nil
			}
			prof, err := LookupProfile(v)
			if err != nil {
				names := []string{"none"}
				for _, q := range Profiles() {
					names = append(names, q.Name)
				}
				return fmt.Errorf("parameter channel: unknown profile %s (known: %s)", radio.QuoteSpec(v), strings.Join(names, ", "))
			}
			p.Channel = prof.Name
			return nil
		}},
		{"ds", "RMS delay spread of a TDL channel, ns (default 100)", func(p *Params, v string) error {
			f, err := radio.ParseFloatParam("ds", v)
			if err != nil {
				return err
			}
			if !(f > 0 && f <= 10000) {
				return fmt.Errorf("parameter ds: %g ns out of range (0, 10000]", f)
			}
			p.DelaySpread = f * 1e-9
			return nil
		}},
		floatKey("doppler", "maximum Doppler shift, Hz (default: the profile's usual value; 0 for a static channel)", 0, 10000, func(p *Params) *float64 { return &p.Doppler }),
		floatKey("ppm", "this device's oscillator error, ppm: carrier and sample clock (hackrf preset: drawn from +-20)", -200, 200, func(p *Params) *float64 { return &p.PPM }),
		floatKey("pn", "this device's phase-noise linewidth, Hz (Wiener model)", 0, 100000, func(p *Params) *float64 { return &p.PhaseNoise }),
		floatKey("iqgain", "receiver I/Q gain imbalance, dB", -6, 6, func(p *Params) *float64 { return &p.IQGain }),
		floatKey("iqphase", "receiver I/Q phase imbalance, degrees", -45, 45, func(p *Params) *float64 { return &p.IQPhase }),
		{"dc", "receiver DC offset, full scale 1, as a complex number such as 0.01-0.005i", func(p *Params, v string) error {
			c, err := strconv.ParseComplex(strings.TrimSpace(v), 128)
			if err != nil || math.IsNaN(real(c)) || math.IsNaN(imag(c)) {
				return fmt.Errorf("parameter dc: %s is not a complex number like 0.01-0.005i", radio.QuoteSpec(v))
			}
			if math.Abs(real(c)) > 1 || math.Abs(imag(c)) > 1 {
				return fmt.Errorf("parameter dc: %v beyond full scale", c)
			}
			p.DC = c
			return nil
		}},
		intKey("bits", "ADC resolution with clipping at full scale; 0 for none (hackrf: 8)", 0, 24, func(p *Params) *int { return &p.Bits }),
		intKey("txbits", "DAC resolution of a transmitter; 0 for none; it clips at full scale either way (hackrf: 8)", 0, 24, func(p *Params) *int { return &p.TxBits }),
		floatKey("level", "dB added to the received level at the default gains (clipping and quantisation see it, the SNR does not)", -100, 60, func(p *Params) *float64 { return &p.Level }),
		floatKey("gaprate", "lost buffers per second of received samples (USB overruns)", 0, 10000, func(p *Params) *float64 { return &p.GapRate }),
		intKey("gaplen", "samples lost per gap (hackrf's USB transfer is 131072 bytes = 65536 samples)", 1, 1<<24, func(p *Params) *int { return &p.GapLen }),
		intKey("offset", "a receiver starts up to this many samples early: random start offset, idle noise first", 0, 1<<30, func(p *Params) *int { return &p.Offset }),
	}
}

// Apply sets parameters from key/value pairs, in order. Errors name the key.
func (p *Params) Apply(kv []radio.Param) error {
	keys := Keys()
	for _, x := range kv {
		found := false
		for _, k := range keys {
			if k.Name == x.Key {
				if err := k.set(p, x.Value); err != nil {
					return err
				}
				found = true
				break
			}
		}
		if !found {
			names := make([]string, len(keys))
			for i, k := range keys {
				names[i] = k.Name
			}
			return fmt.Errorf("unknown parameter %s (loopback accepts %s)", radio.QuoteSpec(x.Key), strings.Join(names, ", "))
		}
	}
	return nil
}

// Explicit reports whether kv sets key.
func explicit(kv []radio.Param, key string) bool {
	for _, x := range kv {
		if x.Key == key {
			return true
		}
	}
	return false
}
