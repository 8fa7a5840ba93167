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
	out := g.likeFull(a, anyNeeds(a, b))
	y, x, z := out.Data, a.Data, b.Data
	nb, last := len(z), lastDim(a)
	if split(g.workers, len(y), 2) {
		parallelElems(g.workers, len(y), 2, func(lo, hi int) {
			binaryRange(op, form, y, x, z, nb, last, lo, hi)
		})
	} else {
		binaryRange(op, form, y, x, z, nb, last, 0, len(y))
	}
	if out.needs {
		g.push(record[T]{bw: rule[T](binaryBackward[float32], binaryBackward[float64]), out: out, a: a, b: b, i: [4]int{int(op), form}, own: true})
	}
	return out
}

// binaryRange computes elements [lo, hi) of a binary operation, one loop per
// operation and broadcast form so that the inner loops carry no branches.
func binaryRange[T Float](op binOp, form int, y, x, z []T, nb, last, lo, hi int) {
	y, x = y[lo:hi], x[lo:hi]
	switch form {
	case bcSame:
		z = z[lo:hi]
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
		return
	case bcScalar:
		v := z[0]
		switch op {
		case opAdd:
			for i := range y {
				y[i] = x[i] + v
			}
		case opSub:
			for i := range y {
				y[i] = x[i] - v
			}
		case opMul:
			for i := range y {
				y[i] = x[i] * v
			}
		case opDiv:
			for i := range y {
				y[i] = x[i] / v
			}
		}
		return
	}
	forRuns(form, lo, hi, nb, last, func(i0, n, j0 int) {
		y, x := y[i0-lo:i0-lo+n], x[i0-lo:i0-lo+n]
		if form == bcRow {
			v := z[j0]
			switch op {
			case opAdd:
				for i := range y {
					y[i] = x[i] + v
				}
			case opSub:
				for i := range y {
					y[i] = x[i] - v
				}
			case opMul:
				for i := range y {
					y[i] = x[i] * v
				}
			case opDiv:
				for i := range y {
					y[i] = x[i] / v
				}
			}
			return
		}
		z := z[j0 : j0+n]
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
	})
}

// forRuns splits elements [lo, hi) of a into runs over which b's broadcast index
// (bcSuffix or bcRow) moves simply: fn(i0, n, j0) gets elements i0 .. i0+n-1 of a,
// meeting b[j0 .. j0+n-1] for bcSuffix and b[j0] alone for bcRow. This keeps
// divisions out of the inner loops.
func forRuns(form, lo, hi, nb, last int, fn func(i0, n, j0 int)) {
	switch form {
	case bcSuffix:
		j := lo % nb
		for i := lo; i < hi; {
			n := min(nb-j, hi-i)
			fn(i, n, j)
			i += n
			j = 0
		}
	case bcRow:
		for i := lo; i < hi; {
			n := min(last-i%last, hi-i)
			fn(i, n, i/last)
			i += n
		}
	}
}

