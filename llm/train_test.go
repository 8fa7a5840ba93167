package llm

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
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

// A user corpus and image folder replace the defaults: training runs on them, text.era
// turns into text.transmit (the sentences have no years) and image.reconstruct draws
// the user's images.
func TestTrainOnUserData(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.txt")
	text := "the river runs past the old mill every spring\nour town council meets on the first monday\n" +
		"children walk to the school by the bridge\nthe harvest was larger than last year by far\n"
	if err := os.WriteFile(corpus, []byte(strings.Repeat(text, 5)), 0o644); err != nil {
		t.Fatal(err)
	}
	imgDir := filepath.Join(dir, "images")
	if err := os.Mkdir(imgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	im := image.NewRGBA(image.Rect(0, 0, 40, 40))
	for i := range im.Pix {
		im.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, im); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(imgDir, "a.png"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	d := handData()
	if n, err := d.UseCorpus(corpus); err != nil || n != 20 {
		t.Fatalf("corpus: %d sentences, %v", n, err)
	}
	if n, err := d.UseImages(imgDir); err != nil || n != 1 {
		t.Fatalf("images: %d, %v", n, err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 20 {
		ex, err := d.Sample(TextEra, dataset.Train, rng)
		if err != nil || ex.Task != TextTransmit {
			t.Fatalf("era example on a corpus without years: %+v, %v", ex.Task, err)
		}
		ex, err = d.Sample(ImageReconstruct, dataset.Train, rng)
		if err != nil || &ex.Image[0] != &d.Images[0][0] {
			t.Fatalf("reconstruct example not from the user's images: %v", err)
		}
	}
	if err := Train(context.Background(), tinyModel(t), d, TrainOptions{Stage: StageInstruct, Seed: 1, Steps: 2, Batch: 8, LR: 1e-3}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UseCorpus(filepath.Join(dir, "missing.txt")); err == nil {
		t.Error("missing corpus accepted")
	}
}
