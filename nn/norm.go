package nn

import (
	"fmt"
	"math"
)

// DefaultNormEps is the eps callers pass to LayerNorm and RMSNorm unless a model says
// otherwise: added to the variance (mean square for RMSNorm) before the square root so a
// constant row stays finite. It is PyTorch's LayerNorm default.
const DefaultNormEps = 1e-5

// LayerNorm normalises every row of x [..., n] to zero mean and unit variance, then
// scales and shifts it (Ba, Kiros and Hinton, 2016, section 3):
//
//	y = (x - mean) / sqrt(var + eps) * gain + bias
//
// with the biased variance (divided by n). gain and bias have shape [n]; either may be
// nil, meaning 1 and 0. eps >= 0; see DefaultNormEps. The rule keeps the mean and
// reciprocal standard deviation of every row (two values per row).
func (g *Graph[T]) LayerNorm(x, gain, bias *Tensor[T], eps float64) *Tensor[T] {
	n := normCheck("LayerNorm", x, gain, bias, eps)
	out := g.likeFull(x, anyNeeds(x, gain, bias))
	rows := x.rows()
	var means, rstds []T
	if out.needs {
		means, rstds = g.bufZ(rows, false), g.bufZ(rows, false)
	}
	var gd, bd []T
	if gain != nil {
		gd = gain.Data[:n]
	}
	if bias != nil {
		bd = bias.Data[:n]
	}
	if split(g.workers, rows, 4*n) {
		parallelFor(g.workers, rows, 4*n, func(lo, hi int) {
			layerNormRows(out.Data, x.Data, gd, bd, means, rstds, n, lo, hi, eps)
		})
	} else {
		layerNormRows(out.Data, x.Data, gd, bd, means, rstds, n, 0, rows, eps)
	}
	if out.needs {
		bw := rule[T](layerNormBackward[float32], layerNormBackward[float64])
		g.push(record[T]{bw: bw, out: out, a: x, b: gain, c: bias, i: [4]int{n}, aux: means, aux2: rstds, own: true})
	}
	return out
}

// layerNormRows normalises rows [lo, hi) of x into y (rows of n), keeping each row's
// mean and reciprocal standard deviation in means and rstds when they are not nil.
func layerNormRows[T Float](y, x, gd, bd, means, rstds []T, n, lo, hi int, eps float64) {
	if cKernels && gd != nil && bd != nil {
		if y32, ok := any(y).([]float32); ok {
			var m32, r32 []float32
			if means != nil {
				m32, r32 = any(means).([]float32), any(rstds).([]float32)
			}
			if layerNormC(y32, any(x).([]float32), any(gd).([]float32), any(bd).([]float32), m32, r32, n, lo, hi, eps) {
				return
			}
		}
	}
	layerNormRowsGo(y, x, gd, bd, means, rstds, n, lo, hi, eps)
}

// layerNormRowsGo is layerNormRows in Go.
func layerNormRowsGo[T Float](y, x, gd, bd, means, rstds []T, n, lo, hi int, eps float64) {
	fn := float64(n)
	for i := lo; i < hi; i++ {
		xr := x[i*n : i*n+n]
		yr := y[i*n : i*n+n]
		// One pass of shifted sums: subtracting x[0] (close to the mean for any row worth
		// normalising) keeps sum(d^2) - sum(d)^2/n from cancelling (Chan, Golub and
		// LeVeque, 1983, "shifted data").
		k := float64(xr[0])
		var s0, s1, q0, q1 float64
		j := 0
		for ; j+1 < len(xr); j += 2 {
			d0, d1 := float64(xr[j])-k, float64(xr[j+1])-k
			s0 += d0
			s1 += d1
			q0 += d0 * d0
			q1 += d1 * d1
		}
		if j < len(xr) {
			d := float64(xr[j]) - k
			s0 += d
			q0 += d * d
		}
		mu := (s0 + s1) / fn
		variance := max((q0+q1)/fn-mu*mu, 0)
		rs := 1 / math.Sqrt(variance+eps)
		m, r := T(mu+k), T(rs)
		if means != nil {
			means[i], rstds[i] = m, r
		}
		yr = yr[:len(xr)]
		switch {
		case gd != nil && bd != nil:
			gd, bd := gd[:len(xr)], bd[:len(xr)]
			for j, v := range xr {
				yr[j] = (v-m)*r*gd[j] + bd[j]
			}
		case gd != nil:
			gd := gd[:len(xr)]
			for j, v := range xr {
				yr[j] = (v - m) * r * gd[j]
			}
		case bd != nil:
			bd := bd[:len(xr)]
			for j, v := range xr {
				yr[j] = (v-m)*r + bd[j]
			}
		default:
			for j, v := range xr {
				yr[j] = (v - m) * r
			}
		}
	}
}

