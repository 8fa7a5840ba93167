package kan

import (
	"fmt"
	"math"
)

// splines holds the knot vectors of one layer. Feature i has n = G+2k+1 knots
// t_0 <= ... <= t_{n-1}: the grid on [t_k, t_{G+k}] extended by k knots on each side, and
// nb = G+k B-splines of order k, B_j supported on [t_j, t_{j+k+1}] (de Boor, "A
// Practical Guide to Splines", ch. IX). In memory each knot vector is padded by k more
// knots on each side, so the local recursion below never indexes outside it; padding
// only ever meets bases with j < 0 or j >= nb, which callers drop.
//
// A splines value is never modified after construction: grid updates build a new one,
// so a backward rule that captured the old one stays consistent with its forward pass.
type splines struct {
	g, k    int
	in      int
	n, nb   int       // knots and bases per feature
	stride  int       // n + 2k
	knots   []float64 // [in][stride], padded
	uniform []bool    // feature's knots are t_0 + q*h (closed forms apply)
	h       []float64 // spacing of a uniform feature
	// inv[(i*(k+1)+j)*stride+q] = 1/(t_q - t_{q-j}) in padded indices (0 for equal
	// knots), j = 1..k: every denominator of the recursion, so it multiplies.
	inv []float64
}

func newSplines(in, g, k int) *splines {
	n := g + 2*k + 1
	return &splines{
		g: g, k: k, in: in, n: n, nb: g + k, stride: n + 2*k,
		knots:   make([]float64, in*(n+2*k)),
		uniform: make([]bool, in),
		h:       make([]float64, in),
		inv:     make([]float64, in*(k+1)*(n+2*k)),
	}
}

// setInv fills feature i's reciprocal knot differences.
func (s *splines) setInv(i int) {
	t := s.knots[i*s.stride : (i+1)*s.stride]
	for j := 1; j <= s.k; j++ {
		row := s.inv[(i*(s.k+1)+j)*s.stride : (i*(s.k+1)+j+1)*s.stride]
		for q := j; q < s.stride; q++ {
			row[q] = 0
			if d := t[q] - t[q-j]; d > 0 {
				row[q] = 1 / d
			}
		}
	}
}

// uniformSplines gives every feature the uniform grid of g intervals on [lo, hi].
func uniformSplines(in, g, k int, lo, hi float64) *splines {
	s := newSplines(in, g, k)
	for i := range in {
		s.setUniform(i, lo, hi)
	}
	return s
}

// setUniform sets feature i's knots to lo + q*h, h = (hi-lo)/G, q = -k..G+k.
func (s *splines) setUniform(i int, lo, hi float64) {
	h := (hi - lo) / float64(s.g)
	t := s.knots[i*s.stride : (i+1)*s.stride]
	for p := range t {
		t[p] = lo + float64(p-2*s.k)*h
	}
	s.uniform[i], s.h[i] = true, h
	s.setInv(i)
}

// uniformKnots returns the g+2k+1 knots lo + q*h, h = (hi-lo)/g, q = -k..g+k.
func uniformKnots(g, k int, lo, hi float64) []float64 {
	h := (hi - lo) / float64(g)
	t := make([]float64, g+2*k+1)
	for q := range t {
		t[q] = lo + float64(q-k)*h
	}
	return t
}

// splinesFrom builds the splines of knot rows, [in][g+2k+1], after checking them. A
// feature whose knots are t_0 + q*h to within tol relative (rounding of the tensor's
// element type) is marked uniform and takes the closed forms.
func splinesFrom(in, g, k int, knots []float64, tol float64) (*splines, error) {
	s := newSplines(in, g, k)
	if len(knots) != in*s.n {
		return nil, fmt.Errorf("%w: %d knots, want %d x %d", ErrInput, len(knots), in, s.n)
	}
	for i := range in {
		row := knots[i*s.n : (i+1)*s.n]
		if err := checkKnots(row); err != nil {
			return nil, fmt.Errorf("feature %d: %w", i, err)
		}
		s.setKnots(i, row)
		if h, ok := uniformSpacing(row, tol); ok {
			s.uniform[i], s.h[i] = true, h
		}
	}
	return s, nil
}

