package kan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/m4sc/m4sc/nn"
)

// Layer is one Kolmogorov-Arnold layer from in to out features (Liu et al. 2024, §2.2,
// with the residual activation of its implementation detail (1)): every edge i -> o
// carries a learned function phi_{o,i}, and
//
//	y_o = sum_i phi_{o,i}(x_i),  phi_{o,i}(x) = wb_{o,i} SiLU(x) + ws_{o,i} sum_j c_{o,i,j} B_j(x)
//
// with B_j the G+k B-splines of order k on feature i's grid. It is computed in the
// efficient form of Blealtan's efficient-kan, as two matrix products over all rows at
// once: SiLU(X) Wb^T, and Basis(X) S^T with Basis(X) the [rows, in*(G+k)] matrix of
// basis values and S = ws*c flattened to [out, in*(G+k)].
//
// Off the grid: B-splines vanish outside the extended grid [t_0, t_{G+2k}) (the range
// widened by k intervals on each side), so an input there contributes no spline term
// and receives no gradient through the splines; only the SiLU path carries gradient.
// Inside the extension but outside the range the bases no longer sum to one, and the
// spline tapers off. Inputs that can leave the range should be normalised (Config.Norm)
// or the grid fitted to them (UpdateGrid).
//
// A Layer is used by one goroutine at a time. Its tensors are ordinary nn tensors, listed
// with their names by Params. UpdateGrid writes Coef and Grid in place; ExtendGrid
// replaces both with tensors of new shapes, so a parameter store and optimiser built
// on the old ones must be rebuilt.
type Layer[T nn.Float] struct {
	// Coef holds the spline coefficients c_{o,i,j}, shape [out, in, G+k].
	Coef *nn.Tensor[T]
	// Wb holds the base weights wb_{o,i}, shape [out, in]; nil with BaseNone.
	Wb *nn.Tensor[T]
	// Ws holds the spline scales ws_{o,i}, shape [out, in].
	Ws *nn.Tensor[T]
	// NormGain and NormBias are the layer norm's gain and bias, shape [in], with
	// NormLayer; nil otherwise.
	NormGain, NormBias *nn.Tensor[T]
	// Grid holds every input feature's knots t_0..t_{G+2k}, shape [in, G+2k+1], the
	// range being [t_k, t_{G+k}]. It needs no gradient (optimisers skip it) but is the
	// layer's state besides its parameters, so it is listed by Params and travels with
	// them in checkpoints. Forward reads it as it finds it: knots loaded into it must
	// be finite and non-decreasing with t_0 < t_{G+2k} (Check verifies this).
	Grid *nn.Tensor[T]

	name    string
	in, out int
	cfg     Config
	sp      *splines // built from spFrom, a copy of Grid.Data
	spFrom  []T
}

// Param is a tensor of a layer and its stable name, a path such as
// "kan/proj/layer0/coef".
type Param[T nn.Float] struct {
	Name   string
	Tensor *nn.Tensor[T]
}

// New makes a layer from in to out features whose tensors are named name+"/coef",
// name+"/wb", name+"/ws", name+"/grid" (and name+"/norm/gain", name+"/norm/bias" with
// NormLayer), initialised from rng as Config describes: coefficients small uniform
// noise, base weights uniform in +-BaseScale/sqrt(in), spline scales SplineScale, the
// uniform grid of GridSize intervals on [Min, Max] for every feature.
func New[T nn.Float](name string, in, out int, cfg Config, rng *rand.Rand) (*Layer[T], error) {
	if rng == nil {
		return nil, fmt.Errorf("kan: layer %q: %w: nil random source", name, ErrConfig)
	}
	return newLayer[T](name, in, out, cfg, rng)
}

// NewForLoad makes a layer like New whose coefficients and base weights are zero, for
// a caller that reads every tensor from a file next: nothing is drawn only to be
// overwritten. The grid, spline scales and norm gains are set as New sets them.
func NewForLoad[T nn.Float](name string, in, out int, cfg Config) (*Layer[T], error) {
	return newLayer[T](name, in, out, cfg, nil)
}

