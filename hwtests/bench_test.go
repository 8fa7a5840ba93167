//go:build hwtest && hackrf

package hwtests

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/burst"
	"github.com/m4sc/m4sc/radio/devices"
	"github.com/m4sc/m4sc/radio/spectrum"
)

// The bench, from the environment (README.md).
const (
	envTX      = "M4SC_HACKRF_TX"      // transmitting board: serial number, or a device string
	envRX      = "M4SC_HACKRF_RX"      // receiving board
	envFreq    = "M4SC_HWTEST_FREQ"    // centre frequency, Hz (SI suffixes allowed); default benchFreq
	envSeconds = "M4SC_HWTEST_SECONDS" // length of the streaming test; default streamSeconds
)

const (
	benchRate     = 20e6   // samples/s: 802.11a's numerology
	benchFreq     = 2.45e9 // the project's default; move off a busy channel with M4SC_HWTEST_FREQ
	streamSeconds = 60
	// crystalPPM is HackRF One's oscillator tolerance: two boards may differ by twice it.
	crystalPPM = 20
	// frameLevel is the receive level the link tests aim for, dBFS: an 802.11a frame
	// peaks about 10 dB above its mean, which leaves room below the ADC's full scale.
	frameLevel = -18
)

// bench holds the boards of one test, opened through one Manager (so that device
// strings naming the loopback simulator share an air, for a dry run without hardware).
type bench struct {
	m      *devices.Manager
	tx, rx radio.Device
	freq   float64
}

// spec turns an environment value into a device string: a bare serial number names a
// HackRF.
func spec(v string) string {
	if strings.ContainsAny(v, ":,") || strings.HasPrefix(v, "hackrf") || strings.HasPrefix(v, "loopback") {
		return v
	}
	return "hackrf:" + v
}

// open opens the board an environment variable names, or skips the test saying why.
func (b *bench) open(t *testing.T, env, role string) radio.Device {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		t.Skipf("%s is not set: name the %s board by the serial number hackrf_info prints (%s=0000000000000000457863c82a2a3f1f); see hwtests/README.md", env, role, env)
	}
	d, err := b.m.Open(context.Background(), spec(v))
	if errors.Is(err, radio.ErrNoDevice) {
		t.Skipf("%s=%s: the %s board is not attached: %v", env, v, role, err)
	}
	if err != nil {
		t.Fatalf("%s=%s: %v", env, v, err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("closing the %s board: %v", role, err)
		}
	})
	return d
}

// optional opens a board if it is named, attached and not the receiving board, and
// returns nil otherwise.
func (b *bench) optional(t *testing.T, env, role string) radio.Device {
	t.Helper()
	v := os.Getenv(env)
	if v == "" || (spec(v) == spec(os.Getenv(envRX)) && !strings.HasPrefix(v, "loopback")) {
		return nil
	}
	d, err := b.m.Open(context.Background(), spec(v))
	if err != nil {
		t.Logf("%s=%s: %v", env, v, err)
		return nil
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("closing the %s board: %v", role, err)
		}
	})
	b.tune(t, d, nil)
	return d
}

func newBench(t *testing.T) *bench {
	t.Helper()
	b := &bench{m: devices.New(devices.Options{Seed: 1}), freq: benchFreq}
	if v := os.Getenv(envFreq); v != "" {
		f, err := radio.ParseFloatParam(envFreq, v)
		if err != nil {
			t.Fatal(err)
		}
		b.freq = f
	}
	return b
}

// needRX opens the receiving board only.
func needRX(t *testing.T) *bench {
	b := newBench(t)
	b.rx = b.open(t, envRX, "receiving")
	b.tune(t, b.rx, nil)
	return b
}

// needPair opens both boards.
func needPair(t *testing.T) *bench {
	b := newBench(t)
	if os.Getenv(envTX) != "" && spec(os.Getenv(envTX)) == spec(os.Getenv(envRX)) && !strings.HasPrefix(os.Getenv(envTX), "loopback") {
		t.Skipf("%s and %s name the same board; a HackRF is half duplex, the link tests need two", envTX, envRX)
	}
	b.tx = b.open(t, envTX, "transmitting")
	b.rx = b.open(t, envRX, "receiving")
	b.tune(t, b.tx, nil)
	b.tune(t, b.rx, nil)
	return b
}

// tune sets the bench's rate and frequency and the given gains (others at their
// defaults; the RF amplifiers stay off unless named: the bench never needs them).
func (b *bench) tune(t *testing.T, d radio.Device, gains map[string]float64) {
	t.Helper()
	g := map[string]float64{}
	for k, v := range gains {
		if _, ok := d.Info().Gain(k); ok {
			g[k] = v
		}
	}
	if err := d.Configure(radio.Config{SampleRate: benchRate, Frequency: b.freq, Gains: g}); err != nil {
		t.Fatalf("%s: %v", d.Info().Spec, err)
	}
}

// setGain changes one gain of a board, keeping the rest.
func setGain(t *testing.T, d radio.Device, name string, v float64) {
	t.Helper()
	c := d.Config()
	c.Gains[name] = v
	if err := d.Configure(c); err != nil {
		t.Fatalf("%s: gain %s %g: %v", d.Info().Spec, name, v, err)
	}
}

