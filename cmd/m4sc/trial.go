package main

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/trial"
	"github.com/spf13/cobra"
)

type trialFlags struct {
	out, weights, codec string
	ci                  bool
	beam                int
	// trial tx and rx
	device, air string
	pause, idle time.Duration
	wait        time.Duration
	gap         int
	serve       string
	// trial run and resume
	duration, stall time.Duration
	// trial score
	format     string
	rate, freq float64
}

func newTrialCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trial",
		Short: "Run trial plans (field trials, lab runs, simulated CI) into a directory with recordings, results and a report; resume, replay",
		Long: `A trial plan (YAML; see examples/trial-loopback.yaml and "go doc
github.com/m4sc/m4sc/trial") names the transmitter and receiver, an optional
calibration, and steps: a task and its inputs, sent with each scheme at each SNR.
"m4sc trial run PLAN --out DIR" executes it and writes DIR: the resolved plan with
the m4sc version and the model's hash, the calibration profile, a SigMF recording of
the receive side of each run, results.jsonl (one line per input and run), timing.jsonl,
and report.md and report.html with plots. Ctrl-C leaves a valid directory that
"m4sc trial resume DIR" continues. "m4sc trial replay DIR" decodes the recordings
again and compares with the stored results; "m4sc trial score PLAN RECORDING"
scores a recording made elsewhere (hackrf_transfer, any SigMF writer) of what
"m4sc trial tx PLAN" sent.

Robustness: a receiver that delivers no samples for --stall (default 5s) ends its
run with the reason in results.jsonl (lost_reason, error) and the trial goes on; a
full disk or an unwritable directory stops the trial with an error naming the file
and the cause, the runs before it intact for "trial resume". A plan with a soak
block (examples/soak-loopback.yaml) repeats its steps for a time and writes the
process's memory, goroutines and open files to soak.jsonl every minute; its report
says whether memory stayed flat and every frame sent was accounted for.`,
	}
	cmd.AddCommand(newTrialRunCmd(a), newTrialResumeCmd(a), newTrialReplayCmd(a), newTrialReportCmd(a), newTrialCheckCmd(a),
		newTrialTXCmd(a), newTrialRXCmd(a), newTrialScoreCmd(a))
	return cmd
}

func addTrialModelFlags(cmd *cobra.Command, f *trialFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.weights, "weights", "", "language model weights (default: the shipped model)")
	fl.StringVar(&f.codec, "codec", "", "channel codec weights (default: the shipped codec)")
	fl.IntVar(&f.beam, "beam", 0, fmt.Sprintf("beam width of text decoding, 0 to %d", llm.MaxBeam))
}

// trialOptions loads the chain and sets up what every trial verb shares.
func trialOptions(cmd *cobra.Command, a *app, f *trialFlags, planDir string) (trial.Options, error) {
	if f.beam < 0 || f.beam > llm.MaxBeam {
		return trial.Options{}, usageErrorf("--beam %d: want 0 to %d", f.beam, llm.MaxBeam)
	}
	ch, err := loadChain(f.weights, f.codec)
	if err != nil {
		return trial.Options{}, err
	}
	cfg := a.Config()
	var kv []radio.Param
	lb := cfg.Loopback()
	for _, k := range slices.Sorted(maps.Keys(lb)) {
		kv = append(kv, radio.Param{Key: k, Value: lb[k]})
	}
	var once sync.Once
	var data *llm.Data
	var dataErr error
	errOut := cmd.ErrOrStderr()
	return trial.Options{Chain: ch, PlanDir: planDir, Version: versionText(), Loopback: kv, Beam: f.beam, Log: a.log, StallTimeout: f.stall,
		Data: func() (*llm.Data, error) {
			once.Do(func() {
				dir, err := cfg.CacheDir()
				if err != nil {
					dataErr = err
					return
				}
				if data, dataErr = llm.LoadData(dir); dataErr != nil {
					dataErr = fmt.Errorf("%w (run m4sc data fetch first)", dataErr)
				}
			})
			return data, dataErr
		},
		Progress: func(done, total int) {
			if total == 0 {
				fmt.Fprintf(errOut, "trial: %d runs\n", done) // a soak: counted by time
				return
			}
			fmt.Fprintf(errOut, "trial: %d/%d runs\n", done, total)
		},
	}, nil
}

// addStallFlag adds --stall to the verbs that receive from a device.
func addStallFlag(cmd *cobra.Command, f *trialFlags) {
	cmd.Flags().DurationVar(&f.stall, "stall", radio.DefaultStallTimeout,
		"end a run when the receiver delivers no samples for this long (a device that stopped streaming); negative: never")
}

