package trainlog

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestProgressPlainLines(t *testing.T) {
	var buf bytes.Buffer
	clock := newFakeClock()
	p := newProgress(&buf, "instruct", 6000, 1000, clock.now, false)

	// 200 steps in 120 s after resuming at 1000: 0.6 s a step, so 4800
	// remaining steps take 2880 s.
	clock.advance(120 * time.Second)
	p.Update(1200, 1.2344, 2310.4)
	clock.advance(10 * time.Second) // within LogInterval: no line
	p.Update(1210, 1.2, 2300)
	clock.advance(20 * time.Second) // 30 s after the first line
	p.Update(1250, 1.1, 2290)
	clock.advance(5 * time.Second)
	p.Update(1260, 1.05, 2280)
	clock.advance(10 * time.Second)
	p.Finish()
	p.Update(1300, 1, 1) // after Finish: ignored

	want := []string{
		"instruct step 1200/6000 loss 1.234 2310 tok/s eta 48m00s",
		// 250 steps in 150 s; 4750 left at 0.6 s.
		"instruct step 1250/6000 loss 1.100 2290 tok/s eta 47m30s",
		// Finish shows the last update, which the interval held back:
		// 260 steps in 165 s, 4740 left.
		"instruct step 1260/6000 loss 1.050 2280 tok/s eta 50m08s",
		"instruct stopped at step 1260/6000 after 2m45s",
	}
	got := lines(buf.String())
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := p.Err(); err != nil {
		t.Errorf("Err: %v", err)
	}
}

func TestProgressLogInterval(t *testing.T) {
	tests := []struct {
		interval time.Duration
		want     int // lines from 10 updates 1 s apart, Finish excluded
	}{
		{0, 10},
		{time.Second, 10},
		{3 * time.Second, 4}, // at 0, 3, 6, 9 s
		{DefaultLogInterval, 1},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		clock := newFakeClock()
		p := newProgress(&buf, "lm", 100, 0, clock.now, false)
		p.LogInterval = tt.interval
		for i := range 10 {
			p.Update(int64(i), 1, 1)
			if i < 9 {
				clock.advance(time.Second)
			}
		}
		if got := len(lines(buf.String())); got != tt.want {
			t.Errorf("LogInterval %v: %d lines, want %d:\n%s", tt.interval, got, tt.want, buf.String())
		}
	}
}

// TestProgressEdgeCases: unknown or zero totals, steps past the total, no
// updates at all, and NaN losses neither panic nor print nonsense.
func TestProgressEdgeCases(t *testing.T) {
	tests := []struct {
		name         string
		total, start int64
		updates      []int64
		want         []string // plain lines; nil to check only for no panic
	}{
		{"total 0", 0, 0, []int64{1, 2}, []string{
			"lm step 1 loss NaN 0 tok/s",
			"lm step 2 loss NaN 0 tok/s",
			"lm finished at step 2 after 0m02s",
		}},
		{"negative total", -5, 0, []int64{3}, nil},
		{"no updates", 10, 4, nil, []string{"lm stopped at step 4/10 after 0m00s"}},
		{"past total", 10, 0, []int64{5, 12}, []string{
			"lm step 5/10 loss NaN 0 tok/s eta 0m01s",
			"lm step 12/10 loss NaN 0 tok/s eta 0m00s",
			"lm finished at step 12/10 after 0m02s",
		}},
		{"no progress since resume", 10, 5, []int64{5}, []string{
			"lm step 5/10 loss NaN 0 tok/s eta ?",
			"lm stopped at step 5/10 after 0m01s",
		}},
	}
	for _, tt := range tests {
		for _, bar := range []bool{false, true} {
			var buf bytes.Buffer
			clock := newFakeClock()
			p := newProgress(&buf, "lm", tt.total, tt.start, clock.now, bar)
			p.LogInterval, p.RedrawInterval = 0, 0
			for _, s := range tt.updates {
				clock.advance(time.Second)
				p.Update(s, nan(), 0)
			}
			p.Finish()
			p.Finish()
			if err := p.Err(); err != nil {
				t.Errorf("%s, bar %v: Err: %v", tt.name, bar, err)
			}
			if !bar && tt.want != nil {
				if got := lines(buf.String()); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
					t.Errorf("%s: got\n%s\nwant\n%s", tt.name, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
			}
		}
	}
}

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	clock := newFakeClock()
	p := newProgress(&buf, "align", 10, 2, clock.now, true)
	clock.advance(4 * time.Second)
	p.Update(4, 2.5, 1000)
	clock.advance(100 * time.Millisecond) // within RedrawInterval
	before := buf.Len()
	p.Update(5, 2.4, 1000)
	if buf.Len() != before {
		t.Errorf("redrawn within RedrawInterval: %q", buf.String()[before:])
	}
	clock.advance(200 * time.Millisecond)
	p.Update(6, 2.3, 1000)
	p.Finish()

	out := buf.String()
	for _, want := range []string{
		"\r",
		"align step 4/10 loss 2.500 1000 tok/s eta 0m12s",
		"align step 6/10 loss 2.300 1000 tok/s eta",
		"60%",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("bar output lacks %q:\n%q", want, out)
		}
	}
	if strings.Contains(out, "step 5/10") {
		t.Errorf("throttled update was drawn:\n%q", out)
	}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("Finish did not end the bar's line:\n%q", out)
	}
}

func TestProgressTerminalDetection(t *testing.T) {
	// A buffer is never a terminal; an *os.File in a test run is a pipe or
	// a file, which the fallback covers, so only the buffer is checked.
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a bytes.Buffer was taken for a terminal")
	}
	p := NewProgress(io.Discard, "lm", 10, 0)
	if p.bar != nil {
		t.Error("NewProgress drew a bar on io.Discard")
	}
	if p.LogInterval != DefaultLogInterval || p.RedrawInterval != DefaultRedrawInterval {
		t.Errorf("intervals %v, %v; want the defaults", p.LogInterval, p.RedrawInterval)
	}
}

// failWriter fails every write after the first n.
type failWriter struct{ n int }

func (w *failWriter) Write(b []byte) (int, error) {
	if w.n == 0 {
		return 0, errors.New("disk full")
	}
	w.n--
	return len(b), nil
}

func TestProgressWriteError(t *testing.T) {
	for _, bar := range []bool{false, true} {
		w := &failWriter{n: 1}
		clock := newFakeClock()
		p := newProgress(w, "lm", 10, 0, clock.now, bar)
		p.LogInterval, p.RedrawInterval = 0, 0
		for i := range 5 {
			p.Update(int64(i), 1, 1)
		}
		p.Finish()
		if err := p.Err(); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("bar %v: Err %v, want the write error", bar, err)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0m00s"},
		{-time.Second, "0m00s"},
		{1499 * time.Millisecond, "0m01s"},
		{843 * time.Second, "14m03s"},
		{time.Hour - time.Second, "59m59s"},
		{time.Hour, "1h00m00s"},
		{100*time.Hour + 5*time.Minute + 9*time.Second, "100h05m09s"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func BenchmarkProgressUpdate(b *testing.B) {
	p := NewProgress(io.Discard, "lm", 1<<40, 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.Update(int64(i), 2.5, 1000)
	}
}

func nan() float64 { return math.NaN() }
