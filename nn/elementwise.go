package nn

import (
	"fmt"
	"math"
)

// Broadcast forms of binary operations: b is repeated to the shape of a.
const (
	bcSame   = iota // b has a's shape
	bcSuffix        // b's shape is a suffix of a's: repeated over a's leading dimensions (a bias)
	bcRow           // b has a's shape with the last dimension 1: one value per row
	bcScalar        // b has one element
)

// broadcastForm classifies b against a, or panics naming both shapes.
func broadcastForm[T Float](op string, a, b *Tensor[T]) int {
	switch {
	case sameShape(a, b):
		return bcSame
	case b.Len() == 1:
		return bcScalar
	case b.nd <= a.nd && suffixOf(a.Shape(), b.Shape()):
		return bcSuffix
	case b.nd == a.nd && b.Dim(-1) == 1 && equalInts(a.Shape()[:a.nd-1], b.Shape()[:b.nd-1]):
		return bcRow
	}
	panic(fmt.Sprintf("nn: %s of %v and %v: b must have a's shape, a suffix of it, its shape with last dimension 1, or one element", op, a.Shape(), b.Shape()))
}

// lastDim is the length of the last dimension, 1 for a scalar.
func lastDim[T Float](t *Tensor[T]) int {
	if t.nd == 0 {
		return 1
	}
	return max(1, t.Dim(-1))
}

func suffixOf(a, b []int) bool { return equalInts(a[len(a)-len(b):], b) }

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// bIndex maps an element of a to the element of b it meets.
func bIndex(form, i, lenB, last int) int {
	switch form {
	case bcSuffix:
		return i % lenB
	case bcRow:
		return i / last
	case bcScalar:
		return 0
	}
	return i
}

type binOp int

const (
	opAdd binOp = iota
	opSub
	opMul
	opDiv
)

var binNames = [...]string{"Add", "Sub", "Mul", "Div"}

// Add returns a + b; b may broadcast (see the bc forms: same shape, a suffix of a's
// shape, per row, or a scalar).
func (g *Graph[T]) Add(a, b *Tensor[T]) *Tensor[T] { return g.binary(opAdd, a, b) }

// Sub returns a - b with b broadcast as in Add.
func (g *Graph[T]) Sub(a, b *Tensor[T]) *Tensor[T] { return g.binary(opSub, a, b) }

// Mul returns a * b elementwise with b broadcast as in Add.
func (g *Graph[T]) Mul(a, b *Tensor[T]) *Tensor[T] { return g.binary(opMul, a, b) }

// Div returns a / b elementwise with b broadcast as in Add.
func (g *Graph[T]) Div(a, b *Tensor[T]) *Tensor[T] { return g.binary(opDiv, a, b) }

func (g *Graph[T]) binary(op binOp, a, b *Tensor[T]) *Tensor[T] {
	form := broadcastForm(binNames[op], a, b)
	out := g.like(a, anyNeeds(a, b))
	y, x, z := out.Data, a.Data, b.Data
	nb, last := len(z), lastDim(a)
	if form == bcSame {
		switch op {
		case opAdd:
			for i := range y {
				y[i] = x[i] + z[i]
			}
		case opSub:
			for i := range y {
				y[i] = x[i] - z[i]
			}
		case opMul:
			for i := range y {
				y[i] = x[i] * z[i]
			}
		case opDiv:
			for i := range y {
				y[i] = x[i] / z[i]
			}
		}
	} else {
		for i := range y {
			v := z[bIndex(form, i, nb, last)]
			switch op {
			case opAdd:
				y[i] = x[i] + v
			case opSub:
				y[i] = x[i] - v
			case opMul:
				y[i] = x[i] * v
			case opDiv:
				y[i] = x[i] / v
			}
		}
	}
	if out.needs {
		g.push(record[T]{bw: rule[T](binaryBackward[float32], binaryBackward[float64]), out: out, a: a, b: b, i: [4]int{int(op), form}})
	}
	return out
}

// binaryBackward, with b's gradient summed over the elements b was repeated to:
// a+b -> da += dy, db += dy;  a-b -> da += dy, db -= dy;
// a*b -> da += dy*b, db += dy*a;  a/b -> da += dy/b, db -= dy*a/b^2.
func binaryBackward[T Float](g *Graph[T], r *record[T]) {
	op, form := binOp(r.i[0]), r.i[1]
	dy, x, z := r.out.Grad, r.a.Data, r.b.Data
	da, db := gradOf(r.a), gradOf(r.b)
	nb, last := len(z), lastDim(r.a)
	for i, d := range dy {
		j := bIndex(form, i, nb, last)
		switch op {
		case opAdd:
			if da != nil {
				da[i] += d
			}
			if db != nil {
				db[j] += d
			}
		case opSub:
			if da != nil {
				da[i] += d
			}
			if db != nil {
				db[j] -= d
			}
		case opMul:
			if da != nil {
				da[i] += d * z[j]
			}
			if db != nil {
				db[j] += d * x[i]
			}
		case opDiv:
			if da != nil {
				da[i] += d / z[j]
			}
			if db != nil {
				db[j] -= d * x[i] / (z[j] * z[j])
			}
		}
	}
}