func newTrialRunCmd(a *app) *cobra.Command {
	var f trialFlags
	cmd := &cobra.Command{
		Use:   "run (PLAN | --ci) [--out DIR]",
		Short: "Execute a trial plan into a new trial directory",
		Long: `run executes PLAN into --out DIR (which must not exist or be empty) and
writes the report. --ci runs the embedded CI plan on the loopback (every task, the
three schemes, a few SNRs and a fading channel) and exits non-zero when a figure is
below the plan's thresholds; without --out its directory is a new temporary one.

A receiver that delivers nothing for --stall ends its run: the run's lines in
results.jsonl give the reason ("device stopped streaming after N samples") and the
trial goes on with the next run. A file that cannot be written (disk full,
directory not writable) stops the trial with an error naming it and the cause; what
was written before stays valid and "trial resume DIR" continues once it can be
written.

A soak (a plan with a soak block, or any plan with --duration) repeats the plan's
runs, cycle after cycle with fresh seeds, until its duration has passed, keeping
the frames to the plan's duty of the air, and writes DIR/soak.jsonl (resident
memory from /proc/self/status, goroutines, open files from /proc/self/fd, frames
sent and lost) once every soak.stats (a minute). Its report says whether resident
memory stayed within 10% of its value after the first minute (at the end and along
its trend line; the highest sample is reported as well), whether goroutines or open
files grew, and whether every frame sent is in results.jsonl as decoded or lost
with a reason; the command exits non-zero when one of those fails. For example:
  m4sc trial run examples/soak-loopback.yaml --out soak-1h
  m4sc trial run examples/soak-loopback.yaml --duration 10m --out soak-10m`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runTrial(cmd, a, &f, args) },
	}
	cmd.Flags().StringVar(&f.out, "out", "", "trial directory to write")
	cmd.Flags().BoolVar(&f.ci, "ci", false, "run the embedded CI plan and check its thresholds")
	cmd.Flags().DurationVar(&f.duration, "duration", 0, "run the plan as a soak of this length (overrides soak.duration; 0: as the plan says)")
	addStallFlag(cmd, &f)
	addServeFlag(cmd, &f.serve)
	addTrialModelFlags(cmd, &f)
	return cmd
}

// errThresholds is the error of a trial whose figures fell below its thresholds.
var errThresholds = errors.New("trial: below the plan's thresholds")

// errSoak is the error of a soak that did not hold steady or lost track of frames.
var errSoak = errors.New("trial: soak failed")

func runTrial(cmd *cobra.Command, a *app, f *trialFlags, args []string) error {
	var src []byte
	planDir := "."
	switch {
	case f.ci && len(args) > 0:
		return usageErrorf("give a PLAN or --ci, not both")
	case f.ci:
		src = trial.CIPlan()
		if f.out == "" {
			d, err := os.MkdirTemp("", "m4sc-trial-ci-")
			if err != nil {
				return err
			}
			f.out = d
		}
	case len(args) == 1:
		var err error
		if src, err = os.ReadFile(args[0]); err != nil {
			return err
		}
		planDir = filepath.Dir(args[0])
	default:
		return usageErrorf("give a PLAN file (or --ci)")
	}
	if f.out == "" {
		return usageErrorf("--out: a directory for the trial is required")
	}
	p, err := trial.Parse(src)
	if err != nil {
		if len(args) == 1 {
			return fmt.Errorf("%s: %w", args[0], err)
		}
		return err
	}
	if f.duration < 0 {
		return usageErrorf("--duration %v: want a length of time", f.duration)
	}
	if f.duration > 0 {
		if err := p.SetSoakDuration(f.duration); err != nil {
			return usageErrorf("--duration: %v", err)
		}
	}
	o, err := trialOptions(cmd, a, f, planDir)
	if err != nil {
		return err
	}
	stop, err := serveMonitor(cmd, f.serve, p.Name, &o)
	if err != nil {
		return err
	}
	defer stop()
	began := time.Now()
	err = trial.Run(cmd.Context(), p, f.out, o)
	return trialDone(cmd, p, f.out, began, err)
}

