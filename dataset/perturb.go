package dataset

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// Perturbation makes an image look less like the generator's clean output and more
// like one a camera, a paint program or a compressor produced: a lifted, uneven
// background, object colours off their palette values, sensor noise, blur, JPEG
// artefacts, objects a little larger or smaller, anti-aliased edges. Each field is a
// strength; its zero value turns that perturbation off, so the zero Perturbation
// changes nothing. Out-of-range values are clamped to the documented ranges (NaN
// counts as zero).
//
// Unless Fixed is set, every image draws its own strength of each perturbation
// uniformly from [0, max] (training wants the whole range, clean included); with Fixed
// each is used at its maximum (evaluation at a stated strength).
//
// RenderScene applies all of them while drawing a scene, where objects and background
// are known apart. Apply works on finished pixels and applies those that need no
// object geometry: Background and Gradient (on dark pixels), Blur, Noise and
// JPEGQuality.
type Perturbation struct {
	// Background is the largest background level, a fraction of full scale in [0, 1]:
	// the background becomes grey of level b, b drawn from [0, Background].
	Background float64
	// Gradient is the largest change of the background level across the image, a
	// fraction of full scale in [0, 1]: a linear ramp of amplitude a, drawn from
	// [0, Gradient], in a uniformly random direction, centred so the image's mean
	// background stays b (the level is clamped at 0).
	Gradient float64
	// Jitter is the largest offset of an object's colour per channel, in 8-bit levels
	// in [0, 255]: each object draws one offset per channel from [-Jitter, Jitter]
	// (with Fixed, +-Jitter). The offset is then shortened toward the palette colour
	// until the colour is at least twice as close to its own palette value as to any
	// other palette colour or to black, so a jittered "red" is still red
	// (PaletteNearest).
	Jitter float64
	// Noise is the standard deviation of additive Gaussian sensor noise, a fraction of
	// full scale in [0, 1], independent per pixel and channel; each image draws its
	// sigma from [0, Noise].
	Noise float64
	// Blur is the largest standard deviation, in pixels in [0, MaxBlur], of a 3x3
	// Gaussian blur (separable, edges replicated).
	Blur float64
	// JPEGQuality, when in [1, 100], round-trips the image through image/jpeg (4:2:0
	// chroma) at a quality drawn from [JPEGQuality, 100] (with Fixed, JPEGQuality);
	// 0 or less is off.
	JPEGQuality int
	// Scale is the largest relative change of an object's size, in [0, MaxScale]:
	// each object's half-extent is multiplied by a factor drawn from
	// [1-Scale, 1+Scale] (with Fixed, 1+-Scale), and grows by at most a quarter pixel
	// beyond the generator's, so objects placed apart stay apart. RenderScene only.
	Scale float64
	// Antialias, when 2 or more, renders each pixel as the mean of Antialias x
	// Antialias samples (at most MaxAntialias per axis), so edges are blended with the
	// background as a renderer with anti-aliasing draws them; 0 or 1 samples pixel
	// centres, as GenerateScene does. RenderScene only.
	Antialias int
	// Fixed uses every strength at its maximum instead of drawing it.
	Fixed bool
}

// Limits of the Perturbation fields.
const (
	// MaxBlur is the largest Blur: beyond it a 3x3 kernel no longer approximates a
	// Gaussian.
	MaxBlur = 1.5
	// MaxScale is the largest Scale.
	MaxScale = 0.5
	// MaxAntialias is the largest Antialias.
	MaxAntialias = 8
)

// RealisticPerturbation returns the strengths m4sc trains and evaluates robustness
// at: background up to 10% grey (a level up to 8% and a
// gradient up to 4% across the image), colour jitter +-30 per channel, noise sigma 2%
// of full scale, JPEG quality 50 to 100, and mild blur (sigma up to 0.6 pixel), scale
// changes (+-10%) and 4x4 anti-aliasing.
func RealisticPerturbation() Perturbation {
	return Perturbation{Background: 0.08, Gradient: 0.04, Jitter: 30, Noise: 0.02, Blur: 0.6,
		JPEGQuality: 50, Scale: 0.1, Antialias: 4}
}

// IsZero reports whether p changes nothing.
func (p Perturbation) IsZero() bool {
	q := p.clamped()
	q.Fixed = false
	return q == Perturbation{}
}

