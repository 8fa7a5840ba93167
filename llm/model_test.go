package llm

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm/tokenizer"
	"github.com/m4sc/m4sc/nn"
)

func shippedTokenizer(t testing.TB) *tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.Load("weights/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func sceneImage(seed uint64) []float32 {
	s := dataset.GenerateScene(seed)
	img := make([]float32, ImagePixels)
	for i, p := range s.Pixels {
		img[i] = float32(p) / 255
	}
	return img
}

func mixedExamples(n int) []Example {
	var exs []Example
	for i := range n {
		sc := dataset.GenerateScene(uint64(i))
		img := sceneImage(uint64(i))
		switch i % 7 {
		case 0:
			exs = append(exs, Example{Task: TextTransmit, Text: "we the people of the united states"})
		case 1:
			exs = append(exs, Example{Task: TextEra, Text: "the congress shall have power", Answer: dataset.EraName(3)})
		case 2:
			exs = append(exs, Example{Task: ImageCaption, Image: img, Answer: sc.Caption, aux: sceneAux(sc.Objects)})
		case 3:
			exs = append(exs, Example{Task: ImageVQA, Image: img, Question: sc.QA[0].Question, Answer: sc.QA[0].Answer, aux: sceneAux(sc.Objects)})
		case 4:
			exs = append(exs, Example{Task: ImageClassify, Image: img, Answer: "7", aux: digitAux(7)})
		case 5:
			exs = append(exs, Example{Task: ImageReconstruct, Image: img})
		case 6:
			exs = append(exs, LMExample("the state of the union is strong"))
		}
	}
	return exs
}

// A model must overfit a small mixed batch of every task: the whole chain (encoders,
// projector, semantic head, noise, slot embedding, decoder, both losses) learns.
func TestModelOverfitsMixedBatch(t *testing.T) {
	for _, stem := range []ImageStem{StemPatch, StemConv} {
		t.Run(string(stem), func(t *testing.T) { overfitMixed(t, stem) })
	}
}

func overfitMixed(t *testing.T, stem ImageStem) {
	tok := shippedTokenizer(t)
	rng := rand.New(rand.NewPCG(1, 2))
	cfg := DefaultConfig(tok.VocabSize())
	cfg.Dim, cfg.ImgDim, cfg.Layers, cfg.EncLayers, cfg.ImgLayers = 64, 64, 2, 1, 1
	cfg.ImgStem = stem
	m, err := New(cfg, tok, rng)
	if err != nil {
		t.Fatal(err)
	}
	exs := mixedExamples(14)
	opt, err := nn.NewAdamW[float32](nn.AdamConfig{LR: 3e-3})
	if err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph[float32](rng)
	var first, last Losses
	start := time.Now()
	for step := range 150 {
		b, err := m.buildBatch(exs)
		if err != nil {
			t.Fatal(err)
		}
		g.Reset()
		m.params.ZeroGrad()
		loss, l := m.loss(g, b)
		g.Backward(loss)
		opt.Step(m.params)
		if step == 0 {
			first = l
		}
		last = l
	}
	t.Logf("%v: text %.3f -> %.4f, recon %.4f -> %.5f, aux %.3f -> %.4f", time.Since(start), first.Text, last.Text, first.Recon, last.Recon, first.Aux, last.Aux)
	if !(last.Text < 0.1) || !(last.Recon < first.Recon/3) || !(first.Aux > 1) || !(last.Aux < first.Aux/30) || math.IsNaN(last.Total) {
		t.Errorf("did not overfit: %+v -> %+v", first, last)
	}
}

// Under PerExample weighting every example's scored tokens weigh 1 in all, whatever
// its response length; under PerToken there are no weights.
func TestExampleWeighting(t *testing.T) {
	m := smallModel(t, ProjectorKAN)
	exs := mixedExamples(14)
	b, err := m.buildBatch(exs)
	if err != nil {
		t.Fatal(err)
	}
	if b.respWeights != nil {
		t.Fatal("PerToken batch has weights")
	}
	m.weighting = PerExample
	b, err = m.buildBatch(exs)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, w := range b.respWeights {
		sum += w
	}
	text := 0
	for _, ex := range exs {
		if ex.Task != ImageReconstruct {
			text++
		}
	}
	if len(b.respWeights) != len(b.respRows) || math.Abs(sum-float64(text)) > 1e-9 {
		t.Errorf("weights %d for %d rows summing to %g, want %d (one per text example)", len(b.respWeights), len(b.respRows), sum, text)
	}
}

