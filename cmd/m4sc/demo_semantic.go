package main

import (
	"fmt"
	"io"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/llm/weights"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio/loopback"
	"github.com/m4sc/m4sc/semantic"
	"github.com/m4sc/m4sc/semantic/metrics"
	semweights "github.com/m4sc/m4sc/semantic/weights"
)

// demoSentence is text.transmit's example in the demo: a sentence of the kind the
// model was trained on, not taken from its training data, as a user writes it: the
// model lower-cases it unless it is cased (llm.Model.NormalizeText).
const demoSentence = "We will work with the Congress to build a stronger economy for every family"

// demoSemantics runs the embedded model once per task on a clean channel: what the
// semantic stack does before the channel joins it. It prints nothing when the build
// carries no trained model.
func demoSemantics(out io.Writer) error {
	if !weights.HasModel() {
		return nil
	}
	m, err := weights.Model()
	if err != nil {
		return err
	}
	sc := dataset.GenerateScene(dataset.SceneTest.Seed(0))
	img := llm.SceneImage(&sc)
	qa := sc.QA[0]
	fmt.Fprintf(out, "\nsemantic model (embedded, %d parameters, %s projector), clean channel:\n", m.NumParams(), m.Config().Projector)
	for _, c := range []struct {
		in   llm.Input
		ins  llm.Instruction
		show string
	}{
		{llm.Input{Task: llm.TextTransmit, Text: m.NormalizeText(demoSentence)}, llm.Instruction{Task: llm.TextTransmit}, fmt.Sprintf("%q", m.NormalizeText(demoSentence))},
		{llm.Input{Task: llm.ImageCaption, Image: img}, llm.Instruction{Task: llm.ImageCaption}, fmt.Sprintf("test scene 0 (truth %q)", sc.Caption)},
		{llm.Input{Task: llm.ImageVQA, Image: img}, llm.Instruction{Task: llm.ImageVQA, Question: qa.Question}, fmt.Sprintf("%q (truth %q)", qa.Question, qa.Answer)},
		{llm.Input{Task: llm.ImageReconstruct, Image: img}, llm.Instruction{Task: llm.ImageReconstruct}, "test scene 0"},
	} {
		s, err := m.Encode(c.in)
		if err != nil {
			return err
		}
		o, err := m.Decode(s, c.ins, llm.DecodeOptions{})
		if err != nil {
			return err
		}
		answer := fmt.Sprintf("%q", o.Text)
		if c.ins.Task == llm.ImageReconstruct {
			psnr, err := metrics.PSNR(img, o.Image, 1)
			if err != nil {
				return err
			}
			answer = fmt.Sprintf("PSNR %.1f dB", psnr)
		}
		fmt.Fprintf(out, "  %-17s %d vectors of %d: %s\n  %17s -> %s\n", c.ins.Task, s.N, s.Dim, c.show, "", answer)
	}
	return demoThroughRadio(out, m, sc, img)
}

// demoThroughRadio sends the demo sentence and the scene's caption task through the
// whole chain (shipped codec, 16 symbols per vector; the quantised semantics over the
// 802.11a DATA chain at 6 Mbit/s; and separate coding, brotli text or a PNG over
// 802.11a at the rate of about the semantic scheme's channel use) over a loopback
// channel at a few SNRs, and shows what each receiver got.
func demoThroughRadio(out io.Writer, m *llm.Model, sc dataset.Scene, img []float32) error {
	c, err := semweights.Codec()
	if err != nil {
		return nil // a build without a codec shows the clean channel only
	}
	ch, err := semantic.NewChain(m, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nthrough the radio (m4sc frames, loopback channel: AWGN and a 23 kHz carrier offset, frames found from samples):\n")
	for _, in := range []llm.Input{{Task: llm.TextTransmit, Text: m.NormalizeText(demoSentence)}, {Task: llm.ImageCaption, Image: img}} {
		var semSymbols int
		for _, scheme := range []semantic.Scheme{semantic.SchemeSemantic, semantic.SchemeDigital, semantic.SchemeWiFi} {
			o := semantic.SendOptions{Scheme: scheme, Bandwidth: 16, SNRHint: 10, Rate: phy.Rates()[0]}
			if scheme == semantic.SchemeWiFi {
				// Separate coding at about the semantic scheme's channel use: the
				// 802.11a rate whose burst has the nearest number of data symbols.
				if o.Rate, err = nearestRate(ch, in, semSymbols); err != nil {
					return err
				}
			}
			b, err := ch.Send(in, o)
			if err != nil {
				return err
			}
			if scheme == semantic.SchemeSemantic {
				semSymbols = b.DataSymbols
			}
			name := string(scheme)
			if scheme != semantic.SchemeSemantic {
				name = fmt.Sprintf("%s at %d Mbit/s", scheme, o.Rate.Mbps)
			}
			fmt.Fprintf(out, "  %s, %s: %d complex data symbols, %.0f us of air\n", in.Task, name, b.DataSymbols, b.AirtimeUS)
			for _, snr := range []float64{0, 5, 20} {
				got, err := ch.OverChannel(b, loopback.ChannelConfig{AWGN: true, SNR: snr, CarrierOffset: 23e3, Seed: uint64(snr) + 11}, semantic.ReceiveOptions{})
				if err != nil {
					return err
				}
				text := "(nothing received)"
				if len(got) > 0 && got[0].Lost < got[0].Frames {
					text = fmt.Sprintf("%q", got[0].Text)
				}
				fmt.Fprintf(out, "    %4.0f dB -> %s\n", snr, text)
			}
		}
	}
	return nil
}

// nearestRate is the 802.11a rate at which the 80211a scheme sends in with the number
// of complex data symbols nearest to symbols.
func nearestRate(ch *semantic.Chain, in llm.Input, symbols int) (phy.Rate, error) {
	var best phy.Rate
	bestGap := -1
	for _, r := range phy.Rates() {
		b, err := ch.Send(in, semantic.SendOptions{Scheme: semantic.SchemeWiFi, Rate: r})
		if err != nil {
			return phy.Rate{}, err
		}
		gap := b.DataSymbols - symbols
		if gap < 0 {
			gap = -gap
		}
		if bestGap < 0 || gap < bestGap {
			best, bestGap = r, gap
		}
	}
	return best, nil
}
