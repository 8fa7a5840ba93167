package nn

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Defaults of AdamConfig: the settings Kingma and Ba (2015) give with Algorithm 1, and
// PyTorch's AdamW default for the weight decay.
const (
	DefaultLR          = 1e-3
	DefaultBeta1       = 0.9
	DefaultBeta2       = 0.999
	DefaultEps         = 1e-8
	DefaultWeightDecay = 0.01 // used by NewAdamW when AdamConfig.WeightDecay is 0
)

// AdamConfig holds the hyper-parameters of Adam and AdamW. A zero LR, Beta1, Beta2 or
// Eps means its Default constant (so beta1 = 0 cannot be asked for).
type AdamConfig struct {
	// LR is the peak learning rate alpha; the rate of update t is LR*Schedule.Factor(t).
	LR float64
	// Beta1 and Beta2 are the decay rates of the first and second moment estimates,
	// in [0, 1).
	Beta1, Beta2 float64
	// Eps is added to sqrt(v-hat) in the denominator, as in Algorithm 1.
	Eps float64
	// WeightDecay is the decoupled decay lambda of AdamW: each update first shrinks a
	// parameter by the factor (1 - lr_t*lambda), lr_t the scheduled rate, as PyTorch's
	// AdamW does. (Loshchilov and Hutter (2019), Algorithm 2, multiply lambda by the
	// schedule multiplier eta_t alone; their lambda is this lambda times LR.)
	// 0 gives plain Adam.
	WeightDecay float64
	// NoDecay exempts parameters, by full name, from weight decay; nil means
	// DefaultNoDecay.
	NoDecay func(name string) bool
	// Schedule scales LR per update; the zero value keeps it constant.
	Schedule Schedule
}

// DefaultNoDecay exempts biases and normalisation parameters: names ending in "bias",
// "gain" or "norm" ("llm/block3/attn/bias", "llm/block3/norm1/gain", "kan/layernorm").
// Decaying them towards zero would fight the scale they exist to learn.
func DefaultNoDecay(name string) bool {
	return strings.HasSuffix(name, "bias") || strings.HasSuffix(name, "gain") || strings.HasSuffix(name, "norm")
}

// ErrAdamConfig reports invalid hyper-parameters.
var ErrAdamConfig = errors.New("nn: invalid optimiser configuration")

func (c *AdamConfig) fill() error {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.LR, DefaultLR)
	def(&c.Beta1, DefaultBeta1)
	def(&c.Beta2, DefaultBeta2)
	def(&c.Eps, DefaultEps)
	if c.NoDecay == nil {
		c.NoDecay = DefaultNoDecay
	}
	switch {
	case !(c.LR > 0) || math.IsInf(c.LR, 1):
		return fmt.Errorf("%w: learning rate %v", ErrAdamConfig, c.LR)
	case !(c.Beta1 >= 0 && c.Beta1 < 1), !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("%w: betas %v, %v outside [0, 1)", ErrAdamConfig, c.Beta1, c.Beta2)
	case !(c.Eps > 0) || math.IsInf(c.Eps, 1):
		return fmt.Errorf("%w: eps %v", ErrAdamConfig, c.Eps)
	case !(c.WeightDecay >= 0) || c.WeightDecay*c.LR >= 1:
		return fmt.Errorf("%w: weight decay %v with learning rate %v", ErrAdamConfig, c.WeightDecay, c.LR)
	}
	return c.Schedule.validate()
}

// Adam is the Adam optimiser (Kingma and Ba (2015), "Adam: a method for stochastic
// optimization", Algorithm 1, with bias correction), and AdamW when its weight decay is
// set (Loshchilov and Hutter (2019), "Decoupled weight decay regularization",
// Algorithm 2). Update t of a parameter theta with gradient g:
//
//	m = beta1*m + (1-beta1)*g
//	v = beta2*v + (1-beta2)*g^2
//	theta = theta*(1 - lr_t*lambda) - lr_t * (m/(1-beta1^t)) / (sqrt(v/(1-beta2^t)) + eps)
//
// The moments have the parameter's element type. An Adam binds to the Params of its
// first Step (or ImportState) and updates every stored tensor that needs a gradient.
type Adam[T Float] struct {
	cfg   AdamConfig
	step  int64 // updates applied
	p     *Params[T]
	ver   int // p.version when bound
	slots []adamSlot[T]
}

