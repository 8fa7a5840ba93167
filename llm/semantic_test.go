package llm

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/nn"
)

func smallModel(t testing.TB, proj Projector) *Model {
	t.Helper()
	tok := shippedTokenizer(t)
	cfg := DefaultConfig(tok.VocabSize())
	cfg.Dim, cfg.ImgDim, cfg.Layers, cfg.EncLayers, cfg.ImgLayers = 32, 32, 2, 1, 1
	cfg.Projector = proj
	m, err := New(cfg, tok, rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	// The cell embeddings start at zero; random ones let the tests see them.
	r := rand.New(rand.NewPCG(7, 8))
	for i := range m.cellEmb.Data {
		m.cellEmb.Data[i] = float32(r.NormFloat64())
	}
	return m
}

// The incremental decoder (Encode, then the key/value cache fed one position at a
// time) must compute what the training forward pass computes on the whole sequence.
func TestIncrementalDecoderMatchesForward(t *testing.T) {
	m := smallModel(t, ProjectorKAN)
	sc := dataset.GenerateScene(42)
	exs := []Example{
		{Task: ImageVQA, Image: SceneImage(&sc), Question: sc.QA[0].Question, Answer: sc.QA[0].Answer},
		{Task: TextTransmit, Text: "the union is strong and the people are free"},
		{Task: ImageReconstruct, Image: SceneImage(&sc)},
	}
	for _, ex := range exs {
		b, err := m.buildBatch([]Example{ex})
		if err != nil {
			t.Fatal(err)
		}
		g := nn.NewGraph[float32](nil)
		h, _, _, _ := m.forward(g, b)
		want := h.Data

		sem, err := m.Encode(Input{Task: ex.Task, Text: ex.Text, Image: ex.Image})
		if err != nil {
			t.Fatal(err)
		}
		worst := incrementalWorst(m, m.newDecoder(1), b, sem, want)
		t.Logf("%s: %d positions, worst difference %.2e", ex.Task, b.T, worst)
		if worst > 1e-4 {
			t.Errorf("%s: incremental decoder differs from the forward pass by %g", ex.Task, worst)
		}
	}
}

// incrementalWorst feeds batch b (one example) position by position through dec, the
// slots embedded from sem, and returns the largest difference from the forward pass's
// final hidden states want.
func incrementalWorst(m *Model, dec *decoder, b *batch, sem Semantics, want []float32) float64 {
	d := m.cfg.Dim
	e := make([]float32, sem.N*d)
	for i := range sem.N {
		for c := range d {
			v := m.semInB.Data[c]
			for k := range sem.Dim {
				v += sem.Vectors[i*sem.Dim+k] * m.semIn.Data[k*d+c]
			}
			e[i*d+c] = v
		}
	}
	x := make([]float32, d)
	var worst float64
	for j := range b.T {
		var slot []float32
		if s := b.slot[j]; s > 0 {
			slot = e[(s-1)*d : s*d]
		}
		m.embed(x, b.ids[j], j, b.idx[j], b.cell[j], slot)
		h := dec.run(x, 1)
		for c := range d {
			worst = max(worst, math.Abs(float64(h[c]-want[j*d+c])))
		}
	}
	return worst
}

// Greedy decoding and beam search run on every task and give well-formed output; a
// beam of width 1 is greedy.
func TestDecodeEveryTask(t *testing.T) {
	m := smallModel(t, ProjectorMLP)
	sc := dataset.GenerateScene(7)
	img := SceneImage(&sc)
	for _, task := range Tasks() {
		in := Input{Task: task, Text: "we hold these truths", Image: img}
		sem, err := m.Encode(in)
		if err != nil {
			t.Fatal(err)
		}
		ins := Instruction{Task: task, Question: "what color is the circle?"}
		g, err := m.Decode(sem, ins, DecodeOptions{MaxTokens: 6})
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.Decode(sem, ins, DecodeOptions{Beam: 3, MaxTokens: 6})
		if err != nil {
			t.Fatal(err)
		}
		if task == ImageReconstruct {
			if len(g.Image) != ImagePixels {
				t.Errorf("reconstruct: %d values", len(g.Image))
			}
			continue
		}
		if len(g.Tokens) > 6 || len(b.Tokens) > 6 {
			t.Errorf("%s: %d and %d tokens, limit 6", task, len(g.Tokens), len(b.Tokens))
		}
	}
	// Bad inputs are errors, not panics.
	if _, err := m.Encode(Input{Task: ImageVQA, Image: img[:10]}); err == nil {
		t.Error("short image accepted")
	}
	if _, err := m.Decode(Semantics{N: 1, Dim: 3, Vectors: make([]float32, 3)}, Instruction{Task: TextTransmit}, DecodeOptions{}); err == nil {
		t.Error("wrong semantic dimension accepted")
	}
}

// Greedy decoding must pick, at every step, the token the training forward pass ranks
// first when fed the same prefix: the response positions get the same slot, index and
// position embeddings in both paths (text.transmit's aligned slots included).
func TestGreedyMatchesForward(t *testing.T) {
	m := smallModel(t, ProjectorKAN)
	const text = "the union is strong and the people are free"
	sem, err := m.Encode(Input{Task: TextTransmit, Text: text})
	if err != nil {
		t.Fatal(err)
	}
	n := sem.N
	out, err := m.Decode(sem, Instruction{Task: TextTransmit}, DecodeOptions{MaxTokens: n, forceLength: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tokens) != n {
		t.Fatalf("%d tokens, want %d", len(out.Tokens), n)
	}
	b, err := m.buildBatch([]Example{{Task: TextTransmit, Text: text}})
	if err != nil {
		t.Fatal(err)
	}
	// Feed the generated tokens instead of the reference at the response positions.
	first := b.respRows[0] + 1
	for j, id := range out.Tokens[:n-1] {
		b.ids[first+j] = id
	}
	g := nn.NewGraph[float32](nil)
	h, _, _, _ := m.forward(g, b)
	d := m.cfg.Dim
	for j, r := range b.respRows[:n] {
		lg := m.logits(nil, h.Data[r*d:(r+1)*d], 1)
		lg[m.sp.eos] = float32(math.Inf(-1))
		if got := argmax(lg); got != out.Tokens[j] {
			t.Fatalf("response position %d: forward pass ranks token %d first, greedy chose %d", j, got, out.Tokens[j])
		}
	}
}

func TestTopK(t *testing.T) {
	v := []float32{0.5, 3, -1, 3, 2, 7, 0}
	for k, want := range map[int][]int{1: {5}, 3: {5, 1, 3}, 5: {5, 1, 3, 4, 0}, 7: {5, 1, 3, 4, 0, 6, 2}} {
		got := topK(v, k)
		if !slices.Equal(got, want) {
			t.Errorf("topK(%d) = %v, want %v", k, got, want)
		}
	}
}

// In both instruction layouts image.reconstruct's output through Decode is the
// training graph's prediction at the positions the head reads (layout 1: the 16 cell
// queries at the end; layout 0: the image slots), and VQA's question sits where
// Template says.
func TestReconstructAndLayout(t *testing.T) {
	m1 := smallModel(t, ProjectorKAN)
	old := m1.cfg
	old.Layout = 0
	m0, err := m1.Rebuild(old, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if m0.cellEmb != nil {
		t.Fatal("layout 0 model has cell embeddings")
	}
	sc := dataset.GenerateScene(9)
	ex := Example{Task: ImageReconstruct, Image: SceneImage(&sc)}
	for layout, m := range []*Model{m0, m1} {
		b, err := m.buildBatch([]Example{ex})
		if err != nil {
			t.Fatal(err)
		}
		first := b.T - ImageSlots
		if layout == 0 {
			first = 5 + len(m.taskIDs[ImageReconstruct]) - 1 // <bos><task>...</task><image>
		}
		if len(b.reconRows) != ImageSlots || b.reconRows[0] != first || b.reconRows[ImageSlots-1] != first+ImageSlots-1 {
			t.Fatalf("layout %d: reconstruction rows %v of %d positions, want %d on", layout, b.reconRows, b.T, first)
		}
		g := nn.NewGraph[float32](nil)
		h, _, _, _ := m.forward(g, b)
		want := make([]float32, ImagePixels)
		unpatchify(want, m.reconstruct(g, g.Gather(h, b.reconRows)).Data)
		sem, err := m.Encode(Input{Task: ImageReconstruct, Image: ex.Image})
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.Decode(sem, Instruction{Task: ImageReconstruct}, DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var worst float64
		for i := range want {
			worst = max(worst, math.Abs(float64(out.Image[i]-want[i])))
		}
		if worst > 1e-4 {
			t.Errorf("layout %d: Decode's reconstruction differs from the training graph's by %g", layout, worst)
		}

		// The question's place, in the prompt and in the template.
		q := m.tok.Encode("what color is the circle?")
		p := m.buildPrompt(ImageVQA, ImageSlots, q)
		tmpl := m.Template(ImageVQA, ImageSlots, "what color is the circle?")
		qAt, imgAt := strings.Index(tmpl, "<text>"), strings.Index(tmpl, "<image>")
		if (layout == 1) != (qAt < imgAt) || (layout == 1) != (p.slots > 6+len(q)) {
			t.Errorf("layout %d: question at %d and image at %d in %q; slots from position %d", layout, qAt, imgAt, tmpl, p.slots)
		}
	}
	if Template(ImageVQA, 1, "q") != m1.Template(ImageVQA, 1, "q") {
		t.Error("Template is not the current layout's")
	}
}
