package trial

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/m4sc/m4sc/calibration"
	"github.com/m4sc/m4sc/internal/atomicfile"
	"github.com/m4sc/m4sc/radio/sigmf"
)

// Change is one difference between a trial's stored results and a replay's.
type Change struct {
	Run, Item int
	Task      string
	Scheme    string
	Field     string // "received", "value", "phy", "line" (anything else)
	Old, New  string
}

// Comparison is what Replay found.
type Comparison struct {
	// Identical: the replay's results.jsonl equals the stored one byte for byte.
	Identical bool
	Lines     int // lines replayed
	Changed   int // lines that differ
	Changes   []Change
	// Before and After summarise the stored and the replayed results.
	Before, After []Point
	// ModelChanged: the replay ran another model than the trial recorded.
	ModelChanged bool
}

// MaxChanges is how many changes a Comparison lists.
const MaxChanges = 50

// Replay runs the receive side of the trial in dir again from its recordings (for
// the runs its results.jsonl holds) and writes the results to out (a results.jsonl
// path; "" for dir/replay/results.jsonl), then compares them with the stored ones.
// With the same binary and model the two files are equal byte for byte.
func Replay(ctx context.Context, dir, out string, o Options) (*Comparison, error) {
	p, err := ReadPlan(dir)
	if err != nil {
		return nil, err
	}
	r, err := newRunner(p, dir, o)
	if err != nil {
		return nil, err
	}
	if p.Calibration != nil {
		if r.profile, err = calibration.Load(filepath.Join(dir, CalibrationFile)); err != nil {
			return nil, fmt.Errorf("trial: replay: %w", err)
		}
	}
	stored, _, err := ReadResults(filepath.Join(dir, ResultsFile))
	if err != nil {
		return nil, err
	}
	last := -1
	if len(stored) > 0 {
		last = stored[len(stored)-1].Run
	}
	var res []Result
	base := p.runs()
	for i := 0; i <= last; i++ {
		rs, ok := p.cycleRun(base, i)
		if !ok {
			break
		}
		if err := context.Cause(ctx); err != nil {
			return nil, err
		}
		lines, err := r.replayRun(rs, p.totalRuns())
		if err != nil {
			return nil, fmt.Errorf("trial: replay run %d (%s): %w", i, rs.name, err)
		}
		res = append(res, lines...)
		if o.Progress != nil {
			o.Progress(i+1, last+1)
		}
	}
	b, err := encodeResults(res)
	if err != nil {
		return nil, err
	}
	if out == "" {
		out = filepath.Join(dir, "replay", ResultsFile)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, writeErr(filepath.Dir(out), err)
	}
	if err := atomicfile.WriteFile(out, b, 0o644); err != nil {
		return nil, writeErr(out, err)
	}
	old, err := os.ReadFile(filepath.Join(dir, ResultsFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	c := compare(stored, res)
	c.Identical = bytes.Equal(old, b)
	c.ModelChanged = p.Provenance != nil && p.Provenance.Model != ModelHash(o.Chain)
	return c, nil
}

// replayRun decodes one run's recording.
func (r *runner) replayRun(rs runSpec, total int) ([]Result, error) {
	items, err := r.stepItems(rs.step)
	if err != nil {
		return nil, err
	}
	y, meta, err := ReadRecording(filepath.Join(r.dir, rs.name+sigmf.ExtMeta))
	if err != nil {
		return nil, err
	}
	lay := recordedLayout(meta)
	if len(lay) != len(items) {
		// A recording made elsewhere: the layout as this model sends the items.
		if _, lay, err = r.send(rs, items); err != nil {
			return nil, err
		}
	}
	return r.decode(rs, r.info(rs, total), y, items, lay, recordedFailure(meta))
}

// recordedFailure reads from a trial recording's annotation why its receiver stopped
// early ("" when it did not).
func recordedFailure(meta *sigmf.Meta) string {
	if meta == nil {
		return ""
	}
	for _, a := range meta.Annotations {
		if s, ok := a.Extra[failedKey].(string); ok {
			return s
		}
	}
	return ""
}

// recordedLayout reads the items' layout from a trial recording's annotation.
func recordedLayout(meta *sigmf.Meta) []layout {
	if meta == nil {
		return nil
	}
	for _, a := range meta.Annotations {
		items, ok := a.Extra["m4sc:items"].([]any)
		if !ok {
			continue
		}
		var out []layout
		for _, it := range items {
			v, ok := it.([]any)
			if !ok || len(v) != 3 {
				return nil
			}
			var n [3]int
			for i := range v {
				f, ok := v[i].(float64)
				if !ok || f < 0 || f > 1<<20 {
					return nil
				}
				n[i] = int(f)
			}
			out = append(out, layout{First: n[0], Messages: n[1], Frames: n[2]})
		}
		return out
	}
	return nil
}

func compare(old, new []Result) *Comparison {
	c := &Comparison{Lines: len(new), Before: Summarise(old), After: Summarise(new)}
	for i := range max(len(old), len(new)) {
		if i >= len(old) || i >= len(new) {
			c.Changed++
			continue
		}
		a, b := old[i], new[i]
		ea, _ := encodeResults([]Result{a})
		eb, _ := encodeResults([]Result{b})
		if bytes.Equal(ea, eb) {
			continue
		}
		c.Changed++
		add := func(field, x, y string) {
			if len(c.Changes) < MaxChanges {
				c.Changes = append(c.Changes, Change{Run: b.Run, Item: b.Item, Task: b.Task, Scheme: b.Scheme, Field: field, Old: x, New: y})
			}
		}
		switch {
		case a.Received != b.Received:
			add("received", a.Received, b.Received)
		case fmt.Sprint(deref(a.Value)) != fmt.Sprint(deref(b.Value)):
			add("value", fmt.Sprint(deref(a.Value)), fmt.Sprint(deref(b.Value)))
		case a.PHY != b.PHY:
			add("phy", fmt.Sprintf("%+v", a.PHY), fmt.Sprintf("%+v", b.PHY))
		default:
			add("line", strings.TrimSpace(string(ea)), strings.TrimSpace(string(eb)))
		}
	}
	return c
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}
