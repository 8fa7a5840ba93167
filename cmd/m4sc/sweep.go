package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/semantic"
	"github.com/spf13/cobra"
)

type sweepFlags struct {
	task, channel, snr, schemes, bandwidths, out, weights, codec string
	imageFormats                                                 string
	n, rate                                                      int
	doppler                                                      float64
	force                                                        bool
}

// maxSweepN bounds --n: a point of 100,000 items takes hours.
const maxSweepN = 100000

func newSweepCmd(a *app) *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep --task TASK [--channel awgn|epa|tdl-c] [--snr LO:HI:STEP] [--schemes semantic,digital,80211a] [--bandwidth 4,8,16] [--n N] --out DIR",
		Short: "Send held-out data through the whole chain over a simulated channel at a range of SNRs and tabulate each task's metric",
		Long: `sweep sends N held-out items (State of the Union sentences from 2001 on, test scenes,
test digits) of a task through the whole chain at each SNR and scheme: encode, code,
frame, the loopback channel on the samples (AWGN at the SNR, optional fading, a carrier
offset), phy's receiver finding the frames, decode. It writes DIR/sweep.csv, a
markdown table DIR/sweep.md and a plot DIR/sweep.png of the metric against SNR with 95%
intervals, and prints the table. The channel use per item (complex data symbols and
airtime, preambles and headers included) is in the CSV and the table's heading.
Scheme 80211a (separate coding: brotli text, PNG and JPEG images) runs at all eight
802.11a rates and adds "80211a best", the rate with the best metric at each SNR in
hindsight; its JPEG's budget is the semantic scheme's use at the largest --bandwidth.`,
		RunE: func(cmd *cobra.Command, args []string) error { return runSweep(cmd, a, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.task, "task", "text.transmit", "task: "+taskList())
	fl.StringVar(&f.channel, "channel", "awgn", "awgn, a loopback tap profile (epa, eva, etu, tdl-a..tdl-e), or hackrf (two HackRF Ones on a cable: crystal errors, phase noise, I/Q imbalance, DC offset, 8-bit ADC); a loopback: prefix is allowed")
	fl.Float64Var(&f.doppler, "doppler", 0, "maximum Doppler shift of a fading channel, Hz (EPA: 5)")
	fl.StringVar(&f.snr, "snr", "-5:25:5", "SNRs in dB, LO:HI:STEP")
	fl.StringVar(&f.schemes, "schemes", "semantic,digital", "schemes, comma-separated: semantic, digital, 80211a")
	fl.StringVar(&f.imageFormats, "image-formats", "png,jpeg", "80211a scheme's image codings, comma-separated: png, jpeg")
	fl.StringVar(&f.bandwidths, "bandwidth", "4,8,16", "semantic scheme's symbols per vector, comma-separated")
	fl.IntVar(&f.rate, "rate", 12, "digital scheme's 802.11a rate, Mbit/s")
	fl.IntVar(&f.n, "n", 100, fmt.Sprintf("held-out items per point, 1 to %d", maxSweepN))
	fl.StringVar(&f.out, "out", "", "directory for sweep.csv, sweep.md and sweep.png")
	fl.StringVar(&f.weights, "weights", "", "language model weights (default: the shipped model)")
	fl.StringVar(&f.codec, "codec", "", "channel codec weights (default: the shipped codec)")
	addForceFlag(cmd, &f.force)
	return cmd
}

