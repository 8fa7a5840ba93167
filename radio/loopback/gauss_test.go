package loopback

import (
	"math"
	"sort"
	"testing"
)

// The ziggurat must give N(0,1) including its tails: the PHY's false-alarm tests rely on
// the noise having a true Gaussian tail.
func TestNormalDistribution(t *testing.T) {
	const n = 2_000_000
	g := newNormal(42, newZigTables())
	x := make([]float64, n)
	var sum, sum2, sum4 float64
	tail4 := 0
	for i := range x {
		v := g.next()
		x[i] = v
		sum += v
		sum2 += v * v
		sum4 += v * v * v * v
		if math.Abs(v) > 4 {
			tail4++
		}
	}
	mean := sum / n
	vr := sum2/n - mean*mean
	kurt := sum4 / n / (vr * vr)
	// Standard errors: mean 1/sqrt(n)=7e-4, variance sqrt(2/n)=1e-3, kurtosis sqrt(96/n)=7e-3.
	if math.Abs(mean) > 5*7.1e-4 {
		t.Errorf("mean %.5f, want 0 within 5 standard errors", mean)
	}
	if math.Abs(vr-1) > 5*1e-3 {
		t.Errorf("variance %.5f, want 1 within 5 standard errors", vr)
	}
	if math.Abs(kurt-3) > 5*6.9e-3 {
		t.Errorf("kurtosis %.4f, want 3 within 5 standard errors", kurt)
	}
	// P(|X|>4) = 6.334e-5: expect 126.7 of 2e6, Poisson sd 11.3.
	if want := 2 * n * 0.5 * math.Erfc(4/math.Sqrt2); math.Abs(float64(tail4)-want) > 5*math.Sqrt(want) {
		t.Errorf("%d draws beyond 4 sigma, want %.1f", tail4, want)
	}
	// Kolmogorov-Smirnov against the normal CDF; the 0.1% critical value is 1.95/sqrt(n).
	sort.Float64s(x)
	d := 0.0
	for i, v := range x {
		c := 0.5 * math.Erfc(-v/math.Sqrt2)
		d = math.Max(d, math.Max(math.Abs(c-float64(i)/n), math.Abs(c-float64(i+1)/n)))
	}
	if crit := 1.95 / math.Sqrt(n); d > crit {
		t.Errorf("KS distance %.2e exceeds %.2e", d, crit)
	}
}

func TestNormalDeterministic(t *testing.T) {
	zt := newZigTables()
	a, b, c := newNormal(7, zt), newNormal(7, zt), newNormal(8, zt)
	same := true
	for i := 0; i < 1000; i++ {
		va, vb, vc := a.next(), b.next(), c.next()
		if va != vb {
			t.Fatalf("draw %d differs between equal seeds", i)
		}
		if va != vc {
			same = false
		}
	}
	if same {
		t.Fatal("different seeds gave the same sequence")
	}
}

func BenchmarkNormal(b *testing.B) {
	g := newNormal(1, newZigTables())
	s := 0.0
	for b.Loop() {
		s += g.next()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mdraws/s")
	_ = s
}

// addComplex uses its own bit layout; check it against N(0, sigma^2) per dimension.
func TestAddComplexDistribution(t *testing.T) {
	const n = 1_000_000
	g := newNormal(3, newZigTables())
	x := make([]complex64, n)
	g.addComplex(x, 2)
	var sr, si, sri, tail float64
	for _, v := range x {
		re, im := float64(real(v)), float64(imag(v))
		sr += re * re
		si += im * im
		sri += re * im
		if math.Abs(re) > 8 {
			tail++
		}
	}
	// variance 4 per dimension, standard error 4*sqrt(2/n) = 5.7e-3
	if math.Abs(sr/n-4) > 5*5.7e-3 || math.Abs(si/n-4) > 5*5.7e-3 {
		t.Errorf("variances %.4f %.4f, want 4", sr/n, si/n)
	}
	if math.Abs(sri/n) > 5*4/math.Sqrt(n) {
		t.Errorf("I/Q covariance %.4f, want 0", sri/n)
	}
	if want := n * math.Erfc(4/math.Sqrt2); math.Abs(tail-want) > 5*math.Sqrt(want) {
		t.Errorf("%v I draws beyond 4 sigma, want %.1f", tail, want)
	}
}