// clamped returns p with every field in its documented range.
func (p Perturbation) clamped() Perturbation {
	p.Background = clampF(p.Background, 1)
	p.Gradient = clampF(p.Gradient, 1)
	p.Jitter = clampF(p.Jitter, 255)
	p.Noise = clampF(p.Noise, 1)
	p.Blur = clampF(p.Blur, MaxBlur)
	p.Scale = clampF(p.Scale, MaxScale)
	p.JPEGQuality = max(min(p.JPEGQuality, 100), 0)
	p.Antialias = max(min(p.Antialias, MaxAntialias), 0)
	if p.Antialias == 1 {
		p.Antialias = 0
	}
	return p
}

// clampF clamps v to [0, hi]; NaN becomes 0.
func clampF(v, hi float64) float64 {
	if !(v > 0) {
		return 0
	}
	return min(v, hi)
}

// perturbStream separates the perturbations' PCG stream from the scene generator's.
const perturbStream = 0x9e7a_b0b5_0f5c_e7e5

// draws are a perturbation's global random choices for one image, made in a fixed
// order whatever is on, so turning one perturbation on does not change the others.
type draws struct {
	rng      *rand.Rand
	bg       float64 // background level, fraction of full scale
	gradient float64 // ramp amplitude
	gx, gy   float64 // ramp direction, a unit vector
	sigma    float64 // noise, fraction of full scale
	blur     float64 // blur sigma, pixels
	quality  int     // JPEG quality, 0 off
}

// level draws a strength in [0, hi], or takes hi when fixed.
func level(rng *rand.Rand, hi float64, fixed bool) float64 {
	u := rng.Float64()
	if fixed {
		return hi
	}
	return u * hi
}

func newDraws(p Perturbation, seed uint64) draws {
	d := draws{rng: rand.New(rand.NewPCG(seed, perturbStream))}
	d.bg = level(d.rng, p.Background, p.Fixed)
	d.gradient = level(d.rng, p.Gradient, p.Fixed)
	theta := 2 * math.Pi * d.rng.Float64()
	d.gx, d.gy = math.Cos(theta), math.Sin(theta)
	d.sigma = level(d.rng, p.Noise, p.Fixed)
	d.blur = level(d.rng, p.Blur, p.Fixed)
	u := d.rng.Float64()
	if p.JPEGQuality > 0 {
		d.quality = p.JPEGQuality
		if !p.Fixed {
			d.quality = min(p.JPEGQuality+int(u*float64(101-p.JPEGQuality)), 100)
		}
	}
	return d
}

// background returns the background level at pixel (x, y) of a w x h image, in
// 8-bit units: b plus the ramp, whose projection on (gx, gy) runs over [-1/2, 1/2]
// of the image's extent in that direction.
func (d *draws) background(x, y, w, h int) float64 {
	v := d.bg
	if d.gradient > 0 {
		ext := math.Abs(d.gx)*float64(w-1) + math.Abs(d.gy)*float64(h-1)
		if ext > 0 {
			t := (d.gx*(float64(x)-float64(w-1)/2) + d.gy*(float64(y)-float64(h-1)/2)) / ext
			v += d.gradient * t
		}
	}
	return 255 * min(max(v, 0), 1)
}

