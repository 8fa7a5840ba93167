package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/internal/trainlog"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/llm/tokenizer"
	"github.com/m4sc/m4sc/llm/weights"
	"github.com/m4sc/m4sc/nn"
	"github.com/m4sc/m4sc/nn/safetensors"
	"github.com/m4sc/m4sc/semantic"
)

// defaultCheckpointEvery is how often a stage writes its checkpoint without
// --checkpoint-every.
const defaultCheckpointEvery = 3 * time.Minute

// trainStages lists the stages of `m4sc train` in the order they run.
var trainStages = []string{"tokenizer", "lm", "align", "instruct", "channel"}

type trainFlags struct {
	stage, out, runDir, tokPath, projector string
	corpus, images, stem                   string
	from                                   string
	vocab                                  int
	steps                                  int64
	batch                                  int
	lr                                     float64
	cleanShare                             float64
	codecHidden                            int
	resume, restart, force, tuneModel      bool
	cased                                  bool
	augment                                string
	mix                                    string
	every                                  time.Duration
}

// sizeFlags gives --steps, --batch and --lr as given (none when left at 0, the
// stage's default), for the command recorded in weights.
func (f trainFlags) sizeFlags() string {
	var s string
	if f.steps > 0 {
		s += fmt.Sprintf(" --steps %d", f.steps)
	}
	if f.batch > 0 {
		s += fmt.Sprintf(" --batch %d", f.batch)
	}
	if f.lr > 0 {
		s += fmt.Sprintf(" --lr %g", f.lr)
	}
	return s
}

