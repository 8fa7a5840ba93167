package hackrf

import (
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/m4sc/m4sc/radio"
)

// Defaults and limits. The docs below refer to these names.
const (
	// DefaultSampleRate and DefaultFrequency are the tuning of a newly opened device,
	// as for the loopback simulator.
	DefaultSampleRate = 20e6
	DefaultFrequency  = 2.45e9

	// MinSampleRate and MaxSampleRate bound hackrf_set_sample_rate's useful range.
	MinSampleRate = 2e6
	MaxSampleRate = 20e6
	// MinRecommendedRate: below it the MAX5864 converter's anti-alias filtering is not
	// enough and strong signals outside the band alias in; Configure logs a warning.
	MinRecommendedRate = 8e6

	// MinFrequency and MaxFrequency are HackRF One's specified tuning range.
	MinFrequency = 1e6
	MaxFrequency = 6e9

	// DefaultRXBuffer is the receive ring in samples: 0.42 s at 20 Msps (16 MiB).
	DefaultRXBuffer = 1 << 23
	// DefaultTXBuffer is the transmit ring in samples: 0.1 s at 20 Msps (4 MiB), twice
	// what libhackrf's four transfers take at the start of a burst.
	DefaultTXBuffer = 1 << 21
	// MinTXBuffer keeps room for libhackrf's initial four transfers of 128 Ki samples.
	MinTXBuffer = 1 << 20

	// DefaultWatchdog is how long a libhackrf call may take before it counts as hung.
	// Stopping a stream cancels four transfers of at most 65 ms each (at 2 Msps).
	DefaultWatchdog = 5 * time.Second
)

// Bandwidths are the MAX2837 baseband filter settings libhackrf knows, Hz.
func Bandwidths() []float64 {
	return []float64{1.75e6, 2.5e6, 3.5e6, 5e6, 5.5e6, 6e6, 7e6, 8e6, 9e6, 10e6, 12e6, 14e6, 15e6, 20e6, 24e6, 28e6}
}

