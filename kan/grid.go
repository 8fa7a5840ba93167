package kan

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/m4sc/m4sc/nn"
)

// lstsqRcond drops singular values below this fraction of the largest in the refits: a
// basis that barely meets the samples then gets the minimum-norm coefficient instead of
// a huge one fitted to rounding (the role of rcond in LAPACK's gelsd, which the
// reference implementations call through torch.linalg.lstsq).
const lstsqRcond = 1e-9

// UpdateGrid fits each input feature's grid to the distribution of x ([..., in], the
// layer's input as given to Forward, before Norm) and refits Coef by least squares so
// every edge's spline keeps its values on x (Liu et al. 2024, §2.2, implementation
// detail (3); the grid is pykan's and efficient-kan's update_grid): knot p of the
// G+1 in the range is
//
//	t_{k+p} = GridEps*(lo - m + p*(hi-lo+2m)/G) + (1-GridEps)*x_(p*(N-1)/G)
//
// with x_(q) the sorted samples, lo and hi their extremes and m = GridMargin*(hi-lo) so
// that every sample lies inside; the grid is then extended by k intervals of the
// uniform step on each side. Ws and Wb are unchanged. Coef keeps its tensor (same
// shape); moment estimates an optimiser holds for it are stale afterwards.
//
// The refit is exact up to rounding only if the old curves are splines on the new
// knots; otherwise it is their least-squares projection on the samples.
func (l *Layer[T]) UpdateGrid(x *nn.Tensor[T]) error {
	z, err := l.samples(x)
	if err != nil {
		return err
	}
	return l.refit(l.cfg.GridSize, l.adaptiveKnots(l.cfg.GridSize, z), z)
}

// ExtendGrid changes the grid to newG intervals and refits Coef (now
// [out, in, newG+k], a new tensor) by least squares so the curves are kept: Liu et al.
// 2024, §2.4, grid extension, {c'_j} = argmin sum_x (sum_j c'_j B'_j(x) - sum_j c_j B_j(x))^2.
//
// With x nil every feature gets a uniform grid of newG intervals on its current range
// [t_k, t_{G+k}], and the fit runs on 8(newG+k) points evenly spread over that range;
// when the new knots contain the old ones (uniform grid, newG a multiple of G) the
// curves are reproduced on the range to rounding. With x given ([..., in], before Norm)
// the grid is fitted to x as in UpdateGrid and the fit runs on x.
func (l *Layer[T]) ExtendGrid(newG int, x *nn.Tensor[T]) error {
	if newG < 1 || newG > MaxGridSize {
		return fmt.Errorf("kan: layer %q: ExtendGrid: %w: grid size %d, want 1..%d", l.name, ErrConfig, newG, MaxGridSize)
	}
	old, err := l.buildSplines()
	if err != nil {
		return fmt.Errorf("kan: layer %q: ExtendGrid: %w", l.name, err)
	}
	var z [][]float64
	if x != nil {
		if z, err = l.samples(x); err != nil {
			return err
		}
		return l.refit(newG, l.adaptiveKnots(newG, z), z)
	}
	m := 8 * (newG + old.k)
	z = make([][]float64, l.in)
	knots := make([]float64, 0, l.in*(newG+2*old.k+1))
	for i := range l.in {
		lo, hi := old.lo(i), old.hi(i)
		knots = append(knots, uniformKnots(newG, old.k, lo, hi)...)
		z[i] = make([]float64, m)
		for s := range z[i] {
			z[i][s] = lo + (float64(s)+0.5)*(hi-lo)/float64(m)
		}
	}
	return l.refit(newG, knots, z)
}

// samples returns x's values per input feature after Norm, [in][rows], each sorted.
func (l *Layer[T]) samples(x *nn.Tensor[T]) ([][]float64, error) {
	if x == nil || x.Rank() == 0 || x.Dim(-1) != l.in {
		shape := "nil"
		if x != nil {
			shape = fmt.Sprint(x.Shape())
		}
		return nil, fmt.Errorf("kan: layer %q: grid samples of shape %s, want [..., %d]: %w", l.name, shape, l.in, ErrInput)
	}
	rows := x.Len() / l.in
	if rows == 0 {
		return nil, fmt.Errorf("kan: layer %q: no grid samples: %w", l.name, ErrInput)
	}
	for e, v := range x.Data {
		if f := float64(v); !isFinite(f) {
			return nil, fmt.Errorf("kan: layer %q: grid sample %d is %g: %w", l.name, e, f, ErrInput)
		}
	}
	z := make([][]float64, l.in)
	for i := range z {
		z[i] = make([]float64, rows)
	}
	for e, v := range l.normalize(nn.NewGraph[T](nil), x).Data {
		z[e%l.in][e/l.in] = float64(v)
	}
	for _, s := range z {
		slices.Sort(s)
	}
	return z, nil
}

