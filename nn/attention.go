package nn

import (
	"fmt"
	"math"
)

// AttentionOptions configures Attention. The zero value is unmasked attention with the
// default scale 1/sqrt(D).
type AttentionOptions struct {
	// Scale multiplies the scores QK^T before the softmax; 0 means 1/sqrt(D).
	Scale float64

	// Causal lets query t see key s only if s <= t + (S - T): the T queries are the
	// last T positions of the S keys, as when T new tokens attend to a cache of S - T
	// earlier ones and to themselves. With T == S this is the usual lower triangle;
	// with T > S the first T - S queries see nothing.
	Causal bool

	// KeyLens, when not nil, holds one valid length per batch element (len B): key s of
	// element b is seen only if s < KeyLens[b] (right padding). 0 masks every key.
	KeyLens []int

	// KeyMask, when not nil, is [B, S] row-major: key s of element b is seen only if
	// KeyMask[b*S+s] is true (arbitrary padding).
	//
	// A key must pass every mask that is set. A query that sees no key gets a zero
	// output row and passes no gradient. Attention reads the masks only during the
	// call; the caller may reuse them at once.
	KeyMask []bool
}

// Attention is fused scaled dot-product attention (Vaswani et al. 2017, eq. 1),
//
//	O = softmax(mask(scale * Q K^T)) V,
//
// for q [B, H, T, D], k [B, H, S, D] and v [B, H, S, Dv], giving [B, H, T, Dv]; usually
// S == T and Dv == D. Masked scores are left out of the softmax (the row maximum is
// taken over the unmasked ones) rather than set to a large negative number, so a query
// with no visible key gets zeros, never NaN. The B*H heads run in parallel; each is
// two Gemm calls forward and four backward. The attention weights P [B, H, T, S] are
// kept in the arena for the backward pass.
func (g *Graph[T]) Attention(q, k, v *Tensor[T], opt AttentionOptions) *Tensor[T] {
	if q.nd != 4 || k.nd != 4 || v.nd != 4 ||
		k.dims[0] != q.dims[0] || v.dims[0] != q.dims[0] ||
		k.dims[1] != q.dims[1] || v.dims[1] != q.dims[1] ||
		k.dims[3] != q.dims[3] || v.dims[2] != k.dims[2] {
		panic(fmt.Sprintf("nn: Attention of q %v, k %v, v %v: want [B, H, T, D], [B, H, S, D], [B, H, S, Dv]", q.Shape(), k.Shape(), v.Shape()))
	}
	a := headsArgs(q, k, v)
	out := g.newFull(anyNeeds(q, k, v), q.dims[0], a.h, a.t, a.dv)
	a.o = out.Data
	g.attend(out, &a, opt, q, k, v)
	return out
}

// AttentionQKV is self-attention on the output of one projection that makes queries,
// keys and values together: qkv [B, T, 3*heads*dh], ordered (q/k/v, head, dh) along
// its last axis as SplitHeads reads it, gives [B, T, heads*dh], each position's heads
// side by side as MergeHeads makes them. It equals
//
//	MergeHeads(Attention(SplitHeads(qkv, 0, 3, heads), SplitHeads(qkv, 1, 3, heads), SplitHeads(qkv, 2, 3, heads), opt))
//
// but its products read and write those layouts in place (a head's rows are strided
// in qkv and out), so no copy is made either way.
func (g *Graph[T]) AttentionQKV(qkv *Tensor[T], heads int, opt AttentionOptions) *Tensor[T] {
	if qkv.nd != 3 || heads < 1 || qkv.dims[2]%(3*heads) != 0 {
		panic(fmt.Sprintf("nn: AttentionQKV of %v with %d heads: want [B, T, 3*heads*dh]", qkv.Shape(), heads))
	}
	a := fusedArgs(qkv, heads)
	out := g.newFull(qkv.needs, qkv.dims[0], a.t, heads*a.d)
	a.o = out.Data
	g.attend(out, &a, opt, qkv, nil, nil)
	return out
}

