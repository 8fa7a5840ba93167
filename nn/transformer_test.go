package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// tinyLM is a decoder-only, pre-norm transformer built from this package's operations:
// the workload of the speed target (4 layers, width 256) and of the overfitting test.
type tinyLM struct {
	p            *Params[float32]
	vocab, d, h  int
	layers, maxT int
	emb, pos     *Tensor[float32]
	blocks       []tinyBlock
	lnfG, lnfB   *Tensor[float32]
}

type tinyBlock struct {
	ln1G, ln1B, wqkv, wo, ln2G, ln2B, w1, b1, w2, b2 *Tensor[float32]
}

func newTinyLM(rng *rand.Rand, vocab, d, heads, layers, maxT int) *tinyLM {
	m := &tinyLM{p: NewParams[float32](), vocab: vocab, d: d, h: heads, layers: layers, maxT: maxT}
	add := func(name string, t *Tensor[float32]) *Tensor[float32] { return m.p.Add(name, t) }
	m.emb = add("emb", Normal(rng, NewParam[float32](nil, vocab, d), 0.02))
	m.pos = add("pos", Normal(rng, NewParam[float32](nil, maxT, d), 0.02))
	for l := 0; l < layers; l++ {
		s := fmt.Sprintf("block%d/", l)
		b := tinyBlock{
			ln1G: add(s+"ln1/gain", Ones(NewParam[float32](nil, d))),
			ln1B: add(s+"ln1/bias", NewParam[float32](nil, d)),
			wqkv: add(s+"attn/wqkv", XavierUniform(rng, NewParam[float32](nil, d, 3*d))),
			wo:   add(s+"attn/wo", XavierUniform(rng, NewParam[float32](nil, d, d))),
			ln2G: add(s+"ln2/gain", Ones(NewParam[float32](nil, d))),
			ln2B: add(s+"ln2/bias", NewParam[float32](nil, d)),
			w1:   add(s+"mlp/w1", XavierUniform(rng, NewParam[float32](nil, d, 4*d))),
			b1:   add(s+"mlp/b1/bias", NewParam[float32](nil, 4*d)),
			w2:   add(s+"mlp/w2", XavierUniform(rng, NewParam[float32](nil, 4*d, d))),
			b2:   add(s+"mlp/b2/bias", NewParam[float32](nil, d)),
		}
		m.blocks = append(m.blocks, b)
	}
	m.lnfG = add("lnf/gain", Ones(NewParam[float32](nil, d)))
	m.lnfB = add("lnf/bias", NewParam[float32](nil, d))
	return m
}

// loss runs the model on ids [B, T] and returns the next-token cross-entropy against
// targets [B, T]; the output projection is tied to the embedding.
func (m *tinyLM) loss(g *Graph[float32], ids, targets []int, B, T int) *Tensor[float32] {
	d, H := m.d, m.h
	pos := g.Slice(m.pos, 0, 0, T)
	x := g.Add(g.Gather(m.emb, ids, B, T), pos)
	for _, b := range m.blocks {
		h := g.LayerNorm(x, b.ln1G, b.ln1B, 1e-5)
		qkv := g.Reshape(g.MatMul(h, b.wqkv), B, T, 3, H, d/H)
		qkv = g.Permute(qkv, 2, 0, 3, 1, 4) // [3, B, H, T, D]
		q := g.Reshape(g.Slice(qkv, 0, 0, 1), B, H, T, d/H)
		k := g.Reshape(g.Slice(qkv, 0, 1, 2), B, H, T, d/H)
		v := g.Reshape(g.Slice(qkv, 0, 2, 3), B, H, T, d/H)
		a := g.Attention(q, k, v, AttentionOptions{Causal: true})
		a = g.Reshape(g.Transpose(a, 1, 2), B, T, d)
		x = g.Add(x, g.MatMul(a, b.wo))
		h = g.LayerNorm(x, b.ln2G, b.ln2B, 1e-5)
		f := g.GELU(g.Add(g.MatMul(h, b.w1), b.b1))
		x = g.Add(x, g.Add(g.MatMul(f, b.w2), b.b2))
	}
	x = g.LayerNorm(x, m.lnfG, m.lnfB, 1e-5)
	logits := g.MatMulT(x, m.emb) // [B, T, V]
	return g.CrossEntropy(logits, targets, CrossEntropyOptions{})
}

