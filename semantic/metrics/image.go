package metrics

import (
	"errors"
	"fmt"
	"math"
)

// Layout says how the channels of an image are laid out in its slice.
type Layout int

const (
	// HWC is interleaved: the value of channel c at column x, row y is at
	// (y*width + x)*channels + c, as in dataset.Scene.Pixels.
	HWC Layout = iota
	// CHW is planar: the value is at (c*height + y)*width + x, as in
	// dataset.Scene.CHW and the models' [channels, height, width] tensors.
	CHW
)

func (l Layout) String() string {
	switch l {
	case HWC:
		return "HWC"
	case CHW:
		return "CHW"
	}
	return fmt.Sprintf("Layout(%d)", int(l))
}

// SSIM parameters of Wang et al. 2004, section III-C.
const (
	SSIMWindow = 11   // side of the Gaussian window, in pixels
	SSIMSigma  = 1.5  // standard deviation of the window, in pixels
	SSIMK1     = 0.01 // C1 = (K1 L)^2
	SSIMK2     = 0.03 // C2 = (K2 L)^2
	SSIMRange  = 1.0  // dynamic range L of the pixel values
)

// Errors of PSNR, SSIM and ImageStats, wrapped with the sizes or values at fault.
var (
	// ErrEmpty means an image has no pixels.
	ErrEmpty = errors.New("metrics: empty image")
	// ErrSize means the two images differ in length, or a slice does not hold
	// width*height*channels values, or a dimension is not positive.
	ErrSize = errors.New("metrics: image size mismatch")
	// ErrTooSmall means an image is narrower or lower than the SSIM window.
	ErrTooSmall = errors.New("metrics: image smaller than the SSIM window")
	// ErrNotFinite means a pixel value is NaN or infinite, or so far outside
	// [0, 1] that the sums overflow.
	ErrNotFinite = errors.New("metrics: NaN or infinite value")
	// ErrLayout means a Layout other than HWC or CHW.
	ErrLayout = errors.New("metrics: unknown layout")
)

// PSNR returns the peak signal-to-noise ratio of img against ref in dB,
// 10 log10(peak^2 / MSE), with the mean squared error taken over every value of
// every channel in float64. peak is the largest possible value: 1 for images in
// [0, 1], 255 for 8-bit values. Identical images give +Inf, the limit as the error
// vanishes; ImageStats counts them apart. It returns an error if the slices are
// empty or differ in length, if peak is not positive and finite, or if a value is
// NaN or infinite.
func PSNR(ref, img []float32, peak float64) (float64, error) {
	if len(ref) == 0 || len(img) == 0 {
		return 0, fmt.Errorf("%w: PSNR of %d against %d values", ErrEmpty, len(img), len(ref))
	}
	if len(ref) != len(img) {
		return 0, fmt.Errorf("%w: PSNR of %d against %d values", ErrSize, len(img), len(ref))
	}
	if !(peak > 0) || math.IsInf(peak, 1) {
		return 0, fmt.Errorf("metrics: PSNR peak %v is not positive and finite", peak)
	}
	mse := meanSquaredError(ref, img)
	if math.IsNaN(mse) || math.IsInf(mse, 0) {
		return 0, fmt.Errorf("%w: PSNR", ErrNotFinite)
	}
	return psnr(mse, peak), nil
}

func meanSquaredError(ref, img []float32) float64 {
	var sum float64
	for i, r := range ref {
		d := float64(img[i]) - float64(r)
		sum += d * d
	}
	return sum / float64(len(ref))
}

func psnr(mse, peak float64) float64 {
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(peak*peak/mse)
}

