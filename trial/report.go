package trial

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"io/fs"
	"math"
	"math/cmplx"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/m4sc/m4sc/internal/atomicfile"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio/sigmf"
	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Point is one row of a trial's summary: the messages of a task and scheme at one
// loopback SNR (or, without one, over all runs of the step).
type Point struct {
	Task      string
	Scheme    string
	Channel   string
	SNR       *float64 // the set loopback SNR
	PHYSNR    float64  // mean SNR the PHY measured on the frames detected, dB
	Metric    string
	Value     float64 // mean metric over the items that have a reference
	N         int     // items scored
	Items     int     // items sent
	Frames    int
	Lost      int
	FrameLoss float64
}

func (p Point) key() string {
	snr := "-"
	if p.SNR != nil {
		snr = fmt.Sprint(*p.SNR)
	}
	return p.Task + "|" + p.Scheme + "|" + p.Channel + "|" + snr
}

// Summarise groups results into points, in the order they first appear.
func Summarise(res []Result) []Point {
	var pts []Point
	idx := map[string]int{}
	phyN := map[string]int{}
	for _, r := range res {
		p := Point{Task: r.Task, Scheme: r.Scheme, Channel: r.Channel, SNR: r.SNR, Metric: r.Metric}
		k := p.key()
		i, ok := idx[k]
		if !ok {
			i = len(pts)
			idx[k] = i
			pts = append(pts, p)
		}
		q := &pts[i]
		q.Items++
		if r.Value != nil {
			q.Value += *r.Value
			q.N++
		}
		q.Frames += r.Frames
		q.Lost += r.FramesLost
		if r.PHY.Detected {
			q.PHYSNR += r.PHY.SNR
			phyN[k]++
		}
	}
	for i := range pts {
		q := &pts[i]
		if q.N > 0 {
			q.Value /= float64(q.N)
		}
		if n := phyN[q.key()]; n > 0 {
			q.PHYSNR /= float64(n)
		}
		if q.Frames > 0 {
			q.FrameLoss = float64(q.Lost) / float64(q.Frames)
		}
	}
	return pts
}

// Verdict is a threshold checked against a trial's results.
type Verdict struct {
	Threshold Threshold
	Value     float64 // mean metric of the matching messages
	FrameLoss float64
	N         int // messages matched
	Pass      bool
	Why       string // what failed
}

// Check evaluates a plan's thresholds on results. A threshold that matches no
// message fails: a figure that was not measured has not been reached.
func Check(p *Plan, res []Result) []Verdict {
	var out []Verdict
	for _, t := range p.Thresholds {
		v := Verdict{Threshold: t}
		var sum float64
		var scored, frames, lost int
		for _, r := range res {
			if r.Task != t.Task || r.Scheme != t.Scheme || (t.Channel != "" && r.Channel != t.Channel) {
				continue
			}
			if t.SNR != nil && (r.SNR == nil || *r.SNR != *t.SNR) {
				continue
			}
			v.N++
			if r.Value != nil {
				sum += *r.Value
				scored++
			}
			frames += r.Frames
			lost += r.FramesLost
		}
		if scored > 0 {
			v.Value = sum / float64(scored)
		}
		if frames > 0 {
			v.FrameLoss = float64(lost) / float64(frames)
		}
		var why []string
		switch {
		case v.N == 0:
			why = append(why, "no message matched")
		default:
			if t.Min != nil && (scored == 0 || v.Value < *t.Min) {
				why = append(why, fmt.Sprintf("mean %.3f below %g", v.Value, *t.Min))
			}
			if t.MaxFrameLoss != nil && v.FrameLoss > *t.MaxFrameLoss {
				why = append(why, fmt.Sprintf("frame loss %.3f above %g", v.FrameLoss, *t.MaxFrameLoss))
			}
		}
		v.Pass = len(why) == 0
		v.Why = strings.Join(why, "; ")
		out = append(out, v)
	}
	return out
}

func (t Threshold) String() string {
	s := t.Task + " " + t.Scheme
	if t.Channel != "" {
		s += " " + t.Channel
	}
	if t.SNR != nil {
		s += fmt.Sprintf(" at %g dB", *t.SNR)
	}
	var want []string
	if t.Min != nil {
		want = append(want, fmt.Sprintf("mean >= %g", *t.Min))
	}
	if t.MaxFrameLoss != nil {
		want = append(want, fmt.Sprintf("frame loss <= %g", *t.MaxFrameLoss))
	}
	return s + ": " + strings.Join(want, ", ")
}

