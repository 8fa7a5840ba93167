package llm

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/m4sc/m4sc/dataset"
)

// Data holds the corpora the training stages and the evaluation draw from. Scenes are
// generated on demand from seeds and need no storage.
type Data struct {
	// Sentences of the State of the Union addresses by split (dataset.Train,
	// dataset.Validation, dataset.Test).
	Sentences [3][]dataset.Sentence
	// Digits are the fixed 8,000/2,000 split of the mnist package: [0] train, [1] test.
	Digits [2][]dataset.Digit
	// Images, when not empty, replace the generated scenes as image.reconstruct's
	// training images (a user's folder, see UseImages).
	Images [][]float32
	// cased is set when text examples carry each sentence as written
	// (dataset.Sentence.Cased) rather than lower-cased; see WithCase.
	cased bool
	// augment, when set, perturbs training-split scene and digit images (WithAugment).
	augment *dataset.Perturbation
	// noEras is set when the sentences carry no years (a user corpus): text.era
	// examples are then replaced by text.transmit ones.
	noEras bool
}

// UseCorpus replaces the State of the Union sentences with a user's corpus, one
// sentence a line (dataset.ReadCorpus): every tenth sentence is held out for
// validation, the rest are trained on. The sentences have no years, so the training
// stages do not teach text.era. It returns the number of sentences read.
func (d *Data) UseCorpus(path string) (int, error) {
	ss, _, err := dataset.ReadCorpusCased(path)
	if err != nil {
		return 0, err
	}
	d.Sentences = [3][]dataset.Sentence{}
	for i, s := range ss {
		sp := dataset.Train
		if i%10 == 9 {
			sp = dataset.Validation
		}
		d.Sentences[sp] = append(d.Sentences[sp], dataset.Sentence{Text: strings.ToLower(s), Cased: s, Year: -1, Era: -1, Split: sp})
	}
	if len(d.Sentences[dataset.Validation]) == 0 {
		d.Sentences[dataset.Validation] = d.Sentences[dataset.Train][:1]
	}
	d.noEras = true
	return len(ss), nil
}

// UseImages makes a user's folder of PNG and JPEG images (dataset.ReadImageFolder)
// image.reconstruct's training images. It returns the number of images read.
func (d *Data) UseImages(dir string) (int, error) {
	ims, err := dataset.ReadImageFolder(dir)
	if err != nil {
		return 0, err
	}
	d.Images = d.Images[:0]
	for _, im := range ims {
		img := make([]float32, ImagePixels)
		for i, p := range im.Pixels {
			img[i] = float32(p) / 255
		}
		d.Images = append(d.Images, img)
	}
	return len(ims), nil
}

// LoadData reads the State of the Union and the digits from the cache filled by
// `m4sc data fetch`.
func LoadData(cacheDir string) (*Data, error) {
	addrs, err := dataset.ReadSOTU(cacheDir)
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	d := &Data{}
	for _, s := range dataset.SOTUSentences(addrs) {
		if s.Split >= 0 && int(s.Split) < len(d.Sentences) {
			d.Sentences[s.Split] = append(d.Sentences[s.Split], s)
		}
	}
	digits, err := dataset.ReadMNIST(cacheDir)
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	d.Digits[0], d.Digits[1] = dataset.SplitDigits(digits)
	return d, nil
}

// WithCase returns d, or a shallow copy of it, whose text examples (language
// modelling, text.transmit, text.era) carry each sentence with its letters' case as
// written (dataset.Sentence.Cased) when cased is true, and lower-cased
// (dataset.Sentence.Text) when it is false, as LoadData's Data does. Train draws
// with the model's Config.Cased this way.
func (d *Data) WithCase(cased bool) *Data {
	if d.cased == cased {
		return d
	}
	c := *d
	c.cased = cased
	return &c
}

// NormalizeText applies to a user's text the normalisation the model's training
// text had: dataset.NormalizeCased when Config.Cased is set, else dataset.Normalize.
func (m *Model) NormalizeText(s string) string {
	if m.cfg.Cased {
		return dataset.NormalizeCased(s)
	}
	return dataset.Normalize(s)
}

// SceneImage converts a scene to the model's image layout: HWC float32 in [0, 1].
func SceneImage(s *dataset.Scene) []float32 {
	img := make([]float32, ImagePixels)
	for i, p := range s.Pixels {
		img[i] = float32(p) / 255
	}
	return img
}

// DigitImage places a 28x28 digit on the model's 32x32 canvas with its top-left
// corner at (2+dx, 2+dy), grey in all three channels. dx, dy in [-2, 2] shift it
// (training augmentation); 0, 0 centres it.
func DigitImage(d *dataset.Digit, dx, dy int) []float32 {
	img := make([]float32, ImagePixels)
	off := (ImageSize - dataset.DigitSize) / 2
	for y := range dataset.DigitSize {
		for x := range dataset.DigitSize {
			v := float32(d.Pixels[y*dataset.DigitSize+x]) / 255
			X, Y := x+off+dx, y+off+dy
			if X < 0 || Y < 0 || X >= ImageSize || Y >= ImageSize {
				continue
			}
			p := (Y*ImageSize + X) * ImageChannels
			img[p], img[p+1], img[p+2] = v, v, v
		}
	}
	return img
}

// DigitAnswer is image.classify's answer for a label: its decimal digit.
func DigitAnswer(label uint8) string { return string(rune('0' + label)) }

// Scene seed ranges. Training draws scene indices below sceneValBase of
// dataset.SceneTrain; validation uses indices from sceneValBase on; test scenes come
// from dataset.SceneTest, whose seeds never meet the training ones.
const sceneValBase = uint64(1) << 62

