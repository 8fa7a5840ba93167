package radio

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Sentinel errors that callers act on. Drivers wrap them with context.
var (
	// ErrNoDevice means the named device is not attached or cannot be found.
	ErrNoDevice = errors.New("radio: no such device")
	// ErrHalfDuplex means the device cannot receive and transmit at the same time.
	ErrHalfDuplex = errors.New("radio: device is half duplex")
	// ErrBusy means the resource is held by another stream or device.
	ErrBusy = errors.New("radio: busy")
	// ErrClosed means the device or stream has been closed.
	ErrClosed = errors.New("radio: closed")
	// ErrUnsupported means the device cannot do what was asked (TX on a read-only
	// recording, for example).
	ErrUnsupported = errors.New("radio: not supported by this device")
)

// Direction says which way samples flow.
type Direction int

const (
	RX Direction = iota + 1 // receive: air to host
	TX                      // transmit: host to air
)

func (d Direction) String() string {
	switch d {
	case RX:
		return "rx"
	case TX:
		return "tx"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// Range is a closed interval of allowed values with an optional step. A value v is
// allowed when Min <= v <= Max and, if Step > 0, (v-Min)/Step is an integer (to 1e-9
// relative tolerance).
type Range struct {
	Min, Max float64
	Step     float64 // 0: continuous
}

// Contains reports whether v lies in the range and on its step grid.
func (r Range) Contains(v float64) bool {
	if math.IsNaN(v) || v < r.Min || v > r.Max {
		return false
	}
	if r.Step <= 0 {
		return true
	}
	k := (v - r.Min) / r.Step
	return math.Abs(k-math.Round(k)) <= 1e-9*math.Max(1, math.Abs(k))
}

func (r Range) String() string {
	if r.Step > 0 {
		return fmt.Sprintf("%g..%g step %g", r.Min, r.Max, r.Step)
	}
	return fmt.Sprintf("%g..%g", r.Min, r.Max)
}

// GainInfo describes one named gain stage.
type GainInfo struct {
	Name      string    // "lna", "vga", "amp", "txvga", ...
	Direction Direction // the path the stage sits in
	Range     Range     // dB
	Default   float64   // dB, applied when a Config leaves the gain out
	Doc       string    // one line for `m4sc devices`
}

// Info describes a device and what it accepts.
type Info struct {
	Spec        string // the device string it was opened with, canonical form
	Driver      string // "loopback", "file", "hackrf"
	Serial      string // hardware serial, recording path, or simulated identity
	Description string
	CanRX       bool
	CanTX       bool
	HalfDuplex  bool // cannot stream both directions at once
	SampleRate  Range
	Frequency   Range
	// Bandwidths lists the baseband filter settings the device has; empty means the
	// filter is not adjustable and Config.Bandwidth must be 0.
	Bandwidths []float64
	Gains      []GainInfo
}

// Gain returns the description of the named gain stage.
func (in Info) Gain(name string) (GainInfo, bool) {
	for _, g := range in.Gains {
		if g.Name == name {
			return g, true
		}
	}
	return GainInfo{}, false
}

// Config is the tuning of a device. Zero Bandwidth selects the device's automatic
// choice (the narrowest filter at least as wide as 0.75 times the sample rate).
type Config struct {
	SampleRate float64            // samples/s
	Frequency  float64            // centre frequency, Hz
	Bandwidth  float64            // baseband filter, Hz; 0 = automatic
	Gains      map[string]float64 // dB by stage name; stages left out take their default
}

// Clone returns a deep copy.
func (c Config) Clone() Config {
	d := c
	if c.Gains != nil {
		d.Gains = make(map[string]float64, len(c.Gains))
		for k, v := range c.Gains {
			d.Gains[k] = v
		}
	}
	return d
}

// ConfigError reports a configuration value a device does not accept.
type ConfigError struct {
	Device string  // device spec
	Field  string  // "sample rate", "frequency", "bandwidth", "gain lna"
	Value  float64 // the rejected value
	Reason string  // what is allowed
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("radio: %s: %s %g not accepted: %s", e.Device, e.Field, e.Value, e.Reason)
}

// Validate checks every field of c against the device's ranges and returns the
// configuration with defaults filled in (every gain present, automatic bandwidth
// resolved). Nothing is applied; drivers call it before touching hardware.
func (in Info) Validate(c Config) (Config, error) {
	bad := func(field string, v float64, reason string) (Config, error) {
		return Config{}, &ConfigError{Device: in.Spec, Field: field, Value: v, Reason: reason}
	}
	if !in.SampleRate.Contains(c.SampleRate) {
		return bad("sample rate", c.SampleRate, "allowed "+in.SampleRate.String()+" samples/s")
	}
	if !in.Frequency.Contains(c.Frequency) {
		return bad("frequency", c.Frequency, "allowed "+in.Frequency.String()+" Hz")
	}
	out := c.Clone()
	switch {
	case len(in.Bandwidths) == 0:
		if c.Bandwidth != 0 {
			return bad("bandwidth", c.Bandwidth, "this device has no adjustable baseband filter; use 0")
		}
	case c.Bandwidth == 0:
		out.Bandwidth = AutoBandwidth(in.Bandwidths, c.SampleRate)
	default:
		ok := false
		for _, b := range in.Bandwidths {
			if b == c.Bandwidth {
				ok = true
			}
		}
		if !ok {
			return bad("bandwidth", c.Bandwidth, "allowed "+formatList(in.Bandwidths)+" Hz or 0 for automatic")
		}
	}
	names := make([]string, 0, len(c.Gains))
	for k := range c.Gains {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		g, ok := in.Gain(k)
		if !ok {
			known := make([]string, len(in.Gains))
			for i, g := range in.Gains {
				known[i] = g.Name
			}
			reason := "no such gain stage"
			if len(known) > 0 {
				reason += "; this device has " + strings.Join(known, ", ")
			}
			return bad("gain "+k, c.Gains[k], reason)
		}
		if !g.Range.Contains(c.Gains[k]) {
			return bad("gain "+k, c.Gains[k], "allowed "+g.Range.String()+" dB")
		}
	}
	if out.Gains == nil {
		out.Gains = make(map[string]float64, len(in.Gains))
	}
	for _, g := range in.Gains {
		if _, ok := out.Gains[g.Name]; !ok {
			out.Gains[g.Name] = g.Default
		}
	}
	return out, nil
}

// AutoBandwidth picks the narrowest filter of the list at least 0.75 times the sample
// rate (HackRF's own rule), or the widest when none is wide enough.
func AutoBandwidth(list []float64, rate float64) float64 {
	best := math.Inf(1)
	widest := math.Inf(-1)
	for _, b := range list {
		widest = math.Max(widest, b)
		if b >= 0.75*rate && b < best {
			best = b
		}
	}
	if math.IsInf(best, 1) {
		return widest
	}
	return best
}

func formatList(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%g", x)
	}
	return strings.Join(s, ", ")
}

// Stats are a device's cumulative counters since Open.
type Stats struct {
	RXSamples uint64 // samples delivered to the host
	TXSamples uint64 // samples taken from the host and sent
	Overruns  uint64 // receive events where samples were lost because the host was late
	Underruns uint64 // transmit events where the device ran out of samples mid-burst
	Dropped   uint64 // received samples known to be lost (overruns, USB gaps)
}

// RXMeta describes one received buffer.
type RXMeta struct {
	// Time is the sample counter of the buffer's first sample in the device's receive
	// clock: sample k of the buffer was taken at (Time+k)/SampleRate seconds after the
	// device started counting. Lost samples advance the counter, so gaps show as jumps.
	Time int64
	// Dropped is the number of samples lost immediately before the buffer.
	Dropped int64
}

// RXStream delivers received samples.
type RXStream interface {
	// Read fills dst and returns how many samples it wrote, all of them contiguous in
	// time from meta.Time. It returns fewer than len(dst) with a nil error only when
	// the next samples do not follow on (samples were lost: the next buffer's
	// meta.Dropped says how many); otherwise a short read comes with an error: io.EOF
	// at the end of a recording, the context's cause after cancellation, or a device
	// failure.
	Read(dst []complex64) (n int, meta RXMeta, err error)
	// Close stops the stream. It is safe to call more than once.
	Close() error
}

// TXStream sends samples. One stream is one burst: the first sample goes on the air
// when the device starts sending, later Writes follow without gaps, and Close ends the
// burst after every written sample has left the device.
type TXStream interface {
	// Write queues src for transmission and returns len(src) or an error. It may block
	// while the device's buffers are full.
	Write(src []complex64) (n int, err error)
	// Close ends the burst, waits until it is sent, and releases the transmitter.
	Close() error
}

// Device is one radio.
type Device interface {
	Info() Info
	// Configure validates cfg completely (see Info.Validate) and applies it. On error
	// the previous configuration stays in force.
	Configure(cfg Config) error
	// Config returns the configuration in force, defaults filled in.
	Config() Config
	// StartRX starts receiving. Cancelling ctx ends the stream: a pending Read returns
	// context.Cause(ctx).
	StartRX(ctx context.Context) (RXStream, error)
	// StartTX starts a transmit burst. Cancelling ctx aborts it.
	StartTX(ctx context.Context) (TXStream, error)
	Stats() Stats
	// Close stops any stream and releases the device.
	Close() error
}
