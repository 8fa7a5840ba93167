package nn

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// adamRef is Kingma and Ba's Algorithm 1 written out literally in float64, with
// AdamW's decoupled decay (Loshchilov and Hutter, Algorithm 2, in PyTorch's scaling):
// the slow mathematics the fast loop is tested against.
func adamRef(theta, g, m, v []float64, t int, lr, b1, b2, eps, wd float64) {
	for i := range theta {
		m[i] = b1*m[i] + (1-b1)*g[i]
		v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
		mhat := m[i] / (1 - math.Pow(b1, float64(t)))
		vhat := v[i] / (1 - math.Pow(b2, float64(t)))
		theta[i] -= lr*wd*theta[i] + lr*mhat/(math.Sqrt(vhat)+eps)
	}
}

func mustAdam[T Float](t *testing.T, cfg AdamConfig) *Adam[T] {
	t.Helper()
	a, err := NewAdam[T](cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// One step worked by hand: with zero moments, m = (1-b1) g and v = (1-b2) g^2, so
// m-hat = g, v-hat = g^2 and the update is lr*g/(|g|+eps).
func TestAdamOneStepByHand(t *testing.T) {
	p := NewParams[float64]()
	w := p.Add("w", NewParam([]float64{1, -2, 0.5}, 3))
	copy(w.Grad, []float64{0.5, -0.1, 0})
	a := mustAdam[float64](t, AdamConfig{})
	a.Step(p)
	want := []float64{
		1 - 0.001*0.5/(0.5+1e-8),  // 0.99900000002
		-2 + 0.001*0.1/(0.1+1e-8), // -1.9990000001
		0.5,                       // no gradient, no move
	}
	for i := range want {
		if math.Abs(w.Data[i]-want[i]) > 1e-15 {
			t.Errorf("theta[%d] = %.17g, want %.17g", i, w.Data[i], want[i])
		}
	}
	if a.Steps() != 1 || w.Grad[0] != 0.5 {
		t.Errorf("Steps() = %d, gradient %v: the step must be counted and the gradient left alone", a.Steps(), w.Grad)
	}
}

// Many steps of the fast loop against Algorithm 1, both element types, with and
// without decoupled decay and a schedule.
func TestAdamMatchesAlgorithm1(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  AdamConfig
	}{
		{"Adam defaults", AdamConfig{}},
		{"Adam betas", AdamConfig{LR: 0.01, Beta1: 0.5, Beta2: 0.9, Eps: 1e-3}},
		{"AdamW", AdamConfig{LR: 0.01, WeightDecay: 0.1, NoDecay: func(string) bool { return false }}},
		{"AdamW scheduled", AdamConfig{LR: 0.01, WeightDecay: 0.5, NoDecay: func(string) bool { return false },
			Schedule: Schedule{Kind: WarmupCosine, Warmup: 4, Total: 25, Floor: 0.2}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			const n, steps = 20, 30
			rng := rand.New(rand.NewPCG(3, 3))
			init := make([]float64, n)
			grads := make([][]float64, steps)
			for i := range init {
				init[i] = rng.NormFloat64()
			}
			for s := range grads {
				grads[s] = make([]float64, n)
				for i := range grads[s] {
					grads[s][i] = rng.NormFloat64() * math.Exp(2*rng.NormFloat64()) // magnitudes over decades
				}
			}
			cfg := c.cfg
			if err := cfg.fill(); err != nil {
				t.Fatal(err)
			}
			ref, m, v := slices.Clone(init), make([]float64, n), make([]float64, n)
			for s := range steps {
				adamRef(ref, grads[s], m, v, s+1, cfg.LR*cfg.Schedule.Factor(int64(s+1)), cfg.Beta1, cfg.Beta2, cfg.Eps, cfg.WeightDecay)
			}
			// float64: equal up to rounding; float32: up to its rounding of values of
			// size one, compounded over the steps.
			check64 := func(got []float64) {
				for i := range got {
					if d := math.Abs(got[i] - ref[i]); d > 1e-13 {
						t.Errorf("float64 theta[%d] = %.17g, Algorithm 1 %.17g", i, got[i], ref[i])
					}
				}
			}
			p64 := NewParams[float64]()
			w64 := p64.Add("w", NewParam(slices.Clone(init), n))
			a64 := mustAdam[float64](t, c.cfg)
			p32 := NewParams[float32]()
			w32 := p32.Add("w", NewParam[float32](nil, n))
			for i, x := range init {
				w32.Data[i] = float32(x)
			}
			a32 := mustAdam[float32](t, c.cfg)
			for s := range steps {
				copy(w64.Grad, grads[s])
				a64.Step(p64)
				for i, g := range grads[s] {
					w32.Grad[i] = float32(g)
				}
				a32.Step(p32)
			}
			check64(w64.Data)
			for i := range ref {
				if d := math.Abs(float64(w32.Data[i]) - ref[i]); d > 1e-5 {
					t.Errorf("float32 theta[%d] = %.9g, Algorithm 1 %.9g", i, w32.Data[i], ref[i])
				}
			}
		})
	}
}

// AdamW's decay is decoupled from the adaptive scaling; Adam with an L2 term in the
// loss is not. For a parameter with a large gradient the L2 term (lambda*theta, tiny
// beside g) barely changes g/sqrt(v), so L2 "decay" almost vanishes, while AdamW
// shrinks theta by exactly lr*lambda*theta whatever the gradient. For a parameter
// with no loss gradient, L2 turns decay into a full-size Adam step lr*sign(theta).
func TestAdamWDecoupled(t *testing.T) {
	const lr, lambda = 1e-3, 0.1
	theta0 := []float64{1, 1}
	grad := []float64{10, 0} // large gradient; no gradient
	run := func(wd float64, l2 bool) []float64 {
		p := NewParams[float64]()
		w := p.Add("w", NewParam(slices.Clone(theta0), 2))
		a := mustAdam[float64](t, AdamConfig{LR: lr, WeightDecay: wd})
		for i := range grad {
			w.Grad[i] = grad[i]
			if l2 { // d/dtheta (lambda/2) theta^2
				w.Grad[i] += lambda * w.Data[i]
			}
		}
		a.Step(p)
		return w.Data
	}
	adam, adamW, adamL2 := run(0, false), run(lambda, false), run(0, true)
	// AdamW = Adam's step plus exactly lr*lambda*theta0 of shrinkage.
	for i := range theta0 {
		if d := adam[i] - adamW[i]; math.Abs(d-lr*lambda*theta0[i]) > 1e-15 {
			t.Errorf("param %d: AdamW shrank by %.6g more than Adam, want lr*lambda*theta = %.6g", i, d, lr*lambda*theta0[i])
		}
	}
	// Large gradient: L2's effect is below 1e-6 of AdamW's (first step: g/|g| = 1 either way).
	if d := math.Abs(adam[0] - adamL2[0]); d > 1e-6*lr*lambda {
		t.Errorf("L2 moved the large-gradient parameter by %.3g; expected it to vanish in the normalisation", d)
	}
	// No gradient: L2 takes a whole step of lr; AdamW only lr*lambda.
	if d := theta0[1] - adamL2[1]; math.Abs(d-lr) > 1e-9 {
		t.Errorf("L2 moved the idle parameter by %.6g, want lr = %g", d, lr)
	}
}

// The decay exclusion: parameters named as biases, gains and norms keep their values
// under AdamW with no gradient; others shrink.
func TestAdamWNoDecay(t *testing.T) {
	for _, c := range []struct {
		name  string
		pred  func(string) bool
		decay bool
	}{
		{"llm/block3/attn/wq", nil, true},
		{"llm/block3/attn/bias", nil, false},
		{"llm/block3/norm1/gain", nil, false},
		{"kan/layernorm", nil, false},
		{"kan/proj/layer0/coef", nil, true},
		{"kan/proj/layer0/coef", func(n string) bool { return strings.HasPrefix(n, "kan/") }, false},
		{"llm/block3/attn/bias", func(string) bool { return false }, true},
	} {
		p := NewParams[float32]()
		w := p.Add(c.name, NewParam([]float32{2}, 1))
		a, err := NewAdamW[float32](AdamConfig{NoDecay: c.pred})
		if err != nil {
			t.Fatal(err)
		}
		a.Step(p)
		if got, want := w.Data[0] != 2, c.decay; got != want {
			t.Errorf("%s (custom predicate %v): decayed %v, want %v", c.name, c.pred != nil, got, want)
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	p := NewParams[float32]()
	a := p.Add("a", NewParam[float32](nil, 2))
	b := p.Add("b", NewParam[float32](nil, 2, 2))
	p.Add("buffer", NewTensor([]float32{100}, 1)) // no gradient: not counted
	set := func() {
		copy(a.Grad, []float32{3, 0})
		copy(b.Grad, []float32{0, -4, 0, 0})
	}
	set()
	if norm := p.GradNorm(); norm != 5 {
		t.Fatalf("GradNorm = %v, want 5", norm)
	}
	if norm := p.ClipGradNorm(1); norm != 5 {
		t.Errorf("ClipGradNorm returned %v, want the norm before clipping, 5", norm)
	}
	if after := p.GradNorm(); math.Abs(after-1) > 1e-7 {
		t.Errorf("norm after clipping %.9g, want 1", after)
	}
	if a.Grad[0] != 0.6 || b.Grad[1] != -0.8 {
		t.Errorf("clipped gradients %v %v, want each scaled by 1/5", a.Grad, b.Grad)
	}
	set()
	if norm := p.ClipGradNorm(5); norm != 5 || a.Grad[0] != 3 || b.Grad[1] != -4 {
		t.Errorf("a norm at the limit was scaled: %v %v", a.Grad, b.Grad)
	}
	// Many values of mixed size in float32: exact up to float32 rounding.
	big := NewParams[float32]()
	g := big.Add("g", NewParam[float32](nil, 100000))
	rng := rand.New(rand.NewPCG(9, 9))
	for i := range g.Grad {
		g.Grad[i] = float32(rng.NormFloat64() * math.Exp(3*rng.NormFloat64()))
	}
	before := big.ClipGradNorm(0.25)
	if after := big.GradNorm(); math.Abs(after/0.25-1) > 1e-6 {
		t.Errorf("norm %.6g clipped to %.9g, want 0.25 to float32 precision", before, after)
	}
	// A non-finite norm leaves the gradients for the caller to notice.
	a.Grad[0] = float32(math.Inf(1))
	if norm := p.ClipGradNorm(1); !math.IsInf(norm, 1) || !math.IsInf(float64(a.Grad[0]), 1) || b.Grad[1] != -4 {
		t.Errorf("infinite norm: returned %v, gradients %v %v", norm, a.Grad, b.Grad)
	}
	a.Grad[0] = float32(math.NaN())
	if norm := p.ClipGradNorm(1); !math.IsNaN(norm) || b.Grad[1] != -4 {
		t.Errorf("NaN norm: returned %v, gradients %v", norm, b.Grad)
	}
	for _, m := range []float64{0, -1, math.NaN()} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ClipGradNorm(%v) did not panic", m)
				}
			}()
			p.ClipGradNorm(m)
		}()
	}
}

