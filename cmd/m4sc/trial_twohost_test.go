package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m4sc/m4sc/llm/weights"
	"github.com/m4sc/m4sc/trial"
)

// twoHostPlan: three runs of two sentences; the receiver's loopback sets the channel.
const twoHostPlan = `name: two-host
seed: 5
tx: loopback:hackrf
rx: loopback:hackrf,snr=25
steps:
  - name: text
    task: text.transmit
    content: {texts: ["the state of our union is strong", "we will meet again"]}
    schemes: [semantic, digital, 80211a]
`

// buildM4sc builds the m4sc binary into a temporary directory.
func buildM4sc(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "m4sc")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type proc struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
}

// syncBuffer is a bytes.Buffer a process writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the process has written want to stderr.
func (p *proc) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(p.stderr.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in two minutes: %s", want, &p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func start(t *testing.T, dir, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...)}
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, ".config"))
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill() })
	return p
}

func (p *proc) wait(t *testing.T, name string) {
	t.Helper()
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", name, err, &p.stdout, &p.stderr)
	}
}

// TestTrialTwoProcesses runs m4sc trial tx and m4sc trial rx as two processes on one
// simulated channel: tx writes its transmission to a raw file as it goes (--air), rx hears
// that stream through its loopback device (25 dB, the hackrf pair's impairments).
// A receiver started first hears every run and its directory replays byte for byte;
// one started after the first run was sent counts that run's frames lost and hears
// the last.
func TestTrialTwoProcesses(t *testing.T) {
	if !weights.HasModel() {
		t.Skip("no shipped model in this build")
	}
	if testing.Short() {
		t.Skip("builds the binary and runs two processes")
	}
	bin := buildM4sc(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(twoHostPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	results := func(out string) []trial.Result {
		t.Helper()
		res, _, err := trial.ReadResults(filepath.Join(dir, out, trial.ResultsFile))
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 6 {
			t.Fatalf("%s: %d results, want 6 (3 runs of 2 inputs)", out, len(res))
		}
		return res
	}

	t.Run("rx first", func(t *testing.T) {
		rx := start(t, dir, bin, "trial", "rx", "plan.yaml", "--out", "first", "--air", "air1.cf32", "--idle", "20s", "--wait", "120s")
		rx.waitFor(t, "trial: rx: listening")
		tx := start(t, dir, bin, "trial", "tx", "plan.yaml", "--air", "air1.cf32")
		tx.wait(t, "tx")
		rx.wait(t, "rx")
		if !strings.Contains(rx.stdout.String(), "heard 3 of 3 runs; 0 of 6 frames lost") {
			t.Errorf("rx: %s", &rx.stdout)
		}
		for _, r := range results("first") {
			if r.FramesLost != 0 || r.Received == "" || !r.PHY.Detected {
				t.Errorf("run %d item %d (%s): lost %d of %d frames, received %q", r.Run, r.Item, r.Scheme, r.FramesLost, r.Frames, r.Received)
			}
		}
		rp := start(t, dir, bin, "trial", "replay", "first")
		rp.wait(t, "replay")
		if !strings.Contains(rp.stdout.String(), "identical") {
			t.Errorf("replay: %s", &rp.stdout)
		}
		rs := start(t, dir, bin, "trial", "resume", "first")
		if err := rs.cmd.Wait(); err == nil || !strings.Contains(rs.stderr.String(), "cannot be resumed") {
			t.Errorf("resume of a trial rx directory: %v, %s", err, &rs.stderr)
		}
	})

	t.Run("rx after tx", func(t *testing.T) {
		tx := start(t, dir, bin, "trial", "tx", "plan.yaml", "--air", "air2.cf32", "--pause", "5s")
		// Start the receiver once the first run is on the air.
		deadline := time.Now().Add(time.Minute)
		for {
			if st, err := os.Stat(filepath.Join(dir, "air2.cf32")); err == nil && st.Size() > 8*trial.DefaultRunGap {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("tx wrote nothing in a minute: %s", &tx.stderr)
			}
			time.Sleep(20 * time.Millisecond)
		}
		rx := start(t, dir, bin, "trial", "rx", "plan.yaml", "--out", "after", "--air", "air2.cf32", "--idle", "20s", "--wait", "120s")
		tx.wait(t, "tx")
		rx.wait(t, "rx")
		res := results("after")
		for _, r := range res {
			switch {
			case r.Run == 0 && (r.FramesLost != r.Frames || r.Received != ""):
				t.Errorf("run 0 item %d, sent before rx started: lost %d of %d frames, received %q", r.Item, r.FramesLost, r.Frames, r.Received)
			case r.Run == 2 && (r.FramesLost != 0 || r.Received == ""):
				t.Errorf("run 2 item %d: lost %d of %d frames, received %q", r.Item, r.FramesLost, r.Frames, r.Received)
			}
		}
		if !strings.Contains(rx.stdout.String(), "frames lost") || !strings.Contains(rx.stdout.String(), "of 3 runs") {
			t.Errorf("rx: %s", &rx.stdout)
		}
	})
}