// layerNormBackward, per row of n with r = 1/sqrt(var + eps), xh = (x - mean) r and
// gy = dy * gain (dy without gain):
//
//	dx    += r (gy - mean(gy) - xh mean(gy xh))
//	dgain += sum over rows of dy xh
//	dbias += sum over rows of dy
func layerNormBackward[T Float](g *Graph[T], r *record[T]) {
	n := r.i[0]
	x, dy := r.a.Data, r.out.Grad
	dx, fresh := gradTo(r.a)
	dgain, dbias := gradOf(r.b), gradOf(r.c)
	var gd []T
	if r.b != nil {
		gd = r.b.Data[:n]
	}
	// The parameters' gradients sum over rows: each block of layerNormBlock rows sums
	// into its own partial, and the partials are added in block order, so the result
	// does not depend on how many workers ran the blocks. Without parameters the
	// blocks are only the unit of work.
	nb := (len(r.aux) + layerNormBlock - 1) / layerNormBlock
	var part []T
	if dgain != nil || dbias != nil {
		part = g.buf(2 * n * nb)
	}
	if split(g.workers, nb, 8*n*layerNormBlock) {
		parallelFor(g.workers, nb, 8*n*layerNormBlock, func(lo, hi int) {
			layerNormBackBlocks(dx, fresh, x, dy, gd, dgain, dbias, part, r.aux, r.aux2, n, lo, hi)
		})
	} else {
		layerNormBackBlocks(dx, fresh, x, dy, gd, dgain, dbias, part, r.aux, r.aux2, n, 0, nb)
	}
	if part == nil {
		return
	}
	for k := range nb {
		p := part[2*n*k : 2*n*k+2*n]
		if dgain != nil {
			for j, v := range p[:n] {
				dgain[j] += v
			}
		}
		if dbias != nil {
			for j, v := range p[n:] {
				dbias[j] += v
			}
		}
	}
}

// layerNormBlock is the number of rows whose parameter gradients layerNormBackward
// sums into one partial.
const layerNormBlock = 32

// layerNormBackBlocks runs layerNormBackRows on blocks [lo, hi) of layerNormBlock rows,
// each block's parameter gradients into its partial in part (2n values: gain's, then
// bias's), for those of dgain and dbias that are not nil.
func layerNormBackBlocks[T Float](dx []T, fresh bool, x, dy, gd, dgain, dbias, part, means, rstds []T, n, lo, hi int) {
	rows := len(means)
	for k := lo; k < hi; k++ {
		var dg, db []T
		if dgain != nil {
			dg = part[2*n*k : 2*n*k+n]
		}
		if dbias != nil {
			db = part[2*n*k+n : 2*n*k+2*n]
		}
		layerNormBackRows(dx, fresh, x, dy, gd, dg, db, means, rstds, n,
			k*layerNormBlock, min(k*layerNormBlock+layerNormBlock, rows))
	}
}

// layerNormBackRows runs layerNormBackward's rule on rows [lo, hi): dx (nil: none; its
// rows cleared first when fresh) from dy, and the rows' parameter gradients added into
// dgain and dbias (either nil: none).
func layerNormBackRows[T Float](dx []T, fresh bool, x, dy, gd, dgain, dbias, means, rstds []T, n, lo, hi int) {
	if cKernels && dx != nil && gd != nil && dgain != nil && dbias != nil {
		if dx32, ok := any(dx).([]float32); ok && layerNormBackC(dx32, fresh, any(x).([]float32), any(dy).([]float32), any(gd).([]float32),
			any(dgain).([]float32), any(dbias).([]float32), any(means).([]float32), any(rstds).([]float32), n, lo, hi) {
			return
		}
	}
	layerNormBackRowsGo(dx, fresh, x, dy, gd, dgain, dbias, means, rstds, n, lo, hi)
}

