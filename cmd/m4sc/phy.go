package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/calibration"
	"github.com/m4sc/m4sc/internal/progress"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/phy/per"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/sigmf"
)

func newPhyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "phy",
		Short: "IEEE 802.11a physical layer: transmit, receive, measure packet error rates",
	}
	cmd.AddCommand(newPhyTxCmd(a), newPhyRxCmd(a), newPhyPERCmd(a))
	return cmd
}

func newPhyTxCmd(a *app) *cobra.Command {
	var mbps int
	var psduHex, out string
	var scrambler uint
	var force bool
	cmd := &cobra.Command{
		Use:   "tx --rate MBPS --psdu HEX --out FILE.sigmf-meta [--force]",
		Short: "Write one 802.11a packet to a recording (20 Msps, the standard's amplitude; SigMF cf32_le, or .cs8/.cf32/.cfile)",
		RunE: func(cmd *cobra.Command, args []string) error {
			rate, err := phy.RateByMbps(mbps)
			if err != nil {
				return usageErrorf("--rate: %v", err)
			}
			psdu, err := hex.DecodeString(strings.TrimSpace(psduHex))
			if err != nil {
				return usageErrorf("--psdu: not hexadecimal: %v", err)
			}
			if out == "" {
				return usageErrorf("--out: a recording to write is required")
			}
			if err := checkOutput("--out", out, force); err != nil {
				return err
			}
			if err := phy.CheckPacket(len(psdu), rate, uint8(scrambler)); err != nil {
				return usageErrorf("%v", err)
			}
			t, err := phy.NewTransmitter(phy.TransmitterConfig{})
			if err != nil {
				return err
			}
			x := t.Packet(nil, psdu, rate, uint8(scrambler))
			// A raw file's extension fixes its datatype, and it has no room
			// for the annotation.
			dt := sigmf.CF32LE
			_, raw := sigmf.RawDatatype(out)
			if raw {
				dt = 0
			}
			w, err := sigmf.Create(out, sigmf.WriteOptions{Datatype: dt, SampleRate: phy.SampleRate, Datetime: time.Now().UTC(),
				Recorder: "m4sc phy tx", Description: fmt.Sprintf("IEEE 802.11a packet, %d Mbit/s, %d-octet PSDU", mbps, len(psdu)),
				Exclusive: !force})
			if err != nil {
				return outputError("--out", out, err)
			}
			defer w.Abort() // a packet written in part is no packet
			if _, err := w.Write(x); err != nil {
				return err
			}
			if !raw {
				if err := w.Annotate(sigmf.Annotation{SampleStart: 0, SampleCount: int64(len(x)), Label: "802.11a",
					Comment: fmt.Sprintf("%d Mbit/s, LENGTH %d", mbps, len(psdu)), Extra: map[string]any{"m4sc:psdu": hex.EncodeToString(psdu)}}); err != nil {
					return err
				}
			}
			clipped := w.Clipped()
			if err := w.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d samples (%d Mbit/s, %d octets) to %s\n", len(x), mbps, len(psdu), out)
			if clipped > 0 {
				a.log.Warn("samples clipped at full scale by the file's integer format", "clipped", clipped, "file", out)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&mbps, "rate", 6, "data rate in Mbit/s: 6, 9, 12, 18, 24, 36, 48, 54")
	cmd.Flags().StringVar(&psduHex, "psdu", "", "PSDU as hexadecimal octets, FCS included")
	cmd.Flags().StringVar(&out, "out", "", "recording to write: SigMF (.sigmf-meta, .sigmf-data or a base name), .cs8 (hackrf_transfer), .cf32 or .cfile (GNU Radio)")
	cmd.Flags().UintVar(&scrambler, "scrambler", 0b1011101, "scrambler initial state, 1..127")
	addForceFlag(cmd, &force)
	return cmd
}

// rxLine is one JSON line of `m4sc phy rx`.
type rxLine struct {
	Start  int64    `json:"start"`
	Rate   int      `json:"rate"`
	Length int      `json:"length"`
	PSDU   string   `json:"psdu,omitempty"`
	FCSOK  bool     `json:"fcs_ok"`
	SNR    float64  `json:"snr_db"`
	CFO    float64  `json:"cfo_hz"`
	EVM    *float64 `json:"evm_db,omitempty"`
	Error  string   `json:"error,omitempty"`
}

func newPhyRxCmd(a *app) *cobra.Command {
	var in, device, profile string
	var seconds float64
	cmd := &cobra.Command{
		Use:   "rx --in FILE | --device DEV [--profile PROFILE.yaml]",
		Short: "Find and decode 802.11a frames in a recording or a live stream; one JSON line per frame",
		RunE: func(cmd *cobra.Command, args []string) error {
			if (in == "") == (device == "") {
				return usageErrorf("give exactly one of --in FILE and --device DEV")
			}
			// A device is received from for --seconds; a recording to its end
			// unless --seconds is given.
			limited := device != "" || cmd.Flags().Changed("seconds")
			if limited {
				if err := checkSeconds(seconds, maxPhyRxSeconds); err != nil {
					return err
				}
			}
			spec := device
			if in != "" {
				spec = "file:" + in
				// A raw file says nothing of its rate; what this receiver
				// decodes is at the 802.11a rate.
				if sp, err := radio.ParseSpec(spec); err == nil {
					if _, raw := sigmf.RawDatatype(sp.Arg); raw {
						if _, ok := sp.Lookup("rate"); !ok {
							spec += fmt.Sprintf(",rate=%g", phy.SampleRate)
						}
					}
				}
			}
			prof, err := loadProfile(profile)
			if err != nil {
				return err
			}
			_, ds, err := openDevices(cmd.Context(), a, spec)
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
			if c := d.Config(); c.SampleRate != phy.SampleRate {
				return fmt.Errorf("phy rx: %s runs at %g samples/s; the 802.11a receiver needs %g", spec, c.SampleRate, phy.SampleRate)
			}
			// Samples, not wall-clock time: a simulator runs faster than real
			// time, and a device that loses samples slower.
			limit := int64(-1)
			if limited {
				limit = int64(math.Round(seconds * d.Config().SampleRate))
			}
			return phyReceive(cmd.Context(), cmd.OutOrStdout(), d, device != "", limit)
		},
	}
	cmd.Flags().StringVar(&in, "in", "", "recording to decode (SigMF; .cs8, .cf32 and .cfile are taken to be at 20 Msps)")
	cmd.Flags().StringVar(&device, "device", "", "device to receive from live")
	cmd.Flags().Float64Var(&seconds, "seconds", 10, fmt.Sprintf("how many seconds of samples to decode, at most %d (default for --in: all of it)", maxPhyRxSeconds))
	cmd.Flags().StringVar(&profile, "profile", "", "calibration profile (m4sc calibrate) to apply: receive gains, and carrier offset, DC and I/Q correction of every sample")
	return cmd
}

// applyProfile sets a profile's receive gains on d (a device that has them) and returns
// d with its received samples corrected by the profile.
func applyProfile(a *app, p *calibration.Profile, path string, d radio.Device) (radio.Device, error) {
	if err := p.ApplyGains(d, radio.RX); err != nil {
		return nil, err
	}
	c := d.Config()
	a.log.Info("calibration profile applied", "profile", path, "ppm", p.FrequencyError.PPM,
		"carrier_offset_hz", p.FrequencyError.PPM*1e-6*c.Frequency, "dc", complex(p.DC.I, p.DC.Q),
		"iq_gain_db", p.IQ.GainDB, "iq_phase_deg", p.IQ.PhaseDeg, "rx_gains", p.Gains.RX)
	if c.Frequency != p.Frequency || c.SampleRate != p.SampleRate {
		a.log.Warn("profile measured at another tuning; its carrier offset is scaled to this frequency",
			"profile_freq", p.Frequency, "profile_rate", p.SampleRate, "freq", c.Frequency, "rate", c.SampleRate)
	}
	return p.CorrectRX(d), nil
}

// maxPhyRxSeconds bounds phy rx --seconds: a day of samples.
const maxPhyRxSeconds = 86400

// phyReceive decodes the frames in d's stream, limit samples of it (all, when
// limit < 0), one JSON line each, then a summary line. Cancelling ctx (Ctrl-C)
// ends the stream early but still flushes the receiver and prints the summary,
// marked "interrupted"; for a recording (not live) the interruption is then
// returned as an error.
func phyReceive(ctx context.Context, out io.Writer, d radio.Device, live bool, limit int64) error {
	rcv, err := phy.NewReceiver(phy.ReceiverConfig{})
	if err != nil {
		return err
	}
	rs, err := d.StartRX(ctx)
	if err != nil {
		return err
	}
	defer rs.Close()
	enc := json.NewEncoder(out)
	var frames []phy.Frame
	var total, decoded, fcsOK, failed int
	var samples int64
	emit := func(fs []phy.Frame) error {
		for _, f := range fs {
			l := rxLine{Start: f.Start, Rate: f.Rate, Length: f.Length, FCSOK: f.FCSOK, SNR: round2(f.SNR), CFO: math.Round(f.CFO)}
			total++
			if f.Err != nil {
				l.Error = f.Err.Error()
				failed++
			} else {
				l.PSDU = hex.EncodeToString(f.PSDU)
				e := round2(f.EVM)
				l.EVM = &e
				decoded++
				if f.FCSOK {
					fcsOK++
				}
			}
			if err := enc.Encode(l); err != nil {
				return err
			}
		}
		return nil
	}
	buf := make([]complex64, 1<<16)
	var interrupted error
	for limit < 0 || samples < limit {
		want := int64(len(buf))
		if limit >= 0 {
			want = min(want, limit-samples)
		}
		n, _, err := rs.Read(buf[:want])
		samples += int64(n)
		frames = rcv.Receive(frames[:0], buf[:n])
		if eerr := emit(frames); eerr != nil {
			return eerr
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && ctx.Err() != nil {
			interrupted = err
			break
		}
		if err != nil {
			return err
		}
	}
	if err := emit(rcv.Flush(frames[:0])); err != nil {
		return err
	}
	summary := map[string]any{"summary": true, "samples": samples, "frames": total, "decoded": decoded, "fcs_ok": fcsOK, "failed": failed}
	if interrupted != nil {
		summary["interrupted"] = true
	}
	if err := enc.Encode(summary); err != nil {
		return err
	}
	if interrupted != nil && !live {
		return fmt.Errorf("phy rx: interrupted after %d samples: %w", samples, interrupted)
	}
	return nil
}

func round2(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return math.Round(x*100) / 100
}

func newPhyPERCmd(a *app) *cobra.Command {
	var rates, snrs, tx, rx, profile string
	var frames, length int
	var perFrame bool
	cmd := &cobra.Command{
		Use:   "per [--rate LIST] [--snr LIST|FROM:TO:STEP] [--frames N]",
		Short: "Measure packet error rate against SNR: TX -> loopback device -> RX with real synchronisation",
		Long: `Sends frames of random PSDUs from one loopback device to another at each SNR and
counts those the receiver decodes with the right content. The receive device string
gets ",snr=X" appended at each point. The default link is loopback:hackrf on both ends,
an AWGN channel with the HackRF impairments; add ,channel=tdl-c,ds=100 or ,channel=epa
to --rx (and a carrier offset with ,ppm=...) for fading tables.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			rs, err := parseInts(rates)
			if err != nil {
				return usageErrorf("--rate: %v", err)
			}
			ss, err := parseRange(snrs)
			if err != nil {
				return usageErrorf("--snr: %v", err)
			}
			if frames < 1 {
				return usageErrorf("--frames: at least 1")
			}
			var list []phy.Rate
			for _, r := range rs {
				rate, err := phy.RateByMbps(r)
				if err != nil {
					return usageErrorf("--rate: %v", err)
				}
				list = append(list, rate)
			}
			prof, err := loadProfile(profile)
			if err != nil {
				return err
			}
			return runPERTable(cmd.Context(), a, cmd.OutOrStdout(), cmd.ErrOrStderr(), tx, rx, list, ss, frames, length, perFrame, prof)
		},
	}
	cmd.Flags().StringVar(&rates, "rate", "6,9,12,18,24,36,48,54", "rates in Mbit/s, comma separated")
	cmd.Flags().StringVar(&snrs, "snr", "0:30:1", "SNR points in dB: a list (3,5,8) or FROM:TO:STEP")
	cmd.Flags().IntVar(&frames, "frames", 1000, "frames per point")
	cmd.Flags().IntVar(&length, "length", 1000, "PSDU octets, FCS included")
	cmd.Flags().StringVar(&tx, "tx", "loopback:hackrf", "transmitting loopback device")
	cmd.Flags().StringVar(&rx, "rx", "loopback:hackrf", "receiving loopback device (snr is appended per point)")
	cmd.Flags().StringVar(&profile, "profile", "", "calibration profile (m4sc calibrate) whose carrier offset, DC and I/Q corrections the receiver applies; its gains are not applied, since the SNR axis is the simulator's setting at the default gains")
	cmd.Flags().BoolVar(&perFrame, "realisations", false, "give every frame its own receiving device, seeded by the frame number: an independent channel realisation per frame (for fading channels)")
	return cmd
}

func runPERTable(ctx context.Context, a *app, out, errOut io.Writer, txSpec, rxSpec string, rates []phy.Rate, snrs []float64, frames, length int, perFrame bool, prof *calibration.Profile) error {
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(out, "PER of %d-octet PSDUs, %d frames per point, %s -> %s\n", length, frames, txSpec, rxSpec)
	if prof != nil {
		fmt.Fprintf(out, "receiver corrected by a calibration profile: %.3f ppm, DC %.4f%+.4fi, I/Q %.3f dB %.2f deg\n",
			prof.FrequencyError.PPM, prof.DC.I, prof.DC.Q, prof.IQ.GainDB, prof.IQ.PhaseDeg)
	}
	correct := func(d radio.Device) radio.Device {
		if prof == nil {
			return d
		}
		return prof.CorrectRX(d)
	}
	fmt.Fprint(tw, "SNR dB\t")
	for _, r := range rates {
		fmt.Fprintf(tw, "%d Mbit/s\t", r.Mbps)
	}
	fmt.Fprintln(tw)
	bar := progress.New(errOut, "PER", int64(len(rates)*len(snrs)), true)
	for _, snr := range snrs {
		fmt.Fprintf(tw, "%g\t", snr)
		for _, r := range rates {
			m, ds, err := openDevices(ctx, a, txSpec, fmt.Sprintf("%s,snr=%g", rxSpec, snr))
			if err != nil {
				return err
			}
			tx, rx := ds[0], ds[1]
			pc := per.Config{Rate: r, PSDULen: length, Frames: frames, Seed: uint64(a.Config().Seed())}
			if perFrame {
				// A short random start keeps the per-frame reads small.
				pc.Lead = 2500
				pc.PerFrame = func(i int) (radio.Device, error) {
					d, err := m.Open(ctx, fmt.Sprintf("%s,snr=%g,seed=%d,offset=2000", rxSpec, snr, 1000003*uint64(a.Config().Seed())+uint64(i)+1))
					if err != nil {
						return nil, err
					}
					return correct(d), nil
				}
			}
			res, err := per.Run(ctx, tx, correct(rx), pc, nil)
			tx.Close()
			rx.Close()
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%.4f\t", res.PER)
			bar.Add(1)
		}
		fmt.Fprintln(tw)
	}
	bar.Finish()
	return tw.Flush()
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseRange reads "3,5,8" or "FROM:TO:STEP".
func parseRange(s string) ([]float64, error) {
	if strings.Contains(s, ":") {
		p := strings.Split(s, ":")
		if len(p) != 3 {
			return nil, fmt.Errorf("%q: want FROM:TO:STEP", s)
		}
		var v [3]float64
		for i, x := range p {
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not a number", x)
			}
			v[i] = f
		}
		if v[2] <= 0 || v[1] < v[0] || (v[1]-v[0])/v[2] > 1000 {
			return nil, fmt.Errorf("%q: want FROM <= TO and a positive STEP giving at most 1000 points", s)
		}
		var out []float64
		for x := v[0]; x <= v[1]+1e-9; x += v[2] {
			out = append(out, math.Round(x*1000)/1000)
		}
		return out, nil
	}
	var out []float64
	for _, f := range strings.Split(s, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, x)
	}
	return out, nil
}
