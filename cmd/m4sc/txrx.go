package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/calibration"
	"github.com/m4sc/m4sc/internal/progress"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/sigmf"
)

// tuneFromConfig configures d with the run's rate, frequency, bandwidth and gains (the
// gains d has; the others belong to another kind of device).
func tuneFromConfig(a *app, d radio.Device) error {
	cfg := a.Config()
	c := radio.Config{SampleRate: cfg.Rate(), Frequency: cfg.Freq(), Bandwidth: cfg.Bandwidth(), Gains: onlyKnownGains(d.Info(), cfg.Gains())}
	if d.Info().Driver == "file" {
		return nil // a recording keeps its own rate and frequency
	}
	if len(d.Info().Bandwidths) == 0 {
		c.Bandwidth = 0
	}
	return d.Configure(c)
}

// openTuned loads the profile (if any), opens the specs with one manager and tunes the
// first from the configuration (the others are recordings that keep their own tuning).
func openTuned(ctx context.Context, a *app, profile string, specs ...string) ([]radio.Device, *calibration.Profile, error) {
	prof, err := loadProfile(profile)
	if err != nil {
		return nil, nil, err
	}
	_, ds, err := openDevices(ctx, a, specs...)
	if err != nil {
		return nil, nil, err
	}
	if err := tuneFromConfig(a, ds[0]); err != nil {
		for _, d := range ds {
			d.Close()
		}
		return nil, nil, err
	}
	return ds, prof, nil
}

// loadProfile loads a calibration profile; no path, no profile.
func loadProfile(path string) (*calibration.Profile, error) {
	if path == "" {
		return nil, nil
	}
	return calibration.Load(path)
}

// maxRecordSeconds bounds rx --seconds: an hour of samples (at 20 Msps, 144 GB
// of cf32_le).
const maxRecordSeconds = 3600

// checkSeconds validates a --seconds flag: a finite duration above zero and at
// most max. NaN, infinities, zero and negative values would otherwise run
// forever or not at all.
func checkSeconds(v, max float64) error {
	if !(v > 0 && v <= max) {
		return usageErrorf("--seconds %g: want a duration in seconds above 0 and at most %g", v, max)
	}
	return nil
}

func newRxCmd(a *app) *cobra.Command {
	var device, out, profile string
	var seconds float64
	var force bool
	cmd := &cobra.Command{
		Use:   "rx --device DEV --out FILE.sigmf-meta [--seconds S] [--profile P.yaml] [--force]",
		Short: "Record samples from a device to a SigMF recording (a calibration profile corrects them)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageErrorf("--out: a recording to write is required")
			}
			if err := checkSeconds(seconds, maxRecordSeconds); err != nil {
				return err
			}
			if err := checkRecordingOutput("--out", out, force); err != nil {
				return err
			}
			if device == "" {
				device = a.Config().RxDevice()
			}
			ds, prof, err := openTuned(cmd.Context(), a, profile, device)
			if err != nil {
				return err
			}
			d := ds[0]
			defer d.Close()
			if prof != nil {
				if d, err = applyProfile(a, prof, profile, d); err != nil {
					return err
				}
			}
			return record(cmd.Context(), cmd.ErrOrStderr(), cmd.OutOrStdout(), d, out, seconds, force)
		},
	}
	addForceFlag(cmd, &force)
	cmd.Flags().StringVar(&device, "device", "", "device to record from (default: radio.rx, else radio.device)")
	cmd.Flags().StringVar(&out, "out", "", "recording to write (.sigmf-meta, .cs8, .cf32)")
	cmd.Flags().Float64Var(&seconds, "seconds", 1, "how long to record")
	cmd.Flags().StringVar(&profile, "profile", "", "calibration profile: receive gains, and carrier offset, DC and I/Q correction")
	return cmd
}