func runSweep(cmd *cobra.Command, a *app, f *sweepFlags) error {
	task, err := llm.ParseTask(f.task)
	if err != nil {
		return usageErrorf("--task %q is not a task (tasks: %s)", f.task, taskList())
	}
	if f.n < 1 || f.n > maxSweepN {
		return usageErrorf("--n %d: want 1 to %d", f.n, maxSweepN)
	}
	snrs, err := parseRange(f.snr)
	if err != nil {
		return usageErrorf("--snr: %v", err)
	}
	if len(snrs) > 200 {
		return usageErrorf("--snr %s: %d points; at most 200", f.snr, len(snrs))
	}
	schemes, err := parseList("--schemes", f.schemes, semantic.ParseScheme)
	if err != nil {
		return err
	}
	ks, err := parseInts(f.bandwidths)
	if err != nil {
		return usageErrorf("--bandwidth: %v", err)
	}
	for _, k := range ks {
		if !slices.Contains(semantic.Bandwidths[:], k) {
			return usageErrorf("--bandwidth %d: the codec has %v symbols per vector", k, semantic.Bandwidths)
		}
	}
	formats, err := parseList("--image-formats", f.imageFormats, semantic.ParseImageFormat)
	if err != nil {
		return err
	}
	rate, err := phy.RateByMbps(f.rate)
	if err != nil {
		return usageErrorf("--rate: %v", err)
	}
	if f.doppler < 0 || f.doppler > 1000 {
		return usageErrorf("--doppler %g: want 0 to 1000 Hz", f.doppler)
	}
	if f.out == "" {
		return usageErrorf("--out: a directory for the results is required")
	}
	for _, name := range []string{"sweep.csv", "sweep.md", "sweep.png"} {
		if err := checkOutput("--out", filepath.Join(f.out, name), f.force); err != nil {
			return err
		}
	}
	ch, err := loadChain(f.weights, f.codec)
	if err != nil {
		return err
	}
	data, _, err := loadData(a)
	if err != nil {
		return err
	}
	errOut := cmd.ErrOrStderr()
	began, last := time.Now(), time.Now()
	channel := strings.TrimPrefix(f.channel, "loopback:")
	o := semantic.SweepOptions{Task: task, Channel: channel, ImageFormats: formats, Doppler: f.doppler, SNRs: snrs, Schemes: schemes, Bandwidths: ks,
		Rate: rate, N: f.n, Seed: uint64(a.Config().Seed()),
		Progress: func(done, total int) {
			if time.Since(last) > 5*time.Second || done == total {
				fmt.Fprintf(errOut, "sweep: %d/%d messages after %s\n", done, total, time.Since(began).Round(time.Second))
				last = time.Now()
			}
		}}
	points, err := semantic.Sweep(cmd.Context(), ch, data, o)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	var csvBuf bytes.Buffer
	if err := semantic.WriteSweepCSV(&csvBuf, points); err != nil {
		return err
	}
	bounds, err := semantic.TextBounds(ch.Model, data, o, points)
	if err != nil {
		return err
	}
	md := semantic.SweepMarkdown(points)
	if len(bounds) > 0 {
		md += "\n" + semantic.BoundsMarkdown(bounds)
	}
	command := fmt.Sprintf("m4sc sweep --task %s --channel %s --snr %s --schemes %s --bandwidth %s --rate %d --n %d", f.task, f.channel, f.snr, f.schemes, f.bandwidths, f.rate, f.n)
	if f.doppler > 0 {
		command += fmt.Sprintf(" --doppler %g", f.doppler)
	}
	if task.Image() && slices.Contains(schemes, semantic.SchemeWiFi) {
		command += " --image-formats " + f.imageFormats
	}
	mdFile := "`" + command + " --out DIR`\n\n" + md
	for name, body := range map[string][]byte{"sweep.csv": csvBuf.Bytes(), "sweep.md": []byte(mdFile)} {
		if err := writeOutput("--out", filepath.Join(f.out, name), f.force, func(w io.Writer) error { _, err := w.Write(body); return err }); err != nil {
			return err
		}
	}
	if err := semantic.PlotSweep(points, fmt.Sprintf("%s over %s", task, f.channel), filepath.Join(f.out, "sweep.png"), bounds...); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintln(out, md)
	enc := json.NewEncoder(out)
	return enc.Encode(map[string]any{"points": len(points), "out": f.out, "seconds": time.Since(began).Round(time.Second).Seconds()})
}

// parseList reads a comma-separated flag value with parse.
func parseList[T any](flag, s string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, e := range strings.Split(s, ",") {
		v, err := parse(strings.TrimSpace(e))
		if err != nil {
			return nil, usageErrorf("%s: %v", flag, err)
		}
		out = append(out, v)
	}
	return out, nil
}
