package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/m4sc/m4sc/nn"
	"github.com/spf13/cobra"
)

func newVersionCmd(_ *app) *cobra.Command {
	return &cobra.Command{
		Use:         "version",
		Short:       "Print the version of m4sc and of the Go toolchain that built it",
		Args:        cobra.NoArgs,
		Annotations: map[string]string{noConfig: ""},
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), versionText())
			fmt.Fprintln(cmd.OutOrStdout(), "BLAS:", nn.UsingBLAS())
			for _, a := range nn.Advice() {
				fmt.Fprintln(cmd.OutOrStdout(), "BLAS:", a)
			}
			return nil
		},
	}
}

// versionText is "m4sc VERSION (commit REV) GOVERSION OS/ARCH". The module
// version is "(devel)" for a build from a checkout without a tag; the commit
// is known when the binary was built inside the repository.
func versionText() string {
	version, goVersion, commit := "(unknown)", runtime.Version(), ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		goVersion = bi.GoVersion
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			commit = " (commit " + rev
			if modified == "true" {
				commit += ", modified"
			}
			commit += ")"
		}
	}
	return fmt.Sprintf("m4sc %s%s %s %s/%s", version, commit, goVersion, runtime.GOOS, runtime.GOARCH)
}
