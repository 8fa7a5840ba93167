package trial

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/m4sc/m4sc/calibration"
	"github.com/m4sc/m4sc/internal/atomicfile"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/burst"
	"github.com/m4sc/m4sc/radio/devices"
	"github.com/m4sc/m4sc/radio/loopback"
	"github.com/m4sc/m4sc/radio/sigmf"
	"github.com/m4sc/m4sc/semantic"
)

// Files of a trial directory.
const (
	PlanFile        = "plan.yaml"        // the resolved plan with the binary's version and the model's hash
	CalibrationFile = "calibration.yaml" // the profile applied, if any
	ResultsFile     = "results.jsonl"    // one line per input and run (Result)
	TimingFile      = "timing.jsonl"     // wall-clock time of each run
	RecordingsDir   = "recordings"       // the receive side of each run, SigMF ci8 or cf32
	SoakFile        = "soak.jsonl"       // a soak's samples of the process (SoakSample)
	ReportMD        = "report.md"
	ReportHTML      = "report.html"
	PlotsDir        = "plots"
)

// ErrIncomplete is returned (wrapped) by Run and Resume when a trial stopped before
// its last run: the directory then holds every run completed and can be resumed.
var ErrIncomplete = errors.New("trial: incomplete")

// Options configure Run, Resume and Replay.
type Options struct {
	// Chain is the model and codec of both ends.
	Chain *semantic.Chain
	// Data loads the held-out data set (SOTU test sentences, test digits); called
	// only by steps that need it.
	Data func() (*llm.Data, error)
	// PlanDir is the directory plan-relative paths (files, calibration profile) are
	// read from.
	PlanDir string
	// Version names the binary (m4sc version's text).
	Version string
	// Loopback holds default loopback parameters (the configuration's), applied before
	// each device string's.
	Loopback []radio.Param
	// Beam is the receiver's beam width for text (0: greedy).
	Beam int
	// Sinks observe the trial as it runs.
	Sinks []Sink
	// Log receives progress (nil: none).
	Log *slog.Logger
	// Progress is called after each run with the runs done and the total (0 for a
	// soak, whose runs are counted by time).
	Progress func(done, total int)
	// StallTimeout is how long a receiver (not a recording) may deliver no samples
	// before the run is ended with an error (radio.WatchRX): 0 is
	// radio.DefaultStallTimeout, less than 0 no watchdog.
	StallTimeout time.Duration

	hooks hooks
}

