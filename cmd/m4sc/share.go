package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/sharing"
)

type shareFlags struct {
	scenario, snr, channel, out, weights, codec string
	users, n                                    int
	overlap, threshold                          float64
	force                                       bool
}

// maxShareN bounds --n.
const maxShareN = 10000

func newShareCmd(a *app) *cobra.Command {
	var f shareFlags
	cmd := &cobra.Command{
		Use:   "share --scenario multicast|overlap|text --users K [--overlap P] [--snr LO:HI] [--channel SPEC] [--n N] --out DIR",
		Short: "Serve K users in one transmission: what they share sent once, the rest to each, against unicast",
		Long: `share runs N rounds of multi-user semantic sharing over the loopback simulator: each
round draws the users' contents and SNRs (uniform in LO:HI dB), splits their semantics
into public and private parts (package sharing), sends one burst on one air to K
receivers, each with its own channel (SNR, fading, oscillator error), which find their
frames in the samples and decode their tasks; then it sends each user its own unicast
semantic transmission at its own SNR and task-aware bandwidth through the same chain.

Scenarios: multicast (one test scene; users 0-3 of every eight ask different vqa
questions, 4-6 caption, 7 reconstructs), overlap (K related scenes with a fraction P of
their objects in common, the same tasks), text (K consecutive sentences of one State of
the Union address, text.transmit).

It prints one JSON line per user and round and, last, the summary as one JSON object
(airtime and complex data symbols per round, shared and unicast; each user's metric
under both with 95% intervals), and writes DIR/share.csv and DIR/share.md.`,
		RunE: func(cmd *cobra.Command, args []string) error { return runShare(cmd, a, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.scenario, "scenario", "multicast", "multicast, overlap or text")
	fl.IntVar(&f.users, "users", 8, fmt.Sprintf("users K, 1 to %d", sharing.MaxUsers))
	fl.Float64Var(&f.overlap, "overlap", 0.9, "overlap scenario: fraction of objects in common, 0 to 1")
	fl.StringVar(&f.snr, "snr", "0:15", "each user's SNR is drawn uniformly from LO:HI dB")
	fl.StringVar(&f.channel, "channel", "awgn", "awgn, a loopback tap profile (epa, eva, etu, tdl-a..tdl-e), or a loopback device string without air and snr keys")
	fl.IntVar(&f.n, "n", 20, fmt.Sprintf("rounds, 1 to %d", maxShareN))
	fl.Float64Var(&f.threshold, "threshold", sharing.DefaultThreshold, "RMS difference per real within which vectors are shared")
	fl.StringVar(&f.out, "out", "", "directory for share.csv and share.md")
	fl.StringVar(&f.weights, "weights", "", "language model weights (default: the shipped model)")
	fl.StringVar(&f.codec, "codec", "", "channel codec weights (default: the shipped codec)")
	addForceFlag(cmd, &f.force)
	return cmd
}

// parseSNRRange reads LO:HI in dB.
func parseSNRRange(s string) (lo, hi float64, err error) {
	a, b, ok := strings.Cut(s, ":")
	if ok {
		if lo, err = strconv.ParseFloat(a, 64); err == nil {
			hi, err = strconv.ParseFloat(b, 64)
		}
	}
	if !ok || err != nil || math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || lo > hi || lo < -20 || hi > 60 {
		return 0, 0, usageErrorf("--snr %q: want LO:HI in dB, -20 <= LO <= HI <= 60", s)
	}
	return lo, hi, nil
}

func runShare(cmd *cobra.Command, a *app, f *shareFlags) error {
	sc, err := sharing.ParseScenario(f.scenario)
	if err != nil {
		return usageErrorf("--scenario: %v", err)
	}
	if f.users < 1 || f.users > sharing.MaxUsers {
		return usageErrorf("--users %d: want 1 to %d", f.users, sharing.MaxUsers)
	}
	if !(f.overlap >= 0 && f.overlap <= 1) {
		return usageErrorf("--overlap %v: want a fraction from 0 to 1", f.overlap)
	}
	if f.n < 1 || f.n > maxShareN {
		return usageErrorf("--n %d: want 1 to %d", f.n, maxShareN)
	}
	if !(f.threshold >= 0 && f.threshold <= 4) {
		return usageErrorf("--threshold %v: want 0 to 4", f.threshold)
	}
	lo, hi, err := parseSNRRange(f.snr)
	if err != nil {
		return err
	}
	if f.out == "" {
		return usageErrorf("--out: a directory for the results is required")
	}
	for _, name := range []string{"share.csv", "share.md"} {
		if err := checkOutput("--out", filepath.Join(f.out, name), f.force); err != nil {
			return err
		}
	}
	mgr, err := newManager(a)
	if err != nil {
		return err
	}
	ch, err := loadChain(f.weights, f.codec)
	if err != nil {
		return err
	}
	o := sharing.RunOptions{Scenario: sc, Users: f.users, Overlap: f.overlap, SNRLo: lo, SNRHi: hi, Channel: f.channel, Rounds: f.n,
		Seed: uint64(a.Config().Seed()), Split: sharing.Options{Threshold: f.threshold}, Open: mgr.Open}
	if f.threshold == 0 {
		o.Split.Threshold = -1 // identical vectors only
	}
	if sc == sharing.ScenarioText {
		cacheDir, err := a.Config().CacheDir()
		if err != nil {
			return err
		}
		data, err := llm.LoadData(cacheDir)
		if err != nil {
			return fmt.Errorf("%w (run m4sc data fetch first)", err)
		}
		o.Sentences = data.Sentences[dataset.Test]
	}
	out := json.NewEncoder(cmd.OutOrStdout())
	sum, err := sharing.Run(cmd.Context(), ch, o, func(l sharing.Line) error { return out.Encode(l) })
	if err != nil {
		return err
	}
	if err := out.Encode(sum); err != nil {
		return err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	fh, err := os.Create(filepath.Join(f.out, "share.csv"))
	if err != nil {
		return err
	}
	if err := sharing.WriteCSV(fh, sum); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Close(); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(f.out, "share.md"), []byte(sharing.Markdown(sum)), 0o644)
}
