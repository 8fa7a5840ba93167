package kan

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/m4sc/m4sc/nn"
)

// The shape of issue 3's comparison: [2048, 64] -> 64, G = 5, k = 3.
const benchRows, benchIn, benchOut = 2048, 64, 64

// step is one forward and backward pass of a layer on a reused graph.
type step func()

func kanStep(b testing.TB, cfg Config) step {
	rng := rand.New(rand.NewPCG(1, 1))
	l, err := New[float32]("kan/bench/layer0", benchIn, benchOut, cfg, rng)
	if err != nil {
		b.Fatal(err)
	}
	x, dy := benchTensors(rng)
	g := nn.NewGraph[float32](nil)
	return func() {
		g.Reset()
		g.BackwardWith(l.Forward(g, x), dy)
	}
}

// denseStep is the peer: y = SiLU(x W^T + b), with W [out, in] and b [out].
func denseStep(b testing.TB) step {
	rng := rand.New(rand.NewPCG(1, 1))
	w, bias := nn.NewParam[float32](nil, benchOut, benchIn), nn.NewParam[float32](nil, benchOut)
	for i := range w.Data {
		w.Data[i] = float32(rng.NormFloat64() / 8)
	}
	x, dy := benchTensors(rng)
	g := nn.NewGraph[float32](nil)
	return func() {
		g.Reset()
		g.BackwardWith(g.SiLU(g.Add(g.MatMulT(x, w), bias)), dy)
	}
}

func benchTensors(rng *rand.Rand) (x *nn.Tensor[float32], dy []float32) {
	x = nn.NewParam[float32](nil, benchRows, benchIn) // as if from a previous layer: dx is computed
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64() * 0.6)
	}
	dy = make([]float32, benchRows*benchOut)
	for i := range dy {
		dy[i] = float32(rng.NormFloat64())
	}
	return x, dy
}

func runStep(b *testing.B, s step) {
	s() // warm the graph's arena
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s()
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkLayer times forward+backward of [2048, 64] -> 64 for the KAN layer at several
// orders and for the dense peer.
func BenchmarkLayer(b *testing.B) {
	b.Run("kan-G5-k3", func(b *testing.B) { runStep(b, kanStep(b, Config{})) })
	b.Run("kan-G5-k1", func(b *testing.B) { runStep(b, kanStep(b, Config{Order: 1})) })
	b.Run("kan-G10-k3", func(b *testing.B) { runStep(b, kanStep(b, Config{GridSize: 10})) })
	b.Run("kan-G5-k3-adaptive", func(b *testing.B) {
		// A grid fitted to the data is non-uniform: the Cox-de Boor path.
		rng := rand.New(rand.NewPCG(1, 1))
		l, err := New[float32]("kan/bench/layer0", benchIn, benchOut, Config{}, rng)
		if err != nil {
			b.Fatal(err)
		}
		x, dy := benchTensors(rng)
		if err := l.UpdateGrid(x); err != nil {
			b.Fatal(err)
		}
		g := nn.NewGraph[float32](nil)
		runStep(b, func() { g.Reset(); g.BackwardWith(l.Forward(g, x), dy) })
	})
	b.Run("dense", func(b *testing.B) { runStep(b, denseStep(b)) })
}

// BenchmarkLayerVsDense alternates a KAN step (G=5, k=3) and a dense step in the same
// loop, so both see the same machine state, and reports each in ms and their ratio.
func BenchmarkLayerVsDense(b *testing.B) {
	k, d := kanStep(b, Config{}), denseStep(b)
	k()
	d()
	var tk, td time.Duration
	for b.Loop() {
		t0 := time.Now()
		k()
		t1 := time.Now()
		d()
		td += time.Since(t1)
		tk += t1.Sub(t0)
	}
	n := float64(b.N)
	b.ReportMetric(tk.Seconds()*1e3/n, "kan-ms")
	b.ReportMetric(td.Seconds()*1e3/n, "dense-ms")
	b.ReportMetric(tk.Seconds()/td.Seconds(), "kan/dense")
}
