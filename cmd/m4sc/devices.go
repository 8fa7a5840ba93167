package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/internal/config"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/devices"
	"github.com/m4sc/m4sc/radio/loopback"
)

// newManager builds the device manager of a run from the configuration.
func newManager(a *app) (*devices.Manager, error) {
	cfg := a.Config()
	var kv []radio.Param
	for k, v := range cfg.Loopback() {
		kv = append(kv, radio.Param{Key: k, Value: v})
	}
	// Check the configured loopback keys now, so a typo in the file is reported once
	// and by name rather than at the first device.
	p, _ := loopback.DefaultParams("")
	if err := p.Apply(kv); err != nil {
		return nil, fmt.Errorf("configuration key loopback: %w", err)
	}
	return devices.New(devices.Options{Seed: uint64(cfg.Seed()), Loopback: kv}), nil
}

// checkConfig validates what the configuration's schema cannot know: the
// loopback defaults and the device strings (radio.device, radio.tx, radio.rx)
// against the drivers, and each radio.gains entry against the gain stages of the
// devices. Load has checked the types; this checks the meaning, so that a value
// that would fail only when used (or, for a gain no device has, be ignored)
// fails "m4sc config print" and every verb at once, naming the key and where it
// was set.
func checkConfig(cfg *config.Config) error {
	lb := cfg.Loopback()
	var kv []radio.Param
	for _, k := range slices.Sorted(maps.Keys(lb)) {
		p, _ := loopback.DefaultParams("")
		if err := p.Apply([]radio.Param{{Key: k, Value: lb[k]}}); err != nil {
			return cfg.Reject("loopback", k, strings.TrimPrefix(err.Error(), "parameter "+k+": "))
		}
		kv = append(kv, radio.Param{Key: k, Value: lb[k]})
	}
	m := devices.New(devices.Options{Loopback: kv})
	for _, key := range []string{"radio.device", "radio.tx", "radio.rx"} {
		if s := cfg.String(key); s != "" {
			if err := m.Check(s); err != nil {
				return cfg.Reject(key, "", err.Error())
			}
		}
	}
	stages := devices.GainStages()
	gains := cfg.Gains()
	for _, name := range slices.Sorted(maps.Keys(gains)) {
		v := gains[name]
		var ranges, names []string
		found, fits := false, false
		for _, s := range stages {
			if !slices.Contains(names, s.Name) {
				names = append(names, s.Name)
			}
			if s.Name == name {
				found = true
				fits = fits || s.Range.Contains(v)
				ranges = append(ranges, fmt.Sprintf("%s dB on %s", s.Range, strings.Join(s.Devices, ", ")))
			}
		}
		switch {
		case !found:
			return cfg.Reject("radio.gains", name, fmt.Sprintf("no device has this gain stage (stages: %s)", strings.Join(names, ", ")))
		case !fits:
			return cfg.Reject("radio.gains", name, fmt.Sprintf("%g is out of range: want %s", v, strings.Join(ranges, "; ")))
		}
	}
	return nil
}

// openDevices opens every spec with one Manager, so loopback devices among them share
// an air, and returns the manager for later opens. If one fails, those already open are
// closed.
func openDevices(ctx context.Context, a *app, specs ...string) (*devices.Manager, []radio.Device, error) {
	m, err := newManager(a)
	if err != nil {
		return nil, nil, err
	}
	ds := make([]radio.Device, 0, len(specs))
	for _, s := range specs {
		d, err := m.Open(ctx, s)
		if err != nil {
			for _, o := range ds {
				o.Close()
			}
			return nil, nil, err
		}
		ds = append(ds, d)
	}
	return m, ds, nil
}

func newDevicesCmd(a *app) *cobra.Command {
	var keys bool
	cmd := &cobra.Command{
		Use:   "devices [DEVICE...]",
		Short: "List radio devices, or describe the named ones",
		Long: `Without arguments, lists what can be opened: the loopback simulator's presets,
recordings in the working directory, and attached HackRFs. With device strings,
opens each and prints its ranges and gains.

A device string is driver[:argument][,key=value...], for example
  loopback                       ideal simulated radio
  loopback:hackrf,ppm=12.5,snr=25,channel=epa
  file:capture.sigmf-meta        a recording (also .cs8, .cf32, .cfile)
  hackrf:SERIAL                  a HackRF One (build with -tags hackrf)`,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if keys {
				tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
				fmt.Fprintln(tw, "KEY\tMEANING")
				for _, k := range loopback.Keys() {
					fmt.Fprintf(tw, "%s\t%s\n", k.Name, k.Doc)
				}
				return tw.Flush()
			}
			m, err := newManager(a)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				wd, _ := os.Getwd()
				list, notes := m.List(cmd.Context(), wd)
				tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
				fmt.Fprintln(tw, "DEVICE\tDESCRIPTION")
				for _, l := range list {
					fmt.Fprintf(tw, "%s\t%s\n", l.Spec, l.Description)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				for _, n := range notes {
					fmt.Fprintf(out, "note: %s\n", n)
				}
				fmt.Fprintln(out, "loopback keys: m4sc devices --keys")
				return nil
			}
			for _, s := range args {
				d, err := m.Open(cmd.Context(), s)
				if err != nil {
					return err
				}
				describe(out, d)
				d.Close()
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&keys, "keys", false, "list the loopback simulator's impairment keys")
	return cmd
}

func describe(w interface{ Write([]byte) (int, error) }, d radio.Device) {
	in := d.Info()
	c := d.Config()
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "device\t%s\n", in.Spec)
	fmt.Fprintf(tw, "driver\t%s (%s)\n", in.Driver, in.Description)
	fmt.Fprintf(tw, "serial\t%s\n", in.Serial)
	fmt.Fprintf(tw, "duplex\t%s\n", map[bool]string{true: "half (one direction at a time)", false: "full"}[in.HalfDuplex])
	fmt.Fprintf(tw, "sample rate\t%s samples/s (now %g)\n", in.SampleRate, c.SampleRate)
	fmt.Fprintf(tw, "frequency\t%s Hz (now %g)\n", in.Frequency, c.Frequency)
	if len(in.Bandwidths) > 0 {
		fmt.Fprintf(tw, "bandwidth\t%v Hz (now %g)\n", in.Bandwidths, c.Bandwidth)
	}
	for _, g := range in.Gains {
		fmt.Fprintf(tw, "gain %s\t%s dB, %s, default %g (now %g): %s\n", g.Name, g.Range, g.Direction, g.Default, c.Gains[g.Name], g.Doc)
	}
	if lb, ok := d.(*loopback.Device); ok {
		p := lb.Params()
		fmt.Fprintf(tw, "simulated\tsnr %g dB re %.2f dBFS, channel %q, ppm %g, pn %g Hz, iq %g dB %g deg, dc %v, bits %d, offset <= %d\n",
			p.SNR, p.Ref, p.Channel, p.PPM, p.PhaseNoise, p.IQGain, p.IQPhase, p.DC, p.Bits, p.Offset)
	}
	tw.Flush()
	fmt.Fprintln(w)
}
