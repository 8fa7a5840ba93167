package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/llm/weights"
	"github.com/m4sc/m4sc/semantic"
)

type evalFlags struct {
	clean, fresh, json        bool
	robust                    bool
	n                         int
	sigma                     float64
	weights                   string
	sentences, scenes, digits int
	beam                      int
}

func newEvalCmd(a *app) *cobra.Command {
	var f evalFlags
	cmd := &cobra.Command{
		Use:   "eval [--clean | --sigma S] [--weights FILE] [--sentences N] [--scenes N] [--digits N] [--beam K] [--fresh] [--robust [--n N]] [--json]",
		Short: "Score the language model on held-out data, every task, and print a Markdown table",
		Long: `eval scores the embedded model (or --weights FILE) on data it never trained on:
perplexity, text.transmit and text.era on the State of the Union test split
(2001 on), image.caption, image.vqa and image.reconstruct on generated test
scenes, image.classify on the 2,000 test digits. Accuracies come with 95% Wilson
intervals; text.era is shown next to the rate of always answering the most
frequent era. --sigma adds Gaussian noise of that standard deviation to every
semantic value (the vectors have unit RMS), --clean (the default) adds none.
--fresh scores the scene tasks again on scenes chosen by the seed (--seed), far
from the fixed test scenes. For a model trained with auxiliary heads, "image
semantics" rows say how well each object's shape, colour and size can be read
from the (noisy) semantic vectors themselves, apart from the language model.

--robust scores instead how the image tasks hold up on images not drawn by the
scene generator: the test scenes and test digits under each perturbation of
dataset.Perturbation separately, at its strength in semantic.RobustConditions, and all together (background grey
6-10% of full scale, colour jitter +-30, noise sigma 2%, blur sigma 0.6 pixel,
JPEG quality 50, scale +-10%, 4x4 anti-aliasing), and the scenes' objects drawn
by another renderer (golang.org/x/image/vector), with the clean figures in the
first column: caption exact match and BLEU-4, vqa accuracy by kind (one question
of each kind a scene), digit accuracy. --n N scores N scenes and N digits per
condition (default: --scenes and --digits); --n 200 takes a few minutes on two
cores.

Data come from the cache (m4sc data fetch); progress
goes to stderr, the table (or --json) to stdout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.clean && cmd.Flags().Changed("sigma") && f.sigma != 0 {
				return usageErrorf("--clean means no noise; it cannot go with --sigma %g", f.sigma)
			}
			if !(f.sigma >= 0) || math.IsInf(f.sigma, 1) {
				return usageErrorf("--sigma %g: want a finite standard deviation of 0 or more", f.sigma)
			}
			if f.sentences < 0 || f.scenes < 0 || f.digits < 0 {
				return usageErrorf("--sentences, --scenes and --digits must not be negative")
			}
			if f.beam < 0 {
				return usageErrorf("--beam %d: want 0 or 1 (greedy) or a wider beam", f.beam)
			}
			if f.n < 0 || f.n > 0 && !f.robust {
				return usageErrorf("--n %d: a positive count of scenes and digits, with --robust", f.n)
			}
			if f.robust && (f.sigma != 0 || f.fresh || f.beam > 1) {
				return usageErrorf("--robust scores clean semantics of the test scenes, greedily: not with --sigma, --fresh or --beam")
			}
			m, err := loadModel(f.weights)
			if err != nil {
				return err
			}
			dir, err := a.Config().CacheDir()
			if err != nil {
				return err
			}
			data, err := llm.LoadData(dir)
			if err != nil {
				return fmt.Errorf("%w (run m4sc data fetch first)", err)
			}
			seed := uint64(a.Config().Seed())
			if f.robust {
				return evalRobust(cmd, a, f, m, data, seed)
			}
			a.log.Info("evaluating", "params", m.NumParams(), "sigma", f.sigma, "beam", f.beam, "seed", seed)
			p := &evalProgress{w: cmd.ErrOrStderr(), every: 10 * time.Second}
			r, err := semantic.Evaluate(cmd.Context(), m, data, semantic.EvalOptions{
				Sentences: f.sentences, Scenes: f.scenes, Digits: f.digits, Beam: f.beam,
				Sigma: f.sigma, Seed: seed, Fresh: f.fresh, Progress: p.update,
			})
			if err != nil {
				return err
			}
			return printReport(cmd.OutOrStdout(), f.json, r, r.Markdown())
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.clean, "clean", false, "decode the semantics without noise (the default)")
	fl.Float64Var(&f.sigma, "sigma", 0, "standard deviation of the Gaussian noise added to every semantic value")
	fl.StringVar(&f.weights, "weights", "", "weights file to evaluate (default: the embedded model)")
	fl.IntVar(&f.sentences, "sentences", 0, "test sentences, evenly spaced over the split (0: all)")
	fl.IntVar(&f.scenes, "scenes", semantic.DefaultEvalScenes, "test scenes")
	fl.IntVar(&f.digits, "digits", 0, "test digits (0: all 2,000)")
	fl.IntVar(&f.beam, "beam", 0, "beam width of text decoding (0 or 1: greedy)")
	fl.BoolVar(&f.fresh, "fresh", false, "also score the scene tasks on fresh scenes chosen by --seed")
	fl.BoolVar(&f.json, "json", false, "print the report as JSON instead of Markdown")
	fl.BoolVar(&f.robust, "robust", false, "score the image tasks under each image perturbation and another renderer instead (see above)")
	fl.IntVar(&f.n, "n", 0, "with --robust: test scenes and test digits per condition (0: --scenes and --digits)")
	return cmd
}

// evalRobust runs `m4sc eval --robust` and prints its table (or JSON).
func evalRobust(cmd *cobra.Command, a *app, f evalFlags, m *llm.Model, data *llm.Data, seed uint64) error {
	o := semantic.RobustOptions{Scenes: f.scenes, Digits: f.digits, Seed: seed,
		Progress: (&evalProgress{w: cmd.ErrOrStderr(), every: 10 * time.Second}).update}
	if f.n > 0 {
		o.Scenes, o.Digits = f.n, f.n
	}
	a.log.Info("evaluating robustness", "params", m.NumParams(), "scenes", o.Scenes, "digits", o.Digits, "seed", seed)
	r, err := semantic.EvaluateRobust(cmd.Context(), m, data, o)
	if err != nil {
		return err
	}
	return printReport(cmd.OutOrStdout(), f.json, r, r.Markdown())
}

// printReport writes r as indented JSON, or md.
func printReport(out io.Writer, asJSON bool, r any, md string) error {
	if asJSON {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "%s\n", b)
		return err
	}
	_, err := io.WriteString(out, md)
	return err
}

// loadModel returns the model in the weights file path, or the embedded one when
// path is empty.
func loadModel(path string) (*llm.Model, error) {
	if path == "" {
		m, err := weights.Model()
		if errors.Is(err, weights.ErrNoModel) {
			return nil, fmt.Errorf("%w (with --weights FILE)", err)
		}
		return m, err
	}
	tok, err := weights.Tokenizer()
	if err != nil {
		return nil, err
	}
	return llm.Load(path, tok)
}

// evalProgress writes a line when a section finishes and at most one every
// interval while it runs:
//
//	eval image.vqa: 320/1000
//	eval image.vqa: 1000/1000 in 2m13s
type evalProgress struct {
	w      io.Writer
	every  time.Duration
	began  time.Time
	shown  time.Time
	failed bool
}

func (p *evalProgress) update(section string, done, total int) {
	if p.failed {
		return
	}
	now := time.Now()
	var err error
	switch {
	case done == 0:
		p.began, p.shown = now, now
		return
	case done >= total:
		_, err = fmt.Fprintf(p.w, "eval %s: %d/%d in %s\n", section, done, total, now.Sub(p.began).Round(time.Second/10))
	case now.Sub(p.shown) >= p.every:
		p.shown = now
		_, err = fmt.Fprintf(p.w, "eval %s: %d/%d\n", section, done, total)
	}
	// A broken stderr must not stop the evaluation.
	p.failed = err != nil
}