// Scale returns s*x.
func (g *Graph[T]) Scale(x *Tensor[T], s float64) *Tensor[T] {
	out := g.like(x, x.needs)
	sv := T(s)
	for i, v := range x.Data {
		out.Data[i] = v * sv
	}
	if out.needs {
		g.push(record[T]{bw: rule[T](scaleBackward[float32], scaleBackward[float64]), out: out, a: x, f: [2]float64{s}})
	}
	return out
}

// scaleBackward: y = s x -> dx += s dy.
func scaleBackward[T Float](g *Graph[T], r *record[T]) {
	s := T(r.f[0])
	dx := r.a.Grad
	for i, d := range r.out.Grad {
		dx[i] += s * d
	}
}

type unaryOp int

const (
	opGELU unaryOp = iota
	opSiLU
	opTanh
	opSigmoid
	opExp
	opSquare
)

// GELU is x*Phi(x) with the exact normal CDF (Hendrycks and Gimpel, 2016).
func (g *Graph[T]) GELU(x *Tensor[T]) *Tensor[T] { return g.unary(opGELU, x) }

// SiLU is x*sigmoid(x), also called swish.
func (g *Graph[T]) SiLU(x *Tensor[T]) *Tensor[T] { return g.unary(opSiLU, x) }

// Tanh is the hyperbolic tangent.
func (g *Graph[T]) Tanh(x *Tensor[T]) *Tensor[T] { return g.unary(opTanh, x) }

// Sigmoid is 1/(1+exp(-x)).
func (g *Graph[T]) Sigmoid(x *Tensor[T]) *Tensor[T] { return g.unary(opSigmoid, x) }

// Exp is e^x.
func (g *Graph[T]) Exp(x *Tensor[T]) *Tensor[T] { return g.unary(opExp, x) }

// Square is x^2.
func (g *Graph[T]) Square(x *Tensor[T]) *Tensor[T] { return g.unary(opSquare, x) }

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func (g *Graph[T]) unary(op unaryOp, x *Tensor[T]) *Tensor[T] {
	out := g.like(x, x.needs)
	y := out.Data
	for i, v := range x.Data {
		f := float64(v)
		switch op {
		case opGELU:
			y[i] = T(0.5 * f * math.Erfc(-f/math.Sqrt2))
		case opSiLU:
			y[i] = T(f * sigmoid(f))
		case opTanh:
			y[i] = T(math.Tanh(f))
		case opSigmoid:
			y[i] = T(sigmoid(f))
		case opExp:
			y[i] = T(math.Exp(f))
		case opSquare:
			y[i] = v * v
		}
	}
	if out.needs {
		g.push(record[T]{bw: rule[T](unaryBackward[float32], unaryBackward[float64]), out: out, a: x, i: [4]int{int(op)}})
	}
	return out
}

// unaryBackward, dx += dy * f'(x):
// GELU: Phi(x) + x phi(x);  SiLU: s + x s (1-s) with s = sigmoid(x);
// tanh: 1 - y^2;  sigmoid: y (1-y);  exp: y;  square: 2x.
func unaryBackward[T Float](g *Graph[T], r *record[T]) {
	op := unaryOp(r.i[0])
	x, y, dy, dx := r.a.Data, r.out.Data, r.out.Grad, r.a.Grad
	for i, d := range dy {
		f := float64(x[i])
		var dd float64
		switch op {
		case opGELU:
			dd = 0.5*math.Erfc(-f/math.Sqrt2) + f*math.Exp(-0.5*f*f)/math.Sqrt(2*math.Pi)
		case opSiLU:
			s := sigmoid(f)
			dd = s + f*s*(1-s)
		case opTanh:
			t := float64(y[i])
			dd = 1 - t*t
		case opSigmoid:
			s := float64(y[i])
			dd = s * (1 - s)
		case opExp:
			dd = float64(y[i])
		case opSquare:
			dd = 2 * f
		}
		dx[i] += d * T(dd)
	}
}

// Sum adds every element, giving a scalar.
func (g *Graph[T]) Sum(x *Tensor[T]) *Tensor[T] { return g.reduce(x, 1) }

// Mean averages every element, giving a scalar.
func (g *Graph[T]) Mean(x *Tensor[T]) *Tensor[T] { return g.reduce(x, 1/float64(max(1, x.Len()))) }

func (g *Graph[T]) reduce(x *Tensor[T], scale float64) *Tensor[T] {
	out := g.New(x.needs)
	var s float64
	for _, v := range x.Data {
		s += float64(v)
	}
	out.Data[0] = T(s * scale)
	if out.needs {
		g.push(record[T]{bw: rule[T](reduceBackward[float32], reduceBackward[float64]), out: out, a: x, f: [2]float64{scale}})
	}
	return out
}

// reduceBackward: y = c sum(x) -> dx += c dy.
func reduceBackward[T Float](g *Graph[T], r *record[T]) {
	d := r.out.Grad[0] * T(r.f[0])
	dx := r.a.Grad
	for i := range dx {
		dx[i] += d
	}
}