func TestSchedule(t *testing.T) {
	cos := Schedule{Kind: WarmupCosine, Warmup: 100, Total: 1100, Floor: 0.1}
	for _, c := range []struct {
		s    Schedule
		t    int64
		want float64
	}{
		{cos, 0, 0},              // warmup start
		{cos, 1, 0.01},           // first update
		{cos, 50, 0.5},           // halfway up
		{cos, 100, 1},            // warmup end: the peak
		{cos, 600, 0.55},         // cosine midpoint: Floor + (1-Floor)/2
		{cos, 1100, 0.1},         // end: the floor
		{cos, 5000, 0.1},         // and after
		{Schedule{}, 1, 1},       // constant
		{Schedule{}, 1 << 40, 1}, // constant
		{Schedule{Warmup: 10}, 5, 0.5},
		{Schedule{Warmup: 10}, 10, 1},
		{Schedule{Warmup: 10}, 11, 1},
		{Schedule{Kind: WarmupCosine, Total: 2}, 1, 0.5}, // no warmup, floor 0
		{Schedule{Kind: WarmupCosine, Total: 2}, 2, 0},
	} {
		if got := c.s.Factor(c.t); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("%+v.Factor(%d) = %.17g, want %g", c.s, c.t, got, c.want)
		}
	}
	// Non-increasing along the cosine.
	for step := cos.Warmup; step < cos.Total+5; step++ {
		if cos.Factor(step+1) > cos.Factor(step) {
			t.Fatalf("cosine rises from %d to %d", step, step+1)
		}
	}
	// The optimiser uses it.
	a := mustAdam[float32](t, AdamConfig{LR: 2e-3, Schedule: cos})
	p := NewParams[float32]()
	p.Add("w", NewParam[float32](nil, 1))
	if a.LR() != 2e-5 {
		t.Errorf("LR before the first step %v, want 2e-3 * 1/100", a.LR())
	}
	for range 99 {
		a.Step(p)
	}
	if a.LR() != 2e-3 {
		t.Errorf("LR of update 100 %v, want the peak 2e-3", a.LR())
	}
}

