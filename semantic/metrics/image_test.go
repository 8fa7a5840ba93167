package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func constant(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// smoothImage returns a seeded HWC image in [0, 1] with structure at several
// scales, closer to a photograph than white noise is.
func smoothImage(rng *rand.Rand, w, h, c int) []float32 {
	img := make([]float32, w*h*c)
	for ch := range c {
		fx, fy, ph := 0.1+0.4*rng.Float64(), 0.1+0.4*rng.Float64(), 6*rng.Float64()
		for y := range h {
			for x := range w {
				v := 0.5 + 0.3*math.Sin(fx*float64(x)+ph)*math.Cos(fy*float64(y)) + 0.1*rng.NormFloat64()
				img[(y*w+x)*c+ch] = float32(min(1, max(0, v)))
			}
		}
	}
	return img
}

func addNoise(rng *rand.Rand, img []float32, sigma float64) []float32 {
	out := make([]float32, len(img))
	for i, v := range img {
		out[i] = v + float32(sigma*rng.NormFloat64())
	}
	return out
}

// toCHW rearranges an HWC image into CHW.
func toCHW(img []float32, w, h, c int) []float32 {
	out := make([]float32, len(img))
	for y := range h {
		for x := range w {
			for ch := range c {
				out[(ch*h+y)*w+x] = img[(y*w+x)*c+ch]
			}
		}
	}
	return out
}

func TestPSNR(t *testing.T) {
	tests := []struct {
		name     string
		ref, img []float32
		peak     float64
		want     float64
		tol      float64
	}{
		{"identical", []float32{0.1, 0.5, 0.9}, []float32{0.1, 0.5, 0.9}, 1, math.Inf(1), 0},
		// Every value off by 0.1 at peak 1: MSE = 0.01, PSNR = 10 log10(100) = 20 dB.
		// 0.1 has no exact float32 form; the error in the difference of two
		// float32 values near 0.5 is up to 3e-8, a relative 3e-7 in the
		// difference and 2 * 3e-7 * 10/ln 10 = 3e-6 dB in the result.
		{"off by 0.1", constant(64, 0.5), constant(64, 0.6), 1, 20, 1e-5},
		{"off by -0.1", constant(64, 0.6), constant(64, 0.5), 1, 20, 1e-5},
		// The same in 8-bit units, exactly representable: 25.5 off at peak 255,
		// 255^2 / 25.5^2 = 100.
		{"8-bit scale", constant(10, 100), constant(10, 125.5), 255, 20, 1e-12},
		// One value of four off by 0.5: MSE = 0.25/4 = 1/16, PSNR = 10 log10(16).
		{"one of four", []float32{0, 0, 0, 0}, []float32{0.5, 0, 0, 0}, 1, 10 * math.Log10(16), 1e-12},
		// MSE = 1 at peak 1: 0 dB.
		{"0 dB", []float32{0, 1}, []float32{1, 0}, 1, 0, 0},
	}
	for _, tc := range tests {
		got, err := PSNR(tc.ref, tc.img, tc.peak)
		if err != nil || !near(got, tc.want, tc.tol) {
			t.Errorf("%s: PSNR = %.15g, %v; want %.15g", tc.name, got, err, tc.want)
		}
	}
}

func TestPSNRErrors(t *testing.T) {
	tests := []struct {
		name     string
		ref, img []float32
		peak     float64
		want     error
	}{
		{"empty", nil, nil, 1, ErrEmpty},
		{"empty image", []float32{1}, nil, 1, ErrEmpty},
		{"lengths", []float32{1, 2}, []float32{1}, 1, ErrSize},
		{"NaN value", []float32{0, 0}, []float32{0, float32(math.NaN())}, 1, ErrNotFinite},
		{"Inf value", []float32{float32(math.Inf(1)), 0}, []float32{0, 0}, 1, ErrNotFinite},
		{"zero peak", []float32{0}, []float32{1}, 0, nil},
		{"NaN peak", []float32{0}, []float32{1}, math.NaN(), nil},
		{"Inf peak", []float32{0}, []float32{1}, math.Inf(1), nil},
	}
	for _, tc := range tests {
		_, err := PSNR(tc.ref, tc.img, tc.peak)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

// slowSSIM computes the mean SSIM of HWC images directly from the paper: for every
// window position, weighted sums over the 11x11 window with the 2-D Gaussian built
// and normalised on its own, the variances taken about the local means.
func slowSSIM(ref, img []float32, w, h, c int) float64 {
	const side, half = 11, 5
	var win [side][side]float64
	var total float64
	for i := range side {
		for j := range side {
			di, dj := float64(i-half), float64(j-half)
			win[i][j] = math.Exp(-(di*di + dj*dj) / (2 * 1.5 * 1.5))
			total += win[i][j]
		}
	}
	c1, c2 := 0.01*0.01, 0.03*0.03
	var channelSum float64
	for ch := range c {
		at := func(s []float32, x, y int) float64 { return float64(s[(y*w+x)*c+ch]) }
		var sum float64
		positions := 0
		for y0 := 0; y0+side <= h; y0++ {
			for x0 := 0; x0+side <= w; x0++ {
				var mx, my float64
				for i := range side {
					for j := range side {
						wt := win[i][j] / total
						mx += wt * at(ref, x0+j, y0+i)
						my += wt * at(img, x0+j, y0+i)
					}
				}
				var vx, vy, cxy float64
				for i := range side {
					for j := range side {
						wt := win[i][j] / total
						dx := at(ref, x0+j, y0+i) - mx
						dy := at(img, x0+j, y0+i) - my
						vx += wt * dx * dx
						vy += wt * dy * dy
						cxy += wt * dx * dy
					}
				}
				l := (2*mx*my + c1) / (mx*mx + my*my + c1)
				cs := (2*cxy + c2) / (vx + vy + c2)
				sum += l * cs
				positions++
			}
		}
		channelSum += sum / float64(positions)
	}
	return channelSum / float64(c)
}

// TestSSIMAgainstSlow compares the separable filter with slowSSIM for several
// sizes, noise levels and both layouts.
func TestSSIMAgainstSlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	sizes := []struct{ w, h, c int }{{11, 11, 1}, {12, 17, 3}, {20, 13, 2}, {32, 32, 3}}
	for _, sz := range sizes {
		ref := smoothImage(rng, sz.w, sz.h, sz.c)
		for _, sigma := range []float64{0, 0.01, 0.1, 0.5} {
			img := addNoise(rng, ref, sigma)
			want := slowSSIM(ref, img, sz.w, sz.h, sz.c)
			got, err := SSIM(ref, img, sz.w, sz.h, sz.c, HWC)
			if err != nil || !near(got, want, 1e-9) {
				t.Errorf("%dx%dx%d sigma %v: SSIM = %.15g, %v; slow %.15g", sz.w, sz.h, sz.c, sigma, got, err, want)
			}
			gotCHW, err := SSIM(toCHW(ref, sz.w, sz.h, sz.c), toCHW(img, sz.w, sz.h, sz.c), sz.w, sz.h, sz.c, CHW)
			if err != nil || gotCHW != got {
				t.Errorf("%dx%dx%d sigma %v: CHW gives %.17g, %v; HWC %.17g", sz.w, sz.h, sz.c, sigma, gotCHW, err, got)
			}
		}
	}
}

// TestSSIMByHand checks images whose SSIM follows from the formula without a
// computer: on constant images every local variance and covariance is 0, so the
// contrast-structure factor is C2/C2 = 1 and SSIM is the luminance term
// (2ab + C1)/(a^2 + b^2 + C1) of the two levels a and b, with C1 = 1e-4.
func TestSSIMByHand(t *testing.T) {
	const c1 = 1e-4
	tests := []struct {
		name string
		a, b float32
		want float64
	}{
		{"equal", 0.25, 0.25, 1},
		// (2 * 0.5 * 0.75 + 1e-4) / (0.25 + 0.5625 + 1e-4) = 0.7501 / 0.8126.
		{"offset 0.25", 0.5, 0.75, 0.7501 / 0.8126},
		// Black against white: C1 / (1 + C1).
		{"black white", 0, 1, c1 / (1 + c1)},
		// Both black: C1 / C1.
		{"black", 0, 0, 1},
	}
	const w, h, c = 16, 12, 3
	for _, tc := range tests {
		got, err := SSIM(constant(w*h*c, tc.a), constant(w*h*c, tc.b), w, h, c, HWC)
		if err != nil || !near(got, tc.want, 1e-12) {
			t.Errorf("%s: SSIM = %.15g, %v; want %.15g", tc.name, got, err, tc.want)
		}
	}
}

func TestSSIMProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const w, h, c = 32, 32, 3
	ref := smoothImage(rng, w, h, c)

	if got, err := SSIM(ref, ref, w, h, c, HWC); err != nil || got != 1 {
		t.Errorf("identical images: SSIM = %.17g, %v; want 1", got, err)
	}

	// One noise pattern at growing strength: each step moves the image further
	// from the reference, so the index must fall.
	noise := addNoise(rng, make([]float32, len(ref)), 1)
	prev := 1.0
	for _, sigma := range []float32{0.01, 0.03, 0.1, 0.3} {
		img := make([]float32, len(ref))
		for i := range img {
			img[i] = ref[i] + sigma*noise[i]
		}
		got, err := SSIM(ref, img, w, h, c, HWC)
		if err != nil || !(got < prev) {
			t.Errorf("noise %v: SSIM = %v, %v; want below %v", sigma, got, err, prev)
		}
		prev = got

		// The formula is symmetric in x and y term by term.
		back, err := SSIM(img, ref, w, h, c, HWC)
		if err != nil || back != got {
			t.Errorf("noise %v: SSIM(img, ref) = %.17g, SSIM(ref, img) = %.17g", sigma, back, got)
		}
	}

	// A negated texture about the same mean has covariance -sigma^2, so the index
	// goes negative.
	neg := make([]float32, len(ref))
	for i, v := range ref {
		neg[i] = 1 - v
	}
	if got, err := SSIM(ref, neg, w, h, c, HWC); err != nil || !(got < 0) {
		t.Errorf("inverted image: SSIM = %v, %v; want negative", got, err)
	}
}

func TestSSIMErrors(t *testing.T) {
	img := constant(32*32*3, 0.5)
	nan := constant(32*32*3, 0.5)
	nan[100] = float32(math.NaN())
	tests := []struct {
		name       string
		ref, img   []float32
		w, h, c    int
		layout     Layout
		want       error
		wantInText string
	}{
		{"zero width", img, img, 0, 32, 3, HWC, ErrSize, "0x32"},
		{"negative channels", img, img, 32, 32, -3, HWC, ErrSize, "-3"},
		{"too narrow", img, img, 10, 32, 3, HWC, ErrTooSmall, "10x32"},
		{"too low", img, img, 32, 8, 3, CHW, ErrTooSmall, "32x8"},
		{"short reference", img[1:], img, 32, 32, 3, HWC, ErrSize, "3071"},
		{"long image", img, append(img[:len(img):len(img)], 0), 32, 32, 3, HWC, ErrSize, "3073"},
		{"layout", img, img, 32, 32, 3, Layout(7), ErrLayout, "Layout(7)"},
		{"NaN", img, nan, 32, 32, 3, HWC, ErrNotFinite, ""},
		{"overflow", img, img, math.MaxInt / 2, math.MaxInt / 2, 3, HWC, ErrSize, ""},
	}
	for _, tc := range tests {
		_, err := SSIM(tc.ref, tc.img, tc.w, tc.h, tc.c, tc.layout)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.wantInText) {
			t.Errorf("%s: error %v, want %v mentioning %q", tc.name, err, tc.want, tc.wantInText)
		}
	}
}

