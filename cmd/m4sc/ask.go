package main

import (
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/semantic"
	"github.com/m4sc/m4sc/semantic/metrics"
)

// defaultReconstructOut is where image.reconstruct writes its image without --out.
const defaultReconstructOut = "reconstruct.png"

type askFlags struct {
	task, text, image, question, out, weights string
	channel, codec                            string
	scheme, imageFormat                       string // send, and ask with --channel
	rate                                      int
	scene                                     uint64
	digit, beam                               int
	explain, force                            bool
}

func newAskCmd(a *app) *cobra.Command {
	var f askFlags
	cmd := &cobra.Command{
		Use:   "ask --task TASK (--text TEXT | --image FILE | --scene SEED | --digit INDEX) [--question Q] [--out FILE.png] [--beam K] [--weights FILE] [--explain]",
		Short: "Run one input through the language model's encoder and decoder and print the answer",
		Long: `ask encodes one input into semantic vectors, as a transmitter would, and decodes
them under the task's instruction, as a receiver would, with no channel between.
The answer is the last line of the output; the lines before it describe the input
and the semantics (and, with --explain, the instruction template the decoder sees).

Text tasks (text.transmit, text.era) take --text, normalised as the training
sentences were: as written for a cased model (the shipped one, and m4sc train's
default), lower-cased for one trained with --cased=false. Image tasks take exactly one of --image (a PNG or JPEG file, scaled
to 32x32 RGB), --scene (the generated scene of that seed; see m4sc data scene) or
--digit (a test digit by index, from the data cache). image.vqa needs --question.
image.reconstruct writes the received image to --out (default ` + defaultReconstructOut + `) and
prints its path with the PSNR against the input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAsk(cmd, a, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.task, "task", "", "task: "+taskList())
	fl.StringVar(&f.text, "text", "", "sentence for the text tasks")
	fl.StringVar(&f.image, "image", "", "image file (PNG or JPEG) for the image tasks")
	fl.Uint64Var(&f.scene, "scene", 0, "seed of a generated scene for the image tasks")
	fl.IntVar(&f.digit, "digit", 0, "index of a test digit (0 to 1999) for the image tasks")
	fl.StringVar(&f.question, "question", "", "question for image.vqa")
	fl.StringVar(&f.out, "out", defaultReconstructOut, "PNG file for image.reconstruct's image")
	fl.IntVar(&f.beam, "beam", 0, fmt.Sprintf("beam width of text decoding, 0 to %d (0 or 1: greedy)", llm.MaxBeam))
	fl.StringVar(&f.weights, "weights", "", "weights file (default: the embedded model)")
	fl.BoolVar(&f.explain, "explain", false, "also print the instruction template the decoder sees")
	fl.StringVar(&f.channel, "channel", "", "send the semantics through the radio: the receiving device of a loopback air (loopback:hackrf,snr=5,...); the transmitter is a plain loopback device on the same air")
	fl.StringVar(&f.codec, "codec", "", "with --channel: channel codec weights (default: the shipped codec)")
	addSchemeFlags(cmd, &f, "with --channel: ")
	addForceFlag(cmd, &f.force)
	return cmd
}

func taskList() string {
	var names []string
	for _, t := range llm.Tasks() {
		names = append(names, t.String())
	}
	return strings.Join(names, ", ")
}

func runAsk(cmd *cobra.Command, a *app, f *askFlags) error {
	changed := cmd.Flags().Changed
	if f.task == "" {
		return usageErrorf("--task is required (tasks: %s)", taskList())
	}
	task, err := llm.ParseTask(f.task)
	if err != nil {
		return usageErrorf("--task %q is not a task (tasks: %s)", f.task, taskList())
	}
	if f.beam < 0 || f.beam > llm.MaxBeam {
		return usageErrorf("--beam %d: want 0 to %d (0 or 1: greedy; each beam keeps its own decoder cache)", f.beam, llm.MaxBeam)
	}
	if changed("question") && !task.NeedsQuestion() {
		return usageErrorf("--question is for image.vqa, not %s", task)
	}
	if changed("out") && task != llm.ImageReconstruct {
		return usageErrorf("--out is for image.reconstruct, not %s", task)
	}
	if task == llm.ImageReconstruct && !strings.EqualFold(filepath.Ext(f.out), ".png") {
		return usageErrorf("--out %q: image.reconstruct writes PNG; name a .png file", f.out)
	}
	if task == llm.ImageReconstruct {
		if err := checkAskOut(f, changed("image")); err != nil {
			return err
		}
	}
	var sources []string
	for _, name := range []string{"image", "scene", "digit"} {
		if changed(name) {
			sources = append(sources, "--"+name)
		}
	}
	in := llm.Input{Task: task}
	var describe string
	if !task.Image() {
		if len(sources) > 0 {
			return usageErrorf("%s is for image tasks; %s takes --text", strings.Join(sources, " and "), task)
		}
		if !changed("text") {
			return usageErrorf("%s needs --text", task)
		}
		// Case goes once the model is known (modelText): only a cased model keeps it.
		in.Text = dataset.NormalizeCased(f.text)
		if in.Text == "" {
			return usageErrorf("--text %q has no words", f.text)
		}
	} else {
		if changed("text") {
			return usageErrorf("--text is for text tasks; %s takes --image, --scene or --digit", task)
		}
		if len(sources) != 1 {
			if len(sources) == 0 {
				return usageErrorf("%s needs one of --image, --scene or --digit", task)
			}
			return usageErrorf("%s takes one image; %s were all given", task, strings.Join(sources, " and "))
		}
		if task.NeedsQuestion() && strings.TrimSpace(f.question) == "" {
			return usageErrorf("%s needs --question", task)
		}
		in.Image, describe, err = askImage(a, f, sources[0])
		if err != nil {
			return err
		}
	}

	if f.channel != "" {
		return askOverChannel(cmd, a, f, in, describe)
	}
	for _, name := range []string{"scheme", "rate", "image-format"} {
		if changed(name) {
			return usageErrorf("--%s is for ask --channel", name)
		}
	}
	m, err := loadModel(f.weights)
	if err != nil {
		return err
	}
	in, describe = modelText(m, in, describe)
	sem, err := m.Encode(in)
	if err != nil {
		return err
	}
	ins := llm.Instruction{Task: task}
	if task.NeedsQuestion() {
		ins.Question = dataset.Normalize(f.question)
	}
	out := cmd.OutOrStdout()
	fmt.Fprintln(out, describe)
	fmt.Fprintf(out, "semantics: %d vectors of %d reals\n", sem.N, sem.Dim)
	if f.explain {
		fmt.Fprintf(out, "template: %s\n", m.Template(task, sem.N, ins.Question))
	}
	res, err := m.Decode(sem, ins, llm.DecodeOptions{Beam: f.beam})
	if err != nil {
		return err
	}
	if task != llm.ImageReconstruct {
		// The answer must stay on the last line, whatever bytes the model emits.
		_, err = fmt.Fprintln(out, strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(res.Text))
		return err
	}
	psnr, err := metrics.PSNR(in.Image, res.Image, 1)
	if err != nil {
		return err
	}
	if err := writePNG("--out", f.out, semantic.PixelImage(res.Image), f.force); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s (PSNR %.1f dB)\n", f.out, psnr)
	return err
}

// askImage reads the image that source (--image, --scene or --digit) names, as
// the model's HWC values in [0, 1], and describes it.
func askImage(a *app, f *askFlags, source string) ([]float32, string, error) {
	switch source {
	case "--image":
		im, err := dataset.ReadImage(f.image)
		if err != nil {
			return nil, "", err
		}
		return bytesToFloat(im.Pixels), fmt.Sprintf("input: image %s, scaled to %dx%d RGB", f.image, llm.ImageSize, llm.ImageSize), nil
	case "--scene":
		sc := dataset.GenerateScene(f.scene)
		return llm.SceneImage(&sc), fmt.Sprintf("input: scene %d (%s split)", f.scene, dataset.SceneSplitOf(f.scene)), nil
	}
	dir, err := a.Config().CacheDir()
	if err != nil {
		return nil, "", err
	}
	all, err := dataset.ReadMNIST(dir)
	if err != nil {
		return nil, "", fmt.Errorf("--digit needs the digits: %w (run m4sc data fetch first)", err)
	}
	_, test := dataset.SplitDigits(all)
	if f.digit < 0 || f.digit >= len(test) {
		return nil, "", usageErrorf("--digit %d: the test split has digits 0 to %d", f.digit, len(test)-1)
	}
	dg := &test[f.digit]
	return llm.DigitImage(dg, 0, 0), fmt.Sprintf("input: test digit %d (labelled %d)", f.digit, dg.Label), nil
}

func bytesToFloat(px []uint8) []float32 {
	out := make([]float32, len(px))
	for i, p := range px {
		out[i] = float32(p) / 255
	}
	return out
}

// checkAskOut refuses, before the model runs, an --out that exists (unless
// --force), saying so when it is the --image input itself.
func checkAskOut(f *askFlags, image bool) error {
	if image && !f.force {
		a, errA := os.Stat(f.out)
		b, errB := os.Stat(f.image)
		if errA == nil && errB == nil && os.SameFile(a, b) {
			return fmt.Errorf("--out %s is the --image input; add --force to replace it", f.out)
		}
	}
	return checkOutput("--out", f.out, f.force)
}

// writePNG encodes img into path (given by flag), replacing a file there only
// with force (see writeOutput).
func writePNG(flag, path string, img image.Image, force bool) error {
	return writeOutput(flag, path, force, func(w io.Writer) error { return png.Encode(w, img) })
}

// modelText gives a text input the normalisation of m's training text
// (llm.Model.NormalizeText: lower-cased unless m is cased) and describes it; an image
// input and its description pass unchanged.
func modelText(m *llm.Model, in llm.Input, describe string) (llm.Input, string) {
	if in.Task.Image() {
		return in, describe
	}
	in.Text = m.NormalizeText(in.Text)
	return in, fmt.Sprintf("input: text %q", in.Text)
}
