package semantic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/semantic/metrics"
)

// Defaults of EvalOptions, referred to by its documentation.
const (
	// DefaultEvalScenes is the number of test scenes scored when EvalOptions.Scenes
	// is 0.
	DefaultEvalScenes = 1000
	// EvalChunk is the number of inputs encoded by one EncodeBatch call; progress is
	// reported and cancellation noticed at least once per chunk.
	EvalChunk = 64
)

// freshIndexBase is where the indices of fresh scenes (EvalOptions.Fresh) begin in
// dataset.SceneTest: 2^62 plus an offset below 2^61 drawn from the seed, so they are
// about 2^62 indices away from the fixed test scenes [0, Scenes) and a different seed
// gives different fresh scenes.
const freshIndexBase = uint64(1) << 62

// FreshSceneIndex returns the dataset.SceneTest index of the first fresh scene that
// Evaluate scores for seed; the fresh scenes are that index and the Scenes-1 after it.
func FreshSceneIndex(seed uint64) uint64 {
	// splitmix64 (Steele, Lea and Flood, OOPSLA 2014) spreads nearby seeds far apart.
	z := seed + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return freshIndexBase | z>>3
}

// EvalOptions choose what Evaluate scores and how. The zero value scores every test
// sentence, DefaultEvalScenes test scenes and every test digit, on clean semantics
// with greedy decoding.
type EvalOptions struct {
	// Sentences is the number of State of the Union sentences for perplexity and
	// text.transmit (test split) and for text.era (validation split, see EraResult),
	// taken evenly spaced over each split (in address order) so every year is
	// represented; 0 means the whole split.
	Sentences int
	// Scenes is the number of test scenes (dataset.SceneTest indices 0 to Scenes-1)
	// for image.caption, image.vqa and image.reconstruct; 0 means DefaultEvalScenes.
	Scenes int
	// Digits is the number of test digits for image.classify, the first of the
	// test split; 0 means all of them (2,000).
	Digits int
	// Beam is the beam width of text decoding; 0 or 1 decodes greedily.
	Beam int
	// Sigma is the standard deviation of the Gaussian noise added to every value
	// of the semantic vectors before decoding, each decode drawing its own noise.
	// The vectors have unit root-mean-square, so Sigma is the noise's amplitude
	// relative to the signal (an SNR of -20 log10(Sigma) dB per real). 0 is clean.
	Sigma float64
	// Seed seeds the noise, and picks the fresh scenes (FreshSceneIndex). The same
	// seed gives the same report.
	Seed uint64
	// Fresh also scores the scene tasks on Scenes fresh scenes: dataset.SceneTest
	// indices from FreshSceneIndex(Seed), which no evaluation at another seed and
	// no fixed test index meets. Figures close to the fixed scenes' show that
	// nothing was tuned to those.
	Fresh bool
	// Workers is the number of decodes run at once; 0 means runtime.GOMAXPROCS.
	// The report does not depend on it.
	Workers int
	// Progress, if not nil, is called after each chunk of inputs with the section's
	// name (a task, "perplexity", or a scene task followed by " (fresh)"), the
	// inputs done and the section's total. It is called from Evaluate's goroutine.
	Progress func(section string, done, total int)
}

// Rate is an accuracy with its 95% Wilson score interval (metrics.Accuracy).
type Rate struct {
	Correct int     `json:"correct"`
	Total   int     `json:"total"`
	Rate    float64 `json:"rate"`
	Low     float64 `json:"ci95_low"`
	High    float64 `json:"ci95_high"`
}

func rateOf(a metrics.Accuracy) Rate {
	lo, hi := a.WilsonInterval(metrics.Z95)
	return Rate{Correct: a.Correct, Total: a.Total, Rate: a.Rate(), Low: lo, High: hi}
}

// Perplexity is the language model's perplexity on the test sentences.
type Perplexity struct {
	Value     float64 `json:"value"` // exp of the mean cross-entropy per token, <eos> included
	Sentences int     `json:"sentences"`
	Tokens    int     `json:"tokens"`
}

