package metrics

import (
	"fmt"
	"math"
)

// Z95 is the standard normal quantile for a two-sided 95% interval, the usual
// argument of WilsonInterval.
const Z95 = 1.959963984540054

// Accuracy counts right and wrong answers. The zero value is an empty count. The
// fields are exported so counts from several workers or files can be summed; they
// must satisfy 0 <= Correct <= Total.
type Accuracy struct {
	Correct, Total int
}

// Add counts one answer, right when ok.
func (a *Accuracy) Add(ok bool) {
	a.Total++
	if ok {
		a.Correct++
	}
}

// Rate returns Correct/Total, or 0 when nothing was counted.
func (a Accuracy) Rate() float64 {
	a.check()
	if a.Total == 0 {
		return 0
	}
	return float64(a.Correct) / float64(a.Total)
}

// WilsonInterval returns the Wilson score interval for the true rate at normal
// quantile z (Z95 for 95%): the rates p whose score test |p^ - p| <= z sqrt(p(1-p)/n)
// accepts the observed rate p^ = Correct/Total,
//
//	centre = (p^ + z^2/(2n)) / (1 + z^2/n)
//	half   = z / (1 + z^2/n) * sqrt(p^(1-p^)/n + z^2/(4n^2)).
//
// It is used instead of p^ ± z sqrt(p^(1-p^)/n) because that interval collapses to a
// point at 0% and 100% and leaves [0, 1] near them, which is where good models sit.
// With nothing counted it returns (0, 1). It panics if z is negative or NaN, or if
// the fields break 0 <= Correct <= Total.
func (a Accuracy) WilsonInterval(z float64) (lo, hi float64) {
	a.check()
	if !(z >= 0) {
		panic(fmt.Sprintf("metrics: Wilson interval with z = %v", z))
	}
	if a.Total == 0 {
		return 0, 1
	}
	n := float64(a.Total)
	p := float64(a.Correct) / n
	z2n := z * z / n
	centre := (p + z2n/2) / (1 + z2n)
	half := z / (1 + z2n) * math.Sqrt(p*(1-p)/n+z2n/(4*n))
	lo, hi = centre-half, centre+half
	// At p^ = 0 or 1 the exact interval touches the bound, where rounding would
	// leave it a hair inside or outside.
	if a.Correct == 0 {
		lo = 0
	}
	if a.Correct == a.Total {
		hi = 1
	}
	return max(0, lo), min(1, hi)
}

func (a Accuracy) check() {
	if a.Correct < 0 || a.Correct > a.Total {
		panic(fmt.Sprintf("metrics: Accuracy with %d correct of %d", a.Correct, a.Total))
	}
}