// trialDone reports where a trial went and checks its thresholds.
func trialDone(cmd *cobra.Command, p *trial.Plan, dir string, began time.Time, err error) error {
	out := cmd.OutOrStdout()
	if err != nil {
		if errors.Is(err, trial.ErrIncomplete) {
			fmt.Fprintf(out, "trial stopped; %s holds what was done: m4sc trial resume %s continues it\n", dir, dir)
		}
		return err
	}
	res, _, err := trial.ReadResults(filepath.Join(dir, trial.ResultsFile))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "trial %s: %d results in %s (%s); report %s\n", p.Name, len(res), dir, time.Since(began).Round(time.Second/10),
		filepath.Join(dir, trial.ReportMD))
	if p.Soak != nil {
		sum, err := trial.ReadSoak(dir, p, res)
		if err != nil {
			return err
		}
		for _, l := range sum.Lines() {
			fmt.Fprintf(out, "  %s\n", l)
		}
		if prob := sum.Problems(); len(prob) > 0 {
			return fmt.Errorf("%w: %s", errSoak, strings.Join(prob, "; "))
		}
	}
	failed := 0
	for _, v := range trial.Check(p, res) {
		verdict := "pass"
		if !v.Pass {
			verdict = "FAIL: " + v.Why
			failed++
		}
		fmt.Fprintf(out, "  %s: mean %.3f, frame loss %.3f over %d: %s\n", v.Threshold, v.Value, v.FrameLoss, v.N, verdict)
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d of %d failed", errThresholds, failed, len(p.Thresholds))
	}
	return nil
}

func newTrialResumeCmd(a *app) *cobra.Command {
	var f trialFlags
	cmd := &cobra.Command{
		Use:   "resume DIR",
		Short: "Continue an interrupted trial from its first run without results",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			p, err := trial.ReadPlan(dir)
			if err != nil {
				return err
			}
			o, err := trialOptions(cmd, a, &f, dir)
			if err != nil {
				return err
			}
			began := time.Now()
			return trialDone(cmd, p, dir, began, trial.Resume(cmd.Context(), dir, o))
		},
	}
	addStallFlag(cmd, &f)
	addTrialModelFlags(cmd, &f)
	return cmd
}

