package trial

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/m4sc/m4sc/radio"
)

// smallPlan is three short runs of one sentence: enough to fail in the middle of.
const smallPlan = `name: small
seed: 5
tx: loopback:hackrf
rx: loopback:hackrf
steps:
  - name: text
    task: text.transmit
    content: {texts: ["the state of our union is strong"]}
    schemes: [semantic, digital, 80211a]
    snr: [20]
`

func parsePlan(t *testing.T, src string) *Plan {
	t.Helper()
	p, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// unwritable makes dir read-only and reports whether that took: a process that may
// write anywhere (root) gets nothing from chmod, and the tests that need it skip.
func unwritable(t *testing.T, dir string) bool {
	t.Helper()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	probe := filepath.Join(dir, ".probe")
	if err := os.WriteFile(probe, nil, 0o644); err == nil {
		os.Remove(probe)
		return false
	}
	return true
}

// TestUnwritableDirectory: a trial directory that cannot be written fails at once with
// an error naming the file and the cause; one that becomes unwritable during the trial
// stops it at the run that could not be recorded, with the runs before it intact and
// resumable.
func TestUnwritableDirectory(t *testing.T) {
	ch := testChain(t)
	p := parsePlan(t, smallPlan)
	o := Options{Chain: ch, Version: "test"}

	locked := filepath.Join(t.TempDir(), "locked")
	if err := os.Mkdir(locked, 0o755); err != nil {
		t.Fatal(err)
	}
	if !unwritable(t, locked) {
		if runUnprivileged(t) {
			return
		}
		t.Skip("chmod 0500 does not stop this process writing (running as root?)")
	}
	err := Run(context.Background(), p, locked, o)
	var we *WriteError
	if !errors.As(err, &we) || !errors.Is(err, os.ErrPermission) || we.Path != filepath.Join(locked, PlanFile) {
		t.Fatalf("run into a read-only directory: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, we.Path) || !strings.Contains(msg, "permission denied") || !strings.Contains(msg, "no permission to write there") {
		t.Errorf("message: %s", msg)
	}
	if err := Run(context.Background(), p, filepath.Join(locked, "sub"), o); !errors.As(err, &we) || we.Path != filepath.Join(locked, "sub") {
		t.Errorf("run into a directory that cannot be made: %v", err)
	}

	// Writable at first; the step's recordings folder is locked once run 0 is done.
	dir := filepath.Join(t.TempDir(), "trial")
	oc := o
	oc.Progress = func(done, total int) {
		if done == 1 {
			unwritable(t, filepath.Join(dir, RecordingsDir, "01-text"))
		}
	}
	err = Run(context.Background(), p, dir, oc)
	if !errors.Is(err, ErrIncomplete) || !errors.As(err, &we) || !strings.Contains(err.Error(), "run 1 (recordings/01-text/digital-snr20)") ||
		!strings.Contains(we.Path, filepath.Join(dir, RecordingsDir, "01-text", "digital-snr20")) {
		t.Fatalf("locked during the trial: %v", err)
	}
	res, _, err := ReadResults(filepath.Join(dir, ResultsFile))
	if err != nil || len(res) != 1 || res[0].Run != 0 {
		t.Fatalf("results after the failure: %d lines, %v", len(res), err)
	}
	os.Chmod(filepath.Join(dir, RecordingsDir, "01-text"), 0o755)
	if err := Resume(context.Background(), dir, o); err != nil {
		t.Fatal(err)
	}
	if res, _, err := ReadResults(filepath.Join(dir, ResultsFile)); err != nil || len(res) != 3 {
		t.Errorf("resumed: %d lines, %v", len(res), err)
	}
}

// fullDisk passes writes through until limit bytes have gone, then writes what still
// fits and fails as a full disk does.
type fullDisk struct {
	w     io.Writer
	limit int
}

func (d *fullDisk) Write(b []byte) (int, error) {
	if len(b) <= d.limit {
		d.limit -= len(b)
		return d.w.Write(b)
	}
	n, _ := d.w.Write(b[:d.limit])
	d.limit = 0
	return n, &os.PathError{Op: "write", Path: "results.jsonl", Err: syscall.ENOSPC}
}

// TestDiskFull: results.jsonl filling the disk in the middle of a run's lines stops
// the trial with an error naming the file and saying the disk is full; the file keeps
// the whole runs before (the part of a line that got through is taken back), and once
// there is room again the trial resumes to what an uninterrupted one writes. A full
// disk under timing.jsonl (/dev/full) is reported the same way.
func TestDiskFull(t *testing.T) {
	ch := testChain(t)
	p := parsePlan(t, smallPlan)
	o := Options{Chain: ch, Version: "test"}
	whole := filepath.Join(t.TempDir(), "whole")
	if err := Run(context.Background(), p, whole, o); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(whole, ResultsFile))
	first := bytes.IndexByte(want, '\n') + 1

	dir := filepath.Join(t.TempDir(), "full")
	of := o
	of.hooks.writer = func(path string, w io.Writer) io.Writer {
		if filepath.Base(path) != ResultsFile {
			return w
		}
		return &fullDisk{w: w, limit: first + 40} // run 1's line is cut 40 bytes in
	}
	err := Run(context.Background(), p, dir, of)
	var we *WriteError
	if !errors.Is(err, ErrIncomplete) || !errors.Is(err, syscall.ENOSPC) || !errors.As(err, &we) || we.Path != filepath.Join(dir, ResultsFile) {
		t.Fatalf("disk full: %v", err)
	}
	for _, s := range []string{"run 1 (recordings/01-text/digital-snr20)", filepath.Join(dir, ResultsFile), "no space left on device", "the disk is full"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q lacks %q", err, s)
		}
	}
	got, _ := os.ReadFile(filepath.Join(dir, ResultsFile))
	if !bytes.Equal(got, want[:first]) {
		t.Errorf("results.jsonl after the full disk:\n%s\nwant run 0's line only:\n%s", got, want[:first])
	}
	if md, err := os.ReadFile(filepath.Join(dir, ReportMD)); err != nil || !bytes.Contains(md, []byte("1 of 3 runs: incomplete")) {
		t.Errorf("report: %v\n%s", err, md)
	}
	if err := Resume(context.Background(), dir, o); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, ResultsFile)); !bytes.Equal(got, want) {
		t.Errorf("resumed results differ from the uninterrupted trial's:\n%s\n%s", got, want)
	}

	// The kernel's own full disk, through a path.
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	if err := os.Truncate(filepath.Join(dir, ResultsFile), int64(first)); err != nil {
		t.Fatal(err)
	}
	timing := filepath.Join(dir, TimingFile)
	os.Remove(timing)
	if err := os.Symlink("/dev/full", timing); err != nil {
		t.Fatal(err)
	}
	err = Resume(context.Background(), dir, o)
	if !errors.Is(err, syscall.ENOSPC) || !errors.As(err, &we) || we.Path != timing || !strings.Contains(err.Error(), "run 1") {
		t.Fatalf("timing.jsonl on /dev/full: %v", err)
	}
	if res, _, err := ReadResults(filepath.Join(dir, ResultsFile)); err != nil || len(res) != 2 {
		t.Errorf("results.jsonl beside a full timing.jsonl: %d lines, %v", len(res), err)
	}
}

