package nn

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// Training interrupted by a checkpoint and resumed in a fresh process-like state ends
// bit-identical to an uninterrupted run.
func TestCheckpointResumesExactly(t *testing.T) {
	const B, T, V, steps, stop = 2, 8, 32, 12, 5
	train := func(m *tinyLM, opt *Adam[float32], from, to int) {
		rng := rand.New(rand.NewPCG(9, 9))
		g := NewGraph[float32](rng)
		for s := from; s < to; s++ {
			ids, targets := randomBatch(rand.New(rand.NewPCG(uint64(s), 1)), V, B*T)
			g.Reset()
			m.p.ZeroGrad()
			g.Backward(m.loss(g, ids, targets, B, T))
			m.p.ClipGradNorm(1)
			opt.Step(m.p)
		}
	}
	cfg := AdamConfig{LR: 1e-3, Schedule: Schedule{Kind: WarmupCosine, Warmup: 3, Total: steps}}
	newOpt := func() *Adam[float32] {
		o, err := NewAdamW[float32](cfg)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	full := newTinyLM(rand.New(rand.NewPCG(1, 1)), V, 32, 2, 2, T)
	fullOpt := newOpt()
	train(full, fullOpt, 0, steps)

	a := newTinyLM(rand.New(rand.NewPCG(1, 1)), V, 32, 2, 2, T)
	aOpt := newOpt()
	train(a, aOpt, 0, stop)
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	if err := SaveCheckpoint(path, a.p, aOpt, map[string]string{"test": "resume"}); err != nil {
		t.Fatal(err)
	}
	b := newTinyLM(rand.New(rand.NewPCG(2, 2)), V, 32, 2, 2, T) // different initial weights
	bOpt := newOpt()
	meta, err := LoadCheckpoint(path, b.p, bOpt)
	if err != nil {
		t.Fatal(err)
	}
	if meta["test"] != "resume" || bOpt.Steps() != stop {
		t.Fatalf("metadata %v, step %d", meta, bOpt.Steps())
	}
	train(b, bOpt, stop, steps)
	for _, name := range full.p.Names() {
		x, y := full.p.Get(name).Data, b.p.Get(name).Data
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("%s[%d]: uninterrupted %v, resumed %v", name, i, x[i], y[i])
			}
		}
	}
}

// A checkpoint for another model is refused, naming the parameter.
func TestCheckpointShapeMismatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.safetensors")
	a := newTinyLM(rand.New(rand.NewPCG(1, 1)), 32, 32, 2, 1, 8)
	if err := SaveCheckpoint(path, a.p, nil, nil); err != nil {
		t.Fatal(err)
	}
	b := newTinyLM(rand.New(rand.NewPCG(1, 1)), 32, 64, 2, 1, 8)
	if _, err := LoadCheckpoint(path, b.p, nil); err == nil {
		t.Fatal("a checkpoint of width 32 loaded into a model of width 64")
	} else {
		t.Log(err)
	}
}
