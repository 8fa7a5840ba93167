package dataset

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

// The zero Perturbation draws exactly GenerateScene's pixels, and so do the continuous
// shapes of the perturbed path sampled at pixel centres (a background too faint to
// round to 1 turns that path on without changing a pixel).
func TestRenderSceneCleanIsGenerateScene(t *testing.T) {
	for i := range uint64(300) {
		sc := GenerateScene(SceneTrain.Seed(i))
		if got := RenderScene(nil, sc.Objects, Perturbation{}, i); !bytes.Equal(got, sc.Pixels) {
			t.Fatalf("scene %d: zero perturbation changed the pixels", i)
		}
		faint := Perturbation{Background: 1e-6, Fixed: true}
		if faint.IsZero() {
			t.Fatal("faint background counted as zero")
		}
		if got := RenderScene(nil, sc.Objects, faint, i); !bytes.Equal(got, sc.Pixels) {
			t.Fatalf("scene %d (%v): continuous shapes sampled at pixel centres differ from the generator's", i, sc.Objects)
		}
	}
}

func TestRenderSceneAppends(t *testing.T) {
	sc := GenerateScene(3)
	dst := RenderScene([]uint8{7}, sc.Objects, RealisticPerturbation(), 1)
	if len(dst) != 1+ScenePixels || dst[0] != 7 {
		t.Fatalf("RenderScene did not append: len %d, first %d", len(dst), dst[0])
	}
}

// Every option alone, at a fixed strength, changes the image (scale with anti-aliasing,
// as a tenth of a radius rarely moves a pixel centre across an edge); off changes
// nothing.
func TestPerturbationOptions(t *testing.T) {
	sc := Scene{Objects: []Object{{Circle, Red, Large, 6, 6}, {Triangle, Gray, Small, 16, 20}, {Square, Cyan, Large, 25, 8}}}
	sc.Pixels = RenderScene(nil, sc.Objects, Perturbation{}, 0)
	aa := RenderScene(nil, sc.Objects, Perturbation{Antialias: 4}, 9)
	for _, tc := range []struct {
		name string
		p    Perturbation
	}{
		{"background", Perturbation{Background: 0.1}},
		{"gradient", Perturbation{Gradient: 0.1}},
		{"jitter", Perturbation{Jitter: 30}},
		{"noise", Perturbation{Noise: 0.02}},
		{"blur", Perturbation{Blur: 0.6}},
		{"jpeg", Perturbation{JPEGQuality: 50}},
		{"scale", Perturbation{Scale: 0.1, Antialias: 4}},
		{"antialias", Perturbation{Antialias: 4}},
	} {
		tc.p.Fixed = true
		clean := sc.Pixels
		if tc.name == "scale" {
			clean = aa
		}
		if got := RenderScene(nil, sc.Objects, tc.p, 9); bytes.Equal(got, clean) {
			t.Errorf("%s: RenderScene left the scene unchanged", tc.name)
		}
		pix := bytes.Clone(sc.Pixels)
		if err := tc.p.Apply(pix, SceneSize, SceneSize, 9); err != nil {
			t.Fatal(err)
		}
		geometric := tc.name == "jitter" || tc.name == "scale" || tc.name == "antialias"
		if changed := !bytes.Equal(pix, sc.Pixels); changed == geometric {
			t.Errorf("%s: Apply changed the image: %v, want %v", tc.name, changed, !geometric)
		}
	}
	pix := bytes.Clone(sc.Pixels)
	if err := (Perturbation{Fixed: true, Antialias: 1, JPEGQuality: -3, Noise: math.NaN()}).Apply(pix, SceneSize, SceneSize, 1); err != nil || !bytes.Equal(pix, sc.Pixels) {
		t.Errorf("an off perturbation changed the image (err %v)", err)
	}
	if err := RealisticPerturbation().Apply(pix[:10], SceneSize, SceneSize, 1); err == nil {
		t.Error("Apply accepted 10 bytes as a 32x32 image")
	}
}