// checkKnots accepts finite non-decreasing knots spanning a non-empty interval.
func checkKnots(t []float64) error {
	for q, v := range t {
		if !isFinite(v) || (q > 0 && v < t[q-1]) {
			return fmt.Errorf("%w: knots not finite and non-decreasing at %d", ErrInput, q)
		}
	}
	if !(t[0] < t[len(t)-1]) {
		return fmt.Errorf("%w: empty knot span", ErrInput)
	}
	return nil
}

// uniformSpacing reports whether knots are t_0 + q*h to within tol relative, and h.
func uniformSpacing(t []float64, tol float64) (float64, bool) {
	n := len(t)
	h := (t[n-1] - t[0]) / float64(n-1)
	abs := tol * (math.Abs(t[0]) + math.Abs(t[n-1]) + h)
	for q, v := range t {
		if math.Abs(v-(t[0]+float64(q)*h)) > abs {
			return 0, false
		}
	}
	return h, h > 0
}

// setKnots sets feature i's n real knots (non-decreasing) and pads them with the end
// spacings.
func (s *splines) setKnots(i int, real []float64) {
	t := s.knots[i*s.stride : (i+1)*s.stride]
	k, n := s.k, s.n
	copy(t[k:k+n], real)
	dl, dr := real[1]-real[0], real[n-1]-real[n-2]
	if !(dl > 0) {
		dl = 1
	}
	if !(dr > 0) {
		dr = 1
	}
	for q := 1; q <= k; q++ {
		t[k-q] = real[0] - float64(q)*dl
		t[k+n-1+q] = real[n-1] + float64(q)*dr
	}
	s.uniform[i], s.h[i] = false, 0
	s.setInv(i)
}

// real returns feature i's n knots t_0..t_{n-1} (aliasing s).
func (s *splines) real(i int) []float64 {
	o := i*s.stride + s.k
	return s.knots[o : o+s.n]
}

// lo and hi return feature i's configured range [t_k, t_{G+k}].
func (s *splines) lo(i int) float64 { return s.real(i)[s.k] }
func (s *splines) hi(i int) float64 { return s.real(i)[s.k+s.g] }

// basisVals holds the k+1 bases that may be non-zero at one point.
type basisVals [MaxOrder + 1]float64

// eval computes B_{j0+r}(x), r = 0..k, the only bases of feature i that may be non-zero
// at x, into val, and their derivatives dB/dx into der when der is not nil. Intervals are
// half-open, [t_m, t_{m+1}), so at a knot the derivatives are the right-hand ones. j0 is
// m-k for the interval m holding x; near the ends of the grid j0 < 0 or j0+k >= nb, and
// callers skip those indices. ok is false outside [t_0, t_{n-1}): there every basis and
// every derivative is zero.
func (s *splines) eval(i int, x float64, val, der *basisVals) (j0 int, ok bool) {
	k, n := s.k, s.n
	t := s.knots[i*s.stride : (i+1)*s.stride]
	real := t[k : k+n]
	if !(x >= real[0] && x < real[n-1]) { // also false for NaN
		return 0, false
	}
	var m int
	if s.uniform[i] {
		m = min(max(int((x-real[0])/s.h[i]), 0), n-2)
		// Agree with the stored knots when (x-t_0)/h rounds across one.
		if x < real[m] {
			m--
		} else if x >= real[m+1] {
			m++
		}
		if k <= 3 {
			uniformBasis(k, (x-real[m])/s.h[i], s.h[i], val, der)
			return m - k, true
		}
	} else {
		lo, hi := 0, n-1 // real[lo] <= x < real[hi]
		for hi-lo > 1 {
			mid := int(uint(lo+hi) >> 1)
			if real[mid] <= x {
				lo = mid
			} else {
				hi = mid
			}
		}
		m = lo
	}
	iv := s.inv[i*(k+1)*s.stride : (i+1)*(k+1)*s.stride]
	coxDeBoor(t, iv, s.stride, m+k, k, x, val, der)
	return m - k, true
}