type adamSlot[T Float] struct {
	name  string
	t     *Tensor[T]
	m, v  []T
	decay bool
}

// NewAdam returns an Adam optimiser; with cfg.WeightDecay > 0 it is AdamW.
func NewAdam[T Float](cfg AdamConfig) (*Adam[T], error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	return &Adam[T]{cfg: cfg}, nil
}

// NewAdamW returns an AdamW optimiser: a zero cfg.WeightDecay means
// DefaultWeightDecay.
func NewAdamW[T Float](cfg AdamConfig) (*Adam[T], error) {
	if cfg.WeightDecay == 0 {
		cfg.WeightDecay = DefaultWeightDecay
	}
	return NewAdam[T](cfg)
}

// Config returns the configuration with defaults filled in.
func (a *Adam[T]) Config() AdamConfig { return a.cfg }

// Steps is the number of updates applied.
func (a *Adam[T]) Steps() int64 { return a.step }

// LR is the learning rate the next Step will use.
func (a *Adam[T]) LR() float64 { return a.cfg.LR * a.cfg.Schedule.Factor(a.step+1) }

// bind allocates the moments on the first use of p: the only allocation of Step.
func (a *Adam[T]) bind(p *Params[T]) {
	if a.p == p && a.ver == p.version {
		return
	}
	if a.p != nil {
		panic("nn: Adam.Step: a different or grown parameter store; an optimiser serves one fixed set of parameters")
	}
	a.p, a.ver = p, p.version
	a.slots = a.slots[:0]
	for i, t := range p.ts {
		if !t.RequiresGrad() {
			continue
		}
		a.slots = append(a.slots, adamSlot[T]{name: p.names[i], t: t, m: make([]T, len(t.Data)), v: make([]T, len(t.Data)),
			decay: a.cfg.WeightDecay > 0 && !a.cfg.NoDecay(p.names[i])})
	}
}

// Step applies one update to every parameter of p from its gradient (which it leaves
// alone: clear it with p.ZeroGrad before the next accumulation) and counts it. It
// panics if p is not the store the optimiser started with or has grown since.
func (a *Adam[T]) Step(p *Params[T]) {
	a.bind(p)
	t := a.step + 1
	lr := a.cfg.LR * a.cfg.Schedule.Factor(t)
	bc1 := 1 - math.Pow(a.cfg.Beta1, float64(t))
	sbc2 := math.Sqrt(1 - math.Pow(a.cfg.Beta2, float64(t)))
	// Algorithm 1's lr*mhat/(sqrt(vhat)+eps) with numerator and denominator multiplied
	// by sqrt(1-beta2^t): the same value with one multiplication less per element.
	// (This is not the paper's "eps-hat" variant, which leaves eps unscaled.)
	k := adamConsts[T]{
		b1: T(a.cfg.Beta1), c1: T(1 - a.cfg.Beta1),
		b2: T(a.cfg.Beta2), c2: T(1 - a.cfg.Beta2),
		step: T(lr * sbc2 / bc1), eps: T(a.cfg.Eps * sbc2),
	}
	shrink := T(1 - lr*a.cfg.WeightDecay)
	workers := defaultWorkers()
	for i := range a.slots {
		s := &a.slots[i]
		k.shrink = 1
		if s.decay {
			k.shrink = shrink
		}
		// Elements are independent: large parameters are split over the pool (the
		// result does not depend on how), small ones allocate nothing. The closure
		// takes its own copy of k: capturing k itself would move it to the heap on
		// every Step.
		if n := len(s.t.Data); split(workers, n, adamCost) {
			ks := k
			parallelElems(workers, n, adamCost, func(lo, hi int) {
				adamUpdate(s.t.Data[lo:hi], s.t.Grad[lo:hi], s.m[lo:hi], s.v[lo:hi], &ks)
			})
			continue
		}
		adamUpdate(s.t.Data, s.t.Grad, s.m, s.v, &k)
	}
	a.step = t
}

// adamCost is a rough count of scalar operations per element of adamUpdate.
const adamCost = 12