// record writes seconds of d's samples to the recording at path, replacing one
// that exists only with force. What was received is kept when the device fails
// or ctx is cancelled; nothing is written when receiving cannot start.
func record(ctx context.Context, errOut, out io.Writer, d radio.Device, path string, seconds float64, force bool) error {
	c := d.Config()
	total := int64(math.Round(seconds * c.SampleRate))
	w, err := sigmf.Create(path, sigmf.WriteOptions{SampleRate: c.SampleRate, Frequency: c.Frequency, Datetime: time.Now().UTC(),
		Recorder: "m4sc rx", HW: d.Info().Description, Description: "recorded from " + d.Info().Spec, Exclusive: !force})
	if err != nil {
		return outputError("--out", path, err)
	}
	defer w.Abort() // after Close, nothing
	rs, err := d.StartRX(ctx)
	if err != nil {
		return err
	}
	bar := progress.New(errOut, "rx", total, true)
	buf := make([]complex64, 1<<16)
	var got int64
	var dropped int64
	var rerr error
	for got < total {
		n, meta, err := rs.Read(buf[:min(int64(len(buf)), total-got)])
		if meta.Dropped > 0 {
			dropped += meta.Dropped
			w.Annotate(sigmf.Annotation{SampleStart: w.Samples(), SampleCount: 1, Label: "gap",
				Comment: fmt.Sprintf("%d samples lost before this one", meta.Dropped)})
		}
		if _, werr := w.Write(buf[:n]); werr != nil {
			rerr = werr
			break
		}
		got += int64(n)
		bar.Add(int64(n))
		if err != nil {
			if !errors.Is(err, io.EOF) {
				rerr = err
			}
			break
		}
	}
	rs.Close()
	bar.Finish()
	// The recording is completed even after an error or a cancellation.
	if cerr := w.Close(); rerr == nil {
		rerr = cerr
	}
	st := d.Stats()
	fmt.Fprintf(out, "recorded %d samples (%g s) from %s to %s; %d samples lost, %d overruns\n",
		got, float64(got)/c.SampleRate, radio.ClipSpec(d.Info().Spec), path, dropped, st.Overruns)
	return rerr
}

func newTxCmd(a *app) *cobra.Command {
	var device, in, profile string
	var repeat int
	var force bool
	cmd := &cobra.Command{
		Use:   "tx --device DEV --in FILE [--repeat N] [--profile P.yaml] [--force]",
		Short: "Send a recording's samples from a device (a calibration profile sets the gains and pre-corrects the carrier offset)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if in == "" {
				return usageErrorf("--in: a recording to send is required")
			}
			if repeat < 1 {
				return usageErrorf("--repeat: at least 1")
			}
			flag := "--device"
			if device == "" {
				device, flag = a.Config().TxDevice(), "radio.tx"
			}
			// Sending to a file device writes a recording: an existing one is
			// replaced only with --force, as every verb's output. The check
			// here comes before any work; the device creates the recording
			// exclusively unless told replace=true, so a recording that
			// appears in between is not replaced either.
			tx, err := txRecording(flag, device, force)
			if err != nil {
				return err
			}
			if tx.path != "" {
				if err := checkRecordingOutput(flag, tx.path, tx.replace); err != nil {
					return err
				}
			}
			ds, prof, err := openTuned(cmd.Context(), a, profile, tx.spec, "file:"+in)
			if err != nil {
				return err
			}
			d, src := ds[0], ds[1]
			defer d.Close()
			defer src.Close()
			if tx.path != "" {
				if err := tuneRecording(d, src, tx); err != nil {
					return err
				}
			}
			if prof != nil {
				if err := prof.ApplyGains(d, radio.TX); err != nil {
					return err
				}
			}
			err = replay(cmd.Context(), cmd.OutOrStdout(), src, d, repeat, prof)
			if tx.path != "" {
				err = outputError(flag, tx.path, err)
			}
			return err
		},
	}
	addForceFlag(cmd, &force)
	cmd.Flags().StringVar(&device, "device", "", "device to send from (default: radio.tx, else radio.device); file:X.sigmf-meta writes a recording, an existing one only with --force")
	cmd.Flags().StringVar(&in, "in", "", "recording to send (SigMF; .cs8/.cf32 need ,rate=...)")
	cmd.Flags().IntVar(&repeat, "repeat", 1, "send the recording this many times, back to back")
	cmd.Flags().StringVar(&profile, "profile", "", "calibration profile: transmit gains and carrier-offset pre-correction")
	return cmd
}