// binaryBackward, with b's gradient summed over the elements b was repeated to:
// a+b -> da += dy, db += dy;  a-b -> da += dy, db -= dy;
// a*b -> da += dy*b, db += dy*a;  a/b -> da += dy/b, db -= dy*a/b^2.
func binaryBackward[T Float](g *Graph[T], r *record[T]) {
	op, form := binOp(r.i[0]), r.i[1]
	dy, x, z := r.out.Grad, r.a.Data, r.b.Data
	nb, last := len(z), lastDim(r.a)
	var da, db []T
	if op == opAdd || op == opSub {
		// da += dy: a gradient that no rule has written yet becomes dy's buffer,
		// which no rule reads after this one (out's consumers have all run).
		if d, fresh := gradTo(r.a); fresh {
			r.a.Grad = dy
		} else {
			da = d
		}
	} else {
		da = gradOf(r.a)
	}
	if op == opAdd && form == bcSame {
		// db += dy on b's own shape: copied when nothing has written db yet.
		// The closure is built only when the copy is split, and d is never assigned
		// after it: either would cost an allocation per call (see parallelFor).
		if d, fresh := gradTo(r.b); !fresh {
			db = d
		} else if split(g.workers, len(dy), 1) {
			parallelElems(g.workers, len(dy), 1, func(lo, hi int) { copy(d[lo:hi], dy[lo:hi]) })
		} else {
			copy(d, dy)
		}
	} else {
		db = gradOf(r.b)
	}
	if da != nil {
		// da's elements are independent: split them across workers.
		if split(g.workers, len(dy), 2) {
			parallelElems(g.workers, len(dy), 2, func(lo, hi int) {
				binaryGradA(op, form, da, dy, z, nb, last, lo, hi)
			})
		} else {
			binaryGradA(op, form, da, dy, z, nb, last, 0, len(dy))
		}
	}
	if db == nil {
		return
	}
	if !split(g.workers, len(dy), 3) {
		binaryGradB(op, form, db, dy, x, z, nb, last, 0, len(dy))
		return
	}
	switch form {
	case bcSame:
		parallelElems(g.workers, len(dy), 3, func(lo, hi int) {
			binaryGradB(op, form, db, dy, x, z, nb, last, lo, hi)
		})
	case bcSuffix:
		// b repeats every nb elements of a: split b's elements, each worker summing
		// its columns over every repetition.
		reps := len(dy) / nb
		parallelElems(g.workers, nb, 3*reps, func(lo, hi int) {
			for rep := 0; rep < reps; rep++ {
				binaryGradB(op, form, db, dy, x, z, nb, last, rep*nb+lo, rep*nb+hi)
			}
		})
	case bcRow:
		// One b element per row of last elements: split whole rows.
		rows := len(dy) / last
		parallelFor(g.workers, rows, 3*last, func(lo, hi int) {
			binaryGradB(op, form, db, dy, x, z, nb, last, lo*last, hi*last)
		})
	default:
		binaryGradB(op, form, db, dy, x, z, nb, last, 0, len(dy))
	}
}

// binaryGradA adds a's gradient for elements [lo, hi).
func binaryGradA[T Float](op binOp, form int, da, dy, z []T, nb, last, lo, hi int) {
	da, dy = da[lo:hi], dy[lo:hi]
	switch op {
	case opAdd, opSub:
		for i, d := range dy {
			da[i] += d
		}
	case opMul, opDiv:
		switch form {
		case bcSame:
			z = z[lo:hi]
			if op == opMul {
				for i, d := range dy {
					da[i] += d * z[i]
				}
			} else {
				for i, d := range dy {
					da[i] += d / z[i]
				}
			}
		case bcScalar:
			v := z[0]
			if op == opDiv {
				v = 1 / v
			}
			for i, d := range dy {
				da[i] += d * v
			}
		default:
			forRuns(form, lo, hi, nb, last, func(i0, n, j0 int) {
				da, dy := da[i0-lo:i0-lo+n], dy[i0-lo:i0-lo+n]
				if form == bcRow {
					v := z[j0]
					if op == opDiv {
						v = 1 / v
					}
					for i, d := range dy {
						da[i] += d * v
					}
					return
				}
				z := z[j0 : j0+n]
				if op == opMul {
					for i, d := range dy {
						da[i] += d * z[i]
					}
				} else {
					for i, d := range dy {
						da[i] += d / z[i]
					}
				}
			})
		}
	}
}

// binaryGradB adds b's gradient from elements [lo, hi) of a.
func binaryGradB[T Float](op binOp, form int, db, dy, x, z []T, nb, last, lo, hi int) {
	if form == bcSame {
		db, dy, x, z = db[lo:hi], dy[lo:hi], x[lo:hi], z[lo:hi]
		switch op {
		case opAdd:
			for i, d := range dy {
				db[i] += d
			}
		case opSub:
			for i, d := range dy {
				db[i] -= d
			}
		case opMul:
			for i, d := range dy {
				db[i] += d * x[i]
			}
		case opDiv:
			for i, d := range dy {
				db[i] -= d * x[i] / (z[i] * z[i])
			}
		}
		return
	}
	if form == bcScalar {
		var acc T
		for i := lo; i < hi; i++ {
			switch op {
			case opAdd:
				acc += dy[i]
			case opSub:
				acc -= dy[i]
			case opMul:
				acc += dy[i] * x[i]
			case opDiv:
				acc -= dy[i] * x[i] / (z[0] * z[0])
			}
		}
		db[0] += acc
		return
	}
	forRuns(form, lo, hi, nb, last, func(i0, n, j0 int) {
		dy, x := dy[i0:i0+n], x[i0:i0+n]
		if form == bcRow {
			var acc T
			switch op {
			case opAdd, opSub:
				for _, d := range dy {
					acc += d
				}
			case opMul, opDiv:
				for i, d := range dy {
					acc += d * x[i]
				}
			}
			switch op {
			case opAdd, opMul:
				db[j0] += acc
			case opSub:
				db[j0] -= acc
			case opDiv:
				db[j0] -= acc / (z[j0] * z[j0])
			}
			return
		}
		db, z := db[j0:j0+n], z[j0:j0+n]
		switch op {
		case opAdd:
			for i, d := range dy {
				db[i] += d
			}
		case opSub:
			for i, d := range dy {
				db[i] -= d
			}
		case opMul:
			for i, d := range dy {
				db[i] += d * x[i]
			}
		case opDiv:
			for i, d := range dy {
				db[i] -= d * x[i] / (z[i] * z[i])
			}
		}
	})
}