func newTrainCmd(a *app) *cobra.Command {
	var f trainFlags
	cmd := &cobra.Command{
		Use:   "train --stage tokenizer|lm|align|instruct|channel [--resume]",
		Short: "Train m4sc's tokenizer and multi-modal language model, stage by stage",
		Long: `Stages run in order: tokenizer (byte-level BPE on the training split of the State of
the Union sentences), lm (language-model pre-training on that split), align (images
into the language model's space through the KAN projector: captions, questions, digits,
reconstruction), instruct (every task through one instruction template, with light
noise on the semantic vectors) and channel (the channel codec that maps semantic
vectors onto subcarriers, trained over simulated AWGN, EPA and TDL-C channels on the
vectors of the instruct weights in --run-dir, else of the shipped model; --projector
picks its architecture, kan or mlp; it writes <run-dir>/channel.safetensors).

Asking for a stage runs the earlier model stages first when their weights are not in
--run-dir yet (the tokenizer is the shipped one unless --tokenizer names another). Each stage
writes <run-dir>/<stage>.ckpt every --checkpoint-every and when interrupted (Ctrl-C);
--resume continues from it exactly, so an interrupted run ends with the same weights as
an uninterrupted one. Finished stages leave <stage>.safetensors, a loss curve
<stage>.csv and <stage>.png. Data come from the cache (m4sc data fetch); the seed is the
configuration's seed.

The align and instruct stages train on perturbed images by default (--augment
realistic, llm.AugmentRealistic): three quarters of the training scenes and digits
get a raised, graded background, colour jitter within each colour's name, sensor
noise, slight blur, a JPEG round trip, small scale changes and anti-aliased edges
(dataset.RealisticPerturbation), so the model reads images not drawn by m4sc's own
renderer. --augment off trains on clean images, as the model shipped before this one was trained.
The setting is recorded in the weights' configuration (llm.Config.Augment).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.from != "" && (f.stage == "tokenizer" || f.stage == "channel") {
				return usageErrorf("--from applies to the lm, align and instruct stages, not %s", f.stage)
			}
			if f.stage == "tokenizer" {
				return trainTokenizer(cmd, a, f)
			}
			if f.stage == "channel" {
				return trainChannel(cmd, a, f)
			}
			st, err := llm.ParseStage(f.stage)
			if err != nil {
				return usageErrorf("--stage %q: stages are %s", f.stage, strings.Join(trainStages, ", "))
			}
			return trainModel(cmd, a, f, st)
		},
	}
	cmd.Flags().StringVar(&f.stage, "stage", "instruct", "stage to run (and the model stages before it): "+strings.Join(trainStages, ", "))
	cmd.Flags().StringVar(&f.out, "out", "llm/weights/tokenizer.json", "tokenizer stage: where the tokenizer goes (an existing file only with --force)")
	cmd.Flags().BoolVar(&f.force, "force", false, "tokenizer stage: replace --out if it exists (the default is the shipped tokenizer)")
	cmd.Flags().IntVar(&f.vocab, "vocab", tokenizer.DefaultVocabSize, "tokenizer stage: vocabulary size")
	cmd.Flags().StringVar(&f.runDir, "run-dir", "runs/default", "model stages: directory of checkpoints, weights and curves")
	cmd.Flags().StringVar(&f.tokPath, "tokenizer", "", "model stages: the tokenizer to train with (default: the shipped one, embedded)")
	cmd.Flags().StringVar(&f.projector, "projector", string(llm.ProjectorKAN), "image projector of a new model: kan, or mlp (the ablation with as many parameters)")
	cmd.Flags().StringVar(&f.corpus, "corpus", "", "model stages: a text file, one sentence a line, to train on instead of the State of the Union")
	cmd.Flags().StringVar(&f.images, "images", "", "model stages: a folder of PNG/JPEG images to train image.reconstruct on instead of the scenes")
	cmd.Flags().StringVar(&f.stem, "img-stem", string(llm.StemConv), "image stem: patch or conv; the image encoder is made fresh of this kind when the align stage starts (and when the flag is given for a later stage)")
	cmd.Flags().Int64Var(&f.steps, "steps", 0, "optimiser steps of the requested stage (0: the stage's default)")
	cmd.Flags().IntVar(&f.batch, "batch", 0, "examples per step (0: the stage's default)")
	cmd.Flags().Float64Var(&f.lr, "lr", 0, "peak learning rate (0: the stage's default)")
	cmd.Flags().BoolVar(&f.tuneModel, "tune-model", false, "channel stage: also train the language model's semantic head and decoder with the codec (writes <run-dir>/channel-model.safetensors)")
	cmd.Flags().IntVar(&f.codecHidden, "codec-hidden", semantic.DefaultCodecHidden, "channel stage: hidden width of a new codec's networks (semantic.CodecConfig.Hidden)")
	cmd.Flags().Float64Var(&f.cleanShare, "clean-share", semantic.DefaultClean, "channel stage: share of the joint phase's messages sent over no channel at all, so the decoder keeps its clean-channel figures (0 to 1)")
	cmd.Flags().BoolVar(&f.cased, "cased", true, "lm stage of a new run: train on text with its letters' case as written (llm.Config.Cased); false lower-cases it (the shipped model is cased). A resumed or later stage keeps the run's setting. The tokenizer stage trains on the same text (cased by default, as the shipped tokenizer is)")
	cmd.Flags().BoolVar(&f.resume, "resume", false, "continue the stage from its checkpoint in --run-dir, if there is one")
	cmd.Flags().BoolVar(&f.restart, "restart", false, "train the requested stage again even if its weights exist")
	cmd.Flags().StringVar(&f.from, "from", "", "lm, align and instruct stages: start the requested stage from these weights (an earlier run's <stage>.safetensors) instead of the previous stage's in --run-dir, which are then not needed; to continue a finished stage for more steps, say at a lower --lr, under another --seed so the batches are new")
	cmd.Flags().DurationVar(&f.every, "checkpoint-every", defaultCheckpointEvery, "how often to write the checkpoint (a positive duration)")
	cmd.Flags().StringVar(&f.mix, "mix", "", "align and instruct stages: re-weigh the requested stage's tasks, as task=weight,... (\"text.transmit=0.3,text.era=0.1\"); named tasks replace the stage's default weights, the rest keep theirs (llm.TaskMix); a resumed stage must be given the same mix")
	cmd.Flags().StringVar(&f.augment, "augment", string(llm.AugmentRealistic), "align and instruct stages: realistic perturbs 3/4 of the training images (llm.AugmentRealistic), off trains on clean images; a resumed stage keeps its checkpoint's setting unless this flag is given")
	return cmd
}

func trainTokenizer(cmd *cobra.Command, a *app, f trainFlags) error {
	if least := len(tokenizer.DefaultSpecials) + 256; f.vocab < least || f.vocab > llm.MaxVocab {
		return usageErrorf("--vocab %d: want %d (the %d special tokens and the 256 bytes) to %d", f.vocab, least, len(tokenizer.DefaultSpecials), llm.MaxVocab)
	}
	// --out defaults to the shipped tokenizer: replacing it, or any file, needs
	// --force, and is refused before training rather than after.
	if err := checkOutput("--out", f.out, f.force); err != nil {
		return err
	}
	dir, err := a.Config().CacheDir()
	if err != nil {
		return err
	}
	// A missing data set says itself to run m4sc data fetch (dataset.ErrNotFetched);
	// other errors are not helped by fetching again.
	train := tokenizer.TrainSOTUCased
	if !f.cased {
		train = tokenizer.TrainSOTU
	}
	tok, err := train(cmd.Context(), dir, f.vocab)
	if err != nil {
		return err
	}
	if err := writeOutput("--out", f.out, f.force, tok.Write); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "tokenizer with %d tokens written to %s\n", tok.VocabSize(), f.out)
	return nil
}

func trainModel(cmd *cobra.Command, a *app, f trainFlags, want llm.Stage) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	log := a.log
	proj := llm.Projector(f.projector)
	if proj != llm.ProjectorKAN && proj != llm.ProjectorMLP {
		return usageErrorf("--projector %q: kan or mlp", f.projector)
	}
	if s := llm.ImageStem(f.stem); s != llm.StemPatch && s != llm.StemConv {
		return usageErrorf("--img-stem %q: patch or conv", f.stem)
	}
	aug, err := llm.ParseAugmentation(f.augment)
	if err != nil || f.augment == "" {
		return usageErrorf("--augment %q: realistic or off", f.augment)
	}
	mix, err := llm.ParseTaskMix(f.mix)
	if err != nil {
		return usageErrorf("--mix: %v", err)
	}
	if len(mix) > 0 {
		if st, _ := llm.ParseStage(f.stage); st != llm.StageAlign && st != llm.StageInstruct {
			return usageErrorf("--mix re-weighs the align or instruct stage's tasks, not stage %q", f.stage)
		}
	}
	if f.steps < 0 || f.batch < 0 || f.lr < 0 {
		return usageErrorf("--steps, --batch and --lr must not be negative")
	}
	if f.from != "" {
		if _, err := os.Stat(f.from); err != nil {
			return fmt.Errorf("--from: %w", err)
		}
	}
	if f.every <= 0 {
		return usageErrorf("--checkpoint-every %s: want a positive duration (default %s)", f.every, defaultCheckpointEvery)
	}
	tok, err := loadTokenizer(f.tokPath)
	if err != nil {
		return err
	}
	data, cacheDir, err := loadData(a)
	if err != nil {
		return err
	}
	if f.corpus != "" {
		n, err := data.UseCorpus(f.corpus)
		if err != nil {
			return err
		}
		log.Info("user corpus replaces the State of the Union sentences; text.era is not trained", "file", f.corpus, "sentences", n)
	}
	if f.images != "" {
		n, err := data.UseImages(f.images)
		if err != nil {
			return err
		}
		log.Info("user images replace the scenes for image.reconstruct", "dir", f.images, "images", n)
	}
	if err := os.MkdirAll(f.runDir, 0o755); err != nil {
		return err
	}
	seed := uint64(a.Config().Seed())
	var prev string
	for _, st := range llm.Stages {
		if f.from != "" && st != want {
			continue // the requested stage starts from --from
		}
		final := filepath.Join(f.runDir, string(st)+".safetensors")
		if _, err := os.Stat(final); err == nil && (st != want || !f.restart) {
			fmt.Fprintf(out, "stage %s: done (%s)\n", st, final)
			prev = final
			if st == want {
				break
			}
			continue
		}
		if f.from != "" {
			prev = f.from
		}
		var m *llm.Model
		if prev == "" {
			cfg := llm.DefaultConfig(tok.VocabSize())
			cfg.Projector = proj
			cfg.Cased = f.cased
			if c, ok := checkpointConfig(filepath.Join(f.runDir, string(st)+".ckpt")); ok && (f.resume || st != want) && !cmd.Flags().Changed("cased") {
				cfg.Cased = c.Cased // a resumed run keeps its case
			}
			if m, err = llm.New(cfg, tok, rand.New(rand.NewPCG(seed, 0x6d347363))); err != nil {
				return err
			}
		} else {
			if m, err = llm.Load(prev, tok); err != nil {
				return err
			}
			if m.Config().Projector != proj && cmd.Flags().Changed("projector") {
				// The ablation: the same language model, another projector.
				if m, err = m.WithProjector(proj, rand.New(rand.NewPCG(seed, 0x70726f6a))); err != nil {
					return err
				}
				log.Info("projector replaced", "projector", proj, "params", m.ProjectorParams(), "from", prev)
			}
			augment := aug
			if c, ok := checkpointConfig(filepath.Join(f.runDir, string(st)+".ckpt")); ok && (f.resume || st != want) && !cmd.Flags().Changed("augment") {
				augment = c.Augment // a resumed stage keeps its augmentation
			}
			if m, err = upgradeModel(cmd, log, m, st, seed, f.stem, augment, prev); err != nil {
				return err
			}
		}
		def := llm.DefaultStageOptions[st]
		o := llm.TrainOptions{Stage: st, Seed: seed, Steps: def.Steps, Batch: def.Batch, LR: def.LR, Warmup: def.Warmup, Questions: def.Questions,
			Checkpoint: filepath.Join(f.runDir, string(st)+".ckpt"), CheckpointEvery: f.every,
			Resume: f.resume || st != want, ValEvery: 100, ValBatches: 4}
		if st == want {
			if f.steps > 0 {
				o.Steps = f.steps
				o.Warmup = min(o.Warmup, o.Steps/10)
			}
			if f.batch > 0 {
				o.Batch = f.batch
			}
			if f.lr > 0 {
				o.LR = f.lr
			}
			o.Mix = mix
		}
		log.Info("training", "stage", st, "params", m.NumParams(), "projector", m.Config().Projector,
			"projector_params", m.ProjectorParams(), "steps", o.Steps, "batch", o.Batch, "lr", o.LR, "seed", seed)
		if err := runStage(ctx, out, log, m, data, o, f.runDir); err != nil {
			return err
		}
		command := fmt.Sprintf("m4sc train --stage %s --run-dir %s --projector %s --cased=%t --augment %s --seed %d", st, f.runDir, proj, m.Config().Cased, m.Config().Augment, seed)
		if st == want {
			// What else shaped the requested stage, as given.
			if f.from != "" {
				command += " --from " + f.from
			}
			command += f.sizeFlags()
			if len(o.Mix) > 0 {
				command += " --mix " + o.Mix.String()
			}
		}
		meta := map[string]string{
			"stage": string(st), "seed": fmt.Sprint(seed), "steps": fmt.Sprint(o.Steps),
			"command": command,
			"from":    prev, "lr": fmt.Sprint(o.LR), "mix": o.Mix.String(),
			"data": dataVersions(cacheDir),
		}
		if err := m.Save(final, meta); err != nil {
			return err
		}
		fmt.Fprintf(out, "stage %s: weights written to %s\n", st, final)
		prev = final
		if st == want {
			break
		}
	}
	return nil
}

// checkpointConfig returns the model configuration a stage's checkpoint was
// written with, and false when there is no readable checkpoint at path.
func checkpointConfig(path string) (llm.Config, bool) {
	var c llm.Config
	ck, err := safetensors.LoadCheckpoint(path)
	if err != nil {
		return c, false
	}
	return c, json.Unmarshal([]byte(ck.Meta[llm.MetaConfig]), &c) == nil
}

// upgradeModel brings a model loaded from the previous stage's weights to what stage
// st trains, in one Rebuild:
//   - the lm stage never runs the image encoder, so align starts it afresh, of the
//     chosen stem (or any stage, when --img-stem is given);
//   - weights from before the auxiliary heads gain them;
//   - a language model from before the current instruction layout (no prompt has
//     touched it) enters it at align, with the cell embeddings it needs;
//   - instruct adds the role head (llm.Config.RoleHead) and the spatial readout that
//     uses it (llm.Config.GeoReadout), which train there only;
//   - align and instruct take the image augmentation aug (llm.Config.Augment).
//
// Everything but the fresh image encoder starts at zero and is created after every
// randomly initialised parameter, so it draws nothing from the source: the result
// equals having had it from the start, and the image encoder gets the same draws as
// when it is rebuilt alone.
func upgradeModel(cmd *cobra.Command, log *slog.Logger, m *llm.Model, st llm.Stage, seed uint64, stem string, aug llm.Augmentation, from string) (*llm.Model, error) {
	c := m.Config()
	var fresh []string
	var added []string
	if string(c.Stem()) != stem && (st == llm.StageAlign || cmd.Flags().Changed("img-stem")) {
		c.ImgStem = llm.ImageStem(stem)
		fresh = append(fresh, "img/")
		added = append(added, "image encoder ("+stem+" stem, fresh)")
	}
	if !c.AuxHeads {
		c.AuxHeads = true
		added = append(added, "auxiliary image heads")
	}
	if c.Layout != llm.PromptLayout && st == llm.StageAlign {
		c.Layout = llm.PromptLayout
		added = append(added, fmt.Sprintf("instruction layout %d", c.Layout))
	}
	if !c.RoleHead && c.Layout >= 1 && st == llm.StageInstruct {
		c.RoleHead = true
		added = append(added, "role head")
	}
	if !c.GeoReadout && c.RoleHead && st == llm.StageInstruct {
		c.GeoReadout = true
		added = append(added, "spatial readout")
	}
	if c.Augment != aug && (st == llm.StageAlign || st == llm.StageInstruct) {
		c.Augment = aug
		added = append(added, "image augmentation "+aug.String())
	}
	if c == m.Config() {
		return m, nil
	}
	out, err := m.Rebuild(c, rand.New(rand.NewPCG(seed, 0x7374656d)), fresh...)
	if err != nil {
		return nil, err
	}
	log.Info("model upgraded for the stage", "stage", st, "added", strings.Join(added, ", "), "from", from)
	return out, nil
}

// runStage trains one stage with a progress display and a loss curve.
func runStage(ctx context.Context, out io.Writer, log *slog.Logger, m *llm.Model, data *llm.Data, o llm.TrainOptions, runDir string) error {
	return runStageNamed(ctx, out, log, m, data, o, runDir, string(o.Stage))
}

// runStageNamed is runStage with the loss curve named name (<run-dir>/<name>.csv)
// and the progress labelled so, for stages that train with another stage's mixture.
func runStageNamed(ctx context.Context, out io.Writer, log *slog.Logger, m *llm.Model, data *llm.Data, o llm.TrainOptions, runDir, name string) error {
	csvPath := filepath.Join(runDir, name+".csv")
	var resumeStep int64
	if o.Resume {
		if s, ok := checkpointStep(o.Checkpoint); ok {
			resumeStep = s
			log.Info("resuming", "stage", name, "step", s, "checkpoint", o.Checkpoint)
		}
	}
	curve, err := trainlog.OpenCurve(csvPath, resumeStep)
	if err != nil {
		return err
	}
	blasInfo := nn.UsingBLAS()
	fmt.Fprintf(out, "stage %s: %d steps, matrix products on %s\n", name, o.Steps, blasInfo)
	for _, a := range nn.Advice() {
		fmt.Fprintf(out, "stage %s: %s\n", name, a)
	}
	if blasInfo.Name == "gonum" && o.Steps-resumeStep >= 1000 {
		fmt.Fprintf(out, "stage %s: a build with OpenBLAS trains several times faster: apt-get install libopenblas-dev; go build -tags openblas ./cmd/m4sc\n", name)
	}
	prog := trainlog.NewProgress(out, name, o.Steps, resumeStep)
	// A resumed run continues the curve's clock and token count.
	var elapsedBefore time.Duration
	var tokensBefore int64
	if rows, err := trainlog.ReadCurve(csvPath); err == nil && len(rows) > 0 {
		elapsedBefore, tokensBefore = rows[len(rows)-1].Elapsed, rows[len(rows)-1].Tokens
	}
	var werr error
	o.Report = func(r llm.StepReport) {
		prog.Update(r.Step, r.Loss.Total, r.TokensPerSec)
		if werr == nil {
			werr = curve.Append(trainlog.Row{Stage: string(r.Stage), Step: r.Step, Tokens: tokensBefore + r.Tokens, Loss: r.Loss.Total,
				LR: r.LR, Elapsed: elapsedBefore + r.Elapsed, ValLoss: r.ValLoss})
		}
	}
	terr := llm.Train(ctx, m, data, o)
	prog.Finish()
	cerr := curve.Close()
	if terr != nil {
		if errors.Is(terr, context.Canceled) {
			return fmt.Errorf("stage %s interrupted; checkpoint in %s, continue with --resume: %w", name, o.Checkpoint, terr)
		}
		return terr
	}
	if err := errors.Join(werr, cerr); err != nil {
		return err
	}
	rows, err := trainlog.ReadCurve(csvPath)
	if err != nil {
		return err
	}
	png := strings.TrimSuffix(csvPath, ".csv") + ".png"
	if err := trainlog.PlotCurves(rows, "m4sc train --stage "+name, png); err != nil {
		return err
	}
	fmt.Fprintf(out, "stage %s: loss curve %s, %s\n", name, csvPath, png)
	return nil
}

// checkpointStep reads the step a stage checkpoint was written at.
func checkpointStep(path string) (int64, bool) {
	c, err := safetensors.LoadCheckpoint(path)
	if err != nil {
		return 0, false
	}
	return c.Step, true
}

// dataVersions names the cached packages the run trained on, with their digests.
func dataVersions(cacheDir string) string {
	man, err := dataset.ReadManifest(cacheDir)
	if err != nil {
		return "unknown"
	}
	var parts []string
	for _, e := range man.Packages {
		parts = append(parts, fmt.Sprintf("%s@%s sha256:%s", e.Name, e.Version, e.SHA256))
	}
	return strings.Join(parts, "; ")
}

// loadTokenizer reads a tokenizer file, or returns the shipped one for "".
func loadTokenizer(path string) (*tokenizer.Tokenizer, error) {
	if path == "" {
		return weights.Tokenizer()
	}
	return tokenizer.Load(path)
}