// layerNormBackRowsGo is layerNormBackRows in Go.
func layerNormBackRowsGo[T Float](dx []T, fresh bool, x, dy, gd, dgain, dbias, means, rstds []T, n, lo, hi int) {
	for i := lo; i < hi; i++ {
		m, rs := means[i], rstds[i]
		xr := x[i*n : i*n+n]
		dyr := dy[i*n : i*n+n][:len(xr)]
		var a, b float64 // sum(gy), sum(gy xh)
		if dx != nil && dgain != nil && dbias != nil {
			// Training: one pass for both parameters and both sums.
			dg, db, gd := dgain[:len(xr)], dbias[:len(xr)], gd[:len(xr)]
			for j, v := range xr {
				d := dyr[j]
				xh := (v - m) * rs
				dg[j] += d * xh
				db[j] += d
				gy := d * gd[j]
				a += float64(gy)
				b += float64(gy * xh)
			}
		} else {
			if dgain != nil {
				dg := dgain[:len(xr)]
				for j, v := range xr {
					dg[j] += dyr[j] * (v - m) * rs
				}
			}
			if dbias != nil {
				db := dbias[:len(xr)]
				for j, d := range dyr {
					db[j] += d
				}
			}
			if dx == nil {
				continue
			}
			a, b = rowMoments(xr, dyr, gd, m, rs)
		}
		ma, mb := T(a/float64(n)), T(b/float64(n))
		dxr := dx[i*n : i*n+n][:len(xr)]
		if fresh {
			clear(dxr) // the first gradient to reach x, added to zero while the row is in cache
		}
		if gd != nil {
			gd := gd[:len(xr)]
			for j, v := range xr {
				dxr[j] += rs * (dyr[j]*gd[j] - ma - (v-m)*rs*mb)
			}
		} else {
			for j, v := range xr {
				dxr[j] += rs * (dyr[j] - ma - (v-m)*rs*mb)
			}
		}
	}
}

// rowMoments returns sum(gy) and sum(gy xh) over a row, with gy = dy * gain (dy when gain
// is nil) and xh = (x - m) r, in float64 with two accumulators each to halve the
// dependency chains.
func rowMoments[T Float](x, dy, gain []T, m, r T) (sg, sgx float64) {
	dy = dy[:len(x)]
	var a0, a1, b0, b1 float64
	j := 0
	if gain != nil {
		gain = gain[:len(x)]
		for ; j+1 < len(x); j += 2 {
			g0, g1 := float64(dy[j]*gain[j]), float64(dy[j+1]*gain[j+1])
			a0 += g0
			a1 += g1
			b0 += g0 * float64((x[j]-m)*r)
			b1 += g1 * float64((x[j+1]-m)*r)
		}
		if j < len(x) {
			g0 := float64(dy[j] * gain[j])
			a0 += g0
			b0 += g0 * float64((x[j]-m)*r)
		}
		return a0 + a1, b0 + b1
	}
	for ; j+1 < len(x); j += 2 {
		g0, g1 := float64(dy[j]), float64(dy[j+1])
		a0 += g0
		a1 += g1
		b0 += g0 * float64((x[j]-m)*r)
		b1 += g1 * float64((x[j+1]-m)*r)
	}
	if j < len(x) {
		g0 := float64(dy[j])
		a0 += g0
		b0 += g0 * float64((x[j]-m)*r)
	}
	return a0 + a1, b0 + b1
}