// receive receives skip samples (settling) and then n on the receiving board while the
// transmitting board sends src (nothing if src is nil), in burst.Run's start order. It
// returns the n samples and fails the test if any were lost among them: the
// measurements assume a contiguous record.
func (b *bench) receive(t *testing.T, src burst.Source, skip, n int) []complex64 {
	t.Helper()
	y := make([]complex64, 0, n)
	got := 0
	_, err := burst.Run(context.Background(), b.tx, b.rx, src, int64(skip+n), burst.Config{}, func(x []complex64, meta radio.RXMeta) error {
		if meta.Dropped > 0 && got > skip {
			return fmt.Errorf("%d samples lost %d samples into a capture of %d", meta.Dropped, got-skip, n)
		}
		if got+len(x) > skip {
			y = append(y, x[max(0, skip-got):]...)
		}
		got += len(x)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(y) != n {
		t.Fatalf("%d samples received, want %d", len(y), n)
	}
	return y
}

// tone returns n samples of amp*exp(j*2*pi*f*k/fs). With n*f/fs whole, it repeats
// without a phase jump.
func tone(n int, f, fs, amp float64) []complex64 {
	x := make([]complex64, n)
	for k := range x {
		x[k] = complex64(cmplx.Rect(amp, 2*math.Pi*f*float64(k)/fs))
	}
	return x
}

// toneChunk is one period-aligned chunk of a tone at offset f (a whole number of
// cycles, so sendLoop repeats it seamlessly).
func toneChunk(f, amp float64) []complex64 {
	const n = 1 << 16
	cycles := math.Round(f * n / benchRate)
	return tone(n, cycles*benchRate/n, benchRate, amp)
}

// dBFS is 10 log10 of a power in full-scale units.
func dBFS(p float64) float64 { return 10 * math.Log10(p) }

// power is the mean power of x after removing its mean (the receiver's DC offset), and
// that mean.
func power(x []complex64) (p float64, dc complex128) {
	for _, v := range x {
		dc += complex128(v)
	}
	dc /= complex(float64(len(x)), 0)
	for _, v := range x {
		d := complex128(v) - dc
		p += real(d)*real(d) + imag(d)*imag(d)
	}
	return p / float64(len(x)), dc
}

// level measures the receive level of a tone at offset f sent by the transmitter at
// the given digital amplitude: the tone's power in dBFS.
func (b *bench) level(t *testing.T, f, amp float64) float64 {
	t.Helper()
	y := b.receive(t, burst.Repeat(toneChunk(f, amp)), int(0.1*benchRate), 1<<16)
	sp := spectrum.NewPeriodogram(y, 0, benchRate)
	k, _ := sp.Peak(f, 200e3, 100e3)
	return dBFS(sp.Power(k))
}

// autoLevel sets the receiver's gains so that the transmitter's signal, at the mean
// power of an 802.11a frame, arrives at frameLevel dBFS, or skips when the bench's
// attenuation puts that out of reach. It returns the level reached.
func (b *bench) autoLevel(t *testing.T) float64 {
	t.Helper()
	amp := math.Sqrt(52.0 / 4096) // an 802.11a frame's RMS amplitude (-18.96 dBFS)
	var l float64
	for range 5 {
		l = b.level(t, 1e6, amp)
		need := frameLevel - l
		if math.Abs(need) <= 2 {
			break
		}
		c := b.rx.Config()
		lna, vga := c.Gains["lna"], c.Gains["vga"]
		vga += 2 * math.Round(need/2)
		// Keep the VGA in its middle where it can; move the LNA in 8 dB steps.
		for vga > 50 && lna < 40 {
			vga, lna = vga-8, lna+8
		}
		for vga < 10 && lna > 0 {
			vga, lna = vga+8, lna-8
		}
		vga = math.Max(0, math.Min(62, vga))
		if vga == c.Gains["vga"] && lna == c.Gains["lna"] {
			break
		}
		setGain(t, b.rx, "lna", lna)
		setGain(t, b.rx, "vga", vga)
	}
	g := b.rx.Config().Gains
	t.Logf("receive level %.1f dBFS with lna %g vga %g (txvga %g)", l, g["lna"], g["vga"], b.tx.Config().Gains["txvga"])
	switch {
	case l < frameLevel-10:
		t.Skipf("the signal arrives at %.1f dBFS even at lna %g vga %g: too much attenuation for this test (use 30-60 dB, or raise txvga)", l, g["lna"], g["vga"])
	case l > frameLevel+6:
		t.Skipf("the signal arrives at %.1f dBFS even at lna %g vga %g: too little attenuation (use 30-60 dB)", l, g["lna"], g["vga"])
	}
	return l
}

// link sends x once, after lead samples of silence, while the receiver takes in the
// whole of it and at least tail samples more (burst.Run's start order). Lost samples,
// or a burst not sent whole by then, fail the test.
func (b *bench) link(t *testing.T, x []complex64, lead, tail int) []complex64 {
	t.Helper()
	sent := append(make([]complex64, lead, lead+len(x)), x...)
	got, err := burst.Capture(context.Background(), b.tx, b.rx, burst.Samples(sent), len(sent)+linkSlack+tail, burst.Config{})
	switch {
	case err != nil:
		t.Fatal(err)
	case got.Dropped > 0 || len(got.Breaks) > 0:
		t.Fatalf("%d samples lost: the host did not keep up", got.Dropped)
	case got.Sent < int64(len(sent)):
		t.Fatalf("only %d of the burst's %d samples were sent before the receiver had %d", got.Sent, len(sent), got.Received)
	}
	return got.Samples
}

// linkSlack bounds, in samples, how late a burst can begin after the receiver is
// started: a HackRF's first four transfers and USB latency (about 30 ms), and what
// waits in the receive ring.
const linkSlack = int(0.15 * benchRate)

func parseSeconds(t *testing.T) float64 {
	v := os.Getenv(envSeconds)
	if v == "" {
		return streamSeconds
	}
	s, err := strconv.ParseFloat(v, 64)
	if err != nil || s <= 0 {
		t.Fatalf("%s=%q: want a number of seconds", envSeconds, v)
	}
	return s
}
