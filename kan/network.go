package kan

import (
	"fmt"
	"math/rand/v2"

	"github.com/m4sc/m4sc/nn"
)

// Network is a stack of layers of widths [n_0, n_1, ..., n_L] (Liu et al. 2024, §2.2),
// layer l named name+"/layer"+l.
type Network[T nn.Float] struct {
	Layers []*Layer[T]
}

// NewNetwork makes the layers n_0 -> n_1 -> ... -> n_L, all with cfg, initialised from rng.
func NewNetwork[T nn.Float](name string, widths []int, cfg Config, rng *rand.Rand) (*Network[T], error) {
	if len(widths) < 2 {
		return nil, fmt.Errorf("kan: network %q: %w: widths %v, want at least two", name, ErrConfig, widths)
	}
	n := &Network[T]{}
	for l := range len(widths) - 1 {
		layer, err := New[T](fmt.Sprintf("%s/layer%d", name, l), widths[l], widths[l+1], cfg, rng)
		if err != nil {
			return nil, err
		}
		n.Layers = append(n.Layers, layer)
	}
	return n, nil
}

// Forward applies the layers in turn to x, [..., n_0], giving [..., n_L].
func (n *Network[T]) Forward(g *nn.Graph[T], x *nn.Tensor[T]) *nn.Tensor[T] {
	for _, l := range n.Layers {
		x = l.Forward(g, x)
	}
	return x
}

// Params lists every layer's parameters in order.
func (n *Network[T]) Params() []Param[T] {
	var ps []Param[T]
	for _, l := range n.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// AddParams stores every layer's tensors in p (see Layer.AddParams).
func (n *Network[T]) AddParams(p *nn.Params[T]) {
	for _, l := range n.Layers {
		l.AddParams(p)
	}
}

// Check reports whether every layer's Grid holds valid knots (see Layer.Check).
func (n *Network[T]) Check() error {
	for _, l := range n.Layers {
		if err := l.Check(); err != nil {
			return err
		}
	}
	return nil
}

// NumParams counts the trainable values of all layers.
func (n *Network[T]) NumParams() int {
	s := 0
	for _, l := range n.Layers {
		s += l.NumParams()
	}
	return s
}

// Regularization sums the layers' penalties (see Layer.Regularization), a scalar.
func (n *Network[T]) Regularization(g *nn.Graph[T], l1, entropy float64) *nn.Tensor[T] {
	r := n.Layers[0].Regularization(g, l1, entropy)
	for _, l := range n.Layers[1:] {
		r = g.Add(r, l.Regularization(g, l1, entropy))
	}
	return r
}

// UpdateGrid updates every layer's grid (Layer.UpdateGrid) from x, [..., n_0]: layer 0
// from x, each next layer from its input as computed after the previous refit.
func (n *Network[T]) UpdateGrid(x *nn.Tensor[T]) error {
	return n.eachLayer(x, func(l *Layer[T], in *nn.Tensor[T]) error { return l.UpdateGrid(in) })
}

// ExtendGrid extends every layer to newG intervals (Layer.ExtendGrid); with x not nil
// each layer's grid is fitted to its input on x, as in UpdateGrid.
func (n *Network[T]) ExtendGrid(newG int, x *nn.Tensor[T]) error {
	if x == nil {
		for _, l := range n.Layers {
			if err := l.ExtendGrid(newG, nil); err != nil {
				return err
			}
		}
		return nil
	}
	return n.eachLayer(x, func(l *Layer[T], in *nn.Tensor[T]) error { return l.ExtendGrid(newG, in) })
}

func (n *Network[T]) eachLayer(x *nn.Tensor[T], fn func(l *Layer[T], in *nn.Tensor[T]) error) error {
	g := nn.NewGraph[T](nil)
	for i, l := range n.Layers {
		if err := fn(l, x); err != nil {
			return err
		}
		if i+1 < len(n.Layers) {
			x = l.Forward(g, x)
		}
	}
	return nil
}
