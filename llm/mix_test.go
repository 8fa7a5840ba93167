package llm

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/dataset"
)

// ParseTaskMix reads what String writes and names what is wrong in bad input.
func TestParseTaskMix(t *testing.T) {
	mix, err := ParseTaskMix(" image.vqa=0.2, text.transmit = 0.35")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mix.String(), "text.transmit=0.35,image.vqa=0.2"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if again, err := ParseTaskMix(mix.String()); err != nil || again.String() != mix.String() {
		t.Errorf("round trip: %v %v", again, err)
	}
	if empty, err := ParseTaskMix(""); err != nil || len(empty) != 0 || empty.String() != "" {
		t.Errorf("empty mix: %v %v", empty, err)
	}
	for in, want := range map[string]string{
		"text.transmit":                   "is not task=weight",
		"text.send=1":                     `unknown task "text.send"`,
		"image.vqa=-1":                    "want a number >= 0",
		"image.vqa=NaN":                   "want a number >= 0",
		"image.vqa=+Inf":                  "want a number >= 0",
		"image.vqa=lots":                  "want a number >= 0",
		"image.vqa=1,image.vqa=2":         "image.vqa is given twice",
		"text.transmit=0.3,,image.vqa=.1": "is not task=weight",
	} {
		if _, err := ParseTaskMix(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTaskMix(%q) = %v, want an error with %q", in, err, want)
		}
	}
}

// A mix replaces the named tasks' weights and keeps the others': batches drawn under
// it hold the tasks in the resolved proportions, and a mix that leaves nothing, or
// one for the lm stage, is refused.
func TestTaskMixBatches(t *testing.T) {
	d := handData()
	mix, err := TaskMix{ImageCaption: 0, ImageVQA: 0, ImageReconstruct: 0, TextTransmit: 0.5}.resolve(StageInstruct)
	if err != nil {
		t.Fatal(err)
	}
	def := stageMixtures[StageInstruct]
	total := 0.5 + def[TextEra] + def[ImageClassify] + def[taskLM]
	const n = 4000
	exs, err := sampleBatch(d, mix, dataset.Train, n, nil, stepRand(5, StageInstruct, 0))
	if err != nil {
		t.Fatal(err)
	}
	var count [numTasks + 1]int
	for _, ex := range exs {
		count[ex.Task]++
	}
	for task := range count {
		want := mix[task] / total
		got := float64(count[task]) / n
		if tol := 4 * math.Sqrt(want*(1-want)/n); math.Abs(got-want) > tol+1e-9 {
			t.Errorf("task %d: share %.3f, want %.3f +- %.3f", task, got, want, tol)
		}
	}
	if count[ImageCaption]+count[ImageVQA]+count[ImageReconstruct] != 0 {
		t.Errorf("tasks weighed 0 were drawn: %v", count)
	}
	if _, err := (TaskMix{ImageVQA: 1}).resolve(StageLM); err == nil {
		t.Error("a mix for the lm stage was accepted")
	}
	for _, w := range []float64{-0.1, math.NaN(), math.Inf(1)} {
		if _, err := (TaskMix{ImageVQA: w}).resolve(StageInstruct); err == nil {
			t.Errorf("a mix weighing image.vqa %v was accepted", w)
		}
	}
	all := TaskMix{}
	for _, task := range Tasks() {
		all[task] = 0
	}
	// Language modelling has no Task and keeps its weight, so every task at 0 still
	// leaves align something to train: plain text.
	lmOnly, err := all.resolve(StageAlign)
	if err != nil || lmOnly[taskLM] != stageMixtures[StageAlign][taskLM] {
		t.Errorf("align with every task at 0: %v, %v", lmOnly, err)
	}
	for task := range numTasks {
		if lmOnly[task] != 0 {
			t.Errorf("align with every task at 0 keeps %s at %g", Task(task), lmOnly[task])
		}
	}
}

// The mix is part of a run: a checkpoint written under one mix is not continued
// under another.
func TestTrainMixInCheckpoint(t *testing.T) {
	d := handData()
	ck := filepath.Join(t.TempDir(), "ck")
	opts := TrainOptions{Stage: StageInstruct, Seed: 1, Steps: 2, Batch: 2, LR: 1e-3, Checkpoint: ck,
		Mix: TaskMix{TextTransmit: 0.5}}
	if err := Train(context.Background(), tinyModel(t), d, opts); err != nil {
		t.Fatal(err)
	}
	opts.Resume = true
	if err := Train(context.Background(), tinyModel(t), d, opts); err != nil {
		t.Errorf("same mix, resumed: %v", err)
	}
	opts.Mix = TaskMix{TextTransmit: 0.4}
	if err := Train(context.Background(), tinyModel(t), d, opts); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "mix") {
		t.Errorf("another mix, resumed: %v, want ErrCheckpoint naming the mix", err)
	}
	opts.Stage, opts.Resume, opts.Checkpoint = StageLM, false, ""
	if err := Train(context.Background(), tinyModel(t), d, opts); err == nil || !strings.Contains(err.Error(), "task mix is for align and instruct") {
		t.Errorf("lm stage with a mix: %v", err)
	}
}
