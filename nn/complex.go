package nn

import (
	"fmt"
	"math"
)

// Complex values for channel layers are real tensors whose last dimension holds n
// complex numbers as interleaved pairs: [..., 2n] = re0, im0, re1, im1, ... (the layout
// of interleaved I/Q samples and of Go's []complex64 in memory). A row, everything but
// the last dimension fixed, is one block of n symbols, e.g. the subcarriers of one OFDM
// symbol.

// checkComplex panics unless x holds complex pairs along its last dimension.
func checkComplex[T Float](op string, x *Tensor[T]) {
	if x.nd == 0 || x.Dim(-1)%2 != 0 {
		panic(fmt.Sprintf("nn: %s of %v: want [..., 2n], interleaved (re, im) pairs", op, x.Shape()))
	}
}

// Broadcast forms of ComplexMul's b, counted in complex elements.
const (
	cbSame   = iota // b has a's shape
	cbSuffix        // b's shape is a suffix of a's, e.g. [2n]: one coefficient per subcarrier
	cbRow           // b is a's shape with last dimension 2: one coefficient per block
	cbScalar        // b is one complex number
)

// ComplexMul returns the elementwise complex product a*b of a [..., 2n] and b, both in
// interleaved (re, im) pairs. b may have a's shape, a suffix of it (a [2n] channel
// response applied to every block), a's shape with last dimension 2 (one coefficient
// per block: flat fading), or be a single complex number [2].
func (g *Graph[T]) ComplexMul(a, b *Tensor[T]) *Tensor[T] {
	checkComplex("ComplexMul", a)
	checkComplex("ComplexMul", b)
	var form int
	switch {
	case sameShape(a, b):
		form = cbSame
	case b.nd <= a.nd && suffixOf(a.Shape(), b.Shape()):
		form = cbSuffix
	case b.Len() == 2:
		form = cbScalar
	case b.nd == a.nd && b.Dim(-1) == 2 && equalInts(a.Shape()[:a.nd-1], b.Shape()[:b.nd-1]):
		form = cbRow
	default:
		panic(fmt.Sprintf("nn: ComplexMul of %v and %v: b must have a's shape, a suffix of it, its shape with last dimension 2, or shape [2]", a.Shape(), b.Shape()))
	}
	out := g.like(a, anyNeeds(a, b))
	x, z, y := a.Data, b.Data, out.Data
	nb, row := len(z)/2, max(1, a.Dim(-1)/2)
	for i := 0; i < len(y)/2; i++ {
		j := cIndex(form, i, nb, row)
		xr, xi, zr, zi := x[2*i], x[2*i+1], z[2*j], z[2*j+1]
		y[2*i] = xr*zr - xi*zi
		y[2*i+1] = xr*zi + xi*zr
	}
	if out.needs {
		g.push(record[T]{bw: rule[T](complexMulBackward[float32], complexMulBackward[float64]), out: out, a: a, b: b, i: [4]int{form}})
	}
	return out
}

// cIndex maps complex element i of a to the element of b it meets.
func cIndex(form, i, nb, row int) int {
	switch form {
	case cbSuffix:
		return i % nb
	case cbRow:
		return i / row
	case cbScalar:
		return 0
	}
	return i
}

// complexMulBackward: y = a b with the gradient of a real loss taken as the complex
// number dy = dL/dRe(y) + i dL/dIm(y) -> da += dy conj(b), db += dy conj(a), db summed
// over the elements b was repeated to.
func complexMulBackward[T Float](g *Graph[T], r *record[T]) {
	form := r.i[0]
	x, z, dy := r.a.Data, r.b.Data, r.out.Grad
	da, db := gradOf(r.a), gradOf(r.b)
	nb, row := len(z)/2, max(1, r.a.Dim(-1)/2)
	for i := 0; i < len(dy)/2; i++ {
		j := cIndex(form, i, nb, row)
		gr, gi := dy[2*i], dy[2*i+1]
		if da != nil {
			zr, zi := z[2*j], z[2*j+1]
			da[2*i] += gr*zr + gi*zi
			da[2*i+1] += gi*zr - gr*zi
		}
		if db != nil {
			xr, xi := x[2*i], x[2*i+1]
			db[2*j] += gr*xr + gi*xi
			db[2*j+1] += gi*xr - gr*xi
		}
	}
}

