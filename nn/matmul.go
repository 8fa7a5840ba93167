package nn

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// gemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices through gonum's
// BLAS (float32: blas32, float64: blas64).
func gemm[T Float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	switch a := any(a).(type) {
	case []float32:
		sgemm(ta, tb, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blas64.Implementation().Dgemm(ta, tb, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// MatMul multiplies x [..., k] by w [k, n], giving [..., n]: every row of x through the
// same matrix, as one Gemm.
func (g *Graph[T]) MatMul(x, w *Tensor[T]) *Tensor[T] {
	return g.matmul(x, w, false)
}

// MatMulT multiplies x [..., k] by the transpose of w [n, k], giving [..., n]: the
// layout of a linear layer's weight, and of a tied embedding table used as output
// projection.
func (g *Graph[T]) MatMulT(x, w *Tensor[T]) *Tensor[T] {
	return g.matmul(x, w, true)
}

func (g *Graph[T]) matmul(x, w *Tensor[T], wT bool) *Tensor[T] {
	if w.nd != 2 {
		panic(fmt.Sprintf("nn: MatMul weight of shape %v, want 2-D", w.Shape()))
	}
	k, n := w.dims[0], w.dims[1]
	if wT {
		n, k = k, n
	}
	if x.nd == 0 || x.Dim(-1) != k {
		panic(fmt.Sprintf("nn: MatMul of %v by %v (transposed %v)", x.Shape(), w.Shape(), wT))
	}
	var shape [MaxDims]int
	nd := copy(shape[:], x.Shape())
	shape[nd-1] = n
	out := g.newFull(anyNeeds(x, w), shape[:nd]...) // Gemm with beta 0 sets every element
	m := x.rows()
	ldw := n
	if wT {
		ldw = k
	}
	gemm(false, wT, m, n, k, 1, x.Data, k, w.Data, ldw, 0, out.Data, n)
	if out.needs {
		g.push(record[T]{bw: rule[T](matmulBackward[float32], matmulBackward[float64]), out: out, a: x, b: w, own: true, i: [4]int{m, n, k, b2i(wT)}})
	}
	return out
}

// matmulBackward: Y = X W -> dX += dY W^T, dW += X^T dY.
// Transposed weight, Y = X W^T -> dX += dY W, dW += dY^T X.
//
// gonum's Gemm is about six times slower when its first operand is transposed (5
// against 28 GFLOP/s for a [2048,256]^T x [2048,1024] product on the reference
// machine), so with gonum the weight gradient transposes that operand into arena
// scratch first and multiplies without transposition: the copy costs a fraction of
// what it saves. OpenBLAS packs its operands either way (transposedFast).
func matmulBackward[T Float](g *Graph[T], r *record[T]) {
	matmulGrads(g, r.out.Grad, r.a, r.b, r.i[0], r.i[1], r.i[2], r.i[3] == 1)
}

// matmulGrads adds the gradients of x [m, k] and w (transposed if wT) from dy [m, n].
func matmulGrads[T Float](g *Graph[T], dy []T, x, w *Tensor[T], m, n, k int, wT bool) {
	if dx, fresh := gradTo(x); dx != nil {
		beta := T(b2i(!fresh)) // 0 for the first gradient to reach x: written, not added
		if wT {
			gemm(false, false, m, k, n, 1, dy, n, w.Data, k, beta, dx, k)
		} else {
			gemm(false, true, m, k, n, 1, dy, n, w.Data, n, beta, dx, k)
		}
	}
	if dw := gradOf(w); dw != nil {
		if transposedFast {
			if wT { // dW [n, k] += dY^T X
				gemm(true, false, n, k, m, 1, dy, n, x.Data, k, 1, dw, k)
			} else { // dW [k, n] += X^T dY
				gemm(true, false, k, n, m, 1, x.Data, k, dy, n, 1, dw, n)
			}
			return
		}
		if wT {
			dyT := g.bufZ(m*n, false) // [n, m], written in full
			transpose(dyT, dy, m, n)
			gemm(false, false, n, k, m, 1, dyT, m, x.Data, k, 1, dw, k)
		} else {
			xT := g.bufZ(m*k, false) // [k, m]
			transpose(xT, x.Data, m, k)
			gemm(false, false, k, n, m, 1, xT, m, dy, n, 1, dw, n)
		}
	}
}

// transpose writes the transpose of the rows x cols matrix src to dst (cols x rows),
// in 32 x 32 tiles so that both sides stay in cache.
func transpose[T Float](dst, src []T, rows, cols int) {
	const tile = 32
	for i0 := 0; i0 < rows; i0 += tile {
		i1 := min(i0+tile, rows)
		for j0 := 0; j0 < cols; j0 += tile {
			j1 := min(j0+tile, cols)
			for i := i0; i < i1; i++ {
				row := src[i*cols : i*cols+cols]
				for j := j0; j < j1; j++ {
					dst[j*rows+i] = row[j]
				}
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// BatchMatMul multiplies matching matrices of a [..., m, k] and b [..., k, n] (leading
// dimensions equal), optionally transposing either one's last two dimensions, giving
// [..., m, n].
func (g *Graph[T]) BatchMatMul(a, b *Tensor[T], transA, transB bool) *Tensor[T] {
	if a.nd < 2 || a.nd != b.nd {
		panic(fmt.Sprintf("nn: BatchMatMul of %v and %v", a.Shape(), b.Shape()))
	}
	for i := 0; i < a.nd-2; i++ {
		if a.dims[i] != b.dims[i] {
			panic(fmt.Sprintf("nn: BatchMatMul batch dimensions differ: %v and %v", a.Shape(), b.Shape()))
		}
	}
	m, ka := a.Dim(-2), a.Dim(-1)
	if transA {
		m, ka = ka, m
	}
	kb, n := b.Dim(-2), b.Dim(-1)
	if transB {
		kb, n = n, kb
	}
	if ka != kb {
		panic(fmt.Sprintf("nn: BatchMatMul inner dimensions %d and %d (%v, %v)", ka, kb, a.Shape(), b.Shape()))
	}
	var shape [MaxDims]int
	nd := copy(shape[:], a.Shape())
	shape[nd-2], shape[nd-1] = m, n
	out := g.New(anyNeeds(a, b), shape[:nd]...)
	batch := out.Len() / (m * n)
	sa, sb, so := m*ka, ka*n, m*n
	lda, ldb := ka, n
	if transA {
		lda = m
	}
	if transB {
		ldb = ka
	}
	parallelFor(g.workers, batch, 2*m*n*ka, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			gemm(transA, transB, m, n, ka, 1, a.Data[i*sa:(i+1)*sa], lda, b.Data[i*sb:(i+1)*sb], ldb, 0, out.Data[i*so:(i+1)*so], n)
		}
	})
	if out.needs {
		g.push(record[T]{bw: rule[T](batchMatMulBackward[float32], batchMatMulBackward[float64]), out: out, a: a, b: b, i: [4]int{m, n, ka, b2i(transA) | b2i(transB)<<1}})
	}
	return out
}

// batchMatMulBackward, per matrix, with A' = op(A), B' = op(B), C = A'B':
// dA' = dC B'^T, dB' = A'^T dC, transposed back where op transposed.
func batchMatMulBackward[T Float](g *Graph[T], r *record[T]) {
	m, n, k := r.i[0], r.i[1], r.i[2]
	transA, transB := r.i[3]&1 == 1, r.i[3]&2 == 2
	a, b, dc := r.a, r.b, r.out.Grad
	batch := len(dc) / (m * n)
	sa, sb, so := m*k, k*n, m*n
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	da, db := gradOf(a), gradOf(b)
	parallelFor(g.workers, batch, 4*m*n*k, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			c := dc[i*so : (i+1)*so]
			if da != nil {
				d := da[i*sa : (i+1)*sa]
				if transA { // A is [k, m]: dA = B' dC^T
					gemm(transB, true, k, m, n, 1, b.Data[i*sb:(i+1)*sb], ldb, c, n, 1, d, lda)
				} else { // dA = dC B'^T
					gemm(false, !transB, m, k, n, 1, c, n, b.Data[i*sb:(i+1)*sb], ldb, 1, d, lda)
				}
			}
			if db != nil {
				d := db[i*sb : (i+1)*sb]
				if transB { // B is [n, k]: dB = dC^T A'
					gemm(true, transA, n, k, m, 1, c, n, a.Data[i*sa:(i+1)*sa], lda, 1, d, ldb)
				} else { // dB = A'^T dC
					gemm(!transA, false, k, n, m, 1, a.Data[i*sa:(i+1)*sa], lda, c, n, 1, d, ldb)
				}
			}
		}
	})
}
