package trial

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// SoakMemoryTolerance is how far resident memory may stray from its value after the
// soak's first stats interval (a minute by default) for the soak to count as flat.
const SoakMemoryTolerance = 0.10

// SoakSample is one line of soak.jsonl: the process and the traffic at one moment of
// a soak. Counters run from the start of the process's part of the soak (a resumed
// soak starts a new part, its first line marked resumed).
type SoakSample struct {
	Elapsed    float64 `json:"elapsed_s"`         // seconds of soak so far (a resumed soak's earlier runs included)
	Time       string  `json:"time"`              // wall clock, RFC 3339
	Runs       int     `json:"runs"`              // runs done, all parts
	RSS        int64   `json:"rss_kib"`           // resident set (VmRSS of /proc/self/status) after a collection that returns freed memory to the system, KiB; 0 where unknown
	RSSBefore  int64   `json:"rss_before_gc_kib"` // the resident set just before that collection: what it was, garbage included
	Goroutines int     `json:"goroutines"`
	OpenFiles  int     `json:"open_files"` // entries of /proc/self/fd; -1 where unknown
	HeapBytes  uint64  `json:"heap_bytes"` // Go heap in use (runtime.MemStats.HeapAlloc)
	FramesSent int     `json:"frames_sent"`
	FramesLost int     `json:"frames_lost"`
	Samples    int64   `json:"samples"`     // samples received
	AirSamples int64   `json:"air_samples"` // of those, the bursts' (frames and their gaps)
	Resumed    bool    `json:"resumed,omitempty"`
	Final      bool    `json:"final,omitempty"` // the soak's duration was reached
}

// soakMeter runs the soak's clock and writes soak.jsonl between runs (never during
// one, so that every sample sees the process in the same state).
type soakMeter struct {
	plan   *Plan
	j      *journal
	began  time.Time
	before time.Duration // soak time of earlier parts (resume)
	next   time.Time     // when the next sample is due
	now    func() time.Time
	s      SoakSample // counters of this part
}

// startSoak opens soak.jsonl and writes its first sample. A resumed soak (first > 0)
// counts the time its earlier runs took (timing.jsonl) towards the duration.
func (r *runner) startSoak(first int) (*soakMeter, error) {
	j, err := openJournal(filepath.Join(r.dir, SoakFile), -1, r.opts.hooks)
	if err != nil {
		return nil, err
	}
	now := r.opts.hooks.now
	if now == nil {
		now = time.Now
	}
	m := &soakMeter{plan: r.plan, j: j, now: now, began: now()}
	if first > 0 {
		m.before = timeOfRuns(filepath.Join(r.dir, TimingFile), first)
		m.s.Resumed = true
	}
	m.s.Runs = first
	m.next = m.began.Add(r.plan.Soak.Stats)
	if err := m.sample(false); err != nil {
		j.close()
		return nil, err
	}
	m.s.Resumed = false
	return m, nil
}

func (m *soakMeter) elapsed() time.Duration { return m.before + m.now().Sub(m.began) }

// over reports whether the soak's duration has passed.
func (m *soakMeter) over() bool { return m.elapsed() >= m.plan.Soak.Duration }

// ran counts a run and writes a sample when one is due.
func (m *soakMeter) ran(done int, out runOutcome) error {
	m.s.Runs = done
	m.s.FramesSent += out.sent
	for _, l := range out.lines {
		m.s.FramesLost += l.FramesLost
	}
	m.s.Samples += out.heard
	m.s.AirSamples += out.air
	if m.now().Before(m.next) {
		return nil
	}
	for !m.next.After(m.now()) {
		m.next = m.next.Add(m.plan.Soak.Stats)
	}
	return m.sample(false)
}

// finish writes the last sample.
func (m *soakMeter) finish(done int) error {
	m.s.Runs = done
	return m.sample(true)
}

func (m *soakMeter) close() { m.j.close() }

func (m *soakMeter) sample(final bool) error {
	s := m.s
	s.Elapsed = math.Round(m.elapsed().Seconds()*1000) / 1000
	s.Time = m.now().UTC().Format(time.RFC3339)
	s.Final = final
	// The resident set of a garbage-collected process swings with the collector's
	// phase (here by a factor of two within a minute, heap and all), which would hide
	// a slow leak or invent one: the sample counts what the process holds, after a
	// collection that hands freed pages back to the system, and keeps the raw figure
	// beside it.
	s.RSSBefore = residentKiB()
	debug.FreeOSMemory()
	s.RSS, s.OpenFiles = residentKiB(), openFiles()
	s.Goroutines = runtime.NumGoroutine()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.HeapBytes = ms.HeapAlloc
	b, err := json.Marshal(&s)
	if err != nil {
		return err
	}
	return m.j.append(append(b, '\n'))
}

// residentKiB is the process's resident set in KiB (VmRSS), 0 where /proc does not
// say.
func residentKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return v
			}
		}
	}
	return 0
}

// openFiles counts the process's open file descriptors, -1 where /proc does not say.
// The directory's own descriptor, open while it is read, is not counted.
func openFiles() int {
	f, err := os.Open("/proc/self/fd")
	if err != nil {
		return -1
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return -1
	}
	return len(names) - 1
}

