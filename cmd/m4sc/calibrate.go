package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/calibration"
	"github.com/m4sc/m4sc/internal/progress"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/loopback"
)

// defaultProfile is where calibrate writes its profile unless told otherwise.
const defaultProfile = "calibration.yaml"

func newCalibrateCmd(a *app) *cobra.Command {
	var txSpec, rxSpec, out string
	var frames int
	var fixed, force bool
	cmd := &cobra.Command{
		Use:   "calibrate --tx DEV --rx DEV [--out " + defaultProfile + "] [--force]",
		Short: "Measure what a pair of radios does wrong and write a calibration profile",
		Long: `Sends 802.11a frames and a CW tone from one device to another and measures, from
the received samples alone: the frequency error between the two oscillators (ppm,
from the frames' long training fields and from the tone; the sample clock is off by
the same figure), the receiver's DC offset and I/Q imbalance (moment estimator on
noise, mirror-subcarrier estimator on the frames), the transmit and receive gains
that give the best EVM without clipping at -15 to -20 dBFS, and the channel (SNR per
subcarrier, delay spread). The profile is written as YAML; "m4sc phy rx --profile"
applies it.

Rate, frequency, bandwidth and starting gains come from the configuration (radio.*).
On the loopback simulator the summary shows the simulator's settings beside the
measurements.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			txSpec, rxSpec = linkDevices(a, txSpec, rxSpec)
			if frames < 4 {
				return usageErrorf("--frames: at least 4")
			}
			if out == "" {
				return usageErrorf("--out: a file to write the profile to is required")
			}
			// Before the measurement, not after it.
			if err := checkOutput("--out", out, force); err != nil {
				return err
			}
			mode := calibration.GainSweep
			if fixed {
				mode = calibration.GainFixed
			}
			return runCalibrate(cmd.Context(), a, cmd.OutOrStdout(), cmd.ErrOrStderr(), txSpec, rxSpec, out, force, frames, mode)
		},
	}
	cmd.Flags().StringVar(&txSpec, "tx", "", "transmitting device (default: radio.tx, else radio.device if set, else "+demoDevice+")")
	cmd.Flags().StringVar(&rxSpec, "rx", "", "receiving device (default: radio.rx, else radio.device if set, else "+demoDevice+")")
	cmd.Flags().StringVar(&out, "out", defaultProfile, "profile to write")
	cmd.Flags().IntVar(&frames, "frames", calibration.DefaultFrames, "802.11a frames for the carrier offset, mirror I/Q estimate and channel summary")
	cmd.Flags().BoolVar(&fixed, "fixed-gains", false, "keep the configured gains (radio.gains) instead of sweeping")
	addForceFlag(cmd, &force)
	return cmd
}

func runCalibrate(ctx context.Context, a *app, out, errOut io.Writer, txSpec, rxSpec, path string, force bool, frames int, mode calibration.GainMode) error {
	_, ds, err := openDevices(ctx, a, txSpec, rxSpec)
	if err != nil {
		return err
	}
	tx, rx := ds[0], ds[1]
	defer tx.Close()
	defer rx.Close()
	cfg := a.Config()
	cc := calibration.Config{
		SampleRate: cfg.Rate(), Frequency: cfg.Freq(), Bandwidth: cfg.Bandwidth(),
		TXGains: map[string]float64{}, RXGains: map[string]float64{},
		Gains: mode, Frames: frames, Seed: uint64(cfg.Seed()),
	}
	// radio.gains names stages of either side; each goes to the device that has it.
	for name, v := range cfg.Gains() {
		t, inTX := tx.Info().Gain(name)
		r, inRX := rx.Info().Gain(name)
		switch {
		case inTX && t.Direction == radio.TX:
			cc.TXGains[name] = v
		case inRX && r.Direction == radio.RX:
			cc.RXGains[name] = v
		default:
			return fmt.Errorf("calibrate: gain %q (radio.gains) is neither a transmit stage of %s nor a receive stage of %s", name, tx.Info().Spec, rx.Info().Spec)
		}
	}
	a.log.Info("calibrate", "tx", tx.Info().Spec, "rx", rx.Info().Spec, "rate", cc.SampleRate, "freq", cc.Frequency, "frames", frames)
	bar := progress.New(errOut, "calibrate", 1000, false)
	p, err := calibration.Run(ctx, tx, rx, cc, func(stage string, frac float64) {
		bar.Describe(stage)
		bar.Set(int64(math.Round(frac * 1000)))
	})
	bar.Finish()
	if err != nil {
		return err
	}
	if err := writeOutput("--out", path, force, p.Encode); err != nil {
		return err
	}
	printCalibration(out, p, tx, rx)
	fmt.Fprintf(out, "\nprofile written to %s; apply it with: m4sc phy rx --profile %s ...\n", path, path)
	return nil
}

// printCalibration writes the summary table: each measured figure, its standard error
// and, on the loopback simulator, what the simulator was set to.
func printCalibration(out io.Writer, p *calibration.Profile, tx, rx radio.Device) {
	fmt.Fprintf(out, "m4sc calibrate: %s -> %s at %g Msps, %g MHz\n\n", p.TX.Spec, p.RX.Spec, p.SampleRate/1e6, p.Frequency/1e6)
	truth := map[string]string{}
	ltx, okTX := tx.(*loopback.Device)
	lrx, okRX := rx.(*loopback.Device)
	sim := okTX && okRX
	if sim {
		truth = simulatedSettings(ltx, lrx, p)
	}
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	header := "quantity\tmeasured\t+-\t"
	if sim {
		header += "simulator setting\t"
	}
	fmt.Fprintln(tw, header)
	row := func(name, val, se string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t", name, val, se)
		if sim {
			fmt.Fprintf(tw, "%s\t", truth[name])
		}
		fmt.Fprintln(tw)
	}
	est := func(e calibration.Estimate, format string) (string, string) {
		if e.N == 0 {
			return "-", ""
		}
		return fmt.Sprintf(format, e.Value), fmt.Sprintf(format, e.SE)
	}
	f := p.FrequencyError
	row("frequency error (ppm)", fmt.Sprintf("%.4f", f.PPM), fmt.Sprintf("%.4f", f.PPMSE))
	v, s := est(f.LTF, "%.4f")
	row(fmt.Sprintf("  by long training fields, %d frames", f.LTF.N), v, s)
	v, s = est(f.Tone, "%.4f")
	row("  by CW tone", v, s)
	row("carrier offset (Hz)", fmt.Sprintf("%.1f", f.CarrierOffset), fmt.Sprintf("%.1f", f.PPMSE*1e-6*p.Frequency))
	row("sample clock (ppm)", fmt.Sprintf("%.4f", f.SampleClockPPM), fmt.Sprintf("%.4f", f.PPMSE))
	row("DC offset I (full scale)", fmt.Sprintf("%.4f", p.DC.I), fmt.Sprintf("%.4f", p.DC.SE))
	row("DC offset Q (full scale)", fmt.Sprintf("%.4f", p.DC.Q), fmt.Sprintf("%.4f", p.DC.SE))
	row("noise floor (dBFS)", dbText(p.DC.NoiseDBFS, calibration.MinLevelDBFS, "below the converter's step"), "")
	iq := func(name string, e calibration.IQEstimate) {
		if e.N == 0 {
			row("  "+name+" I/Q gain (dB)", "-", "")
			row("  "+name+" I/Q phase (deg)", "-", "")
			return
		}
		row("  "+name+" I/Q gain (dB)", fmt.Sprintf("%.3f", e.GainDB), fmt.Sprintf("%.3f", e.GainDBSE))
		row("  "+name+" I/Q phase (deg)", fmt.Sprintf("%.2f", e.PhaseDeg), fmt.Sprintf("%.2f", e.PhaseDegSE))
	}
	row("I/Q gain (dB), "+p.IQ.Method, fmt.Sprintf("%.3f", p.IQ.GainDB), "")
	row("I/Q phase (deg), "+p.IQ.Method, fmt.Sprintf("%.2f", p.IQ.PhaseDeg), "")
	iq("moment", p.IQ.Moment)
	iq("mirror", p.IQ.Mirror)
	row("transmit gains (dB)", gainText(p.Gains.TX), "")
	row("receive gains (dB)", gainText(p.Gains.RX), "")
	row("frame level (dBFS)", fmt.Sprintf("%.1f", p.Gains.LevelDBFS), "")
	row("peak (dBFS)", fmt.Sprintf("%.1f", p.Gains.PeakDBFS), "")
	row("EVM, 64-QAM corrected (dB)", evmText(p.Channel.EVMDB), "")
	row("SNR (dB)", fmt.Sprintf("%.2f", p.Channel.SNRDB), fmt.Sprintf("%.2f", p.Channel.SNRDBSE))
	if n := len(p.Channel.SubcarrierSNR); n > 0 {
		lo, hi, mean := math.Inf(1), math.Inf(-1), 0.0
		for _, x := range p.Channel.SubcarrierSNR {
			lo, hi, mean = math.Min(lo, x), math.Max(hi, x), mean+x/float64(n)
		}
		row("subcarrier SNR min/mean/max (dB)", fmt.Sprintf("%.1f/%.1f/%.1f", lo, mean, hi), "")
	}
	row("RMS delay spread (ns)", fmt.Sprintf("%.0f", p.Channel.DelaySpreadNS), "")
	tw.Flush()
	if sim {
		fmt.Fprintln(out, "\nSimulator SNR: the thermal noise at the chosen gains; the measured SNR also holds the 8-bit converters' quantisation where the devices have them.")
		fmt.Fprintln(out, "Delay spread: distortion repeated in both training symbols (the transmitter's quantisation) reads as about 20 ns on a flat channel.")
	}
	for _, n := range p.Notes {
		fmt.Fprintf(out, "note: %s\n", n)
	}
}

// simulatedSettings states what the simulator was set to, in the table's terms.
func simulatedSettings(tx, rx *loopback.Device, p *calibration.Profile) map[string]string {
	tp, rp := tx.Params(), rx.Params()
	ppm := ((1+tp.PPM*1e-6)/(1+rp.PPM*1e-6) - 1) * 1e6
	g := map[string]string{
		"frequency error (ppm)":    fmt.Sprintf("%.4f", ppm),
		"carrier offset (Hz)":      fmt.Sprintf("%.1f", ppm*1e-6*p.Frequency),
		"sample clock (ppm)":       fmt.Sprintf("%.4f", ppm),
		"DC offset I (full scale)": fmt.Sprintf("%.4f", real(rp.DC)),
		"DC offset Q (full scale)": fmt.Sprintf("%.4f", imag(rp.DC)),
		"RMS delay spread (ns)":    "0 (flat)",
	}
	g["  by CW tone"] = g["frequency error (ppm)"]
	g[fmt.Sprintf("  by long training fields, %d frames", p.FrequencyError.LTF.N)] = g["frequency error (ppm)"]
	for _, m := range []string{calibration.IQMoment, calibration.IQMirror, calibration.IQNone} {
		g["I/Q gain (dB), "+m] = fmt.Sprintf("%.3f", rp.IQGain)
		g["I/Q phase (deg), "+m] = fmt.Sprintf("%.2f", rp.IQPhase)
	}
	for _, m := range []string{"moment", "mirror"} {
		g["  "+m+" I/Q gain (dB)"] = fmt.Sprintf("%.3f", rp.IQGain)
		g["  "+m+" I/Q phase (deg)"] = fmt.Sprintf("%.2f", rp.IQPhase)
	}
	if !math.IsInf(rp.SNR, 1) {
		// The transmitter's gain above its defaults raises the signal over the
		// receiver's thermal noise.
		var up float64
		for _, s := range tx.Info().Gains {
			if v, ok := p.Gains.TX[s.Name]; ok && s.Direction == radio.TX {
				up += v - s.Default
			}
		}
		g["SNR (dB)"] = fmt.Sprintf("%.2f", rp.SNR+up)
	} else {
		g["SNR (dB)"] = "no noise"
	}
	if rp.Channel != "" {
		g["RMS delay spread (ns)"] = fmt.Sprintf("%s, %.0f", rp.Channel, channelSpread(rp)*1e9)
	}
	return g
}

// channelSpread is the RMS delay spread of the simulator's multipath profile.
func channelSpread(p loopback.Params) float64 {
	prof, err := loopback.LookupProfile(p.Channel)
	if err != nil {
		return math.NaN()
	}
	paths, err := prof.Paths(p.DelaySpread)
	if err != nil {
		return math.NaN()
	}
	var p0, m1, m2 float64
	for _, q := range paths {
		p0 += q.Power
		m1 += q.Power * q.Delay
		m2 += q.Power * q.Delay * q.Delay
	}
	m1 /= p0
	return math.Sqrt(math.Max(m2/p0-m1*m1, 0))
}

func gainText(g map[string]float64) string {
	if len(g) == 0 {
		return "-"
	}
	names := make([]string, 0, len(g))
	for k := range g {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %g", k, g[k])
	}
	return strings.Join(parts, ", ")
}

func dbText(x, floor float64, none string) string {
	if x <= floor {
		return none
	}
	return fmt.Sprintf("%.1f", x)
}

func evmText(x float64) string {
	if x == 0 {
		return "none demodulated"
	}
	return fmt.Sprintf("%.1f", x)
}
