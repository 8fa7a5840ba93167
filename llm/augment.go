package llm

import (
	"fmt"
	"math/rand/v2"

	"github.com/m4sc/m4sc/dataset"
)

// Augmentation names the perturbation training applies to the images of its examples
// (Config.Augment), so the model learns to read images that are not the generator's
// clean renderings: a lifted background, off-palette colours, noise, blur, JPEG.
type Augmentation string

const (
	// AugmentOff trains on clean images only, as every model before Config.Augment
	// existed did.
	AugmentOff Augmentation = ""
	// AugmentRealistic draws a share AugmentShare of the training scenes with
	// dataset.RealisticPerturbation (dataset.RenderScene) and perturbs as many of the
	// training digits with its pixel-level part (dataset.Perturbation.Apply); the
	// others stay clean, so the clean images are still seen.
	AugmentRealistic Augmentation = "realistic"
)

// AugmentShare is the share of training images AugmentRealistic perturbs.
const AugmentShare = 0.75

// ParseAugmentation accepts "realistic", and "off" or "" for AugmentOff.
func ParseAugmentation(s string) (Augmentation, error) {
	switch s {
	case "", "off":
		return AugmentOff, nil
	case string(AugmentRealistic):
		return AugmentRealistic, nil
	}
	return "", fmt.Errorf("llm: augmentation %q: want %q or \"off\"", s, AugmentRealistic)
}

// String returns the name, "off" for AugmentOff.
func (a Augmentation) String() string {
	if a == AugmentOff {
		return "off"
	}
	return string(a)
}

// Perturbation returns the dataset perturbation a names, and false when a trains on
// clean images or is unknown.
func (a Augmentation) Perturbation() (dataset.Perturbation, bool) {
	if a == AugmentRealistic {
		return dataset.RealisticPerturbation(), true
	}
	return dataset.Perturbation{}, false
}

// WithAugment returns d, or a shallow copy of it, whose training-split scene and digit
// images are perturbed as a says (validation and test images never are). Train draws
// with the model's Config.Augment this way.
func (d *Data) WithAugment(a Augmentation) *Data {
	p, ok := a.Perturbation()
	if (d.augment != nil) == ok && (!ok || *d.augment == p) {
		return d
	}
	c := *d
	c.augment = nil
	if ok {
		c.augment = &p
	}
	return &c
}

// augmentDraw decides from rng whether a training image is perturbed and with which
// seed. It draws the same two numbers either way, and nothing when augmentation is
// off or the split is not Train, so runs without it draw exactly what they did before
// it existed.
func (d *Data) augmentDraw(split dataset.Split, rng *rand.Rand) (seed uint64, ok bool) {
	if d.augment == nil || split != dataset.Train {
		return 0, false
	}
	u := rng.Float64()
	seed = rng.Uint64()
	return seed, u < AugmentShare
}

// sceneImage is SceneImage of sc, drawn perturbed when augmentDraw says so; perturbed
// reports which.
func (d *Data) sceneImage(sc *dataset.Scene, split dataset.Split, rng *rand.Rand) (img []float32, perturbed bool) {
	if seed, ok := d.augmentDraw(split, rng); ok {
		p := *sc
		p.Pixels = dataset.RenderScene(nil, sc.Objects, *d.augment, seed)
		return SceneImage(&p), true
	}
	return SceneImage(sc), false
}

// digitImage is DigitImage, perturbed when augmentDraw says so.
func (d *Data) digitImage(dg *dataset.Digit, dx, dy int, split dataset.Split, rng *rand.Rand) []float32 {
	if seed, ok := d.augmentDraw(split, rng); ok {
		return PerturbedDigitImage(dg, dx, dy, *d.augment, seed)
	}
	return DigitImage(dg, dx, dy)
}

// PerturbedDigitImage is DigitImage with the pixel-level part of p applied
// (dataset.Perturbation.Apply, from seed): the background lifted where the canvas is
// dark, blur, noise, JPEG.
func PerturbedDigitImage(dg *dataset.Digit, dx, dy int, p dataset.Perturbation, seed uint64) []float32 {
	img := DigitImage(dg, dx, dy)
	pix := make([]uint8, len(img))
	for i, v := range img {
		pix[i] = uint8(v*255 + 0.5) // exact: img holds bytes over 255
	}
	// pix is ImageSize x ImageSize x 3 by construction, so Apply cannot fail.
	_ = p.Apply(pix, ImageSize, ImageSize, seed)
	for i, v := range pix {
		img[i] = float32(v) / 255
	}
	return img
}
