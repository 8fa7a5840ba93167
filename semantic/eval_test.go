package semantic

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/llm/weights"
)

// tinyModel is a randomly initialised model small enough to decode in microseconds.
func tinyModel(t testing.TB) *llm.Model {
	t.Helper()
	tok, err := weights.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	cfg := llm.DefaultConfig(tok.VocabSize())
	cfg.Dim, cfg.ImgDim, cfg.Layers, cfg.EncLayers, cfg.ImgLayers = 32, 32, 2, 1, 1
	// Short responses keep the random model's endless answers cheap.
	cfg.MaxText, cfg.MaxSeq = 24, 64
	m, err := llm.New(cfg, tok, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tinyData holds four test sentences, three of the era 2000-2024 and one of
// 2025-2049, and five fabricated test digits.
func tinyData() *llm.Data {
	d := &llm.Data{}
	for _, s := range []struct {
		year int
		text string
	}{
		{2001, "We will not tire, we will not falter, and we will not fail."},
		{2002, "Our nation is strong and our cause is just."},
		{2025, "The state of our union is confident and strong."},
		{2010, "Tonight we turn the page on a decade of war."},
	} {
		// The same sentences serve as test (transmit) and validation (era) splits.
		for _, sp := range []dataset.Split{dataset.Test, dataset.Validation} {
			d.Sentences[sp] = append(d.Sentences[sp], dataset.Sentence{
				Text: dataset.Normalize(s.text), Cased: dataset.NormalizeCased(s.text), Year: s.year, Era: dataset.Era(s.year), Split: sp})
		}
	}
	for label := range 5 {
		var dg dataset.Digit
		dg.Label = uint8(label)
		// A bar whose column and width depend on the label.
		for y := 4; y < 24; y++ {
			for x := 4 + 3*label; x < 7+3*label+label%2; x++ {
				dg.Pixels[y*dataset.DigitSize+x] = uint8(128 + 25*label)
			}
		}
		d.Digits[1] = append(d.Digits[1], dg)
	}
	return d
}

func checkRate(t *testing.T, name string, r Rate, total int) {
	t.Helper()
	if r.Total != total || r.Correct < 0 || r.Correct > r.Total {
		t.Errorf("%s: %d correct of %d, want a total of %d", name, r.Correct, r.Total, total)
	}
	if !(0 <= r.Low && r.Low <= r.Rate && r.Rate <= r.High && r.High <= 1) {
		t.Errorf("%s: rate %g outside its interval [%g, %g] or [0, 1]", name, r.Rate, r.Low, r.High)
	}
}

func checkScenes(t *testing.T, name string, s SceneResult, first uint64, n int) {
	t.Helper()
	if s.FirstIndex != first || s.Scenes != n {
		t.Errorf("%s: scenes %d from %d, want %d from %d", name, s.Scenes, s.FirstIndex, n, first)
	}
	questions := 0
	kinds := map[string]int{}
	for i := range n {
		sc := dataset.GenerateScene(dataset.SceneTest.Seed(first + uint64(i)))
		questions += len(sc.QA)
		for _, qa := range sc.QA {
			kinds[qa.Kind.String()]++
		}
	}
	checkRate(t, name+" caption", s.CaptionExact, n)
	checkRate(t, name+" vqa", s.VQA, questions)
	if len(s.VQAByKind) != len(kinds) {
		t.Errorf("%s: %d question kinds, the scenes hold %d", name, len(s.VQAByKind), len(kinds))
	}
	for _, k := range s.VQAByKind {
		checkRate(t, name+" vqa "+k.Kind, k.Rate, kinds[k.Kind])
	}
	if !(s.CaptionBLEU4 >= 0 && s.CaptionBLEU4 <= 1) {
		t.Errorf("%s: caption BLEU-4 %g", name, s.CaptionBLEU4)
	}
	rec := s.Reconstruct
	// A sigmoid output against 8-bit scene values is never exact; an image with
	// values in [0, 1] has an MSE of at most 1, so a PSNR of at least 0 dB.
	if rec.Images != n || rec.Exact != 0 || !(rec.PSNR >= 0) || math.IsInf(rec.PSNR, 0) || !(rec.SSIM >= -1 && rec.SSIM <= 1) {
		t.Errorf("%s: reconstruct %+v", name, rec)
	}
}

func TestEvaluateTinyModel(t *testing.T) {
	m, d := tinyModel(t), tinyData()
	const seed = 11
	sections := map[string][2]int{}
	r, err := Evaluate(context.Background(), m, d, EvalOptions{Scenes: 3, Seed: seed, Fresh: true, Workers: 2,
		Progress: func(s string, done, total int) { sections[s] = [2]int{done, total} }})
	if err != nil {
		t.Fatal(err)
	}
	if r.Params != m.NumParams() || r.Projector != "kan" || r.Seed != seed || r.Sigma != 0 {
		t.Errorf("report header %d %q %d %g", r.Params, r.Projector, r.Seed, r.Sigma)
	}
	// Every token of a random model is about equally likely: its logits are
	// products of layer-normed states with embeddings of standard deviation 0.02,
	// so the perplexity sits near the vocabulary size.
	v := float64(m.Config().Vocab)
	if p := r.Perplexity; p.Sentences != 4 || p.Tokens < 4*8 || !(p.Value > v/2 && p.Value < 2*v) {
		t.Errorf("perplexity %+v, vocabulary %g", p, v)
	}
	if r.Transmit.Sentences != 4 {
		t.Errorf("text.transmit on %d sentences", r.Transmit.Sentences)
	}
	checkRate(t, "text.transmit exact", r.Transmit.ExactMatch, 4)
	checkRate(t, "text.transmit exact, case-sensitive", r.Transmit.CasedExactMatch, 4)
	for n, b := range append(r.Transmit.BLEU[:], r.Transmit.MeanBLEU4) {
		if !(b >= 0 && b <= 1) {
			t.Errorf("text.transmit BLEU %d: %g", n, b)
		}
	}
	checkRate(t, "text.era", r.Era.Accuracy, 4)
	if r.Era.Majority != 0.75 || r.Era.MajorityEra != "2000-2024" || r.Era.Classes != 2 {
		t.Errorf("text.era majority %g (%s) of %d classes; want 0.75 (2000-2024) of 2", r.Era.Majority, r.Era.MajorityEra, r.Era.Classes)
	}
	checkRate(t, "image.classify", r.Classify, 5)
	checkScenes(t, "test", r.Scenes, 0, 3)
	objects := 0
	for i := range uint64(3) {
		objects += len(dataset.GenerateScene(dataset.SceneTest.Seed(i)).Objects)
	}
	if ro := r.Scenes.Readout; ro == nil || ro.Objects != objects {
		t.Errorf("semantic readout %+v, want one over %d objects", ro, objects)
	} else {
		for _, a := range []Rate{ro.Shape, ro.Color, ro.Size} {
			checkRate(t, "readout", a, objects)
		}
		checkRate(t, "readout scene exact", ro.SceneExact, 3)
	}
	if r.Fresh == nil {
		t.Fatal("no fresh scenes with Fresh set")
	}
	fresh := FreshSceneIndex(seed)
	checkScenes(t, "fresh", *r.Fresh, fresh, 3)
	same := 0
	for i := range uint64(3) {
		a := dataset.GenerateScene(dataset.SceneTest.Seed(i))
		b := dataset.GenerateScene(dataset.SceneTest.Seed(fresh + i))
		if string(a.Pixels) == string(b.Pixels) {
			same++
		}
	}
	if same == 3 {
		t.Error("fresh scenes are the test scenes")
	}
	for _, s := range []string{"perplexity", "text.transmit", "text.era", "image.caption", "image.vqa", "image.classify", "image.reconstruct", "image.vqa (fresh)", "image semantics", "image semantics (fresh)"} {
		if p, ok := sections[s]; !ok || p[0] != p[1] {
			t.Errorf("progress of %s ended at %v", s, p)
		}
	}

	md := r.Markdown()
	for _, want := range []string{"| task | metric | value | n | 95% CI |", "| image.classify | accuracy |", "| text.era | majority-class rate (2000-2024; 2 classes) | 75.0% | 4 |",
		"| image.vqa (fresh) | accuracy |", "| image.reconstruct | PSNR |", "| text.transmit | BLEU-4 (corpus) |", "| text.transmit | exact match, case-sensitive |", "| language model | perplexity", "| image semantics | readout: shape (per object) |"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Errorf("JSON round trip changed the report:\n%s", b)
	}
}

// The same seed gives the same report whatever the number of workers; noise
// changes what is decoded.
func TestEvaluateNoiseRepeatable(t *testing.T) {
	m, d := tinyModel(t), tinyData()
	o := EvalOptions{Scenes: 2, Digits: 2, Sigma: 0.5, Seed: 4, Workers: 1}
	a, err := Evaluate(context.Background(), m, d, o)
	if err != nil {
		t.Fatal(err)
	}
	o.Workers = 3
	b, err := Evaluate(context.Background(), m, d, o)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("1 and 3 workers disagree:\n%+v\n%+v", a, b)
	}
	o.Sigma = 0
	c, err := Evaluate(context.Background(), m, d, o)
	if err != nil {
		t.Fatal(err)
	}
	// The image head is a smooth function of the semantics: noise of sigma 0.5
	// moves the reconstruction, and with it the PSNR.
	if a.Scenes.Reconstruct.PSNR == c.Scenes.Reconstruct.PSNR {
		t.Errorf("sigma 0.5 and sigma 0 reconstruct alike: PSNR %g", a.Scenes.Reconstruct.PSNR)
	}
	if a.Sigma != 0.5 || c.Sigma != 0 || !strings.Contains(a.Markdown(), "sigma 0.5") || !strings.Contains(c.Markdown(), "clean") {
		t.Error("the report does not say which noise it was made with")
	}
}

func TestDistort(t *testing.T) {
	m := tinyModel(t)
	sc := dataset.GenerateScene(3)
	s, err := m.Encode(llm.Input{Task: llm.ImageCaption, Image: llm.SceneImage(&sc)})
	if err != nil {
		t.Fatal(err)
	}
	orig := append([]float32(nil), s.Vectors...)
	clean := (&evaluator{o: EvalOptions{}}).distort(s, rand.New(rand.NewPCG(1, 1)))
	if !reflect.DeepEqual(clean.Vectors, orig) {
		t.Error("sigma 0 changed the semantics")
	}
	const sigma = 0.5
	noisy := (&evaluator{o: EvalOptions{Sigma: sigma}}).distort(s, rand.New(rand.NewPCG(1, 1)))
	if !reflect.DeepEqual(s.Vectors, orig) {
		t.Error("distort wrote into its input")
	}
	var sum, sum2 float64
	for i, v := range noisy.Vectors {
		d := float64(v - orig[i])
		sum += d
		sum2 += d * d
	}
	n := float64(len(orig))
	std := math.Sqrt(sum2/n - (sum/n)*(sum/n))
	// The sample standard deviation of n Gaussian values has a standard error of
	// about sigma/sqrt(2n) (0.016 for n = 512); 5 of them is the margin.
	if tol := 5 * sigma / math.Sqrt(2*n); math.Abs(std-sigma) > tol {
		t.Errorf("noise standard deviation %g, want %g ± %g", std, sigma, tol)
	}
}

func TestEvaluateCancel(t *testing.T) {
	m, d := tinyModel(t), tinyData()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Evaluate(ctx, m, d, EvalOptions{Scenes: 2}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	// Cancelled during text.transmit, the evaluation goes no further.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	var after []string
	_, err := Evaluate(ctx, m, d, EvalOptions{Scenes: 2, Progress: func(s string, done, total int) {
		if ctx.Err() != nil {
			after = append(after, s)
		}
		if s == "text.transmit" {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "text.transmit") {
		t.Errorf("cancelled in text.transmit: %v", err)
	}
	for _, s := range after {
		if s != "text.transmit" {
			t.Errorf("section %s ran after the cancellation", s)
		}
	}
}

func TestEvaluateRejects(t *testing.T) {
	m, d := tinyModel(t), tinyData()
	ctx := context.Background()
	for _, o := range []EvalOptions{
		{Sentences: -1}, {Scenes: -1}, {Digits: -2}, {Beam: -1}, {Workers: -1},
		{Sigma: -0.1}, {Sigma: math.NaN()}, {Sigma: math.Inf(1)},
	} {
		if _, err := Evaluate(ctx, m, d, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if _, err := Evaluate(ctx, nil, d, EvalOptions{}); err == nil {
		t.Error("nil model accepted")
	}
	if _, err := Evaluate(ctx, m, &llm.Data{Digits: d.Digits}, EvalOptions{}); err == nil || !strings.Contains(err.Error(), "test sentences") {
		t.Errorf("no sentences: %v", err)
	}
	if _, err := Evaluate(ctx, m, &llm.Data{Sentences: d.Sentences}, EvalOptions{}); err == nil || !strings.Contains(err.Error(), "test digits") {
		t.Errorf("no digits: %v", err)
	}
}

// Perplexity taken chunk by chunk equals one call on every sentence.
func TestPerplexityChunks(t *testing.T) {
	m := tinyModel(t)
	var sentences []dataset.Sentence
	var text []string
	for i := range EvalChunk + 9 {
		s := dataset.Normalize(strings.Repeat("the people of the union ", 1+i%3) + "endure.")
		sentences = append(sentences, dataset.Sentence{Text: s})
		text = append(text, s)
	}
	want, tokens, err := m.Perplexity(text)
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&evaluator{ctx: context.Background(), m: m}).perplexity(sentences)
	if err != nil {
		t.Fatal(err)
	}
	if got.Tokens != tokens || math.Abs(got.Value-want) > 1e-9*want {
		t.Errorf("chunked perplexity %g over %d tokens, whole %g over %d", got.Value, got.Tokens, want, tokens)
	}
}

// A cased model (llm.Config.Cased) is evaluated on the sentences as written, an
// uncased one on them lower-cased; the case-sensitive exact match of either compares
// with the sentence as written.
func TestEvaluateCase(t *testing.T) {
	m, d := tinyModel(t), tinyData()
	cfg := m.Config()
	cfg.Cased = true
	cm, err := m.Rebuild(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	test := d.Sentences[dataset.Test]
	for _, c := range []struct {
		m     *llm.Model
		cased bool
	}{{m, false}, {cm, true}} {
		var text []string
		for _, s := range test {
			text = append(text, s.TextCase(c.cased))
		}
		_, tokens, err := c.m.Perplexity(text)
		if err != nil {
			t.Fatal(err)
		}
		e := &evaluator{ctx: context.Background(), m: c.m, o: EvalOptions{Workers: 1}}
		p, err := e.perplexity(test)
		if err != nil {
			t.Fatal(err)
		}
		if p.Tokens != tokens {
			t.Errorf("cased=%t: perplexity over %d tokens, want the %d of the text as the model reads it", c.cased, p.Tokens, tokens)
		}
		r, err := e.transmit(test)
		if err != nil {
			t.Fatal(err)
		}
		checkRate(t, "case-sensitive exact", r.CasedExactMatch, len(test))
		if r.CasedExactMatch.Correct > r.ExactMatch.Correct {
			t.Errorf("cased=%t: %d sentences exact with case, only %d without", c.cased, r.CasedExactMatch.Correct, r.ExactMatch.Correct)
		}
	}
	if tinyData().Sentences[dataset.Test][0].Text == tinyData().Sentences[dataset.Test][0].Cased {
		t.Fatal("the test sentences must have capitals")
	}
}

func TestMajority(t *testing.T) {
	s := func(eras ...int) []dataset.Sentence {
		var out []dataset.Sentence
		for _, e := range eras {
			out = append(out, dataset.Sentence{Era: e})
		}
		return out
	}
	tests := []struct {
		in      []dataset.Sentence
		rate    float64
		era     string
		classes int
	}{
		{s(9, 9, 10), 2.0 / 3, "2000-2024", 2},
		{s(10, 9), 0.5, "2000-2024", 2}, // a tie goes to the earlier era
		{s(3), 1, "1850-1874", 1},
		{nil, 0, "", 0},
	}
	for _, tt := range tests {
		rate, era, classes := majority(tt.in)
		if rate != tt.rate || era != tt.era || classes != tt.classes {
			t.Errorf("majority(%v) = %g, %q, %d; want %g, %q, %d", tt.in, rate, era, classes, tt.rate, tt.era, tt.classes)
		}
	}
}

func TestFreshSceneIndex(t *testing.T) {
	seen := map[uint64]bool{}
	for seed := range uint64(100) {
		i := FreshSceneIndex(seed)
		if i < 1<<62 || i >= 1<<62+1<<61 || seen[i] {
			t.Fatalf("seed %d: fresh index %d repeated or outside [2^62, 2^62 + 2^61)", seed, i)
		}
		seen[i] = true
	}
}

func TestImageResultJSON(t *testing.T) {
	b, err := json.Marshal(ImageResult{Images: 2, PSNR: math.Inf(1), SSIM: 1, Exact: 1})
	if err != nil || !strings.Contains(string(b), `"psnr_db":null`) {
		t.Errorf("infinite PSNR: %s, %v", b, err)
	}
	b, err = json.Marshal(ImageResult{Images: 2, PSNR: 27.5, SSIM: 0.9})
	if err != nil || !strings.Contains(string(b), `"psnr_db":27.5`) {
		t.Errorf("finite PSNR: %s, %v", b, err)
	}
}