// ModelHash is the SHA-256 of a chain's parameters (the language model's and the
// codec's, by name, shape and value): what a trial directory records so that a replay
// knows whether it runs the same model.
func ModelHash(ch *semantic.Chain) string {
	h := sha256.New()
	var buf []byte
	add := func(name string, shape []int, data []float32) {
		buf = buf[:0]
		buf = append(buf, name...)
		buf = append(buf, 0)
		for _, d := range shape {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(d))
		}
		for _, x := range data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
		}
		h.Write(buf)
	}
	for name, t := range ch.Model.Params().All() {
		add("llm/"+name, t.Shape(), t.Data)
	}
	for name, t := range ch.Codec.Params().All() {
		add("codec/"+name, t.Shape(), t.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// runSpec is one run of a plan: a step's scheme at one SNR, one repeat.
type runSpec struct {
	index  int
	step   int
	scheme semantic.Scheme
	snr    *float64
	repeat int
	seed   uint64
	name   string // recordings/<step>/<scheme>[-snr<dB>][-r<repeat>]
}

// runs expands a plan into its runs, in the order they execute.
func (p *Plan) runs() []runSpec {
	var out []runSpec
	for si, s := range p.Steps {
		snrs := []*float64{nil}
		if len(s.SNR) > 0 {
			snrs = snrs[:0]
			for i := range s.SNR {
				snrs = append(snrs, &s.SNR[i])
			}
		}
		for ni, snr := range snrs {
			for ci, sch := range s.Schemes {
				for rep := range s.Repeats {
					name := sch
					if snr != nil {
						name += "-snr" + strconv.FormatFloat(*snr, 'g', -1, 64)
					}
					if s.Repeats > 1 {
						name += fmt.Sprintf("-r%d", rep)
					}
					seed := mix(mix(mix(s.Seed, uint64(ni)+1), uint64(ci)+1), uint64(rep)+1)
					out = append(out, runSpec{index: len(out), step: si, scheme: semantic.Scheme(sch), snr: snr, repeat: rep, seed: seed,
						name: filepath.Join(RecordingsDir, fmt.Sprintf("%02d-%s", si+1, s.Name), name)})
				}
			}
		}
	}
	return out
}

// runAt returns run i of the plan, and false past its last run. A soak's runs go on
// without end: cycle c > 0 repeats the first cycle's runs with seeds of its own, its
// recordings named -cC.
func (p *Plan) runAt(i int) (runSpec, bool) { return p.cycleRun(p.runs(), i) }

// cycleRun is runAt with the first cycle's runs (p.runs()) given, for loops over many.
func (p *Plan) cycleRun(base []runSpec, i int) (runSpec, bool) {
	if i < 0 || len(base) == 0 || (p.Soak == nil && i >= len(base)) {
		return runSpec{}, false
	}
	rs := base[i%len(base)]
	if c := i / len(base); c > 0 {
		rs.index = i
		rs.seed = mix(rs.seed, uint64(c)+1)
		rs.name += fmt.Sprintf("-c%d", c)
	}
	return rs, true
}

// totalRuns is how many runs the plan has, 0 for a soak (they are counted by time).
func (p *Plan) totalRuns() int {
	if p.Soak != nil {
		return 0
	}
	return len(p.runs())
}

// runner executes one plan into one directory.
type runner struct {
	plan    *Plan
	dir     string
	opts    Options
	chain   *semantic.Chain
	profile *calibration.Profile
	cache   map[int][]item
	log     *slog.Logger
	// tagged: frames carry their run's number in the header's address (RunAddress),
	// as trial tx sends them for a receiver in another process.
	tagged bool
}

func newRunner(p *Plan, dir string, o Options) (*runner, error) {
	if o.Chain == nil {
		return nil, errors.New("trial: no model and codec (Options.Chain)")
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &runner{plan: p, dir: dir, opts: o, chain: o.Chain, cache: map[int][]item{}, log: log}, nil
}

func (r *runner) info(rs runSpec, total int) RunInfo {
	return RunInfo{Index: rs.index, Total: total, Name: rs.name, Step: rs.step, Scheme: string(rs.scheme), SNR: rs.snr, Repeat: rs.repeat}
}

// stepItems resolves and caches a step's contents.
func (r *runner) stepItems(si int) ([]item, error) {
	if it, ok := r.cache[si]; ok {
		return it, nil
	}
	it, err := r.resolveItems(si)
	if err != nil {
		return nil, err
	}
	r.cache[si] = it
	return it, nil
}

// Run executes a plan into dir, which must not exist or be empty, and writes the
// report. Cancelling ctx stops it between runs or inside one (the run in progress is
// dropped): the directory then holds everything done so far, with a report, and
// Resume continues it; the error wraps ErrIncomplete and the context's cause.
func Run(ctx context.Context, p *Plan, dir string, o Options) error {
	r, err := prepare(p, dir, "", o)
	if err != nil {
		return err
	}
	if err := r.calibrate(ctx); err != nil {
		return r.stopped(err, 0)
	}
	return r.execute(ctx, 0, 0)
}

// prepare starts a trial directory: it checks that dir is empty, resolves the plan
// (provenance with role, absolute paths) and writes it.
func prepare(p *Plan, dir, role string, o Options) (*runner, error) {
	if err := checkEmptyDir(dir); err != nil {
		return nil, err
	}
	if o.Chain == nil {
		return nil, errors.New("trial: no model and codec (Options.Chain)")
	}
	resolved := *p
	resolved.Provenance = &Provenance{Version: o.Version, Model: ModelHash(o.Chain), Role: role}
	// Paths relative to the plan's directory become absolute, so that resume and
	// replay, which read the resolved plan in the trial directory, find the files.
	resolved.Steps = slices.Clone(p.Steps)
	for i := range resolved.Steps {
		c := &resolved.Steps[i].Content
		c.Files = slices.Clone(c.Files)
		for j, f := range c.Files {
			c.Files[j] = absFrom(o.PlanDir, f)
		}
	}
	if c := p.Calibration; c != nil && c.Profile != "" {
		resolved.Calibration = &Calibration{Profile: absFrom(o.PlanDir, c.Profile)}
	}
	r, err := newRunner(&resolved, dir, o)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, writeErr(dir, err)
	}
	b, err := resolved.Encode()
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, PlanFile), b, 0o644); err != nil {
		return nil, writeErr(filepath.Join(dir, PlanFile), err)
	}
	return r, nil
}

