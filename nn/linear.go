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
	z := out.Data
	if gelu {
		z = g.bufZ(m*n, false)
	}
	beta := T(0)
	if b != nil {
		parallelFor(g.workers, m, n, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				copy(z[r*n:r*n+n], b.Data)
			}
		})
		beta = 1
	}
	gemm(false, false, m, n, k, 1, x.Data, k, w.Data, n, beta, z, n)
	var deriv []T
	if gelu {
		if out.needs {
			deriv = g.bufZ(m*n, false)
		}
		parallelElems(g.workers, m*n, unaryCost[opGELU], func(lo, hi int) {
			unaryRange(opGELU, out.Data, z, deriv, lo, hi)
		})
	}
	if out.needs {
		g.push(record[T]{bw: rule[T](linearBackward[float32], linearBackward[float64]), out: out, a: x, b: w, c: b,
			i: [4]int{m, n, k, 0}, aux: deriv})
	}
	return out
}

// linearBackward: with dZ = dY (or dY times GELU's derivative), db += column sums of
// dZ, then the product's rule on dZ.
func linearBackward[T Float](g *Graph[T], r *record[T]) {
	m, n := r.i[0], r.i[1]
	dz := r.out.Grad
	if r.aux != nil {
		dy, deriv := dz, r.aux
		dz = g.bufZ(m*n, false)
		parallelElems(g.workers, m*n, 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				dz[i] = dy[i] * deriv[i]
			}
		})
	}
	if db := gradOf(r.c); db != nil {
		// Each worker sums its own columns over every row.
		parallelFor(g.workers, n, m, func(lo, hi int) {
			db := db[lo:hi]
			for row := 0; row < m; row++ {
				for j, v := range dz[row*n+lo : row*n+hi] {
					db[j] += v
				}
			}
		})
	}
	matmulGrads(g, dz, r.a, r.b, m, n, r.i[2], false)
}