// Every invalid configuration must fail at construction.
func TestAdamConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  AdamConfig
	}{
		{"negative LR", AdamConfig{LR: -1}},
		{"NaN LR", AdamConfig{LR: math.NaN()}},
		{"infinite LR", AdamConfig{LR: math.Inf(1)}},
		{"beta1 one", AdamConfig{Beta1: 1}},
		{"beta2 above one", AdamConfig{Beta2: 1.5}},
		{"negative beta", AdamConfig{Beta1: -0.1}},
		{"negative eps", AdamConfig{Eps: -1e-8}},
		{"negative decay", AdamConfig{WeightDecay: -0.01}},
		{"decay flips sign", AdamConfig{LR: 1, WeightDecay: 1}},
		{"negative warmup", AdamConfig{Schedule: Schedule{Warmup: -1}}},
		{"cosine ends in warmup", AdamConfig{Schedule: Schedule{Kind: WarmupCosine, Warmup: 10, Total: 10}}},
		{"floor above one", AdamConfig{Schedule: Schedule{Kind: WarmupCosine, Total: 10, Floor: 1.5}}},
		{"unknown kind", AdamConfig{Schedule: Schedule{Kind: 9}}},
	} {
		if _, err := NewAdam[float32](c.cfg); !errors.Is(err, ErrAdamConfig) {
			t.Errorf("%s: error %v, want ErrAdamConfig", c.name, err)
		}
	}
	a, err := NewAdamW[float64](AdamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Config(); got.LR != DefaultLR || got.Beta1 != DefaultBeta1 || got.Beta2 != DefaultBeta2 || got.Eps != DefaultEps || got.WeightDecay != DefaultWeightDecay {
		t.Errorf("defaults %+v", got)
	}
}