// The same seed gives the same bytes; another seed other bytes.
func TestPerturbationDeterministic(t *testing.T) {
	p := RealisticPerturbation()
	sc := GenerateScene(11)
	a := RenderScene(nil, sc.Objects, p, 42)
	if b := RenderScene(nil, sc.Objects, p, 42); !bytes.Equal(a, b) {
		t.Fatal("RenderScene: same seed, different bytes")
	}
	if c := RenderScene(nil, sc.Objects, p, 43); bytes.Equal(a, c) {
		t.Fatal("RenderScene: seeds 42 and 43 gave the same bytes")
	}
	x, y := bytes.Clone(sc.Pixels), bytes.Clone(sc.Pixels)
	_ = p.Apply(x, SceneSize, SceneSize, 42)
	_ = p.Apply(y, SceneSize, SceneSize, 42)
	if !bytes.Equal(x, y) {
		t.Fatal("Apply: same seed, different bytes")
	}
}

// Jitter at any strength leaves every colour nearest its own palette value (and far
// from black), and at the realistic +-30 it is not shortened at all.
func TestJitterKeepsColorNames(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for c := Color(0); c < numColors; c++ {
		for range 2000 {
			var off [3]float64
			for i := range off {
				off[i] = 255 * (2*rng.Float64() - 1)
			}
			v := jitterColor(c, off)
			got, obj := PaletteNearest(uint8(math.Round(v[0])), uint8(math.Round(v[1])), uint8(math.Round(v[2])))
			if got != c || !obj {
				t.Fatalf("%s jittered by %v is %v, nearest %s (object %v)", c, off, v, got, obj)
			}
		}
		for corner := range 8 {
			var off [3]float64
			for i := range off {
				off[i] = float64(30 - 60*(corner>>i&1))
			}
			v := jitterColor(c, off)
			for i := range 3 {
				want := min(max(float64(colorRGB[c][i])+off[i], 0), 255)
				if math.Abs(v[i]-want) > 1e-9 {
					t.Fatalf("%s jittered by %v: channel %d is %v, want %v unshortened", c, off, i, v[i], want)
				}
			}
		}
	}
	// In rendered scenes: every pixel the generator paints is, under the strongest
	// jitter with the realistic background, the object's colour by name.
	p := Perturbation{Jitter: 255, Background: 0.1, Fixed: true}
	for i := range uint64(200) {
		sc := GenerateScene(SceneTest.Seed(i))
		pix := RenderScene(nil, sc.Objects, p, i)
		for _, o := range sc.Objects {
			for y := range SceneSize {
				for x := range SceneSize {
					if !o.covers(x, y) {
						continue
					}
					j := (y*SceneSize + x) * 3
					if got, obj := PaletteNearest(pix[j], pix[j+1], pix[j+2]); got != o.Color || !obj {
						t.Fatalf("scene %d: pixel (%d,%d) of the %s is %v, nearest %s", i, x, y, o.Phrase(), pix[j:j+3], got)
					}
				}
			}
		}
	}
}

// Noise of sigma s on a mid-grey image has a measured standard deviation within 5
// standard errors of s*255 (the standard error of a sample deviation is about
// s/sqrt(2n)); values saturate at 0 and 255 rather than wrapping.
func TestPerturbationNoiseAndRange(t *testing.T) {
	const w, h = 64, 64
	pix := bytes.Repeat([]uint8{128}, w*h*3)
	p := Perturbation{Noise: 0.02, Fixed: true}
	if err := p.Apply(pix, w, h, 5); err != nil {
		t.Fatal(err)
	}
	var ss float64
	for _, v := range pix {
		d := float64(v) - 128
		ss += d * d
	}
	n := float64(len(pix))
	sd, want := math.Sqrt(ss/n), 0.02*255
	// Rounding to integers adds a uniform error of variance 1/12.
	want = math.Sqrt(want*want + 1.0/12)
	if math.Abs(sd-want) > 5*want/math.Sqrt(2*n) {
		t.Errorf("noise sd %.3f, want %.3f", sd, want)
	}
	white := bytes.Repeat([]uint8{255}, w*h*3)
	if err := (Perturbation{Noise: 0.5, Fixed: true}).Apply(white, w, h, 5); err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, v := range white {
		sum += float64(v)
	}
	// Half the values are clipped at 255, the others spread below: the mean of
	// min(255, 255 + 127.5 Z) is 255 - 127.5/sqrt(2 pi) ~ 204; wrapping would pull it
	// near 128.
	if mean := sum / n; math.Abs(mean-204.1) > 3 {
		t.Errorf("white under strong noise has mean %.1f, want about 204 (saturation)", mean)
	}
}

