package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/internal/trainlog"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/semantic"
	"github.com/spf13/cobra"
)

// The joint phase of the channel stage.
const (
	channelJointSteps = 4500 // the shipped codec's run (1,500 left k = 8 text at BLEU-1 0.10)
	channelJointLR    = 5e-4 // codec with the model's semantic head and decoder
	channelCodecLR    = 1e-3 // codec alone through the frozen model
)

// jointTrainable picks the model parameters the joint phase trains: the semantic
// head and slot embedding, the decoder's blocks, final norm and output heads (the
// spatial readout, reconstruction); the encoders, the projector, the embeddings and
// the auxiliary heads stay as instruct left them.
func jointTrainable(name string) bool {
	for _, p := range []string{"sem/", "llm/block", "llm/lnf", "llm/geo", "recon/"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Pool sizes of the channel stage: sentences and images of the training splits
// encoded by the language model for the codec to learn on.
const (
	channelSentences = 4000
	channelScenes    = 1500
	channelDigits    = 500
)

// trainChannel runs the channel stage: the channel codec trained on the semantic
// vectors of the model in --run-dir (its instruct weights, else the shipped model)
// over the training channel, written to <run-dir>/channel.safetensors.
func trainChannel(cmd *cobra.Command, a *app, f trainFlags) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	arch := f.projector
	if arch != semantic.ArchKAN && arch != semantic.ArchMLP {
		return usageErrorf("--projector %q: kan or mlp (the codec's architecture at the channel stage)", arch)
	}
	if f.steps < 0 || f.batch < 0 || f.lr < 0 {
		return usageErrorf("--steps, --batch and --lr must not be negative")
	}
	if f.codecHidden < 1 || f.codecHidden > 4096 {
		return usageErrorf("--codec-hidden %d: want 1 to 4096", f.codecHidden)
	}
	if !(f.cleanShare > 0 && f.cleanShare <= 1) {
		return usageErrorf("--clean-share %g: want a share above 0 and at most 1", f.cleanShare)
	}
	if f.every <= 0 {
		return usageErrorf("--checkpoint-every %s: want a positive duration", f.every)
	}
	src := filepath.Join(f.runDir, "instruct.safetensors")
	if _, err := os.Stat(src); err != nil {
		src = ""
	}
	m, err := loadModel(src)
	if err != nil {
		return err
	}
	if src == "" {
		src = "the shipped model"
	}
	data, cacheDir, err := loadData(a)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.runDir, 0o755); err != nil {
		return err
	}
	seed := uint64(a.Config().Seed())
	// The pool: evenly spaced training sentences, training scenes and digits.
	train := data.Sentences[dataset.Train]
	var sentences []string
	for i := range min(channelSentences, len(train)) {
		sentences = append(sentences, train[i*len(train)/min(channelSentences, len(train))].TextCase(m.Config().Cased))
	}
	var images [][]float32
	for i := range channelScenes {
		sc := dataset.GenerateScene(dataset.SceneTrain.Seed(uint64(i)))
		images = append(images, llm.SceneImage(&sc))
	}
	digits := data.Digits[0]
	for i := range min(channelDigits, len(digits)) {
		images = append(images, llm.DigitImage(&digits[i*len(digits)/min(channelDigits, len(digits))], 0, 0))
	}
	fmt.Fprintf(out, "stage channel: encoding %d sentences and %d images with %s\n", len(sentences), len(images), src)
	began := time.Now()
	pool, err := semantic.BuildVectorPool(ctx, m, sentences, images)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "stage channel: %d text and %d image vectors in %s\n", len(pool.Text)/pool.Dim, len(pool.Images)/pool.Dim, time.Since(began).Round(time.Second))
	// Phase 1: the codec alone on the vectors (mean squared error), unless its
	// weights from that phase are in --run-dir already.
	pre := filepath.Join(f.runDir, "channel-pre.safetensors")
	c, err := semantic.LoadCodec(pre)
	if err != nil {
		if c, err = semantic.NewCodec(semantic.CodecConfig{SemDim: pool.Dim, Arch: arch, Hidden: f.codecHidden}, rand.New(rand.NewPCG(seed, 0x636f6465))); err != nil {
			return err
		}
		o := semantic.CodecTrainOptions{Steps: semantic.DefaultCodecSteps, Seed: seed,
			Checkpoint: filepath.Join(f.runDir, "channel-pre.ckpt"), CheckpointEvery: f.every, Resume: f.resume}
		csvPath := filepath.Join(f.runDir, "channel-pre.csv")
		curve, err := trainlog.OpenCurve(csvPath, 0)
		if err != nil {
			return err
		}
		prog := trainlog.NewProgress(out, "channel (codec alone)", o.Steps, 0)
		var werr error
		o.Report = func(r semantic.CodecStepReport) {
			prog.Update(r.Step, r.Loss, 0)
			if werr == nil && (r.Step%10 == 0 || r.Step == r.Total) {
				werr = curve.Append(trainlog.Row{Stage: "channel-pre", Step: r.Step, Loss: r.Loss, LR: r.LR, Elapsed: r.Elapsed})
			}
		}
		fmt.Fprintf(out, "stage channel: %s, %d steps on the vectors alone\n", c, o.Steps)
		terr := semantic.TrainCodec(ctx, c, pool, o)
		prog.Finish()
		if err := curve.Close(); err != nil && terr == nil {
			terr = err
		}
		if terr != nil {
			return fmt.Errorf("stage channel: %w (checkpoint in %s; continue with --resume)", terr, o.Checkpoint)
		}
		if werr != nil {
			return werr
		}
		if err := c.Save(pre, map[string]string{"stage": "channel-pre", "seed": fmt.Sprint(seed), "steps": fmt.Sprint(o.Steps)}); err != nil {
			return err
		}
	} else {
		if h := c.Config().Hidden; h != f.codecHidden && cmd.Flags().Changed("codec-hidden") {
			return usageErrorf("--codec-hidden %d: %s holds a codec of hidden width %d; remove it or give its width", f.codecHidden, pre, h)
		}
		fmt.Fprintf(out, "stage channel: codec trained on the vectors alone from %s\n", pre)
	}
	// Phase 2: joint training. The codec learns on every task's own loss through the
	// simulated channel and the language model (frozen, so its clean-channel figures
	// stay exactly as they are); with --tune-model the model's semantic head, slot
	// embedding, decoder blocks and output heads learn with it (the encoders and
	// embeddings stay).
	jc, err := semantic.NewJointChannel(c, semantic.JointOptions{Clean: f.cleanShare})
	if err != nil {
		return err
	}
	def := llm.DefaultStageOptions[llm.StageInstruct]
	o := llm.TrainOptions{Stage: llm.StageInstruct, Seed: seed ^ 0x6a6f696e74, Steps: channelJointSteps, Batch: def.Batch,
		LR: channelJointLR, Warmup: 50, Questions: def.Questions}
	if f.steps > 0 {
		o.Steps, o.Warmup = f.steps, min(50, f.steps/10)
	}
	if f.batch > 0 {
		o.Batch = f.batch
	}
	if f.lr > 0 {
		o.LR = f.lr
	}
	o.Channel, o.Trainable = jc, func(string) bool { return false }
	if f.tuneModel {
		o.Trainable = jointTrainable
	} else if f.lr == 0 {
		o.LR = channelCodecLR
	}
	o.Checkpoint, o.CheckpointEvery, o.Resume = filepath.Join(f.runDir, "channel.ckpt"), f.every, f.resume
	o.ValEvery, o.ValBatches = 100, 4
	fmt.Fprintf(out, "stage channel: joint training, %d steps of %d examples\n", o.Steps, o.Batch)
	command := fmt.Sprintf("m4sc train --stage channel --run-dir %s --projector %s", f.runDir, arch)
	if f.tuneModel {
		command += " --tune-model"
	}
	command += f.sizeFlags()
	if h := c.Config().Hidden; h != semantic.DefaultCodecHidden {
		command += fmt.Sprintf(" --codec-hidden %d", h)
	}
	if f.cleanShare != semantic.DefaultClean {
		command += fmt.Sprintf(" --clean-share %g", f.cleanShare)
	}
	if err := runStageNamed(ctx, out, a.log, m, data, o, f.runDir, "channel"); err != nil {
		return err
	}
	if f.tuneModel {
		if err := m.Save(filepath.Join(f.runDir, "channel-model.safetensors"), map[string]string{"stage": "channel", "seed": fmt.Sprint(seed),
			"steps": fmt.Sprint(o.Steps), "command": command, "data": dataVersions(cacheDir)}); err != nil {
			return err
		}
	}
	final := filepath.Join(f.runDir, "channel.safetensors")
	meta := map[string]string{"stage": "channel", "seed": fmt.Sprint(seed), "steps": fmt.Sprint(o.Steps),
		"model": src, "command": command,
		"data": dataVersions(cacheDir)}
	if err := c.Save(final, meta); err != nil {
		return err
	}
	fmt.Fprintf(out, "stage channel: codec written to %s in %s\n", final, time.Since(began).Round(time.Second))
	return nil
}