func TestImageStats(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const w, h, c = 16, 16, 3
	s, err := NewImageStats(w, h, c, CHW)
	if err != nil {
		t.Fatal(err)
	}
	if s.Count() != 0 || s.MeanPSNR() != 0 || s.MeanSSIM() != 0 {
		t.Errorf("empty: %d, %v, %v", s.Count(), s.MeanPSNR(), s.MeanSSIM())
	}
	var psnrSum, ssimSum float64
	for i := range 5 {
		ref := smoothImage(rng, w, h, c)
		img := addNoise(rng, ref, 0.02*float64(i+1))
		p, _ := PSNR(ref, img, 1)
		q, _ := SSIM(ref, img, w, h, c, CHW)
		psnrSum += p
		ssimSum += q
		if err := s.Add(ref, img); err != nil {
			t.Fatal(err)
		}
	}
	if s.Count() != 5 || s.Exact() != 0 || !near(s.MeanPSNR(), psnrSum/5, 1e-12) || !near(s.MeanSSIM(), ssimSum/5, 1e-12) {
		t.Errorf("got count %d exact %d PSNR %v SSIM %v, want 5, 0, %v, %v",
			s.Count(), s.Exact(), s.MeanPSNR(), s.MeanSSIM(), psnrSum/5, ssimSum/5)
	}

	// A failed Add counts nothing.
	if err := s.Add(make([]float32, 3), make([]float32, 3)); !errors.Is(err, ErrSize) {
		t.Errorf("wrong size: %v", err)
	}
	if s.Count() != 5 {
		t.Errorf("count %d after a failed Add", s.Count())
	}

	// Steady state does not allocate.
	ref := smoothImage(rng, w, h, c)
	img := addNoise(rng, ref, 0.05)
	if n := testing.AllocsPerRun(20, func() { _ = s.Add(ref, img) }); n != 0 {
		t.Errorf("Add allocates %v times per call", n)
	}

	// An exact image makes the mean PSNR +Inf and is counted.
	s.Reset()
	if err := s.Add(ref, ref); err != nil {
		t.Fatal(err)
	}
	if s.Exact() != 1 || !math.IsInf(s.MeanPSNR(), 1) || s.MeanSSIM() != 1 {
		t.Errorf("exact: %d, %v, %v", s.Exact(), s.MeanPSNR(), s.MeanSSIM())
	}
}

func TestNewImageStatsErrors(t *testing.T) {
	tests := []struct {
		name    string
		w, h, c int
		layout  Layout
		want    error
	}{
		{"zero", 0, 0, 0, HWC, ErrSize},
		{"small", 8, 8, 3, HWC, ErrTooSmall},
		{"layout", 32, 32, 3, -1, ErrLayout},
	}
	for _, tc := range tests {
		if s, err := NewImageStats(tc.w, tc.h, tc.c, tc.layout); s != nil || !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, s, err, tc.want)
		}
	}
}