// Resume continues the trial in dir from its first run without results, with the
// same plan (plan.yaml) and calibration. The model must be the one the trial started
// with.
func Resume(ctx context.Context, dir string, o Options) error {
	p, err := ReadPlan(dir)
	if err != nil {
		return err
	}
	if p.Provenance != nil && p.Provenance.Role != "" {
		return fmt.Errorf("trial: %s holds what one end heard of another process's transmission (trial rx or trial score); it cannot be resumed (run it again into a new directory; replay works)", dir)
	}
	if p.Provenance != nil && p.Provenance.Model != ModelHash(o.Chain) {
		return fmt.Errorf("trial: %s was run with model %.12s, this is %.12s: resume with the same model (or replay it with --weights)", dir, p.Provenance.Model, ModelHash(o.Chain))
	}
	r, err := newRunner(p, dir, o)
	if err != nil {
		return err
	}
	if p.Calibration != nil {
		prof, err := calibration.Load(filepath.Join(dir, CalibrationFile))
		if err != nil {
			// Interrupted during calibration: do it again.
			if err := r.calibrate(ctx); err != nil {
				return r.stopped(err, 0)
			}
		} else {
			r.profile = prof
		}
	}
	path := filepath.Join(dir, ResultsFile)
	res, _, err := ReadResults(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	// Keep the runs whose lines are all there; a run cut short is done again.
	lens, _ := encodedLengths(path, len(res))
	first, keep, i := 0, int64(0), 0
	base := p.runs()
	for i < len(res) {
		rs, ok := p.cycleRun(base, first)
		if !ok {
			break
		}
		items, err := r.stepItems(rs.step)
		if err != nil {
			return err
		}
		n := len(items)
		if i+n > len(res) {
			break
		}
		off, whole := keep, true
		for j := i; j < i+n; j++ {
			whole = whole && res[j].Run == first
			off += lens[j]
		}
		if !whole {
			break
		}
		i += n
		first++
		keep = off
	}
	if err := os.Truncate(path, keep); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return writeErr(path, err)
	}
	r.log.Info("trial: resuming", "dir", dir, "runs done", first, "runs", p.totalRuns())
	return r.execute(ctx, first, keep)
}

// encodedLengths returns the byte length of the first n lines of a file.
func encodedLengths(path string, n int) ([]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := make([]int64, 0, n)
	for len(out) < n {
		i := strings.IndexByte(string(b), '\n')
		if i < 0 {
			break
		}
		out = append(out, int64(i+1))
		b = b[i+1:]
	}
	return out, nil
}

// ReadPlan reads a trial directory's plan.yaml.
func ReadPlan(dir string) (*Plan, error) {
	b, err := os.ReadFile(filepath.Join(dir, PlanFile))
	if err != nil {
		return nil, fmt.Errorf("trial: %s is not a trial directory: %w", dir, err)
	}
	p, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, PlanFile), err)
	}
	return p, nil
}

func checkEmptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("trial: cannot use %s as a trial directory: %w", dir, err)
	case len(ents) > 0:
		return fmt.Errorf("trial: %s is not empty (a trial directory is written once; resume it with m4sc trial resume)", dir)
	}
	return nil
}

// stopped ends a trial early: the report of what was done, and the error.
func (r *runner) stopped(err error, done int) error {
	if rerr := r.report(); rerr != nil {
		r.log.Warn("trial: report", "err", rerr)
	}
	if r.plan.Soak != nil {
		return fmt.Errorf("%w after %d runs of the soak: %w", ErrIncomplete, done, err)
	}
	return fmt.Errorf("%w after %d of %d runs: %w", ErrIncomplete, done, len(r.plan.runs()), err)
}

// execute runs the plan from run first on, appending to results.jsonl at offset. A
// run whose receiver failed mid-way (a device that stopped streaming) is written with
// the reason in its lines and the trial goes on; a file that cannot be written stops
// it, with what was written before intact.
func (r *runner) execute(ctx context.Context, first int, offset int64) error {
	res, err := openJournal(filepath.Join(r.dir, ResultsFile), offset, r.opts.hooks)
	if err != nil {
		return r.stopped(err, first)
	}
	defer res.close()
	timing, err := openJournal(filepath.Join(r.dir, TimingFile), -1, r.opts.hooks)
	if err != nil {
		return r.stopped(err, first)
	}
	defer timing.close()
	var soak *soakMeter
	if r.plan.Soak != nil {
		if soak, err = r.startSoak(first); err != nil {
			return r.stopped(err, first)
		}
		defer soak.close()
	}
	total, of := r.plan.totalRuns(), r.runsText()
	base := r.plan.runs()
	i := first
	for ; ; i++ {
		rs, ok := r.plan.cycleRun(base, i)
		if !ok || (soak != nil && soak.over()) {
			break
		}
		if err := context.Cause(ctx); err != nil {
			return r.stopped(err, i)
		}
		began := time.Now()
		out, err := r.runOne(ctx, rs, total)
		if err != nil {
			if ctx.Err() != nil {
				err = context.Cause(ctx)
			}
			return r.stopped(fmt.Errorf("run %d (%s): %w", i, rs.name, err), i)
		}
		b, err := encodeResults(out.lines)
		if err != nil {
			return err
		}
		if err := res.append(b); err != nil {
			return r.stopped(fmt.Errorf("run %d (%s): %w", i, rs.name, err), i)
		}
		var extra map[string]any
		if out.failed != "" {
			extra = map[string]any{"rx_failed": out.failed}
		}
		if err := timing.append(timingLine(i, rs.name, began, extra)); err != nil {
			return r.stopped(fmt.Errorf("run %d (%s): %w", i, rs.name, err), i+1)
		}
		if out.failed != "" {
			r.log.Warn("trial: run failed; its lines say why", "run", i+1, "name", rs.name, "reason", out.failed)
		} else {
			r.log.Info("trial: run done", "run", i+1, "of", of, "name", rs.name, "seconds", time.Since(began).Round(time.Millisecond))
		}
		if soak != nil {
			if err := soak.ran(i+1, out); err != nil {
				return r.stopped(err, i+1)
			}
		}
		if r.opts.Progress != nil {
			r.opts.Progress(i+1, total)
		}
	}
	if soak != nil {
		if err := soak.finish(i); err != nil {
			return r.stopped(err, i)
		}
	}
	if err := res.close(); err != nil {
		return r.stopped(err, i)
	}
	if err := timing.close(); err != nil {
		return r.stopped(err, i)
	}
	return r.report()
}