// SSIM returns the mean structural similarity index of img against ref (Wang et al.
// 2004), in [-1, 1] with 1 for identical images. Both hold width*height*channels
// values in [0, 1] laid out as layout.
//
// Specified in Wang et al. 2004, equations (13) to (15) and section III-C: within an
// 11x11 Gaussian window w (SSIMSigma 1.5, weights summing to 1) the local means
// mu, variances sigma^2 and covariance sigma_xy are weighted sums, and
//
//	SSIM = (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2))
//
// with C1 = (0.01 L)^2, C2 = (0.03 L)^2 and L = 1. The index is averaged over every
// window position lying wholly inside the image, (width-10) x (height-10) of them,
// with no padding, and that mean is averaged over the channels, each channel taken
// as a grey image. Values outside [0, 1] are not clipped, but the constants assume
// that range. The window is separable, so the sums are taken as a horizontal and a
// vertical pass of 11 taps in float64.
//
// It returns an error if a dimension is not positive, a slice does not hold
// width*height*channels values (ErrSize), the image is smaller than 11x11
// (ErrTooSmall), layout is unknown (ErrLayout) or a value is NaN or infinite
// (ErrNotFinite).
func SSIM(ref, img []float32, width, height, channels int, layout Layout) (float64, error) {
	var s ssimPlan
	if err := s.init(width, height, channels, layout); err != nil {
		return 0, err
	}
	return s.ssim(ref, img)
}

// ssimWeights returns the 1-D Gaussian taps whose outer product is the window.
func ssimWeights() [SSIMWindow]float64 {
	var g [SSIMWindow]float64
	var sum float64
	for i := range g {
		d := float64(i - SSIMWindow/2)
		g[i] = math.Exp(-d * d / (2 * SSIMSigma * SSIMSigma))
		sum += g[i]
	}
	for i := range g {
		g[i] /= sum
	}
	return g
}

// ssimPlan holds the geometry of one image size and the scratch rows of the two
// filter passes, so repeated calls on images of that size do not allocate.
type ssimPlan struct {
	width, height, channels int
	layout                  Layout
	g                       [SSIMWindow]float64
	// h[m] is the horizontal pass of moment m (x, y, x^2, y^2, xy) of one channel:
	// height rows of width-10 values.
	h [5][]float64
	// v[m] is one output row of the vertical pass.
	v [5][]float64
}

func (s *ssimPlan) init(width, height, channels int, layout Layout) error {
	if width <= 0 || height <= 0 || channels <= 0 {
		return fmt.Errorf("%w: SSIM of a %dx%d image with %d channels", ErrSize, width, height, channels)
	}
	if layout != HWC && layout != CHW {
		return fmt.Errorf("%w: SSIM with %v", ErrLayout, layout)
	}
	if width < SSIMWindow || height < SSIMWindow {
		return fmt.Errorf("%w: image is %dx%d, window %dx%d", ErrTooSmall, width, height, SSIMWindow, SSIMWindow)
	}
	if height > math.MaxInt/width || channels > math.MaxInt/(width*height) {
		return fmt.Errorf("%w: SSIM of a %dx%d image with %d channels", ErrSize, width, height, channels)
	}
	ow := width - SSIMWindow + 1
	*s = ssimPlan{width: width, height: height, channels: channels, layout: layout, g: ssimWeights()}
	for m := range s.h {
		s.h[m] = make([]float64, height*ow)
		s.v[m] = make([]float64, ow)
	}
	return nil
}

func (s *ssimPlan) ssim(ref, img []float32) (float64, error) {
	n := s.width * s.height * s.channels
	if len(ref) != n || len(img) != n {
		return 0, fmt.Errorf("%w: SSIM of %d against %d values, want %dx%dx%d = %d",
			ErrSize, len(img), len(ref), s.width, s.height, s.channels, n)
	}
	var sum float64
	for c := range s.channels {
		sum += s.channel(ref, img, c)
	}
	mean := sum / float64(s.channels)
	if math.IsNaN(mean) || math.IsInf(mean, 0) {
		return 0, fmt.Errorf("%w: SSIM", ErrNotFinite)
	}
	return mean, nil
}