// TransmitResult scores text.transmit: the received sentence against the sent one,
// both split by metrics.Words after dataset.Normalize, so case does not count; and
// CasedExactMatch, where it does. The model is sent each sentence as it reads text
// (llm.Model.NormalizeText): as written if it is cased, else lower-cased.
type TransmitResult struct {
	Sentences int `json:"sentences"`
	// BLEU holds corpus BLEU-1 to BLEU-4 (Papineni et al. 2002).
	BLEU [metrics.MaxOrder]float64 `json:"corpus_bleu"`
	// MeanBLEU4 is the mean of the sentence BLEU-4 scores, DeepSC's figure.
	MeanBLEU4  float64 `json:"mean_sentence_bleu4"`
	ExactMatch Rate    `json:"exact_match"`
	// CasedExactMatch compares the received sentence with the one written
	// (dataset.Sentence.Cased, dataset.NormalizeCased) by metrics.CasedWords: a
	// model trained lower-cased scores only the sentences without a capital.
	CasedExactMatch Rate `json:"cased_exact_match"`
}

// EraResult scores text.era on the validation split. The test split cannot: every
// test sentence (2001 to 2021) falls in the one era 2000-2024, which training never
// sees. The validation sentences come from the training years (1790 to 2000, all
// nine eras) but were never trained on, so they are the held-out set that measures
// the task. Majority is the accuracy of always answering the most frequent era.
type EraResult struct {
	Accuracy    Rate    `json:"accuracy"`
	Majority    float64 `json:"majority_rate"`
	MajorityEra string  `json:"majority_era"`
	Classes     int     `json:"classes"` // distinct eras among the sentences
}

// KindRate is the image.vqa accuracy on one kind of question.
type KindRate struct {
	Kind string `json:"kind"` // dataset.QuestionKind's name
	Rate
}

// ImageResult scores image.reconstruct with metrics.ImageStats.
type ImageResult struct {
	Images int `json:"images"`
	// PSNR is the mean per-image PSNR in dB (peak 1); +Inf when some image came
	// back exactly (Exact > 0), which JSON writes as null.
	PSNR  float64 `json:"psnr_db"`
	SSIM  float64 `json:"ssim"`
	Exact int     `json:"exact"`
}

// MarshalJSON writes PSNR as null when it is not finite, which JSON cannot hold.
func (r ImageResult) MarshalJSON() ([]byte, error) {
	type plain ImageResult
	out := struct {
		plain
		PSNR *float64 `json:"psnr_db"`
	}{plain: plain(r)}
	if !math.IsInf(r.PSNR, 0) && !math.IsNaN(r.PSNR) {
		out.PSNR = &r.PSNR
	}
	return json.Marshal(out)
}

// SceneResult scores the scene tasks on one set of scenes.
type SceneResult struct {
	// FirstIndex is the dataset.SceneTest index of the first scene; the scenes are
	// FirstIndex to FirstIndex+Scenes-1.
	FirstIndex   uint64      `json:"first_index"`
	Scenes       int         `json:"scenes"`
	CaptionExact Rate        `json:"caption_exact_match"`
	CaptionBLEU4 float64     `json:"caption_corpus_bleu4"`
	VQA          Rate        `json:"vqa_accuracy"`
	VQAByKind    []KindRate  `json:"vqa_by_kind"` // in dataset.QuestionKind order
	Reconstruct  ImageResult `json:"reconstruct"`
	// Readout is what the model's auxiliary heads read from the scenes' semantic
	// vectors (after the evaluation's noise), nil for a model without them.
	Readout *ReadoutResult `json:"semantic_readout,omitempty"`
}

// ReadoutResult scores llm.Model.ReadScene on the scenes: for each object, whether its
// centre's cell is read with the right shape, colour and size (whether or not the
// occupancy head fires there); for each scene, whether exactly its objects are read,
// centres included, none missing and none extra. It measures what the transmitted
// semantics carry, apart from the language model that decodes them.
type ReadoutResult struct {
	Objects    int  `json:"objects"`
	Shape      Rate `json:"shape"`
	Color      Rate `json:"color"`
	Size       Rate `json:"size"`
	SceneExact Rate `json:"scene_exact"`
}

