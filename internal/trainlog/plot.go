package trainlog

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Size of the PNG that PlotCurves writes: 8×5 inches, 768×480 pixels at the
// 96 dpi of gonum/plot's image canvas.
const (
	PlotWidth  = 8 * vg.Inch
	PlotHeight = 5 * vg.Inch
)

// SmoothingFraction sets the span of the moving average that PlotCurves draws
// over each stage's raw loss: 5% of the stage's rows (at least one row), so
// the smoothing looks alike whether a stage logged every step or every
// hundred.
const SmoothingFraction = 0.05

// logScaleRatio is the ratio of the largest to the smallest loss beyond which
// the loss axis is logarithmic: past a decade, a linear axis squeezes the
// late, interesting part of the curve into a few pixels.
const logScaleRatio = 10

// ErrNoData is returned by PlotCurves when the rows hold no finite loss.
var ErrNoData = errors.New("trainlog: no finite loss to plot")

// palette gives each stage a colour, in order of first appearance; the
// Okabe–Ito colours stay distinct for colour-blind readers. Yellow is left
// out, as it hardly shows on white.
var palette = [...]color.NRGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xD5, 0x5E, 0x00, 0xFF}, // vermilion
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0x00, 0x00, 0x00, 0xFF}, // black
}

// rawAlpha is the opacity of the raw loss line, which is there for the
// spread around the average, not to be read point by point.
const rawAlpha = 0x50

// PlotCurves draws the loss curves of rows as a PNG of PlotWidth×PlotHeight
// at pngPath: for each stage, in its own colour, the raw training loss
// against the step as a thin light line, its exponential moving average (see
// SmoothingFraction) as a thicker line, and the validation losses as points.
// Stages share the step axis, each starting where its own steps start. The
// loss axis is logarithmic when the losses span more than a decade.
//
// Rows need not be sorted; NaN and infinite losses are left out. The file is
// written to a temporary file and renamed, so a viewer never sees half a
// picture. Rows without any finite loss give ErrNoData.
func PlotCurves(rows []Row, title string, pngPath string) error {
	stages := groupStages(rows)
	if len(stages) == 0 {
		return ErrNoData
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range stages {
		for _, pts := range []plotter.XYs{s.train, s.val} {
			for _, xy := range pts {
				lo, hi = min(lo, xy.Y), max(hi, xy.Y)
			}
		}
	}

	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "step"
	p.X.Tick.Marker = stepTicks{}
	p.Y.Label.Text = "loss (nats/token)"
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	if lo > 0 && hi > logScaleRatio*lo {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}

	for i, s := range stages {
		c := palette[i%len(palette)]
		light := c
		light.A = rawAlpha

		raw, err := plotter.NewLine(s.train)
		if err != nil {
			return fmt.Errorf("trainlog: plot %s: %w", s.name, err)
		}
		raw.Color, raw.Width = light, vg.Points(0.5)

		avg, err := plotter.NewLine(ema(s.train, SmoothingFraction))
		if err != nil {
			return fmt.Errorf("trainlog: plot %s: %w", s.name, err)
		}
		avg.Color, avg.Width = c, vg.Points(1.75)

		p.Add(raw, avg)
		p.Legend.Add(s.name+" loss", raw)
		p.Legend.Add(s.name+" loss (EMA)", avg)

		if len(s.val) > 0 {
			val, err := plotter.NewScatter(s.val)
			if err != nil {
				return fmt.Errorf("trainlog: plot %s: %w", s.name, err)
			}
			val.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
			p.Add(val)
			p.Legend.Add(s.name+" validation", val)
		}
	}

	to, err := p.WriterTo(PlotWidth, PlotHeight, "png")
	if err != nil {
		return fmt.Errorf("trainlog: plot: %w", err)
	}
	var buf bytes.Buffer
	if _, err := to.WriteTo(&buf); err != nil {
		return fmt.Errorf("trainlog: plot: %w", err)
	}
	if err := writeFileAtomic(pngPath, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("trainlog: plot: %w", err)
	}
	return nil
}

// stageSeries holds one stage's points, sorted by step.
type stageSeries struct {
	name  string
	train plotter.XYs // finite training losses
	val   plotter.XYs // finite validation losses
}

// groupStages splits rows by stage in order of first appearance, keeping only
// finite losses and stages that have at least one.
func groupStages(rows []Row) []stageSeries {
	var stages []stageSeries
	index := map[string]int{}
	for _, r := range rows {
		i, ok := index[r.Stage]
		if !ok {
			i = len(stages)
			index[r.Stage] = i
			stages = append(stages, stageSeries{name: r.Stage})
		}
		s := &stages[i]
		x := float64(r.Step)
		if finite(r.Loss) {
			s.train = append(s.train, plotter.XY{X: x, Y: r.Loss})
		}
		if finite(r.ValLoss) {
			s.val = append(s.val, plotter.XY{X: x, Y: r.ValLoss})
		}
	}
	byStep := func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) }
	kept := stages[:0]
	for _, s := range stages {
		if len(s.train) == 0 {
			// Without a training curve there is no line to colour; its
			// validation points alone would be an odd legend entry.
			continue
		}
		slices.SortStableFunc(s.train, byStep)
		slices.SortStableFunc(s.val, byStep)
		kept = append(kept, s)
	}
	return kept
}

// ema returns the exponential moving average of pts with a span of fraction
// of their number (at least 1): weight α = 2/(span+1) on each new point, the
// usual relation between span and α. The average starts at zero and is
// divided by 1-(1-α)^t, the bias correction of Adam (Kingma & Ba 2015,
// Algorithm 1), so the first points are not pulled towards zero.
func ema(pts plotter.XYs, fraction float64) plotter.XYs {
	span := max(1, fraction*float64(len(pts)))
	alpha := 2 / (span + 1)
	out := make(plotter.XYs, len(pts))
	m, decay := 0.0, 1.0
	for i, p := range pts {
		m = (1-alpha)*m + alpha*p.Y
		decay *= 1 - alpha
		out[i] = plotter.XY{X: p.X, Y: m / (1 - decay)}
	}
	return out
}

// logTicks marks a logarithmic axis at 1, 2 and 5 times each power of ten
// (labelled) and at the other integer multiples (unlabelled). gonum's
// LogTicks labels powers of ten only, which leaves a curve between 1.5 and
// 40 with a single label.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi >= lo) || math.IsInf(hi, 0) {
		return nil
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		decade := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * decade
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', 3, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// stepTicks places ticks as gonum's DefaultTicks does but labels them as
// the whole numbers steps are ("2500", not "2500.00").
type stepTicks struct{}

func (stepTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', -1, 64)
		}
	}
	return ticks
}

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
