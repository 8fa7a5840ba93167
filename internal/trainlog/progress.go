package trainlog

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Defaults for the Progress fields of the same names.
const (
	// DefaultRedrawInterval is the shortest time between two redraws of the
	// terminal bar. Training steps can be much faster than a terminal wants
	// to be repainted, and a redraw per step costs a write system call.
	DefaultRedrawInterval = 200 * time.Millisecond

	// DefaultLogInterval is the time between two plain progress lines when
	// the writer is not a terminal: often enough to see that a run is alive
	// in a CI log, rare enough that hours of training stay readable.
	DefaultLogInterval = 30 * time.Second
)

// barWidth is the width of the terminal bar in cells; progressbar narrows it
// further when the description leaves too little room on the line.
const barWidth = 30

// maxETA bounds the ETA that is printed; beyond it the estimate means nothing
// (a rate near zero) and "?" is shown instead.
const maxETA = 10000 * time.Hour

// Progress shows how far a training stage has got: a redrawn bar on a
// terminal, or one plain line every LogInterval otherwise, so that a log file
// holds lines such as
//
//	instruct step 1200/6000 loss 1.234 2310 tok/s eta 14m03s
//
// The ETA extrapolates the mean step rate since NewProgress over the steps
// that remain; steps done before a resume do not count towards the rate.
//
// Progress never fails the training loop: it stops writing after the first
// write error and reports that error from Err. Its methods may be called from
// several goroutines; its fields are to be set before the first Update.
type Progress struct {
	// RedrawInterval is the shortest time between two redraws of the
	// terminal bar; NewProgress sets DefaultRedrawInterval. Zero or less
	// redraws on every Update.
	RedrawInterval time.Duration

	// LogInterval is the time between two plain lines when the writer is
	// not a terminal; NewProgress sets DefaultLogInterval. Zero or less
	// writes a line on every Update.
	LogInterval time.Duration

	mu    sync.Mutex
	w     io.Writer
	stage string
	total int64 // steps in the stage; 0 or less if unknown
	start int64 // steps already done when the Progress was made

	now   func() time.Time // the clock, replaceable in tests
	began time.Time        // time of NewProgress
	bar   *progressbar.ProgressBar

	step, last   int64     // latest step seen, and the one last shown
	loss, tokens float64   // latest loss (nats/token) and tokens/s
	updated      bool      // Update was called at least once
	shownAt      time.Time // time of the last redraw or line
	shown        bool      // something was drawn or written
	finished     bool
	err          error // first write error
}

// NewProgress returns a Progress for a stage (such as "lm", "align",
// "instruct") of total steps, writing to w. start is the number of steps
// already done when a run resumes from a checkpoint, so that the display and
// the ETA begin there rather than at zero. A total of 0 or less means the
// length is unknown: the display then shows no total and no ETA.
//
// If w is an *os.File on a terminal, Progress draws a bar on it; for any other
// writer (a pipe, a log file, a buffer) it writes plain lines.
func NewProgress(w io.Writer, stage string, total int64, start int64) *Progress {
	return newProgress(w, stage, total, start, time.Now, isTerminal(w))
}

// newProgress is NewProgress with the clock and the choice of display given,
// so that tests can drive both displays without a terminal or a real clock.
func newProgress(w io.Writer, stage string, total, start int64, now func() time.Time, bar bool) *Progress {
	p := &Progress{
		RedrawInterval: DefaultRedrawInterval,
		LogInterval:    DefaultLogInterval,
		w:              w,
		stage:          stage,
		total:          total,
		start:          start,
		now:            now,
		began:          now(),
		step:           start,
		last:           start,
	}
	if bar {
		length := total
		if length <= 0 {
			length = -1 // progressbar's spinner for an unknown length
		}
		p.bar = progressbar.NewOptions64(length,
			progressbar.OptionSetWriter(barWriter{p}),
			progressbar.OptionSetWidth(barWidth),
			// Our own ETA goes in the description: the bar's estimate
			// would count the resumed steps as done in no time.
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetElapsedTime(false),
			// No background goroutine redrawing a spinner: the bar moves
			// only when the training loop calls Update.
			progressbar.OptionSetSpinnerChangeInterval(0),
			// Throttling happens in Update, with the injectable clock.
			progressbar.OptionThrottle(0),
		)
	}
	return p
}

// isTerminal reports whether w is a terminal, the only place where redrawing
// a line with carriage returns looks like a bar rather than litter.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// barWriter passes the bar's output to the Progress's writer, keeping the
// first error so that a broken terminal does not stop training.
type barWriter struct{ p *Progress }

