package metrics

import "math"

// MeanInterval is the mean of scores v and its 95% normal interval (1.96 standard
// errors, the sample standard deviation over sqrt(n)); for one score the interval is
// the score itself.
func MeanInterval(v []float64) (mean, lo, hi float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	half := 0.0
	if len(v) > 1 {
		half = 1.96 * math.Sqrt(ss/float64(len(v)-1)/float64(len(v)))
	}
	return mean, mean - half, mean + half
}
