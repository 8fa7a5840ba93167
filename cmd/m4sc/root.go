package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/internal/config"
)

// verbs are the constructors of m4sc's sub-commands, in the order of the
// help text. A verb lives in its own file and has the form
//
//	func newXxxCmd(a *app) *cobra.Command
//
// Inside RunE it reads a.Config() and logs with a.log; it writes its output
// to cmd.OutOrStdout() and watches cmd.Context() in long loops. A flag that
// overrides a configuration key is made with
//
//	config.AddFlag(cmd.Flags(), "rate", "radio.rate")
//
// so that Load applies it and "m4sc config print" reports "flag --rate".
var verbs = [...]func(*app) *cobra.Command{
	newDevicesCmd,
	newDemoCmd,
	newPhyCmd,
	newTxCmd,
	newRxCmd,
	newSendCmd,
	newReceiveCmd,
	newSweepCmd,
	newShareCmd,
	newDataCmd,
	newTrainCmd,
	newEvalCmd,
	newAskCmd,
	newCalibrateCmd,
	newConfigCmd,
	newTrialCmd,
	newVersionCmd,
}

// app is the state one run of the command line shares between the root
// command and the verbs. It replaces globals: tests build a fresh one per run.
type app struct {
	stderr     io.Writer
	configFile string         // value of --config
	cfg        *config.Config // set by the root's PersistentPreRunE
	log        *slog.Logger   // set by the root's PersistentPreRunE; pass it to libraries

	// started is set when the root's PersistentPreRunE begins, that is after
	// cobra has parsed the flags and checked the arguments. An error before
	// it is a usage error.
	started bool
}

// Config returns the configuration loaded for the running verb. It panics
// when called before the root's PersistentPreRunE, or from a verb annotated
// with noConfig, which are mistakes in the verb's code.
func (a *app) Config() *config.Config {
	if a.cfg == nil {
		panic("m4sc: configuration used before it was loaded")
	}
	return a.cfg
}

// noConfig is the annotation of verbs that must work even when the
// configuration cannot be loaded (version); cobra's help and completion
// verbs are treated the same way.
const noConfig = "m4sc.noconfig"

// usageError is an error in how the command line is written, detected by a
// verb itself; run prints the verb's usage after it, as for flag errors.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf makes a usageError for a verb to return from RunE.
func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "m4sc",
		Short: "Multi-modal, multi-task, multi-user semantic communication over OFDM",
		Long: `m4sc carries the meaning of text and images, rather than their bits, over an
OFDM radio link shared by several users: a loopback channel simulator, a
recording, or an SDR such as a HackRF.

Configuration comes from ` + config.FileName + ` (or --config), then M4SC_* environment
variables, then flags; "m4sc config print" shows the result and its sources.`,
		// run prints errors once, and usage only for usage errors.
		SilenceErrors:     true,
		SilenceUsage:      true,
		PersistentPreRunE: a.setup,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.configFile, "config", "", "configuration file (default: first found of "+strings.Join(config.SearchPaths(), ", ")+")")
	config.AddFlag(pf, "seed", "seed")
	config.AddFlag(pf, "log-level", "log.level")
	config.AddFlag(pf, "log-format", "log.format")
	for _, newVerb := range verbs {
		root.AddCommand(newVerb(a))
	}
	for _, c := range root.Commands() {
		strictGroups(c)
	}
	return root
}

// strictGroups makes every command below c that only groups sub-commands
// ("m4sc phy", "m4sc data") fail on an unknown sub-command, as the root does,
// instead of printing its help and exiting 0 as cobra would; without arguments
// it still prints its help.
func strictGroups(c *cobra.Command) {
	if c.HasSubCommands() && !c.Runnable() {
		c.Args = cobra.NoArgs
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	for _, sub := range c.Commands() {
		strictGroups(sub)
	}
}

// setup loads the configuration and makes the logger. Verbs must not set
// their own PersistentPreRunE, which would replace this one; PreRunE is free.
func (a *app) setup(cmd *cobra.Command, _ []string) error {
	a.started = true
	a.log = newLogger(a.stderr, slog.LevelInfo, config.DefaultLogFormat)
	if skipsConfig(cmd) {
		return nil
	}
	cfg, err := config.Load(cmd.Flags(), a.configFile)
	if err != nil {
		return err
	}
	if err := checkConfig(cfg); err != nil {
		return err
	}
	a.cfg = cfg
	a.log = newLogger(a.stderr, cfg.LogLevel(), cfg.LogFormat())
	a.log.Debug("configuration loaded", "file", cfg.File())
	for _, name := range cfg.UnusedEnv() {
		a.log.Warn("environment variable matches no configuration key", "name", name)
	}
	return nil
}

// skipsConfig reports whether cmd or one of its parents does without
// configuration.
func skipsConfig(cmd *cobra.Command) bool {
	for c := cmd; c != nil; c = c.Parent() {
		if _, ok := c.Annotations[noConfig]; ok {
			return true
		}
		switch c.Name() {
		case "help", "completion", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
			return true
		}
	}
	return false
}

// newLogger makes the handler the command line chose: text or JSON records
// on w (stderr), from level up.
func newLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// run executes the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stderr: stderr}
	return execute(ctx, a, newRootCmd(a), args, stdout, stderr)
}

// execute runs root, made by newRootCmd(a). Errors are printed once, as
// "m4sc: error" on stderr, followed by the usage of the verb when the
// command line itself was wrong.
func execute(ctx context.Context, a *app, root *cobra.Command, args []string, stdout, stderr io.Writer) int {
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", root.Name(), err)
	var ue *usageError
	if !a.started || errors.As(err, &ue) {
		fmt.Fprint(stderr, "\n"+cmd.UsageString())
	}
	return 1
}
