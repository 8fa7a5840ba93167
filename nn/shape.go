package nn

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas/blas64"
)

// Shape operations: Reshape, Transpose, Permute, Slice, Concat, Gather and Dropout.
// Every result but Reshape's (a view, see Reshape) is a fresh arena tensor holding a copy of the elements it takes from its
// inputs, never a view: a later write to an input (an optimiser step on a parameter,
// a caller refilling a constant) cannot reach a result, and each result's gradient
// buffer is its own. The copies move whole contiguous runs (rows, inner blocks) with
// copy where the layout allows, so they cost about one pass over memory.
//
// Results whose element count equals the input's (Reshape, Permute, Transpose,
// Dropout) come from like(x) with their dims set afterwards: New's variadic shape
// escapes to the heap (setShape formats it into a panic message), so passing it a
// shape built on the stack would cost an allocation per call.

// shapeLikeDims returns an arena tensor with x's element count and the shape
// dims[:nd].
func (g *Graph[T]) shapeLikeDims(x *Tensor[T], needs bool, dims *[MaxDims]int, nd int) *Tensor[T] {
	out := g.like(x, needs)
	out.dims, out.nd = *dims, nd
	return out
}

// shapeAcc adds src to dst (of the same length). Runs of 16 or more go through BLAS
// axpy with alpha 1, whose SIMD kernels add rows of 64 float32 two to three times as
// fast as a Go loop; shorter ones are not worth the call.
func shapeAcc[T Float](dst, src []T) {
	if len(src) < 16 {
		dst = dst[:len(src)]
		for i, v := range src {
			dst[i] += v
		}
		return
	}
	switch d := any(dst).(type) {
	case []float32:
		vec32.Saxpy(len(src), 1, any(src).([]float32), 1, d, 1)
	case []float64:
		blas64.Implementation().Daxpy(len(src), 1, any(src).([]float64), 1, d, 1)
	}
}

// shapeAxis resolves a possibly negative axis (counting from the end, as in Dim) of a
// tensor of rank nd, panicking with op and the shape when it is out of range.
func shapeAxis[T Float](op string, x *Tensor[T], axis int) int {
	a := axis
	if a < 0 {
		a += x.nd
	}
	if a < 0 || a >= x.nd {
		panic(fmt.Sprintf("nn: %s: axis %d outside a tensor of shape %v", op, axis, x.Shape()))
	}
	return a
}

// shapeProd is the product of dims.
func shapeProd(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// Reshape returns x's elements in row-major order under a new shape with the same
// number of elements; one dimension may be -1 and is then inferred. Unlike the other
// shape operations the result is a view: it shares x's data and gradient buffers, so
// it costs no copy forward or backward, and a write to x's data shows through it.
func (g *Graph[T]) Reshape(x *Tensor[T], shape ...int) *Tensor[T] {
	if len(shape) > MaxDims {
		panic(fmt.Sprintf("nn: Reshape of %v to rank %d above %d", x.Shape(), len(shape), MaxDims))
	}
	var dims [MaxDims]int
	copy(dims[:], shape)
	infer, known := -1, 1
	for i, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			// The shape is copied for the message so that the caller's variadic
			// slice does not escape (which would allocate on every call).
			panic(fmt.Sprintf("nn: Reshape of %v to %v: one dimension may be -1, others must be >= 0", x.Shape(), append([]int(nil), shape...)))
		default:
			known *= d
		}
	}
	n := x.Len()
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			panic(fmt.Sprintf("nn: Reshape of %v to %v: cannot infer the -1 dimension", x.Shape(), append([]int(nil), shape...)))
		}
		dims[infer] = n / known
	} else if known != n {
		panic(fmt.Sprintf("nn: Reshape of %v (%d elements) to %v", x.Shape(), n, append([]int(nil), shape...)))
	}
	out := g.view(x, &dims, len(shape))
	if out.needs {
		g.push(record[T]{out: out, a: x, view: true})
	}
	return out
}