func newLayer[T nn.Float](name string, in, out int, cfg Config, rng *rand.Rand) (*Layer[T], error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, fmt.Errorf("kan: layer %q: %w", name, err)
	}
	if in < 1 || out < 1 {
		return nil, fmt.Errorf("kan: layer %q: %w: shape %d -> %d", name, ErrConfig, in, out)
	}
	l := &Layer[T]{name: name, in: in, out: out, cfg: c}
	row := uniformKnots(c.GridSize, c.Order, c.Min, c.Max)
	knots := make([]float64, 0, in*len(row))
	for range in {
		knots = append(knots, row...)
	}
	if err := l.setGrid(c.GridSize, knots); err != nil {
		return nil, fmt.Errorf("kan: layer %q: %w", name, err)
	}
	nb := c.GridSize + c.Order
	l.Coef = nn.NewParam[T](nil, out, in, nb)
	for i := range l.Coef.Data {
		if rng == nil {
			break
		}
		l.Coef.Data[i] = T((rng.Float64() - 0.5) * c.NoiseScale / float64(c.GridSize))
	}
	l.Ws = nn.NewParam[T](nil, out, in)
	for i := range l.Ws.Data {
		l.Ws.Data[i] = T(c.SplineScale)
	}
	if c.Base == BaseSiLU {
		l.Wb = nn.NewParam[T](nil, out, in)
		bound := c.BaseScale / math.Sqrt(float64(in))
		for i := range l.Wb.Data {
			if rng == nil {
				break
			}
			l.Wb.Data[i] = T(bound * (2*rng.Float64() - 1))
		}
	}
	if c.Norm == NormLayer {
		l.NormGain, l.NormBias = nn.NewParam[T](nil, in), nn.NewParam[T](nil, in)
		for i := range l.NormGain.Data {
			l.NormGain.Data[i] = 1
		}
	}
	return l, nil
}

// Name is the layer's path, the prefix of its tensors' names.
func (l *Layer[T]) Name() string { return l.name }

// In and Out are the numbers of input and output features.
func (l *Layer[T]) In() int  { return l.in }
func (l *Layer[T]) Out() int { return l.out }

// Config returns the layer's configuration with defaults filled in; GridSize is the
// current one (ExtendGrid changes it).
func (l *Layer[T]) Config() Config { return l.cfg }

// Params lists the layer's tensors with their names: coef, wb (unless BaseNone), ws,
// norm/gain and norm/bias (with NormLayer), and grid, which needs no gradient.
func (l *Layer[T]) Params() []Param[T] {
	ps := []Param[T]{{l.name + "/coef", l.Coef}}
	if l.Wb != nil {
		ps = append(ps, Param[T]{l.name + "/wb", l.Wb})
	}
	ps = append(ps, Param[T]{l.name + "/ws", l.Ws})
	if l.NormGain != nil {
		ps = append(ps, Param[T]{l.name + "/norm/gain", l.NormGain}, Param[T]{l.name + "/norm/bias", l.NormBias})
	}
	return append(ps, Param[T]{l.name + "/grid", l.Grid})
}

// AddParams stores the layer's tensors in p under their names, for an optimiser
// (nn.Adam skips the grid, which needs no gradient) and for checkpoints
// (nn.Params.Export and Import). It panics if a name is taken, as nn.Params.Add does.
func (l *Layer[T]) AddParams(p *nn.Params[T]) {
	for _, q := range l.Params() {
		p.Add(q.Name, q.Tensor)
	}
}

// NumParams counts the trainable values: out*in*(G+k+2), out*in*(G+k+1) with BaseNone,
// plus 2*in with NormLayer. The grid is not counted.
func (l *Layer[T]) NumParams() int {
	n := 0
	for _, p := range l.Params() {
		if p.Tensor.RequiresGrad() {
			n += p.Tensor.Len()
		}
	}
	return n
}

// Knots returns a copy of input feature i's G+2k+1 knots t_0..t_{G+2k}.
func (l *Layer[T]) Knots(i int) []float64 {
	return append([]float64(nil), l.splines().real(i)...)
}

// SetGrid replaces the knots, [in, G+2k+1] row-major for the current G, after checking
// that every feature's are finite and non-decreasing with t_0 < t_{G+2k}. The
// coefficients are not refitted (see UpdateGrid for that).
func (l *Layer[T]) SetGrid(knots []float64) error {
	if err := l.setGrid(l.cfg.GridSize, knots); err != nil {
		return fmt.Errorf("kan: layer %q: SetGrid: %w", l.name, err)
	}
	return nil
}

