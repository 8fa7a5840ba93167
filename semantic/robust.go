package semantic

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
)

// RobustCondition is one way of drawing the held-out images for EvaluateRobust.
type RobustCondition struct {
	Name string `json:"name"`
	// Perturbation draws the test scenes (dataset.RenderScene) and, with its
	// pixel-level part, the test digits (dataset.Perturbation.Apply).
	Perturbation dataset.Perturbation `json:"perturbation"`
	// OtherRenderer draws the test scenes with dataset.DrawSceneVector instead of the
	// generator's renderer (Perturbation is then unused).
	OtherRenderer bool `json:"other_renderer,omitempty"`
}

// digits reports whether the condition changes the digits: the clean condition and
// those with a pixel-level part do; geometry and colour jitter need objects, which
// digits have not.
func (c RobustCondition) digits() bool {
	if c.OtherRenderer {
		return false
	}
	p := c.Perturbation
	px := dataset.Perturbation{Background: p.Background, Gradient: p.Gradient, Noise: p.Noise, Blur: p.Blur, JPEGQuality: p.JPEGQuality}
	return p.IsZero() || !px.IsZero()
}

// RobustConditions returns the robustness evaluation's conditions, each strength of
// dataset.RealisticPerturbation used at its maximum (Fixed): clean; the background
// (a level of 8% of full scale with a ramp of 4% across the image, so 6% to 10%);
// colour jitter of +-30 per channel; Gaussian noise of sigma 2% of full scale; blur of
// sigma 0.6 pixel; JPEG at quality 50; scale +-10%; 4x4 anti-aliasing; all of these
// together; and the generator's objects drawn by another renderer
// (dataset.DrawSceneVector).
func RobustConditions() []RobustCondition {
	r := dataset.RealisticPerturbation()
	r.Fixed = true
	one := func(name string, p dataset.Perturbation) RobustCondition {
		p.Fixed = true
		return RobustCondition{Name: name, Perturbation: p}
	}
	return []RobustCondition{
		{Name: "clean"},
		one("background", dataset.Perturbation{Background: r.Background, Gradient: r.Gradient}),
		one("jitter", dataset.Perturbation{Jitter: r.Jitter}),
		one("noise", dataset.Perturbation{Noise: r.Noise}),
		one("blur", dataset.Perturbation{Blur: r.Blur}),
		one("jpeg", dataset.Perturbation{JPEGQuality: r.JPEGQuality}),
		one("scale", dataset.Perturbation{Scale: r.Scale}),
		one("antialias", dataset.Perturbation{Antialias: r.Antialias}),
		{Name: "all", Perturbation: r},
		{Name: "other renderer", OtherRenderer: true},
	}
}

// Describe says in words what the condition does to the images.
func (c RobustCondition) Describe() string {
	if c.OtherRenderer {
		return "the scenes' objects drawn by golang.org/x/image/vector (anti-aliased outlines) on black, digits not scored"
	}
	p := c.Perturbation
	if p.IsZero() {
		return "the generator's images"
	}
	var parts []string
	at := "up to "
	if p.Fixed {
		at = ""
	}
	if p.Background > 0 || p.Gradient > 0 {
		parts = append(parts, fmt.Sprintf("background grey %s%g%% of full scale with a ramp of %s%g%% across the image", at, 100*p.Background, at, 100*p.Gradient))
	}
	if p.Jitter > 0 {
		parts = append(parts, fmt.Sprintf("object colours %s+-%g per channel (kept within their name)", at, p.Jitter))
	}
	if p.Noise > 0 {
		parts = append(parts, fmt.Sprintf("Gaussian noise of sigma %s%g%% of full scale", at, 100*p.Noise))
	}
	if p.Blur > 0 {
		parts = append(parts, fmt.Sprintf("3x3 Gaussian blur of sigma %s%g pixel", at, p.Blur))
	}
	if p.JPEGQuality > 0 {
		q := fmt.Sprintf("quality %d", p.JPEGQuality)
		if !p.Fixed {
			q = fmt.Sprintf("quality %d to 100", p.JPEGQuality)
		}
		parts = append(parts, "JPEG at "+q)
	}
	if p.Scale > 0 {
		parts = append(parts, fmt.Sprintf("object sizes %s+-%g%%", at, 100*p.Scale))
	}
	if p.Antialias > 1 {
		parts = append(parts, fmt.Sprintf("edges anti-aliased (%dx%d samples a pixel)", p.Antialias, p.Antialias))
	}
	return strings.Join(parts, "; ")
}