// resumeModel is a small float32 training problem whose gradient at every step is a
// fixed function of the parameters and the step number, so two runs can be compared
// bit for bit.
type resumeModel struct {
	p    *Params[float32]
	opt  *Adam[float32]
	step int
}

func newResumeModel(t *testing.T, seed uint64) *resumeModel {
	p := NewParams[float32]()
	rng := rand.New(rand.NewPCG(seed, seed))
	p.Add("llm/block0/w", XavierUniform(rng, NewParam[float32](nil, 8, 16)))
	p.Add("llm/block0/bias", Normal(rng, NewParam[float32](nil, 16), 0.1))
	p.Add("llm/norm/gain", Ones(NewParam[float32](nil, 16)))
	p.Add("llm/buffer", NewTensor[float32](nil, 3)) // not trained, but checkpointed
	a, err := NewAdamW[float32](AdamConfig{LR: 1e-2, Schedule: Schedule{Kind: WarmupCosine, Warmup: 5, Total: 30, Floor: 0.1}})
	if err != nil {
		t.Fatal(err)
	}
	return &resumeModel{p: p, opt: a}
}

func (r *resumeModel) train(steps int) {
	for range steps {
		noise := rand.New(rand.NewPCG(uint64(r.step), 77))
		for _, w := range r.p.All() {
			for i := range w.Grad {
				// Gradient of sum (w - 0.3)^2 plus noise that depends on the step only.
				w.Grad[i] = 2*(w.Data[i]-0.3) + float32(noise.NormFloat64())
			}
		}
		r.p.ClipGradNorm(5)
		r.opt.Step(r.p)
		r.step++
	}
}

