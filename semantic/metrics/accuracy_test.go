package metrics

import (
	"math"
	"testing"
)

func TestAccuracyRate(t *testing.T) {
	tests := []struct {
		answers []bool
		want    float64
	}{
		{nil, 0},
		{[]bool{true}, 1},
		{[]bool{false}, 0},
		{[]bool{true, false, true, true}, 0.75},
	}
	for _, tc := range tests {
		var a Accuracy
		for _, ok := range tc.answers {
			a.Add(ok)
		}
		if a.Total != len(tc.answers) || a.Rate() != tc.want {
			t.Errorf("%v: %+v, Rate %v, want %v", tc.answers, a, a.Rate(), tc.want)
		}
	}
}

// TestWilsonInterval checks values worked out by hand from the formula at
// WilsonInterval with z = 1.96 (z^2 = 3.8416).
func TestWilsonInterval(t *testing.T) {
	tests := []struct {
		name           string
		correct, total int
		z              float64
		lo, hi         float64
	}{
		// p = 0: centre = half = (z^2/2n)/(1+z^2/n), so lo = 0 and
		// hi = (z^2/n)/(1+z^2/n) = 0.38416/1.38416.
		{"none of 10", 0, 10, 1.96, 0, 0.38416 / 1.38416},
		// p = 1 mirrors it.
		{"all of 10", 10, 10, 1.96, 1 - 0.38416/1.38416, 1},
		// p = 1/2: centre 1/2, half = 1.96/1.38416 * sqrt(0.025 + 3.8416/400).
		{"half of 10", 5, 10, 1.96, 0.5 - 1.96/1.38416*math.Sqrt(0.025+0.009604), 0.5 + 1.96/1.38416*math.Sqrt(0.025+0.009604)},
		// z = 0 is the point estimate.
		{"z 0", 3, 4, 0, 0.75, 0.75},
		{"nothing counted", 0, 0, Z95, 0, 1},
	}
	for _, tc := range tests {
		lo, hi := Accuracy{tc.correct, tc.total}.WilsonInterval(tc.z)
		if !near(lo, tc.lo, 1e-12) || !near(hi, tc.hi, 1e-12) {
			t.Errorf("%s: [%.15g, %.15g], want [%.15g, %.15g]", tc.name, lo, hi, tc.lo, tc.hi)
		}
	}
	// The familiar rounded figure for 5 of 10 at 95%.
	if lo, hi := (Accuracy{5, 10}).WilsonInterval(Z95); !near(lo, 0.2366, 5e-5) || !near(hi, 0.7634, 5e-5) {
		t.Errorf("5 of 10 at 95%%: [%.4f, %.4f], want [0.2366, 0.7634]", lo, hi)
	}
}

// TestWilsonScoreTest checks the interval against its definition: each end p0
// inside (0, 1) solves (p^ - p0)^2 = z^2 p0 (1 - p0) / n, and p^ lies between them.
func TestWilsonScoreTest(t *testing.T) {
	for _, total := range []int{1, 2, 7, 30, 1000} {
		for correct := 0; correct <= total; correct += max(1, total/9) {
			a := Accuracy{correct, total}
			lo, hi := a.WilsonInterval(Z95)
			p, n := a.Rate(), float64(total)
			if !(lo <= p && p <= hi) || lo < 0 || hi > 1 {
				t.Errorf("%d of %d: [%v, %v] does not hold %v inside [0, 1]", correct, total, lo, hi, p)
			}
			for _, p0 := range []float64{lo, hi} {
				if p0 == 0 || p0 == 1 {
					continue // the bound itself, where the test equation holds only if p^ is there too
				}
				lhs, rhs := (p-p0)*(p-p0), Z95*Z95*p0*(1-p0)/n
				if !near(lhs, rhs, 1e-12) {
					t.Errorf("%d of %d: end %v gives %v, want %v", correct, total, p0, lhs, rhs)
				}
			}
		}
	}
}

func TestAccuracyPanics(t *testing.T) {
	calls := map[string]func(){
		"negative z":        func() { Accuracy{1, 2}.WilsonInterval(-1) },
		"NaN z":             func() { Accuracy{1, 2}.WilsonInterval(math.NaN()) },
		"correct > total":   func() { Accuracy{3, 2}.Rate() },
		"negative correct":  func() { Accuracy{-1, 2}.WilsonInterval(Z95) },
		"negative of total": func() { Accuracy{0, -1}.Rate() },
	}
	for name, f := range calls {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}
