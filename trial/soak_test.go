package trial

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSoakShort: the shipped soak plan, cut to a few seconds, repeats its runs in
// cycles until the time is up, writes soak.jsonl about once a stats interval with
// the process's memory, goroutines and open files, keeps the frames to about half the
// air, accounts for every frame sent in results.jsonl (each loss with a reason), and
// says all of it in the report; a replay reproduces every cycle's results.
func TestSoakShort(t *testing.T) {
	ch := testChain(t)
	src, err := os.ReadFile("../examples/soak-loopback.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := parsePlan(t, string(src))
	if p.Soak == nil || p.Soak.Duration != time.Hour || p.Soak.Duty != 0.5 || p.Soak.Stats != time.Minute {
		t.Fatalf("the shipped soak: %+v", p.Soak)
	}
	const length = 5 * time.Second
	if err := p.SetSoakDuration(length); err != nil {
		t.Fatal(err)
	}
	p.Soak.Stats = time.Second
	dir := filepath.Join(t.TempDir(), "soak")
	// The soak's clock moves 100 ms each time it is read (a few times a run), so the
	// soak covers the same runs, more than one cycle, on a fast or a loaded machine.
	var mu sync.Mutex
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tick := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(100 * time.Millisecond)
		return clock
	}
	if err := Run(context.Background(), p, dir, Options{Chain: ch, Version: "test", hooks: hooks{now: tick}}); err != nil {
		t.Fatal(err)
	}

	var samples []SoakSample
	f, err := os.Open(filepath.Join(dir, SoakFile))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var s SoakSample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("soak.jsonl: %v: %s", err, sc.Bytes())
		}
		samples = append(samples, s)
	}
	f.Close()
	// One at the start, about one a second, one at the end.
	if n := len(samples); n < 4 || n > 4+int(length/time.Second)+2 || !samples[n-1].Final || samples[0].Elapsed > 0.5 || samples[n-1].Elapsed < length.Seconds() {
		t.Fatalf("%d samples: %+v", n, samples)
	}
	for _, s := range samples {
		if s.Goroutines <= 0 || s.HeapBytes == 0 || (runtime.GOOS == "linux" && (s.RSS <= 0 || s.OpenFiles <= 0)) {
			t.Errorf("sample %+v", s)
		}
	}

	res, _, err := ReadResults(filepath.Join(dir, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := ReadSoak(dir, p, res)
	if err != nil {
		t.Fatal(err)
	}
	cycle := len(p.runs())
	if sum.Runs <= cycle || res[len(res)-1].Run != sum.Runs-1 || !sum.Complete {
		t.Errorf("%d runs (%d a cycle), last result of run %d, complete %v", sum.Runs, cycle, res[len(res)-1].Run, sum.Complete)
	}
	if !sum.Accounted || sum.FramesSent == 0 || sum.FramesSent != sum.Frames || sum.Decoded+sum.Lost != sum.Frames {
		t.Errorf("frames: %+v", sum)
	}
	for _, r := range res {
		if r.FramesLost > 0 && r.LostReason == "" {
			t.Errorf("run %d item %d lost %d frames without a reason", r.Run, r.Item, r.FramesLost)
		}
	}
	// The bursts fill about half of what the receiver heard.
	if sum.Duty < 0.4 || sum.Duty > 0.55 {
		t.Errorf("duty %.2f, want about 0.5", sum.Duty)
	}
	if _, err := os.Stat(filepath.Join(dir, RecordingsDir, "01-text", "semantic-snr20-c1"+".sigmf-meta")); err != nil {
		t.Errorf("second cycle's recording: %v", err)
	}
	md, err := os.ReadFile(filepath.Join(dir, ReportMD))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"## Soak", "resident memory (each sample after a collection):", "goroutines:", "open files:", "every frame accounted for", "- verdict:"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("report.md lacks %q:\n%s", s, md)
		}
	}
	t.Logf("%s", strings.Join(sum.Lines(), "\n"))

	c, err := Replay(context.Background(), dir, "", Options{Chain: ch, Version: "test"})
	if err != nil || !c.Identical {
		t.Errorf("replay of the soak: %+v, %v", c, err)
	}
}