// view returns an arena tensor header with the shape dims[:nd] over x's own data.
func (g *Graph[T]) view(x *Tensor[T], dims *[MaxDims]int, nd int) *Tensor[T] {
	var t *Tensor[T]
	if g.nextT < len(g.tensors) {
		t = g.tensors[g.nextT]
		*t = Tensor[T]{}
	} else {
		t = new(Tensor[T])
		g.tensors = append(g.tensors, t)
	}
	g.nextT++
	t.dims, t.nd = *dims, nd
	t.Data = x.Data
	t.needs = x.needs
	return t
}

// Transpose swaps dimensions d0 and d1 of x (negative values count from the end), for
// example [batch, tokens, heads, headDim] -> [batch, heads, tokens, headDim] with
// Transpose(x, 1, 2). The result is a contiguous copy.
func (g *Graph[T]) Transpose(x *Tensor[T], d0, d1 int) *Tensor[T] {
	a, b := shapeAxis("Transpose", x, d0), shapeAxis("Transpose", x, d1)
	var perm [MaxDims]int
	for i := range perm {
		perm[i] = i
	}
	perm[a], perm[b] = b, a
	return g.permute(x, &perm)
}

// Permute reorders the dimensions of x: dimension k of the result is dimension
// perm[k] of x, so Permute(x, 0, 2, 1, 3) equals Transpose(x, 1, 2). The result is a
// contiguous copy.
func (g *Graph[T]) Permute(x *Tensor[T], perm ...int) *Tensor[T] {
	var p [MaxDims]int
	var seen [MaxDims]bool
	ok := len(perm) == x.nd
	for i := 0; ok && i < len(perm); i++ {
		ok = perm[i] >= 0 && perm[i] < x.nd && !seen[perm[i]]
		if ok {
			seen[perm[i]] = true
			p[i] = perm[i]
		}
	}
	if !ok {
		panic(fmt.Sprintf("nn: Permute of %v by %v: want a permutation of 0..%d", x.Shape(), append([]int(nil), perm...), x.nd-1))
	}
	return g.permute(x, &p)
}

// permute is Permute with a checked permutation of x's x.nd dimensions in perm.
func (g *Graph[T]) permute(x *Tensor[T], perm *[MaxDims]int) *Tensor[T] {
	var dims [MaxDims]int
	code := 0
	for k := 0; k < x.nd; k++ {
		dims[k] = x.dims[perm[k]]
		code |= perm[k] << (3 * k)
	}
	out := g.shapeLikeDims(x, x.needs, &dims, x.nd)
	permuteInto(out.Data, x.Data, x.Shape(), perm[:x.nd], false)
	if out.needs {
		g.push(record[T]{bw: rule[T](permuteBackward[float32], permuteBackward[float64]), out: out, a: x, i: [4]int{code}})
	}
	return out
}

// permuteBackward: y[i_perm[0], ..., i_perm[n-1]] = x[i_0, ..., i_n-1] -> dx += dy
// permuted back by the inverse permutation.
func permuteBackward[T Float](g *Graph[T], r *record[T]) {
	var inv [MaxDims]int
	n := r.a.nd
	for k := 0; k < n; k++ {
		inv[(r.i[0]>>(3*k))&7] = k
	}
	permuteInto(r.a.Grad, r.out.Grad, r.out.Shape(), inv[:n], true)
}

// permuteTile is the side of the square tiles in which permuteInto transposes when the
// innermost dimension moves: a 32x32 source tile and its destination (8 KiB each in
// float64) stay in L1 while the strided side is walked. 32 measured faster than 16 or
// 64 for [32, 4, 64, 64] float32.
const permuteTile = 32