// uniformBasis writes the closed forms of the k+1 uniform B-splines of order k <= 3 that
// are non-zero on an interval, at fraction f in [0, 1) of it, and their derivatives
// dB/dx = (dB/df)/h. These are the cardinal B-splines (de Boor, ch. IX, eq. (21) and
// Liu et al. 2024's efficient cubic form):
//
//	k=1: 1-f, f
//	k=2: (1-f)^2/2, (-2f^2+2f+1)/2, f^2/2
//	k=3: (1-f)^3/6, (3f^3-6f^2+4)/6, (-3f^3+3f^2+3f+1)/6, f^3/6
func uniformBasis(k int, f, h float64, val, der *basisVals) {
	switch k {
	case 1:
		val[0], val[1] = 1-f, f
		if der != nil {
			der[0], der[1] = -1/h, 1/h
		}
	case 2:
		g := 1 - f
		val[0], val[1], val[2] = 0.5*g*g, 0.5+f-f*f, 0.5*f*f
		if der != nil {
			der[0], der[1], der[2] = -g/h, (1-2*f)/h, f/h
		}
	case 3:
		g := 1 - f
		f2 := f * f
		f3 := f2 * f
		const sixth = 1.0 / 6
		val[0] = g * g * g * sixth
		val[1] = (3*f3 - 6*f2 + 4) * sixth
		val[2] = (-3*f3 + 3*f2 + 3*f + 1) * sixth
		val[3] = f3 * sixth
		if der != nil {
			// d/df: -(1-f)^2/2, (3f^2-4f)/2, (-3f^2+2f+1)/2, f^2/2
			ih := 0.5 / h
			der[0] = -g * g * ih
			der[1] = (3*f2 - 4*f) * ih
			der[2] = (-3*f2 + 2*f + 1) * ih
			der[3] = f2 * ih
		}
	}
}

// coxDeBoor evaluates the k+1 B-splines of order k non-zero on [t[p], t[p+1]) at x by
// the triangular Cox-de Boor recursion (de Boor, ch. X; Piegl and Tiller, "The NURBS
// Book", algorithm A2.2), 0/0 taken as 0 for repeated knots. Derivatives follow
// B'_{j,k} = k (B_{j,k-1}/(t_{j+k}-t_j) - B_{j+1,k-1}/(t_{j+k+1}-t_{j+1})) (de Boor,
// ch. X, eq. (12)). t is padded so that p-k >= 0 and p+k+1 < len(t); iv holds the
// reciprocal differences, iv[j*stride+q] = 1/(t[q]-t[q-j]).
func coxDeBoor(t, iv []float64, stride, p, k int, x float64, val, der *basisVals) {
	var left, right, lower basisVals
	val[0] = 1
	for j := 1; j <= k; j++ {
		if j == k {
			lower = *val // order k-1, for the derivatives
		}
		left[j] = x - t[p+1-j]
		right[j] = t[p+j] - x
		saved := 0.0
		row := iv[j*stride : (j+1)*stride]
		for r := range j {
			// right[r+1]+left[j-r] = t[p+1+r] - t[p+1+r-j]
			temp := val[r] * row[p+1+r]
			val[r] = saved + right[r+1]*temp
			saved = left[j-r] * temp
		}
		val[j] = saved
	}
	if der == nil {
		return
	}
	// Basis r is j = m-k+r with p = m+k; t_{j+k}-t_j and t_{j+k+1}-t_{j+1} are the
	// order-k differences ending at padded indices p+r and p+r+1.
	rk := iv[k*stride : (k+1)*stride]
	fk := float64(k)
	for r := 0; r <= k; r++ {
		d := 0.0
		if r >= 1 {
			d += lower[r-1] * rk[p+r]
		}
		if r < k {
			d -= lower[r] * rk[p+r+1]
		}
		der[r] = fk * d
	}
}

// isFinite reports whether v is neither NaN nor infinite.
func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
