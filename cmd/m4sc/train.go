package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/llm/tokenizer"
)

// trainStages lists the stages `m4sc train` runs today; lm, align and instruct follow
// with the model (issue 5).
var trainStages = []string{"tokenizer"}

func newTrainCmd(a *app) *cobra.Command {
	var stage, out string
	var vocab int
	cmd := &cobra.Command{
		Use:   "train --stage tokenizer [--out FILE]",
		Short: "Train m4sc's models; today the byte-level BPE tokenizer on the State of the Union training split",
		Long: `Stages run in order: tokenizer (byte-level BPE on the training split of the State of
the Union sentences, deterministic for a data version), then lm, align and instruct
(not built yet). Data come from the cache (m4sc data fetch).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if stage != "tokenizer" {
				return usageErrorf("--stage %q: available stages: %v (lm, align and instruct are not built yet)", stage, trainStages)
			}
			dir, err := a.Config().CacheDir()
			if err != nil {
				return err
			}
			tok, err := tokenizer.TrainSOTU(cmd.Context(), dir, vocab)
			if err != nil {
				return fmt.Errorf("%w (run m4sc data fetch first)", err)
			}
			if err := tok.Save(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "tokenizer with %d tokens written to %s\n", tok.VocabSize(), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&stage, "stage", "tokenizer", "stage to run")
	cmd.Flags().StringVar(&out, "out", "llm/weights/tokenizer.json", "where the tokenizer goes")
	cmd.Flags().IntVar(&vocab, "vocab", tokenizer.DefaultVocabSize, "tokenizer vocabulary size")
	return cmd
}
