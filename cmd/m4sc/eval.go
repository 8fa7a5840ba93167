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
	sigma                     float64
	weights                   string
	sentences, scenes, digits int
	beam                      int
}

func newEvalCmd(a *app) *cobra.Command {
	var f evalFlags
	cmd := &cobra.Command{
		Use:   "eval [--clean | --sigma S] [--weights FILE] [--sentences N] [--scenes N] [--digits N] [--beam K] [--fresh] [--json]",
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
			a.log.Info("evaluating", "params", m.NumParams(), "sigma", f.sigma, "beam", f.beam, "seed", seed)
			p := &evalProgress{w: cmd.ErrOrStderr(), every: 10 * time.Second}
			r, err := semantic.Evaluate(cmd.Context(), m, data, semantic.EvalOptions{
				Sentences: f.sentences, Scenes: f.scenes, Digits: f.digits, Beam: f.beam,
				Sigma: f.sigma, Seed: seed, Fresh: f.fresh, Progress: p.update,
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.json {
				b, err := json.MarshalIndent(r, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(out, "%s\n", b)
				return err
			}
			_, err = io.WriteString(out, r.Markdown())
			return err
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
	return cmd
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
