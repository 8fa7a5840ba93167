package loopback

import (
	"context"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/radio"
)

// TestLongSpecClipped checks that no error repeats a long device string (up to
// ParseSpec's 4096 bytes) in full: each is clipped as radio.ClipSpec clips.
func TestLongSpecClipped(t *testing.T) {
	long := func(c string) string { return strings.Repeat(c, 3000) }
	// maxMsg leaves room for the message around two clipped parts.
	const maxMsg = 600
	check := func(t *testing.T, spec string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%.60s...: no error", spec)
		}
		msg := err.Error()
		if len(msg) > maxMsg || strings.Contains(msg, spec[len(spec)-300:]) {
			t.Errorf("%.60s...: error of %d bytes repeats the device string: %.300s...", spec, len(msg), msg)
		}
	}
	open := func(air *Air, spec string) (*Device, error) {
		sp, err := radio.ParseSpec(spec)
		if err != nil {
			t.Fatalf("%.60s...: %v", spec, err)
		}
		return air.Open(sp.String(), sp.Arg, nil, sp.Params)
	}
	for _, spec := range []string{
		"loopback:hackrf,snr=" + long("9"),
		"loopback:hackrf,snr=" + long("x"),
		"loopback,seed=" + long("s"),
		"loopback,channel=" + long("c"),
		"loopback,dc=" + long("d"),
		"loopback,bits=" + long("b"),
		"loopback,ppm=" + long("p"),
		"loopback:" + long("h"),
		"loopback," + long("k") + "=1",
		"loopback,air=" + long("a") + ",snr=oops",
	} {
		_, err := open(NewAir(1), spec)
		check(t, spec, err)
	}

	// Errors of a device that opened: a tuning it refuses, a second stream.
	spec := "loopback:hackrf,air=" + long("a")
	air := NewAir(1)
	d, err := open(air, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	check(t, spec, d.Configure(radio.Config{SampleRate: 1e9, Frequency: DefaultFrequency}))
	ctx := context.Background()
	ts, err := d.StartTX(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	_, err = d.StartTX(ctx)
	check(t, spec, err)
	_, err = d.StartRX(ctx)
	check(t, spec, err)
	check(t, spec, d.Configure(radio.Config{SampleRate: DefaultSampleRate, Frequency: DefaultFrequency}))
	d2, err := open(air, spec+",seed=2")
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	ts2, err := d2.StartTX(ctx)
	if err == nil {
		// The burst starts at the first write.
		_, err = ts2.Write(make([]complex64, 16))
		ts2.Close()
	}
	check(t, spec, err)
}