// headsArgs places Attention's heads: q [B, H, T, D], k [B, H, S, D], v [B, H, S, Dv]
// and the output [B, H, T, Dv] (and their gradients), each head's matrix contiguous.
func headsArgs[T Float](q, k, v *Tensor[T]) attnArgs[T] {
	nh, nt, d := q.dims[1], q.dims[2], q.dims[3]
	ns, dv := k.dims[2], v.dims[3]
	return attnArgs[T]{
		q: q.Data, k: k.Data, v: v.Data,
		lq: headsLayout(nh, nt, d), lk: headsLayout(nh, ns, d), lv: headsLayout(nh, ns, dv), lo: headsLayout(nh, nt, dv),
		heads: q.dims[0] * nh, h: nh, t: nt, s: ns, d: d, dv: dv,
	}
}

// fusedArgs places AttentionQKV's heads: queries, keys and values strided in
// qkv [B, T, 3*heads*dh] and the output [B, T, heads*dh] (and their gradients).
func fusedArgs[T Float](qkv *Tensor[T], heads int) attnArgs[T] {
	nb, nt, d := qkv.dims[0], qkv.dims[1], qkv.dims[2]/(3*heads)
	return attnArgs[T]{
		q: qkv.Data, k: qkv.Data, v: qkv.Data,
		lq: fusedLayout(0, heads, nt, d), lk: fusedLayout(1, heads, nt, d), lv: fusedLayout(2, heads, nt, d),
		lo:    attnLayout{bs: nt * heads * d, hs: d, ld: heads * d},
		heads: nb * heads, h: heads, t: nt, s: nt, d: d, dv: d,
	}
}

// attnLayout places the [rows, cols] matrix of head i (batch element i/h, head i%h)
// in a tensor: row r starts at base + (i/h) bs + (i%h) hs + r ld.
type attnLayout struct{ base, bs, hs, ld int }

func (l attnLayout) at(i, h int) int { return l.base + i/h*l.bs + i%h*l.hs }

// headsLayout is [B, H, rows, cols]: each head's matrix contiguous.
func headsLayout(h, rows, cols int) attnLayout {
	return attnLayout{bs: h * rows * cols, hs: rows * cols, ld: cols}
}

// fusedLayout is part p of [B, T, 3*h*d] ordered (part, head, d).
func fusedLayout(p, h, t, d int) attnLayout {
	return attnLayout{base: p * h * d, bs: t * 3 * h * d, hs: d, ld: 3 * h * d}
}

// attend runs attention forward for a's heads into out and records its rule: inputs
// q, k and v, or the fused qkv alone (k and v nil).
func (g *Graph[T]) attend(out *Tensor[T], a *attnArgs[T], opt AttentionOptions, q, k, v *Tensor[T]) {
	nb, nt, ns, d := out.dims[0], a.t, a.s, a.d
	if opt.KeyLens != nil {
		if len(opt.KeyLens) != nb {
			panic(fmt.Sprintf("nn: Attention: %d key lengths for batch %d", len(opt.KeyLens), nb))
		}
		for b, l := range opt.KeyLens {
			if l < 0 || l > ns {
				panic(fmt.Sprintf("nn: Attention: key length %d of batch element %d outside [0, %d]", l, b, ns))
			}
		}
	}
	if opt.KeyMask != nil && len(opt.KeyMask) != nb*ns {
		panic(fmt.Sprintf("nn: Attention: key mask of %d values for [B, S] = [%d, %d]", len(opt.KeyMask), nb, ns))
	}
	scale := opt.Scale
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(max(d, 1)))
	}
	heads, ts := a.heads, nt*ns
	if heads*ts == 0 {
		clear(out.Data) // no query, or no key: every output row is zero
		return
	}
	// P is saved for backward; without a backward pass each chunk of heads reuses one
	// [T, S] buffer. The backward pass gets its own scratch [T, S] per chunk (aux2).
	nc := min(heads, g.workers)
	var p, scratch []T
	if out.needs {
		// Every row of P and of the scratch dP is written in full (the softmax
		// clears what the products skip), so neither is cleared first.
		p = g.bufZ(heads*ts, false)
		scratch = g.bufZ(nc*ts, false)
	} else {
		p = g.bufZ(nc*ts, false)
	}
	a.p, a.nc, a.scale, a.saveP = p, nc, T(scale), out.needs
	a.causal, a.lens, a.mask = opt.Causal, opt.KeyLens, opt.KeyMask
	a.run(g.workers, false)
	if out.needs {
		g.push(record[T]{bw: rule[T](attentionBackward[float32], attentionBackward[float64]), out: out, a: q, b: k, c: v, own: true,
			i: [4]int{a.h}, f: [2]float64{scale, float64(b2i(opt.Causal))}, aux: p, aux2: scratch})
	}
}

