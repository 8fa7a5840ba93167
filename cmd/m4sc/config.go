package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/internal/config"
)

func newConfigCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the configuration and where it comes from",
		Args:  cobra.NoArgs,
		// Runnable, so that "m4sc config typo" is an unknown-command error
		// rather than a silent help text.
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newConfigPrintCmd(a), newConfigPathCmd(a))
	return cmd
}

func newConfigPrintCmd(a *app) *cobra.Command {
	var keys bool
	cmd := &cobra.Command{
		Use:   "print",
		Short: "Print the effective configuration as YAML, each key with its source",
		Long: `Print the effective configuration as YAML. A comment after each key says
where its value came from: default, file PATH, env VARIABLE or flag --NAME.
The output is itself a valid configuration file.

With --keys, list every key instead: type, default, environment variable and
meaning.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if keys {
				return printKeys(cmd)
			}
			return a.Config().WriteYAML(cmd.OutOrStdout(), true)
		},
	}
	cmd.Flags().BoolVar(&keys, "keys", false, "list the keys with their types, defaults and docs")
	return cmd
}

// printKeys writes the schema as a table.
func printKeys(cmd *cobra.Command) error {
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tTYPE\tDEFAULT\tENV\tDESCRIPTION")
	for _, k := range config.Keys() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.Name, k.TypeName(), defaultText(k), k.Env(), k.Doc)
	}
	return tw.Flush()
}

// defaultText renders a default for the key table: "" for empty text, {}
// for an empty map.
func defaultText(k config.Key) string {
	switch d := k.Default.(type) {
	case string:
		return fmt.Sprintf("%q", d)
	case map[string]float64, map[string]string:
		s := strings.TrimPrefix(fmt.Sprint(d), "map")
		return strings.ReplaceAll(strings.ReplaceAll(s, "[", "{"), "]", "}")
	case float64:
		return fmt.Sprintf("%g", d)
	}
	return fmt.Sprint(k.Default)
}

func newConfigPathCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "path",
		Short: "Print the configuration file in use, or none",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f := a.Config().File(); f != "" {
				fmt.Fprintln(cmd.OutOrStdout(), f)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "none (looked for %s)\n", strings.Join(config.SearchPaths(), ", "))
			return nil
		},
	}
}