// Saving after k steps and resuming in fresh objects continues bit for bit.
func TestAdamResumeExact(t *testing.T) {
	const k, total = 8, 25
	straight := newResumeModel(t, 1)
	straight.train(total)

	first := newResumeModel(t, 1)
	first.train(k)
	weights, state := first.p.Export(), first.opt.ExportState()

	resumed := newResumeModel(t, 2) // different initial values, overwritten by the checkpoint
	if err := resumed.p.Import(weights); err != nil {
		t.Fatal(err)
	}
	if err := resumed.opt.ImportState(resumed.p, state); err != nil {
		t.Fatal(err)
	}
	if resumed.opt.Steps() != k || len(state.M) != 3 || state.M[0].Name != "llm/block0/w" {
		t.Fatalf("state after %d steps: Steps %d, %d moment records", k, resumed.opt.Steps(), len(state.M))
	}
	resumed.step = k
	resumed.train(total - k)
	for name, w := range straight.p.All() {
		got := resumed.p.Get(name).Data
		for i := range w.Data {
			if math.Float32bits(got[i]) != math.Float32bits(w.Data[i]) {
				t.Fatalf("%s[%d]: resumed %.9g, uninterrupted %.9g", name, i, got[i], w.Data[i])
			}
		}
	}
	// A state exported before any step resets.
	fresh := newResumeModel(t, 1)
	if err := fresh.opt.ImportState(fresh.p, mustAdam[float32](t, AdamConfig{}).ExportState()); err != nil || fresh.opt.Steps() != 0 {
		t.Errorf("importing an empty state: %v, Steps %d", err, fresh.opt.Steps())
	}
}

func TestAdamImportStateErrors(t *testing.T) {
	src := newResumeModel(t, 1)
	src.train(3)
	edit := func(f func(s *AdamState)) AdamState {
		s := src.opt.ExportState()
		f(&s)
		return s
	}
	for _, c := range []struct {
		name   string
		s      AdamState
		is     error
		naming string
	}{
		{"missing v", edit(func(s *AdamState) { s.V = s.V[1:] }), ErrMissingParam, "llm/block0/w"},
		{"unknown m", edit(func(s *AdamState) { s.M[2].Name = "llm/norm/gain2" }), ErrUnknownParam, "llm/norm/gain2"},
		{"buffer has no moments", edit(func(s *AdamState) { s.M[2].Name = "llm/buffer" }), ErrUnknownParam, "llm/buffer"},
		{"shape", edit(func(s *AdamState) { s.M[0].Shape = []int{16, 8} }), nil, "llm/block0/w"},
		{"negative v", edit(func(s *AdamState) { s.V[1].Data[3] = -1 }), nil, "llm/block0/bias"},
		{"NaN v", edit(func(s *AdamState) { s.V[1].Data[3] = float32(math.NaN()) }), nil, "llm/block0/bias"},
		{"infinite m", edit(func(s *AdamState) { s.M[2].Data[0] = float32(math.Inf(-1)) }), nil, "llm/norm/gain"},
		{"negative step", edit(func(s *AdamState) { s.Step = -1 }), nil, "step"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dst := newResumeModel(t, 1)
			dst.train(1)
			err := dst.opt.ImportState(dst.p, c.s)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.naming) || (c.is != nil && !errors.Is(err, c.is)) {
				t.Errorf("error %q, want one naming %q (%v)", err, c.naming, c.is)
			}
			if dst.opt.Steps() != 1 {
				t.Errorf("a failed import changed the step count to %d", dst.opt.Steps())
			}
		})
	}
}

// Step panics if the store it serves grows or is swapped: the moments would no longer
// match.
func TestAdamStorePanics(t *testing.T) {
	p := NewParams[float32]()
	p.Add("w", NewParam[float32](nil, 2))
	a := mustAdam[float32](t, AdamConfig{})
	a.Step(p)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"grown", func() { p.Add("v", NewParam[float32](nil, 2)); a.Step(p) }},
		{"other store", func() { a.Step(NewParams[float32]()) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			c.f()
		}()
	}
}

