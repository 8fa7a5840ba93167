package calibration

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/m4sc/m4sc/radio"
)

// Corrector undoes a receiver's measured impairments on a stream of samples, in the
// reverse of the order its front end made them (see Profile): the DC offset is
// subtracted, the I/Q imbalance inverted, then the carrier offset derotated. It is a
// plan: NewCorrector computes the constants once, Process allocates nothing.
//
// The inverse of Q' = g(Q cos phi - I sin phi) is Q = Q'/(g cos phi) + I tan phi, with I
// unchanged; the carrier offset f = PPM*1e-6*frequency Hz is removed by multiplying
// sample n by exp(-j 2 pi f n / rate), its phase taken from the absolute sample index so
// that gaps in a stream (SetPosition) keep it right.
type Corrector struct {
	dcI, dcQ float32
	a, b     float32 // Q = a*Q' + b*I
	iq       bool
	cyc      float64 // derotation, cycles per sample
	n        int64   // index of the next sample
}

// NewCorrector returns a Corrector for the receiver of p tuned to frequency (Hz) at
// sampleRate (samples/s); these need not be the profile's own, since the carrier offset
// in Hz scales with the frequency.
func NewCorrector(p *Profile, sampleRate, frequency float64) (*Corrector, error) {
	c := new(Corrector)
	if err := c.init(p, sampleRate, frequency); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Corrector) init(p *Profile, rate, freq float64) error {
	if !(rate > 0) || math.IsInf(rate, 0) || !(freq >= 0) || math.IsInf(freq, 0) {
		return fmt.Errorf("calibration: corrector: sample rate %g and frequency %g must be positive and finite", rate, freq)
	}
	*c = Corrector{dcI: float32(p.DC.I), dcQ: float32(p.DC.Q)}
	if p.IQ.Method != IQNone && (p.IQ.GainDB != 0 || p.IQ.PhaseDeg != 0) {
		g := math.Pow(10, p.IQ.GainDB/20)
		s, co := math.Sincos(p.IQ.PhaseDeg * math.Pi / 180)
		c.a, c.b, c.iq = float32(1/(g*co)), float32(s/co), true
	}
	c.cyc = -p.FrequencyError.PPM * 1e-6 * freq / rate
	return nil
}

// Reset returns the corrector to sample 0.
func (c *Corrector) Reset() { c.n = 0 }

// Seek sets the absolute index of the next sample Process corrects, as a receiver's
// RXMeta.Time gives it.
func (c *Corrector) SetPosition(n int64) { c.n = n }

// Position returns the index of the next sample.
func (c *Corrector) Position() int64 { return c.n }

// corrBlock is how many samples share one exactly computed phase; within a block the
// phasor advances by multiplication, which drifts by far less than 1e-12 rad.
const corrBlock = 256

// Process writes the corrected src to dst and advances the position by len(src). dst
// must be at least as long as src; it may be src itself.
func (c *Corrector) Process(dst, src []complex64) {
	dst = dst[:len(src)]
	for lo := 0; lo < len(src); lo += corrBlock {
		hi := min(lo+corrBlock, len(src))
		s, d := src[lo:hi], dst[lo:hi]
		for i, v := range s {
			re, im := real(v)-c.dcI, imag(v)-c.dcQ
			if c.iq {
				im = c.a*im + c.b*re
			}
			d[i] = complex(re, im)
		}
		if c.cyc != 0 {
			ps, pc := math.Sincos(2 * math.Pi * fracMul(c.cyc, c.n))
			p := complex(pc, ps)
			ss, sc := math.Sincos(2 * math.Pi * c.cyc)
			step := complex(sc, ss)
			for i, v := range d {
				d[i] = v * complex64(p)
				p *= step
			}
		}
		c.n += int64(hi - lo)
	}
}

// fracMul returns x*n modulo 1, keeping precision for large n by splitting it.
func fracMul(x float64, n int64) float64 {
	hi, lo := n>>32, n&(1<<32-1)
	f := math.Mod(math.Mod(x*(1<<32), 1)*float64(hi), 1) + math.Mod(x*float64(lo), 1)
	return f - math.Floor(f)
}

// Correct writes src corrected to dst, src[0] being sample startSample of the stream,
// at the profile's own frequency and sample rate. dst may be src. It panics if the
// profile's rate or frequency is not positive, which Validate refuses.
func (p *Profile) Correct(dst, src []complex64, startSample int64) {
	var c Corrector
	if err := c.init(p, p.SampleRate, p.Frequency); err != nil {
		panic(err) // a validated profile has a positive rate and frequency
	}
	c.SetPosition(startSample)
	c.Process(dst, src)
}

// ApplyGains configures d with the profile's gains for direction dir (Gains.TX or
// Gains.RX), keeping d's other settings. A device with no gain stage in that direction
// (a recording) is left alone; a device that lacks one of the profile's stages is an
// error, since the profile was then made for another kind of radio.
func (p *Profile) ApplyGains(d radio.Device, dir radio.Direction) error {
	g := p.Gains.RX
	if dir == radio.TX {
		g = p.Gains.TX
	}
	in := d.Info()
	var have []string
	for _, s := range in.Gains {
		if s.Direction == dir {
			have = append(have, s.Name)
		}
	}
	if len(g) == 0 || len(have) == 0 {
		return nil
	}
	cfg := d.Config()
	if cfg.Gains == nil {
		cfg.Gains = map[string]float64{}
	}
	names := make([]string, 0, len(g))
	for k := range g {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		s, ok := in.Gain(k)
		if !ok || s.Direction != dir {
			return fmt.Errorf("calibration: profile %s gain %q: %s has no such %s stage (it has %s)", dir, k, in.Spec, dir, strings.Join(have, ", "))
		}
		cfg.Gains[k] = g[k]
	}
	if err := d.Configure(cfg); err != nil {
		return fmt.Errorf("calibration: apply profile gains: %w", err)
	}
	return nil
}

// CorrectRX returns d with every buffer its receive streams deliver corrected by a
// Corrector for the device's tuning at the time StartRX is called. Everything else is
// d's own. Gains are not touched: see ApplyGains.
func (p *Profile) CorrectRX(d radio.Device) radio.Device {
	return &correctedDevice{Device: d, p: p}
}

type correctedDevice struct {
	radio.Device
	p *Profile
}

// Unwrap returns the device the corrections are applied to.
func (d *correctedDevice) Unwrap() radio.Device { return d.Device }

func (d *correctedDevice) StartRX(ctx context.Context) (radio.RXStream, error) {
	cfg := d.Device.Config()
	c, err := NewCorrector(d.p, cfg.SampleRate, cfg.Frequency)
	if err != nil {
		return nil, err
	}
	s, err := d.Device.StartRX(ctx)
	if err != nil {
		return nil, err
	}
	return &correctedStream{RXStream: s, c: c}, nil
}

type correctedStream struct {
	radio.RXStream
	c *Corrector
}

func (s *correctedStream) Read(dst []complex64) (int, radio.RXMeta, error) {
	n, meta, err := s.RXStream.Read(dst)
	s.c.SetPosition(meta.Time)
	s.c.Process(dst[:n], dst[:n])
	return n, meta, err
}
