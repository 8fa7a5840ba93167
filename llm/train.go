package llm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/nn"
)

// Stage is a training stage. Stages run in order, each starting from the weights the
// previous one ended with.
type Stage string

const (
	// StageLM pre-trains the language model on the State of the Union training split.
	StageLM Stage = "lm"
	// StageAlign aligns images with the language model through the projector:
	// captions, questions, digits and reconstruction, with some language modelling kept.
	StageAlign Stage = "align"
	// StageInstruct fine-tunes on every task through the one instruction template, with
	// light Gaussian noise on the semantic vectors.
	StageInstruct Stage = "instruct"
)

// Stages lists the stages in the order they run.
var Stages = []Stage{StageLM, StageAlign, StageInstruct}

// ParseStage accepts a stage's name.
func ParseStage(s string) (Stage, error) {
	for _, st := range Stages {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("llm: unknown stage %q (stages: lm, align, instruct)", s)
}

// mixture is a stage's task distribution: weights per task, taskLM included.
type mixture [numTasks + 1]float64

// Mixtures of the stages.
var stageMixtures = map[Stage]mixture{
	StageLM: {taskLM: 1},
	StageAlign: {ImageCaption: 0.35, ImageVQA: 0.2, ImageClassify: 0.2, ImageReconstruct: 0.15,
		taskLM: 0.1},
	StageInstruct: {TextTransmit: 0.11, TextEra: 0.06, ImageCaption: 0.13, ImageVQA: 0.36,
		ImageClassify: 0.14, ImageReconstruct: 0.12, taskLM: 0.08},
}

// TaskMix re-weighs a stage's tasks: each named task's weight replaces the stage's
// default (the mixtures in llm/weights/MODEL.md), the others keep theirs, and the weights are then taken
// relative to their sum. Use it to continue a trained stage with more of some tasks,
// say text.transmit after an image-heavy run. An empty mix is the stage's own.
type TaskMix map[Task]float64

// ParseTaskMix reads "task=weight,task=weight" ("text.transmit=0.3,text.era=0.1").
func ParseTaskMix(s string) (TaskMix, error) {
	mix := TaskMix{}
	if strings.TrimSpace(s) == "" {
		return mix, nil
	}
	for _, part := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("llm: task mix %q: %q is not task=weight", s, part)
		}
		t, err := ParseTask(strings.TrimSpace(name))
		if err != nil {
			return nil, fmt.Errorf("llm: task mix %q: %w", s, err)
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || !weightOK(w) {
			return nil, fmt.Errorf("llm: task mix %q: weight of %s is %q; want a number >= 0", s, t, val)
		}
		if _, dup := mix[t]; dup {
			return nil, fmt.Errorf("llm: task mix %q: %s is given twice", s, t)
		}
		mix[t] = w
	}
	return mix, nil
}

// String writes the mix as ParseTaskMix reads it, tasks in order; "" when empty.
func (tm TaskMix) String() string {
	var b strings.Builder
	for _, t := range Tasks() {
		if w, ok := tm[t]; ok {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s=%s", t, strconv.FormatFloat(w, 'g', -1, 64))
		}
	}
	return b.String()
}

// weightOK reports whether w may weigh a task: a finite number >= 0.
func weightOK(w float64) bool { return w >= 0 && !math.IsInf(w, 1) }

// resolve gives the stage's mixture with tm's weights in place.
func (tm TaskMix) resolve(s Stage) (mixture, error) {
	mix := stageMixtures[s]
	if len(tm) == 0 {
		return mix, nil
	}
	if s == StageLM {
		return mix, fmt.Errorf("llm: stage %s trains language modelling only; a task mix is for align and instruct", s)
	}
	for t, w := range tm {
		if t >= numTasks {
			return mix, fmt.Errorf("llm: task mix names %s", t)
		}
		if !weightOK(w) {
			// ParseTaskMix refuses these; a mix built in code must too, or the
			// batches' draw (weightedIndex) would skew without a word.
			return mix, fmt.Errorf("llm: task mix gives %s the weight %v; want a number >= 0", t, w)
		}
		mix[t] = w
	}
	var total float64
	for _, w := range mix {
		total += w
	}
	if !(total > 0) {
		return mix, fmt.Errorf("llm: task mix %s leaves stage %s nothing to train", tm, s)
	}
	return mix, nil
}