// adaptiveKnots returns the grids of g intervals fitted to the sorted samples z of
// every feature, [in, g+2k+1].
func (l *Layer[T]) adaptiveKnots(g int, z [][]float64) []float64 {
	k, eps := l.cfg.Order, l.cfg.GridEps
	n := g + 2*k + 1
	knots := make([]float64, l.in*n)
	for i, zi := range z {
		t := knots[i*n : (i+1)*n]
		lo, hi := zi[0], zi[len(zi)-1]
		margin := GridMargin * (hi - lo)
		if !(margin > 0) {
			margin = GridMargin * max(1, math.Abs(lo))
		}
		if eps == 1 {
			copy(t, uniformKnots(g, k, lo-margin, hi+margin))
			continue
		}
		step := (hi - lo + 2*margin) / float64(g)
		for p := 0; p <= g; p++ {
			adaptive := zi[p*(len(zi)-1)/g]
			uniform := lo - margin + float64(p)*step
			t[k+p] = eps*uniform + (1-eps)*adaptive
		}
		for q := 1; q <= k; q++ {
			t[k-q] = t[k] - float64(q)*step
			t[k+g+q] = t[k+g] + float64(q)*step
		}
	}
	return knots
}

// refit installs a grid of g intervals with the given knots, [in, g+2k+1], and new
// coefficients solving, per input feature i, the least-squares problem
// min_C || A C - Y ||_F with A_{s,j} = B'_j(z_is) on the new grid and
// Y_{s,o} = sum_j c_{o,i,j} B_j(z_is) the old spline (without ws) at the samples, by SVD
// with the rank cut at lstsqRcond (the minimum-norm solution). Nothing changes on error.
func (l *Layer[T]) refit(g int, knots []float64, z [][]float64) error {
	old, err := l.buildSplines()
	if err != nil {
		return fmt.Errorf("kan: layer %q: grid: %w", l.name, err)
	}
	for i, v := range knots {
		knots[i] = float64(T(v)) // as setGrid will store them
	}
	sp, err := splinesFrom(l.in, g, old.k, knots, knotTol[T]())
	if err != nil {
		return fmt.Errorf("kan: layer %q: new grid: %w", l.name, err)
	}
	out, in := l.out, l.in
	nbOld, nbNew, k := old.nb, sp.nb, sp.k
	coef := make([]float64, out*in*nbNew)
	var val basisVals
	for i := range in {
		m := len(z[i])
		a := mat.NewDense(m, nbNew, nil)
		y := mat.NewDense(m, out, nil)
		for s, v := range z[i] {
			if j0, ok := sp.eval(i, v, &val, nil); ok {
				for r, b := range val[:k+1] {
					if j := j0 + r; j >= 0 && j < nbNew {
						a.Set(s, j, b)
					}
				}
			}
			if j0, ok := old.eval(i, v, &val, nil); ok {
				for o := range out {
					c := l.Coef.Data[(o*in+i)*nbOld : (o*in+i+1)*nbOld]
					var acc float64
					for r, b := range val[:k+1] {
						if j := j0 + r; j >= 0 && j < nbOld {
							acc += float64(c[j]) * b
						}
					}
					y.Set(s, o, acc)
				}
			}
		}
		var svd mat.SVD
		if !svd.Factorize(a, mat.SVDThin) {
			return fmt.Errorf("kan: layer %q: refit feature %d: SVD did not converge", l.name, i)
		}
		var sol mat.Dense
		svd.SolveTo(&sol, y, max(1, svd.Rank(lstsqRcond)))
		for o := range out {
			for j := range nbNew {
				coef[(o*in+i)*nbNew+j] = sol.At(j, o)
			}
		}
	}
	if err := l.setGrid(g, knots); err != nil {
		return fmt.Errorf("kan: layer %q: new grid: %w", l.name, err)
	}
	if nbNew != nbOld {
		l.Coef = nn.NewParam[T](nil, out, in, nbNew)
	}
	for e, v := range coef {
		l.Coef.Data[e] = T(v)
	}
	return nil
}
