package nn

import "fmt"

// Linear returns x w + b for x [..., k], w [k, n] and b [n] (nil for no bias): a
// dense layer as one operation. The bias is written into the output first and the
// product accumulates onto it, and the backward rule passes the output's gradient
// straight to the product's, so the layer costs no intermediate tensor and no
// elementwise pass beyond the bias's column sums. It equals g.Add(g.MatMul(x, w), b)
// up to the order of the floating-point additions.
func (g *Graph[T]) Linear(x, w, b *Tensor[T]) *Tensor[T] { return g.linear(x, w, b, false) }

// LinearGELU returns GELU(x w + b), likewise as one operation: the pre-activation lives
// only in scratch, and the GELU's derivative is saved by the forward pass.
func (g *Graph[T]) LinearGELU(x, w, b *Tensor[T]) *Tensor[T] { return g.linear(x, w, b, true) }

func (g *Graph[T]) linear(x, w, b *Tensor[T], gelu bool) *Tensor[T] {
	if w.nd != 2 {
		panic(fmt.Sprintf("nn: Linear weight of shape %v, want 2-D", w.Shape()))
	}
	k, n := w.dims[0], w.dims[1]
	if x.nd == 0 || x.Dim(-1) != k {
		panic(fmt.Sprintf("nn: Linear of %v by %v", x.Shape(), w.Shape()))
	}
	if b != nil && (b.nd != 1 || b.dims[0] != n) {
		panic(fmt.Sprintf("nn: Linear bias of shape %v for %d outputs", b.Shape(), n))
	}
	var shape [MaxDims]int
	nd := copy(shape[:], x.Shape())
	shape[nd-1] = n
	out := g.newFull(anyNeeds(x, w, b), shape[:nd]...)
	m := x.rows()
	if gelu {
		// z = x W, then one pass adds the bias, applies GELU and keeps its derivative:
		// the pre-activation is never written back, and the bias costs no pass of its own.
		z := g.bufZ(m*n, false)
		gemm(false, false, m, n, k, 1, x.Data, k, w.Data, n, 0, z, n)
		var deriv []T
		if out.needs {
			deriv = g.bufZ(m*n, false)
		}
		var bias []T
		if b != nil {
			bias = b.Data
		}
		parallelFor(g.workers, m, n*unaryCost[opGELU], func(lo, hi int) {
			biasGELURows(out.Data, z, bias, deriv, n, lo, hi)
		})
		if out.needs {
			g.push(record[T]{bw: rule[T](linearBackward[float32], linearBackward[float64]), out: out, a: x, b: w, c: b, own: true,
				i: [4]int{m, n, k, 0}, aux: deriv})
		}
		return out
	}
	z, beta := out.Data, T(0)
	if b != nil {
		parallelFor(g.workers, m, n, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				copy(z[r*n:r*n+n], b.Data)
			}
		})
		beta = 1
	}
	gemm(false, false, m, n, k, 1, x.Data, k, w.Data, n, beta, z, n)
	if out.needs {
		g.push(record[T]{bw: rule[T](linearBackward[float32], linearBackward[float64]), out: out, a: x, b: w, c: b, own: true,
			i: [4]int{m, n, k, 0}})
	}
	return out
}

// linearBackward: with dZ = dY (or dY times GELU's derivative), db += column sums of
// dZ, then the product's rule on dZ.
func linearBackward[T Float](g *Graph[T], r *record[T]) {
	m, n := r.i[0], r.i[1]
	dz := r.out.Grad
	db := gradOf(r.c)
	var dy []T
	if r.aux != nil {
		// dZ = dY * GELU'(Z), and the bias gradient from it in the same pass. dZ
		// overwrites the saved derivative, which nothing reads after this rule: the
		// pass then writes to lines it has just read instead of to a buffer out of
		// cache.
		dy, dz = dz, r.aux
	}
	if dy != nil || db != nil {
		// Each worker owns a band of columns over every row.
		parallelFor(g.workers, n, m, func(lo, hi int) { biasBackCols(dz, dy, db, m, n, lo, hi) })
	}
	matmulGrads(g, dz, r.a, r.b, m, n, r.i[2], false)
}

// biasBackCols runs columns [lo, hi) of m rows of n values: dz *= dy where dy is not
// nil, then db += dz, summed over the rows in order, where db is not nil. float32
// runs as a C loop where the build has one (the same bits).
func biasBackCols[T Float](dz, dy, db []T, m, n, lo, hi int) {
	if dz32, ok := any(dz).([]float32); ok && cKernels {
		biasBackC(dz32, any(dy).([]float32), any(db).([]float32), m, n, lo, hi)
		return
	}
	var s []T
	if db != nil {
		s = db[lo:hi]
	}
	for row := 0; row < m; row++ {
		o := row * n
		d := dz[o+lo : o+hi]
		switch {
		case dy != nil && s != nil:
			a := dy[o+lo : o+hi]
			a = a[:len(d)]
			for j := range d {
				d[j] *= a[j]
				s[j] += d[j]
			}
		case dy != nil:
			a := dy[o+lo : o+hi]
			a = a[:len(d)]
			for j := range d {
				d[j] *= a[j]
			}
		default:
			for j, v := range d {
				s[j] += v
			}
		}
	}
}

// biasGELURows writes rows [lo, hi) of y = GELU(z + bias) for rows of n values (bias
// nil: none), and GELU's derivative at z + bias into deriv when it is not nil.
func biasGELURows[T Float](y, z, bias, deriv []T, n, lo, hi int) {
	if bias == nil {
		unaryRange(opGELU, y, z, deriv, lo*n, hi*n)
		return
	}
	if y32, ok := any(y).([]float32); ok {
		z32, b32 := any(z).([]float32), any(bias).([]float32)[:n]
		var d32 []float32
		if deriv != nil {
			d32 = any(deriv).([]float32)
		}
		if cKernels {
			if d32 != nil {
				d32 = d32[lo*n : hi*n]
			}
			geluRowsC(y32[lo*n:hi*n], d32, z32[lo*n:hi*n], b32, hi-lo, n)
			return
		}
		for r := lo; r < hi; r++ {
			var dr []float32
			if d32 != nil {
				dr = d32[r*n : r*n+n]
			}
			geluRow32(y32[r*n:r*n+n], dr, z32[r*n:r*n+n], b32)
		}
		return
	}
	for r := lo; r < hi; r++ {
		o := r * n
		for j := range n {
			z[o+j] += bias[j]
		}
		unaryRange(opGELU, y, z, deriv, o, o+n)
	}
}
