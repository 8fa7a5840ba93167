package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/cmplx"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/calibration"
	"github.com/m4sc/m4sc/internal/config"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/burst"
	"github.com/m4sc/m4sc/radio/loopback"
	"github.com/m4sc/m4sc/radio/sigmf"
	"github.com/m4sc/m4sc/radio/spectrum"
)

// demoDevice is the demo's device when the configuration names none.
const demoDevice = "loopback:hackrf"

// linkDevices fills in the transmit and receive device strings of a verb that needs a
// pair: the flags, else radio.tx and radio.rx, else radio.device if the user set it,
// else the simulated HackRF pair (an ideal wire shows nothing worth measuring).
func linkDevices(a *app, tx, rx string) (string, string) {
	cfg := a.Config()
	def := demoDevice
	if kind, _ := cfg.Source("radio.device"); kind != config.SourceDefault {
		def = cfg.Device()
	}
	if tx == "" {
		tx = orDefault(cfg.String("radio.tx"), def)
	}
	if rx == "" {
		rx = orDefault(cfg.String("radio.rx"), def)
	}
	return tx, rx
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Demo signal: two tones at +3 MHz and -5 MHz. Their sum and difference separate the
// carrier offset from the sample-clock offset, and because they are asymmetric each
// tone's I/Q image lands on empty spectrum where it can be measured.
const (
	demoToneA = 3e6
	demoToneB = -5e6
	// demoSpan is how far from its nominal frequency a tone is looked for, Hz: +-100
	// ppm at 2.45 GHz, with room.
	demoSpan  = 300e3
	demoLead  = 1 << 15 // silence transmitted before the tones
	demoBurst = 1 << 18 // samples of the two tones
	demoIdle  = 1 << 16 // samples received after the burst, for the noise floor
)

func newDemoCmd(a *app) *cobra.Command {
	var txSpec, rxSpec, record string
	var force bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Send a test signal through a radio link and measure what the link did to it",
		Long: `Transmits a two-tone burst (+3 MHz and -5 MHz, at the 802.11a frame power) on one
device and receives it on another, then measures from the received samples alone:
level, SNR, DC offset, carrier offset, sample-clock offset, I/Q image rejection,
clipping and where the burst began. On the loopback simulator the settings it used
are printed beside the measurements.

Then the embedded multi-modal model runs once per task on a clean channel (sending
its semantic vectors over the radio link comes with the channel coder).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if record != "" {
				if err := checkOutput("--record", record, force); err != nil {
					return err
				}
			}
			txSpec, rxSpec = linkDevices(a, txSpec, rxSpec)
			return runDemo(cmd.Context(), a, cmd.OutOrStdout(), txSpec, rxSpec, record, force)
		},
	}
	cmd.Flags().StringVar(&txSpec, "tx", "", "transmitting device (default: radio.tx, else radio.device if set, else "+demoDevice+")")
	cmd.Flags().StringVar(&rxSpec, "rx", "", "receiving device (default: radio.rx, else radio.device if set, else "+demoDevice+")")
	cmd.Flags().StringVar(&record, "record", "", "also write the received samples to this SigMF recording (.sigmf-meta; an existing one only with --force)")
	addForceFlag(cmd, &force)
	return cmd
}

func runDemo(ctx context.Context, a *app, out io.Writer, txSpec, rxSpec, record string, force bool) error {
	cfg := a.Config()
	tune := radio.Config{SampleRate: cfg.Rate(), Frequency: cfg.Freq(), Bandwidth: cfg.Bandwidth(), Gains: cfg.Gains()}
	_, ds, err := openDevices(ctx, a, txSpec, rxSpec)
	if err != nil {
		return err
	}
	tx, rx := ds[0], ds[1]
	defer tx.Close()
	defer rx.Close()
	a.log.Info("demo", "tx", tx.Info().Spec, "rx", rx.Info().Spec, "rate", tune.SampleRate, "freq", tune.Frequency)
	y, first, err := demoLink(ctx, tx, rx, tune)
	if err != nil {
		return err
	}
	res := measure(y, tune.SampleRate)
	if record != "" {
		if err := writeDemoRecording(record, y, tune.SampleRate, tune.Frequency, res, force); err != nil {
			return err
		}
	}
	printDemo(out, tx, rx, first, res, tune.SampleRate, tune.Frequency, record)
	return demoSemantics(out)
}

// demoLink tunes both devices, sends the two-tone burst from tx while rx receives, and
// returns what rx got.
func demoLink(ctx context.Context, tx, rx radio.Device, tune radio.Config) ([]complex64, radio.RXMeta, error) {
	for name := range tune.Gains {
		_, inTX := tx.Info().Gain(name)
		_, inRX := rx.Info().Gain(name)
		if !inTX && !inRX {
			return nil, radio.RXMeta{}, fmt.Errorf("demo: gain %q (radio.gains) exists on neither %s nor %s", name, tx.Info().Spec, rx.Info().Spec)
		}
	}
	for _, d := range []radio.Device{tx, rx} {
		c := tune.Clone()
		c.Gains = onlyKnownGains(d.Info(), c.Gains)
		if err := d.Configure(c); err != nil {
			return nil, radio.RXMeta{}, err
		}
	}
	fs := tune.SampleRate
	amp := math.Sqrt(loopback.DefaultRefPower / 2) // two equal tones, total at the reference power
	x := make([]complex64, demoLead+demoBurst)
	for i := demoLead; i < len(x); i++ {
		t := float64(i-demoLead) / fs
		x[i] = complex64(cmplx.Rect(amp, 2*math.Pi*demoToneA*t) + cmplx.Rect(amp, 2*math.Pi*demoToneB*t))
	}
	got, err := burst.Capture(ctx, tx, rx, burst.Samples(x), demoLead+demoBurst+demoIdle, burst.Config{})
	if err != nil {
		return nil, got.First, fmt.Errorf("demo: %w", err)
	}
	// A recording that ends early gives fewer samples: measure what there is.
	return got.Samples, got.First, nil
}

func onlyKnownGains(in radio.Info, g map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range g {
		if _, ok := in.Gain(k); ok {
			out[k] = v
		}
	}
	return out
}

type demoResult struct {
	start, length        int     // burst position found by energy
	levelDBFS, noiseDBFS float64 // mean power in the burst and in idle time
	snrDB                float64
	dc                   complex128
	fa, fb               float64 // measured tone frequencies, Hz
	tones                bool    // both tones found (the frequency and image rows mean something)
	cfoHz, clockPPM      float64
	imageA, imageB       float64 // image rejection, dB
	clipped              int
	found                bool
}

// measure analyses the received samples. It knows only what was sent (the two tone
// frequencies), never the simulator's settings.
func measure(y []complex64, fs float64) demoResult {
	var r demoResult
	// Burst edges by the power of 256-sample blocks against the geometric midpoint of
	// the quietest and loudest (robust for any SNR above a few dB).
	const win = 256
	lo, hi, ok := calibration.BurstSpan(y, 0, win, 0)
	if !ok {
		return r
	}
	r.found = true
	r.start, r.length = lo, hi-lo
	first, last := lo/win, hi/win-1
	// Idle statistics from windows well away from the burst.
	var idle []complex64
	for i := range len(y) / win {
		if i < first-2 || i > last+2 {
			idle = append(idle, y[i*win:(i+1)*win]...)
		}
	}
	var dc complex128
	for _, v := range idle {
		dc += complex128(v)
	}
	if len(idle) > 0 {
		dc /= complex(float64(len(idle)), 0)
	}
	r.dc = dc
	noise := meanPower(idle, dc)
	// The burst's middle, clear of edges, for the spectrum.
	const nfft = 1 << 17
	mid := r.start + r.length/2 - nfft/2
	if mid < r.start {
		mid = r.start
	}
	seg := y[mid : mid+min(nfft, len(y)-mid)]
	sig := meanPower(seg, dc)
	r.levelDBFS = 10 * math.Log10(sig)
	r.noiseDBFS = 10 * math.Log10(noise)
	r.snrDB = 10 * math.Log10((sig-noise)/noise)
	for _, v := range y {
		if math.Abs(float64(real(v))) >= 127.0/128 || math.Abs(float64(imag(v))) >= 127.0/128 {
			r.clipped++
		}
	}
	if len(seg) == nfft {
		p := spectrum.NewPeriodogram(seg, dc, fs)
		// Noise within the burst, thermal and quantisation alike, from the median of
		// the periodogram, which the tones, their images and spurs do not move.
		inBurst := p.NoisePerBin() * float64(len(p.P))
		if inBurst > 0 {
			r.snrDB = 10 * math.Log10((sig-inBurst)/inBurst)
		}
		ta, okA := spectrum.EstimateTone(seg, dc, fs, demoToneA, demoSpan)
		tb, okB := spectrum.EstimateTone(seg, dc, fs, demoToneB, demoSpan)
		if !okA || !okB {
			return r
		}
		r.tones = true
		r.fa, r.fb = ta.Freq, tb.Freq
		// r = (fa - fb)/(A - B), cfo = fa - A*r.
		ratio := (r.fa - r.fb) / (demoToneA - demoToneB)
		r.cfoHz = r.fa - demoToneA*ratio
		r.clockPPM = (ratio - 1) * 1e6
		// The receiver's mixer mirrors each tone as it arrives, carrier offset
		// included: the image of a tone at f is at -f, give or take a few bins.
		image := func(f float64) float64 {
			k, _ := p.Peak(-f, 4*fs/float64(len(p.P)), 0)
			return p.Power(k)
		}
		pa, pb := p.Power(p.Bin(r.fa)), p.Power(p.Bin(r.fb))
		r.imageA, r.imageB = 10*math.Log10(pa/image(r.fa)), 10*math.Log10(pb/image(r.fb))
	}
	return r
}

func meanPower(x []complex64, dc complex128) float64 {
	s := 0.0
	for _, v := range x {
		d := complex128(v) - dc
		s += real(d)*real(d) + imag(d)*imag(d)
	}
	return s / float64(max(1, len(x)))
}

// writeDemoRecording writes the received samples to path, replacing an existing
// recording only with force.
func writeDemoRecording(path string, y []complex64, fs, fc float64, r demoResult, force bool) error {
	w, err := sigmf.Create(path, sigmf.WriteOptions{Datatype: sigmf.CF32LE, SampleRate: fs, Frequency: fc, Datetime: time.Now().UTC(),
		Recorder: "m4sc demo", Description: "two-tone burst received by m4sc demo", Exclusive: !force})
	if err != nil {
		return outputError("--record", path, err)
	}
	if _, err := w.Write(y); err == nil && r.found {
		w.Annotate(sigmf.Annotation{SampleStart: int64(r.start), SampleCount: int64(r.length), Label: "burst", Comment: "two tones, +3 MHz and -5 MHz, found by energy"})
	}
	return w.Close()
}

func printDemo(out io.Writer, tx, rx radio.Device, first radio.RXMeta, r demoResult, fs, fc float64, record string) {
	fmt.Fprintf(out, "m4sc demo: two-tone burst (+3 MHz, -5 MHz, %d samples) from %s to %s at %g Msps, %g MHz\n\n",
		demoBurst, tx.Info().Spec, rx.Info().Spec, fs/1e6, fc/1e6)
	if !r.found {
		fmt.Fprintln(out, "no burst found in the received samples: the link delivered noise only")
		return
	}
	var set map[string]string
	fading := false
	if ltx, ok := tx.(*loopback.Device); ok {
		if lrx, ok := rx.(*loopback.Device); ok {
			set = simulatedTruth(ltx.Params(), lrx.Params(), fc)
			fading = lrx.Params().Channel != ""
		}
	}
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "quantity\tmeasured\tsimulator setting\t")
	row := func(name, val string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", name, val, set[name])
	}
	row("burst start (sample)", fmt.Sprintf("%d", r.start+int(first.Time)))
	row("level (dBFS)", fmt.Sprintf("%.2f", r.levelDBFS))
	if math.IsInf(r.noiseDBFS, -1) {
		row("noise (dBFS)", "none")
	} else {
		row("noise (dBFS)", fmt.Sprintf("%.2f", r.noiseDBFS))
	}
	snr := "no noise"
	if !math.IsInf(r.snrDB, 1) && !math.IsNaN(r.snrDB) {
		snr = fmt.Sprintf("%.2f", r.snrDB)
	}
	row("SNR (dB)", snr)
	row("DC offset", fmt.Sprintf("%.4f%+.4fi", real(r.dc), imag(r.dc)))
	tone := func(format string, v float64) string {
		if !r.tones {
			return "tones not found"
		}
		return fmt.Sprintf(format, v)
	}
	row("carrier offset (Hz)", tone("%.1f", r.cfoHz))
	row("carrier offset (ppm)", tone("%.3f", r.cfoHz/fc*1e6))
	row("sample clock (ppm)", tone("%.3f", r.clockPPM))
	row("image rejection +3 MHz (dB)", tone("%.1f", r.imageA))
	row("image rejection -5 MHz (dB)", tone("%.1f", r.imageB))
	row("clipped samples", fmt.Sprintf("%d", r.clipped))
	tw.Flush()
	fmt.Fprintln(out, "\nMeasured SNR: all noise within the burst (thermal, and quantisation where the receiver has an ADC); the setting is the thermal noise alone.")
	if fading {
		fmt.Fprintln(out, "The receiver's channel fades: Doppler and frequency selectivity bias the tone-based estimates, so they need not match the settings.")
	}
	if record != "" {
		fmt.Fprintf(out, "\nreceived samples written to %s\n", record)
	}
}

// simulatedTruth states what the simulator was set to, in the measurement's terms.
func simulatedTruth(tx, rx loopback.Params, fc float64) map[string]string {
	d := tx.PPM - rx.PPM
	snr := "none"
	if !math.IsInf(rx.SNR, 1) {
		snr = fmt.Sprintf("%.2f", rx.SNR)
	}
	g := math.Pow(10, rx.IQGain/20)
	ph := rx.IQPhase * math.Pi / 180
	// Image rejection of the receiver model Q' = g(Q cos ph - I sin ph).
	irr := 10 * math.Log10((1+2*g*math.Cos(ph)+g*g)/(1-2*g*math.Cos(ph)+g*g))
	return map[string]string{
		"SNR (dB)":                    snr,
		"DC offset":                   fmt.Sprintf("%.4f%+.4fi", real(rx.DC), imag(rx.DC)),
		"carrier offset (Hz)":         fmt.Sprintf("%.1f", d*1e-6*fc),
		"carrier offset (ppm)":        fmt.Sprintf("%.3f", d),
		"sample clock (ppm)":          fmt.Sprintf("%.3f", (d*1e-6/(1+rx.PPM*1e-6))*1e6),
		"image rejection +3 MHz (dB)": fmt.Sprintf("%.1f", irr),
		"image rejection -5 MHz (dB)": fmt.Sprintf("%.1f", irr),
	}
}
