package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/burst"
	"github.com/m4sc/m4sc/radio/sigmf"
	"github.com/m4sc/m4sc/semantic"
	semweights "github.com/m4sc/m4sc/semantic/weights"
	"github.com/m4sc/m4sc/trial/monitor"
	"github.com/spf13/cobra"
)

type sendFlags struct {
	askFlags
	bandwidth, codec, device string
	snrHint                  float64
}

// addSchemeFlags adds --scheme, --rate and --image-format (send; ask with --channel).
func addSchemeFlags(cmd *cobra.Command, f *askFlags, prefix string) {
	fl := cmd.Flags()
	fl.StringVar(&f.scheme, "scheme", string(semantic.SchemeSemantic), prefix+"semantic (channel codec), digital (quantised semantics over the 802.11a DATA chain) or 80211a (separate coding: brotli text, PNG or JPEG images over 802.11a, the model at the receiver)")
	fl.IntVar(&f.rate, "rate", 12, prefix+"802.11a rate of the digital and 80211a schemes, Mbit/s: 6, 9, 12, 18, 24, 36, 48 or 54")
	fl.StringVar(&f.imageFormat, "image-format", string(semantic.ImagePNG), prefix+"80211a scheme's image coding: png, or jpeg at the highest quality that fits the --bandwidth budget")
}

// schemeOptions reads the flags addSchemeFlags added.
func schemeOptions(f *askFlags) (semantic.SendOptions, error) {
	var o semantic.SendOptions
	var err error
	if o.Scheme, err = semantic.ParseScheme(f.scheme); err != nil {
		return o, usageErrorf("--scheme: %v", err)
	}
	if o.Rate, err = phy.RateByMbps(f.rate); err != nil {
		return o, usageErrorf("--rate: %v", err)
	}
	if o.Image, err = semantic.ParseImageFormat(f.imageFormat); err != nil {
		return o, usageErrorf("--image-format: %v", err)
	}
	return o, nil
}

// loadChain returns the send/receive chain of the model in weightsPath (or the
// shipped one) and the codec in codecPath (or the shipped one).
func loadChain(weightsPath, codecPath string) (*semantic.Chain, error) {
	m, err := loadModel(weightsPath)
	if err != nil {
		return nil, err
	}
	var c *semantic.Codec
	if codecPath != "" {
		c, err = semantic.LoadCodec(codecPath)
	} else {
		c, err = semweights.Codec()
		if errors.Is(err, semweights.ErrNoCodec) {
			err = fmt.Errorf("%w, or give one with --codec FILE", err)
		}
	}
	if err != nil {
		return nil, err
	}
	return semantic.NewChain(m, c)
}

// parseBandwidth reads --bandwidth: complex data symbols per word for text ("8"),
// complex symbols per real pixel value for images ("1/12" or "0.0833"), and returns
// the codec's nearest setting in symbols per semantic vector. tokensPerWord converts
// for text.
func parseBandwidth(s string, task llm.Task, tokensPerWord float64) (int, error) {
	if s == "" {
		return semantic.DefaultBandwidth(task), nil
	}
	v, err := parseRatio(s)
	if err != nil {
		return 0, err
	}
	if task.Image() {
		// 16 vectors carry 32*32*3 = 3072 real pixel values.
		return semantic.NearestBandwidth(v * float64(llm.ImageSize*llm.ImageSize*llm.ImageChannels) / llm.ImageSlots), nil
	}
	return semantic.NearestBandwidth(v / tokensPerWord), nil
}

// parseRatio reads --bandwidth's value: a positive number or a fraction such as 1/12.
func parseRatio(s string) (float64, error) {
	var v float64
	if num, den, ok := strings.Cut(s, "/"); ok {
		a, err1 := strconv.ParseFloat(strings.TrimSpace(num), 64)
		b, err2 := strconv.ParseFloat(strings.TrimSpace(den), 64)
		if err1 != nil || err2 != nil || b == 0 {
			return 0, usageErrorf("--bandwidth %q: a number or a fraction such as 1/12", s)
		}
		v = a / b
	} else {
		var err error
		if v, err = strconv.ParseFloat(s, 64); err != nil {
			return 0, usageErrorf("--bandwidth %q: a number or a fraction such as 1/12", s)
		}
	}
	if !(v > 0) || math.IsInf(v, 0) {
		return 0, usageErrorf("--bandwidth %q: want a positive finite value", s)
	}
	return v, nil
}