// RenderScene appends the ScenePixels bytes of objs drawn with perturbation p to dst
// (8-bit RGB, HWC, as Scene.Pixels) and returns the extended slice. The random
// choices come from a PCG seeded with seed, so the same objects, p and seed give the
// same bytes on every platform. With the zero Perturbation the pixels are exactly
// GenerateScene's. Objects are drawn as continuous shapes that, sampled at pixel
// centres, are the generator's: a square of half-extent r+1/2, a disc of radius
// r+1/2, a triangle with its apex r+1/2 above the centre and a base 2r+1 wide r+1/2
// below it.
func RenderScene(dst []uint8, objs []Object, p Perturbation, seed uint64) []uint8 {
	n := len(dst)
	dst = append(dst, make([]uint8, ScenePixels)...)
	out := dst[n:]
	p = p.clamped()
	if p.IsZero() {
		sceneRender(out, objs)
		return dst
	}
	d := newDraws(p, seed)
	const S = SceneSize
	// Objects are composited over the background by coverage: a pixel an object
	// covers a fraction a of is a times its colour plus (1-a) times the background.
	obj := make([]float64, ScenePixels) // coverage-weighted object colour
	cover := make([]float64, S*S)       // object coverage per pixel
	k := max(p.Antialias, 1)
	for _, o := range objs {
		// Per-object draws come first and always, so the number of draws per object
		// does not depend on which options are on.
		var off [3]float64
		for c := range off {
			off[c] = (2*d.rng.Float64() - 1) * p.Jitter
			if p.Fixed {
				off[c] = math.Copysign(p.Jitter, off[c])
			}
		}
		f := 1 + (2*d.rng.Float64()-1)*p.Scale
		if p.Fixed {
			f = 1 + math.Copysign(p.Scale, f-1)
		}
		if o.X < -S || o.Y < -S || o.X > 2*S || o.Y > 2*S {
			continue // off the canvas whatever its size
		}
		col := jitterColor(o.Color, off)
		r := float64(o.Size.Radius())
		e := min((r+0.5)*f, r+0.75)
		x0, x1 := max(o.X-int(e)-1, 0), min(o.X+int(e)+1, S-1)
		y0, y1 := max(o.Y-int(e)-1, 0), min(o.Y+int(e)+1, S-1)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				hits := 0
				for sy := range k {
					dy := float64(y-o.Y) - 0.5 + (float64(sy)+0.5)/float64(k)
					for sx := range k {
						dx := float64(x-o.X) - 0.5 + (float64(sx)+0.5)/float64(k)
						if shapeCovers(o.Shape, e, dx, dy) {
							hits++
						}
					}
				}
				j := y*S + x
				// Objects never overlap (RenderScene's scale keeps them apart);
				// min guards the sum all the same.
				a := min(float64(hits)/float64(k*k), 1-cover[j])
				if a <= 0 {
					continue
				}
				cover[j] += a
				for c := range 3 {
					obj[j*SceneChannels+c] += a * col[c]
				}
			}
		}
	}
	buf := make([]float64, ScenePixels)
	for y := range S {
		for x := range S {
			j := y*S + x
			bg := (1 - cover[j]) * d.background(x, y, S, S)
			for c := range 3 {
				buf[j*SceneChannels+c] = obj[j*SceneChannels+c] + bg
			}
		}
	}
	d.finish(out, buf, S, S)
	return dst
}

// shapeCovers reports whether the point (dx, dy), relative to the centre, lies in a
// shape of half-extent e (see RenderScene).
func shapeCovers(s Shape, e, dx, dy float64) bool {
	switch s {
	case Square:
		return math.Abs(dx) <= e && math.Abs(dy) <= e
	case Circle:
		return dx*dx+dy*dy <= e*e
	case Triangle:
		return dy <= e && 2*math.Abs(dx) <= dy+e
	}
	return false
}

// jitterColor returns c's RGB moved by off (8-bit levels per channel), clipped to
// [0, 255] and shortened toward c so it stays at least twice as close to c as to any
// other palette colour or black.
func jitterColor(c Color, off [3]float64) [3]float64 {
	if c >= numColors {
		return [3]float64{}
	}
	var p, v [3]float64
	for i := range 3 {
		p[i] = float64(colorRGB[c][i])
		v[i] = min(max(p[i]+off[i], 0), 255) - p[i]
	}
	// |p + t v - p| <= |p + t v - q| / 2 for every other q: with w = p - q this is
	// 3 t^2 |v|^2 - 2 t (v.w) - |w|^2 <= 0, true for t in [0, t*] with t* the positive
	// root; the largest t <= 1 allowed by every q is kept.
	vv := v[0]*v[0] + v[1]*v[1] + v[2]*v[2]
	t := 1.0
	if vv > 0 {
		for q := Color(0); q <= numColors; q++ {
			var qc [3]float64 // black for q == numColors
			if q == c {
				continue
			}
			if q < numColors {
				qc = [3]float64{float64(colorRGB[q][0]), float64(colorRGB[q][1]), float64(colorRGB[q][2])}
			}
			var vw, ww float64
			for i := range 3 {
				w := p[i] - qc[i]
				vw += v[i] * w
				ww += w * w
			}
			a, b := 3*vv, -2*vw
			root := (-b + math.Sqrt(b*b+4*a*ww)) / (2 * a)
			t = min(t, root)
		}
	}
	return [3]float64{p[0] + t*v[0], p[1] + t*v[1], p[2] + t*v[2]}
}

