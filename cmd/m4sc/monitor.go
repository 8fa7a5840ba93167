package main

import (
	"context"
	"fmt"

	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/sharing"
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

// shareWatch shows an m4sc share run on the live monitor: each receiver's samples and
// frames, and every user's message under each scheme, labelled with the user.
type shareWatch struct {
	m     *monitor.Monitor
	title string
}

func (w shareWatch) Round(r, total int) {
	w.m.RunStarted(trial.RunInfo{Index: r, Total: total, Name: fmt.Sprintf("%s, round %d", w.title, r)})
}

func (w shareWatch) Samples(y []complex64) { w.m.Samples(y) }

func (w shareWatch) Frames(frames []phy.Frame) { w.m.Frames(frames) }

func (w shareWatch) Decoded(d sharing.Decoded) {
	snr, value, user := d.SNR, d.Value, d.User
	w.m.Message(monitor.Message{Run: d.Round, Item: d.User, User: &user, Task: d.Task.String(), Scheme: d.Scheme, SNR: &snr,
		Sent: d.Want, Question: d.Question, Received: d.Text, Metric: d.Metric, Value: &value, Frames: d.Frames, Lost: d.Lost,
		Partial: d.Partial, Image: d.Image})
}