// Report holds the figures of one evaluation.
type Report struct {
	Params    int     `json:"params"`
	Projector string  `json:"projector"`
	Sigma     float64 `json:"sigma"`
	Beam      int     `json:"beam"`
	Seed      uint64  `json:"seed"`

	Perplexity Perplexity     `json:"perplexity"`
	Transmit   TransmitResult `json:"text_transmit"`
	Era        EraResult      `json:"text_era"`
	Classify   Rate           `json:"image_classify"`
	Scenes     SceneResult    `json:"test_scenes"`
	// Fresh holds the scene tasks on fresh scenes (EvalOptions.Fresh), else nil.
	Fresh *SceneResult `json:"fresh_scenes,omitempty"`
}

// Evaluate scores model m on the held-out data of d, every task of llm.Tasks:
// perplexity on the State of the Union test sentences; text.transmit (corpus BLEU-1
// to BLEU-4, mean sentence BLEU-4, exact match) and text.era (accuracy against the
// majority-class rate) on those sentences; image.caption (exact match, corpus
// BLEU-4), image.vqa (accuracy over every question of each scene, also by kind) and
// image.reconstruct (PSNR, SSIM) on the test scenes, and on fresh scenes with
// o.Fresh; image.classify on the test digits. Answers are compared by
// metrics.ExactMatch. Inputs are encoded in chunks of EvalChunk and decoded by
// o.Workers goroutines; the noise of o.Sigma is drawn in input order from o.Seed, so
// the report is the same for any number of workers.
//
// It stops soon after ctx is cancelled and returns an error wrapping ctx.Err().
func Evaluate(ctx context.Context, m *llm.Model, d *llm.Data, o EvalOptions) (*Report, error) {
	if m == nil || d == nil {
		return nil, errors.New("semantic: evaluate: nil model or data")
	}
	switch {
	case o.Sentences < 0 || o.Scenes < 0 || o.Digits < 0:
		return nil, fmt.Errorf("semantic: evaluate: negative count (sentences %d, scenes %d, digits %d)", o.Sentences, o.Scenes, o.Digits)
	case o.Beam < 0:
		return nil, fmt.Errorf("semantic: evaluate: negative beam width %d", o.Beam)
	case !(o.Sigma >= 0) || math.IsInf(o.Sigma, 1):
		return nil, fmt.Errorf("semantic: evaluate: noise sigma %v is not a finite non-negative number", o.Sigma)
	case o.Workers < 0:
		return nil, fmt.Errorf("semantic: evaluate: negative worker count %d", o.Workers)
	}
	sentences := d.Sentences[dataset.Test]
	if len(sentences) == 0 {
		return nil, errors.New("semantic: evaluate: the data hold no test sentences")
	}
	digits := d.Digits[1]
	if len(digits) == 0 {
		return nil, errors.New("semantic: evaluate: the data hold no test digits")
	}
	eraSentences := d.Sentences[dataset.Validation]
	if len(eraSentences) == 0 {
		return nil, errors.New("semantic: evaluate: the data hold no validation sentences (text.era)")
	}
	sentences, eraSentences = evenly(sentences, o.Sentences), evenly(eraSentences, o.Sentences)
	digits = o.defaults(digits)
	e := &evaluator{ctx: ctx, m: m, o: o}
	r := &Report{Params: m.NumParams(), Projector: string(m.Config().Projector), Sigma: o.Sigma, Beam: o.Beam, Seed: o.Seed}
	var err error
	if r.Perplexity, err = e.perplexity(sentences); err != nil {
		return nil, err
	}
	if r.Transmit, err = e.transmit(sentences); err != nil {
		return nil, err
	}
	if r.Era, err = e.era(eraSentences); err != nil {
		return nil, err
	}
	if r.Scenes, err = e.scenes(0, ""); err != nil {
		return nil, err
	}
	if r.Classify, err = e.classify(digits); err != nil {
		return nil, err
	}
	if o.Fresh {
		f, err := e.scenes(FreshSceneIndex(o.Seed), " (fresh)")
		if err != nil {
			return nil, err
		}
		r.Fresh = &f
	}
	return r, nil
}

