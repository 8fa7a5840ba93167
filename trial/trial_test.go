package trial

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/m4sc/m4sc/llm/weights"
	"github.com/m4sc/m4sc/semantic"
	semweights "github.com/m4sc/m4sc/semantic/weights"
)

// testPlan needs no downloaded data: test scenes and a sentence of its own.
const testPlan = `name: test
seed: 3
tx: loopback:hackrf
rx: loopback:hackrf
steps:
  - name: caption
    task: image.caption
    content: {index: [0, 1]}
    schemes: [semantic, digital]
    snr: [10]
  - name: text
    task: text.transmit
    content: {texts: ["the state of our union is strong"]}
    schemes: [semantic, 80211a]
    snr: [15]
    channel: epa
    doppler: 5
thresholds:
  - {task: image.caption, scheme: digital, snr: 10, min: 0.5}
`

func testChain(t *testing.T) *semantic.Chain {
	t.Helper()
	if !weights.HasModel() {
		t.Skip("no shipped model in this build")
	}
	m, err := weights.Model()
	if err != nil {
		t.Fatal(err)
	}
	c, err := semweights.Codec()
	if err != nil {
		t.Skip(err)
	}
	ch, err := semantic.NewChain(m, c)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestRunReplayResume: a trial writes its directory; replay reproduces results.jsonl
// byte for byte; a trial interrupted after two runs, with a line cut short at the end
// of its results, resumes to the same results as the one never interrupted.
func TestRunReplayResume(t *testing.T) {
	ch := testChain(t)
	p, err := Parse([]byte(testPlan))
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Chain: ch, Version: "test"}
	whole := filepath.Join(t.TempDir(), "whole")
	if err := Run(context.Background(), p, whole, o); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{PlanFile, ResultsFile, TimingFile, ReportMD, ReportHTML, "plots/constellation.png", "plots/spectrum.png",
		"plots/subcarrier-snr.png", "plots/frame-loss.png", "plots/metric-image.caption.png",
		"recordings/01-caption/semantic-snr10.sigmf-meta", "recordings/02-text/80211a-snr15.sigmf-data"} {
		if _, err := os.Stat(filepath.Join(whole, f)); err != nil {
			t.Error(err)
		}
	}
	res, _, err := ReadResults(filepath.Join(whole, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2*2+2 {
		t.Fatalf("%d results, want 6", len(res))
	}
	for _, r := range res {
		if !r.PHY.Detected || r.Value == nil || r.Received == "" {
			t.Errorf("run %d item %d: %+v", r.Run, r.Item, r)
		}
	}
	if err := Run(context.Background(), p, whole, o); err == nil {
		t.Error("Run into a trial directory that is not empty succeeded")
	}

	c, err := Replay(context.Background(), whole, "", o)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Identical || c.Changed != 0 || c.ModelChanged {
		t.Errorf("replay differs: %+v", c)
	}

	cut := filepath.Join(t.TempDir(), "cut")
	ctx, cancel := context.WithCancel(context.Background())
	oc := o
	oc.Progress = func(done, total int) {
		if done == 2 {
			cancel()
		}
	}
	err = Run(ctx, p, cut, oc)
	if !errors.Is(err, ErrIncomplete) || !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	part, _, err := ReadResults(filepath.Join(cut, ResultsFile))
	if err != nil || len(part) != 4 {
		t.Fatalf("interrupted run kept %d results (%v), want 4", len(part), err)
	}
	md, err := os.ReadFile(filepath.Join(cut, ReportMD))
	if err != nil || !bytes.Contains(md, []byte("2 of 4 runs: incomplete")) {
		t.Errorf("report of the interrupted trial: %v\n%s", err, md)
	}
	// A write cut short.
	f, err := os.OpenFile(filepath.Join(cut, ResultsFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"run":2,"step":1,"ite`)
	f.Close()
	if err := Resume(context.Background(), cut, o); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(whole, ResultsFile))
	b, _ := os.ReadFile(filepath.Join(cut, ResultsFile))
	if !bytes.Equal(a, b) {
		t.Errorf("resumed results differ from the whole run's:\n%s\n%s", a, b)
	}
	if v := Check(p, res); len(v) != 1 || !v[0].Pass {
		t.Errorf("threshold: %+v", v)
	}
}