// stageWeighting is how each stage averages its cross-entropy.
var stageWeighting = map[Stage]Weighting{StageLM: PerToken, StageAlign: PerToken, StageInstruct: PerExample}

// MaxTrainSigma bounds the semantic noise of StageInstruct (InstructNoise): half of its messages get
// Gaussian noise of a standard deviation drawn uniformly from [0, MaxTrainSigma]
// (relative to unit-RMS semantic vectors, so at most about 10 dB below the signal).
const MaxTrainSigma = 0.3

// StageDefaults are a stage's default hyper-parameters.
type StageDefaults struct {
	Steps     int64
	Batch     int
	LR        float64
	Warmup    int64
	Questions QuestionWeights
}

// DefaultStageOptions gives each stage's steps, batch, peak learning rate and warmup,
// sized for the 3-hour budget on 2 cores (see MODEL.md for the measured times).
var DefaultStageOptions = map[Stage]StageDefaults{
	StageLM:       {Steps: 1500, Batch: 32, LR: 2e-3, Warmup: 100},
	StageAlign:    {Steps: 2000, Batch: 32, LR: 1e-3, Warmup: 100},
	StageInstruct: {Steps: 6000, Batch: 32, LR: 1e-3, Warmup: 100, Questions: instructQuestions},
}

// instructQuestions weigh StageInstruct's image.vqa questions towards what the
// model of 6000 uniform-question steps (runs/l1 in MODEL.md) still got wrong
// (relations at chance, counts 82%) and away from attributes it read at 96-99%. Drawn uniformly, a scene's
// questions are counts 38%, existence 18%, relations 17% and attributes 27%.
var instructQuestions = QuestionWeights{dataset.AskColor: 0.09, dataset.AskShape: 0.08, dataset.AskSize: 0.09,
	dataset.AskCount: 0.34, dataset.AskExist: 0.1, dataset.AskRelation: 0.3}

// TrainOptions configure one stage of training.
type TrainOptions struct {
	Stage  Stage
	Seed   uint64
	Steps  int64   // optimiser steps of the stage
	Batch  int     // examples per step
	LR     float64 // peak learning rate of AdamW (warmup, then cosine to a tenth)
	Warmup int64
	// Questions weigh the kinds of image.vqa questions (all zero: a scene's questions
	// are drawn uniformly). Validation batches are drawn the same way.
	Questions QuestionWeights
	// Mix re-weighs the stage's tasks (nil: the stage's own mixture); validation
	// batches are drawn from it too.
	Mix TaskMix

	// Checkpoint is where the stage's training state (weights, AdamW moments, step)
	// is written every CheckpointEvery and when training stops; "" disables it.
	Checkpoint      string
	CheckpointEvery time.Duration
	// Resume continues from Checkpoint when it exists.
	Resume bool

	// ValEvery steps a validation loss over ValBatches fixed batches is computed.
	ValEvery   int64
	ValBatches int

	// Report, when set, is called after every step.
	Report func(StepReport)

	// Channel, when set, carries the semantic vectors from the transmitter's encoders
	// to the decoder in every training and validation pass, and its parameters are
	// trained with the model's: joint source-channel training. Checkpoints hold the
	// channel's parameters too. nil means InstructNoise for StageInstruct and no
	// channel for the other stages. Its random draws come from the graph's source,
	// reseeded every step from (seed, stage, step), so a resumed run draws the same.
	Channel Channel
	// Trainable, when set, picks the model's parameters (by name) the stage updates;
	// the others stay as they are. nil trains every parameter.
	Trainable func(name string) bool
}

// StepReport describes one training step.
type StepReport struct {
	Stage        Stage
	Step, Total  int64 // steps done, of Total
	Loss         Losses
	ValLoss      float64 // NaN when not computed at this step
	LR           float64
	Tokens       int64 // decoder tokens processed so far in this run
	TokensPerSec float64
	Elapsed      time.Duration // of this run (not counting earlier runs before a resume)
	Resumed      int64         // the step this run resumed from
}

func stageCode(s Stage) uint64 {
	for i, st := range Stages {
		if st == s {
			return uint64(i + 1)
		}
	}
	return 0
}

// stepRand is the random source of one step: a function of the seed, stage and step
// only, so a resumed run draws exactly the batches an uninterrupted one would.
func stepRand(seed uint64, s Stage, step int64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stageCode(s)<<56^uint64(step)))
}

