package main

import (
	"fmt"
	"io"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/llm/weights"
	"github.com/m4sc/m4sc/semantic/metrics"
)

// demoSentence is text.transmit's example in the demo: a sentence of the kind the
// model was trained on, not taken from its training data.
const demoSentence = "we will work with the congress to build a stronger economy for every family"

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
		{llm.Input{Task: llm.TextTransmit, Text: demoSentence}, llm.Instruction{Task: llm.TextTransmit}, fmt.Sprintf("%q", demoSentence)},
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
	return nil
}