// defaults sets a zero Scenes to DefaultEvalScenes and zero Workers to GOMAXPROCS,
// and returns the first Digits of digits (all when Digits is 0).
func (o *EvalOptions) defaults(digits []dataset.Digit) []dataset.Digit {
	if o.Scenes == 0 {
		o.Scenes = DefaultEvalScenes
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Digits > 0 && o.Digits < len(digits) {
		return digits[:o.Digits]
	}
	return digits
}

type evaluator struct {
	ctx context.Context
	m   *llm.Model
	o   EvalOptions
}

// unit is one input with the instructions it is decoded under and what each
// decode should give.
type unit struct {
	in    llm.Input
	ins   []llm.Instruction
	want  []string
	kinds []dataset.QuestionKind // image.vqa only
	part  int                    // text.transmit only: index of the sentence part
}

type job struct {
	unit, ins int
	sem       llm.Semantics
}

func (e *evaluator) stopped(section string) error {
	if err := e.ctx.Err(); err != nil {
		return fmt.Errorf("semantic: evaluation stopped during %s: %w", section, err)
	}
	return nil
}

func (e *evaluator) progress(section string, done, total int) {
	if e.o.Progress != nil {
		e.o.Progress(section, done, total)
	}
}

// noise returns the random source of a section's noise, its own stream so that the
// count of one section does not change the noise of another.
func (e *evaluator) noise(section string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(section))
	return rand.New(rand.NewPCG(e.o.Seed, h.Sum64()))
}

// distort returns s with Gaussian noise of standard deviation Sigma added to every
// value, or s itself when Sigma is 0.
func (e *evaluator) distort(s llm.Semantics, rng *rand.Rand) llm.Semantics {
	if e.o.Sigma == 0 {
		return s
	}
	v := make([]float32, len(s.Vectors))
	for i, x := range s.Vectors {
		v[i] = x + float32(e.o.Sigma*rng.NormFloat64())
	}
	s.Vectors = v
	return s
}

// run encodes the n units that get returns, chunk by chunk, decodes each under
// every one of its instructions and passes the outputs to score in order.
func (e *evaluator) run(section string, n int, get func(i int) unit, score func(u *unit, j int, out llm.Output) error) error {
	rng := e.noise(section)
	e.progress(section, 0, n)
	for start := 0; start < n; start += EvalChunk {
		if err := e.stopped(section); err != nil {
			return err
		}
		end := min(start+EvalChunk, n)
		units := make([]unit, end-start)
		ins := make([]llm.Input, len(units))
		for i := range units {
			units[i] = get(start + i)
			ins[i] = units[i].in
		}
		sems, err := e.m.EncodeBatch(ins)
		if err != nil {
			return fmt.Errorf("semantic: %s: encode: %w", section, err)
		}
		var jobs []job
		for i := range units {
			for j := range units[i].ins {
				jobs = append(jobs, job{unit: i, ins: j, sem: e.distort(sems[i], rng)})
			}
		}
		outs, err := e.decode(section, units, jobs)
		if err != nil {
			return err
		}
		for k, jb := range jobs {
			if err := score(&units[jb.unit], jb.ins, outs[k]); err != nil {
				return fmt.Errorf("semantic: %s: %w", section, err)
			}
		}
		e.progress(section, end, n)
	}
	return nil
}

