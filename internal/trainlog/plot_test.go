package trainlog

import (
	"errors"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gonum.org/v1/plot/plotter"
)

// syntheticCurve returns n rows of a stage whose loss decays from hi towards
// lo with noise, and a validation loss every valEvery steps.
func syntheticCurve(rng *rand.Rand, stage string, n int, hi, lo float64, valEvery int) []Row {
	rows := make([]Row, n)
	for i := range rows {
		mean := lo + (hi-lo)*math.Exp(-float64(i)/float64(n)*5)
		rows[i] = Row{Stage: stage, Step: int64(i * 10), Loss: mean * (1 + 0.1*rng.NormFloat64()), ValLoss: math.NaN()}
		if valEvery > 0 && i%valEvery == 0 {
			rows[i].ValLoss = mean * 1.05
		}
	}
	return rows
}

// countNear counts the pixels of img within tol of c in every channel.
func countNear(img image.Image, c [3]uint8, tol int) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			d := func(v uint32, w uint8) int { return abs(int(v>>8) - int(w)) }
			if d(r, c[0]) <= tol && d(g, c[1]) <= tol && d(bl, c[2]) <= tol {
				n++
			}
		}
	}
	return n
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestPlotCurves(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	twoStages := append(syntheticCurve(rng, "lm", 300, 10, 0.5, 25), syntheticCurve(rng, "align", 100, 2, 1, 10)...)
	shuffled := slices.Clone(twoStages)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	withBad := syntheticCurve(rng, "instruct", 50, 3, 2, 0)
	withBad[3].Loss, withBad[7].Loss, withBad[9].ValLoss = math.NaN(), math.Inf(1), math.Inf(-1)

	tests := []struct {
		name   string
		rows   []Row
		stages int // stages whose colour must show
	}{
		{"two stages, log scale", twoStages, 2},
		{"unsorted", shuffled, 2},
		{"one stage, linear", syntheticCurve(rng, "lm", 200, 3, 2, 20), 1},
		{"non-finite losses", withBad, 1},
		{"one row", []Row{{Stage: "lm", Loss: 2, ValLoss: 2.1}}, 1},
		// A decade of span but a loss of zero: no log scale, no panic.
		{"zero loss", []Row{{Stage: "lm", Loss: 20, ValLoss: math.NaN()}, {Stage: "lm", Step: 1, Loss: 0, ValLoss: -1}}, 1},
		{"eight stages", func() []Row {
			var rows []Row
			for _, s := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
				rows = append(rows, syntheticCurve(rng, s, 20, 3, 1, 0)...)
			}
			return rows
		}(), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "loss.png")
			if err := PlotCurves(tt.rows, "m4sc "+tt.name, path); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			// 8×5 inches at gonum's 96 dpi.
			if got := img.Bounds().Size(); got != (image.Point{X: 768, Y: 480}) {
				t.Errorf("size %v, want 768×480", got)
			}
			for i := range tt.stages {
				c := palette[i]
				if n := countNear(img, [3]uint8{c.R, c.G, c.B}, 8); n < 20 {
					t.Errorf("stage %d: %d pixels of its colour, want a drawn curve", i, n)
				}
			}
		})
	}
}

func TestPlotCurvesErrors(t *testing.T) {
	dir := t.TempDir()
	for _, rows := range [][]Row{
		nil,
		{{Stage: "lm", Loss: math.NaN(), ValLoss: 2}},
		{{Stage: "lm", Loss: math.Inf(1), ValLoss: math.NaN()}},
	} {
		if err := PlotCurves(rows, "", filepath.Join(dir, "x.png")); !errors.Is(err, ErrNoData) {
			t.Errorf("PlotCurves(%v): %v, want ErrNoData", rows, err)
		}
	}
	err := PlotCurves([]Row{{Stage: "lm", Loss: 1}}, "", filepath.Join(dir, "missing", "x.png"))
	if err == nil {
		t.Error("PlotCurves into a missing directory: no error")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed plots left %d files behind", len(entries))
	}
}

func TestEMA(t *testing.T) {
	pts := func(ys ...float64) plotter.XYs {
		xy := make(plotter.XYs, len(ys))
		for i, y := range ys {
			xy[i] = plotter.XY{X: float64(i), Y: y}
		}
		return xy
	}
	ys := func(xy plotter.XYs) []float64 {
		out := make([]float64, len(xy))
		for i := range xy {
			out[i] = xy[i].Y
		}
		return out
	}
	// Slow reference: the bias-corrected average is the weighted mean of
	// the points so far with weights (1-α)^(t-i).
	reference := func(y []float64, alpha float64) []float64 {
		out := make([]float64, len(y))
		for t := range y {
			num, den := 0.0, 0.0
			for i := 0; i <= t; i++ {
				w := math.Pow(1-alpha, float64(t-i))
				num += w * y[i]
				den += w
			}
			out[t] = num / den
		}
		return out
	}
	rng := rand.New(rand.NewPCG(3, 4))
	noisy := make([]float64, 200)
	for i := range noisy {
		noisy[i] = 5 + rng.NormFloat64()
	}
	tests := []struct {
		name     string
		y        []float64
		fraction float64
		want     []float64
	}{
		{"constant", []float64{2, 2, 2, 2}, 0.5, []float64{2, 2, 2, 2}},
		{"span 1 is the raw curve", []float64{3, 1, 4, 1, 5}, 0.05, []float64{3, 1, 4, 1, 5}},
		{"empty", nil, 0.05, []float64{}},
		{"noisy, span 10", noisy, 0.05, reference(noisy, 2.0/11)},
	}
	for _, tt := range tests {
		got := ys(ema(pts(tt.y...), tt.fraction))
		if len(got) != len(tt.want) {
			t.Fatalf("%s: %d points, want %d", tt.name, len(got), len(tt.want))
		}
		for i := range got {
			if math.Abs(got[i]-tt.want[i]) > 1e-12*math.Max(1, math.Abs(tt.want[i])) {
				t.Errorf("%s: point %d = %g, want %g", tt.name, i, got[i], tt.want[i])
				break
			}
		}
	}
}

func TestLogTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		labels []string
	}{
		{1.5, 40, []string{"2", "5", "10", "20"}},
		{0.3, 12, []string{"0.5", "1", "2", "5", "10"}},
		{0, 10, nil},
		{-1, 10, nil},
		{5, 1, nil},
		{1, math.Inf(1), nil},
		{math.NaN(), 1, nil},
	}
	for _, tt := range tests {
		var labels []string
		for _, tick := range (logTicks{}).Ticks(tt.lo, tt.hi) {
			if tick.Value < tt.lo || tick.Value > tt.hi*(1+1e-9) {
				t.Errorf("Ticks(%g, %g): tick %g out of range", tt.lo, tt.hi, tick.Value)
			}
			if tick.Label != "" {
				labels = append(labels, tick.Label)
			}
		}
		if !slices.Equal(labels, tt.labels) {
			t.Errorf("Ticks(%g, %g) labels %q, want %q", tt.lo, tt.hi, labels, tt.labels)
		}
	}
}