// ComplexConj returns the complex conjugate of x [..., 2n]: the imaginary parts negated.
func (g *Graph[T]) ComplexConj(x *Tensor[T]) *Tensor[T] {
	checkComplex("ComplexConj", x)
	out := g.like(x, x.needs)
	for i := 0; i < len(x.Data); i += 2 {
		out.Data[i], out.Data[i+1] = x.Data[i], -x.Data[i+1]
	}
	if out.needs {
		g.push(record[T]{bw: rule[T](complexConjBackward[float32], complexConjBackward[float64]), out: out, a: x})
	}
	return out
}

// complexConjBackward: y = conj(x) -> dRe(x) += dRe(y), dIm(x) -= dIm(y).
func complexConjBackward[T Float](g *Graph[T], r *record[T]) {
	dx := r.a.Grad
	for i := 0; i < len(dx); i += 2 {
		dx[i] += r.out.Grad[i]
		dx[i+1] -= r.out.Grad[i+1]
	}
}

// ComplexAbs2 returns |z|^2 = re^2 + im^2 of every complex number of x [..., 2n], giving
// [..., n]: the power of each symbol.
func (g *Graph[T]) ComplexAbs2(x *Tensor[T]) *Tensor[T] {
	checkComplex("ComplexAbs2", x)
	var shape [MaxDims]int
	nd := copy(shape[:], x.Shape())
	shape[nd-1] /= 2
	out := g.New(x.needs, shape[:nd]...)
	for i := range out.Data {
		re, im := x.Data[2*i], x.Data[2*i+1]
		out.Data[i] = re*re + im*im
	}
	if out.needs {
		g.push(record[T]{bw: rule[T](complexAbs2Backward[float32], complexAbs2Backward[float64]), out: out, a: x})
	}
	return out
}

// complexAbs2Backward: y = re^2 + im^2 -> dRe += 2 re dy, dIm += 2 im dy.
func complexAbs2Backward[T Float](g *Graph[T], r *record[T]) {
	x, dx := r.a.Data, r.a.Grad
	for i, d := range r.out.Grad {
		dx[2*i] += 2 * x[2*i] * d
		dx[2*i+1] += 2 * x[2*i+1] * d
	}
}

// PowerNormalize scales every row of x [..., 2n] (one block of n complex symbols) so
// that its mean power per complex symbol is p: (1/n) sum |z_j|^2 = p, the average
// power constraint of a transmitter's output (p = 1 for unit power). That is
// y = s x with s = sqrt(n p / sum x^2), a function of the whole row, so the backward
// rule couples every element of it. A row of zeros has no direction to scale and stays
// zero, with zero gradient. p must be positive.
func (g *Graph[T]) PowerNormalize(x *Tensor[T], p float64) *Tensor[T] {
	checkComplex("PowerNormalize", x)
	if !(p > 0) || math.IsInf(p, 1) {
		panic(fmt.Sprintf("nn: PowerNormalize of %v to power %v: want a positive finite power", x.Shape(), p))
	}
	out := g.like(x, x.needs)
	width := x.Dim(-1)
	if width == 0 {
		return out
	}
	rows := x.Len() / width
	target := p * float64(width/2) // sum x^2 after scaling: n p
	var scales []T
	if out.needs {
		scales = g.buf(rows)
	}
	for r := 0; r < rows; r++ {
		xr, yr := x.Data[r*width:(r+1)*width], out.Data[r*width:(r+1)*width]
		var ss float64
		for _, v := range xr {
			ss += float64(v) * float64(v)
		}
		var s T
		if ss > 0 {
			s = T(math.Sqrt(target / ss))
		}
		for j, v := range xr {
			yr[j] = s * v
		}
		if scales != nil {
			scales[r] = s
		}
	}
	if out.needs {
		g.push(record[T]{bw: rule[T](powerNormalizeBackward[float32], powerNormalizeBackward[float64]), out: out, a: x, f: [2]float64{target}, aux: scales})
	}
	return out
}

// powerNormalizeBackward, per row, with y = s x, s = sqrt(n p / x.x), so that y.y = n p:
// dy_j/dx_i = s (delta_ij - x_i x_j / x.x) -> dx += s (dy - y (y.dy) / (n p)).
func powerNormalizeBackward[T Float](g *Graph[T], r *record[T]) {
	width := r.a.Dim(-1)
	target := r.f[0]
	y, dy, dx := r.out.Data, r.out.Grad, r.a.Grad
	for row, s := range r.aux {
		yr, dyr, dxr := y[row*width:(row+1)*width], dy[row*width:(row+1)*width], dx[row*width:(row+1)*width]
		var dot float64
		for j, v := range yr {
			dot += float64(v) * float64(dyr[j])
		}
		c := T(dot / target)
		for j, v := range yr {
			dxr[j] += s * (dyr[j] - v*c)
		}
	}
}