// permuteInto stores (or, with add, adds) into dst, a contiguous tensor whose dimension
// k is dimension perm[k] of src, the elements of src, a contiguous tensor of shape
// dims.
//
// It first drops dimensions of size 1 and merges dimensions that stay adjacent and in
// order, so [B, T, H, D] -> [B, H, T, D] runs as copies of D-element rows. When the
// innermost dimension stays innermost, it copies rows of that length; otherwise it
// transposes the two dimensions that trade the innermost place in cache-sized tiles
// and walks the others.
func permuteInto[T Float](dst, src []T, dims, perm []int, add bool) {
	if len(src) == 0 {
		return
	}
	sd, sp, r := simplifyPerm(dims, perm)
	if r <= 1 { // the identity in disguise: one contiguous run
		if add {
			shapeAcc(dst, src)
		} else {
			copy(dst, src)
		}
		return
	}
	// Strides of the source (row-major over sd) and of the destination (row-major
	// over the permuted sizes); sz and st are the destination's sizes and, for each of
	// its dimensions, the source stride.
	var ss, ds, sz, st [MaxDims]int
	ss[r-1] = 1
	for k := r - 2; k >= 0; k-- {
		ss[k] = ss[k+1] * sd[k+1]
	}
	for k := 0; k < r; k++ {
		sz[k], st[k] = sd[sp[k]], ss[sp[k]]
	}
	ds[r-1] = 1
	for k := r - 2; k >= 0; k-- {
		ds[k] = ds[k+1] * sz[k+1]
	}

	if sp[r-1] == r-1 {
		// The innermost dimension stays: rows of L contiguous elements in both.
		L := sz[r-1]
		var idx [MaxDims]int
		off := 0
		for o := 0; o < len(dst); o += L {
			d, s := dst[o:o+L], src[off:off+L]
			if add {
				shapeAcc(d, s)
			} else {
				copy(d, s)
			}
			for k := r - 2; k >= 0; k-- {
				idx[k]++
				off += st[k]
				if idx[k] < sz[k] {
					break
				}
				off -= st[k] * sz[k]
				idx[k] = 0
			}
		}
		return
	}

	// The destination's innermost dimension (rows of the tile, source stride
	// rs) and the source's innermost dimension, at destination position q
	// (columns of the tile, destination stride cs) trade places.
	q := 0
	for sp[q] != r-1 {
		q++
	}
	rows, rs := sz[r-1], st[r-1]
	cols, cs := sz[q], ds[q]
	// The other dimensions, walked as an odometer.
	var osz, ost, ods, idx [MaxDims]int
	m := 0
	for k := 0; k < r-1; k++ {
		if k != q {
			osz[m], ost[m], ods[m] = sz[k], st[k], ds[k]
			m++
		}
	}
	sOff, dOff := 0, 0
	for {
		for j0 := 0; j0 < cols; j0 += permuteTile {
			for i0 := 0; i0 < rows; i0 += permuteTile {
				transposeTile(dst, dOff+j0*cs+i0, cs, src, sOff+i0*rs+j0, rs,
					min(permuteTile, rows-i0), min(permuteTile, cols-j0), add)
			}
		}
		k := m - 1
		for ; k >= 0; k-- {
			idx[k]++
			sOff += ost[k]
			dOff += ods[k]
			if idx[k] < osz[k] {
				break
			}
			sOff -= ost[k] * osz[k]
			dOff -= ods[k] * osz[k]
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// transposeTile stores (or adds) dst[d + j*cs + i] = src[s + i*rs + j] for i < rows,
// j < cols, in 4x4 blocks whose 16 loads and stores need only 8 bounds checks.
func transposeTile[T Float](dst []T, d, cs int, src []T, s, rs int, rows, cols int, add bool) {
	i4, j4 := rows&^3, cols&^3
	for j := 0; j < j4; j += 4 {
		for i := 0; i < i4; i += 4 {
			si, di := s+i*rs+j, d+j*cs+i
			s0, s1, s2, s3 := src[si:si+4:si+4], src[si+rs:si+rs+4:si+rs+4], src[si+2*rs:si+2*rs+4:si+2*rs+4], src[si+3*rs:si+3*rs+4:si+3*rs+4]
			d0, d1, d2, d3 := dst[di:di+4:di+4], dst[di+cs:di+cs+4:di+cs+4], dst[di+2*cs:di+2*cs+4:di+2*cs+4], dst[di+3*cs:di+3*cs+4:di+3*cs+4]
			if add {
				d0[0], d0[1], d0[2], d0[3] = d0[0]+s0[0], d0[1]+s1[0], d0[2]+s2[0], d0[3]+s3[0]
				d1[0], d1[1], d1[2], d1[3] = d1[0]+s0[1], d1[1]+s1[1], d1[2]+s2[1], d1[3]+s3[1]
				d2[0], d2[1], d2[2], d2[3] = d2[0]+s0[2], d2[1]+s1[2], d2[2]+s2[2], d2[3]+s3[2]
				d3[0], d3[1], d3[2], d3[3] = d3[0]+s0[3], d3[1]+s1[3], d3[2]+s2[3], d3[3]+s3[3]
			} else {
				d0[0], d0[1], d0[2], d0[3] = s0[0], s1[0], s2[0], s3[0]
				d1[0], d1[1], d1[2], d1[3] = s0[1], s1[1], s2[1], s3[1]
				d2[0], d2[1], d2[2], d2[3] = s0[2], s1[2], s2[2], s3[2]
				d3[0], d3[1], d3[2], d3[3] = s0[3], s1[3], s2[3], s3[3]
			}
		}
	}
	// The edges: rows beyond i4 in every column, and columns beyond j4.
	for j := 0; j < cols; j++ {
		i := i4
		if j >= j4 {
			i = 0
		}
		for ; i < rows; i++ {
			if add {
				dst[d+j*cs+i] += src[s+i*rs+j]
			} else {
				dst[d+j*cs+i] = src[s+i*rs+j]
			}
		}
	}
}

// simplifyPerm rewrites the permutation perm of a tensor of shape dims as an
// equivalent one of rank r <= len(dims) on shape sd: dimensions of size 1 go, and runs
// of dimensions that are adjacent and in order in both the source and the result
// become one dimension.
func simplifyPerm(dims, perm []int) (sd, sp [MaxDims]int, r int) {
	// Number the source dimensions that are not 1 consecutively.
	var c [MaxDims]int
	m := 0
	for a, d := range dims {
		if d != 1 {
			c[a] = m
			m++
		}
	}
	// Walk the result's dimensions, opening a group unless this dimension follows the
	// previous one in the source.
	var first, size [MaxDims]int
	last := -2
	for _, a := range perm {
		if dims[a] == 1 {
			continue
		}
		if c[a] == last+1 {
			size[r-1] *= dims[a]
		} else {
			first[r], size[r] = c[a], dims[a]
			r++
		}
		last = c[a]
	}
	// Groups are runs of consecutive source dimensions, so their order in the source
	// is the order of their first members.
	for k := 0; k < r; k++ {
		pos := 0
		for j := 0; j < r; j++ {
			if first[j] < first[k] {
				pos++
			}
		}
		sp[k], sd[pos] = pos, size[k]
	}
	return sd, sp, r
}

// Slice returns x[..., start:end, ...] along dimension dim (negative counts from the
// end), 0 <= start <= end <= x.Dim(dim), as a contiguous copy.
func (g *Graph[T]) Slice(x *Tensor[T], dim, start, end int) *Tensor[T] {
	a := shapeAxis("Slice", x, dim)
	if start < 0 || start > end || end > x.dims[a] {
		panic(fmt.Sprintf("nn: Slice [%d:%d] of dimension %d of %v", start, end, a, x.Shape()))
	}
	dims := x.dims
	dims[a] = end - start
	out := g.New(x.needs, dims[:x.nd]...)
	outer, inner := shapeProd(x.dims[:a]), shapeProd(x.dims[a+1:x.nd])
	n, src := (end-start)*inner, x.dims[a]*inner
	for o := 0; o < outer; o++ {
		copy(out.Data[o*n:(o+1)*n], x.Data[o*src+start*inner:])
	}
	if out.needs {
		g.push(record[T]{bw: rule[T](sliceBackward[float32], sliceBackward[float64]), out: out, a: x, i: [4]int{a, start}})
	}
	return out
}

// sliceBackward: y = x[start:end] along dim -> dx[start:end] += dy, the rest of dx
// unchanged.
func sliceBackward[T Float](g *Graph[T], r *record[T]) {
	a, start := r.i[0], r.i[1]
	x := r.a
	outer, inner := shapeProd(x.dims[:a]), shapeProd(x.dims[a+1:x.nd])
	n, src := r.out.dims[a]*inner, x.dims[a]*inner
	dx, dy := x.Grad, r.out.Grad
	for o := 0; o < outer; o++ {
		shapeAcc(dx[o*src+start*inner:o*src+start*inner+n], dy[o*n:(o+1)*n])
	}
}

// Concat joins xs along dimension dim (negative counts from the end); their other
// dimensions must agree. The same tensor may appear more than once.
func (g *Graph[T]) Concat(dim int, xs ...*Tensor[T]) *Tensor[T] {
	if len(xs) == 0 {
		panic("nn: Concat of no tensors")
	}
	x0 := xs[0]
	a := shapeAxis("Concat", x0, dim)
	dims := x0.dims
	dims[a] = 0
	for _, x := range xs {
		ok := x.nd == x0.nd
		for k := 0; ok && k < x.nd; k++ {
			ok = k == a || x.dims[k] == x0.dims[k]
		}
		if !ok {
			panic(fmt.Sprintf("nn: Concat along dimension %d of %v and %v", a, x0.Shape(), x.Shape()))
		}
		dims[a] += x.dims[a]
	}
	out := g.New(anyNeeds(xs...), dims[:x0.nd]...)
	outer, inner := shapeProd(x0.dims[:a]), shapeProd(x0.dims[a+1:x0.nd])
	row := dims[a] * inner
	off := 0
	for _, x := range xs {
		n := x.dims[a] * inner
		for o := 0; o < outer; o++ {
			copy(out.Data[o*row+off:o*row+off+n], x.Data[o*n:(o+1)*n])
		}
		off += n
	}
	if out.needs {
		// One record per input keeps the tape free of slices of tensors: each
		// takes its own block of the output's gradient.
		off = 0
		for _, x := range xs {
			if x.needs {
				g.push(record[T]{bw: rule[T](concatBackward[float32], concatBackward[float64]), out: out, a: x, i: [4]int{a, off}})
			}
			off += x.dims[a]
		}
	}
	return out
}

// concatBackward, for the input x_k that sits at offset off along dim:
// y = [x_0, ..., x_k, ...] -> dx_k += dy[off:off+len_k] along dim.
func concatBackward[T Float](g *Graph[T], r *record[T]) {
	a, off := r.i[0], r.i[1]
	x, y := r.a, r.out
	outer, inner := shapeProd(x.dims[:a]), shapeProd(x.dims[a+1:x.nd])
	n, row := x.dims[a]*inner, y.dims[a]*inner
	dx, dy := x.Grad, y.Grad
	for o := 0; o < outer; o++ {
		shapeAcc(dx[o*n:(o+1)*n], dy[o*row+off*inner:o*row+off*inner+n])
	}
}

// Gather looks up rows of table [V, d] (an embedding): row ids[i] becomes row i of the
// result, of shape [shape..., d] where shape's elements multiply to len(ids), or
// [len(ids), d] when shape is omitted. An id outside [0, V) panics. When the table
// needs a gradient the ids are saved (as T values, so with float32 no id may exceed
// 2^24) and the caller may reuse the slice at once.
func (g *Graph[T]) Gather(table *Tensor[T], ids []int, shape ...int) *Tensor[T] {
	if table.nd != 2 {
		panic(fmt.Sprintf("nn: Gather from a table of shape %v, want [V, d]", table.Shape()))
	}
	V, d := table.dims[0], table.dims[1]
	var dims [MaxDims]int
	nd := len(shape) + 1
	if len(shape) == 0 {
		dims[0], nd = len(ids), 2
	} else if nd > MaxDims || shapeProd(shape) != len(ids) {
		panic(fmt.Sprintf("nn: Gather of %d ids into shape %v", len(ids), append([]int(nil), shape...)))
	}
	copy(dims[:], shape)
	dims[nd-1] = d
	out := g.New(table.needs, dims[:nd]...)
	for i, id := range ids {
		if id < 0 || id >= V {
			panic(fmt.Sprintf("nn: Gather: id %d at position %d outside a table of %d rows", id, i, V))
		}
		copy(out.Data[i*d:(i+1)*d], table.Data[id*d:(id+1)*d])
	}
	if out.needs {
		if V-1 > shapeExactInts[T]() {
			panic(fmt.Sprintf("nn: Gather: a table of %d rows has ids beyond the integers %T holds exactly", V, T(0)))
		}
		// The record has no []int field; ids fit exactly in T (checked above).
		saved := g.buf(len(ids))
		for i, id := range ids {
			saved[i] = T(id)
		}
		g.push(record[T]{bw: rule[T](gatherBackward[float32], gatherBackward[float64]), out: out, a: table, aux: saved})
	}
	return out
}

// shapeExactInts is the largest n such that T holds every integer in [0, n] exactly:
// 2^24 for float32, 2^53 for float64 (their significands' widths).
func shapeExactInts[T Float]() int {
	n := 1<<24 + 1
	if T(n) == T(n-1) {
		return 1 << 24
	}
	return 1 << 53
}

// gatherBackward: y[i] = table[ids[i]] -> dtable[ids[i]] += dy[i], accumulating over
// repeated ids.
func gatherBackward[T Float](g *Graph[T], r *record[T]) {
	d := r.a.dims[1]
	dt, dy := r.a.Grad, r.out.Grad
	for i, v := range r.aux {
		id := int(v)
		shapeAcc(dt[id*d:(id+1)*d], dy[i*d:(i+1)*d])
	}
}

// Dropout, when g.Training is set and p > 0, zeroes each element of x independently
// with probability p and scales the survivors by 1/(1-p), so the expectation is x
// (Srivastava et al., JMLR 15, 2014, with the scaling at training time). Otherwise it
// returns x itself. p must be in [0, 1).
//
// Randomness: one Uint64 from g.Rng (which must then be set) seeds a SplitMix64
// stream (Steele, Lea and Flood, OOPSLA 2014) inlined here, which costs a fraction of
// calling g.Rng per element; each 64-bit output decides two elements by 32 bits each,
// so p is honoured to within 2^-32. A graph whose Rng is seeded the same way draws the
// same mask.
func (g *Graph[T]) Dropout(x *Tensor[T], p float64) *Tensor[T] {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("nn: Dropout probability %g outside [0, 1) for %v", p, x.Shape()))
	}
	if !g.Training || p == 0 {
		return x
	}
	if g.Rng == nil {
		panic(fmt.Sprintf("nn: Dropout(p=%g) of %v while training needs the graph's Rng; pass one to NewGraph or set g.Rng", p, x.Shape()))
	}
	out := g.like(x, x.needs)
	var mask []T
	if out.needs {
		mask = g.buf(len(x.Data))
	}
	// Element i is dropped when its 32-bit draw u < thr, P = thr/2^32. The sign bit of
	// u - thr (both below 2^33) is that comparison without a branch, and picks the
	// factor from keep.
	thr := uint64(math.Round(p * (1 << 32)))
	keep := [2]T{T(1 / (1 - p)), 0}
	state := g.Rng.Uint64()
	y, xs := out.Data, x.Data
	n := len(xs)
	for i := 0; i < n; i += 2 {
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		m := keep[(z&(1<<32-1)-thr)>>63]
		y[i] = xs[i] * m
		if mask != nil {
			mask[i] = m
		}
		if i+1 < n {
			m = keep[(z>>32-thr)>>63]
			y[i+1] = xs[i+1] * m
			if mask != nil {
				mask[i+1] = m
			}
		}
	}
	if out.needs {
		g.push(record[T]{bw: rule[T](dropoutBackward[float32], dropoutBackward[float64]), out: out, a: x, aux: mask})
	}
	return out
}

// dropoutBackward: y = x * m with m = 0 or 1/(1-p) -> dx += dy * m.
func dropoutBackward[T Float](g *Graph[T], r *record[T]) {
	dx, m := r.a.Grad, r.aux
	for i, d := range r.out.Grad {
		dx[i] += d * m[i]
	}
}