type adamConsts[T Float] struct {
	b1, c1, b2, c2, step, eps, shrink T
}

// adamUpdate is the inner loop of Step: 28 bytes of memory traffic per element in
// float32 (read theta, g, m, v; write theta, m, v).
func adamUpdate[T Float](theta, g, m, v []T, k *adamConsts[T]) {
	if cKernels {
		if th, ok := any(theta).([]float32); ok {
			done := adamC(th, any(g).([]float32), any(m).([]float32), any(v).([]float32), any(k).(*adamConsts[float32]))
			theta, g, m, v = theta[done:], g[done:], m[done:], v[done:]
		}
	}
	adamLoop(theta, g, m, v, k)
}

// adamLoop is adamUpdate in Go.
func adamLoop[T Float](theta, g, m, v []T, k *adamConsts[T]) {
	n := len(theta)
	g, m, v = g[:n], m[:n], v[:n]
	b1, c1, b2, c2, step, eps, shrink := k.b1, k.c1, k.b2, k.c2, k.step, k.eps, k.shrink
	for i := range theta {
		gi := g[i]
		mi := b1*m[i] + c1*gi
		vi := b2*v[i] + c2*gi*gi
		m[i], v[i] = mi, vi
		theta[i] = theta[i]*shrink - step*mi/(T(math.Sqrt(float64(vi)))+eps)
	}
}

// GradNorm returns the L2 norm of all gradients of p taken together, accumulated in
// float64.
func (p *Params[T]) GradNorm() float64 {
	var s float64
	for _, t := range p.ts {
		if t.RequiresGrad() {
			s += sumSquaresF64(t.Grad)
		}
	}
	return math.Sqrt(s)
}

// ClipGradNorm scales every gradient of p by maxNorm/norm when their global L2 norm
// exceeds maxNorm (Pascanu et al. (2013), "On the difficulty of training recurrent
// neural networks", Algorithm 1), and returns the norm before clipping. A NaN or
// infinite norm leaves the gradients alone: the caller should skip that step. It
// panics unless maxNorm > 0.
func (p *Params[T]) ClipGradNorm(maxNorm float64) float64 {
	if !(maxNorm > 0) {
		panic(fmt.Sprintf("nn: ClipGradNorm(%v)", maxNorm))
	}
	norm := p.GradNorm()
	if norm <= maxNorm || math.IsInf(norm, 0) || math.IsNaN(norm) {
		return norm
	}
	c := T(maxNorm / norm)
	for _, t := range p.ts {
		if t.RequiresGrad() {
			for i := range t.Grad {
				t.Grad[i] *= c
			}
		}
	}
	return norm
}

