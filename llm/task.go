package llm

import (
	"fmt"
	"strings"
)

// Task is one of the model's tasks. Every task is described to the model by the same
// instruction template (see Template).
type Task uint8

// The tasks. Text tasks take a sentence at the transmitter; image tasks take one
// ImageSize x ImageSize RGB image.
const (
	// TextTransmit reproduces the sentence (BLEU-1..4, exact match).
	TextTransmit Task = iota
	// TextEra names the quarter-century of the address the sentence came from
	// (dataset.Era, dataset.EraName).
	TextEra
	// ImageCaption describes a scene ("a large red circle left of a small blue square").
	ImageCaption
	// ImageVQA answers a question about the image with one word; the question is part
	// of the receiver's instruction, not of the transmitted semantics.
	ImageVQA
	// ImageClassify names the digit in the image ("0" to "9").
	ImageClassify
	// ImageReconstruct returns the image itself, from the image decoder head.
	ImageReconstruct
	numTasks
)

var taskNames = [numTasks]string{"text.transmit", "text.era", "image.caption", "image.vqa", "image.classify", "image.reconstruct"}

// taskWords are what the template's <task> field holds: the name without its modality.
var taskWords = [numTasks]string{"transmit", "era", "caption", "vqa", "classify", "reconstruct"}

// Tasks returns every task in order.
func Tasks() []Task {
	t := make([]Task, numTasks)
	for i := range t {
		t[i] = Task(i)
	}
	return t
}

// String returns the task's name, for example "image.vqa".
func (t Task) String() string {
	if t < numTasks {
		return taskNames[t]
	}
	return fmt.Sprintf("task(%d)", uint8(t))
}

// ParseTask accepts a task's name ("image.vqa").
func ParseTask(s string) (Task, error) {
	for i, n := range taskNames {
		if s == n {
			return Task(i), nil
		}
	}
	return 0, fmt.Errorf("llm: unknown task %q (tasks: %s)", s, strings.Join(taskNames[:], ", "))
}

// Image reports whether the task's input is an image.
func (t Task) Image() bool { return t >= ImageCaption && t < numTasks }

// TextOutput reports whether the task answers with text (all but ImageReconstruct).
func (t Task) TextOutput() bool { return t != ImageReconstruct }

// NeedsQuestion reports whether the instruction carries a question (ImageVQA).
func (t Task) NeedsQuestion() bool { return t == ImageVQA }

// Template renders the instruction template for a task as text, with n semantic slots
// written as "<sem>"; it documents the layout the model sees and is what
// `m4sc ask --explain` prints:
//
//	<bos><task>caption</task><image><sem>...<sem></image><response>
//
// A text input is framed by <text> and </text> instead of <image> and </image>; a
// question (image.vqa) comes before the modality block as <text>question</text>, so
// that the causal decoder's image slots can attend to it. Image slots carry cell
// embeddings. A text response ends with <eos>; image.reconstruct's response is 16
// cell queries, written "<cell>", whose hidden states the image decoder head reads.
// This is layout PromptLayout; Model.Template gives a model's own.
func Template(t Task, n int, question string) string { return template(PromptLayout, t, n, question) }

// Template renders the instruction template in the model's layout (Config.Layout): in
// layout 0 the question follows the image and image.reconstruct has no cell queries.
func (m *Model) Template(t Task, n int, question string) string {
	return template(m.cfg.Layout, t, n, question)
}

func template(layout int, t Task, n int, question string) string {
	var b strings.Builder
	b.WriteString("<bos><task>")
	b.WriteString(taskWords[t%numTasks])
	b.WriteString("</task>")
	open, close := "<text>", "</text>"
	if t.Image() {
		open, close = "<image>", "</image>"
	}
	q := ""
	if t.NeedsQuestion() {
		q = "<text>" + question + "</text>"
	}
	if layout >= 1 {
		b.WriteString(q)
	}
	b.WriteString(open)
	b.WriteString(strings.Repeat("<sem>", n))
	b.WriteString(close)
	if layout == 0 {
		b.WriteString(q)
	}
	b.WriteString("<response>")
	if layout >= 1 && t == ImageReconstruct {
		b.WriteString(strings.Repeat("<cell>", ImageSlots))
	}
	return b.String()
}