// Scale returns s*x.
func (g *Graph[T]) Scale(x *Tensor[T], s float64) *Tensor[T] {
	out := g.like(x, x.needs)
	scaleRange(out.Data, x.Data, T(s), g.workers)
	if out.needs {
		g.push(record[T]{bw: rule[T](scaleBackward[float32], scaleBackward[float64]), out: out, a: x, f: [2]float64{s}})
	}
	return out
}

// scaleBackward: y = s x -> dx += s dy.
func scaleBackward[T Float](g *Graph[T], r *record[T]) {
	s := T(r.f[0])
	dx, dy := r.a.Grad, r.out.Grad
	if !split(g.workers, len(dy), 1) {
		for i, d := range dy {
			dx[i] += s * d
		}
		return
	}
	parallelElems(g.workers, len(dy), 1, func(lo, hi int) {
		dx := dx[lo:hi]
		for i, d := range dy[lo:hi] {
			dx[i] += s * d
		}
	})
}

// scaleRange sets y = s x, in parallel when large.
func scaleRange[T Float](y, x []T, s T, workers int) {
	if !split(workers, len(x), 1) {
		for i, v := range x {
			y[i] = v * s
		}
		return
	}
	parallelElems(workers, len(x), 1, func(lo, hi int) {
		y := y[lo:hi]
		for i, v := range x[lo:hi] {
			y[i] = v * s
		}
	})
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
	out := g.likeFull(x, x.needs)
	y := out.Data
	var deriv []T
	if op == opGELU && out.needs {
		// GELU's derivative needs erfc and exp again; computing it here, while x is
		// in cache, halves the work of the pair of passes.
		deriv = g.bufZ(len(y), false)
	}
	if split(g.workers, len(y), unaryCost[op]) {
		parallelElems(g.workers, len(y), unaryCost[op], func(lo, hi int) {
			unaryRange(op, y, x.Data, deriv, lo, hi)
		})
	} else {
		unaryRange(op, y, x.Data, deriv, 0, len(y))
	}
	if out.needs {
		g.push(record[T]{bw: rule[T](unaryBackward[float32], unaryBackward[float64]), out: out, a: x, i: [4]int{int(op)}, aux: deriv})
	}
	return out
}

// unaryCost is a rough count of scalar operations per element, for parallelElems.
var unaryCost = [...]int{opGELU: 40, opSiLU: 20, opTanh: 20, opSigmoid: 20, opExp: 15, opSquare: 1}

const invSqrt2Pi = 0.3989422804014327 // 1/sqrt(2 pi)

// gelu32 returns GELU(x) = x Phi(x) and its derivative Phi(x) + x phi(x), accurate to
// float32 rounding, at a fraction of the cost of math.Erfc. For |x| < geluTableMax it
// interpolates Phi and phi between nodes h = 1/geluTableStep apart by cubic Hermite
// polynomials from the values and derivatives at the nodes (phi' = -x phi): the error
// is below h^4/384 times the fourth derivative, under 1e-10 relative for both. The
// polynomials are kept as their power-series coefficients in f = (x - x0)/h, so an
// element costs two Horner evaluations. Outside it uses geluTail. TestGELU32 compares
// it with math.Erfc over the float32 range that matters.
func gelu32(x float64) (y, dy float64) {
	u := (x + geluTableMax) * geluTableStep
	if !(u >= 0 && u < 2*geluTableMax*geluTableStep) { // also NaN
		return geluTail(x)
	}
	cdf, pdf := geluAt(u)
	return x * cdf, cdf + x*pdf
}