// sumSquaresF64 uses four accumulators so the additions do not wait on each other.
func sumSquaresF64[T Float](x []T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a, b, c, d := float64(x[i]), float64(x[i+1]), float64(x[i+2]), float64(x[i+3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
	}
	for ; i < len(x); i++ {
		a := float64(x[i])
		s0 += a * a
	}
	return (s0 + s1) + (s2 + s3)
}

// ScheduleKind selects the shape of a Schedule after its warmup.
type ScheduleKind int

const (
	// ConstantLR keeps the peak rate after warmup.
	ConstantLR ScheduleKind = iota
	// WarmupCosine decays from the peak to Floor along half a cosine period, reaching
	// it at update Total (Loshchilov and Hutter (2017), "SGDR", eq. 5, without restarts).
	WarmupCosine
)

// Schedule is a learning-rate multiplier as a function of the update number t = 1, 2,
// ...: linear warmup from 0 at t = 0 to 1 at t = Warmup, then constant or a cosine
// decay to Floor. The zero value is constant 1.
type Schedule struct {
	Kind   ScheduleKind
	Warmup int64   // updates of linear warmup; 0 for none
	Total  int64   // WarmupCosine: the update at which the factor reaches Floor, > Warmup
	Floor  float64 // WarmupCosine: the final factor, a fraction of the peak in [0, 1]
}

// Factor returns the multiplier of update t:
//
//	t <= Warmup:          t/Warmup
//	Warmup < t < Total:   Floor + (1-Floor)*(1+cos(pi*(t-Warmup)/(Total-Warmup)))/2
//	t >= Total:           Floor
//
// (the last two for WarmupCosine; ConstantLR gives 1 after warmup).
func (s Schedule) Factor(t int64) float64 {
	if t < s.Warmup {
		return float64(max(t, 0)) / float64(s.Warmup)
	}
	if s.Kind != WarmupCosine {
		return 1
	}
	if t >= s.Total {
		return s.Floor
	}
	x := float64(t-s.Warmup) / float64(s.Total-s.Warmup)
	return s.Floor + (1-s.Floor)*0.5*(1+math.Cos(math.Pi*x))
}

func (s Schedule) validate() error {
	switch {
	case s.Warmup < 0:
		return fmt.Errorf("%w: schedule warmup %d", ErrAdamConfig, s.Warmup)
	case s.Kind == ConstantLR:
		return nil
	case s.Kind != WarmupCosine:
		return fmt.Errorf("%w: schedule kind %d", ErrAdamConfig, s.Kind)
	case s.Total <= s.Warmup:
		return fmt.Errorf("%w: cosine schedule ends at update %d, not after its warmup of %d", ErrAdamConfig, s.Total, s.Warmup)
	case !(s.Floor >= 0 && s.Floor <= 1):
		return fmt.Errorf("%w: schedule floor %v outside [0, 1]", ErrAdamConfig, s.Floor)
	}
	return nil
}

// AdamState is what a checkpoint needs to resume Adam exactly: the update count and
// the moment estimates of every trained parameter, named as in Params and in its
// order. Float32 moments round-trip exactly; float64 moments are rounded to float32.
type AdamState struct {
	Step int64
	M, V []NamedArray // first and second moment estimates
}

// ExportState copies the optimiser's state. Before the first Step it has Step 0 and
// no moments.
func (a *Adam[T]) ExportState() AdamState {
	s := AdamState{Step: a.step}
	for i := range a.slots {
		sl := &a.slots[i]
		s.M = append(s.M, toNamedArray(sl.name, sl.t.Shape(), sl.m))
		s.V = append(s.V, toNamedArray(sl.name, sl.t.Shape(), sl.v))
	}
	return s
}

// ImportState binds the optimiser to p and restores s, so that the next Step continues
// as the exported optimiser would have. Every parameter of p that needs a gradient
// must have one record in M and one in V, of its shape, the moments must be finite and
// the second moments non-negative; otherwise nothing changes and the error names the parameter
// (ErrUnknownParam, ErrMissingParam, *ShapeError). A state with Step 0 and no
// moments (exported before the first Step) resets the optimiser.
func (a *Adam[T]) ImportState(p *Params[T], s AdamState) error {
	const ctx = "nn: import Adam state"
	if s.Step < 0 {
		return fmt.Errorf("%s: step %d", ctx, s.Step)
	}
	if s.Step == 0 && len(s.M) == 0 && len(s.V) == 0 {
		a.p, a.slots, a.step = nil, nil, 0
		return nil
	}
	trained := func(_ int, t *Tensor[T]) bool { return t.RequiresGrad() }
	if err := matchParamRecords(ctx+" (m)", p, s.M, trained); err != nil {
		return err
	}
	if err := matchParamRecords(ctx+" (v)", p, s.V, trained); err != nil {
		return err
	}
	for _, r := range s.M {
		for _, x := range r.Data {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("%s %q: first moment %v", ctx, r.Name, x)
			}
		}
	}
	for _, r := range s.V {
		for _, x := range r.Data {
			if !(x >= 0) || math.IsInf(float64(x), 1) {
				return fmt.Errorf("%s %q: second moment %v", ctx, r.Name, x)
			}
		}
	}
	a.p, a.slots, a.step = nil, nil, s.Step
	a.bind(p)
	byName := make(map[string]int, len(a.slots))
	for i := range a.slots {
		byName[a.slots[i].name] = i
	}
	for _, r := range s.M {
		fromFloat32(a.slots[byName[r.Name]].m, r.Data)
	}
	for _, r := range s.V {
		fromFloat32(a.slots[byName[r.Name]].v, r.Data)
	}
	return nil
}