// conv3x3 computes a zero-padded, strided 3x3 convolution followed by GELU: checked
// against direct loops over pixels and taps.
func TestConv3x3(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const N, hw, C, out = 2, 7, 3, 5
	x := nn.Normal(rng, nn.NewTensor[float32](nil, N*hw*hw, C), 1)
	w := nn.Normal(rng, nn.NewTensor[float32](nil, 9*C, out), 1)
	b := nn.Normal(rng, nn.NewTensor[float32](nil, out), 1)
	for _, stride := range []int{1, 2} {
		g := nn.NewGraph[float32](nil)
		y, o := conv3x3(g, x, N, hw, stride, w, b)
		if o != (hw+stride-1)/stride || y.Dim(0) != N*o*o || y.Dim(1) != out {
			t.Fatalf("stride %d: output %v, side %d", stride, y.Shape(), o)
		}
		for n := range N {
			for oy := range o {
				for ox := range o {
					for c := range out {
						s := float64(b.Data[c])
						for dy := range 3 {
							for dx := range 3 {
								iy, ix := oy*stride+dy-1, ox*stride+dx-1
								if iy < 0 || ix < 0 || iy >= hw || ix >= hw {
									continue
								}
								for k := range C {
									s += float64(x.Data[(n*hw*hw+iy*hw+ix)*C+k]) * float64(w.Data[((dy*3+dx)*C+k)*out+c])
								}
							}
						}
						want := s * 0.5 * math.Erfc(-s/math.Sqrt2) // exact GELU
						got := float64(y.Data[((n*o+oy)*o+ox)*out+c])
						if math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
							t.Fatalf("stride %d: y[%d,%d,%d,%d] = %g, want %g", stride, n, oy, ox, c, got, want)
						}
					}
				}
			}
		}
	}
}

// lengthGroups covers every sequence once, in groups of consecutive sorted lengths,
// and pays for a second group only where it saves more padding than groupCost.
func TestLengthGroups(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 200 {
		n := 1 + rng.IntN(40)
		lens := make([]int, n)
		for i := range lens {
			lens[i] = 1 + rng.IntN(160)
		}
		gs := lengthGroups(lens, maxGroups)
		if len(gs) < 1 || len(gs) > maxGroups {
			t.Fatalf("trial %d: %d groups", trial, len(gs))
		}
		seen := make([]bool, n)
		prev, cost := 0, 0
		for _, g := range gs {
			for _, i := range g.ex {
				if seen[i] {
					t.Fatalf("trial %d: sequence %d twice", trial, i)
				}
				seen[i] = true
				if lens[i] > g.T || lens[i] < prev {
					t.Fatalf("trial %d: length %d in a group of T %d after length %d", trial, lens[i], g.T, prev)
				}
				prev = lens[i]
			}
			cost += len(g.ex)*g.T + groupCost
		}
		for i, s := range seen {
			if !s {
				t.Fatalf("trial %d: sequence %d missing", trial, i)
			}
		}
		if one := n*slices.Max(lens) + groupCost; cost > one {
			t.Fatalf("trial %d: grouped cost %d above one group's %d", trial, cost, one)
		}
	}
	// Two clusters far apart: two groups.
	lens := []int{10, 80, 11, 79, 12, 81, 10, 80, 12, 78, 11, 80}
	if gs := lengthGroups(lens, maxGroups); len(gs) != 2 || gs[0].T != 12 || gs[1].T != 81 {
		t.Errorf("clusters: got %+v", gs)
	}
}

// A batch laid out in several length groups gives every example the loss it has alone:
// the groups change the padding, not the result.
func TestGroupedBatchMatchesSingles(t *testing.T) {
	m := smallModel(t, ProjectorKAN)
	m.weighting = PerExample
	exs := mixedExamples(14)
	g := nn.NewGraph[float32](rand.New(rand.NewPCG(0, 0)))
	b, err := m.buildBatch(exs)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.groups) < 2 {
		t.Fatalf("%d length group(s) for lengths up to %d; the test needs several", len(b.groups), b.T)
	}
	_, all := m.loss(g, b)
	var text, recon float64
	var nText, nRecon int
	for _, ex := range exs {
		g.Reset()
		b1, err := m.buildBatch([]Example{ex})
		if err != nil {
			t.Fatal(err)
		}
		_, l := m.loss(g, b1)
		if ex.Task == ImageReconstruct {
			recon += l.Recon
			nRecon++
		} else {
			text += l.Text
			nText++
		}
	}
	text /= float64(nText)
	recon /= float64(nRecon)
	t.Logf("%d groups: text %.6f (singles %.6f), recon %.6f (singles %.6f)", len(b.groups), all.Text, text, all.Recon, recon)
	if math.Abs(all.Text-text) > 1e-4*text || math.Abs(all.Recon-recon) > 1e-4*recon {
		t.Errorf("grouped batch: text %g recon %g; singles: text %g recon %g", all.Text, all.Recon, text, recon)
	}
}