// Check reports whether Grid holds valid knots, for use after loading a checkpoint.
func (l *Layer[T]) Check() error {
	if _, err := l.buildSplines(); err != nil {
		return fmt.Errorf("kan: layer %q: grid: %w", l.name, err)
	}
	return nil
}

// setGrid rounds knots to T, stores them in Grid (a new tensor if the shape changes)
// and builds the splines from the rounded values, so that training always sees what a
// checkpoint holds.
func (l *Layer[T]) setGrid(g int, knots []float64) error {
	k := l.cfg.Order
	n := g + 2*k + 1
	if len(knots) != l.in*n {
		return fmt.Errorf("%w: %d knots, want %d x %d", ErrInput, len(knots), l.in, n)
	}
	rounded := make([]float64, len(knots))
	for i, v := range knots {
		rounded[i] = float64(T(v))
	}
	sp, err := splinesFrom(l.in, g, k, rounded, knotTol[T]())
	if err != nil {
		return err
	}
	if l.Grid == nil || l.Grid.Len() != len(knots) {
		l.Grid = nn.NewTensor[T](nil, l.in, n)
	}
	for i, v := range rounded {
		l.Grid.Data[i] = T(v)
	}
	l.sp, l.spFrom = sp, append(l.spFrom[:0], l.Grid.Data...)
	l.cfg.GridSize = g
	return nil
}

// knotTol is the relative tolerance under which knots count as uniform: a few roundings
// of T.
func knotTol[T nn.Float]() float64 {
	var z T
	if _, ok := any(z).(float32); ok {
		return 1e-6
	}
	return 1e-12
}

// buildSplines returns splines for the current Grid.Data, reusing the cached ones when
// it has not changed since they were built.
func (l *Layer[T]) buildSplines() (*splines, error) {
	if l.sp != nil && slices.Equal(l.Grid.Data, l.spFrom) {
		return l.sp, nil
	}
	knots := make([]float64, len(l.Grid.Data))
	for i, v := range l.Grid.Data {
		knots[i] = float64(v)
	}
	sp, err := splinesFrom(l.in, l.cfg.GridSize, l.cfg.Order, knots, knotTol[T]())
	if err != nil {
		return nil, err
	}
	l.sp, l.spFrom = sp, append(l.spFrom[:0], l.Grid.Data...)
	return sp, nil
}

// splines is buildSplines for Forward, which cannot return an error: knots that fail
// Check are a programming error by the time a model runs.
func (l *Layer[T]) splines() *splines {
	sp, err := l.buildSplines()
	if err != nil {
		panic(fmt.Sprintf("kan: layer %q: grid: %v (check loaded knots with Check)", l.name, err))
	}
	return sp
}

// Forward applies the layer to x, [..., in] (for example [batch, in] or
// [batch, tokens, in]; rows are the product of the leading dimensions), giving
// [..., out]. It panics if the last dimension is not In(): that is a programming error.
func (l *Layer[T]) Forward(g *nn.Graph[T], x *nn.Tensor[T]) *nn.Tensor[T] {
	if x.Rank() == 0 || x.Dim(-1) != l.in {
		panic(fmt.Sprintf("kan: layer %q: input of shape %v, want [..., %d]", l.name, x.Shape(), l.in))
	}
	if c, nb := l.Coef, l.splines().nb; c.Rank() != 3 || c.Dim(0) != l.out || c.Dim(1) != l.in || c.Dim(2) != nb {
		panic(fmt.Sprintf("kan: layer %q: coefficients of shape %v, want [%d, %d, %d]", l.name, c.Shape(), l.out, l.in, nb))
	}
	x = l.normalize(g, x)
	y := g.MatMulT(l.basis(g, x), l.scaled(g)) // [..., in*(G+k)] x [out, in*(G+k)]^T
	if l.Wb != nil {
		y = g.Add(g.MatMulT(g.SiLU(x), l.Wb), y)
	}
	return y
}