// txFile describes the recording that sending to a device writes.
type txFile struct {
	spec    string // the device string to open
	path    string // the recording a file device writes; "" for a radio
	replace bool   // an existing recording may be replaced
	rate    bool   // the device string sets the rate, freq the frequency
	freq    bool
}

// txRecording reads the device string tx sends to. A file device writes a
// recording, which it creates exclusively unless its string says replace=true:
// --force adds that key (force is the flag's value), and the key given in the
// string counts as --force. A string that does not parse, or a replace value
// that is not a boolean, is left to the device's opener to explain.
func txRecording(flag, spec string, force bool) (txFile, error) {
	tx := txFile{spec: spec}
	sp, err := radio.ParseSpec(spec)
	if err != nil || sp.Driver != "file" {
		return tx, nil
	}
	tx.path, tx.replace = sp.Arg, force
	_, tx.rate = sp.Lookup("rate")
	_, tx.freq = sp.Lookup("freq")
	v, ok := sp.Lookup("replace")
	if !ok {
		if force {
			sp.Params = append(sp.Params, radio.Param{Key: "replace", Value: "true"})
			tx.spec = sp.String()
		}
		return tx, nil
	}
	r, err := radio.ParseBoolParam("replace", v)
	switch {
	case err != nil:
		return tx, nil
	case force && !r:
		return tx, usageErrorf("%s %s: replace=false contradicts --force", flag, radio.ClipSpec(spec))
	}
	tx.replace = r
	return tx, nil
}

// tuneRecording gives the recording d writes the rate and frequency of src,
// the recording being sent, where d's device string does not set them (a file
// device otherwise starts at its defaults, whatever rate src was made at).
func tuneRecording(d, src radio.Device, tx txFile) error {
	c, s := d.Config(), src.Config()
	if !tx.rate {
		c.SampleRate = s.SampleRate
	}
	if !tx.freq {
		c.Frequency = s.Frequency
	}
	return d.Configure(c)
}

// replay reads the whole recording and sends it repeat times in one burst. With a
// profile, the samples are turned by the opposite of the measured carrier offset, so
// the receiver it was measured against sees none.
func replay(ctx context.Context, out io.Writer, src, d radio.Device, repeat int, prof *calibration.Profile) error {
	if sr, dr := src.Config().SampleRate, d.Config().SampleRate; sr != dr {
		hint := "set radio.rate or resample"
		if d.Info().Driver == "file" {
			hint = "drop rate= from the device string or resample"
		}
		return fmt.Errorf("tx: the recording is at %g samples/s, %s at %g; %s", sr, radio.ClipSpec(d.Info().Spec), dr, hint)
	}
	rs, err := src.StartRX(ctx)
	if err != nil {
		return err
	}
	x, err := radio.ReadAll(rs, 0)
	rs.Close()
	if err != nil {
		return err
	}
	if len(x) == 0 {
		return fmt.Errorf("tx: the recording holds no samples")
	}
	if prof != nil {
		c := d.Config()
		// Positive ppm: the transmitted carrier arrives high at the receiver.
		cyc := prof.FrequencyError.PPM * 1e-6 * c.Frequency / c.SampleRate
		for i := range x {
			s, co := math.Sincos(-2 * math.Pi * math.Mod(cyc*float64(i), 1))
			x[i] *= complex(float32(co), float32(s))
		}
	}
	ts, err := d.StartTX(ctx)
	if err != nil {
		return err
	}
	for r := 0; r < repeat; r++ {
		if _, err := ts.Write(x); err != nil {
			ts.Close()
			return err
		}
	}
	if err := ts.Close(); err != nil {
		return err
	}
	st := d.Stats()
	fmt.Fprintf(out, "sent %d samples (%d x %d) from %s; %d underruns\n", len(x)*repeat, repeat, len(x), radio.ClipSpec(d.Info().Spec), st.Underruns)
	return nil
}