// flops counts the floating-point operations of one training step (forward and
// backward, backward taken as twice the forward's matrix work): per token and layer
// 24 d^2 for the projections and MLP, 4 T d for attention's two products, and 2 d V
// for the tied output projection.
func (m *tinyLM) flops(B, T int) float64 {
	d, L, V := float64(m.d), float64(m.layers), float64(m.vocab)
	perToken := L*(24*d*d+4*float64(T)*d) + 2*d*V
	return 3 * float64(B*T) * perToken
}

func randomBatch(rng *rand.Rand, vocab, n int) (ids, targets []int) {
	ids, targets = make([]int, n), make([]int, n)
	for i := range ids {
		ids[i] = rng.IntN(vocab)
		targets[i] = rng.IntN(vocab)
	}
	return ids, targets
}

// A small model must drive the loss on one fixed batch towards zero: the whole
// forward and backward path (embedding, attention, norms, MLP, tied output,
// cross-entropy) and the optimiser work together.
func TestTransformerOverfitsOneBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const B, T, V = 4, 16, 64
	m := newTinyLM(rng, V, 64, 4, 2, T)
	ids, targets := randomBatch(rng, V, B*T)
	opt, err := NewAdam[float32](AdamConfig{LR: 3e-3})
	if err != nil {
		t.Fatal(err)
	}
	g := NewGraph[float32](rng)
	var first, last float32
	for step := 0; step < 300; step++ {
		g.Reset()
		m.p.ZeroGrad()
		loss := m.loss(g, ids, targets, B, T)
		g.Backward(loss)
		opt.Step(m.p)
		if step == 0 {
			first = loss.Data[0]
		}
		last = loss.Data[0]
	}
	// Random targets over 64 classes start near ln 64 = 4.16; memorising 64 of them
	// takes the loss well below 0.1.
	t.Logf("loss %.3f -> %.4f after 300 steps", first, last)
	if first < 3.5 || last > 0.1 {
		t.Errorf("loss %.3f -> %.4f, want from about 4.16 to below 0.1", first, last)
	}
}

// BenchmarkTransformerStep times one training step (forward, backward, AdamW) of a
// 4-layer, width-256, 4-head transformer with a 4096-token vocabulary on a batch of 32
// sequences of 64 tokens, and reports its GFLOP/s next to the build's Gemm on the
// model's largest matrix product ([2048, 256] x [256, 1024]) measured in the same run.
func BenchmarkTransformerStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	const B, T, V = 32, 64, 4096
	m := newTinyLM(rng, V, 256, 4, 4, T)
	ids, targets := randomBatch(rng, V, B*T)
	opt, err := NewAdamW[float32](AdamConfig{LR: 1e-4})
	if err != nil {
		b.Fatal(err)
	}
	g := NewGraph[float32](rng)
	step := func() {
		g.Reset()
		m.p.ZeroGrad()
		g.Backward(m.loss(g, ids, targets, B, T))
		opt.Step(m.p)
	}
	step() // warm the arena
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	model := m.flops(B, T) / sec / 1e9
	gemm := gemmGFLOPS(2048, 256, 1024)
	b.ReportMetric(model, "GFLOP/s")
	b.ReportMetric(gemm, "gemm_GFLOP/s")
	b.ReportMetric(model/gemm, "ratio")
	b.ReportMetric(sec*1e3, "ms/step")
}

// gemmGFLOPS measures the build's Gemm (gonum's, or OpenBLAS under the openblas tag)
// on an m x k by k x n product for about a second.
func gemmGFLOPS(m, k, n int) float64 {
	a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7) * 0.1
	}
	for i := range bb {
		bb[i] = float32(i%5) * 0.1
	}
	gemm(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
	start := time.Now()
	reps := 0
	for time.Since(start) < time.Second {
		gemm(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
		reps++
	}
	return 2 * float64(m*n*k) * float64(reps) / time.Since(start).Seconds() / 1e9
}
