package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Initialisers fill a tensor's Data in place, drawing from the given generator in
// element order (so a seed reproduces the values), and return the tensor so they
// compose with NewParam and Params.Add:
//
//	w := p.Add("wq", nn.XavierUniform(rng, nn.NewParam[float32](nil, in, out)))
//
// Invalid arguments (a negative std, hi < lo, a fan-based initialiser on a tensor that
// is not 2-D) are programming errors and panic.

// Layout says which dimension of a 2-D weight is the input side.
type Layout int

const (
	// InOut is [in, out], the weight of Graph.MatMul: y = x W.
	InOut Layout = iota
	// OutIn is [out, in], the weight of Graph.MatMulT: y = x W^T, the layout of a
	// linear layer's weight and of an embedding table used as output projection
	// ([vocab, dim]: fan-in dim).
	OutIn
)

// Fans returns the fan-in and fan-out of a 2-D weight of the given layout.
func Fans(shape []int, l Layout) (fanIn, fanOut int) {
	if len(shape) != 2 {
		panic(fmt.Sprintf("nn: fan-in of a weight of shape %v, want 2-D", shape))
	}
	switch l {
	case InOut:
		return shape[0], shape[1]
	case OutIn:
		return shape[1], shape[0]
	}
	panic(fmt.Sprintf("nn: unknown Layout %d", l))
}

// Normal fills t with samples of N(0, std^2).
func Normal[T Float](rng *rand.Rand, t *Tensor[T], std float64) *Tensor[T] {
	if !(std >= 0) {
		panic(fmt.Sprintf("nn: Normal with std %v", std))
	}
	for i := range t.Data {
		t.Data[i] = T(std * rng.NormFloat64())
	}
	return t
}

// Uniform fills t with samples uniform on [lo, hi) (before rounding to T).
func Uniform[T Float](rng *rand.Rand, t *Tensor[T], lo, hi float64) *Tensor[T] {
	if !(hi >= lo) {
		panic(fmt.Sprintf("nn: Uniform on [%v, %v)", lo, hi))
	}
	w := hi - lo
	for i := range t.Data {
		t.Data[i] = T(lo + w*rng.Float64())
	}
	return t
}

// XavierUniform fills a 2-D weight with samples uniform on [-a, a),
// a = sqrt(6 / (fanIn + fanOut)), variance 2 / (fanIn + fanOut): Glorot and Bengio
// (2010), "Understanding the difficulty of training deep feedforward neural
// networks", eq. 16. The bound is symmetric in the fans, so it fits both layouts
// ([in, out] for MatMul, [out, in] for MatMulT). Suited to tanh, sigmoid and linear
// layers.
func XavierUniform[T Float](rng *rand.Rand, t *Tensor[T]) *Tensor[T] {
	in, out := Fans(t.Shape(), InOut)
	a := math.Sqrt(6 / float64(max(1, in+out)))
	return Uniform(rng, t, -a, a)
}

// GlorotUniform is XavierUniform.
func GlorotUniform[T Float](rng *rand.Rand, t *Tensor[T]) *Tensor[T] { return XavierUniform(rng, t) }

// KaimingNormal fills a 2-D weight of the given layout with samples of
// N(0, 2 / fanIn): He et al. (2015), "Delving deep into rectifiers", eq. 10 (the
// forward, fan-in mode), which keeps the variance of pre-activations constant
// through ReLU layers, where E[relu(y)^2] = Var(y)/2. For GELU, E[gelu(y)^2] is
// 0.425 Var(y) at unit variance, so the exact gain would be 1.53 rather than
// sqrt(2) = 1.41; the ReLU gain is the usual choice for GELU and SiLU layers.
func KaimingNormal[T Float](rng *rand.Rand, t *Tensor[T], l Layout) *Tensor[T] {
	in, _ := Fans(t.Shape(), l)
	return Normal(rng, t, math.Sqrt(2/float64(max(1, in))))
}

// Zeros sets every element of t to 0 (biases).
func Zeros[T Float](t *Tensor[T]) *Tensor[T] {
	clear(t.Data)
	return t
}

// Ones sets every element of t to 1 (normalisation gains).
func Ones[T Float](t *Tensor[T]) *Tensor[T] {
	for i := range t.Data {
		t.Data[i] = 1
	}
	return t
}