// Adam minimises f(x) = sum_i h_i (x_i - c_i)^2 / 2 with curvatures h_i from 1e-2 to
// 1e4, where gradient descent would need a step below 2/1e4 and then crawl along the
// flattest direction for ~1e6 steps. Adam's step is about lr in every coordinate
// whatever its curvature, and at most lr*(1-beta1)/sqrt(1-beta2) = 3.2 lr (Kingma and
// Ba, section 2.1), so the distances of up to 3 are covered in ~3/lr = 60 steps at the
// peak rate; the cosine decay ends at lr*Floor = 1e-4, so an iterate still oscillating
// about the minimum at the end is within a few final steps of it. Bound: every
// |x_i - c_i| below 3 maximal final steps, 3 * 3.2e-4 < 1e-3, after 1000 steps.
func TestAdamQuadratic(t *testing.T) {
	t.Run("float32", func(t *testing.T) { adamQuadratic[float32](t) })
	t.Run("float64", func(t *testing.T) { adamQuadratic[float64](t) })
}

func adamQuadratic[T Float](t *testing.T) {
	const n, steps, tol = 7, 1000, 1e-3
	h := make([]T, n)
	c := make([]T, n)
	for i := range n {
		h[i] = T(math.Pow(10, -2+float64(i)))  // 1e-2 ... 1e4
		c[i] = T(3 * math.Cos(float64(i)*1.3)) // targets in [-3, 3]
	}
	p := NewParams[T]()
	x := p.Add("x", NewParam[T](nil, n))
	a := mustAdam[T](t, AdamConfig{LR: 0.05, Schedule: Schedule{Kind: WarmupCosine, Warmup: 10, Total: steps, Floor: 2e-3}})
	for range steps {
		for i := range x.Data {
			x.Grad[i] = h[i] * (x.Data[i] - c[i])
		}
		a.Step(p)
	}
	for i := range x.Data {
		if d := math.Abs(float64(x.Data[i] - c[i])); d > tol {
			t.Errorf("coordinate %d (curvature %g): %.3g from the minimum after %d steps, want below %g", i, h[i], d, steps, tol)
		}
	}
}

// BenchmarkAdamStep updates 10M float32 parameters per op, in a model-like mix of two
// matrices, an embedding table and vectors, with AdamW's decay on the matrices. Traffic
// per parameter: read theta, g, m, v and write theta, m, v, 28 bytes.
func BenchmarkAdamStep(b *testing.B) {
	p := NewParams[float32]()
	p.Add("w1", NewParam[float32](nil, 4096, 2048))
	p.Add("w2", NewParam[float32](nil, 1536, 1024))
	p.Add("embed", NewParam[float32](nil, 277, 128))
	p.Add("w1/bias", NewParam[float32](nil, 2048))
	p.Add("w2/bias", NewParam[float32](nil, 1024))
	n := p.NumElements()
	if n != 10_000_000 {
		b.Fatalf("%d parameters", n)
	}
	for _, w := range p.All() {
		for i := range w.Grad {
			w.Grad[i] = float32(i%7) - 3
		}
	}
	a, err := NewAdamW[float32](AdamConfig{Schedule: Schedule{Kind: WarmupCosine, Warmup: 10, Total: 1 << 30}})
	if err != nil {
		b.Fatal(err)
	}
	a.Step(p) // allocates the moments
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		a.Step(p)
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(n)*float64(b.N)/s/1e6, "Mparams/s")
	b.ReportMetric(28*float64(n)*float64(b.N)/s/1e9, "GB/s")
}

// BenchmarkClipGradNorm: the norm pass (4 bytes per parameter) and the scaling pass
// (8 bytes) over 10M float32 gradients. Each call halves the norm, so every call
// scales; the values are reset every 100 calls, before they become subnormal.
func BenchmarkClipGradNorm(b *testing.B) {
	p := NewParams[float32]()
	g := p.Add("w", NewParam[float32](nil, 10_000_000))
	norm := 0.0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%100 == 0 {
			for j := range g.Grad {
				g.Grad[j] = 1
			}
			norm = math.Sqrt(float64(g.Len()))
		}
		norm /= 2
		p.ClipGradNorm(norm)
	}
	b.ReportMetric(float64(g.Len())*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mparams/s")
}