// geluAt returns Phi and phi from gelu32's table at u = (x + geluTableMax) geluTableStep,
// for 0 <= u < 2 geluTableMax geluTableStep. It is small enough to be inlined into
// the loops of geluRow32.
func geluAt(u float64) (cdf, pdf float64) {
	i := int(u)
	f := u - float64(i)
	c := geluTable[8*i : 8*i+8 : 8*i+8]
	return c[0] + f*(c[1]+f*(c[2]+f*c[3])), c[4] + f*(c[5]+f*(c[6]+f*c[7]))
}

// geluRow32 writes y[j] = GELU(z[j] + bias[j]) (the sum in float32; bias nil: z[j]) and,
// when deriv is not nil, GELU's derivative there into deriv[j], as gelu32 does but with
// the table's path inlined into the loop.
func geluRow32(y, deriv, z, bias []float32) {
	y = y[:len(z)]
	if bias != nil {
		bias = bias[:len(z)]
	}
	if deriv != nil {
		deriv = deriv[:len(z)]
	}
	for j, v := range z {
		if bias != nil {
			v += bias[j]
		}
		x := float64(v)
		var g, d float64
		if u := (x + geluTableMax) * geluTableStep; u >= 0 && u < 2*geluTableMax*geluTableStep {
			cdf, pdf := geluAt(u)
			g, d = x*cdf, cdf+x*pdf
		} else {
			g, d = geluTail(x)
		}
		y[j] = float32(g)
		if deriv != nil {
			deriv[j] = float32(d)
		}
	}
}

// The nodes of gelu32's table: geluTableStep a unit over [-geluTableMax, geluTableMax].
const (
	geluTableMax  = 4
	geluTableStep = 128
)

// geluTable holds, for each interval [x0, x0+h] between nodes, the coefficients of
// the cubic Hermite interpolants of Phi and phi in f = (x - x0)/h, four each (64 kB;
// the intervals near zero, where most inputs fall, stay in cache through a GELU
// pass). For values p0, p1 and derivatives s0, s1 (in x) at the ends, the Hermite
// basis 1-3f^2+2f^3, 3f^2-2f^3, h(f-2f^2+f^3), h(f^3-f^2) gives
// p0 + h s0 f + (3(p1-p0) - h(2 s0 + s1)) f^2 + (2(p0-p1) + h(s0 + s1)) f^3.
// It is computed once and never written after.
var geluTable = func() []float64 {
	const h = 1.0 / geluTableStep
	n := 2 * geluTableMax * geluTableStep
	t := make([]float64, 8*n)
	node := func(i int) (x, cdf, pdf float64) {
		x = float64(i)/geluTableStep - geluTableMax
		return x, 0.5 * math.Erfc(-x/math.Sqrt2), math.Exp(-0.5*x*x) * invSqrt2Pi
	}
	hermite := func(c []float64, p0, s0, p1, s1 float64) {
		c[0] = p0
		c[1] = h * s0
		c[2] = 3*(p1-p0) - h*(2*s0+s1)
		c[3] = 2*(p0-p1) + h*(s0+s1)
	}
	for i := range n {
		x0, p0, d0 := node(i)
		x1, p1, d1 := node(i + 1)
		hermite(t[8*i:8*i+4], p0, d0, p1, d1)           // Phi' = phi
		hermite(t[8*i+4:8*i+8], d0, -x0*d0, d1, -x1*d1) // phi' = -x phi
	}
	return t
}()

// geluTail is gelu32 for any x, by formula: GELU(x) and its derivative to float32
// rounding, at a fraction of the cost of math.Erfc. Phi(x) = erfc(-z)/2 with
// z = x/sqrt(2), and erfc(|z|) = t exp(-z^2) Q(t), t = 1/(1 + 0.3|z|), with Q the
// polynomial below, fitted for relative error by nn/testdata/gelu_erfc_fit.py (below
// 2e-8 for every z where exp(-z^2) is within exp32's range; beyond, erfc and phi
// vanish in float32); erfc(-|z|) = 2 - erfc(|z|). The form shares its one exponential,
// exp(-z^2) = exp(-x^2/2), with the derivative's phi(x). TestGELU32 compares it with
// math.Erfc over the float32 range that matters.
func geluTail(x float64) (y, dy float64) {
	z := x * (1 / math.Sqrt2)
	az := math.Abs(z)
	t := 1 / (1 + 0.3*az)
	// Q(t) by Estrin's scheme: independent pairs, a dependency chain of 4 steps instead of 8.
	t2 := t * t
	t4 := t2 * t2
	q := (0.16918755969786992 + 0.17072174535530693*t) + t2*(0.14829861976505784+0.21506632481308985*t) +
		t4*((-0.094946208858426112+0.54810877465226704*t)+t2*(-0.51259047792973433+0.48570360095505544*t)+
			t4*-0.12954995816734943)
	var e float64 // exp(-z^2)
	if a := -z * z; a > exp32Lo {
		e = exp32(a)
	}
	cdf := 0.5 * t * e * q // Phi(x) for x <= 0
	if x > 0 {
		cdf = 1 - cdf
	}
	return x * cdf, cdf + x*e*invSqrt2Pi
}

