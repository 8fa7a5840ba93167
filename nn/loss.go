package nn

import (
	"fmt"
	"math"
)

// Softmax returns exp(x - max) / sum(exp(x - max)) over the last dimension of x [..., n].
//
// mask is optional: nil keeps every position; otherwise it holds k*n values (k rows of
// n) where k divides the number of rows of x, and row r of x uses mask row r mod k, so
// a mask may be per element (k = all rows), [tq, tk] repeated over [batch, heads, tq,
// tk] (a causal mask), or one row [n] for all rows. false excludes a position: the
// maximum is taken over kept positions only, and excluded ones get probability exactly
// 0 and no gradient. A row with no kept position, or whose kept values are all -Inf, is
// all zeros with zero gradient, not NaN. The rule uses the output only.
func (g *Graph[T]) Softmax(x *Tensor[T], mask []bool) *Tensor[T] {
	n, rows, k := rowsAndMask("Softmax", x, mask)
	out := g.like(x, x.needs)
	for i := 0; i < rows; i++ {
		xr := x.Data[i*n : i*n+n]
		yr := out.Data[i*n : i*n+n]
		var mr []bool
		if k > 0 {
			mr = mask[i%k*n : i%k*n+n]
		}
		m, ok := rowMax(xr, mr)
		if !ok {
			continue // the arena zeroed yr
		}
		src := xr
		if mr != nil {
			maskRow(yr, xr, mr)
			src = yr
		}
		inv := T(1 / expShift(yr, src, m))
		for j := range yr {
			yr[j] *= inv
		}
	}
	if out.needs {
		bw := rule[T](softmaxBackward[float32], softmaxBackward[float64])
		g.push(record[T]{bw: bw, out: out, a: x, i: [4]int{n}})
	}
	return out
}

// softmaxBackward, per row: y = softmax(x) -> dx += y (dy - sum(y dy)). Excluded
// positions have y = 0, so they receive nothing; a dead row is all zeros.
func softmaxBackward[T Float](g *Graph[T], r *record[T]) {
	n := r.i[0]
	y, dy, dx := r.out.Data, r.out.Grad, r.a.Grad
	for i := 0; i+n <= len(y) && n > 0; i += n {
		yr := y[i : i+n]
		dyr := dy[i : i+n][:len(yr)]
		s := T(dotRow(yr, dyr))
		dxr := dx[i : i+n][:len(yr)]
		for j, v := range yr {
			dxr[j] += v * (dyr[j] - s)
		}
	}
}

// LogSoftmax returns x - max - log(sum(exp(x - max))) over the last dimension of x
// [..., n], the log of Softmax with the same mask (see Softmax), computed directly.
// Excluded positions, whose log-probability would be -Inf, are set to 0 with zero
// gradient, and so is every position of a row with no kept position (or only -Inf
// values), so sums over a row stay finite. The rule keeps one value per row and, with a
// mask, a copy of it; it recomputes exp(y).
func (g *Graph[T]) LogSoftmax(x *Tensor[T], mask []bool) *Tensor[T] {
	n, rows, k := rowsAndMask("LogSoftmax", x, mask)
	out := g.like(x, x.needs)
	var live, tmask []T
	if out.needs {
		live = g.buf(rows)
		if k > 0 {
			tmask = g.buf(len(mask))
			for j, b := range mask {
				if b {
					tmask[j] = 1
				}
			}
		}
	}
	for i := 0; i < rows; i++ {
		xr := x.Data[i*n : i*n+n]
		yr := out.Data[i*n : i*n+n][:len(xr)]
		var mr []bool
		if k > 0 {
			mr = mask[i%k*n : i%k*n+n][:len(xr)]
		}
		m, ok := rowMax(xr, mr)
		if !ok {
			continue
		}
		src := xr
		if mr != nil {
			maskRow(yr, xr, mr)
			src = yr
		}
		ls := T(math.Log(expShift(yr, src, m))) // yr is scratch until overwritten below
		if mr != nil {
			for j, v := range xr {
				if mr[j] {
					yr[j] = (v - m) - ls
				} else {
					yr[j] = 0
				}
			}
		} else {
			for j, v := range xr {
				yr[j] = (v - m) - ls
			}
		}
		if live != nil {
			live[i] = 1
		}
	}
	if out.needs {
		bw := rule[T](logSoftmaxBackward[float32], logSoftmaxBackward[float64])
		g.push(record[T]{bw: bw, out: out, a: x, i: [4]int{n, k}, aux: live, aux2: tmask})
	}
	return out
}