// stoppingDevice is a receiver that, like a HackRF whose firmware has wedged, stops
// delivering samples after a number of them and says nothing: its Reads block until
// their context ends.
type stoppingDevice struct {
	radio.Device
	after int64
}

func (d *stoppingDevice) StartRX(ctx context.Context) (radio.RXStream, error) {
	s, err := d.Device.StartRX(ctx)
	if err != nil {
		return nil, err
	}
	return &stoppingRX{RXStream: s, ctx: ctx, left: d.after}, nil
}

type stoppingRX struct {
	radio.RXStream
	ctx  context.Context
	left int64
}

func (s *stoppingRX) Read(dst []complex64) (int, radio.RXMeta, error) {
	if s.left <= 0 {
		<-s.ctx.Done()
		return 0, radio.RXMeta{}, context.Cause(s.ctx)
	}
	n, meta, err := s.RXStream.Read(dst[:min(int64(len(dst)), s.left)])
	s.left -= int64(n)
	return n, meta, err
}

// TestStalledReceiver: a receiver that stops streaming in the middle of run 1 ends
// that run after the stall timeout, not never: its lines in results.jsonl say why the
// frames were lost, the other runs go on as usual, and a replay says it again.
func TestStalledReceiver(t *testing.T) {
	ch := testChain(t)
	p := parsePlan(t, smallPlan)
	const after = 1000 // before the first frame is whole, wherever the loopback starts the burst
	opened := 0
	o := Options{Chain: ch, Version: "test", StallTimeout: 300 * time.Millisecond}
	o.hooks.rx = func(d radio.Device) radio.Device {
		if opened++; opened == 2 {
			return &stoppingDevice{Device: d, after: after}
		}
		return d
	}
	dir := filepath.Join(t.TempDir(), "stall")
	began := time.Now()
	if err := Run(context.Background(), p, dir, o); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(began); el > time.Minute {
		t.Errorf("the trial took %v", el)
	}
	res, _, err := ReadResults(filepath.Join(dir, ResultsFile))
	if err != nil || len(res) != 3 {
		t.Fatalf("%d results, %v", len(res), err)
	}
	for _, r := range res {
		stalled := r.Run == 1
		why := "radio: loopback:hackrf,ppm="
		if got := strings.Contains(r.Error, "device stopped streaming after 1000 samples") && strings.Contains(r.Error, why); got != stalled {
			t.Errorf("run %d: error %q", r.Run, r.Error)
		}
		if stalled && (r.FramesLost != r.Frames || !strings.Contains(r.LostReason, "not received: "+r.Error)) {
			t.Errorf("stalled run: %d of %d frames lost, reason %q", r.FramesLost, r.Frames, r.LostReason)
		}
		if !stalled && (r.FramesLost != 0 || r.Value == nil || *r.Value < 0.99) {
			t.Errorf("run %d: %d frames lost, value %v", r.Run, r.FramesLost, r.Value)
		}
	}
	c, err := Replay(context.Background(), dir, "", Options{Chain: ch, Version: "test"})
	if err != nil || !c.Identical {
		t.Errorf("replay of the stalled trial: %+v, %v", c, err)
	}
}