// report writes report.md, report.html and the plots from what the directory holds.
func (r *runner) report() error {
	res, _, err := ReadResults(filepath.Join(r.dir, ResultsFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return WriteReport(r.dir, r.plan, res, r.plan.totalRuns())
}

// plotFile is one plot of a report.
type plotFile struct {
	Name, Title string
	PNG         []byte
}

// WriteReport writes the report of a trial directory: report.md with the plots as
// PNG files under plots/, and report.html, one self-contained page with the same
// plots embedded.
func WriteReport(dir string, p *Plan, res []Result, totalRuns int) error {
	pts := Summarise(res)
	var plots []plotFile
	add := func(name, title string, pl *plot.Plot, err error) error {
		if err != nil || pl == nil {
			return err
		}
		var b bytes.Buffer
		wt, err := pl.WriterTo(6*vg.Inch, 4*vg.Inch, "png")
		if err != nil {
			return err
		}
		if _, err := wt.WriteTo(&b); err != nil {
			return err
		}
		plots = append(plots, plotFile{Name: name, Title: title, PNG: b.Bytes()})
		return nil
	}
	var tasks []string
	for _, q := range pts {
		if !slices.Contains(tasks, q.Task) {
			tasks = append(tasks, q.Task)
		}
	}
	for _, t := range tasks {
		pl, err := metricPlot(pts, t)
		if err := add("metric-"+t+".png", t+": metric against SNR", pl, err); err != nil {
			return err
		}
	}
	pl, err := lossPlot(pts)
	if err := add("frame-loss.png", "Frames lost against SNR", pl, err); err != nil {
		return err
	}
	if rec := pickRecording(dir, p, res); rec != "" {
		y, _, err := ReadRecording(rec)
		if err == nil {
			name, _ := filepath.Rel(dir, rec)
			cons, sub, err := phyPlots(y)
			if err := add("constellation.png", "Constellation of a received payload ("+name+")", cons, err); err != nil {
				return err
			}
			if err := add("subcarrier-snr.png", "Per-subcarrier SNR ("+name+")", sub, err); err != nil {
				return err
			}
			sp, err := spectrumPlot(y)
			if err := add("spectrum.png", "Spectrum of the received samples ("+name+")", sp, err); err != nil {
				return err
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, PlotsDir), 0o755); err != nil {
		return fmt.Errorf("trial: report: %w", err)
	}
	for _, f := range plots {
		if err := atomicfile.WriteFile(filepath.Join(dir, PlotsDir, f.Name), f.PNG, 0o644); err != nil {
			return fmt.Errorf("trial: report: %w", err)
		}
	}
	runsDone := 0
	if len(res) > 0 {
		runsDone = res[len(res)-1].Run + 1
	}
	verdicts := Check(p, res)
	rep := reportData{Plan: p, Points: pts, Verdicts: verdicts, Plots: plots, Done: runsDone, Total: totalRuns, Soak: soakSummary(dir, p, res)}
	var md bytes.Buffer
	writeMarkdown(&md, &rep)
	if err := atomicfile.WriteFile(filepath.Join(dir, ReportMD), md.Bytes(), 0o644); err != nil {
		return writeErr(filepath.Join(dir, ReportMD), err)
	}
	var h bytes.Buffer
	if err := htmlPage.Execute(&h, &rep); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ReportHTML), h.Bytes(), 0o644); err != nil {
		return writeErr(filepath.Join(dir, ReportHTML), err)
	}
	return nil
}

// reportData is what report.md and report.html show.
type reportData struct {
	Plan        *Plan
	Points      []Point
	Verdicts    []Verdict
	Plots       []plotFile
	Done, Total int // runs done and planned (Total 0: a soak)
	Soak        *SoakSummary
}

// Status is the line saying how far the trial got.
func (d *reportData) Status() string {
	switch {
	case d.Plan.Soak != nil && d.Soak != nil:
		return d.Soak.Lines()[0]
	case d.Plan.Soak != nil:
		return fmt.Sprintf("soak of %v: %d runs, no soak.jsonl", d.Plan.Soak.Duration, d.Done)
	case d.Done < d.Total:
		return fmt.Sprintf("%d of %d runs: incomplete (interrupted; m4sc trial resume continues it)", d.Done, d.Total)
	}
	return fmt.Sprintf("%d of %d runs: complete", d.Done, d.Total)
}

// SoakLines are the soak's findings after the status line.
func (d *reportData) SoakLines() []string {
	if d.Soak == nil {
		return nil
	}
	return d.Soak.Lines()[1:]
}

func snrText(s *float64) string {
	if s == nil {
		return "-"
	}
	return fmt.Sprint(*s)
}

func writeMarkdown(w io.Writer, d *reportData) {
	p, pts, verdicts, plots := d.Plan, d.Points, d.Verdicts, d.Plots
	fmt.Fprintf(w, "# Trial %s\n\n", orDash(p.Name))
	fmt.Fprintf(w, "- transmitter `%s`, receiver `%s`, seed %d\n", p.TX, p.RX, p.Seed)
	if p.Provenance != nil {
		fmt.Fprintf(w, "- %s, model sha256 %s\n", p.Provenance.Version, p.Provenance.Model)
	}
	fmt.Fprintf(w, "- %s\n\n", d.Status())
	if lines := d.SoakLines(); len(lines) > 0 {
		fmt.Fprintf(w, "## Soak\n\n")
		for _, l := range lines {
			fmt.Fprintf(w, "- %s\n", l)
		}
		if prob := d.Soak.Problems(); len(prob) > 0 {
			fmt.Fprintf(w, "- verdict: FAIL: %s\n", strings.Join(prob, "; "))
		} else {
			fmt.Fprintf(w, "- verdict: pass\n")
		}
		fmt.Fprintf(w, "\nThe samples behind these figures are in %s, one line every %v.\n\n", SoakFile, p.Soak.Stats)
	}
	fmt.Fprintf(w, "| task | scheme | channel | SNR set (dB) | SNR measured (dB) | metric | mean | items scored | frames lost |\n")
	fmt.Fprintf(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, q := range pts {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.1f | %s | %.3f | %d of %d | %d of %d (%.1f%%) |\n", q.Task, q.Scheme, orDash(q.Channel), snrText(q.SNR),
			q.PHYSNR, q.Metric, q.Value, q.N, q.Items, q.Lost, q.Frames, 100*q.FrameLoss)
	}
	if len(verdicts) > 0 {
		fmt.Fprintf(w, "\n## Thresholds\n\n| threshold | mean | frame loss | messages | verdict |\n| --- | --- | --- | --- | --- |\n")
		for _, v := range verdicts {
			verdict := "pass"
			if !v.Pass {
				verdict = "FAIL: " + v.Why
			}
			fmt.Fprintf(w, "| %s | %.3f | %.3f | %d | %s |\n", v.Threshold, v.Value, v.FrameLoss, v.N, verdict)
		}
	}
	fmt.Fprintf(w, "\n## Plots\n")
	for _, f := range plots {
		fmt.Fprintf(w, "\n### %s\n\n![%s](%s/%s)\n", f.Title, f.Title, PlotsDir, f.Name)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"snr": snrText, "dash": orDash,
	"pct": func(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) },
	"f3":  func(x float64) string { return fmt.Sprintf("%.3f", x) },
	"f1":  func(x float64) string { return fmt.Sprintf("%.1f", x) },
	"data": func(b []byte) template.URL {
		return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b))
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Trial {{dash .Plan.Name}}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}.fail{color:#b00}img{max-width:100%}</style>
</head><body>
<h1>Trial {{dash .Plan.Name}}</h1>
<ul><li>transmitter <code>{{.Plan.TX}}</code>, receiver <code>{{.Plan.RX}}</code>, seed {{.Plan.Seed}}</li>
{{with .Plan.Provenance}}<li>{{.Version}}, model sha256 {{.Model}}</li>{{end}}
<li>{{.Status}}</li></ul>
{{with .SoakLines}}<h2>Soak</h2><ul>{{range .}}<li>{{.}}</li>{{end}}
<li>verdict: {{with $.Soak.Problems}}<span class="fail">FAIL: {{range $i, $p := .}}{{if $i}}; {{end}}{{$p}}{{end}}</span>{{else}}pass{{end}}</li></ul>{{end}}
<table><tr><th>task</th><th>scheme</th><th>channel</th><th>SNR set (dB)</th><th>SNR measured (dB)</th><th>metric</th><th>mean</th><th>items scored</th><th>frames lost</th></tr>
{{range .Points}}<tr><td>{{.Task}}</td><td>{{.Scheme}}</td><td>{{dash .Channel}}</td><td>{{snr .SNR}}</td><td>{{f1 .PHYSNR}}</td><td>{{.Metric}}</td><td>{{f3 .Value}}</td><td>{{.N}} of {{.Items}}</td><td>{{.Lost}} of {{.Frames}} ({{pct .FrameLoss}})</td></tr>
{{end}}</table>
{{if .Verdicts}}<h2>Thresholds</h2><table><tr><th>threshold</th><th>mean</th><th>frame loss</th><th>messages</th><th>verdict</th></tr>
{{range .Verdicts}}<tr><td>{{.Threshold}}</td><td>{{f3 .Value}}</td><td>{{f3 .FrameLoss}}</td><td>{{.N}}</td><td>{{if .Pass}}pass{{else}}<span class="fail">FAIL: {{.Why}}</span>{{end}}</td></tr>
{{end}}</table>{{end}}
<h2>Plots</h2>
{{range .Plots}}<h3>{{.Title}}</h3><img alt="{{.Title}}" src="{{data .PNG}}">
{{end}}</body></html>
`))

// xOf is a point's place on an SNR axis: the SNR set, else the one measured.
func xOf(q Point) float64 {
	if q.SNR != nil {
		return *q.SNR
	}
	return q.PHYSNR
}

// curves draws one line per scheme (and channel) of y against SNR.
func curves(pts []Point, keep func(Point) bool, y func(Point) float64, title, ylabel string) (*plot.Plot, error) {
	pl := plot.New()
	pl.Title.Text = title
	pl.X.Label.Text = "SNR (dB)"
	pl.Y.Label.Text = ylabel
	pl.Legend.Top = true
	var labels []string
	xy := map[string]plotter.XYs{}
	for _, q := range pts {
		if !keep(q) {
			continue
		}
		l := q.Scheme
		if q.Channel != "" {
			l += " " + q.Channel
		}
		if _, ok := xy[l]; !ok {
			labels = append(labels, l)
		}
		xy[l] = append(xy[l], plotter.XY{X: xOf(q), Y: y(q)})
	}
	if len(labels) == 0 {
		return nil, nil
	}
	for i, l := range labels {
		c := xy[l]
		slices.SortFunc(c, func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
		line, points, err := plotter.NewLinePoints(c)
		if err != nil {
			return nil, err
		}
		line.Color, points.Color, points.Shape = plotutil.Color(i), plotutil.Color(i), plotutil.Shape(i)
		pl.Add(line, points)
		pl.Legend.Add(l, line, points)
	}
	return pl, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func metricPlot(pts []Point, task string) (*plot.Plot, error) {
	var metric string
	for _, q := range pts {
		if q.Task == task {
			metric = q.Metric
		}
	}
	return curves(pts, func(q Point) bool { return q.Task == task && q.N > 0 }, func(q Point) float64 { return q.Value }, task, metric)
}

func lossPlot(pts []Point) (*plot.Plot, error) {
	// Pool the tasks: frames lost over frames sent per scheme and SNR.
	var pooled []Point
	idx := map[string]int{}
	for _, q := range pts {
		k := q.Scheme + "|" + q.Channel + "|" + snrText(q.SNR)
		i, ok := idx[k]
		if !ok {
			i = len(pooled)
			idx[k] = i
			pooled = append(pooled, Point{Scheme: q.Scheme, Channel: q.Channel, SNR: q.SNR, PHYSNR: q.PHYSNR})
		}
		pooled[i].Frames += q.Frames
		pooled[i].Lost += q.Lost
	}
	return curves(pooled, func(Point) bool { return true }, func(q Point) float64 {
		return float64(q.Lost) / math.Max(1, float64(q.Frames))
	}, "Frames lost", "share of frames lost")
}

// pickRecording chooses the recording the PHY plots show: the semantic run with the
// highest SNR set (the last run when there is none).
func pickRecording(dir string, p *Plan, res []Result) string {
	if len(res) == 0 {
		return ""
	}
	best := -1
	bestSNR := math.Inf(-1)
	for i, r := range res {
		if r.Scheme != "semantic" {
			continue
		}
		s := math.Inf(-1) + 1
		if r.SNR != nil {
			s = *r.SNR
		}
		if best < 0 || s > bestSNR {
			best, bestSNR = i, s
		}
	}
	if best < 0 {
		best = len(res) - 1
	}
	rs, ok := p.runAt(res[best].Run)
	if !ok {
		return ""
	}
	return filepath.Join(dir, rs.name+sigmf.ExtMeta)
}

// phyPlots draws the constellation of the first semantic payload found in y and the
// per-subcarrier SNR of the frames with a header, in dB.
func phyPlots(y []complex64) (cons, sub *plot.Plot, err error) {
	rcv, err := phy.NewReceiver(phy.ReceiverConfig{})
	if err != nil {
		return nil, nil, err
	}
	frames := rcv.Flush(rcv.Receive(nil, y))
	var sc [phy.DataCarriers]float64
	n := 0
	var sym []complex64
	for _, f := range frames {
		if f.Err != nil || f.Kind != phy.KindSemantic {
			continue
		}
		n++
		for k, s := range f.SubcarrierSNR {
			sc[k] += float64(s)
		}
		if sym == nil && len(f.Symbols) > 0 {
			sym = f.Symbols
		}
	}
	if n == 0 {
		return nil, nil, nil
	}
	if len(sym) > 0 {
		cons = plot.New()
		cons.Title.Text = "Received payload symbols (equalised)"
		cons.X.Label.Text, cons.Y.Label.Text = "in-phase", "quadrature"
		xy := make(plotter.XYs, len(sym))
		for i, s := range sym {
			xy[i] = plotter.XY{X: float64(real(s)), Y: float64(imag(s))}
		}
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return nil, nil, err
		}
		sc.GlyphStyle.Radius = vg.Points(1)
		sc.GlyphStyle.Color = color.RGBA{B: 160, A: 255}
		cons.Add(sc)
	}
	sub = plot.New()
	sub.Title.Text = fmt.Sprintf("Per-subcarrier SNR, mean over %d frames", n)
	sub.X.Label.Text, sub.Y.Label.Text = "subcarrier", "SNR (dB)"
	xy := make(plotter.XYs, 0, phy.DataCarriers)
	for i, k := range phy.DataSubcarriers() {
		xy = append(xy, plotter.XY{X: float64(k), Y: db(sc[i] / float64(n))})
	}
	slices.SortFunc(xy, func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
	line, pts, err := plotter.NewLinePoints(xy)
	if err != nil {
		return nil, nil, err
	}
	sub.Add(line, pts)
	return cons, sub, nil
}

// spectrumBins is the FFT size of the report's spectrum (Welch's method: Hann
// windows, half overlap, periodograms averaged).
const spectrumBins = 256

func spectrumPlot(y []complex64) (*plot.Plot, error) {
	if len(y) < spectrumBins {
		return nil, nil
	}
	fft := fourier.NewCmplxFFT(spectrumBins)
	win := make([]float64, spectrumBins)
	var wp float64
	for i := range win {
		win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/spectrumBins)
		wp += win[i] * win[i]
	}
	acc := make([]float64, spectrumBins)
	seg := make([]complex128, spectrumBins)
	out := make([]complex128, spectrumBins)
	n := 0
	// At most 2000 segments, spread over the recording.
	step := max(spectrumBins/2, (len(y)-spectrumBins)/2000)
	for off := 0; off+spectrumBins <= len(y); off += step {
		for i := range seg {
			seg[i] = complex128(y[off+i]) * complex(win[i], 0)
		}
		fft.Coefficients(out, seg)
		for i, c := range out {
			a := cmplx.Abs(c)
			acc[i] += a * a
		}
		n++
	}
	pl := plot.New()
	pl.Title.Text = "Power spectral density (Welch, 256 bins)"
	pl.X.Label.Text, pl.Y.Label.Text = "frequency (MHz)", "dBFS/bin"
	xy := make(plotter.XYs, spectrumBins)
	for i := range acc {
		k := (i + spectrumBins/2) % spectrumBins // negative frequencies first
		f := float64(i-spectrumBins/2) * phy.SampleRate / spectrumBins / 1e6
		xy[i] = plotter.XY{X: f, Y: db(acc[k] / float64(n) / wp / spectrumBins)}
	}
	line, err := plotter.NewLine(xy)
	if err != nil {
		return nil, err
	}
	pl.Add(line)
	return pl, nil
}

// ReadRecording reads a whole recording: SigMF, or raw .cs8, .cf32 or .cfile at 20
// Msps.
func ReadRecording(path string) ([]complex64, *sigmf.Meta, error) {
	rd, err := sigmf.Open(path, sigmf.ReadOptions{SampleRate: phy.SampleRate, StreamChecksum: true})
	if err != nil {
		return nil, nil, err
	}
	defer rd.Close()
	if n := rd.Len(); n > 1<<31 {
		return nil, nil, fmt.Errorf("trial: %s: %d samples; at most 2^31", path, n)
	}
	y := make([]complex64, 0, max(0, rd.Len()))
	buf := make([]complex64, 1<<16)
	for {
		n, err := rd.Read(buf)
		y = append(y, buf[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return y, rd.Meta(), nil
}
