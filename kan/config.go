package kan

import (
	"errors"
	"fmt"
	"math"
)

// Defaults of Config, as in the reference implementations (pykan's KANLayer and
// Blealtan's efficient-kan KANLinear): grid_size 5, spline_order 3, grid_range [-1, 1],
// SiLU base, grid_eps 0.02, scale_noise 0.1, scale_base 1, scale_spline 1.
const (
	DefaultGridSize    = 5
	DefaultOrder       = 3
	DefaultMin         = -1.0
	DefaultMax         = 1.0
	DefaultNoiseScale  = 0.1
	DefaultBaseScale   = 1.0
	DefaultSplineScale = 1.0
	DefaultGridEps     = 0.02
	// GridMargin widens a grid fitted to data by this fraction of the data's range on
	// each side, so the extreme samples fall strictly inside it. (efficient-kan adds
	// an absolute 0.01; a fraction keeps UpdateGrid independent of the input's scale.)
	GridMargin = 0.01
	// MaxOrder is the highest spline order supported.
	MaxOrder = 7
	// MaxGridSize bounds G so a typo cannot allocate gigabytes.
	MaxGridSize = 1 << 12
)

// Base selects the residual activation b(x) added to each edge's spline.
type Base int

const (
	// BaseSiLU is b(x) = x sigmoid(x), the paper's choice (Liu et al. 2024, eq. 2.10).
	BaseSiLU Base = iota
	// BaseNone drops the base path: y_o = sum_i w_s c . B(x_i) only; Wb is nil.
	BaseNone
)

func (b Base) String() string {
	switch b {
	case BaseSiLU:
		return "silu"
	case BaseNone:
		return "none"
	}
	return fmt.Sprintf("Base(%d)", int(b))
}

// Norm selects a normalisation applied to the layer's input before both paths. Splines
// are zero outside their extended grid, and so are their gradients there (see Layer), so
// inputs that may wander off the grid should be squashed onto it.
type Norm int

const (
	// NormNone feeds the input to the layer as is (the reference implementations' choice).
	NormNone Norm = iota
	// NormTanh feeds tanh(x): always inside (-1, 1), so keep the default range [-1, 1].
	NormTanh
	// NormLayer feeds nn.LayerNorm(x) over the in features, with a learnable gain
	// (initially 1) and bias (initially 0) of shape [in], eps nn.DefaultNormEps. A row
	// then has zero mean and unit variance, so entries lie within +-sqrt(in-1) and
	// mostly within +-2: widen the range (for example [-3, 3]) or expect some inputs in
	// the grid's extension or beyond it. With in = 1 or 2 every row normalises to
	// constants (0, or +-1): use NormTanh for narrow layers.
	NormLayer
)

func (n Norm) String() string {
	switch n {
	case NormNone:
		return "none"
	case NormTanh:
		return "tanh"
	case NormLayer:
		return "layernorm"
	}
	return fmt.Sprintf("Norm(%d)", int(n))
}

// Config describes a KAN layer. The zero value is the reference configuration; every
// zero field means its Default constant.
type Config struct {
	// GridSize is G, the number of intervals of the uniform grid on [Min, Max]
	// (DefaultGridSize). Each edge has G+Order coefficients.
	GridSize int
	// Order is the spline order k: 1 linear, 2 quadratic, 3 cubic (DefaultOrder), at most
	// MaxOrder. Cubic, quadratic and linear splines on a uniform grid use closed forms;
	// other orders and non-uniform grids use the Cox-de Boor recursion.
	Order int
	// Min and Max are the grid range, in the units of the layer's input after Norm;
	// both zero means [DefaultMin, DefaultMax]. The grid extends Order intervals
	// beyond each end.
	Min, Max float64
	// Base is the residual activation (BaseSiLU).
	Base Base
	// Norm is applied to the input first (NormNone).
	Norm Norm
	// NoiseScale sets the initial coefficients: uniform in +-NoiseScale/(2G)
	// (DefaultNoiseScale, efficient-kan's scale_noise).
	NoiseScale float64
	// BaseScale scales the initial base weights, uniform in +-BaseScale/sqrt(in)
	// (DefaultBaseScale; the bound of pykan's scale_base and of efficient-kan's
	// kaiming_uniform with a = sqrt(5)).
	BaseScale float64
	// SplineScale is the initial value of every spline scale w_s (DefaultSplineScale).
	SplineScale float64
	// GridEps mixes a uniform grid into the data-adaptive one in UpdateGrid:
	// knots = GridEps*uniform + (1-GridEps)*percentiles (pykan's grid_eps,
	// DefaultGridEps), in (0, 1]. 1 keeps grids uniform (and on the fast path).
	GridEps float64
}

// ErrConfig reports an invalid Config or layer shape.
var ErrConfig = errors.New("kan: invalid configuration")

// ErrInput reports input data a grid cannot be fitted to (empty, or not finite).
var ErrInput = errors.New("kan: invalid input data")

// resolve returns c with defaults filled in, or an error naming the bad field.
func (c Config) resolve() (Config, error) {
	if c.GridSize == 0 {
		c.GridSize = DefaultGridSize
	}
	if c.Order == 0 {
		c.Order = DefaultOrder
	}
	if c.Min == 0 && c.Max == 0 {
		c.Min, c.Max = DefaultMin, DefaultMax
	}
	if c.NoiseScale == 0 {
		c.NoiseScale = DefaultNoiseScale
	}
	if c.BaseScale == 0 {
		c.BaseScale = DefaultBaseScale
	}
	if c.SplineScale == 0 {
		c.SplineScale = DefaultSplineScale
	}
	if c.GridEps == 0 {
		c.GridEps = DefaultGridEps
	}
	switch {
	case c.GridSize < 1 || c.GridSize > MaxGridSize:
		return c, fmt.Errorf("%w: grid size %d, want 1..%d", ErrConfig, c.GridSize, MaxGridSize)
	case c.Order < 1 || c.Order > MaxOrder:
		return c, fmt.Errorf("%w: order %d, want 1..%d", ErrConfig, c.Order, MaxOrder)
	case !(c.Min < c.Max) || math.IsInf(c.Min, 0) || math.IsInf(c.Max, 0):
		return c, fmt.Errorf("%w: range [%g, %g]", ErrConfig, c.Min, c.Max)
	case c.Base != BaseSiLU && c.Base != BaseNone:
		return c, fmt.Errorf("%w: base %v", ErrConfig, c.Base)
	case c.Norm < NormNone || c.Norm > NormLayer:
		return c, fmt.Errorf("%w: norm %v", ErrConfig, c.Norm)
	case !(c.NoiseScale > 0) || math.IsInf(c.NoiseScale, 0):
		return c, fmt.Errorf("%w: noise scale %g", ErrConfig, c.NoiseScale)
	case !(c.BaseScale > 0) || math.IsInf(c.BaseScale, 0):
		return c, fmt.Errorf("%w: base scale %g", ErrConfig, c.BaseScale)
	case math.IsNaN(c.SplineScale) || math.IsInf(c.SplineScale, 0):
		return c, fmt.Errorf("%w: spline scale %g", ErrConfig, c.SplineScale)
	case !(c.GridEps > 0 && c.GridEps <= 1):
		return c, fmt.Errorf("%w: grid eps %g, want (0, 1]", ErrConfig, c.GridEps)
	}
	return c, nil
}