// TestStalledTwoHosts: trial rx whose device stops streaming ends, with an error
// saying so, and a line for every run of the plan: the runs not heard put their
// frames down to the stall.
func TestStalledTwoHosts(t *testing.T) {
	ch := testChain(t)
	p := parsePlan(t, smallPlan)
	o := Options{Chain: ch, Version: "test", StallTimeout: 300 * time.Millisecond}
	o.hooks.rx = func(d radio.Device) radio.Device {
		if d.Info().Driver == "loopback" && d.Info().CanRX {
			return &stoppingDevice{Device: d, after: 50000}
		}
		return d
	}
	air := filepath.Join(t.TempDir(), "air.cf32")
	dir := filepath.Join(t.TempDir(), "rx")
	began := time.Now()
	sum, err := Receive(context.Background(), p, dir, o, RXOptions{Air: air, Wait: time.Minute})
	if !errors.Is(err, radio.ErrStalled) || sum == nil || !strings.Contains(err.Error(), "stopped streaming after 50000 samples") {
		t.Fatalf("stalled trial rx: %+v, %v", sum, err)
	}
	if el := time.Since(began); el > 30*time.Second {
		t.Errorf("trial rx took %v to notice", el)
	}
	res, _, rerr := ReadResults(filepath.Join(dir, ResultsFile))
	if rerr != nil || len(res) != 3 {
		t.Fatalf("%d results, %v", len(res), rerr)
	}
	for _, r := range res {
		if r.FramesLost != r.Frames || !strings.Contains(r.LostReason, "stopped streaming after 50000 samples") {
			t.Errorf("run %d: %d of %d lost, reason %q", r.Run, r.FramesLost, r.Frames, r.LostReason)
		}
	}
}
