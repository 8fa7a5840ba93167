package nn

import "fmt"

// SplitHeads returns part p (of parts) of x [B, T, parts*heads*dh] as [B, heads, T, dh],
// the layout Attention reads. Along x's last axis the values are ordered (part, head,
// dh): the output of one projection that makes queries, keys and values together. It
// is one copy forward and one accumulation backward, where Reshape, Permute and Slice
// would take two of each.
func (g *Graph[T]) SplitHeads(x *Tensor[T], p, parts, heads int) *Tensor[T] {
	if x.nd != 3 || parts < 1 || heads < 1 || p < 0 || p >= parts || x.dims[2]%(parts*heads) != 0 {
		panic(fmt.Sprintf("nn: SplitHeads part %d of %d, %d heads, of %v", p, parts, heads, x.Shape()))
	}
	B, L, w := x.dims[0], x.dims[1], x.dims[2]
	dh := w / (parts * heads)
	out := g.newFull(x.needs, B, heads, L, dh)
	parallelFor(g.workers, B, L*heads*dh, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			for t := 0; t < L; t++ {
				row := x.Data[(b*L+t)*w+p*heads*dh:]
				for h := 0; h < heads; h++ {
					copy(out.Data[((b*heads+h)*L+t)*dh:][:dh], row[h*dh:h*dh+dh])
				}
			}
		}
	})
	if out.needs {
		g.push(record[T]{bw: rule[T](splitHeadsBackward[float32], splitHeadsBackward[float64]), out: out, a: x, i: [4]int{p, parts, heads}, own: true})
	}
	return out
}

func splitHeadsBackward[T Float](g *Graph[T], r *record[T]) {
	p, parts, heads := r.i[0], r.i[1], r.i[2]
	B, L, w := r.a.dims[0], r.a.dims[1], r.a.dims[2]
	dh := w / (parts * heads)
	// The first part to run zeroes x's gradient a row at a time, while it is in cache.
	dx, fresh := gradTo(r.a)
	dy := r.out.Grad
	parallelFor(g.workers, B, L*heads*dh, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			for t := 0; t < L; t++ {
				if fresh {
					clear(dx[(b*L+t)*w : (b*L+t+1)*w])
				}
				row := dx[(b*L+t)*w+p*heads*dh:]
				for h := 0; h < heads; h++ {
					d := row[h*dh : h*dh+dh]
					for i, v := range dy[((b*heads+h)*L+t)*dh:][:dh] {
						d[i] += v
					}
				}
			}
		}
	})
}

// MergeHeads is the inverse layout change: x [B, heads, T, dh] becomes [B, T, heads*dh],
// each position's heads side by side.
func (g *Graph[T]) MergeHeads(x *Tensor[T]) *Tensor[T] {
	if x.nd != 4 {
		panic(fmt.Sprintf("nn: MergeHeads of %v, want [B, heads, T, dh]", x.Shape()))
	}
	B, H, L, dh := x.dims[0], x.dims[1], x.dims[2], x.dims[3]
	out := g.newFull(x.needs, B, L, H*dh)
	parallelFor(g.workers, B, L*H*dh, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			for h := 0; h < H; h++ {
				for t := 0; t < L; t++ {
					copy(out.Data[(b*L+t)*H*dh+h*dh:][:dh], x.Data[((b*H+h)*L+t)*dh:][:dh])
				}
			}
		}
	})
	if out.needs {
		g.push(record[T]{bw: rule[T](mergeHeadsBackward[float32], mergeHeadsBackward[float64]), out: out, a: x, own: true})
	}
	return out
}

func mergeHeadsBackward[T Float](g *Graph[T], r *record[T]) {
	B, H, L, dh := r.a.dims[0], r.a.dims[1], r.a.dims[2], r.a.dims[3]
	dx, fresh := gradTo(r.a)
	dy := r.out.Grad
	parallelFor(g.workers, B, L*H*dh, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			for h := 0; h < H; h++ {
				for t := 0; t < L; t++ {
					d, s := dx[((b*H+h)*L+t)*dh:][:dh], dy[(b*L+t)*H*dh+h*dh:][:dh]
					if fresh {
						copy(d, s)
						continue
					}
					for i, v := range s {
						d[i] += v
					}
				}
			}
		}
	})
}