// logSoftmaxBackward, per live row with p = exp(y) and kept positions K:
// y_j = x_j - log sum_{k in K} exp(x_k) -> dx_j += dy_j - p_j sum_{k in K} dy_k for j in
// K; excluded positions and dead rows get nothing (their output is a constant 0).
func logSoftmaxBackward[T Float](g *Graph[T], r *record[T]) {
	n, k := r.i[0], r.i[1]
	y, dy, dx := r.out.Data, r.out.Grad, r.a.Grad
	buf := g.buf(n)
	for i, live := range r.aux {
		if live == 0 {
			continue
		}
		yr := y[i*n : i*n+n]
		dyr := dy[i*n : i*n+n][:len(yr)]
		dxr := dx[i*n : i*n+n][:len(yr)]
		p := buf[:len(yr)]
		expShift(p, yr, 0)
		if k == 0 {
			var s float64
			for _, d := range dyr {
				s += float64(d)
			}
			st := T(s)
			for j, d := range dyr {
				dxr[j] += d - p[j]*st
			}
			continue
		}
		mr := r.aux2[i%k*n : i%k*n+n][:len(yr)]
		st := T(dotRow(mr, dyr))
		for j, d := range dyr {
			dxr[j] += mr[j] * (d - p[j]*st)
		}
	}
}

// IgnoreIndex is the target CrossEntropy skips: the position counts neither in the loss
// nor in the mean (padding, prompt tokens).
const IgnoreIndex = -1

// CrossEntropyOptions configures CrossEntropy. The zero value gives the plain mean
// negative log-likelihood.
type CrossEntropyOptions struct {
	// LabelSmoothing eps in [0, 1] replaces the one-hot target by
	// q = (1-eps) onehot(target) + eps/V on every class, the target class included
	// (PyTorch's convention; Szegedy et al., 2016, section 7). Default 0.
	LabelSmoothing float64
	// Weights, if not nil, holds one weight >= 0 per position (len(targets)). The loss
	// is then the weighted mean sum(w_i l_i) / sum(w_i) over the counted positions.
	// Default nil: every counted position weighs 1.
	Weights []float64
}

