package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/devices"
	"github.com/m4sc/m4sc/radio/sigmf"
	"github.com/m4sc/m4sc/sharing"
)

type shareFlags struct {
	scenario, snr, channel, out, weights, codec, users, tx, serve, replay string
	rx                                                                    []string
	n, copyUsers                                                          int
	overlap, threshold                                                    float64
	force, record                                                         bool
}

// maxShareN bounds --n.
const maxShareN = 10000

// Files of a share directory with --record and --replay.
const (
	shareResults    = "results.jsonl" // the lines and the summary, as printed
	shareRecordings = "recordings"    // the run's SigMF recordings (sharing.RunOptions.Record)
	shareReplayDir  = "replay"        // a replay's outputs, by default
)

func newShareCmd(a *app) *cobra.Command {
	var f shareFlags
	cmd := &cobra.Command{
		Use:   "share --scenario multicast|overlap|text --users K[,K...] [--overlap P] [--snr LO:HI] [--channel SPEC] [--n N] [--tx DEV --rx DEV1,DEV2,...] [--serve ADDR] [--record] --out DIR | share --replay DIR [--rx file:PATH,...] [--out DIR2]",
		Short: "Serve K users in one transmission: what they share sent once, the rest to each, against unicast",
		Long: `share runs N rounds of multi-user semantic sharing over the loopback simulator: each
round draws the users' contents and SNRs (uniform in LO:HI dB), splits their semantics
into public and private parts (package sharing), sends one burst on one air to K
receivers, each with its own channel (SNR, fading, oscillator error), which find their
frames in the samples and decode their tasks; then it sends each user its own unicast
semantic transmission at its own SNR and task-aware bandwidth through the same chain,
and its content by unicast 802.11a (brotli text or a PNG image, the model at the
receiver) at the best rate in hindsight for its channel: the rates tried from 54
Mbit/s down over fresh realisations of a channel like its own, the highest that
delivers every frame kept (6 Mbit/s when none does).

A public part is coded for the weakest member of its group and goes out in one copy
for every --copy-users members (default 4: a group of 8 gets 2 copies, at most 4), on
other subcarriers of the same frame; each receiver combines the copies.

Scenarios: multicast (one test scene; users 0-3 of every eight ask different vqa
questions, 4-6 caption, 7 reconstructs), overlap (K related scenes with a fraction P of
their objects in common, the same tasks), text (K consecutive sentences of one State of
the Union address, text.transmit).

It prints one JSON line per user and round and, last, the summary as one JSON object
(airtime and complex data symbols per round: shared, unicast semantic and unicast
802.11a; each user's metric under the three with 95% intervals), and writes
DIR/share.csv and DIR/share.md.

With several user counts (--users 1,2,4,8,16,32) it runs the rounds for each K in
turn, printing each K's lines and then its summary, writes every K's rows to
DIR/share.csv and sections to DIR/share.md, under a table of airtime against K, and
plots airtime per round against K (shared, unicast semantic, unicast 802.11a at the
best rate per user, log-log) into DIR/share-users.png.

--tx and --rx name the devices instead of the loopback devices built from --channel,
the drawn SNRs and oscillator errors: one transmitter and one receiver per user
(loopback strings, HackRF serials; see m4sc devices; recordings are for --replay).
--rx takes a comma-separated list, or may be repeated; an item with '=' belongs to
the device before it, so "--rx loopback,snr=3,loopback,snr=12" is two devices. Every
transmission goes from --tx to the receivers it is for; each user reports the SNR its
receiver measured in the round before (the first round: drawn from --snr).

--serve ADDR serves the live monitor of m4sc trial run --serve while the rounds run
(open http://ADDR/): the spectrum and waterfall of what the receivers hear, the
constellation and per-subcarrier SNR of the latest frame, every user's decoded
message under each scheme (shared, unicast, unicast 80211a) labelled with the user,
and the running metric per user and scheme. The monitor drops display updates when
it falls behind; the rounds never wait for it.

--record (one user count) also writes DIR/results.jsonl, the lines and summary as
printed, and SigMF recordings of the shared bursts under DIR/recordings:
air.sigmf-meta/-data, what the transmitter sent (each round's burst followed by
4000 samples, 200 us, of quiet), and user-00, user-01, ... (one per user), what each
user's receiver captured of each round, on the same timeline as the air. Samples are
cf32_le at 20 Msps. The metadata (global key m4sc:share) names the scenario, users,
rounds, seed, overlap, SNR range, channel or devices, the user (in a user's
recording) and the m4sc version (core:recorder); the air's annotation of each round
keeps the schedule the receivers were given and each user's unicast baselines, a
user's annotation of each round the stretch its receiver captured.

--replay DIR runs only the receive side again, from the recordings of a run made
with --record --out DIR, and prints the same lines and summary; the unicast
baselines, separate transmissions, are the run's. It writes share.csv, share.md and
results.jsonl to --out (default DIR/replay) and says on stderr whether results.jsonl
is identical to the run's. --rx names every user's recording instead, as file
devices in user order: "--rx file:DIR/recordings/user-00.sigmf-meta,file:cap.sigmf-meta".
A recording that is not the run's own recording of that user (the air recording
passed through another tool's channel; a capture of the air by another receiver,
such as hackrf_transfer's int8 as file:capture.cs8,rate=20M or
file:capture.iq,raw=cs8,rate=20M) is decoded whole and its frames are put to rounds
by where they lie against the air; stderr gives the offset found and the frames
heard. Recordings of another run or user, cut short, missing or holding nothing of
the run are refused, naming the recording and what is wrong.`,
		RunE: func(cmd *cobra.Command, args []string) error { return runShare(cmd, a, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.scenario, "scenario", "multicast", "multicast, overlap or text")
	fl.StringVar(&f.users, "users", "8", fmt.Sprintf("users K, 1 to %d, or a comma-separated list of counts (plotted against each other)", sharing.MaxUsers))
	fl.Float64Var(&f.overlap, "overlap", 0.9, "overlap scenario: fraction of objects in common, 0 to 1")
	fl.StringVar(&f.snr, "snr", "0:15", "each user's SNR is drawn uniformly from LO:HI dB")
	fl.StringVar(&f.channel, "channel", "awgn", "awgn, a loopback tap profile (epa, eva, etu, tdl-a..tdl-e), or a loopback device string without air and snr keys")
	fl.IntVar(&f.n, "n", 20, fmt.Sprintf("rounds, 1 to %d", maxShareN))
	fl.Float64Var(&f.threshold, "threshold", sharing.DefaultThreshold, "RMS difference per real within which vectors are shared")
	fl.IntVar(&f.copyUsers, "copy-users", sharing.DefaultCopyUsers, fmt.Sprintf("a public frame carries one copy of its symbols per this many members (1 to %d copies, combined at each receiver); 0: one copy", sharing.MaxCopies))
	fl.StringVar(&f.out, "out", "", "directory for share.csv, share.md and (several K) share-users.png")
	fl.StringVar(&f.tx, "tx", "", "transmitting device (with --rx; default: loopback devices built from --channel)")
	fl.StringArrayVar(&f.rx, "rx", nil, "receiving devices, one per user: DEV1,DEV2,... (repeatable)")
	fl.StringVar(&f.weights, "weights", "", "language model weights (default: the shipped model)")
	fl.StringVar(&f.codec, "codec", "", "channel codec weights (default: the shipped codec)")
	fl.BoolVar(&f.record, "record", false, "also write DIR/results.jsonl and SigMF recordings of the air and of each user's receiver under DIR/recordings")
	fl.StringVar(&f.replay, "replay", "", "run the receivers again from the recordings of a run made with --record --out DIR")
	addServeFlag(cmd, &f.serve)
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
	if f.replay != "" {
		return runShareReplay(cmd, a, f)
	}
	sc, err := sharing.ParseScenario(f.scenario)
	if err != nil {
		return usageErrorf("--scenario: %v", err)
	}
	ks, err := parseUsers(f.users)
	if err != nil {
		return err
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
	if f.copyUsers < 0 || f.copyUsers > sharing.MaxUsers {
		return usageErrorf("--copy-users %d: want 0 (one copy) to %d", f.copyUsers, sharing.MaxUsers)
	}
	lo, hi, err := parseSNRRange(f.snr)
	if err != nil {
		return err
	}
	if f.out == "" {
		return usageErrorf("--out: a directory for the results is required")
	}
	outputs := []string{"share.csv", "share.md"}
	if len(ks) > 1 {
		outputs = append(outputs, "share-users.png")
	}
	if f.record {
		if len(ks) > 1 {
			return usageErrorf("--record with --users %q: record one user count at a time", f.users)
		}
		outputs = append(outputs, shareResults, filepath.Join(shareRecordings, sharing.RecordingAir+sigmf.ExtMeta))
		for u := range ks[0] {
			outputs = append(outputs, filepath.Join(shareRecordings, sharing.RecordingUser(u)+sigmf.ExtMeta))
		}
	}
	for _, name := range outputs {
		if err := checkOutput("--out", filepath.Join(f.out, name), f.force); err != nil {
			return err
		}
	}
	mgr, err := newManager(a)
	if err != nil {
		return err
	}
	rx, err := shareDevices(cmd, mgr, f, ks)
	if err != nil {
		return err
	}
	var watch sharing.Watcher
	if f.serve != "" {
		title := "share " + string(sc)
		m, stop, err := startMonitor(cmd, f.serve, title)
		if err != nil {
			return err
		}
		defer stop()
		watch = shareWatch{m: m, title: title}
	}
	ch, err := loadChain(f.weights, f.codec)
	if err != nil {
		return err
	}
	o := sharing.RunOptions{Scenario: sc, Overlap: f.overlap, SNRLo: lo, SNRHi: hi, Channel: f.channel, Rounds: f.n,
		Seed: uint64(a.Config().Seed()), Split: sharing.Options{Threshold: f.threshold}, Open: mgr.Open, TX: f.tx, RX: rx,
		Watch: watch}
	if f.record {
		o.Record, o.Version = filepath.Join(f.out, shareRecordings), versionText()
	}
	if f.threshold == 0 {
		o.Split.Threshold = -1 // identical vectors only
	}
	if o.Split.CopyUsers = f.copyUsers; f.copyUsers == 0 {
		o.Split.CopyUsers = -1 // one copy
	}
	if sc == sharing.ScenarioText {
		data, _, err := loadData(a)
		if err != nil {
			return err
		}
		o.Sentences = data.Sentences[dataset.Test]
	}
	var results bytes.Buffer
	out := json.NewEncoder(io.MultiWriter(cmd.OutOrStdout(), &results))
	var sums []*sharing.Summary
	for i, k := range ks {
		o.Users = k
		if i > 0 {
			// A fresh manager, so each K runs on fresh airs, as it would alone.
			if mgr, err = newManager(a); err != nil {
				return err
			}
			o.Open = mgr.Open
		}
		sum, err := sharing.Run(cmd.Context(), ch, o, func(l sharing.Line) error { return out.Encode(l) })
		if err != nil {
			return err
		}
		if err := out.Encode(sum); err != nil {
			return err
		}
		sums = append(sums, sum)
	}
	if f.record {
		if err := os.WriteFile(filepath.Join(f.out, shareResults), results.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return writeShareOutputs(f.out, sums, "")
}

// writeShareOutputs writes dir/share.csv and dir/share.md, with note (if any) under
// share.md's first line, and for several summaries dir/share-users.png.
func writeShareOutputs(dir string, sums []*sharing.Summary, note string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fh, err := os.Create(filepath.Join(dir, "share.csv"))
	if err != nil {
		return err
	}
	if err := sharing.WriteCSV(fh, sums...); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Close(); err != nil {
		return err
	}
	var md strings.Builder
	if len(sums) > 1 {
		md.WriteString(sharing.UsersMarkdown(sums))
		md.WriteString("\n![airtime against K](share-users.png)\n\n")
		if err := sharing.PlotUsers(sums, filepath.Join(dir, "share-users.png")); err != nil {
			return err
		}
	}
	for _, s := range sums {
		if len(sums) > 1 {
			fmt.Fprintf(&md, "## K = %d\n\n", s.Users)
		}
		m := sharing.Markdown(s)
		if note != "" {
			head, rest, _ := strings.Cut(m, "\n\n")
			m = head + "\n\n" + note + "\n\n" + rest
		}
		md.WriteString(m)
		if len(sums) > 1 {
			md.WriteString("\n")
		}
	}
	return os.WriteFile(filepath.Join(dir, "share.md"), []byte(md.String()), 0o644)
}

// runShare with --replay: the receivers of a recorded run again, from its recordings
// or from the recordings --rx names.
func runShareReplay(cmd *cobra.Command, a *app, f *shareFlags) error {
	for _, name := range []string{"scenario", "users", "overlap", "snr", "channel", "n", "threshold", "copy-users", "tx", "record", "serve"} {
		if cmd.Flags().Changed(name) {
			return usageErrorf("--%s with --replay: the recording says what the run was", name)
		}
	}
	recs := filepath.Join(f.replay, shareRecordings)
	if _, err := os.Stat(filepath.Join(recs, sharing.RecordingAir+sigmf.ExtMeta)); err != nil {
		recs = f.replay // a directory of recordings itself
	}
	if _, err := os.Stat(filepath.Join(recs, sharing.RecordingAir+sigmf.ExtMeta)); err != nil {
		return usageErrorf("--replay %s: no %s%s there or in %s: give the --out directory of m4sc share --record", f.replay,
			sharing.RecordingAir, sigmf.ExtMeta, filepath.Join(f.replay, shareRecordings))
	}
	// The run's directory: --replay, or the one above when --replay names its
	// recordings directory itself.
	runDir := f.replay
	if recs == f.replay && filepath.Base(filepath.Clean(f.replay)) == shareRecordings {
		runDir = filepath.Dir(filepath.Clean(f.replay))
	}
	outDir := f.out
	if outDir == "" {
		outDir = filepath.Join(runDir, shareReplayDir)
	}
	for _, name := range []string{"share.csv", "share.md", shareResults} {
		if err := checkOutput("--out", filepath.Join(outDir, name), f.force); err != nil {
			return err
		}
	}
	mgr, err := newManager(a)
	if err != nil {
		return err
	}
	var rx []string
	for _, list := range f.rx {
		ds, err := sharing.SplitDevices(list)
		if err != nil {
			return usageErrorf("--rx: %v", err)
		}
		rx = append(rx, ds...)
	}
	for i, d := range rx {
		if err := mgr.Check(d); err != nil {
			return usageErrorf("--rx: recording %d: %v", i+1, err)
		}
	}
	ch, err := loadChain(f.weights, f.codec)
	if err != nil {
		return err
	}
	sentences := func() ([]dataset.Sentence, error) {
		data, _, err := loadData(a)
		if err != nil {
			return nil, err
		}
		return data.Sentences[dataset.Test], nil
	}
	var results bytes.Buffer
	out := json.NewEncoder(io.MultiWriter(cmd.OutOrStdout(), &results))
	sum, caps, err := sharing.Replay(cmd.Context(), ch, sharing.ReplayOptions{Dir: recs, RX: rx, Open: mgr.Open, Sentences: sentences},
		func(l sharing.Line) error { return out.Encode(l) })
	if err != nil {
		return err
	}
	if err := out.Encode(sum); err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outDir, shareResults), results.Bytes(), 0o644); err != nil {
		return err
	}
	errOut := cmd.ErrOrStderr()
	note := "Replayed from " + recs + "."
	for _, c := range caps {
		if c.Foreign {
			fmt.Fprintf(errOut, "replay: user %d from %s: not its own recording; the air's first sample at its sample %d, %d frames of the run heard\n",
				c.User, c.Recording, c.Offset, c.Frames)
			note += fmt.Sprintf(" User %d from %s (the air at its sample %d).", c.User, c.Recording, c.Offset)
		}
	}
	stored := filepath.Join(runDir, shareResults)
	switch old, err := os.ReadFile(stored); {
	case err != nil:
		fmt.Fprintf(errOut, "replay: %d users, %d rounds; no %s to compare with\n", sum.Users, sum.Rounds, stored)
	case bytes.Equal(old, results.Bytes()):
		fmt.Fprintf(errOut, "replay: %s is identical to %s\n", filepath.Join(outDir, shareResults), stored)
	default:
		fmt.Fprintf(errOut, "replay: %s differs from %s in %d of %d lines\n", filepath.Join(outDir, shareResults), stored,
			differentLines(old, results.Bytes()), strings.Count(results.String(), "\n"))
	}
	return writeShareOutputs(outDir, []*sharing.Summary{sum}, note)
}

// differentLines counts the lines in which a and b differ, line by line.
func differentLines(a, b []byte) int {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	n := 0
	for i := range max(len(la), len(lb)) {
		if i >= len(la) || i >= len(lb) || la[i] != lb[i] {
			n++
		}
	}
	return n
}

// parseUsers reads --users: one count or a comma-separated list of distinct counts.
func parseUsers(s string) ([]int, error) {
	var ks []int
	for _, item := range strings.Split(s, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(item))
		switch {
		case err != nil:
			return nil, usageErrorf("--users %q: want a count K or a list K1,K2,... of counts", s)
		case k < 1 || k > sharing.MaxUsers:
			return nil, usageErrorf("--users %d: want 1 to %d", k, sharing.MaxUsers)
		case slices.Contains(ks, k):
			return nil, usageErrorf("--users %q: %d twice", s, k)
		}
		ks = append(ks, k)
	}
	return ks, nil
}

// shareDevices reads --tx and --rx: nothing, or a transmitter and one receiver per
// user, every one a device string the manager can open.
func shareDevices(cmd *cobra.Command, mgr *devices.Manager, f *shareFlags, ks []int) ([]string, error) {
	var rx []string
	for _, list := range f.rx {
		ds, err := sharing.SplitDevices(list)
		if err != nil {
			return nil, usageErrorf("--rx: %v", err)
		}
		rx = append(rx, ds...)
	}
	switch {
	case f.tx == "" && len(rx) == 0:
		return nil, nil
	case f.tx == "":
		return nil, usageErrorf("--rx without --tx: name the transmitting device too")
	case len(rx) == 0:
		return nil, usageErrorf("--tx without --rx: name one receiving device per user")
	case len(ks) > 1:
		return nil, usageErrorf("--rx names %d devices, one per user, so --users takes one count, not %q", len(rx), f.users)
	case cmd.Flags().Changed("channel"):
		return nil, usageErrorf("--channel with --tx and --rx: the devices carry their own channels (loopback keys snr, channel, ppm, ...)")
	}
	if err := sharing.CheckDevices(f.tx, rx, ks[0]); err != nil {
		return nil, usageErrorf("--tx/--rx: %v", err)
	}
	if err := mgr.Check(f.tx); err != nil {
		return nil, usageErrorf("--tx: %v", err)
	}
	for i, d := range rx {
		if sp, err := radio.ParseSpec(d); err == nil && sp.Driver == "file" {
			return nil, usageErrorf("--rx: device %d, %s, is a recording: a run needs receivers that hear its air; recordings are played with --replay DIR --rx file:...", i+1, radio.QuoteSpec(d))
		}
		if err := mgr.Check(d); err != nil {
			return nil, usageErrorf("--rx: device %d: %v", i+1, err)
		}
	}
	return rx, nil
}