// RMSNorm scales every row of x [..., n] by the reciprocal of its root mean square and
// multiplies by gain (Zhang and Sennrich, 2019, section 3):
//
//	y = x / sqrt(mean(x^2) + eps) * gain
//
// gain has shape [n] or is nil (1). eps >= 0; see DefaultNormEps. The rule keeps the
// reciprocal root mean square of every row.
func (g *Graph[T]) RMSNorm(x, gain *Tensor[T], eps float64) *Tensor[T] {
	n := normCheck("RMSNorm", x, gain, nil, eps)
	out := g.like(x, anyNeeds(x, gain))
	rows := x.rows()
	var rrms []T
	if out.needs {
		rrms = g.buf(rows)
	}
	var gd []T
	if gain != nil {
		gd = gain.Data[:n]
	}
	fn := float64(n)
	for i := 0; i < rows; i++ {
		xr := x.Data[i*n : i*n+n]
		yr := out.Data[i*n : i*n+n][:len(xr)]
		var q0, q1 float64
		j := 0
		for ; j+1 < len(xr); j += 2 {
			d0, d1 := float64(xr[j]), float64(xr[j+1])
			q0 += d0 * d0
			q1 += d1 * d1
		}
		if j < len(xr) {
			d := float64(xr[j])
			q0 += d * d
		}
		r := T(1 / math.Sqrt((q0+q1)/fn+eps))
		if rrms != nil {
			rrms[i] = r
		}
		if gd != nil {
			gd := gd[:len(xr)]
			for j, v := range xr {
				yr[j] = v * r * gd[j]
			}
		} else {
			for j, v := range xr {
				yr[j] = v * r
			}
		}
	}
	if out.needs {
		bw := rule[T](rmsNormBackward[float32], rmsNormBackward[float64])
		g.push(record[T]{bw: bw, out: out, a: x, b: gain, i: [4]int{n}, aux: rrms})
	}
	return out
}

// rmsNormBackward, per row of n with r = 1/sqrt(mean(x^2) + eps), xh = x r and
// gy = dy * gain (dy without gain):
//
//	dx    += r (gy - xh mean(gy xh))
//	dgain += sum over rows of dy xh
func rmsNormBackward[T Float](g *Graph[T], r *record[T]) {
	n := r.i[0]
	x, dy := r.a.Data, r.out.Grad
	dx, dgain := gradOf(r.a), gradOf(r.b)
	var gd []T
	if r.b != nil {
		gd = r.b.Data[:n]
	}
	for i, rs := range r.aux {
		xr := x[i*n : i*n+n]
		dyr := dy[i*n : i*n+n][:len(xr)]
		var b float64 // sum(gy xh)
		if dx != nil && dgain != nil {
			// Training: one pass for the gain and the sum.
			dg, gd := dgain[:len(xr)], gd[:len(xr)]
			for j, v := range xr {
				d, xh := dyr[j], v*rs
				dg[j] += d * xh
				b += float64(d * gd[j] * xh)
			}
		} else {
			if dgain != nil {
				dg := dgain[:len(xr)]
				for j, v := range xr {
					dg[j] += dyr[j] * v * rs
				}
			}
			if dx == nil {
				continue
			}
			_, b = rowMoments(xr, dyr, gd, 0, rs)
		}
		mb := T(b / float64(n))
		dxr := dx[i*n : i*n+n][:len(xr)]
		if gd != nil {
			gd := gd[:len(xr)]
			for j, v := range xr {
				dxr[j] += rs * (dyr[j]*gd[j] - v*rs*mb)
			}
		} else {
			for j, v := range xr {
				dxr[j] += rs * (dyr[j] - v*rs*mb)
			}
		}
	}
}

// normCheck validates the operands of LayerNorm and RMSNorm and returns n.
func normCheck[T Float](op string, x, gain, bias *Tensor[T], eps float64) int {
	if x.nd == 0 {
		panic(fmt.Sprintf("nn: %s of a scalar; want [..., n]", op))
	}
	n := x.Dim(-1)
	for _, p := range [2]*Tensor[T]{gain, bias} {
		if p != nil && (p.nd != 1 || p.dims[0] != n) {
			panic(fmt.Sprintf("nn: %s of %v with gain or bias of shape %v; want [%d]", op, x.Shape(), p.Shape(), n))
		}
	}
	if !(eps >= 0) || math.IsInf(eps, 1) {
		panic(fmt.Sprintf("nn: %s eps %v; want a finite value >= 0", op, eps))
	}
	return n
}