func (b barWriter) Write(data []byte) (int, error) {
	// Called with p.mu held: the bar only writes from inside our methods.
	if b.p.err != nil {
		return len(data), nil
	}
	n, err := b.p.w.Write(data)
	if err != nil {
		b.p.err = fmt.Errorf("trainlog: progress: %w", err)
	}
	return n, err
}

// Update records that step steps of the stage are done, with the latest
// training loss (mean cross-entropy, nats per token) and throughput in tokens
// per second, and redraws the display if its interval has passed.
func (p *Progress) Update(step int64, loss float64, tokensPerSec float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.step, p.loss, p.tokens, p.updated = step, loss, tokensPerSec, true
	now := p.now()
	interval := p.LogInterval
	if p.bar != nil {
		interval = p.RedrawInterval
	}
	if p.shown && now.Sub(p.shownAt) < interval {
		return
	}
	p.show(now)
}

// show draws the latest state at time now. p.mu must be held.
func (p *Progress) show(now time.Time) {
	p.shownAt, p.shown, p.last = now, true, p.step
	desc := p.describe(now)
	if p.bar != nil {
		step := p.step
		if p.total > 0 {
			step = min(max(step, 0), p.total)
		}
		// The bar may report that it is already full; the description
		// still holds the truth, so the error is of no use here.
		_ = p.bar.Set64(step)
		p.bar.Describe(desc + " ")
		return
	}
	p.writeLine(desc)
}

// describe formats the state as one line without a newline:
// "lm step 1200/6000 loss 1.234 2310 tok/s eta 14m03s".
func (p *Progress) describe(now time.Time) string {
	var b strings.Builder
	b.WriteString(p.stage)
	if p.total > 0 {
		fmt.Fprintf(&b, " step %d/%d", p.step, p.total)
	} else {
		fmt.Fprintf(&b, " step %d", p.step)
	}
	if p.updated {
		fmt.Fprintf(&b, " loss %.3f %.0f tok/s", p.loss, p.tokens)
	}
	if p.total > 0 {
		b.WriteString(" eta ")
		b.WriteString(p.eta(now))
	}
	return b.String()
}

// eta extrapolates the mean rate since NewProgress over the remaining steps.
func (p *Progress) eta(now time.Time) string {
	remaining := p.total - p.step
	if remaining <= 0 {
		return formatDuration(0)
	}
	done := p.step - p.start
	elapsed := now.Sub(p.began).Seconds()
	if done <= 0 || elapsed <= 0 {
		return "?"
	}
	secs := float64(remaining) * elapsed / float64(done)
	if !(secs < maxETA.Seconds()) {
		return "?"
	}
	return formatDuration(time.Duration(secs * float64(time.Second)))
}

// formatDuration writes d rounded to the second as "14m03s", or "2h05m09s"
// from an hour on: fixed fields are easier to scan down a log than
// time.Duration's "14m3.2s".
func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d.Round(time.Second) / time.Second)
	h, m, s := s/3600, s/60%60, s%60
	if h > 0 {
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	}
	return fmt.Sprintf("%dm%02ds", m, s)
}

// writeLine writes line and a newline unless an earlier write failed.
// p.mu must be held.
func (p *Progress) writeLine(line string) {
	if p.err != nil {
		return
	}
	if _, err := io.WriteString(p.w, line+"\n"); err != nil {
		p.err = fmt.Errorf("trainlog: progress: %w", err)
	}
}

// Finish shows the final state, whatever the intervals, and ends the display:
// the bar is left on its own line, and the plain display writes a closing line
// "lm finished at step 6000/6000 after 1h02m03s", or "lm stopped at step
// 1290/6000 ..." when training ended before its total (an interrupt). Later calls to Update and
// Finish do nothing.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	now := p.now()
	if p.bar != nil {
		p.show(now)
		// progressbar leaves the cursor at the end of the bar.
		p.writeLine("")
		return
	}
	if p.updated && (!p.shown || p.last != p.step) {
		p.show(now)
	}
	verb := "finished"
	if p.total > 0 && p.step < p.total {
		verb = "stopped"
	}
	line := fmt.Sprintf("%s %s at step %d", p.stage, verb, p.step)
	if p.total > 0 {
		line += fmt.Sprintf("/%d", p.total)
	}
	p.writeLine(line + " after " + formatDuration(now.Sub(p.began)))
}

// Err returns the first error met writing the display, or nil. Progress stops
// writing after that error; training need not stop with it.
func (p *Progress) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
