package main

import (
	"context"
	"fmt"

	"github.com/m4sc/m4sc/trial"
	"github.com/m4sc/m4sc/trial/monitor"
	"github.com/spf13/cobra"
)

func addServeFlag(cmd *cobra.Command, addr *string) {
	cmd.Flags().StringVar(addr, "serve", "", "serve the live monitor (spectrum, constellation, decoded messages) at this address, such as :8080")
}

// startMonitor starts the live monitor at addr, titled title, until stop is called.
func startMonitor(cmd *cobra.Command, addr, title string) (m *monitor.Monitor, stop func(), err error) {
	ctx, cancel := context.WithCancel(cmd.Context())
	m = monitor.New(title)
	at, err := m.Serve(ctx, addr)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "monitor: http://%s/\n", at)
	return m, cancel, nil
}

// serveMonitor starts the live monitor when addr is set and adds it to o's sinks.
func serveMonitor(cmd *cobra.Command, addr, title string, o *trial.Options) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	m, stop, err := startMonitor(cmd, addr, title)
	if err != nil {
		return nil, err
	}
	o.Sinks = append(o.Sinks, m)
	return stop, nil
}