// runsText is the number of runs for the log: a soak's are counted by time.
func (r *runner) runsText() string {
	if s := r.plan.Soak; s != nil {
		return "a soak of " + s.Duration.String()
	}
	return strconv.Itoa(len(r.plan.runs()))
}

// timingLine is one line of timing.jsonl (extra fields, such as trial rx's heard,
// added to it).
func timingLine(run int, name string, began time.Time, extra map[string]any) []byte {
	m := map[string]any{"run": run, "name": name, "started": began.UTC().Format(time.RFC3339Nano),
		"seconds": math.Round(time.Since(began).Seconds()*1000) / 1000}
	for k, v := range extra {
		m[k] = v
	}
	t, _ := json.Marshal(m)
	return append(t, '\n')
}

// layout is where an item's messages sit in a run's burst: its first message number,
// how many messages and frames it took.
type layout struct {
	First    int `json:"first_message"`
	Messages int `json:"messages"`
	Frames   int `json:"frames"`
}

// send builds a run's burst: every item of the step, one after the other, messages
// numbered from 0.
func (r *runner) send(rs runSpec, items []item) ([]complex64, []layout, error) {
	s := &r.plan.Steps[rs.step]
	rate, _ := phy.RateByMbps(s.Rate)
	hint := DefaultSNRHnt
	switch {
	case s.SNRHint != nil:
		hint = *s.SNRHint
	case rs.snr != nil:
		hint = *rs.snr
	}
	var x []complex64
	var lay []layout
	msg := 0
	for i, it := range items {
		o := semantic.SendOptions{Scheme: rs.scheme, Bandwidth: s.Bandwidth, SNRHint: hint, Rate: rate, Message: uint8(msg), Image: semantic.ImageFormat(s.ImageFormat)}
		if r.tagged {
			o.Address = RunAddress(rs.index)
		}
		b, err := r.chain.Send(it.in, o)
		if err != nil {
			return nil, nil, fmt.Errorf("item %d (%s): %w", i, short(it.sent), err)
		}
		lay = append(lay, layout{First: msg, Messages: b.Messages, Frames: b.Frames})
		msg += b.Messages
		if msg > 256 {
			return nil, nil, fmt.Errorf("the step's inputs take more than 256 messages in one run; split the step")
		}
		x = append(x, b.Samples...)
	}
	return x, lay, nil
}