// Options say which board to open and how to run it.
type Options struct {
	// Serial is the board's serial number as hackrf_info prints it, or its last digits
	// (libhackrf matches the suffix); empty opens the first board found.
	Serial string
	// AntennaPower feeds 3.3 V DC to the antenna port (hackrf_set_antenna_enable), for
	// an active antenna or a mast amplifier. Off unless asked: the voltage would reach
	// whatever the port is cabled to.
	AntennaPower bool
	// RXBuffer and TXBuffer size the host rings in samples; zero takes DefaultRXBuffer
	// and DefaultTXBuffer. TXBuffer is raised to MinTXBuffer.
	RXBuffer, TXBuffer int
	// Watchdog bounds every libhackrf call that can hang; zero takes DefaultWatchdog.
	Watchdog time.Duration
	// Logger receives warnings (a low sample rate, missing firmware counters); nil
	// takes slog.Default().
	Logger *slog.Logger
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	if o.RXBuffer <= 0 {
		o.RXBuffer = DefaultRXBuffer
	}
	if o.TXBuffer <= 0 {
		o.TXBuffer = DefaultTXBuffer
	}
	o.TXBuffer = max(o.TXBuffer, MinTXBuffer)
	if o.Watchdog <= 0 {
		o.Watchdog = DefaultWatchdog
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// maxBuffer bounds the rings a device string may ask for: 2^28 samples is 512 MiB.
const maxBuffer = 1 << 28

// OptionsFromSpec reads the options of a device string "hackrf[:SERIAL][,key=value...]".
// Keys: antenna_power (on or off), rxbuf and txbuf (samples, SI suffixes allowed),
// watchdog (seconds).
func OptionsFromSpec(sp radio.Spec) (Options, error) {
	if sp.Driver != "hackrf" {
		return Options{}, &radio.SpecError{Spec: sp.String(), Msg: fmt.Sprintf("driver %q is not hackrf", sp.Driver)}
	}
	o := Options{Serial: sp.Arg}
	if len(o.Serial) > 32 || strings.Trim(strings.ToLower(o.Serial), "0123456789abcdef") != "" {
		return Options{}, &radio.SpecError{Spec: sp.String(), Msg: fmt.Sprintf("serial %q: want up to 32 hexadecimal digits as hackrf_info prints them (or their last few)", sp.Arg)}
	}
	for _, p := range sp.Params {
		var err error
		switch p.Key {
		case "antenna_power":
			switch strings.ToLower(p.Value) {
			case "on", "true", "1":
				o.AntennaPower = true
			case "off", "false", "0":
				o.AntennaPower = false
			default:
				err = fmt.Errorf("parameter antenna_power: %q, want on or off", p.Value)
			}
		case "rxbuf", "txbuf":
			var v float64
			v, err = radio.ParseFloatParam(p.Key, p.Value)
			if err == nil && (v < minRing || v > maxBuffer || v != math.Trunc(v)) {
				err = fmt.Errorf("parameter %s: %s samples, want a whole number from %d to %d", p.Key, p.Value, minRing, maxBuffer)
			}
			if p.Key == "rxbuf" {
				o.RXBuffer = int(v)
			} else {
				o.TXBuffer = int(v)
			}
		case "watchdog":
			var v float64
			v, err = radio.ParseFloatParam(p.Key, p.Value)
			if err == nil && (v < 0.1 || v > 600) {
				err = fmt.Errorf("parameter watchdog: %s s, want 0.1 to 600 seconds", p.Value)
			}
			o.Watchdog = time.Duration(v * float64(time.Second))
		default:
			err = fmt.Errorf("unknown parameter %q (hackrf accepts antenna_power, rxbuf, txbuf, watchdog)", p.Key)
		}
		if err != nil {
			return Options{}, fmt.Errorf("hackrf: %s: %w", sp.String(), err)
		}
	}
	return o, nil
}

// newInfo describes a HackRF One. The gains carry the names and defaults of the
// loopback simulator's hackrf preset.
func newInfo(spec, serial, desc string) radio.Info {
	return radio.Info{
		Spec: spec, Driver: "hackrf", Serial: serial, Description: desc,
		CanRX: true, CanTX: true, HalfDuplex: true,
		SampleRate: radio.Range{Min: MinSampleRate, Max: MaxSampleRate},
		Frequency:  radio.Range{Min: MinFrequency, Max: MaxFrequency},
		Bandwidths: Bandwidths(),
		Gains: []radio.GainInfo{
			{Name: "lna", Direction: radio.RX, Range: radio.Range{Min: 0, Max: 40, Step: 8}, Default: 16, Doc: "RX LNA (IF) gain, hackrf_set_lna_gain"},
			{Name: "vga", Direction: radio.RX, Range: radio.Range{Min: 0, Max: 62, Step: 2}, Default: 20, Doc: "RX baseband gain, hackrf_set_vga_gain"},
			{Name: "amp", Direction: radio.RX, Range: radio.Range{Min: 0, Max: 14, Step: 14}, Default: 0, Doc: "RF amplifier while receiving, off (0) or on (14)"},
			{Name: "txvga", Direction: radio.TX, Range: radio.Range{Min: 0, Max: 47, Step: 1}, Default: 30, Doc: "TX IF gain, hackrf_set_txvga_gain"},
			{Name: "txamp", Direction: radio.TX, Range: radio.Range{Min: 0, Max: 14, Step: 14}, Default: 0, Doc: "RF amplifier while transmitting, off (0) or on (14)"},
		},
	}
}

// Counters are the driver's own counts behind radio.Stats, cumulative since Open.
type Counters struct {
	RXReceived       uint64 // samples that arrived over USB
	RXDelivered      uint64 // samples returned by Read
	RXOverruns       uint64 // gaps where the host ring was full
	RXDropped        uint64 // samples lost in those gaps
	RXShortfalls     uint64 // firmware receive shortfalls (hackrf_get_m0_state)
	TXSent           uint64 // burst samples handed to USB, padding excluded
	TXUnderruns      uint64 // transfers the writer did not fill in time
	TXPadded         uint64 // zero samples those underruns put into bursts
	TXClipped        uint64 // I or Q components saturated when quantised to int8
	TXShortfalls     uint64 // firmware transmit shortfalls (hackrf_get_m0_state)
	LongestShortfall uint64 // bytes, the longest the firmware reported
	FirmwareCounters bool   // the firmware reports shortfalls (USB API 0x0106 and later)
	WatchdogTimeouts uint64 // libhackrf calls that did not return in time
}

// stats sums the counters into the project-wide form: overruns and underruns include
// the firmware's shortfalls; Dropped holds only the samples known to be lost.
func (c Counters) stats() radio.Stats {
	return radio.Stats{
		RXSamples: c.RXDelivered,
		TXSamples: c.TXSent,
		Overruns:  c.RXOverruns + c.RXShortfalls,
		Underruns: c.TXUnderruns + c.TXShortfalls,
		Dropped:   c.RXDropped,
	}
}

// add sums two sets of counters.
func (c Counters) add(o Counters) Counters {
	c.RXReceived += o.RXReceived
	c.RXDelivered += o.RXDelivered
	c.RXOverruns += o.RXOverruns
	c.RXDropped += o.RXDropped
	c.RXShortfalls += o.RXShortfalls
	c.TXSent += o.TXSent
	c.TXUnderruns += o.TXUnderruns
	c.TXPadded += o.TXPadded
	c.TXClipped += o.TXClipped
	c.TXShortfalls += o.TXShortfalls
	c.LongestShortfall = max(c.LongestShortfall, o.LongestShortfall)
	c.FirmwareCounters = c.FirmwareCounters || o.FirmwareCounters
	c.WatchdogTimeouts += o.WatchdogTimeouts
	return c
}