func newTrialReplayCmd(a *app) *cobra.Command {
	var f trialFlags
	cmd := &cobra.Command{
		Use:   "replay DIR [--weights W] [--out FILE]",
		Short: "Decode a trial's recordings again and compare with its results",
		Long: `replay runs the receive side of the trial in DIR again from its recordings and
writes the results to --out (default DIR/replay/results.jsonl). With the binary and
model that ran the trial the file equals DIR/results.jsonl byte for byte; with
--weights, --codec or another binary it reports what changed: the summary before and
after, and the first differing lines. It exits non-zero when the results differ and
the model is the trial's own.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			o, err := trialOptions(cmd, a, &f, dir)
			if err != nil {
				return err
			}
			c, err := trial.Replay(cmd.Context(), dir, f.out, o)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if c.Identical {
				fmt.Fprintf(out, "replay: %d results, identical to %s\n", c.Lines, filepath.Join(dir, trial.ResultsFile))
				return nil
			}
			fmt.Fprintf(out, "replay: %d results, %d differ from %s", c.Lines, c.Changed, filepath.Join(dir, trial.ResultsFile))
			if c.ModelChanged {
				fmt.Fprint(out, " (another model)")
			}
			fmt.Fprintln(out)
			fmt.Fprintln(out, "| task | scheme | channel | SNR (dB) | metric | before | after | frames lost before | after |")
			fmt.Fprintln(out, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
			for i, b := range c.Before {
				if i >= len(c.After) {
					break
				}
				af := c.After[i]
				snr := "-"
				if b.SNR != nil {
					snr = fmt.Sprint(*b.SNR)
				}
				fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %.3f | %.3f | %d | %d |\n", b.Task, b.Scheme, b.Channel, snr, b.Metric, b.Value, af.Value, b.Lost, af.Lost)
			}
			for _, ch := range c.Changes {
				fmt.Fprintf(out, "run %d item %d (%s, %s) %s: %q -> %q\n", ch.Run, ch.Item, ch.Task, ch.Scheme, ch.Field, ch.Old, ch.New)
			}
			if !c.ModelChanged {
				return errors.New("replay: the results differ with the trial's own model")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&f.out, "out", "", "results file to write (default DIR/replay/results.jsonl)")
	addTrialModelFlags(cmd, &f)
	return cmd
}

func newTrialReportCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "report DIR",
		Short: "Write a trial directory's report again (report.md, report.html, plots)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			p, err := trial.ReadPlan(dir)
			if err != nil {
				return err
			}
			res, _, err := trial.ReadResults(filepath.Join(dir, trial.ResultsFile))
			if err != nil {
				return err
			}
			if err := trial.WriteReport(dir, p, res, trial.Runs(p)); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), filepath.Join(dir, trial.ReportMD))
			return nil
		},
	}
}

func newTrialCheckCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:         "check PLAN",
		Short:       "Validate a trial plan and print it resolved (defaults filled in)",
		Args:        cobra.ExactArgs(1),
		Annotations: map[string]string{noConfig: ""},
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := readPlan(args[0])
			if err != nil {
				return err
			}
			b, err := p.Encode()
			if err != nil {
				return err
			}
			if p.Soak != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "# a soak: %d runs a cycle, repeated for %v\n%s", trial.Runs(p), p.Soak.Duration, b)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "# %d runs\n%s", trial.Runs(p), b)
			return nil
		},
	}
}

// readPlan reads a plan file for the trial verbs.
func readPlan(path string) (*trial.Plan, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := trial.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func newTrialTXCmd(a *app) *cobra.Command {
	var f trialFlags
	cmd := &cobra.Command{
		Use:   "tx PLAN [--device SPEC]",
		Short: "Transmit a plan's runs for a receiver in another process or on another host (m4sc trial rx)",
		Long: `tx sends every run of PLAN, in order, on the plan's tx device (or --device):
each run's frames carry its number in the header's address, preceded by --gap samples
of silence. Run "m4sc trial rx PLAN --out DIR" with the same plan on the receiving
host, before or after this. The steps' loopback settings (snr, channel, doppler) do
not apply; the receiver's device decides the channel. To try it on one machine, send
to a raw file as it goes ("--air air.cf32", a new file) and hear it with
"trial rx PLAN --air air.cf32" in another process.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := readPlan(args[0])
			if err != nil {
				return err
			}
			if f.device != "" {
				p.TX = f.device
			}
			if f.gap < 0 {
				return usageErrorf("--gap %d: want a number of samples, 0 or more", f.gap)
			}
			o, err := trialOptions(cmd, a, &f, filepath.Dir(args[0]))
			if err != nil {
				return err
			}
			began := time.Now()
			if err := trial.Transmit(cmd.Context(), p, o, trial.TXOptions{Gap: f.gap, Pause: f.pause, Air: f.air}); err != nil {
				return err
			}
			to := p.TX
			if f.air != "" {
				to = f.air
			}
			fmt.Fprintf(cmd.OutOrStdout(), "trial tx %s: %d runs sent on %s (%s)\n", p.Name, trial.Runs(p), to, time.Since(began).Round(time.Second/10))
			return nil
		},
	}
	cmd.Flags().StringVar(&f.device, "device", "", "transmitter (default: the plan's tx)")
	cmd.Flags().IntVar(&f.gap, "gap", trial.DefaultRunGap, "samples of silence before each run")
	cmd.Flags().StringVar(&f.air, "air", "", "write the transmission to this new raw cf32 file as it goes, for trial rx --air in another process (instead of a device)")
	cmd.Flags().DurationVar(&f.pause, "pause", 0, "wait between runs")
	addTrialModelFlags(cmd, &f)
	return cmd
}