// CrossEntropy returns the mean negative log-likelihood of targets under the softmax of
// logits [..., V], as a scalar:
//
//	l_i = log sum_j exp(x_ij) - sum_j q_ij x_ij,  loss = sum_i w_i l_i / sum_i w_i
//
// over the rows i of logits whose target is not IgnoreIndex, with q the (smoothed)
// target distribution and w the weights of opts. targets holds one class in [0, V) or
// IgnoreIndex per row of logits; neither it nor opts.Weights is retained. The loss is 0,
// with zero gradient, when no position counts. The log-sum-exp subtracts the row maximum
// first. When logits need a gradient the rule keeps exp(x - max) of every counted row
// ([N, V] values, the size of logits) instead of recomputing it.
func (g *Graph[T]) CrossEntropy(logits *Tensor[T], targets []int, opts CrossEntropyOptions) *Tensor[T] {
	if logits.nd == 0 {
		panic("nn: CrossEntropy of scalar logits; want [..., V]")
	}
	v, rows := logits.Dim(-1), logits.rows()
	if len(targets) != rows {
		panic(fmt.Sprintf("nn: CrossEntropy of logits %v with %d targets; want %d, one per row", logits.Shape(), len(targets), rows))
	}
	eps := opts.LabelSmoothing
	if !(eps >= 0 && eps <= 1) {
		panic(fmt.Sprintf("nn: CrossEntropy label smoothing %v; want a value in [0, 1]", eps))
	}
	if opts.Weights != nil && len(opts.Weights) != rows {
		panic(fmt.Sprintf("nn: CrossEntropy of logits %v with %d weights; want %d, one per row", logits.Shape(), len(opts.Weights), rows))
	}
	if int(T(v-1)) != v-1 {
		panic(fmt.Sprintf("nn: CrossEntropy of logits %v: %d classes do not fit the element type's integers", logits.Shape(), v))
	}
	out := g.New(logits.needs)
	// Saved for the rule: exps [rows*v], 1/sum [rows] in e; weight [rows], target [rows]
	// in wt. Without a rule one row of scratch does.
	var e, wt []T
	if out.needs {
		e, wt = g.buf(rows*v+rows), g.buf(2*rows)
	} else {
		e = g.buf(v)
	}
	// Check every target and weight first, so the parallel pass below cannot panic.
	for i, t := range targets {
		if t == IgnoreIndex {
			continue
		}
		if t < 0 || t >= v {
			panic(fmt.Sprintf("nn: CrossEntropy target %d at position %d for logits %v; want [0, %d) or IgnoreIndex", t, i, logits.Shape(), v))
		}
		if opts.Weights != nil {
			if w := opts.Weights[i]; !(w >= 0) || math.IsInf(w, 1) {
				panic(fmt.Sprintf("nn: CrossEntropy weight %v at position %d; want a finite value >= 0", w, i))
			}
		}
	}
	// Rows in parallel, each row's weighted loss kept in float64 and summed in row
	// order afterwards, so the result does not depend on the number of workers.
	rowLoss := g.scratch64(rows)
	ce := ceArgs[T]{logits: logits.Data, targets: targets, weights: opts.Weights, e: e, wt: wt, rowLoss: rowLoss, v: v, rows: rows, eps: eps, save: out.needs}
	if out.needs && split(g.workers, rows, 8*v) {
		c := ce // only this copy escapes to the heap, and only when splitting
		parallelFor(g.workers, rows, 8*v, func(lo, hi int) { c.run(lo, hi) })
	} else {
		ce.run(0, rows)
	}
	var loss, wsum float64
	for i, t := range targets {
		if t == IgnoreIndex {
			continue
		}
		w := 1.0
		if opts.Weights != nil {
			w = opts.Weights[i]
		}
		loss += rowLoss[i]
		wsum += w
	}
	var scale float64
	if wsum > 0 {
		scale = 1 / wsum
	}
	out.Data[0] = T(loss * scale)
	if out.needs {
		bw := rule[T](crossEntropyBackward[float32], crossEntropyBackward[float64])
		g.push(record[T]{bw: bw, out: out, a: logits, i: [4]int{v, rows}, f: [2]float64{scale, eps}, aux: e, aux2: wt, own: true})
	}
	return out
}

// ceArgs holds what CrossEntropy's rows need.
type ceArgs[T Float] struct {
	logits  []T
	targets []int
	weights []float64
	e, wt   []T
	rowLoss []float64
	v, rows int
	eps     float64
	save    bool // keep the exponentials for the rule; else e is one row of scratch
}

// run computes the weighted loss of rows [lo, hi) into rowLoss.
func (a *ceArgs[T]) run(lo, hi int) {
	v, rows, e := a.v, a.rows, a.e
	for i := lo; i < hi; i++ {
		t := a.targets[i]
		a.rowLoss[i] = 0
		if t == IgnoreIndex {
			continue
		}
		w := 1.0
		if a.weights != nil {
			if w = a.weights[i]; w == 0 {
				continue
			}
		}
		xr := a.logits[i*v : i*v+v]
		m, _ := rowMax(xr, nil)
		er := e[:v]
		if a.save {
			er = e[i*v : i*v+v]
		}
		s := expShift(er, xr, m)
		lse := float64(m) + math.Log(s)
		l := lse - float64(xr[t])
		if a.eps > 0 {
			var sx float64
			for _, x := range xr {
				sx += float64(x)
			}
			l = (1-a.eps)*l + a.eps*(lse-sx/float64(v))
		}
		a.rowLoss[i] = w * l
		if a.save {
			e[rows*v+i] = T(1 / s)
			a.wt[i], a.wt[rows+i] = T(w), T(t)
		}
	}
}

