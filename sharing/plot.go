package sharing

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// PlotUsers draws airtime per round against the number of users K, one curve each for
// sharing, unicast semantic transmission and unicast 802.11a at the best rate per
// user, from one summary per K (of one scenario and channel), into a PNG at path.
// Both axes are logarithmic: unicast grows as K, a shared multicast stays flat.
func PlotUsers(sums []*Summary, path string) error {
	if len(sums) == 0 {
		return fmt.Errorf("sharing: plot of no summaries")
	}
	sums = slices.Clone(sums)
	slices.SortFunc(sums, func(a, b *Summary) int { return a.Users - b.Users })
	for _, s := range sums[1:] {
		if s.Scenario != sums[0].Scenario || s.Channel != sums[0].Channel || s.Overlap != sums[0].Overlap {
			return fmt.Errorf("sharing: plot of %s/%s/%v beside %s/%s/%v: one scenario and channel a plot", s.Scenario, s.Channel, s.Overlap, sums[0].Scenario, sums[0].Channel, sums[0].Overlap)
		}
	}
	p := plot.New()
	p.Title.Text = usersTitle(sums[0])
	p.X.Label.Text = "users K"
	p.Y.Label.Text = "airtime per round (us)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	var ticks []plot.Tick
	for _, s := range sums {
		ticks = append(ticks, plot.Tick{Value: float64(s.Users), Label: strconv.Itoa(s.Users)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Legend.Top, p.Legend.Left = true, true
	curves := []struct {
		label string
		y     func(*Summary) float64
	}{
		{"shared", func(s *Summary) float64 { return s.AirtimeUS }},
		{"unicast semantic", func(s *Summary) float64 { return s.AirtimeUSUnicast }},
		{"unicast 802.11a, best rate per user", func(s *Summary) float64 { return s.AirtimeUSWiFi }},
	}
	for i, c := range curves {
		xy := make(plotter.XYs, len(sums))
		for j, s := range sums {
			xy[j] = plotter.XY{X: float64(s.Users), Y: c.y(s)}
		}
		line, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return err
		}
		line.Color, pts.Color, pts.Shape = plotutil.Color(i), plotutil.Color(i), plotutil.Shape(i)
		p.Add(line, pts)
		p.Legend.Add(c.label, line, pts)
	}
	p.Add(plotter.NewGrid())
	return p.Save(6*vg.Inch, 4.5*vg.Inch, path)
}

// usersTitle names a run of several K: scenario, overlap, channel, rounds.
func usersTitle(s *Summary) string {
	t := string(s.Scenario)
	if s.Scenario == ScenarioOverlap {
		t += fmt.Sprintf(" %.0f%%", 100*s.Overlap)
	}
	return fmt.Sprintf("%s, channel %s, %d rounds each", t, s.Channel, s.Rounds)
}

// UsersMarkdown tabulates channel use per round against the number of users, one row
// per summary.
func UsersMarkdown(sums []*Summary) string {
	if len(sums) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", usersTitle(sums[0]))
	b.WriteString("| K | airtime shared (us) | unicast semantic | unicast 802.11a best rate | shared / semantic | shared / 802.11a | symbols shared | unicast semantic | unicast 802.11a |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, s := range sums {
		fmt.Fprintf(&b, "| %d | %.1f | %.1f | %.1f | %.3f | %.3f | %.1f | %.1f | %.1f |\n", s.Users, s.AirtimeUS, s.AirtimeUSUnicast, s.AirtimeUSWiFi,
			s.AirtimeRatio, s.AirtimeRatioWiFi, s.Symbols, s.SymbolsUnicast, s.SymbolsWiFi)
	}
	return b.String()
}