func newSendCmd(a *app) *cobra.Command {
	var f sendFlags
	cmd := &cobra.Command{
		Use:   "send --task TASK (--text T | --image F | --scene N | --digit I) [--scheme semantic|digital|80211a] [--rate MBPS] [--bandwidth B] [--snr-hint DB] (--out X.sigmf-meta | --device DEV)",
		Short: "Encode an input into semantics, code it for the channel, frame it and transmit it or write a recording",
		Long: `send is the transmitter: the language model encodes the input into semantic vectors,
the channel codec maps them onto complex symbols (scheme semantic; or they are
quantised to octets and sent through the 802.11a DATA chain, scheme digital), and the
PHY frames them (several frames where one is not enough; a long text goes as several
messages). Scheme 80211a is separate coding, the classic baseline: no model at the
transmitter, the text compressed with brotli, an image as PNG or (--image-format jpeg)
as JPEG at the highest quality whose octets fit the --bandwidth budget at the rate,
the octets through the 802.11a DATA chain at --rate; the receiver runs the model on
what it decodes. The result is transmitted on --device or written to --out as a SigMF
recording whose annotation says what it carries (m4sc:task, m4sc:scheme,
m4sc:data_symbols, m4sc:airtime_us, m4sc:words). --bandwidth is in complex data symbols
per word for text and in complex symbols per real pixel value for images (1/48, 1/24,
1/12); the codec takes its nearest setting and says which.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSend(cmd, a, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.task, "task", "", "task: "+taskList())
	fl.StringVar(&f.text, "text", "", "the sentence (text tasks)")
	fl.StringVar(&f.image, "image", "", "an image file, PNG or JPEG (image tasks)")
	fl.Uint64Var(&f.scene, "scene", 0, "a generated scene by seed (image tasks)")
	fl.IntVar(&f.digit, "digit", 0, "a test digit by index (image tasks)")
	fl.StringVar(&f.bandwidth, "bandwidth", "", "symbols per word (text) or per real pixel value (images, such as 1/12); default by task")
	fl.Float64Var(&f.snrHint, "snr-hint", 15, "SNR in dB the transmitter expects at the receiver (the codec adapts to it)")
	fl.StringVar(&f.out, "out", "", "recording to write (SigMF)")
	fl.StringVar(&f.device, "device", "", "device to transmit on")
	fl.StringVar(&f.weights, "weights", "", "language model weights (default: the shipped model)")
	fl.StringVar(&f.codec, "codec", "", "channel codec weights (default: the shipped codec)")
	addSchemeFlags(cmd, &f.askFlags, "")
	addForceFlag(cmd, &f.force)
	return cmd
}

// sendInput reads the input flags of send as ask does.
func sendInput(cmd *cobra.Command, a *app, f *sendFlags) (llm.Input, error) {
	task, err := llm.ParseTask(f.task)
	if err != nil {
		return llm.Input{}, usageErrorf("--task %q: one of %s", f.task, taskList())
	}
	in := llm.Input{Task: task}
	var sources []string
	for _, name := range []string{"image", "scene", "digit"} {
		if cmd.Flags().Changed(name) {
			sources = append(sources, "--"+name)
		}
	}
	if !task.Image() {
		if len(sources) > 0 || f.text == "" {
			return in, usageErrorf("%s takes --text", task)
		}
		// The model's loader lower-cases it unless the model is cased (modelText).
		in.Text = dataset.NormalizeCased(f.text)
		if in.Text == "" {
			return in, usageErrorf("--text %q has no words", f.text)
		}
		return in, nil
	}
	if f.text != "" || len(sources) != 1 {
		return in, usageErrorf("%s takes one image: --image, --scene or --digit", task)
	}
	in.Image, _, err = askImage(a, &f.askFlags, sources[0])
	return in, err
}

func runSend(cmd *cobra.Command, a *app, f *sendFlags) error {
	if (f.out == "") == (f.device == "") {
		return usageErrorf("give exactly one of --out FILE and --device DEV")
	}
	o, err := schemeOptions(&f.askFlags)
	if err != nil {
		return err
	}
	if math.IsNaN(f.snrHint) || math.IsInf(f.snrHint, 0) || math.Abs(f.snrHint) > 100 {
		return usageErrorf("--snr-hint %v: want -100 to 100 dB", f.snrHint)
	}
	if f.out != "" {
		if err := checkOutput("--out", f.out, f.force); err != nil {
			return err
		}
	}
	in, err := sendInput(cmd, a, f)
	if err != nil {
		return err
	}
	ch, err := loadChain(f.weights, f.codec)
	if err != nil {
		return err
	}
	in, _ = modelText(ch.Model, in, "")
	tpw := 1.0
	if !in.Task.Image() {
		tokens := 0
		for _, p := range ch.Model.SplitText(in.Task, in.Text) {
			s, err := ch.Model.Encode(llm.Input{Task: in.Task, Text: p})
			if err != nil {
				return err
			}
			tokens += s.N
		}
		if words := len(strings.Fields(in.Text)); words > 0 {
			tpw = float64(tokens) / float64(words)
		}
	}
	k, err := parseBandwidth(f.bandwidth, in.Task, tpw)
	if err != nil {
		return err
	}
	if f.bandwidth != "" && in.Task.Image() {
		// The 80211a JPEG's budget is what was asked, not the codec's nearest setting.
		v, _ := parseRatio(f.bandwidth)
		o.SymbolBudget = max(1, int(math.Round(v*llm.ImageSize*llm.ImageSize*llm.ImageChannels)))
	}
	o.Bandwidth, o.SNRHint = k, f.snrHint
	b, err := ch.Send(in, o)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	desc := burstDescription(b, tpw)
	if f.device != "" {
		if err := transmitBurst(cmd.Context(), a, f.device, b.Samples); err != nil {
			return err
		}
		fmt.Fprintf(out, "sent %s on %s\n", desc, f.device)
		return nil
	}
	w, err := sigmf.Create(f.out, sigmf.WriteOptions{Datatype: sigmf.CF32LE, SampleRate: phy.SampleRate, Datetime: time.Now().UTC(),
		Recorder: "m4sc send", Description: "m4sc " + desc, Exclusive: !f.force})
	if err != nil {
		return outputError("--out", f.out, err)
	}
	defer w.Abort()
	if _, err := w.Write(b.Samples); err != nil {
		return err
	}
	extra := map[string]any{"m4sc:task": b.Task.String(), "m4sc:scheme": string(b.Scheme),
		"m4sc:data_symbols": b.DataSymbols, "m4sc:airtime_us": math.Round(b.AirtimeUS*10) / 10, "m4sc:frames": b.Frames, "m4sc:messages": b.Messages}
	if b.Bandwidth > 0 {
		extra["m4sc:bandwidth"] = b.Bandwidth
	}
	if b.RateMbps > 0 {
		extra["m4sc:rate_mbps"] = b.RateMbps
	}
	if b.Format != "" {
		extra["m4sc:format"] = b.Format
		extra["m4sc:source_octets"] = b.SourceOctets
	}
	if !b.Task.Image() {
		extra["m4sc:words"] = b.Words
	}
	if err := w.Annotate(sigmf.Annotation{SampleStart: 0, SampleCount: int64(len(b.Samples)), Label: "m4sc " + string(b.Scheme), Comment: desc, Extra: extra}); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s to %s\n", desc, f.out)
	return nil
}

// burstDescription says what a burst carries, with the bandwidth in the user's units.
func burstDescription(b *semantic.Burst, tokensPerWord float64) string {
	var bw string
	switch {
	case b.Scheme == semantic.SchemeDigital:
		bw = fmt.Sprintf("quantised semantics at %d Mbit/s", b.RateMbps)
	case b.Scheme == semantic.SchemeWiFi:
		bw = fmt.Sprintf("%s, %d octets at %d Mbit/s", b.Format, b.SourceOctets, b.RateMbps)
		if b.Note != "" {
			bw += " (" + b.Note + ")"
		}
	case b.Task.Image():
		bw = fmt.Sprintf("%d symbols per vector (1/%.0f symbol per real pixel value)", b.Bandwidth, float64(llm.ImageSize*llm.ImageSize*llm.ImageChannels)/float64(llm.ImageSlots*b.Bandwidth))
	default:
		bw = fmt.Sprintf("%d symbols per token (%.1f per word)", b.Bandwidth, float64(b.Bandwidth)*tokensPerWord)
	}
	return fmt.Sprintf("%s, %s scheme, %s: %d messages, %d frames, %d complex data symbols, %.0f us of air",
		b.Task, b.Scheme, bw, b.Messages, b.Frames, b.DataSymbols, b.AirtimeUS)
}

// transmitBurst sends samples on the device spec names.
func transmitBurst(ctx context.Context, a *app, spec string, x []complex64) error {
	_, ds, err := openDevices(ctx, a, spec)
	if err != nil {
		return err
	}
	d := ds[0]
	defer d.Close()
	if c := d.Config(); c.SampleRate != phy.SampleRate {
		return fmt.Errorf("send: %s runs at %g samples/s; m4sc frames need %g", spec, c.SampleRate, phy.SampleRate)
	}
	ts, err := d.StartTX(ctx)
	if err != nil {
		return err
	}
	if _, err := ts.Write(x); err != nil {
		ts.Close()
		return err
	}
	return ts.Close()
}

type receiveFlags struct {
	in, device, question, out, weights, codec string
	serve                                     string
	seconds                                   float64
	beam                                      int
	force                                     bool
}

func newReceiveCmd(a *app) *cobra.Command {
	var f receiveFlags
	cmd := &cobra.Command{
		Use:   "receive (--in X.sigmf-meta | --device DEV) [--question Q] [--out F.png]",
		Short: "Find m4sc frames in samples, decode their semantics and run each message's task",
		Long: `receive is the receiver: the PHY finds frames in the samples alone, the channel codec
(or the digital chain) turns their payload back into semantic vectors, and the language
model runs the task the header names. It prints one JSON line per message (task,
scheme, frames and frames lost, SNR, CFO, the output) and the output alone on the last
line. A message whose frames did not all arrive is decoded from what did and says so.
--question is the receiver's question for image.vqa messages; --out takes the image of
an image.reconstruct message.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReceive(cmd, a, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.in, "in", "", "recording to decode (SigMF)")
	fl.StringVar(&f.device, "device", "", "device to receive from")
	fl.Float64Var(&f.seconds, "seconds", 1, "with --device: seconds of samples to receive")
	addServeFlag(cmd, &f.serve)
	fl.StringVar(&f.question, "question", "", "the question of image.vqa messages")
	fl.StringVar(&f.out, "out", "", "PNG to write an image.reconstruct message's image to")
	fl.IntVar(&f.beam, "beam", 0, fmt.Sprintf("beam width of text decoding, 0 to %d", llm.MaxBeam))
	fl.StringVar(&f.weights, "weights", "", "language model weights (default: the shipped model)")
	fl.StringVar(&f.codec, "codec", "", "channel codec weights (default: the shipped codec)")
	addForceFlag(cmd, &f.force)
	return cmd
}

func runReceive(cmd *cobra.Command, a *app, f *receiveFlags) error {
	if (f.in == "") == (f.device == "") {
		return usageErrorf("give exactly one of --in FILE and --device DEV")
	}
	if f.beam < 0 || f.beam > llm.MaxBeam {
		return usageErrorf("--beam %d: want 0 to %d", f.beam, llm.MaxBeam)
	}
	if f.out != "" {
		if err := checkOutput("--out", f.out, f.force); err != nil {
			return err
		}
	}
	spec := f.device
	var limit int64 = -1
	if f.in != "" {
		spec = "file:" + f.in
	} else {
		if err := checkSeconds(f.seconds, maxPhyRxSeconds); err != nil {
			return err
		}
		limit = int64(math.Round(f.seconds * phy.SampleRate))
	}
	ch, err := loadChain(f.weights, f.codec)
	if err != nil {
		return err
	}
	_, ds, err := openDevices(cmd.Context(), a, spec)
	if err != nil {
		return err
	}
	d := ds[0]
	defer d.Close()
	if c := d.Config(); c.SampleRate != phy.SampleRate {
		return fmt.Errorf("receive: %s runs at %g samples/s; m4sc frames need %g", spec, c.SampleRate, phy.SampleRate)
	}
	var watch func([]complex64)
	var mon *monitor.Monitor
	if f.serve != "" {
		if f.device == "" {
			return usageErrorf("--serve watches a --device")
		}
		m, stop, err := startMonitor(cmd, f.serve, "receive "+spec)
		if err != nil {
			return err
		}
		defer stop()
		mon, watch = m, m.Samples
	}
	frames, err := receiveFrames(cmd.Context(), d, limit, watch)
	if err != nil {
		return err
	}
	msgs, err := ch.Receive(frames, semantic.ReceiveOptions{Question: dataset.Normalize(f.question), Beam: f.beam})
	if err != nil {
		return err
	}
	if mon != nil {
		mon.Frames(frames)
		for _, m := range msgs {
			mon.Message(monitor.Message{Item: m.Message, Task: m.Task, Scheme: string(m.Scheme), Received: m.Text, Frames: m.Frames, Lost: m.Lost, Partial: m.Partial, Image: m.Image})
		}
	}
	return printReceived(cmd.OutOrStdout(), msgs, frames, f.out, f.force)
}

// receiveFrames runs phy's receiver over a device's samples (to the end of a
// recording, or limit samples), showing each buffer to watch (when not nil).
func receiveFrames(ctx context.Context, d radio.Device, limit int64, watch func([]complex64)) ([]phy.Frame, error) {
	rcv, err := phy.NewReceiver(phy.ReceiverConfig{})
	if err != nil {
		return nil, err
	}
	rs, err := d.StartRX(ctx)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var frames []phy.Frame
	var samples int64
	buf := make([]complex64, 1<<16)
	for limit < 0 || samples < limit {
		want := int64(len(buf))
		if limit >= 0 {
			want = min(want, limit-samples)
		}
		n, _, err := rs.Read(buf[:want])
		samples += int64(n)
		if watch != nil {
			watch(buf[:n])
		}
		frames = rcv.Receive(frames, buf[:n])
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return rcv.Flush(frames), nil
}

// printReceived writes one JSON line per message and the last output alone on the
// last line (an image goes to out).
func printReceived(w io.Writer, msgs []semantic.Received, frames []phy.Frame, out string, force bool) error {
	enc := json.NewEncoder(w)
	failed := 0
	for _, f := range frames {
		if f.Err != nil {
			failed++
		}
	}
	if len(msgs) == 0 {
		return fmt.Errorf("receive: no m4sc message found (%d frames detected, %d of them failed in the PHY)", len(frames), failed)
	}
	var texts []string
	var image []float32
	for _, m := range msgs {
		line := struct {
			semantic.Received
			Output string `json:"output"`
		}{Received: m, Output: m.Text}
		line.SNR, line.CFO = round2(m.SNR), math.Round(m.CFO)
		if m.Image != nil {
			line.Output = out
			image = m.Image
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
		if m.Text != "" {
			texts = append(texts, strings.TrimSpace(m.Text))
		}
	}
	if image != nil {
		if out == "" {
			return errors.New("receive: an image.reconstruct message arrived; give --out FILE.png for its image")
		}
		if err := writePNG("--out", out, semantic.PixelImage(image), force); err != nil {
			return err
		}
		_, err := fmt.Fprintln(w, out)
		return err
	}
	_, err := fmt.Fprintln(w, strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(strings.Join(texts, " ")))
	return err
}

// askOverChannel is ask --channel: the input goes through the whole chain in one
// process, transmitted on a loopback device and received on the --channel device of
// the same simulated air, with the default bandwidth of its task.
func askOverChannel(cmd *cobra.Command, a *app, f *askFlags, in llm.Input, describe string) error {
	ch, err := loadChain(f.weights, f.codec)
	if err != nil {
		return err
	}
	in, describe = modelText(ch.Model, in, describe)
	o, err := schemeOptions(f)
	if err != nil {
		return err
	}
	o.SNRHint = 15
	b, err := ch.Send(in, o)
	if err != nil {
		return err
	}
	_, ds, err := openDevices(cmd.Context(), a, "loopback", f.channel)
	if err != nil {
		return err
	}
	tx, rx := ds[0], ds[1]
	defer tx.Close()
	defer rx.Close()
	for _, d := range ds {
		if c := d.Config(); c.SampleRate != phy.SampleRate {
			return fmt.Errorf("ask --channel: a device runs at %g samples/s; m4sc frames need %g", c.SampleRate, phy.SampleRate)
		}
	}
	// Room for the loopback's random start (up to a millisecond) on either side.
	got, err := burst.Capture(cmd.Context(), tx, rx, burst.Samples(b.Samples), len(b.Samples)+2*int(phy.SampleRate/1000), burst.Config{})
	if err != nil {
		return err
	}
	rcv, err := phy.NewReceiver(phy.ReceiverConfig{})
	if err != nil {
		return err
	}
	frames := rcv.Flush(rcv.Receive(nil, got.Samples))
	q := ""
	if in.Task.NeedsQuestion() {
		q = dataset.Normalize(f.question)
	}
	msgs, err := ch.Receive(frames, semantic.ReceiveOptions{Question: q, Beam: f.beam})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintln(out, describe)
	fmt.Fprintf(out, "sent %s through %s\n", burstDescription(b, 1), f.channel)
	return printReceived(out, msgs, frames, f.out, f.force)
}