func newTrialRXCmd(a *app) *cobra.Command {
	var f trialFlags
	cmd := &cobra.Command{
		Use:   "rx PLAN --out DIR [--device SPEC] [--air FILE] [--serve ADDR]",
		Short: "Receive the runs m4sc trial tx sends from another process or host, into a trial directory",
		Long: `rx listens on the plan's rx device (or --device) for the runs "m4sc trial tx
PLAN" sends, knowing from the plan and its seeds what each run carries: it tells the
runs apart by the header's address and the messages by their sequence numbers, and
writes DIR as "trial run" does (plan.yaml, a recording per run, results.jsonl with
every frame not heard counted lost, the report). It may start before or after the
transmitter; runs sent before it started are missed. It stops once the last run is
heard whole, or when nothing of the plan was heard for --idle. --air FILE hears
a transmitter in another process through this process's loopback: FILE is the raw
cf32 stream "trial tx PLAN --air FILE" writes, and the plan's rx (a loopback
device, with its snr, channel, ppm) is the channel.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.out == "" {
				return usageErrorf("--out: a directory for the trial is required")
			}
			p, err := readPlan(args[0])
			if err != nil {
				return err
			}
			if f.device != "" {
				p.RX = f.device
			}
			o, err := trialOptions(cmd, a, &f, filepath.Dir(args[0]))
			if err != nil {
				return err
			}
			stop, err := serveMonitor(cmd, f.serve, "rx "+p.Name, &o)
			if err != nil {
				return err
			}
			defer stop()
			began := time.Now()
			sum, err := trial.Receive(cmd.Context(), p, f.out, o, trial.RXOptions{Air: f.air, Idle: f.idle, Wait: f.wait})
			if sum != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "trial rx %s: heard %d of %d runs; %d of %d frames lost\n", p.Name, sum.Heard, sum.Runs, sum.FramesLost, sum.Frames)
			}
			return trialDone(cmd, p, f.out, began, err)
		},
	}
	cmd.Flags().StringVar(&f.out, "out", "", "trial directory to write")
	cmd.Flags().StringVar(&f.device, "device", "", "receiver (default: the plan's rx)")
	cmd.Flags().StringVar(&f.air, "air", "", "raw cf32 stream of trial tx in another process, heard through the plan's loopback rx")
	cmd.Flags().DurationVar(&f.idle, "idle", trial.DefaultIdle, "stop when nothing of the plan was heard for this long")
	cmd.Flags().DurationVar(&f.wait, "wait", 0, "stop when no frame of the plan was heard this long after starting (0: wait for the transmitter)")
	addStallFlag(cmd, &f)
	addServeFlag(cmd, &f.serve)
	addTrialModelFlags(cmd, &f)
	return cmd
}

func newTrialScoreCmd(a *app) *cobra.Command {
	var f trialFlags
	cmd := &cobra.Command{
		Use:   "score PLAN RECORDING --out DIR [--rate 20e6] [--freq HZ] [--format sigmf|cs8|cf32]",
		Short: "Score a recording made elsewhere (hackrf_transfer, any SigMF writer) of what trial tx sent for PLAN",
		Long: `score reads RECORDING, made by any receiver while "m4sc trial tx PLAN" was
sending, and writes DIR as "trial rx" would have: it knows from the plan and its
seeds what each run sent, tells the runs apart by the header's address, counts every
frame not in the recording as lost, keeps each run's stretch of the recording under
DIR/recordings/ (so "trial replay DIR" reproduces results.jsonl), and writes the
report. The recording is read to its end.

RECORDING is a SigMF pair (.sigmf-meta or .sigmf-data, from any tool), or a raw
capture without metadata: hackrf_transfer's interleaved signed 8-bit I,Q (.cs8 or
.iq; other names with --format cs8), or float32 I,Q (.cf32, .cfile). A raw capture
needs --rate (and --freq, to be recorded); the rate must be 20 Msps, the PHY's, as
in

  hackrf_transfer -r capture.iq -f 2450000000 -s 20000000 -l 24 -g 20
  m4sc trial score field.yaml capture.iq --rate 20e6 --freq 2.45e9 --out scored

A capture that is not whole samples (an odd number of bytes), at another rate, or
of another plan (nothing of it heard) is refused with the reason.`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch len(args) {
			case 2:
				return nil
			case 1:
				return usageErrorf("give the PLAN the recording was sent with, then the RECORDING")
			case 0:
				return usageErrorf("give the PLAN the recording was sent with and the RECORDING")
			}
			return usageErrorf("give one PLAN and one RECORDING, not %d arguments", len(args))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.out == "" {
				return usageErrorf("--out: a directory for the scored trial is required")
			}
			p, err := readPlan(args[0])
			if err != nil {
				return err
			}
			o, err := trialOptions(cmd, a, &f, filepath.Dir(args[0]))
			if err != nil {
				return err
			}
			began := time.Now()
			sum, err := trial.Score(cmd.Context(), p, args[1], f.out, o, trial.ScoreOptions{Format: f.format, SampleRate: f.rate, Frequency: f.freq})
			if sum != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "trial score %s: heard %d of %d runs in %s; %d of %d frames lost\n", p.Name, sum.Heard, sum.Runs, args[1], sum.FramesLost, sum.Frames)
			}
			return trialDone(cmd, p, f.out, began, err)
		},
	}
	cmd.Flags().StringVar(&f.out, "out", "", "trial directory to write")
	cmd.Flags().StringVar(&f.format, "format", "", "sigmf, cs8 (hackrf_transfer's int8 I,Q) or cf32 (default: from the name)")
	cmd.Flags().Float64Var(&f.rate, "rate", 0, "sample rate of a raw capture, samples/s (20e6)")
	cmd.Flags().Float64Var(&f.freq, "freq", 0, "centre frequency of a raw capture, Hz")
	addTrialModelFlags(cmd, &f)
	return cmd
}