// SceneFor returns the scene of a split: index i of the test split, or a random
// training or validation scene.
func SceneFor(split dataset.Split, rng *rand.Rand, i uint64) dataset.Scene {
	switch split {
	case dataset.Test:
		return dataset.GenerateScene(dataset.SceneTest.Seed(i))
	case dataset.Validation:
		return dataset.GenerateScene(dataset.SceneTrain.Seed(sceneValBase + rng.Uint64()%sceneValBase))
	default:
		return dataset.GenerateScene(dataset.SceneTrain.Seed(rng.Uint64() % sceneValBase))
	}
}

// Sample draws one example of task t from a split. Test-split figures are computed by
// the evaluation from fixed indices instead; Sample is for training and validation.
// Digits have no validation split: validation digits are drawn from the training digits
// (the loss curve's digit part therefore tracks fit, not generalisation).
func (d *Data) Sample(t Task, split dataset.Split, rng *rand.Rand) (Example, error) {
	return d.sample(t, split, rng, nil)
}

// QuestionWeights weigh the question kinds of image.vqa examples, indexed by
// dataset.QuestionKind. A scene's question is drawn by first drawing a kind, with these
// weights over the kinds the scene has a question of, then one question of that kind.
// All zero means a scene's questions are drawn uniformly, so the kinds come in the
// proportions the generator asks them (counts about 38%, relations 17%).
type QuestionWeights [dataset.NumQuestionKinds]float64

// String gives the weights as kind=weight pairs ("count=0.35,relation=0.4"), and ""
// when all are zero.
func (qw QuestionWeights) String() string {
	var parts []string
	for k, w := range qw {
		if w != 0 {
			parts = append(parts, dataset.QuestionKind(k).String()+"="+strconv.FormatFloat(w, 'g', -1, 64))
		}
	}
	return strings.Join(parts, ",")
}

// sample is Sample with image.vqa's questions drawn by qw (nil: uniformly).
func (d *Data) sample(t Task, split dataset.Split, rng *rand.Rand, qw *QuestionWeights) (Example, error) {
	sentences := d.Sentences[split]
	switch t {
	case taskLM, TextTransmit, TextEra:
		if len(sentences) == 0 {
			return Example{}, fmt.Errorf("llm: no %s sentences loaded", split)
		}
		s := sentences[rng.IntN(len(sentences))]
		text := s.TextCase(d.cased)
		switch t {
		case taskLM:
			return LMExample(text), nil
		case TextEra:
			if d.noEras {
				return Example{Task: TextTransmit, Text: text}, nil
			}
			return Example{Task: t, Text: text, Answer: dataset.EraName(s.Era)}, nil
		}
		return Example{Task: t, Text: text}, nil
	case ImageCaption, ImageVQA, ImageReconstruct:
		if t == ImageReconstruct && len(d.Images) > 0 {
			return Example{Task: t, Image: d.Images[rng.IntN(len(d.Images))]}, nil
		}
		sc := SceneFor(split, rng, 0)
		img, perturbed := d.sceneImage(&sc, split, rng)
		ex := Example{Task: t, Image: img, aux: sceneAux(sc.Objects)}
		switch t {
		case ImageReconstruct:
			if perturbed {
				ex.Target = SceneImage(&sc)
			}
		case ImageCaption:
			ex.Answer = sc.Caption
		case ImageVQA:
			qa := pickQuestion(sc.QA, qw, rng)
			ex.Question, ex.Answer = qa.Question, qa.Answer
			ex.roles = sceneRoles(sc.Objects, qa.Roles)
			ex.toward = qa.Toward
		}
		return ex, nil
	case ImageClassify:
		digits := d.Digits[0]
		if len(digits) == 0 {
			return Example{}, fmt.Errorf("llm: no digits loaded")
		}
		dg := &digits[rng.IntN(len(digits))]
		dx, dy := 0, 0
		if split == dataset.Train {
			dx, dy = rng.IntN(5)-2, rng.IntN(5)-2
		}
		return Example{Task: t, Image: d.digitImage(dg, dx, dy, split, rng), Answer: DigitAnswer(dg.Label), aux: digitAux(dg.Label)}, nil
	}
	return Example{}, fmt.Errorf("llm: cannot sample task %v", t)
}

// pickQuestion draws one of a scene's questions, by qw when it is set and not all zero.
func pickQuestion(qs []dataset.QA, qw *QuestionWeights, rng *rand.Rand) dataset.QA {
	var have [dataset.NumQuestionKinds]int
	var w QuestionWeights // qw over the kinds the scene asks
	var total float64
	for _, q := range qs {
		if have[q.Kind] == 0 && qw != nil {
			w[q.Kind] = qw[q.Kind]
			total += w[q.Kind]
		}
		have[q.Kind]++
	}
	if !(total > 0) {
		return qs[rng.IntN(len(qs))]
	}
	kind := dataset.QuestionKind(weightedIndex(rng.Float64()*total, w[:]))
	n := rng.IntN(have[kind])
	for _, q := range qs {
		if q.Kind == kind {
			if n == 0 {
				return q
			}
			n--
		}
	}
	return qs[0] // unreachable: have counts the questions of each kind
}

// sceneRoles places a question's object roles on the image cells their centres lie in.
func sceneRoles(objs []dataset.Object, roles [dataset.MaxObjects]dataset.Role) *[ImageSlots]int {
	var cells [ImageSlots]int
	for j, o := range objs {
		cells[CellOf(o.X, o.Y)] = int(roles[j])
	}
	return &cells
}