// Apply lifts black to the background level and leaves white as it is; a scene's
// background under RenderScene takes the level too.
func TestPerturbationBackground(t *testing.T) {
	pix := []uint8{0, 0, 0, 255, 255, 255, 255, 0, 0}
	if err := (Perturbation{Background: 0.1, Fixed: true}).Apply(pix, 3, 1, 1); err != nil {
		t.Fatal(err)
	}
	want := []uint8{26, 26, 26, 255, 255, 255, 255, 0, 0}
	if !bytes.Equal(pix, want) {
		t.Errorf("lifted pixels %v, want %v", pix, want)
	}
	sc := GenerateScene(2)
	got := RenderScene(nil, sc.Objects, Perturbation{Background: 0.1, Fixed: true}, 1)
	for i := 0; i < ScenePixels; i += 3 {
		if sc.Pixels[i]|sc.Pixels[i+1]|sc.Pixels[i+2] == 0 && (got[i] != 26 || got[i+1] != 26 || got[i+2] != 26) {
			t.Fatalf("background pixel %d is %v, want 26", i/3, got[i:i+3])
		}
	}
	// A gradient of 0.1 across the image spans about 0.1 of full scale.
	got = RenderScene(nil, sc.Objects[:0], Perturbation{Background: 0.1, Gradient: 0.1, Fixed: true}, 1)
	lo, hi := got[0], got[0]
	for _, v := range got {
		lo, hi = min(lo, v), max(hi, v)
	}
	if hi-lo < 24 || hi-lo > 27 {
		t.Errorf("gradient spans %d..%d, want a span of about 25.5", lo, hi)
	}
}

// FuzzPerturbation runs RenderScene and Apply over arbitrary options, objects and
// seeds: no panic, the right length, the same bytes twice, an unchanged image when
// every option is off.
func FuzzPerturbation(f *testing.F) {
	f.Add(0.08, 0.04, 30.0, 0.02, 0.6, 50, 0.1, 4, false, uint64(1), uint64(2))
	f.Add(0.0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0, true, uint64(0), uint64(0))
	f.Add(1.0, 1.0, 255.0, 1.0, 9.0, 1, 9.0, 99, true, uint64(7), uint64(1)<<63)
	f.Add(math.NaN(), math.Inf(1), -1.0, math.Inf(-1), math.NaN(), -5, math.NaN(), -1, false, uint64(3), uint64(4))
	f.Fuzz(func(t *testing.T, bg, grad, jit, noise, blur float64, q int, scale float64, aa int, fixed bool, seed, scene uint64) {
		p := Perturbation{Background: bg, Gradient: grad, Jitter: jit, Noise: noise, Blur: blur,
			JPEGQuality: q, Scale: scale, Antialias: aa, Fixed: fixed}
		sc := GenerateScene(scene)
		// Objects off the canvas and of unknown attributes must not break it.
		objs := append(sc.Objects, Object{Shape: Shape(seed % 5), Color: Color(seed % 11), Size: Size(seed % 3),
			X: int(int64(seed) >> 3), Y: int(seed%40) - 4})
		a := RenderScene(nil, objs, p, seed)
		b := RenderScene(nil, objs, p, seed)
		if len(a) != ScenePixels || !bytes.Equal(a, b) {
			t.Fatalf("RenderScene: length %d, repeatable %v", len(a), bytes.Equal(a, b))
		}
		x := bytes.Clone(sc.Pixels)
		if err := p.Apply(x, SceneSize, SceneSize, seed); err != nil {
			t.Fatal(err)
		}
		if p.IsZero() && !bytes.Equal(x, sc.Pixels) {
			t.Fatal("Apply changed the image with every option off")
		}
	})
}