// timeOfRuns adds up the seconds timing.jsonl gives the runs before first.
func timeOfRuns(path string, first int) time.Duration {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	var sum float64
	dec := json.NewDecoder(f)
	for {
		var t struct {
			Run     int     `json:"run"`
			Seconds float64 `json:"seconds"`
		}
		if err := dec.Decode(&t); err != nil {
			break
		}
		if t.Run < first {
			sum += t.Seconds
		}
	}
	return time.Duration(sum * float64(time.Second))
}

// SoakSummary is what a soak's directory says of it: the process's resources over
// time (from soak.jsonl, its last part) and the accounting of every frame (from
// results.jsonl).
type SoakSummary struct {
	Duration time.Duration // the plan's
	Elapsed  time.Duration // soak time reached
	Complete bool          // the duration was reached (not interrupted)
	Runs     int
	Samples  []SoakSample // the last part's samples

	// Resources: at the reference sample (the first one at least one stats interval
	// in, "after the first minute"), at the end, and the extremes after the
	// reference. Resident memory is flat when both its value at the end and its
	// trend over the soak (the least-squares line through the samples from the
	// reference on, from the reference's time to the end) lie within
	// SoakMemoryTolerance of the reference; a single high sample between, the
	// garbage collector's saw tooth, is reported (RSSPeak) but is not growth.
	RSSRef, RSSEnd, RSSMin, RSSMax int64
	RSSEndDrift                    float64 // (end - reference) / reference
	RSSTrend                       float64 // the trend line's rise over the soak / reference
	RSSPeak                        float64 // largest |sample - reference| / reference
	MemoryFlat                     bool
	GoroutinesRef, GoroutinesEnd   int
	GoroutinesMax                  int
	FilesRef, FilesEnd, FilesMax   int
	GoroutinesGrew, FilesGrew      bool

	// Frames: sent by the transmitter (soak.jsonl), in results.jsonl, decoded,
	// lost, and lost lines that give no reason. Accounted: every frame sent is in
	// results.jsonl and every loss has its reason.
	FramesSent, Frames, Decoded, Lost int
	LostUnexplained                   int
	Accounted                         bool
	// Duty is the share of received samples that were bursts.
	Duty float64
}

// ReadSoak summarises the soak of a trial directory (res is its results.jsonl).
func ReadSoak(dir string, p *Plan, res []Result) (*SoakSummary, error) {
	if p.Soak == nil {
		return nil, errors.New("trial: the plan is not a soak")
	}
	path := filepath.Join(dir, SoakFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trial: %w", err)
	}
	defer f.Close()
	sum := &SoakSummary{Duration: p.Soak.Duration}
	var parts [][]SoakSample
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		var s SoakSample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			break // a line cut short ends what can be read
		}
		if len(parts) == 0 || s.Resumed {
			parts = append(parts, nil)
		}
		parts[len(parts)-1] = append(parts[len(parts)-1], s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trial: %s: %w", path, err)
	}
	for _, part := range parts {
		sum.FramesSent += part[len(part)-1].FramesSent
	}
	if len(parts) > 0 {
		sum.Samples = parts[len(parts)-1]
	}
	if n := len(sum.Samples); n > 0 {
		last := sum.Samples[n-1]
		sum.Elapsed = time.Duration(last.Elapsed * float64(time.Second))
		sum.Complete = last.Final
		sum.Runs = last.Runs
		ref := 0
		for i, s := range sum.Samples {
			if i > 0 && s.Elapsed-sum.Samples[0].Elapsed >= p.Soak.Stats.Seconds()*0.999 {
				ref = i
				break
			}
		}
		r := sum.Samples[ref]
		sum.RSSRef, sum.RSSEnd, sum.RSSMin, sum.RSSMax = r.RSS, last.RSS, r.RSS, r.RSS
		sum.GoroutinesRef, sum.GoroutinesEnd, sum.GoroutinesMax = r.Goroutines, last.Goroutines, r.Goroutines
		sum.FilesRef, sum.FilesEnd, sum.FilesMax = r.OpenFiles, last.OpenFiles, r.OpenFiles
		for _, s := range sum.Samples[ref:] {
			sum.RSSMin, sum.RSSMax = min(sum.RSSMin, s.RSS), max(sum.RSSMax, s.RSS)
			if r.RSS > 0 {
				sum.RSSPeak = max(sum.RSSPeak, math.Abs(float64(s.RSS-r.RSS))/float64(r.RSS))
			}
			sum.GoroutinesMax = max(sum.GoroutinesMax, s.Goroutines)
			sum.FilesMax = max(sum.FilesMax, s.OpenFiles)
		}
		if r.RSS > 0 {
			sum.RSSEndDrift = float64(last.RSS-r.RSS) / float64(r.RSS)
			sum.RSSTrend = trend(sum.Samples[ref:]) / float64(r.RSS)
		}
		if last.Samples > 0 {
			sum.Duty = float64(last.AirSamples) / float64(last.Samples)
		}
		sum.MemoryFlat = r.RSS > 0 && math.Abs(sum.RSSEndDrift) <= SoakMemoryTolerance && math.Abs(sum.RSSTrend) <= SoakMemoryTolerance
		sum.GoroutinesGrew = last.Goroutines > r.Goroutines
		sum.FilesGrew = last.OpenFiles > r.OpenFiles
	}
	for _, l := range res {
		sum.Frames += l.Frames
		sum.Lost += l.FramesLost
		if l.FramesLost > 0 && l.LostReason == "" {
			sum.LostUnexplained += l.FramesLost
		}
	}
	sum.Decoded = sum.Frames - sum.Lost
	sum.Accounted = sum.FramesSent == sum.Frames && sum.LostUnexplained == 0
	return sum, nil
}