// normalize applies Config.Norm to x, [..., in].
func (l *Layer[T]) normalize(g *nn.Graph[T], x *nn.Tensor[T]) *nn.Tensor[T] {
	switch l.cfg.Norm {
	case NormTanh:
		return g.Tanh(x)
	case NormLayer:
		return g.LayerNorm(x, l.NormGain, l.NormBias, nn.DefaultNormEps)
	}
	return x
}

// basis records Basis(x): [..., in] -> [..., in*(G+k)], element (r, i*(G+k)+j) = B_j(x_ri)
// on feature i's grid, at most k+1 of them non-zero per (r, i). When x needs a gradient
// the forward pass also keeps, per element, the first live basis j0 and the k+1
// derivatives, so the backward rule evaluates nothing.
func (l *Layer[T]) basis(g *nn.Graph[T], x *nn.Tensor[T]) *nn.Tensor[T] {
	sp := l.splines()
	in, nb, k1 := l.in, sp.nb, sp.k+1
	var shape [nn.MaxDims]int
	nd := copy(shape[:], x.Shape())
	shape[nd-1] = in * nb
	out := g.New(x.RequiresGrad(), shape[:nd]...)
	xs, bs := x.Data, out.Data
	var j0s, ders []T // [elements], [elements, k+1]
	if out.RequiresGrad() {
		j0s, ders = g.New(false, len(xs)).Data, g.New(false, len(xs)*k1).Data
	}
	forRows(len(xs)/in, in*(8+nb), func(lo, hi int) {
		var val, der basisVals
		dp := &der
		if ders == nil {
			dp = nil
		}
		for e := lo * in; e < hi*in; e++ {
			j0, ok := sp.eval(e%in, float64(xs[e]), &val, dp)
			if !ok {
				continue // ders stay 0: no gradient off the grid
			}
			row := bs[e*nb : (e+1)*nb]
			for r, v := range val[:k1] {
				if j := j0 + r; j >= 0 && j < nb {
					row[j] = T(v)
				}
			}
			if ders != nil {
				j0s[e] = T(j0)
				for r, d := range der[:k1] {
					ders[e*k1+r] = T(d)
				}
			}
		}
	})
	// Y_{r,i*nb+j} = B_j(x_ri) -> dx_ri += sum_j dY_{r,i*nb+j} B'_j(x_ri), the sum over the
	// k+1 bases live at x_ri; zero off the extended grid.
	g.OnBackward(out, func() {
		dx, dy := x.Grad, out.Grad
		forRows(len(xs)/in, in*2*k1, func(lo, hi int) {
			for e := lo * in; e < hi*in; e++ {
				j0 := int(j0s[e])
				row, der := dy[e*nb:(e+1)*nb], ders[e*k1:(e+1)*k1]
				var s T
				for r, d := range der {
					if j := j0 + r; j >= 0 && j < nb {
						s += row[j] * d
					}
				}
				dx[e] += s
			}
		})
	}, x)
	return out
}

// scaled records S = ws*c as [out, in*(G+k)]: S_{o,i*nb+j} = ws_{o,i} c_{o,i,j}.
func (l *Layer[T]) scaled(g *nn.Graph[T]) *nn.Tensor[T] {
	c, ws := l.Coef, l.Ws
	nb := c.Dim(-1)
	out := g.New(c.RequiresGrad() || ws.RequiresGrad(), l.out, l.in*nb)
	for e, s := range ws.Data {
		dst, src := out.Data[e*nb:(e+1)*nb], c.Data[e*nb:(e+1)*nb]
		for j, v := range src {
			dst[j] = s * v
		}
	}
	// S_{e,j} = ws_e c_{e,j} -> dc_{e,j} += dS_{e,j} ws_e, dws_e += sum_j dS_{e,j} c_{e,j}.
	g.OnBackward(out, func() {
		dS := out.Grad
		dc, dws := c.Grad, ws.Grad
		for e, s := range ws.Data {
			d, src := dS[e*nb:(e+1)*nb], c.Data[e*nb:(e+1)*nb]
			if c.RequiresGrad() {
				dst := dc[e*nb : (e+1)*nb]
				for j, v := range d {
					dst[j] += v * s
				}
			}
			if ws.RequiresGrad() {
				var acc T
				for j, v := range d {
					acc += v * src[j]
				}
				dws[e] += acc
			}
		}
	}, c, ws)
	return out
}