// crossEntropyBackward, per counted row with p = softmax(x) = exp(x - max) / sum:
// l = lse(x) - sum_j q_j x_j -> dx_j += dy w/W (p_j - q_j), q_j = (1-eps)[j = t] + eps/V.
func crossEntropyBackward[T Float](g *Graph[T], r *record[T]) {
	v, rows := r.i[0], r.i[1]
	scale, eps := r.f[0], r.f[1]
	dx, fresh := gradTo(r.a)
	dy := float64(r.out.Grad[0])
	if !split(g.workers, rows, 2*v) {
		ceGrad(dx, r.aux, r.aux2, dy, scale, eps, v, rows, 0, rows, fresh)
		return
	}
	parallelFor(g.workers, rows, 2*v, func(lo, hi int) {
		ceGrad(dx, r.aux, r.aux2, dy, scale, eps, v, rows, lo, hi, fresh)
	})
}

// ceGrad adds the gradient of rows [lo, hi): aux holds the exponentials and the
// reciprocal sums, aux2 the weights and targets (see CrossEntropy). With fresh set
// nothing has written dx yet: its rows are written, not added to.
func ceGrad[T Float](dx, aux, aux2 []T, dy, scale, eps float64, v, rows, lo, hi int, fresh bool) {
	for i := lo; i < hi; i++ {
		w := aux2[i]
		if w == 0 {
			if fresh {
				clear(dx[i*v : i*v+v])
			}
			continue
		}
		c := dy * float64(w) * scale
		a, b := T(c*float64(aux[rows*v+i])), T(c*eps/float64(v))
		er := aux[i*v : i*v+v]
		dxr := dx[i*v : i*v+v][:len(er)]
		if fresh {
			for j, x := range er {
				dxr[j] = a*x - b
			}
		} else if b == 0 {
			for j, x := range er {
				dxr[j] += a * x
			}
		} else {
			for j, x := range er {
				dxr[j] += a*x - b
			}
		}
		dxr[int(aux2[rows+i])] -= T(c * (1 - eps))
	}
}

// MSE returns the mean squared error mean((pred - target)^2) over every element, as a
// scalar (0 for empty tensors). pred and target have the same shape; gradients flow into
// either that needs one.
func (g *Graph[T]) MSE(pred, target *Tensor[T]) *Tensor[T] {
	if !sameShape(pred, target) {
		panic(fmt.Sprintf("nn: MSE of %v and %v; want equal shapes", pred.Shape(), target.Shape()))
	}
	out := g.New(anyNeeds(pred, target))
	p, t := pred.Data, target.Data[:len(pred.Data)]
	var s0, s1 float64
	j := 0
	for ; j+1 < len(p); j += 2 {
		d0, d1 := float64(p[j]-t[j]), float64(p[j+1]-t[j+1])
		s0 += d0 * d0
		s1 += d1 * d1
	}
	if j < len(p) {
		d := float64(p[j] - t[j])
		s0 += d * d
	}
	var scale float64
	if len(p) > 0 {
		scale = 1 / float64(len(p))
	}
	out.Data[0] = T((s0 + s1) * scale)
	if out.needs {
		bw := rule[T](mseBackward[float32], mseBackward[float64])
		g.push(record[T]{bw: bw, out: out, a: pred, b: target, f: [2]float64{2 * scale}})
	}
	return out
}

// mseBackward: L = mean((p - t)^2) over N elements -> dp += 2 dy (p - t) / N,
// dt -= 2 dy (p - t) / N.
func mseBackward[T Float](g *Graph[T], r *record[T]) {
	c := r.out.Grad[0] * T(r.f[0])
	p, t := r.a.Data, r.b.Data[:len(r.a.Data)]
	if dp := gradOf(r.a); dp != nil {
		dp = dp[:len(p)]
		for j, v := range p {
			dp[j] += c * (v - t[j])
		}
	}
	if dt := gradOf(r.b); dt != nil {
		dt = dt[:len(p)]
		for j, v := range p {
			dt[j] -= c * (v - t[j])
		}
	}
}

// rowsAndMask validates x [..., n] and its mask and returns n, the number of rows and
// the number of mask rows k (0 without a mask).
func rowsAndMask[T Float](op string, x *Tensor[T], mask []bool) (n, rows, k int) {
	if x.nd == 0 {
		panic(fmt.Sprintf("nn: %s of a scalar; want [..., n]", op))
	}
	n, rows = x.Dim(-1), x.rows()
	if mask == nil || (n == 0 && len(mask) == 0) {
		return n, rows, 0
	}
	if n == 0 || len(mask) == 0 || len(mask)%n != 0 || rows%(len(mask)/n) != 0 {
		panic(fmt.Sprintf("nn: %s of %v with a mask of %d values; want k*%d with k dividing %d rows", op, x.Shape(), len(mask), n, rows))
	}
	return n, rows, len(mask) / n
}