// attnArgs is one Attention call's data, shared by its chunks of heads.
type attnArgs[T Float] struct {
	q, k, v, o, p     []T
	lq, lk, lv, lo    attnLayout // where each head's rows of q, k, v and o (and their gradients) lie
	heads, nc         int        // heads B*H, split into nc contiguous chunks
	h, t, s, d, dv    int
	scale             T
	saveP             bool // p holds every head's weights, else one [T, S] per chunk
	causal            bool
	lens              []int
	mask              []bool
	dq, dk, dvv, dout []T // backward: gradients (nil if not needed), output gradient
	// betaQ, betaK, betaV: 1 to add to dq, dk and dvv, 0 to overwrite them.
	betaQ, betaK, betaV T
	scratch             []T // backward: dP, one [T, S] per chunk
}

// run computes every chunk of heads, forward or backward: in this goroutine when there
// is one worker, so that nothing escapes and a step allocates nothing, else through
// parallelFor.
func (a *attnArgs[T]) run(workers int, backward bool) {
	ts := a.t * a.s
	cost := a.heads / a.nc * (2*ts*(a.d+a.dv) + 30*ts)
	if backward {
		cost *= 2
	}
	if workers <= 1 || a.nc < 2 {
		a.chunks(0, a.nc, backward)
		return
	}
	c := *a
	parallelFor(workers, a.nc, cost, func(lo, hi int) { c.chunks(lo, hi, backward) })
}

func (a *attnArgs[T]) chunks(lo, hi int, backward bool) {
	ts := a.t * a.s
	for c := lo; c < hi; c++ {
		for i := c * a.heads / a.nc; i < (c+1)*a.heads/a.nc; i++ {
			switch {
			case backward:
				a.backward(i, a.scratch[c*ts:(c+1)*ts])
			case a.saveP:
				a.forward(i, a.p[i*ts:(i+1)*ts])
			default:
				a.forward(i, a.p[c*ts:(c+1)*ts])
			}
		}
	}
}

// attnBlock is the number of query rows per score Gemm under a causal mask: a block
// computes only the keys its last row sees, which skips about 3/8 of the score flops at
// T = S = 64 for four times the calls.
const attnBlock = 16

// block is the number of query rows per score Gemm.
func (a *attnArgs[T]) block() int {
	if a.causal {
		return attnBlock
	}
	return max(a.t, 1)
}

// blockKeys is how many leading keys the rows before t1 may see (before padding masks).
func (a *attnArgs[T]) blockKeys(t1 int) int {
	if a.causal {
		return min(max(t1+a.s-a.t, 0), a.s) // the last row t1-1 sees s <= t1-1 + S-T
	}
	return a.s
}

