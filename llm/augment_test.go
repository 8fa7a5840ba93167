package llm

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/m4sc/m4sc/dataset"
)

// With AugmentRealistic about AugmentShare of the training images differ from their
// clean rendering, no validation image does, and a batch is a function of (seed,
// stage, step) alone, as resuming needs.
func TestAugmentTrainingImages(t *testing.T) {
	d := handData()
	aug := d.WithAugment(AugmentRealistic)
	if d.augment != nil || aug.augment == nil || aug.WithAugment(AugmentRealistic) != aug || aug.WithAugment(AugmentOff).augment != nil {
		t.Fatal("WithAugment does not copy as documented")
	}
	const n = 400
	for _, split := range []dataset.Split{dataset.Train, dataset.Validation} {
		changed, images := 0, 0
		for i := range n {
			task := []Task{ImageCaption, ImageVQA, ImageClassify}[i%3]
			clean, err := d.Sample(task, split, rand.New(rand.NewPCG(uint64(i), 1)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := aug.Sample(task, split, rand.New(rand.NewPCG(uint64(i), 1)))
			if err != nil {
				t.Fatal(err)
			}
			// The image's draws come after the scene's and the digit's (a vqa
			// question is drawn after them, so it may differ).
			if task != ImageVQA && got.Answer != clean.Answer {
				t.Fatalf("%s %s: augmentation changed the example: %q, clean %q", split, task, got.Answer, clean.Answer)
			}
			images++
			if !slices.Equal(got.Image, clean.Image) {
				changed++
			}
		}
		share := float64(changed) / float64(images)
		want := 0.0
		if split == dataset.Train {
			want = AugmentShare
		}
		// Binomial: 4 standard deviations of the share of n draws.
		if tol := 4 * math.Sqrt(want*(1-want)/n); math.Abs(share-want) > tol+1e-9 {
			t.Errorf("%s: %.3f of the images perturbed, want %.2f +- %.3f", split, share, want, tol)
		}
	}
	a, err := sampleBatch(aug, stageMixtures[StageInstruct], dataset.Train, 16, nil, stepRand(3, StageInstruct, 5))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := sampleBatch(aug, stageMixtures[StageInstruct], dataset.Train, 16, nil, stepRand(3, StageInstruct, 5))
	for i := range a {
		if !slices.Equal(a[i].Image, b[i].Image) || a[i].Answer != b[i].Answer {
			t.Fatalf("example %d of the same (seed, stage, step) differs between two draws", i)
		}
	}
}

func TestAugmentConfig(t *testing.T) {
	c := DefaultConfig(300)
	if c.Augment != AugmentOff || c.marshal() != func() string { c.Augment = ""; return c.marshal() }() {
		t.Fatal("default config augments")
	}
	c.Augment = AugmentRealistic
	got, err := parseConfig(c.marshal())
	if err != nil || got.Augment != AugmentRealistic {
		t.Fatalf("round trip: %v, %v", got.Augment, err)
	}
	c.Augment = "heavy"
	if err := c.Validate(); err == nil {
		t.Error("augment \"heavy\" validated")
	}
	for s, want := range map[string]Augmentation{"": AugmentOff, "off": AugmentOff, "realistic": AugmentRealistic} {
		if a, err := ParseAugmentation(s); err != nil || a != want {
			t.Errorf("ParseAugmentation(%q) = %q, %v", s, a, err)
		}
	}
	if _, err := ParseAugmentation("on"); err == nil {
		t.Error("ParseAugmentation accepted \"on\"")
	}
}

// A perturbed image.reconstruct example asks for the clean rendering of its scene, and
// the batch's target patches are that rendering, not the perturbed input.
func TestAugmentReconstructTarget(t *testing.T) {
	d := handData()
	aug := d.WithAugment(AugmentRealistic)
	m := tinyModel(t)
	perturbed := 0
	for i := range 40 {
		clean, err := d.Sample(ImageReconstruct, dataset.Train, rand.New(rand.NewPCG(uint64(i), 7)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := aug.Sample(ImageReconstruct, dataset.Train, rand.New(rand.NewPCG(uint64(i), 7)))
		if err != nil {
			t.Fatal(err)
		}
		if clean.Target != nil {
			t.Fatal("an unperturbed example has a separate target")
		}
		if slices.Equal(got.Image, clean.Image) {
			if got.Target != nil {
				t.Fatalf("example %d: unperturbed but with a target", i)
			}
			continue
		}
		perturbed++
		if !slices.Equal(got.Target, clean.Image) {
			t.Fatalf("example %d: the target is not the clean rendering of the scene", i)
		}
		b, err := m.buildBatch([]Example{got})
		if err != nil {
			t.Fatal(err)
		}
		if want := patchify(nil, clean.Image); !slices.Equal(b.reconPatch, want) {
			t.Fatalf("example %d: the batch's reconstruction patches are not the clean image's", i)
		}
	}
	if perturbed == 0 {
		t.Fatal("no example was perturbed")
	}
}
