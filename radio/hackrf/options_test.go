package hackrf

import (
	"strings"
	"testing"
	"time"

	"github.com/m4sc/m4sc/radio"
)

func TestOptionsFromSpec(t *testing.T) {
	good := []struct {
		spec string
		want Options
	}{
		{"hackrf", Options{}},
		{"hackrf:0000000000000000457863c82a2a3f1f", Options{Serial: "0000000000000000457863c82a2a3f1f"}},
		{"hackrf:3f1f,antenna_power=on", Options{Serial: "3f1f", AntennaPower: true}},
		{"hackrf,antenna_power=off,rxbuf=16M,txbuf=2097152,watchdog=2.5", Options{RXBuffer: 16e6, TXBuffer: 2097152, Watchdog: 2500 * time.Millisecond}},
	}
	for _, c := range good {
		sp, err := radio.ParseSpec(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := OptionsFromSpec(sp)
		if err != nil {
			t.Errorf("%s: %v", c.spec, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", c.spec, got, c.want)
		}
	}
	bad := []struct{ spec, want string }{
		{"hackrf:xyz", "hexadecimal"},
		{"hackrf:" + strings.Repeat("0", 33), "32 hexadecimal"},
		{"hackrf,antenna_power=maybe", "antenna_power"},
		{"hackrf,rxbuf=12", "rxbuf"},
		{"hackrf,txbuf=1e12", "txbuf"},
		{"hackrf,rxbuf=1000.5", "whole number"},
		{"hackrf,watchdog=0", "watchdog"},
		{"hackrf,watchdog=soon", "watchdog"},
		{"hackrf,bias=on", "unknown parameter"},
		{"loopback", "not hackrf"},
	}
	for _, c := range bad {
		sp, err := radio.ParseSpec(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := OptionsFromSpec(sp); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.spec, err, c.want)
		}
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := Options{TXBuffer: 1000}.withDefaults()
	if o.RXBuffer != DefaultRXBuffer || o.TXBuffer != MinTXBuffer || o.Watchdog != DefaultWatchdog || o.Logger == nil {
		t.Errorf("%+v", o)
	}
}

// The device accepts what HackRF One does and refuses the rest before any setting
// reaches the board; its gains are those of the loopback hackrf preset.
func TestInfoRanges(t *testing.T) {
	in := newInfo("hackrf:1", "1", "test")
	ok := []radio.Config{
		{SampleRate: 20e6, Frequency: 2.45e9},
		{SampleRate: 2e6, Frequency: 1e6, Bandwidth: 1.75e6},
		{SampleRate: 10e6, Frequency: 6e9, Gains: map[string]float64{"lna": 40, "vga": 62, "txvga": 47, "amp": 14, "txamp": 14}},
		{SampleRate: 8e6, Frequency: 915e6, Gains: map[string]float64{"lna": 0, "vga": 0, "txvga": 0, "amp": 0}},
	}
	for _, c := range ok {
		v, err := in.Validate(c)
		if err != nil {
			t.Errorf("%+v: %v", c, err)
			continue
		}
		if len(v.Gains) != 5 || v.Bandwidth == 0 {
			t.Errorf("%+v: defaults not filled: %+v", c, v)
		}
	}
	bad := []struct {
		cfg  radio.Config
		want string
	}{
		{radio.Config{SampleRate: 1e6, Frequency: 2.45e9}, "sample rate"},
		{radio.Config{SampleRate: 21e6, Frequency: 2.45e9}, "sample rate"},
		{radio.Config{SampleRate: 20e6, Frequency: 6.1e9}, "frequency"},
		{radio.Config{SampleRate: 20e6, Frequency: 2.45e9, Bandwidth: 4e6}, "bandwidth"},
		{radio.Config{SampleRate: 20e6, Frequency: 2.45e9, Gains: map[string]float64{"lna": 12}}, "lna"},
		{radio.Config{SampleRate: 20e6, Frequency: 2.45e9, Gains: map[string]float64{"vga": 63}}, "vga"},
		{radio.Config{SampleRate: 20e6, Frequency: 2.45e9, Gains: map[string]float64{"vga": 3}}, "vga"},
		{radio.Config{SampleRate: 20e6, Frequency: 2.45e9, Gains: map[string]float64{"txvga": 48}}, "txvga"},
		{radio.Config{SampleRate: 20e6, Frequency: 2.45e9, Gains: map[string]float64{"amp": 7}}, "amp"},
		{radio.Config{SampleRate: 20e6, Frequency: 2.45e9, Gains: map[string]float64{"rx": 0}}, "no such gain"},
	}
	for _, c := range bad {
		if _, err := in.Validate(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one about %s", c.cfg, err, c.want)
		}
	}
	// At 20 Msps the automatic filter is 15 MHz (the narrowest at least 0.75 x rate).
	v, _ := in.Validate(radio.Config{SampleRate: 20e6, Frequency: 2.45e9})
	if v.Bandwidth != 15e6 {
		t.Errorf("automatic bandwidth at 20 Msps: %g, want 15e6", v.Bandwidth)
	}
	// The same stages as the simulator's preset, so profiles work on both.
	names := []string{}
	for _, g := range in.Gains {
		names = append(names, g.Name)
	}
	if strings.Join(names, ",") != "lna,vga,amp,txvga,txamp" {
		t.Errorf("gain stages %v", names)
	}
}

// The device's counters sum into radio.Stats with firmware shortfalls counted as
// overruns and underruns, never dropped silently.
func TestCountersStats(t *testing.T) {
	c := Counters{RXDelivered: 10, RXOverruns: 2, RXDropped: 300, RXShortfalls: 3, TXSent: 7, TXUnderruns: 1, TXShortfalls: 4}
	s := c.add(Counters{RXDelivered: 5, RXOverruns: 1, RXDropped: 5}).stats()
	want := radio.Stats{RXSamples: 15, TXSamples: 7, Overruns: 6, Underruns: 5, Dropped: 305}
	if s != want {
		t.Errorf("%+v, want %+v", s, want)
	}
}

// Any device string gives options within their limits or an error, never a panic.
func FuzzOptionsFromSpec(f *testing.F) {
	for _, s := range []string{"hackrf", "hackrf:3f1f,antenna_power=on", "hackrf,rxbuf=16M,txbuf=1M,watchdog=2", "hackrf:xyz", "hackrf,watchdog=1e300", "hackrf,rxbuf=-5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := radio.ParseSpec(s)
		if err != nil {
			return
		}
		o, err := OptionsFromSpec(sp)
		if err != nil {
			return
		}
		o = o.withDefaults()
		if o.RXBuffer < minRing || o.RXBuffer > maxBuffer || o.TXBuffer < MinTXBuffer || o.TXBuffer > maxBuffer ||
			o.Watchdog < 100*time.Millisecond || o.Watchdog > 600*time.Second || len(o.Serial) > 32 {
			t.Errorf("%q gave %+v", s, o)
		}
	})
}
