// Command m4sc runs the multi-modal, multi-user semantic communication
// system: configuration, radio devices, the end-to-end demo.
//
// Every verb reads the same configuration (see "m4sc config print --keys"):
// a YAML file, then M4SC_* environment variables, then flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	restartForBLAS()
	// Long verbs watch cmd.Context(). The first interrupt cancels it; stop
	// then restores the default handling, so a second interrupt kills a verb
	// that does not stop in time.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