// decode runs the jobs on Workers goroutines. Each output lands at its job's index,
// so the order of completion does not matter.
func (e *evaluator) decode(section string, units []unit, jobs []job) ([]llm.Output, error) {
	outs := make([]llm.Output, len(jobs))
	errs := make([]error, len(jobs))
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	opt := llm.DecodeOptions{Beam: e.o.Beam}
	for range min(e.o.Workers, len(jobs)) {
		wg.Go(func() {
			for !failed.Load() && e.ctx.Err() == nil {
				k := int(next.Add(1) - 1)
				if k >= len(jobs) {
					return
				}
				jb := jobs[k]
				outs[k], errs[k] = e.m.Decode(jb.sem, units[jb.unit].ins[jb.ins], opt)
				if errs[k] != nil {
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	if err := e.stopped(section); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("semantic: %s: decode: %w", section, err)
		}
	}
	return outs, nil
}

func (e *evaluator) perplexity(sentences []dataset.Sentence) (Perplexity, error) {
	const section = "perplexity"
	// Perplexity is taken chunk by chunk so cancellation and progress work; the
	// chunks' summed negative log-likelihoods give the same figure as one call.
	var nll float64
	var tokens int
	text := make([]string, 0, EvalChunk)
	e.progress(section, 0, len(sentences))
	for start := 0; start < len(sentences); start += EvalChunk {
		if err := e.stopped(section); err != nil {
			return Perplexity{}, err
		}
		end := min(start+EvalChunk, len(sentences))
		text = text[:0]
		for _, s := range sentences[start:end] {
			text = append(text, s.TextCase(e.m.Config().Cased))
		}
		ppl, n, err := e.m.Perplexity(text)
		if err != nil {
			return Perplexity{}, fmt.Errorf("semantic: %s: %w", section, err)
		}
		nll += math.Log(ppl) * float64(n)
		tokens += n
		e.progress(section, end, len(sentences))
	}
	return Perplexity{Value: math.Exp(nll / float64(tokens)), Sentences: len(sentences), Tokens: tokens}, nil
}

func (e *evaluator) transmit(sentences []dataset.Sentence) (TransmitResult, error) {
	var bleu metrics.BLEU
	var exact, cased metrics.Accuracy
	// A sentence longer than one message takes (llm.Model.MaxTextTokens) is sent as
	// consecutive parts (llm.Model.SplitText) and scored whole, on the parts' outputs
	// joined, when its last part is decoded; run scores units in order.
	type part struct {
		text     string
		sentence int
		last     bool
	}
	var parts []part
	for i, s := range sentences {
		ps := e.m.SplitText(llm.TextTransmit, s.TextCase(e.m.Config().Cased))
		for k, p := range ps {
			parts = append(parts, part{p, i, k == len(ps)-1})
		}
	}
	var received []string
	err := e.run(llm.TextTransmit.String(), len(parts), func(i int) unit {
		p := parts[i]
		return unit{in: llm.Input{Task: llm.TextTransmit, Text: p.text}, ins: []llm.Instruction{{Task: llm.TextTransmit}}, want: []string{sentences[p.sentence].TextCase(true)}, part: i}
	}, func(u *unit, j int, out llm.Output) error {
		received = append(received, out.Text)
		if !parts[u.part].last {
			return nil
		}
		got := strings.Join(received, " ")
		ref, hyp := metrics.Words(dataset.Normalize(u.want[j])), metrics.Words(dataset.Normalize(got))
		received = received[:0]
		bleu.Add(ref, hyp)
		exact.Add(slices.Equal(ref, hyp))
		cased.Add(metrics.CasedExactMatch(dataset.NormalizeCased(u.want[j]), dataset.NormalizeCased(got)))
		return nil
	})
	if err != nil {
		return TransmitResult{}, err
	}
	r := TransmitResult{Sentences: exact.Total, MeanBLEU4: bleu.MeanSentence(4), ExactMatch: rateOf(exact), CasedExactMatch: rateOf(cased)}
	for n := range r.BLEU {
		r.BLEU[n] = bleu.Score(n + 1)
	}
	return r, nil
}

func (e *evaluator) era(sentences []dataset.Sentence) (EraResult, error) {
	var acc metrics.Accuracy
	err := e.run(llm.TextEra.String(), len(sentences), func(i int) unit {
		s := sentences[i]
		// The era is read from the first message's worth of a long sentence.
		text := s.TextCase(e.m.Config().Cased)
		if ps := e.m.SplitText(llm.TextEra, text); len(ps) > 0 {
			text = ps[0]
		}
		return unit{in: llm.Input{Task: llm.TextEra, Text: text}, ins: []llm.Instruction{{Task: llm.TextEra}}, want: []string{dataset.EraName(s.Era)}}
	}, func(u *unit, j int, out llm.Output) error {
		acc.Add(metrics.ExactMatch(u.want[j], out.Text))
		return nil
	})
	if err != nil {
		return EraResult{}, err
	}
	r := EraResult{Accuracy: rateOf(acc)}
	r.Majority, r.MajorityEra, r.Classes = majority(sentences)
	return r, nil
}

// majority returns the share of the most frequent era among sentences (the
// earliest of equally frequent ones), its name and the number of distinct eras.
func majority(sentences []dataset.Sentence) (rate float64, era string, classes int) {
	count := map[int]int{}
	for _, s := range sentences {
		count[s.Era]++
	}
	best, bestN := 0, -1
	for k, n := range count {
		if n > bestN || n == bestN && k < best {
			best, bestN = k, n
		}
	}
	if len(sentences) == 0 {
		return 0, "", 0
	}
	return float64(bestN) / float64(len(sentences)), dataset.EraName(best), len(count)
}

func (e *evaluator) classify(digits []dataset.Digit) (Rate, error) {
	return e.classifyImages(llm.ImageClassify.String(), digits, func(_ int, dg *dataset.Digit) []float32 { return llm.DigitImage(dg, 0, 0) })
}

// classifyImages scores image.classify on digits, the i-th drawn by image.
func (e *evaluator) classifyImages(section string, digits []dataset.Digit, image func(i int, dg *dataset.Digit) []float32) (Rate, error) {
	var acc metrics.Accuracy
	err := e.run(section, len(digits), func(i int) unit {
		dg := &digits[i]
		return unit{in: llm.Input{Task: llm.ImageClassify, Image: image(i, dg)},
			ins: []llm.Instruction{{Task: llm.ImageClassify}}, want: []string{llm.DigitAnswer(dg.Label)}}
	}, func(u *unit, j int, out llm.Output) error {
		acc.Add(metrics.ExactMatch(u.want[j], out.Text))
		return nil
	})
	if err != nil {
		return Rate{}, err
	}
	return rateOf(acc), nil
}

// scenes scores the scene tasks on Scenes scenes from dataset.SceneTest index
// first; suffix tells the sections of the fresh scenes apart.
func (e *evaluator) scenes(first uint64, suffix string) (SceneResult, error) {
	n := e.o.Scenes
	r := SceneResult{FirstIndex: first, Scenes: n}
	scene := func(i int) dataset.Scene { return dataset.GenerateScene(dataset.SceneTest.Seed(first + uint64(i))) }
	clean := func(_ int, sc *dataset.Scene) []float32 { return llm.SceneImage(sc) }
	var err error
	if r.CaptionExact, r.CaptionBLEU4, err = e.caption(llm.ImageCaption.String()+suffix, n, scene, clean); err != nil {
		return r, err
	}
	if r.VQA, r.VQAByKind, err = e.vqa(llm.ImageVQA.String()+suffix, n, scene, clean, nil); err != nil {
		return r, err
	}

	stats, err := metrics.NewImageStats(llm.ImageSize, llm.ImageSize, llm.ImageChannels, metrics.HWC)
	if err != nil {
		return r, fmt.Errorf("semantic: %w", err)
	}
	err = e.run(llm.ImageReconstruct.String()+suffix, n, func(i int) unit {
		sc := scene(i)
		return unit{in: llm.Input{Task: llm.ImageReconstruct, Image: llm.SceneImage(&sc)},
			ins: []llm.Instruction{{Task: llm.ImageReconstruct}}, want: []string{""}}
	}, func(u *unit, j int, out llm.Output) error {
		return stats.Add(u.in.Image, out.Image)
	})
	if err != nil {
		return r, err
	}
	r.Reconstruct = ImageResult{Images: stats.Count(), PSNR: stats.MeanPSNR(), SSIM: stats.MeanSSIM(), Exact: stats.Exact()}
	if e.m.Config().AuxHeads {
		ro, err := e.readout(n, scene, "image semantics"+suffix)
		if err != nil {
			return r, err
		}
		r.Readout = &ro
	}
	return r, nil
}

// caption scores image.caption on n scenes, scene i drawn by image: exact match and
// corpus BLEU-4.
func (e *evaluator) caption(section string, n int, scene func(int) dataset.Scene, image func(i int, sc *dataset.Scene) []float32) (Rate, float64, error) {
	var bleu metrics.BLEU
	var exact metrics.Accuracy
	err := e.run(section, n, func(i int) unit {
		sc := scene(i)
		return unit{in: llm.Input{Task: llm.ImageCaption, Image: image(i, &sc)},
			ins: []llm.Instruction{{Task: llm.ImageCaption}}, want: []string{sc.Caption}}
	}, func(u *unit, j int, out llm.Output) error {
		bleu.Add(metrics.Words(u.want[j]), metrics.Words(out.Text))
		exact.Add(metrics.ExactMatch(u.want[j], out.Text))
		return nil
	})
	if err != nil {
		return Rate{}, 0, err
	}
	return rateOf(exact), bleu.Score(4), nil
}

// vqa scores image.vqa on n scenes, scene i drawn by image, over the questions ask
// picks of each (nil: all): the accuracy and the accuracy by kind, in
// dataset.QuestionKind order.
func (e *evaluator) vqa(section string, n int, scene func(int) dataset.Scene, image func(i int, sc *dataset.Scene) []float32,
	ask func(i int, qs []dataset.QA) []dataset.QA) (Rate, []KindRate, error) {
	var vqa metrics.Accuracy
	byKind := map[dataset.QuestionKind]*metrics.Accuracy{}
	err := e.run(section, n, func(i int) unit {
		sc := scene(i)
		u := unit{in: llm.Input{Task: llm.ImageVQA, Image: image(i, &sc)}}
		qs := sc.QA
		if ask != nil {
			qs = ask(i, qs)
		}
		for _, qa := range qs {
			u.ins = append(u.ins, llm.Instruction{Task: llm.ImageVQA, Question: qa.Question})
			u.want = append(u.want, qa.Answer)
			u.kinds = append(u.kinds, qa.Kind)
		}
		return u
	}, func(u *unit, j int, out llm.Output) error {
		ok := metrics.ExactMatch(u.want[j], out.Text)
		vqa.Add(ok)
		k := byKind[u.kinds[j]]
		if k == nil {
			k = new(metrics.Accuracy)
			byKind[u.kinds[j]] = k
		}
		k.Add(ok)
		return nil
	})
	if err != nil {
		return Rate{}, nil, err
	}
	kinds := make([]dataset.QuestionKind, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	var rs []KindRate
	for _, k := range kinds {
		rs = append(rs, KindRate{Kind: k.String(), Rate: rateOf(*byKind[k])})
	}
	return rateOf(vqa), rs, nil
}

// readout scores llm.Model.ReadScene on n scenes (see ReadoutResult).
func (e *evaluator) readout(n int, scene func(int) dataset.Scene, section string) (ReadoutResult, error) {
	rng := e.noise(section)
	var shape, color, size, exact metrics.Accuracy
	e.progress(section, 0, n)
	for start := 0; start < n; start += EvalChunk {
		if err := e.stopped(section); err != nil {
			return ReadoutResult{}, err
		}
		end := min(start+EvalChunk, n)
		scs := make([]dataset.Scene, 0, end-start)
		ins := make([]llm.Input, 0, end-start)
		for i := start; i < end; i++ {
			sc := scene(i)
			scs = append(scs, sc)
			ins = append(ins, llm.Input{Task: llm.ImageReconstruct, Image: llm.SceneImage(&sc)})
		}
		sems, err := e.m.EncodeBatch(ins)
		if err != nil {
			return ReadoutResult{}, fmt.Errorf("semantic: %s: encode: %w", section, err)
		}
		for i, sc := range scs {
			cells, err := e.m.ReadCells(e.distort(sems[i], rng))
			if err != nil {
				return ReadoutResult{}, fmt.Errorf("semantic: %s: %w", section, err)
			}
			for _, o := range sc.Objects {
				c := cells[llm.CellOf(o.X, o.Y)]
				shape.Add(c.Shape == o.Shape)
				color.Add(c.Color == o.Color)
				size.Add(c.Size == o.Size)
			}
			exact.Add(slices.Equal(llm.CellObjects(cells), sc.Objects))
		}
		e.progress(section, end, n)
	}
	return ReadoutResult{Objects: shape.Total, Shape: rateOf(shape), Color: rateOf(color), Size: rateOf(size), SceneExact: rateOf(exact)}, nil
}

// Markdown returns the report as a Markdown table (task, metric, value, n, 95%
// interval) under a line saying how it was made, ready to include in MODEL.md.
func (r *Report) Markdown() string {
	var b strings.Builder
	noise := "clean semantics (sigma 0)"
	if r.Sigma > 0 {
		noise = fmt.Sprintf("Gaussian noise of sigma %g on every semantic value (%.1f dB per real)", r.Sigma, -20*math.Log10(r.Sigma))
	}
	decoding := "greedy decoding"
	if r.Beam > 1 {
		decoding = fmt.Sprintf("beam search of width %d", r.Beam)
	}
	fmt.Fprintf(&b, "Held-out evaluation of a model of %s parameters (%s projector): %s, %s, seed %d. "+
		"Accuracies carry 95%% Wilson score intervals.\n\n", millions(r.Params), r.Projector, noise, decoding, r.Seed)
	b.WriteString("| task | metric | value | n | 95% CI |\n|---|---|---|---|---|\n")
	row := func(task, metric, value string, n int, ci string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s |\n", task, metric, value, n, ci)
	}
	rate := func(task, metric string, a Rate) {
		row(task, metric, pct(a.Rate), a.Total, pct(a.Low)+" – "+pct(a.High))
	}
	row("language model", "perplexity per token (SOTU test)", fmt.Sprintf("%.2f", r.Perplexity.Value), r.Perplexity.Tokens, "")
	tt := llm.TextTransmit.String()
	for n, v := range r.Transmit.BLEU {
		row(tt, fmt.Sprintf("BLEU-%d (corpus)", n+1), fmt.Sprintf("%.3f", v), r.Transmit.Sentences, "")
	}
	row(tt, "BLEU-4 (mean of sentences)", fmt.Sprintf("%.3f", r.Transmit.MeanBLEU4), r.Transmit.Sentences, "")
	rate(tt, "exact match", r.Transmit.ExactMatch)
	rate(tt, "exact match, case-sensitive", r.Transmit.CasedExactMatch)
	rate(llm.TextEra.String(), "accuracy (validation split)", r.Era.Accuracy)
	classes := fmt.Sprintf("%d classes", r.Era.Classes)
	if r.Era.Classes == 1 {
		classes = "1 class"
	}
	row(llm.TextEra.String(), fmt.Sprintf("majority-class rate (%s; %s)", r.Era.MajorityEra, classes),
		pct(r.Era.Majority), r.Era.Accuracy.Total, "")
	r.Scenes.markdown(row, rate, "")
	rate(llm.ImageClassify.String(), "accuracy", r.Classify)
	if r.Fresh != nil {
		r.Fresh.markdown(row, rate, " (fresh)")
	}
	return b.String()
}

func (s *SceneResult) markdown(row func(task, metric, value string, n int, ci string), rate func(task, metric string, a Rate), suffix string) {
	caption := llm.ImageCaption.String() + suffix
	rate(caption, "exact match", s.CaptionExact)
	row(caption, "BLEU-4 (corpus)", fmt.Sprintf("%.3f", s.CaptionBLEU4), s.CaptionExact.Total, "")
	vqa := llm.ImageVQA.String() + suffix
	rate(vqa, "accuracy", s.VQA)
	for _, k := range s.VQAByKind {
		rate(vqa, "accuracy: "+k.Kind, k.Rate)
	}
	rec := llm.ImageReconstruct.String() + suffix
	row(rec, "PSNR", fmt.Sprintf("%.2f dB", s.Reconstruct.PSNR), s.Reconstruct.Images, "")
	row(rec, "SSIM", fmt.Sprintf("%.4f", s.Reconstruct.SSIM), s.Reconstruct.Images, "")
	if ro := s.Readout; ro != nil {
		sem := "image semantics" + suffix
		rate(sem, "readout: shape (per object)", ro.Shape)
		rate(sem, "readout: colour (per object)", ro.Color)
		rate(sem, "readout: size (per object)", ro.Size)
		rate(sem, "readout: all objects exact (per scene)", ro.SceneExact)
	}
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

func millions(n int) string {
	return fmt.Sprintf("%.2f M", float64(n)/1e6)
}

// evenly picks n sentences evenly spaced over ss (all of them when n is 0 or at least
// len(ss)), so every year of a split in address order is represented.
func evenly(ss []dataset.Sentence, n int) []dataset.Sentence {
	if n <= 0 || n >= len(ss) {
		return ss
	}
	pick := make([]dataset.Sentence, n)
	for i := range pick {
		pick[i] = ss[i*len(ss)/n]
	}
	return pick
}
