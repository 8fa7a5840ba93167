package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// fakeClock advances by step at every reading.
type fakeClock struct {
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time { c.t = c.t.Add(c.step); return c.t }

// Off a terminal, a thousand small steps make a line per tenth and a closing
// line: no carriage returns, no frames.
func TestPlainLines(t *testing.T) {
	var buf bytes.Buffer
	clk := &fakeClock{t: time.Unix(0, 0), step: time.Millisecond}
	b := newBar(&buf, "rx", 20000, true, false, clk.now)
	for range 1000 {
		b.Add(20)
	}
	b.Finish()
	b.Finish()
	out := buf.String()
	if strings.Contains(out, "\r") {
		t.Fatalf("carriage returns in a log:\n%q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 11 {
		t.Fatalf("%d lines, want 10 tenths and the end:\n%s", len(lines), out)
	}
	if lines[0] != "rx: 10% (2000/20000) after 100ms" || !strings.HasPrefix(lines[10], "rx: done after ") {
		t.Errorf("lines:\n%s", out)
	}
}

// Slow work gets a line at least every LogInterval; stages get a line each;
// work that ends early says where it stopped.
func TestPlainSlowAndStages(t *testing.T) {
	var buf bytes.Buffer
	clk := &fakeClock{t: time.Unix(0, 0), step: 3 * time.Second}
	b := newBar(&buf, "calibrate", 1000, false, false, clk.now)
	b.Describe("frames")
	for i := range 8 {
		b.Set(int64(i)) // far below a tenth, but slow
	}
	b.Describe("tone")
	b.Set(450)
	b.Finish()
	out := buf.String()
	for _, want := range []string{"calibrate: frames 0% after ", "calibrate: tone 0% after", "calibrate: tone 45% after", "calibrate: stopped at 45% after "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n < 5 || n > 9 {
		t.Errorf("%d lines for 24 s of slow work:\n%s", n, out)
	}
}

// On a terminal the bar is drawn in place.
func TestTerminalBar(t *testing.T) {
	var buf bytes.Buffer
	b := newBar(&buf, "PER", 4, true, true, time.Now)
	for range 4 {
		b.Add(1)
	}
	b.Finish()
	if !strings.Contains(buf.String(), "\r") {
		t.Errorf("no bar drawn: %q", buf.String())
	}
}