// forward computes head i (batch element i / h): p = softmax(mask(scale q k^T)) [T, S],
// o = p v [T, Dv].
func (a *attnArgs[T]) forward(i int, p []T) {
	nt, ns, d, dv := a.t, a.s, a.d, a.dv
	b := i / a.h
	qi, ldq := a.q[a.lq.at(i, a.h):], a.lq.ld
	ki, ldk := a.k[a.lk.at(i, a.h):], a.lk.ld
	vi, ldv := a.v[a.lv.at(i, a.h):], a.lv.ld
	var mask []bool
	if a.mask != nil {
		mask = a.mask[b*ns : (b+1)*ns]
	}
	lens := ns
	if a.lens != nil {
		lens = a.lens[b]
	}
	blk := a.block()
	for t0 := 0; t0 < nt; t0 += blk {
		t1 := min(t0+blk, nt)
		if cols := min(a.blockKeys(t1), lens); cols > 0 {
			gemm(false, true, t1-t0, cols, d, a.scale, qi[t0*ldq:], ldq, ki, ldk, 0, p[t0*ns:t1*ns], ns)
		}
		for t := t0; t < t1; t++ {
			// Causal and length masks leave a prefix [0, hi) of the keys visible; the
			// Gemm computed at least that much.
			hi := lens
			if a.causal {
				hi = min(hi, t+ns-nt+1)
			}
			attnSoftmax(p[t*ns:(t+1)*ns], max(hi, 0), mask)
		}
	}
	gemm(false, false, nt, dv, ns, 1, p, ns, vi, ldv, 0, a.o[a.lo.at(i, a.h):], a.lo.ld)
}

// attnSoftmax replaces row by its softmax over the visible entries: index s < hi with
// mask[s] (when mask is not nil). Other entries and rows with no visible entry become 0.
func attnSoftmax[T Float](row []T, hi int, mask []bool) {
	switch r := any(row).(type) {
	case []float32:
		attnSoftmax32(r, hi, mask)
	case []float64:
		attnSoftmax64(r, hi, mask)
	}
}

func attnSoftmax32(row []float32, hi int, mask []bool) {
	clear(row[hi:])
	row = row[:hi]
	m := float32(math.Inf(-1))
	seen := false
	if mask == nil {
		for _, x := range row {
			if x > m {
				m = x
			}
		}
		seen = len(row) > 0
	} else {
		for s, x := range row {
			if mask[s] {
				m = max(m, x)
				seen = true
			}
		}
	}
	if !seen {
		clear(row)
		return
	}
	var sum float32
	if mask == nil {
		for s, x := range row {
			e := attnExp32(x - m)
			row[s] = e
			sum += e
		}
	} else {
		for s, x := range row {
			var e float32
			if mask[s] {
				e = attnExp32(x - m)
			}
			row[s] = e
			sum += e
		}
	}
	// sum >= 1 (the maximum contributes e^0), so float32 accumulation loses at most
	// S ulps relative, below the exp error for any S this engine sees.
	inv := 1 / sum
	for s := range row {
		row[s] *= inv
	}
}

func attnSoftmax64(row []float64, hi int, mask []bool) {
	clear(row[hi:])
	row = row[:hi]
	m := math.Inf(-1)
	seen := false
	for s, x := range row {
		if mask == nil || mask[s] {
			m = max(m, x)
			seen = true
		}
	}
	if !seen {
		clear(row)
		return
	}
	var sum float64
	for s, x := range row {
		if mask != nil && !mask[s] {
			row[s] = 0
			continue
		}
		e := math.Exp(x - m)
		row[s] = e
		sum += e
	}
	inv := 1 / sum
	for s := range row {
		row[s] *= inv
	}
}

// attnExp32 is e^x for the x <= 0 of a softmax, to float32 precision: x = k ln2 + r with
// |r| <= ln2/2, e^r by its Taylor series to r^7 (truncation below 1e-8 relative), and
// 2^k put into the exponent bits: about 1.6 times as fast as math.Exp on float64.
func attnExp32(x float32) float32 {
	const (
		log2e = 1.4426950408889634
		ln2hi = 6.93147180369123816490e-01
		ln2lo = 1.90821492927058770002e-10
	)
	f := float64(x)
	if f < -104 { // below the smallest float32 denormal, and NaN stays NaN below
		return 0
	}
	k := math.Floor(f*log2e + 0.5)
	r := f - k*ln2hi - k*ln2lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return float32(p * math.Float64frombits(uint64(int64(k)+1023)<<52))
}

