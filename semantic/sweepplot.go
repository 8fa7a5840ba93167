package semantic

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// PlotSweep draws each curve of points (metric against SNR, with its 95% interval as
// error bars) into a PNG at path; 80211a at each rate is a thin dashed line without
// bars, its best rate a full curve.
func PlotSweep(points []SweepPoint, title, path string, bounds ...SweepBound) error {
	if len(points) == 0 {
		return fmt.Errorf("semantic: plot of an empty sweep")
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "SNR (dB)"
	p.Y.Label.Text = points[0].Metric
	// The legend sits right of the curves, in room made by widening the SNR axis, so
	// that it hides none of them.
	p.Legend.Top = true
	var labels []string
	curves := map[string]plotter.XYs{}
	errs := map[string]plotter.YErrors{}
	thin := map[string]bool{}
	for _, pt := range points {
		l := pt.label()
		if _, ok := curves[l]; !ok {
			labels = append(labels, l)
		}
		thin[l] = pt.Scheme == SchemeWiFi && !pt.Best
		curves[l] = append(curves[l], plotter.XY{X: pt.SNR, Y: pt.Value})
		errs[l] = append(errs[l], struct{ Low, High float64 }{pt.Value - pt.Lo, pt.Hi - pt.Value})
	}
	for i, l := range labels {
		line, pts, err := plotter.NewLinePoints(curves[l])
		if err != nil {
			return err
		}
		c := plotutil.Color(i)
		line.Color, pts.Color = c, c
		pts.Shape = plotutil.Shape(i)
		if thin[l] {
			line.Width, line.Dashes = vg.Points(0.7), []vg.Length{vg.Points(3), vg.Points(2)}
			p.Add(line)
			p.Legend.Add(l, line)
			continue
		}
		bars, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{curves[l], errs[l]})
		if err != nil {
			return err
		}
		bars.Color = color.Gray{Y: 128}
		p.Add(line, pts, bars)
		p.Legend.Add(l, line, pts)
	}
	// Each bound is a vertical dotted line in its curve's colour.
	for _, b := range bounds {
		i := slices.Index(labels, fmt.Sprintf("semantic k=%d", b.Bandwidth))
		if i < 0 || math.IsNaN(b.SNR) || math.IsInf(b.SNR, 0) {
			continue
		}
		lo, hi := p.Y.Min, p.Y.Max
		line, err := plotter.NewLine(plotter.XYs{{X: b.SNR, Y: lo}, {X: b.SNR, Y: hi}})
		if err != nil {
			return err
		}
		line.Color, line.Dashes = plotutil.Color(i), []vg.Length{vg.Points(1), vg.Points(2)}
		p.Add(line)
		p.Legend.Add(fmt.Sprintf("bound k=%d (%.1f dB)", b.Bandwidth, b.SNR), line)
	}
	p.Add(plotter.NewGrid())
	lo, hi := p.X.Min, p.X.Max
	p.X.Max = hi + 0.55*(hi-lo)
	p.X.Tick.Marker = clippedTicks{lo, hi}
	return p.Save(10*vg.Inch, 4.5*vg.Inch, path)
}

// clippedTicks are the default ticks of the curves' range [min, max]: none in the room
// made for the legend.
type clippedTicks struct{ min, max float64 }

func (c clippedTicks) Ticks(float64, float64) []plot.Tick {
	return plot.DefaultTicks{}.Ticks(c.min, c.max)
}