// channel returns the mean SSIM of channel c over the valid window positions.
func (s *ssimPlan) channel(ref, img []float32, c int) float64 {
	// Position of pixel (x, y) of channel c is base + y*rowStep + x*colStep.
	var base, rowStep, colStep int
	switch s.layout {
	case HWC:
		base, rowStep, colStep = c, s.width*s.channels, s.channels
	case CHW:
		base, rowStep, colStep = c*s.width*s.height, s.width, 1
	}
	ow, oh := s.width-SSIMWindow+1, s.height-SSIMWindow+1
	g := &s.g

	hx, hy, hxx, hyy, hxy := s.h[0], s.h[1], s.h[2], s.h[3], s.h[4]
	for y := range s.height {
		row := base + y*rowStep
		for ox := range ow {
			var sx, sy, sxx, syy, sxy float64
			p := row + ox*colStep
			for i, w := range g {
				a := float64(ref[p+i*colStep])
				b := float64(img[p+i*colStep])
				sx += w * a
				sy += w * b
				sxx += w * a * a
				syy += w * b * b
				sxy += w * (a * b) // a*b, not (w*a)*b: SSIM(x, y) == SSIM(y, x) to the bit
			}
			o := y*ow + ox
			hx[o], hy[o], hxx[o], hyy[o], hxy[o] = sx, sy, sxx, syy, sxy
		}
	}

	const (
		c1 = (SSIMK1 * SSIMRange) * (SSIMK1 * SSIMRange)
		c2 = (SSIMK2 * SSIMRange) * (SSIMK2 * SSIMRange)
	)
	vx, vy, vxx, vyy, vxy := s.v[0], s.v[1], s.v[2], s.v[3], s.v[4]
	var sum float64
	for oy := range oh {
		clear(vx)
		clear(vy)
		clear(vxx)
		clear(vyy)
		clear(vxy)
		for j, w := range g {
			r := (oy + j) * ow
			for ox := range ow {
				vx[ox] += w * hx[r+ox]
				vy[ox] += w * hy[r+ox]
				vxx[ox] += w * hxx[r+ox]
				vyy[ox] += w * hyy[r+ox]
				vxy[ox] += w * hxy[r+ox]
			}
		}
		for ox := range ow {
			mx, my := vx[ox], vy[ox]
			// Variances as E[x^2] - mu^2 (equation 14 with the weights summing
			// to 1); the cancellation costs about 1e-16 absolute, far below C2.
			sx2 := vxx[ox] - mx*mx
			sy2 := vyy[ox] - my*my
			sxy := vxy[ox] - mx*my
			sum += (2*(mx*my) + c1) * (2*sxy + c2) / ((mx*mx + my*my + c1) * (sx2 + sy2 + c2))
		}
	}
	return sum / float64(ow*oh)
}

// ImageStats accumulates PSNR (peak 1) and SSIM over an evaluation set of images of
// one size. Make it with NewImageStats; Add does not allocate.
type ImageStats struct {
	plan    ssimPlan
	psnrSum float64
	ssimSum float64
	count   int
	exact   int
}

// NewImageStats returns an ImageStats for images of width x height pixels and
// channels channels in [0, 1], laid out as layout. It returns the errors of SSIM
// for sizes it cannot score.
func NewImageStats(width, height, channels int, layout Layout) (*ImageStats, error) {
	s := new(ImageStats)
	if err := s.plan.init(width, height, channels, layout); err != nil {
		return nil, err
	}
	return s, nil
}

// Add scores img against ref. On error nothing is counted.
func (s *ImageStats) Add(ref, img []float32) error {
	ss, err := s.plan.ssim(ref, img)
	if err != nil {
		return err
	}
	p, err := PSNR(ref, img, 1)
	if err != nil {
		return err
	}
	if math.IsInf(p, 1) {
		s.exact++
	}
	s.psnrSum += p
	s.ssimSum += ss
	s.count++
	return nil
}

// Count returns the number of images added.
func (s *ImageStats) Count() int { return s.count }

// Exact returns how many added images equal their reference, whose PSNR is +Inf.
func (s *ImageStats) Exact() int { return s.exact }

// MeanPSNR returns the mean of the per-image PSNR in dB (peak 1), or 0 when nothing
// was added. It is +Inf as soon as one image is exact (see Exact), because the mean
// of per-image figures is what papers report and no finite stand-in would be honest.
func (s *ImageStats) MeanPSNR() float64 {
	if s.count == 0 {
		return 0
	}
	return s.psnrSum / float64(s.count)
}

// MeanSSIM returns the mean of the per-image SSIM, or 0 when nothing was added.
func (s *ImageStats) MeanSSIM() float64 {
	if s.count == 0 {
		return 0
	}
	return s.ssimSum / float64(s.count)
}

// Reset forgets the images added and keeps the scratch space.
func (s *ImageStats) Reset() {
	s.psnrSum, s.ssimSum, s.count, s.exact = 0, 0, 0, 0
}