// unaryRange computes elements [lo, hi) of y = f(x), and f'(x) into deriv for GELU
// when deriv is not nil.
func unaryRange[T Float](op unaryOp, y, x, deriv []T, lo, hi int) {
	y, x = y[lo:hi], x[lo:hi]
	switch op {
	case opGELU:
		if y32, ok := any(y).([]float32); ok {
			var d32 []float32
			if deriv != nil {
				d32 = any(deriv).([]float32)[lo:hi]
			}
			if cKernels {
				geluRowsC(y32, d32, any(x).([]float32), nil, 1, len(y32))
				return
			}
			geluRow32(y32, d32, any(x).([]float32), nil)
			return
		}
		if deriv != nil {
			deriv = deriv[lo:hi]
			for i, v := range x {
				f := float64(v)
				cdf := 0.5 * math.Erfc(-f/math.Sqrt2)
				y[i] = T(f * cdf)
				deriv[i] = T(cdf + f*math.Exp(-0.5*f*f)*invSqrt2Pi)
			}
			return
		}
		for i, v := range x {
			f := float64(v)
			y[i] = T(0.5 * f * math.Erfc(-f/math.Sqrt2))
		}
	case opSiLU:
		for i, v := range x {
			f := float64(v)
			y[i] = T(f * sigmoid(f))
		}
	case opTanh:
		for i, v := range x {
			y[i] = T(math.Tanh(float64(v)))
		}
	case opSigmoid:
		for i, v := range x {
			y[i] = T(sigmoid(float64(v)))
		}
	case opExp:
		for i, v := range x {
			y[i] = T(math.Exp(float64(v)))
		}
	case opSquare:
		for i, v := range x {
			y[i] = v * v
		}
	}
}

// unaryBackward, dx += dy * f'(x):
// GELU: Phi(x) + x phi(x) (saved by the forward pass);  SiLU: s + x s (1-s) with
// s = sigmoid(x);  tanh: 1 - y^2;  sigmoid: y (1-y);  exp: y;  square: 2x.
func unaryBackward[T Float](g *Graph[T], r *record[T]) {
	op := unaryOp(r.i[0])
	x, y, dy, dx, deriv := r.a.Data, r.out.Data, r.out.Grad, r.a.Grad, r.aux
	cost := unaryCost[op]
	if op == opGELU {
		cost = 2
	}
	if split(g.workers, len(dy), cost) {
		parallelElems(g.workers, len(dy), cost, func(lo, hi int) {
			unaryGradRange(op, dx, dy, x, y, deriv, lo, hi)
		})
	} else {
		unaryGradRange(op, dx, dy, x, y, deriv, 0, len(dy))
	}
}

func unaryGradRange[T Float](op unaryOp, dx, dy, x, y, deriv []T, lo, hi int) {
	dx, dy, x, y = dx[lo:hi], dy[lo:hi], x[lo:hi], y[lo:hi]
	switch op {
	case opGELU:
		deriv = deriv[lo:hi]
		for i, d := range dy {
			dx[i] += d * deriv[i]
		}
	case opSiLU:
		for i, d := range dy {
			f := float64(x[i])
			s := sigmoid(f)
			dx[i] += d * T(s+f*s*(1-s))
		}
	case opTanh:
		for i, d := range dy {
			t := y[i]
			dx[i] += d * (1 - t*t)
		}
	case opSigmoid:
		for i, d := range dy {
			s := y[i]
			dx[i] += d * (s * (1 - s))
		}
	case opExp:
		for i, d := range dy {
			dx[i] += d * y[i]
		}
	case opSquare:
		for i, d := range dy {
			dx[i] += d * 2 * x[i]
		}
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