// rowMax returns the largest kept value of a row (all kept if mask is nil) and whether
// the row is live: it has a kept value above -Inf. A NaN in the first kept position
// becomes the maximum, so NaN inputs yield NaN outputs rather than a dead row.
func rowMax[T Float](x []T, mask []bool) (m T, live bool) {
	if mask == nil {
		if len(x) == 0 {
			return 0, false
		}
		m = x[0]
		for _, v := range x[1:] {
			if v > m {
				m = v
			}
		}
		return m, !math.IsInf(float64(m), -1)
	}
	mask = mask[:len(x)]
	first := true
	for j, v := range x {
		if mask[j] && (first || v > m) {
			m, first = v, false
		}
	}
	return m, !first && !math.IsInf(float64(m), -1)
}

// maskRow copies a row, replacing excluded positions by -Inf so exp gives them 0.
func maskRow[T Float](dst, src []T, mask []bool) {
	dst, mask = dst[:len(src)], mask[:len(src)]
	ninf := T(math.Inf(-1))
	for j, v := range src {
		if mask[j] {
			dst[j] = v
		} else {
			dst[j] = ninf
		}
	}
}

// dotRow returns sum(a b) in float64.
func dotRow[T Float](a, b []T) float64 {
	b = b[:len(a)]
	var s0, s1 float64
	j := 0
	for ; j+1 < len(a); j += 2 {
		s0 += float64(a[j] * b[j])
		s1 += float64(a[j+1] * b[j+1])
	}
	if j < len(a) {
		s0 += float64(a[j] * b[j])
	}
	return s0 + s1
}

// expShift sets dst[j] = exp(src[j] - shift) and returns the sum of the results in
// float64. dst and src may be the same slice. float32 uses an inlined kernel below;
// float64 (gradient checks) uses math.Exp.
func expShift[T Float](dst, src []T, shift T) float64 {
	if d, ok := any(dst).([]float32); ok {
		return expShift32(d, any(src).([]float32), float32(shift))
	}
	d, s := any(dst).([]float64), any(src).([]float64)
	s = s[:len(d)]
	sh := float64(shift)
	var sum float64
	for j, v := range s {
		e := math.Exp(v - sh)
		d[j] = e
		sum += e
	}
	return sum
}

// Constants of exp32: e^x = 2^k e^r with k = round(x/ln2), |r| <= ln2/2; expMagic
// (1.5 * 2^52) added to x/ln2 rounds it to an integer held in the low mantissa bits.
const (
	exp32Lo  = -104 // below ln of float32 smallest denormal (-103.3): the result is 0
	exp32Hi  = 88.8 // above ln(MaxFloat32) = 88.72: the float32 result is +Inf
	expLog2e = 1.4426950408889634
	expLn2   = 0.6931471805599453
	expMagic = 0x1.8p52
)

// exp32 is e^x for x in [exp32Lo, exp32Hi], in float64 arithmetic, for rounding to
// float32: Cody-Waite reduction (with one ln2 term, exact enough for |k| <= 128) and the
// degree-7 Taylor polynomial of e^r on |r| <= ln2/2 (relative error 5e-9, a tenth of a
// float32 ulp) in Estrin's scheme to shorten the dependency chain. It inlines.
func exp32(x float64) float64 {
	t := x*expLog2e + expMagic
	r := x - (t-expMagic)*expLn2
	r2 := r * r
	p := (1 + r) + r2*((1.0/2+r*(1.0/6))+r2*((1.0/24+r*(1.0/120))+r2*(1.0/720+r*(1.0/5040))))
	return p * math.Float64frombits((math.Float64bits(t)+1023)<<52)
}

func expShift32(dst, src []float32, shift float32) float64 {
	src = src[:len(dst)]
	sh := float64(shift)
	var s0 float64
	for j, v := range src {
		x := float64(v) - sh
		if x < exp32Lo { // also -Inf (excluded positions)
			dst[j] = 0
			continue
		}
		if x > exp32Hi {
			x = exp32Hi
		}
		e := exp32(x)
		dst[j] = float32(e)
		s0 += e
	}
	return s0
}