func short(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// deviceSpecs returns the device strings of a run: the plan's, with the step's
// loopback SNR, channel and Doppler set on the receiver, and, for the loopback's
// hackrf preset, the crystal errors drawn once from the plan's seed so that every run
// (and a calibration) sees the same pair of radios.
func (r *runner) deviceSpecs(rs *runSpec) (tx, rx string, err error) {
	p := r.plan
	var s *Step
	if rs != nil {
		s = &p.Steps[rs.step]
	}
	rng := rand.New(rand.NewPCG(p.Seed, 0x70706d))
	edit := func(spec string, rxSide bool) (string, error) {
		sp, err := radio.ParseSpec(spec)
		if err != nil || sp.Driver != "loopback" {
			return spec, err
		}
		ppm := math.Round((2*rng.Float64()-1)*loopback.HackRFPPMSpread*100) / 100
		set := func(k, v string) {
			for i := range sp.Params {
				if sp.Params[i].Key == k {
					sp.Params[i].Value = v
					return
				}
			}
			sp.Params = append(sp.Params, radio.Param{Key: k, Value: v})
		}
		if sp.Arg == "hackrf" && !slices.ContainsFunc(sp.Params, func(q radio.Param) bool { return q.Key == "ppm" }) {
			set("ppm", strconv.FormatFloat(ppm, 'f', 2, 64))
		}
		if rxSide && s != nil {
			if rs.snr != nil {
				set("snr", strconv.FormatFloat(*rs.snr, 'g', -1, 64))
			}
			if s.Channel != "" {
				set("channel", s.Channel)
			}
			if s.Doppler != nil {
				set("doppler", strconv.FormatFloat(*s.Doppler, 'g', -1, 64))
			}
		}
		return sp.String(), nil
	}
	if tx, err = edit(p.TX, false); err != nil {
		return "", "", err
	}
	rx, err = edit(p.RX, true)
	return tx, rx, err
}

// open opens the two ends of a run on their own device manager (seeded by the run).
func (r *runner) open(ctx context.Context, seed uint64, rs *runSpec) (tx, rx radio.Device, err error) {
	txSpec, rxSpec, err := r.deviceSpecs(rs)
	if err != nil {
		return nil, nil, err
	}
	m := devices.New(devices.Options{Seed: seed, Loopback: r.opts.Loopback})
	if !isFile(rxSpec) {
		if tx, err = m.Open(ctx, txSpec); err != nil {
			return nil, nil, fmt.Errorf("tx: %w", err)
		}
	}
	if rx, err = r.openRX(ctx, m, rxSpec); err != nil {
		if tx != nil {
			tx.Close()
		}
		return nil, nil, fmt.Errorf("rx: %w", err)
	}
	var s *Step
	if rs != nil {
		s = &r.plan.Steps[rs.step]
	}
	if tx != nil {
		err = r.configure(tx, radio.TX, s)
	}
	if err == nil {
		err = r.configure(rx, radio.RX, s)
	}
	if err != nil {
		if tx != nil {
			tx.Close()
		}
		rx.Close()
		return nil, nil, err
	}
	return tx, rx, nil
}

// openRX opens a receiver; one that is not a recording gets the stall watchdog, so
// that a device which stops streaming ends its run instead of hanging it.
func (r *runner) openRX(ctx context.Context, m *devices.Manager, spec string) (radio.Device, error) {
	rx, err := m.Open(ctx, spec)
	if err != nil {
		return nil, err
	}
	if r.opts.hooks.rx != nil {
		rx = r.opts.hooks.rx(rx)
	}
	if rx.Info().Driver == "file" {
		return rx, nil
	}
	t := r.opts.StallTimeout
	if t == 0 {
		t = radio.DefaultStallTimeout
	}
	return radio.WatchRX(rx, t), nil
}

// configure sets a device (not a recording) to the PHY's sample rate, the plan's
// frequency, the calibration's gains and the step's (s may be nil). A recording
// must have been made at the PHY's rate: nothing resamples it.
func (r *runner) configure(dev radio.Device, dir radio.Direction, s *Step) error {
	if dev.Info().Driver == "file" {
		if rate := dev.Config().SampleRate; dir == radio.RX && rate != phy.SampleRate {
			return fmt.Errorf("%s is at %s", radio.ClipSpec(dev.Info().Spec), wrongRate(rate))
		}
		return nil
	}
	if r.profile != nil {
		if err := r.profile.ApplyGains(dev, dir); err != nil {
			return err
		}
	}
	cfg := dev.Config()
	cfg.SampleRate = phy.SampleRate
	if r.plan.Frequency > 0 {
		cfg.Frequency = r.plan.Frequency
	}
	if s != nil {
		g := s.TXGains
		if dir == radio.RX {
			g = s.RXGains
		}
		for k, v := range g {
			cfg.Gains[k] = v
		}
	}
	return dev.Configure(cfg)
}

// wrongRate says what is wrong with a recording made at rate samples/s, not the
// PHY's, and what to do instead (configure and Score both refuse one).
func wrongRate(rate float64) string {
	return fmt.Sprintf("%g samples/s; the PHY runs at %g (20 Msps) and nothing here resamples: record at 20 Msps (hackrf_transfer -s 20000000)",
		rate, float64(phy.SampleRate))
}

// absFrom makes a plan-relative path absolute.
func absFrom(dir, path string) string {
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}

func isFile(spec string) bool {
	sp, err := radio.ParseSpec(spec)
	return err == nil && sp.Driver == "file"
}

// calibrate runs or loads the plan's calibration and keeps the profile in the
// directory.
func (r *runner) calibrate(ctx context.Context) error {
	c := r.plan.Calibration
	if c == nil {
		return nil
	}
	dst := filepath.Join(r.dir, CalibrationFile)
	if c.Profile != "" {
		p, err := calibration.Load(absFrom(r.opts.PlanDir, c.Profile))
		if err != nil {
			return fmt.Errorf("calibration.profile: %w", err)
		}
		r.profile = p
		return writeErr(dst, p.Save(dst))
	}
	tx, rx, err := r.open(ctx, r.plan.Seed, nil)
	if err != nil {
		return fmt.Errorf("calibration: %w", err)
	}
	defer tx.Close()
	defer rx.Close()
	cfg := calibration.Config{Seed: r.plan.Seed, SampleRate: phy.SampleRate}
	if r.plan.Frequency > 0 {
		cfg.Frequency = r.plan.Frequency
	}
	r.log.Info("trial: calibrating", "tx", r.plan.TX, "rx", r.plan.RX)
	p, err := calibration.Run(ctx, tx, rx, cfg, nil)
	if err != nil {
		return fmt.Errorf("calibration: %w", err)
	}
	r.profile = p
	return writeErr(dst, p.Save(dst))
}

// captureMargin is how many samples a run receives beyond its burst: the loopback's
// random start (up to 1 ms) on either side, or a quarter second for hardware, whose
// streams start with more latency.
func captureMargin(rx radio.Device) int {
	if rx.Info().Driver == "loopback" {
		return 2 * int(phy.SampleRate/1000)
	}
	return int(phy.SampleRate / 4)
}

// runOutcome is what one run did.
type runOutcome struct {
	lines []Result
	// failed is why the receiver stopped before the run was over ("" if it did
	// not); the lines say it too.
	failed string
	sent   int   // frames sent
	heard  int64 // samples received
	air    int64 // of those, the burst's length (the frames and their gaps)
}

// runOne sends a run's burst, records the receive side and decodes it. A receiver
// that fails during the run (a device that stopped streaming, a USB error) does not
// stop the trial: the run is recorded and decoded as far as it got, and its lines say
// why frames were lost. Failing to start the run (to open a device) stops it.
func (r *runner) runOne(ctx context.Context, rs runSpec, total int) (runOutcome, error) {
	var out runOutcome
	items, err := r.stepItems(rs.step)
	if err != nil {
		return out, err
	}
	info := r.info(rs, total)
	for _, s := range r.opts.Sinks {
		s.RunStarted(info)
	}
	x, lay, err := r.send(rs, items)
	if err != nil {
		return out, err
	}
	for _, l := range lay {
		out.sent += l.Frames
	}
	tx, rx, err := r.open(ctx, rs.seed, &rs)
	if err != nil {
		return out, err
	}
	defer rx.Close()
	var y []complex64
	if tx == nil {
		// The receiver is a recording: all of it.
		_, err = burst.Run(ctx, nil, rx, nil, math.MaxInt64, burst.Config{}, func(b []complex64, _ radio.RXMeta) error {
			y = append(y, b...)
			return nil
		})
	} else {
		defer tx.Close()
		var got burst.Received
		got, err = burst.Capture(ctx, tx, rx, burst.Samples(x), r.captureLen(len(x), rx), burst.Config{})
		y = got.Samples
		out.air = int64(len(x))
	}
	if err != nil {
		if ctx.Err() != nil || tx == nil {
			return out, err
		}
		out.failed = failure(err)
	}
	out.heard = int64(len(y))
	if err := r.record(rs, y, lay, rx.Config(), out.failed); err != nil {
		return out, err
	}
	out.lines, err = r.decode(rs, info, y, items, lay, out.failed)
	return out, err
}

// failure is how a receiver's failure reads in results.jsonl: the device's own words
// without the layers it came up through.
func failure(err error) string {
	var se *radio.StallError
	if errors.As(err, &se) {
		return se.Error()
	}
	return err.Error()
}

// captureLen is how many samples a run receives for a burst of n on rx: the burst and
// captureMargin, or, for a soak, enough quiet after it that the frames fill about
// Soak.Duty of what the receiver hears. A soak's margin on the loopback is the
// receiver's own start slack (its offset key) and soakTail, so that a plan can keep
// the slack short and the quiet the duty asks for is not swamped by it.
func (r *runner) captureLen(n int, rx radio.Device) int {
	margin := captureMargin(rx)
	s := r.plan.Soak
	if s == nil {
		return n + margin
	}
	if sp, err := radio.ParseSpec(rx.Info().Spec); err == nil && sp.Driver == "loopback" {
		if p, err := loopback.DefaultParams(sp.Arg); err == nil && p.Apply(r.opts.Loopback) == nil && p.Apply(sp.Params) == nil {
			margin = p.Offset + soakTail
		}
	}
	return max(n+margin, int(float64(n)/s.Duty))
}

// soakTail is the quiet a soak run receives after its burst at the least (0.1 ms):
// room for the receiver to finish the last frame.
const soakTail = 2000

// record writes a run's received samples as SigMF, with the items' layout in its
// annotation so that a replay with another model places messages as sent, and the
// receiver's failure, if it failed, so that a replay says it again. Samples that all
// lie on the 8-bit grid of a HackRF (or of the loopback's hackrf preset) are written
// as ci8, exactly and in a quarter of the space; others as cf32.
func (r *runner) record(rs runSpec, y []complex64, lay []layout, cfg radio.Config, failed string) error {
	path := filepath.Join(r.dir, rs.name+sigmf.ExtMeta)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return writeErr(filepath.Dir(path), err)
	}
	s := &r.plan.Steps[rs.step]
	dt := sigmf.CF32LE
	if onInt8Grid(y) {
		dt = sigmf.CI8
	}
	w, err := sigmf.Create(path, sigmf.WriteOptions{Datatype: dt, SampleRate: phy.SampleRate, Frequency: cfg.Frequency,
		Recorder: "m4sc trial " + r.opts.Version, Description: fmt.Sprintf("m4sc trial %s: run %d, step %s, %s", r.plan.Name, rs.index, s.Name, rs.scheme)})
	if err != nil {
		return writeErr(path, err)
	}
	defer w.Abort()
	if _, err := w.Write(y); err != nil {
		return writeErr(path, err)
	}
	items := make([][3]int, len(lay))
	for i, l := range lay {
		items[i] = [3]int{l.First, l.Messages, l.Frames}
	}
	extra := map[string]any{"m4sc:run": rs.index, "m4sc:step": s.Name, "m4sc:task": s.Task, "m4sc:scheme": string(rs.scheme), "m4sc:items": items}
	if rs.snr != nil {
		extra["m4sc:snr_db"] = *rs.snr
	}
	if failed != "" {
		extra[failedKey] = failed
	}
	if err := w.Annotate(sigmf.Annotation{SampleStart: 0, SampleCount: int64(len(y)), Label: "m4sc trial run", Extra: extra}); err != nil {
		return writeErr(path, err)
	}
	if err := w.Close(); err != nil {
		return writeErr(path, err)
	}
	return nil
}

// failedKey is the recording annotation's key for why the receiver stopped early.
const failedKey = "m4sc:rx_failed"

// onInt8Grid reports whether every component is v/128 for an integer v in
// -128..127: what sigmf writes as ci8 and reads back bit for bit.
func onInt8Grid(y []complex64) bool {
	ok := func(x float32) bool {
		v := x * 128 // exact: a power of two
		return v >= -128 && v <= 127 && v == float32(int32(v))
	}
	for _, v := range y {
		if !ok(real(v)) || !ok(imag(v)) {
			return false
		}
	}
	return true
}
