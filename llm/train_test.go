package llm

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/m4sc/m4sc/dataset"
)

// handData is a tiny corpus for training tests: a few sentences per split and a few
// fabricated digits.
func handData() *Data {
	d := &Data{}
	texts := []string{"the union is strong", "we the people of the united states", "congress shall make no law",
		"a more perfect union is our aim", "peace and prosperity for every family"}
	for i, s := range texts {
		for sp := range 3 {
			d.Sentences[sp] = append(d.Sentences[sp], dataset.Sentence{Text: s, Year: 1800 + 40*i, Era: dataset.Era(1800 + 40*i), Split: dataset.Split(sp)})
		}
	}
	for i := range 20 {
		var dg dataset.Digit
		dg.Label = uint8(i % 10)
		for p := range dg.Pixels {
			if (p+i)%7 == 0 {
				dg.Pixels[p] = 255
			}
		}
		d.Digits[i%2] = append(d.Digits[i%2], dg)
	}
	return d
}

func tinyModel(t testing.TB) *Model {
	t.Helper()
	tok := shippedTokenizer(t)
	cfg := DefaultConfig(tok.VocabSize())
	cfg.Dim, cfg.ImgDim, cfg.Layers, cfg.EncLayers, cfg.ImgLayers, cfg.KANGrid = 16, 16, 1, 1, 1, 3
	m, err := New(cfg, tok, rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A run interrupted after some steps and resumed from its checkpoint ends with exactly
// the weights of an uninterrupted run: batches depend on (seed, stage, step) only and
// the checkpoint holds the optimiser's moments and step.
func TestTrainResumeIsExact(t *testing.T) {
	d := handData()
	for _, st := range Stages {
		opts := TrainOptions{Stage: st, Seed: 7, Steps: 6, Batch: 4, LR: 1e-3, Warmup: 1, ValEvery: 3, ValBatches: 1}
		straight := tinyModel(t)
		if err := Train(context.Background(), straight, d, opts); err != nil {
			t.Fatal(err)
		}

		resumed := tinyModel(t)
		opts.Checkpoint = filepath.Join(t.TempDir(), "ck")
		opts.Resume = true
		ctx, cancel := context.WithCancel(context.Background())
		opts.Report = func(r StepReport) {
			if r.Step == 3 {
				cancel()
			}
		}
		if err := Train(ctx, resumed, d, opts); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: interrupted run returned %v", st, err)
		}
		var first int64 = -1
		opts.Report = func(r StepReport) {
			if first < 0 {
				first = r.Step
			}
		}
		again := tinyModel(t) // fresh weights: everything must come from the checkpoint
		if err := Train(context.Background(), again, d, opts); err != nil {
			t.Fatal(err)
		}
		if first != 4 {
			t.Errorf("%s: resumed run started at step %d, want 4", st, first)
		}
		want := straight.params.Export()
		for i, a := range again.params.Export() {
			for j := range a.Data {
				if a.Data[j] != want[i].Data[j] {
					t.Fatalf("%s: %s[%d] = %v after resume, %v without interruption", st, a.Name, j, a.Data[j], want[i].Data[j])
				}
			}
		}
	}
}

// A checkpoint from another run (different seed) is refused rather than silently
// continued.
func TestTrainRefusesForeignCheckpoint(t *testing.T) {
	d := handData()
	ck := filepath.Join(t.TempDir(), "ck")
	opts := TrainOptions{Stage: StageLM, Seed: 1, Steps: 2, Batch: 2, LR: 1e-3, Checkpoint: ck}
	if err := Train(context.Background(), tinyModel(t), d, opts); err != nil {
		t.Fatal(err)
	}
	opts.Seed, opts.Resume = 2, true
	if err := Train(context.Background(), tinyModel(t), d, opts); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("foreign checkpoint: %v, want ErrCheckpoint", err)
	}
}
