package progress

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

// LogInterval is the longest time between two plain lines while work goes on.
const LogInterval = 10 * time.Second

// Bar shows the progress of total units of work. Its methods may be called
// from several goroutines.
type Bar struct {
	mu       sync.Mutex
	bar      *progressbar.ProgressBar // on a terminal; nil for plain lines
	w        io.Writer
	name     string // what the work is: "rx", "calibrate"
	stage    string // the stage of the work, "" before Describe
	total    int64
	count    bool // show n/total
	n        int64
	tenth    int64 // tenths done when the last line was written
	shownAt  time.Time
	began    time.Time
	now      func() time.Time
	finished bool
}

// New returns a Bar for total units of the work called name, writing to w: a
// bar when w is a terminal, plain lines otherwise. count shows the units done
// ("1200/5000") beside the percentage.
func New(w io.Writer, name string, total int64, count bool) *Bar {
	return newBar(w, name, total, count, isTerminal(w), time.Now)
}

func newBar(w io.Writer, name string, total int64, count, terminal bool, now func() time.Time) *Bar {
	b := &Bar{w: w, name: name, total: max(total, 1), count: count, now: now}
	b.began, b.shownAt = now(), now()
	if terminal {
		opts := []progressbar.Option{progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(name),
			progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish()}
		if count {
			opts = append(opts, progressbar.OptionShowCount())
		}
		b.bar = progressbar.NewOptions64(b.total, opts...)
	}
	return b
}

// isTerminal reports whether w is a terminal, where redrawing a line looks like
// a bar rather than litter.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Add records n more units done.
func (b *Bar) Add(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.set(b.n + n)
}

// Set records that n units are done.
func (b *Bar) Set(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.set(n)
}

// Describe names the stage the work is in; the plain display writes a line at
// each new stage.
func (b *Bar) Describe(stage string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if stage == b.stage || b.finished {
		return
	}
	b.stage = stage
	if b.bar != nil {
		b.bar.Describe(b.name + " " + stage)
		return
	}
	b.line()
}

func (b *Bar) set(n int64) {
	if b.finished {
		return
	}
	b.n = min(max(n, 0), b.total)
	if b.bar != nil {
		b.bar.Set64(b.n)
		return
	}
	if t := b.n * 10 / b.total; t > b.tenth || b.now().Sub(b.shownAt) >= LogInterval {
		b.line()
	}
}

// line writes the state as one plain line. b.mu must be held.
func (b *Bar) line() {
	b.tenth = b.n * 10 / b.total
	b.shownAt = b.now()
	var s strings.Builder
	s.WriteString(b.name + ":")
	if b.stage != "" {
		s.WriteString(" " + b.stage)
	}
	fmt.Fprintf(&s, " %d%%", b.n*100/b.total)
	if b.count {
		fmt.Fprintf(&s, " (%d/%d)", b.n, b.total)
	}
	fmt.Fprintf(&s, " after %s\n", elapsed(b.shownAt.Sub(b.began)))
	io.WriteString(b.w, s.String())
}

// Finish ends the display: the bar is cleared; the plain display writes
// "NAME: done after 7.0s", or "NAME: stopped at 40% after ..." when the work
// ended early.
// Later calls do nothing.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	if b.bar != nil {
		b.bar.Finish()
		return
	}
	verb := "done"
	if b.n < b.total {
		verb = fmt.Sprintf("stopped at %d%%", b.n*100/b.total)
	}
	fmt.Fprintf(b.w, "%s: %s after %s\n", b.name, verb, elapsed(b.now().Sub(b.began)))
}

func elapsed(d time.Duration) string {
	return d.Round(100 * time.Millisecond).String()
}