// RobustOptions choose what EvaluateRobust scores.
type RobustOptions struct {
	// Scenes is the number of test scenes (dataset.SceneTest indices 0 to Scenes-1)
	// per condition; 0 means DefaultEvalScenes.
	Scenes int
	// Digits is the number of test digits per condition, the first of the test
	// split; 0 means all of them.
	Digits int
	// Conditions are scored in order; nil means RobustConditions().
	Conditions []RobustCondition
	// Seed seeds the perturbations: image i of a condition is drawn from a seed made
	// of Seed, the condition's name and i, so a scene's caption and its questions
	// see the same image. The same seed gives the same report.
	Seed uint64
	// Workers and Progress are as in EvalOptions.
	Workers  int
	Progress func(section string, done, total int)
}

// RobustQuestionsPerKind is how many image.vqa questions of each kind EvaluateRobust
// asks of a scene (the scene's first questions of that kind, by a rotation that the
// scene's index picks), so that the count questions, a third of a scene's, do not
// take most of the time; every condition asks the same questions.
const RobustQuestionsPerKind = 1

// RobustRow holds the figures of one condition.
type RobustRow struct {
	Condition    RobustCondition `json:"condition"`
	CaptionExact Rate            `json:"caption_exact_match"`
	CaptionBLEU4 float64         `json:"caption_corpus_bleu4"`
	VQA          Rate            `json:"vqa_accuracy"`
	VQAByKind    []KindRate      `json:"vqa_by_kind"` // in dataset.QuestionKind order
	// Classify is the digit accuracy, nil where the condition does not change
	// digits (see RobustCondition).
	Classify *Rate `json:"image_classify,omitempty"`
}

// RobustReport holds EvaluateRobust's figures, a row per condition.
type RobustReport struct {
	Params    int         `json:"params"`
	Projector string      `json:"projector"`
	Seed      uint64      `json:"seed"`
	Scenes    int         `json:"scenes"`
	Digits    int         `json:"digits"`
	Rows      []RobustRow `json:"conditions"`
}

// EvaluateRobust scores model m's image tasks on held-out images drawn under each of
// o.Conditions: image.caption (exact match, corpus BLEU-4) and image.vqa (accuracy,
// also by kind, RobustQuestionsPerKind questions of each kind a scene) on the test
// scenes, image.classify on the test digits, with clean semantics and greedy
// decoding. It stops soon after ctx is cancelled and returns an error wrapping
// ctx.Err().
func EvaluateRobust(ctx context.Context, m *llm.Model, d *llm.Data, o RobustOptions) (*RobustReport, error) {
	if m == nil || d == nil {
		return nil, errors.New("semantic: robust evaluation: nil model or data")
	}
	if o.Scenes < 0 || o.Digits < 0 || o.Workers < 0 {
		return nil, fmt.Errorf("semantic: robust evaluation: negative count (scenes %d, digits %d, workers %d)", o.Scenes, o.Digits, o.Workers)
	}
	digits := d.Digits[1]
	if len(digits) == 0 {
		return nil, errors.New("semantic: robust evaluation: the data hold no test digits")
	}
	if o.Conditions == nil {
		o.Conditions = RobustConditions()
	}
	eo := EvalOptions{Scenes: o.Scenes, Digits: o.Digits, Seed: o.Seed, Workers: o.Workers, Progress: o.Progress}
	digits = eo.defaults(digits)
	e := &evaluator{ctx: ctx, m: m, o: eo}
	r := &RobustReport{Params: m.NumParams(), Projector: string(m.Config().Projector), Seed: o.Seed, Scenes: eo.Scenes, Digits: len(digits)}
	scene := func(i int) dataset.Scene { return dataset.GenerateScene(dataset.SceneTest.Seed(uint64(i))) }
	for _, c := range o.Conditions {
		seed := func(i int) uint64 {
			h := fnv.New64a()
			fmt.Fprintf(h, "%d/%s/%d", o.Seed, c.Name, i)
			return h.Sum64()
		}
		image := func(i int, sc *dataset.Scene) []float32 {
			drawn := *sc
			if c.OtherRenderer {
				drawn.Pixels = dataset.DrawSceneVector(nil, sc.Objects)
			} else {
				drawn.Pixels = dataset.RenderScene(nil, sc.Objects, c.Perturbation, seed(i))
			}
			return llm.SceneImage(&drawn)
		}
		row := RobustRow{Condition: c}
		var err error
		suffix := " (" + c.Name + ")"
		if row.CaptionExact, row.CaptionBLEU4, err = e.caption(llm.ImageCaption.String()+suffix, eo.Scenes, scene, image); err != nil {
			return nil, err
		}
		if row.VQA, row.VQAByKind, err = e.vqa(llm.ImageVQA.String()+suffix, eo.Scenes, scene, image, robustQuestions); err != nil {
			return nil, err
		}
		if c.digits() {
			digit := func(i int, dg *dataset.Digit) []float32 {
				return llm.PerturbedDigitImage(dg, 0, 0, c.Perturbation, seed(i))
			}
			acc, err := e.classifyImages(llm.ImageClassify.String()+suffix, digits, digit)
			if err != nil {
				return nil, err
			}
			row.Classify = &acc
		}
		r.Rows = append(r.Rows, row)
	}
	return r, nil
}