// weightedIndex returns the index i whose weight interval holds u, with u drawn
// uniformly from [0, sum of w): the first i with u < w[0]+...+w[i]. Should rounding
// leave u past the end, it returns the last index of positive weight.
func weightedIndex(u float64, w []float64) int {
	last := -1
	for i, wi := range w {
		if wi <= 0 {
			continue
		}
		if u < wi {
			return i
		}
		u -= wi
		last = i
	}
	return last
}

// sampleBatch draws a stage's batch.
func sampleBatch(d *Data, mix mixture, split dataset.Split, n int, qw *QuestionWeights, rng *rand.Rand) ([]Example, error) {
	var total float64
	for _, w := range mix {
		total += w
	}
	exs := make([]Example, 0, n)
	for range n {
		t := Task(weightedIndex(rng.Float64()*total, mix[:]))
		ex, err := d.sample(t, split, rng, qw)
		if err != nil {
			return nil, err
		}
		exs = append(exs, ex)
	}
	return exs, nil
}

// ErrCheckpoint is wrapped when a checkpoint does not belong to the run being resumed.
var ErrCheckpoint = errors.New("llm: checkpoint does not match this run")

// Train runs one stage on m. It stops early, after writing a checkpoint, when ctx is
// cancelled, and returns ctx's error; run it again with Resume to continue exactly.
func Train(ctx context.Context, m *Model, d *Data, o TrainOptions) error {
	if _, ok := stageMixtures[o.Stage]; !ok {
		return fmt.Errorf("llm: unknown stage %q", o.Stage)
	}
	if o.Steps < 1 || o.Batch < 1 || !(o.LR > 0) || o.Warmup < 0 || o.Warmup >= o.Steps {
		return fmt.Errorf("llm: stage %s: need steps >= 1 (%d), batch >= 1 (%d), lr > 0 (%g), 0 <= warmup < steps (%d)", o.Stage, o.Steps, o.Batch, o.LR, o.Warmup)
	}
	mix, err := o.Mix.resolve(o.Stage)
	if err != nil {
		return err
	}
	if o.CheckpointEvery < 0 {
		return fmt.Errorf("llm: stage %s: checkpoint interval %s is negative", o.Stage, o.CheckpointEvery)
	}
	if o.CheckpointEvery == 0 {
		o.CheckpointEvery = 3 * time.Minute
	}
	d = d.WithCase(m.cfg.Cased) // text as the model reads it
	d = d.WithAugment(m.cfg.Augment)
	// The parameters this stage updates: the model's (those Trainable picks) and the
	// channel's.
	trainP := m.params
	if o.Channel != nil || o.Trainable != nil {
		trainP = nn.NewParams[float32]()
		for name, t := range m.params.All() {
			if o.Trainable == nil || o.Trainable(name) {
				trainP.Add(name, t)
			}
		}
		if o.Channel != nil && o.Channel.Params() != nil {
			for name, t := range o.Channel.Params().All() {
				if m.params.Get(name) != nil {
					return fmt.Errorf("llm: channel parameter %s has the name of a model parameter", name)
				}
				trainP.Add(name, t)
			}
		}
		if trainP.Len() == 0 {
			return fmt.Errorf("llm: stage %s: no parameter to train", o.Stage)
		}
	}
	opt, err := nn.NewAdamW[float32](nn.AdamConfig{LR: o.LR, WeightDecay: 0.01,
		Schedule: nn.Schedule{Kind: nn.WarmupCosine, Warmup: o.Warmup, Total: o.Steps, Floor: 0.1}})
	if err != nil {
		return err
	}
	meta := func(step int64) map[string]string {
		return map[string]string{
			"stage": string(o.Stage), "seed": strconv.FormatUint(o.Seed, 10),
			"steps": strconv.FormatInt(o.Steps, 10), "batch": strconv.Itoa(o.Batch),
			"lr": strconv.FormatFloat(o.LR, 'g', -1, 64), "step": strconv.FormatInt(step, 10),
			MetaConfig: m.cfg.marshal(), "questions": o.Questions.String(), "mix": o.Mix.String(),
		}
	}
	var start int64
	if o.Resume && o.Checkpoint != "" {
		if _, err := os.Stat(o.Checkpoint); err == nil {
			got, err := nn.LoadCheckpoint(o.Checkpoint, trainP, opt)
			if err != nil {
				return err
			}
			want := meta(0)
			for _, k := range []string{"stage", "seed", "steps", "batch", "lr", "questions", "mix", MetaConfig} {
				if got[k] != want[k] {
					return fmt.Errorf("%w: %s has %s=%q, this run %q", ErrCheckpoint, o.Checkpoint, k, got[k], want[k])
				}
			}
			start = opt.Steps()
		}
	}
	save := func(step int64) error {
		if o.Checkpoint == "" {
			return nil
		}
		return nn.SaveCheckpoint(o.Checkpoint, trainP, opt, meta(step))
	}
	var val [][]Example
	if o.ValEvery > 0 {
		for i := range max(o.ValBatches, 1) {
			exs, err := sampleBatch(d, mix, dataset.Validation, o.Batch, &o.Questions, stepRand(o.Seed^0x76616c, o.Stage, int64(i)))
			if err != nil {
				return err
			}
			val = append(val, exs)
		}
	}
	if o.Channel == nil && o.Stage == StageInstruct {
		o.Channel = InstructNoise
	}
	m.weighting = stageWeighting[o.Stage]
	m.channel = o.Channel
	defer func() { m.weighting, m.channel = PerToken, nil }()
	g := nn.NewGraph[float32](rand.New(rand.NewPCG(o.Seed, 1)))
	began := time.Now()
	lastSave := began
	var tokens int64
	// Each step's batch depends only on (seed, stage, step), so the next one is drawn
	// and built on another goroutine while this one trains: it fills the moments a
	// step leaves a core idle, instead of running alone between steps.
	type prepared struct {
		b   *batch
		err error
	}
	next := make(chan prepared, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }() // before the model's settings are put back
	wg.Add(1)
	go func() {
		defer wg.Done()
		for step := start; step < o.Steps; step++ {
			exs, err := sampleBatch(d, mix, dataset.Train, o.Batch, &o.Questions, stepRand(o.Seed, o.Stage, step))
			var b *batch
			if err == nil {
				b, err = m.buildBatch(exs)
			}
			select {
			case next <- prepared{b, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for step := start; step < o.Steps; step++ {
		if err := ctx.Err(); err != nil {
			if serr := save(step); serr != nil {
				return errors.Join(err, serr)
			}
			return err
		}
		p := <-next
		if p.err != nil {
			return p.err
		}
		b := p.b
		g.Reset()
		g.Rng = stepRand(o.Seed^channelSalt, o.Stage, step)
		trainP.ZeroGrad()
		loss, parts := m.loss(g, b)
		if math.IsNaN(parts.Total) || math.IsInf(parts.Total, 0) {
			return fmt.Errorf("llm: stage %s step %d: loss is %v; lower the learning rate (%g)", o.Stage, step, parts.Total, o.LR)
		}
		g.Backward(loss)
		trainP.ClipGradNorm(1)
		lr := opt.LR()
		opt.Step(trainP)
		tokens += int64(b.tokens)
		rep := StepReport{Stage: o.Stage, Step: step + 1, Total: o.Steps, Loss: parts, ValLoss: math.NaN(),
			LR: lr, Tokens: tokens, Elapsed: time.Since(began), Resumed: start}
		rep.TokensPerSec = float64(tokens) / rep.Elapsed.Seconds()
		if o.ValEvery > 0 && ((step+1)%o.ValEvery == 0 || step+1 == o.Steps) {
			if rep.ValLoss, err = m.validate(g, val, o.Seed); err != nil {
				return err
			}
		}
		if o.Report != nil {
			o.Report(rep)
		}
		if time.Since(lastSave) >= o.CheckpointEvery {
			if err := save(step + 1); err != nil {
				return err
			}
			lastSave = time.Now()
		}
	}
	return save(o.Steps)
}

// channelSalt separates the channel's random draws (the graph's source, reseeded every
// step) from the batch's.
const channelSalt = 0x6368616e

// validate returns the mean total loss over fixed batches; the channel, if any, draws
// from a fixed source per batch, so the figure moves only with the weights.
func (m *Model) validate(g *graph, batches [][]Example, seed uint64) (float64, error) {
	var sum float64
	for i, exs := range batches {
		b, err := m.buildBatch(exs)
		if err != nil {
			return 0, err
		}
		g.Reset()
		g.Rng = stepRand(seed^channelSalt^0x76616c, StageInstruct, int64(i))
		_, l := m.loss(g, b)
		sum += l.Total
	}
	g.Reset()
	return sum / float64(len(batches)), nil
}
