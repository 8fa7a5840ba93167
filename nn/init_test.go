package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// initMoments returns the sample mean, variance and excess-free kurtosis
// E[(x-mean)^4]/var^2 of x, and its extreme magnitude.
func initMoments[T Float](x []T) (mean, variance, kurt, maxAbs float64) {
	n := float64(len(x))
	for _, v := range x {
		mean += float64(v)
		maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
	}
	mean /= n
	var m2, m4 float64
	for _, v := range x {
		d := float64(v) - mean
		m2 += d * d
		m4 += d * d * d * d
	}
	m2 /= n
	m4 /= n
	return mean, m2 * n / (n - 1), m4 / (m2 * m2), maxAbs
}

// The sample moments of every initialiser against the distribution it claims. With n
// samples of a distribution of variance s2 and fourth central moment mu4, the sample
// mean has standard deviation sqrt(s2/n) and the sample variance about
// sqrt((mu4 - s2^2)/n): mu4 = 3 s2^2 for a normal, 9/5 s2^2 for a uniform. The
// kurtosis estimate of a normal sample has standard deviation sqrt(24/n). Each check
// allows 5 standard deviations: a false failure has probability below 1e-6 per check,
// and the seeds are fixed besides.
func TestInitMoments(t *testing.T) {
	const sigmas = 5
	type dist int
	const (
		normal dist = iota
		uniform
	)
	for _, c := range []struct {
		name      string
		shape     []int
		fill      func(rng *rand.Rand, x *Tensor[float32])
		mean, std float64 // of the claimed distribution
		kind      dist
		bound     float64 // uniform: the half-width, which the extremes must nearly reach
	}{
		{"Normal", []int{400, 500}, func(r *rand.Rand, x *Tensor[float32]) { Normal(r, x, 0.02) }, 0, 0.02, normal, 0},
		{"Uniform", []int{200000}, func(r *rand.Rand, x *Tensor[float32]) { Uniform(r, x, -3, 5) }, 1, 8 / math.Sqrt(12), uniform, 4},
		{"XavierUniform 300x100", []int{300, 100}, func(r *rand.Rand, x *Tensor[float32]) { XavierUniform(r, x) }, 0, math.Sqrt(2.0 / 400), uniform, math.Sqrt(6.0 / 400)},
		{"GlorotUniform 100x300", []int{100, 300}, func(r *rand.Rand, x *Tensor[float32]) { GlorotUniform(r, x) }, 0, math.Sqrt(2.0 / 400), uniform, math.Sqrt(6.0 / 400)},
		{"KaimingNormal InOut", []int{256, 1024}, func(r *rand.Rand, x *Tensor[float32]) { KaimingNormal(r, x, InOut) }, 0, math.Sqrt(2.0 / 256), normal, 0},
		{"KaimingNormal OutIn", []int{256, 1024}, func(r *rand.Rand, x *Tensor[float32]) { KaimingNormal(r, x, OutIn) }, 0, math.Sqrt(2.0 / 1024), normal, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := NewParam[float32](nil, c.shape...)
			c.fill(rand.New(rand.NewPCG(7, 11)), x)
			n := float64(x.Len())
			mean, variance, kurt, maxAbs := initMoments(x.Data)
			s2 := c.std * c.std
			kurtTrue := 3.0
			if c.kind == uniform {
				kurtTrue = 9.0 / 5
			}
			if d, tol := math.Abs(mean-c.mean), sigmas*c.std/math.Sqrt(n); d > tol {
				t.Errorf("mean %.6g, want %.6g within %.3g", mean, c.mean, tol)
			}
			if d, tol := math.Abs(variance-s2), sigmas*s2*math.Sqrt((kurtTrue-1)/n); d > tol {
				t.Errorf("variance %.6g, want %.6g within %.3g", variance, s2, tol)
			}
			switch c.kind {
			case normal:
				if d, tol := math.Abs(kurt-3), sigmas*math.Sqrt(24/n); d > tol {
					t.Errorf("kurtosis %.4f, want 3 within %.3g", kurt, tol)
				}
			case uniform:
				// All inside the bound; and P(all n inside (1-1e-3) of it) = (1-1e-3)^n,
				// below e^-30 here, so the extremes must come near it.
				if hi := c.mean + c.bound; maxAbs-math.Abs(c.mean) > c.bound*(1+1e-6) || maxAbs < math.Abs(c.mean)+c.bound*(1-1e-3) {
					t.Errorf("extreme magnitude %.6g, bound %.6g", maxAbs, hi)
				}
			}
		})
	}
}

func TestInitDeterministicAndConstants(t *testing.T) {
	a := Normal(rand.New(rand.NewPCG(1, 2)), NewParam[float64](nil, 50), 1)
	b := Normal(rand.New(rand.NewPCG(1, 2)), NewParam[float64](nil, 50), 1)
	if !slices.Equal(a.Data, b.Data) {
		t.Error("the same seed gave different values")
	}
	u := Uniform(rand.New(rand.NewPCG(1, 2)), NewParam[float64](nil, 1000), 2, 2)
	if slices.ContainsFunc(u.Data, func(v float64) bool { return v != 2 }) {
		t.Error("Uniform on [2, 2) gave values other than 2")
	}
	if Zeros(a); slices.ContainsFunc(a.Data, func(v float64) bool { return v != 0 }) {
		t.Error("Zeros left non-zero values")
	}
	if Ones(a); slices.ContainsFunc(a.Data, func(v float64) bool { return v != 1 }) {
		t.Error("Ones left values other than 1")
	}
	for _, c := range []struct {
		l       Layout
		in, out int
	}{{InOut, 3, 5}, {OutIn, 5, 3}} {
		if in, out := Fans([]int{3, 5}, c.l); in != c.in || out != c.out {
			t.Errorf("Fans([3 5], %d) = %d, %d, want %d, %d", c.l, in, out, c.in, c.out)
		}
	}
}

// Invalid arguments are programming errors: every one must panic.
func TestInitPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"negative std", func() { Normal(rng, NewParam[float32](nil, 3), -1) }},
		{"NaN std", func() { Normal(rng, NewParam[float32](nil, 3), math.NaN()) }},
		{"hi below lo", func() { Uniform(rng, NewParam[float32](nil, 3), 1, 0) }},
		{"Xavier on 1-D", func() { XavierUniform(rng, NewParam[float32](nil, 3)) }},
		{"Xavier on 3-D", func() { XavierUniform(rng, NewParam[float32](nil, 2, 3, 4)) }},
		{"Kaiming on 1-D", func() { KaimingNormal(rng, NewParam[float32](nil, 3), InOut) }},
		{"unknown layout", func() { KaimingNormal(rng, NewParam[float32](nil, 3, 3), Layout(7)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			c.f()
		})
	}
}