// trend is the rise of resident memory (KiB) over the samples' span along their
// least-squares line.
func trend(ss []SoakSample) float64 {
	if len(ss) < 2 {
		return 0
	}
	var mt, mr float64
	for _, s := range ss {
		mt += s.Elapsed
		mr += float64(s.RSS)
	}
	n := float64(len(ss))
	mt, mr = mt/n, mr/n
	var stt, str float64
	for _, s := range ss {
		stt += (s.Elapsed - mt) * (s.Elapsed - mt)
		str += (s.Elapsed - mt) * (float64(s.RSS) - mr)
	}
	if stt == 0 {
		return 0
	}
	return str / stt * (ss[len(ss)-1].Elapsed - ss[0].Elapsed)
}

// Problems lists what the soak did not meet; none means it passed.
func (s *SoakSummary) Problems() []string {
	var out []string
	if !s.Complete {
		out = append(out, fmt.Sprintf("interrupted after %v of %v", s.Elapsed.Round(time.Second), s.Duration))
	}
	if !s.MemoryFlat {
		out = append(out, fmt.Sprintf("resident memory not flat: %+.1f%% at the end and %+.1f%% along its trend from its value after the first interval (at most %.0f%% each)",
			100*s.RSSEndDrift, 100*s.RSSTrend, 100*SoakMemoryTolerance))
	}
	if s.GoroutinesGrew {
		out = append(out, fmt.Sprintf("goroutines grew from %d to %d", s.GoroutinesRef, s.GoroutinesEnd))
	}
	if s.FilesGrew {
		out = append(out, fmt.Sprintf("open files grew from %d to %d", s.FilesRef, s.FilesEnd))
	}
	if s.FramesSent != s.Frames {
		out = append(out, fmt.Sprintf("%d frames sent but %d in results.jsonl", s.FramesSent, s.Frames))
	}
	if s.LostUnexplained > 0 {
		out = append(out, fmt.Sprintf("%d frames lost without a reason", s.LostUnexplained))
	}
	return out
}

// Lines describes the soak in a few lines of text (report.md and the command line).
func (s *SoakSummary) Lines() []string {
	mib := func(k int64) string { return fmt.Sprintf("%.1f MiB", float64(k)/1024) }
	yes := func(b bool, y, n string) string {
		if b {
			return y
		}
		return n
	}
	status := "complete"
	if !s.Complete {
		status = "incomplete (interrupted)"
	}
	return []string{
		fmt.Sprintf("soak of %v: %v run, %s; %d runs; frames filled %.0f%% of the samples received", s.Duration, s.Elapsed.Round(time.Second), status, s.Runs, 100*s.Duty),
		fmt.Sprintf("resident memory (each sample after a collection): %s after the first interval, %s at the end (%+.1f%%), trend %+.1f%% over the soak; between %s and %s (at most %.1f%% from the first): %s",
			mib(s.RSSRef), mib(s.RSSEnd), 100*s.RSSEndDrift, 100*s.RSSTrend, mib(s.RSSMin), mib(s.RSSMax), 100*s.RSSPeak,
			yes(s.MemoryFlat, fmt.Sprintf("flat, within %.0f%%", 100*SoakMemoryTolerance), fmt.Sprintf("NOT within %.0f%%", 100*SoakMemoryTolerance))),
		fmt.Sprintf("goroutines: %d after the first interval, %d at the end, %d at most: %s", s.GoroutinesRef, s.GoroutinesEnd, s.GoroutinesMax, yes(s.GoroutinesGrew, "GREW", "no growth")),
		fmt.Sprintf("open files: %d after the first interval, %d at the end, %d at most: %s", s.FilesRef, s.FilesEnd, s.FilesMax, yes(s.FilesGrew, "GREW", "no growth")),
		fmt.Sprintf("frames: %d sent, %d in results.jsonl: %d decoded, %d lost (%d of them without a reason): %s", s.FramesSent, s.Frames, s.Decoded, s.Lost, s.LostUnexplained,
			yes(s.Accounted, "every frame accounted for", "NOT all accounted for")),
	}
}

// soakSummary is the report's view of a soak: nil when the plan is none, or its
// file cannot be read (ReadSoak returns nil with every error).
func soakSummary(dir string, p *Plan, res []Result) *SoakSummary {
	s, _ := ReadSoak(dir, p, res)
	return s
}