// attentionBackward, per head, with P = softmax(Z), Z = scale Q K^T, O = P V:
//
//	dV += P^T dO
//	dP  = dO V^T
//	dZ  = P * (dP - rowsum(dP * P))        (softmax: dz_j = p_j (dp_j - sum_l p_l dp_l))
//	dQ += scale dZ K
//	dK += scale dZ^T Q
//
// Masked entries have P = 0, so dZ = 0 there and the masks need not be kept.
func attentionBackward[T Float](g *Graph[T], r *record[T]) {
	var a attnArgs[T]
	if r.b == nil {
		a = fusedArgs(r.a, r.i[0])
	} else {
		a = headsArgs(r.a, r.b, r.c)
	}
	a.p, a.nc, a.scale, a.causal = r.aux, len(r.aux2)/(a.t*a.s), T(r.f[0]), r.f[1] == 1
	a.dout, a.scratch = r.out.Grad, r.aux2
	// Every head writes all of dQ, dK and dV: gradients nothing has written yet are
	// overwritten (beta 0) rather than zeroed first.
	switch {
	case r.b == nil:
		// AttentionQKV: one tensor, all of whose gradient every head's products write.
		dqkv, fresh := gradTo(r.a)
		a.dq, a.dk, a.dvv = dqkv, dqkv, dqkv
		beta := T(b2i(!fresh))
		a.betaQ, a.betaK, a.betaV = beta, beta, beta
	case r.a != r.b && r.a != r.c && r.b != r.c:
		var fq, fk, fv bool
		a.dq, fq = gradTo(r.a)
		a.dk, fk = gradTo(r.b)
		a.dvv, fv = gradTo(r.c)
		a.betaQ, a.betaK, a.betaV = T(b2i(!fq)), T(b2i(!fk)), T(b2i(!fv))
	default:
		// One tensor in two roles: each role adds to what the other wrote.
		a.dq, a.dk, a.dvv = gradOf(r.a), gradOf(r.b), gradOf(r.c)
		a.betaQ, a.betaK, a.betaV = 1, 1, 1
	}
	a.run(g.workers, true)
}

// backward adds head i's gradients, using dp [T, S] as scratch.
func (a *attnArgs[T]) backward(i int, dp []T) {
	nt, ns, d, dv := a.t, a.s, a.d, a.dv
	ts := nt * ns
	pi := a.p[i*ts : (i+1)*ts]
	oq, ok, ov, oo := a.lq.at(i, a.h), a.lk.at(i, a.h), a.lv.at(i, a.h), a.lo.at(i, a.h)
	ldq, ldk, ldv, ldo := a.lq.ld, a.lk.ld, a.lv.ld, a.lo.ld
	doi := a.dout[oo:]
	if a.dvv != nil {
		gemm(true, false, ns, dv, nt, 1, pi, ns, doi, ldo, a.betaV, a.dvv[ov:], ldv)
	}
	if a.dq == nil && a.dk == nil {
		return
	}
	vi := a.v[ov:]
	blk := a.block()
	for t0 := 0; t0 < nt; t0 += blk {
		t1 := min(t0+blk, nt)
		// Keys past the block's causal bound have P = 0, so dZ = 0 there: skip their dP.
		cols := a.blockKeys(t1)
		if cols > 0 {
			gemm(false, true, t1-t0, cols, dv, 1, doi[t0*ldo:], ldo, vi, ldv, 0, dp[t0*ns:t1*ns], ns)
		}
		for t := t0; t < t1; t++ {
			prow, drow := pi[t*ns:t*ns+cols], dp[t*ns:(t+1)*ns]
			var dot T
			for s, x := range prow {
				dot += x * drow[s]
			}
			for s, x := range prow {
				drow[s] = x * (drow[s] - dot)
			}
			clear(drow[cols:])
		}
	}
	if a.dq != nil {
		gemm(false, false, nt, d, ns, a.scale, dp, ns, a.k[ok:], ldk, a.betaQ, a.dq[oq:], ldq)
	}
	if a.dk != nil {
		gemm(true, false, ns, d, nt, a.scale, dp, ns, a.q[oq:], ldq, a.betaK, a.dk[ok:], ldk)
	}
}