// robustQuestions picks RobustQuestionsPerKind questions of each kind from scene
// i's, starting at a rotation i gives, so that over the scenes every position among
// a kind's questions is asked.
func robustQuestions(i int, qs []dataset.QA) []dataset.QA {
	var byKind [dataset.NumQuestionKinds][]dataset.QA
	for _, q := range qs {
		byKind[q.Kind] = append(byKind[q.Kind], q)
	}
	var out []dataset.QA
	for _, k := range byKind {
		for j := range min(RobustQuestionsPerKind, len(k)) {
			out = append(out, k[(i+j)%len(k)])
		}
	}
	return out
}

// Markdown returns the report as a Markdown table, a column per condition with the
// clean figures first, under a line saying how it was made and a list of the
// conditions, ready to include in MODEL.md.
func (r *RobustReport) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Robustness of a model of %s parameters (%s projector) to images not drawn by the scene generator: "+
		"%d held-out test scenes and %d test digits under each condition, clean semantics, greedy decoding, seed %d; "+
		"image.vqa asks %d question of each kind a scene. n is the count under each condition; 95%% intervals are in --json.\n\n",
		millions(r.Params), r.Projector, r.Scenes, r.Digits, r.Seed, RobustQuestionsPerKind)
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "- %s: %s\n", row.Condition.Name, row.Condition.Describe())
	}
	b.WriteString("\n| task | metric | n |")
	for _, row := range r.Rows {
		b.WriteString(" " + row.Condition.Name + " |")
	}
	b.WriteString("\n|---|---|---|" + strings.Repeat("---|", len(r.Rows)) + "\n")
	if len(r.Rows) == 0 {
		return b.String()
	}
	line := func(task, metric string, n int, cell func(RobustRow) string) {
		fmt.Fprintf(&b, "| %s | %s | %d |", task, metric, n)
		for _, row := range r.Rows {
			b.WriteString(" " + cell(row) + " |")
		}
		b.WriteString("\n")
	}
	first := r.Rows[0]
	caption, vqa := llm.ImageCaption.String(), llm.ImageVQA.String()
	line(caption, "exact match", first.CaptionExact.Total, func(x RobustRow) string { return pct(x.CaptionExact.Rate) })
	line(caption, "BLEU-4 (corpus)", first.CaptionExact.Total, func(x RobustRow) string { return fmt.Sprintf("%.3f", x.CaptionBLEU4) })
	line(vqa, "accuracy", first.VQA.Total, func(x RobustRow) string { return pct(x.VQA.Rate) })
	for k, kr := range first.VQAByKind {
		line(vqa, "accuracy: "+kr.Kind, kr.Total, func(x RobustRow) string {
			if k < len(x.VQAByKind) && x.VQAByKind[k].Kind == kr.Kind {
				return pct(x.VQAByKind[k].Rate.Rate)
			}
			return "–"
		})
	}
	n := 0
	for _, row := range r.Rows {
		if row.Classify != nil {
			n = row.Classify.Total
			break
		}
	}
	line(llm.ImageClassify.String(), "accuracy", n, func(x RobustRow) string {
		if x.Classify == nil {
			return "–"
		}
		return pct(x.Classify.Rate)
	})
	return b.String()
}