// PaletteNearest returns the palette colour nearest to (r, g, b) in RGB, and false
// when black, the background, is nearer than every colour.
func PaletteNearest(r, g, b uint8) (Color, bool) {
	best, bestD := Color(0), math.MaxInt
	for c := Color(0); c < numColors; c++ {
		dr, dg, db := int(r)-int(colorRGB[c][0]), int(g)-int(colorRGB[c][1]), int(b)-int(colorRGB[c][2])
		if d := dr*dr + dg*dg + db*db; d < bestD {
			best, bestD = c, d
		}
	}
	return best, int(r)*int(r)+int(g)*int(g)+int(b)*int(b) >= bestD
}

// Apply perturbs an 8-bit RGB image of w x h pixels in HWC order in place, with the
// perturbations that need no object geometry (Jitter, Scale and Antialias are
// ignored): the background is lifted where the image is dark, each pixel by
// (1 - m) times the background level, m being its largest channel over 255 (so black
// becomes the background and saturated colours keep their value, as grey ink on a
// lit page would), then Blur, Noise and JPEGQuality as in RenderScene. The same pix,
// p and seed give the same bytes on every platform. It returns an error when pix is
// not w*h*3 bytes.
func (p Perturbation) Apply(pix []uint8, w, h int, seed uint64) error {
	if w < 1 || h < 1 || w > 1<<14 || h > 1<<14 || len(pix) != w*h*3 {
		return fmt.Errorf("dataset: perturb: %d bytes are not a %dx%d RGB image", len(pix), w, h)
	}
	p = p.clamped()
	if p.IsZero() {
		return nil
	}
	d := newDraws(p, seed)
	buf := make([]float64, len(pix))
	for y := range h {
		for x := range w {
			i := (y*w + x) * 3
			m := max(pix[i], pix[i+1], pix[i+2])
			lift := (1 - float64(m)/255) * d.background(x, y, w, h)
			for c := range 3 {
				buf[i+c] = float64(pix[i+c]) + lift
			}
		}
	}
	d.finish(pix, buf, w, h)
	return nil
}

// finish blurs, adds noise, rounds buf (8-bit units) into out and round-trips out
// through JPEG, as far as each is on.
func (d *draws) finish(out []uint8, buf []float64, w, h int) {
	if d.blur > 0 {
		blur3(buf, w, h, math.Exp(-1/(2*d.blur*d.blur)))
	}
	if d.sigma > 0 {
		s := 255 * d.sigma
		for i := range buf {
			buf[i] += s * d.rng.NormFloat64()
		}
	}
	for i, v := range buf {
		out[i] = uint8(min(max(math.Round(v), 0), 255))
	}
	if d.quality > 0 {
		jpegRoundTrip(out, w, h, d.quality)
	}
}

// blur3 convolves an HWC RGB image with the separable kernel [s, 1, s]/(1+2s),
// replicating edge pixels.
func blur3(buf []float64, w, h int, s float64) {
	n := 1 + 2*s
	tmp := make([]float64, len(buf))
	at := func(x, y, c int) float64 {
		x, y = min(max(x, 0), w-1), min(max(y, 0), h-1)
		return buf[(y*w+x)*3+c]
	}
	for y := range h {
		for x := range w {
			for c := range 3 {
				tmp[(y*w+x)*3+c] = (s*at(x-1, y, c) + at(x, y, c) + s*at(x+1, y, c)) / n
			}
		}
	}
	at = func(x, y, c int) float64 {
		x, y = min(max(x, 0), w-1), min(max(y, 0), h-1)
		return tmp[(y*w+x)*3+c]
	}
	for y := range h {
		for x := range w {
			for c := range 3 {
				buf[(y*w+x)*3+c] = (s*at(x, y-1, c) + at(x, y, c) + s*at(x, y+1, c)) / n
			}
		}
	}
}

// jpegRoundTrip encodes pix with image/jpeg at quality q and decodes it back in place.
// image/jpeg is integer arithmetic throughout, so the result is the same everywhere.
func jpegRoundTrip(pix []uint8, w, h, q int) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		copy(img.Pix[4*i:4*i+3], pix[3*i:3*i+3])
		img.Pix[4*i+3] = 255
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		return // writing to memory does not fail
	}
	dec, err := jpeg.Decode(&b)
	if err != nil {
		return // what image/jpeg wrote it reads
	}
	for y := range h {
		for x := range w {
			c := color.RGBAModel.Convert(dec.At(x, y)).(color.RGBA)
			i := (y*w + x) * 3
			pix[i], pix[i+1], pix[i+2] = c.R, c.G, c.B
		}
	}
}
