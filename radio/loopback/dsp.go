package loopback

import (
	"math"
	"math/cmplx"
)

// sincTable tabulates a Kaiser-windowed sinc of half-width half taps, for band-limited
// interpolation (fractional delays).
type sincTable struct {
	half int
	q    float64   // points per unit
	v    []float64 // v[i] = ws(i/q), i = 0 .. half*q (+1 guard)
}

// Kaiser window parameters, chosen by measuring the worst fractional-delay error over
// delays 0.25 and 0.5 and frequencies up to 0.41 cycles/sample (802.11a's edge
// subcarrier): half 12, beta 5 is 62 dB below the signal; half 6, beta 3 is 37 dB.
const (
	resampleHalf = 12 // receiver clock interpolator: 24 taps
	resampleBeta = 5.0
	fadeHalf     = 6 // multipath delays: 12 taps around each path
	fadeBeta     = 3.0
)

func newSincTable(half int, beta float64) *sincTable {
	const q = 512
	t := &sincTable{half: half, q: q, v: make([]float64, half*q+2)}
	i0b := besselI0(beta)
	for i := range t.v {
		x := float64(i) / q
		if x >= float64(half) {
			continue
		}
		r := x / float64(half)
		w := besselI0(beta*math.Sqrt(1-r*r)) / i0b
		s := 1.0
		if x != 0 {
			s = math.Sin(math.Pi*x) / (math.Pi * x)
		}
		t.v[i] = w * s
	}
	return t
}

// at evaluates the windowed sinc at x by linear interpolation in the table.
func (t *sincTable) at(x float64) float64 {
	x = math.Abs(x) * t.q
	i := int(x)
	if i >= len(t.v)-1 {
		return 0
	}
	f := x - float64(i)
	return t.v[i] + f*(t.v[i+1]-t.v[i])
}

// besselI0 is the modified Bessel function of the first kind, order 0, by its series.
func besselI0(x float64) float64 {
	s, term := 1.0, 1.0
	for k := 1; k < 60; k++ {
		term *= x / 2 / float64(k)
		s += term * term
		if term*term < 1e-17*s {
			break
		}
	}
	return s
}

// firCorrGo is the portable kernel. Two outputs per pass share the loads of g, and the
// complex products are spelled out in real arithmetic: both measured faster than Go's
// complex64 multiply (77 against 46 Msps for 20 taps).
func firCorrGo(y, x, g []complex64) {
	n := len(y)
	L := len(g)
	x = x[:n+L-1]
	k := 0
	for ; k+1 < n; k += 2 {
		var r0, i0, r1, i1 float32
		xx := x[k : k+L+1]
		for m, h := range g {
			hr, hi := real(h), imag(h)
			v0, v1 := xx[m], xx[m+1]
			r0 += hr*real(v0) - hi*imag(v0)
			i0 += hr*imag(v0) + hi*real(v0)
			r1 += hr*real(v1) - hi*imag(v1)
			i1 += hr*imag(v1) + hi*real(v1)
		}
		y[k], y[k+1] = complex(r0, i0), complex(r1, i1)
	}
	for ; k < n; k++ {
		var r, i float32
		for m, h := range g {
			v := x[k+m]
			r += real(h)*real(v) - imag(h)*imag(v)
			i += real(h)*imag(v) + imag(h)*real(v)
		}
		y[k] = complex(r, i)
	}
}

// resampler moves the signal from the transmitter's sample clock to the receiver's: the
// receiver's sample n sees the transmitter clock at n*(1+eps).
type resampler struct {
	eps  float64
	poly [][]float32 // poly[q][m]: the windowed sinc's taps for fraction q/resamplePhases
	g    []complex64
}

// resamplePhases is the number of tabulated fractional delays; the taps of any other
// fraction are interpolated linearly between the two nearest, an error below 1e-5.
const resamplePhases = 256

func newResampler(eps float64) *resampler {
	tab := newSincTable(resampleHalf, resampleBeta)
	r := &resampler{eps: eps, g: make([]complex64, 2*resampleHalf)}
	r.poly = make([][]float32, resamplePhases+1)
	for q := range r.poly {
		mu := float64(q) / resamplePhases
		row := make([]float32, 2*resampleHalf)
		for m := range row {
			row[m] = float32(tab.at(float64(resampleHalf-1-m) + mu))
		}
		r.poly[q] = row
	}
	return r
}

// position returns, for the output block starting at n0, the transmitter index i0 that
// its first sample sits after and the fraction mu, taken at the block's centre.
func (r *resampler) position(start, n0 int64) (i0 int64, mu float64) {
	nc := n0 + outBlock/2
	d := float64(nc) * r.eps
	fl := math.Floor(d)
	return start + n0 + int64(fl), d - fl
}

// interpolate writes y[k] = x(i0+k+mu) from z = samples i0-half+1 .. i0+len(y)+half-1.
func (r *resampler) interpolate(y, z []complex64, mu float64) {
	p := mu * resamplePhases
	q := int(p)
	f := float32(p - float64(q))
	a, b := r.poly[q], r.poly[q+1]
	for m := range r.g {
		r.g[m] = complex(a[m]+f*(b[m]-a[m]), 0)
	}
	firCorr(y, z, r.g)
}

// jakesTerms is the number of sinusoids per Rayleigh path. The autocorrelation of their
// sum is J0(2*pi*fD*tau) in expectation over the random angles (exactly, because the
// angles are drawn one per equal sector of the circle); 16 keep one realisation's
// envelope close to Rayleigh.
const jakesTerms = 16

// fader applies a tapped delay line whose taps fade with a Jakes Doppler spectrum
// (sum of sinusoids with random angles of arrival and phases; Clarke's model).
type fader struct {
	jlo, jhi, length int
	taps             [][]float64 // per path: its windowed sinc on the filter's taps, reversed
	amp              []float64   // per path amplitude sqrt(power)/sqrt(terms)
	omega            [][]float64 // per path and term, rad per sample
	phase0           [][]float64
	ph, rot          [][]complex128
	static           bool
	hold             int64        // fade blocks that share one set of taps
	cur              []complex128 // current complex gain per path
	at               int64        // span of blocks the phasors stand at
	g                []complex64
	seed             uint64
	zt               *zigTables
	doppler, fs      float64
	paths            []Path
}

func newFader(paths []Path, doppler, fs float64, seed uint64, zt *zigTables) (*fader, error) {
	f := &fader{seed: seed, zt: zt, doppler: doppler, fs: fs, paths: append([]Path(nil), paths...)}
	dmax := 0.0
	for _, p := range paths {
		if p.Delay < 0 || math.IsNaN(p.Delay) || p.Power < 0 {
			return nil, errPath
		}
		dmax = math.Max(dmax, p.Delay*fs)
	}
	if dmax > 4096 {
		return nil, errPath
	}
	f.jlo = -fadeHalf + 1
	f.jhi = int(math.Ceil(dmax+fadeHalf)) - 1
	f.length = f.jhi - f.jlo + 1
	tab := newSincTable(fadeHalf, fadeBeta)
	for _, p := range paths {
		d := p.Delay * fs
		t := make([]float64, f.length)
		for m := range t {
			t[m] = tab.at(float64(f.jhi-m) - d)
		}
		f.taps = append(f.taps, t)
	}
	f.g = make([]complex64, f.length)
	f.cur = make([]complex128, len(paths))
	f.static = doppler == 0
	// Hold the taps while the fastest tap turns by less than 2*pi*1e-4 rad: the error
	// of holding is then 64 dB below the signal. At 20 Msps that is 6 blocks for 5 Hz
	// of Doppler and every block from 32 Hz up.
	f.hold = 1
	if doppler > 0 {
		f.hold = max(1, int64(1e-4*fs/(doppler*fadeBlock)))
	}
	f.reset()
	return f, nil
}

var errPath = errorString("loopback: multipath delays must be finite, non-negative and below 4096 samples, powers non-negative")

type errorString string

func (e errorString) Error() string { return string(e) }

// reset draws the angles and phases again from the seed.
func (f *fader) reset() {
	rng := newNormal(f.seed, f.zt)
	n := len(f.paths)
	f.amp = make([]float64, n)
	f.omega = make([][]float64, n)
	f.phase0 = make([][]float64, n)
	f.ph = make([][]complex128, n)
	f.rot = make([][]complex128, n)
	for k, p := range f.paths {
		terms := jakesTerms
		if p.LOS {
			terms = 1
		}
		f.amp[k] = math.Sqrt(p.Power / float64(terms))
		f.omega[k] = make([]float64, terms)
		f.phase0[k] = make([]float64, terms)
		f.ph[k] = make([]complex128, terms)
		f.rot[k] = make([]complex128, terms)
		for m := 0; m < terms; m++ {
			alpha := 2 * math.Pi * (float64(m) + rng.uniform()) / float64(terms)
			f.omega[k][m] = 2 * math.Pi * f.doppler * math.Cos(alpha) / f.fs
			f.phase0[k][m] = 2 * math.Pi * rng.uniform()
			f.rot[k][m] = cmplx.Exp(complex(0, f.omega[k][m]*float64(fadeBlock*f.hold)))
		}
	}
	f.at = math.MinInt64
}

// setBlock brings the taps to fade block b. Taps are held for hold blocks at a time
// (see newFader), and their time is taken at the centre of the held span.
func (f *fader) setBlock(b int64) {
	b = floorDiv(b, f.hold)
	if f.static && f.at != math.MinInt64 || f.at == b {
		return
	}
	// Step the phasors when moving on by one span; recompute them exactly after a
	// jump and every 256 spans so rounding cannot build up. Real arithmetic: Go's
	// complex128 multiply is markedly slower.
	exact := f.at != b-1 || b%256 == 0
	t := float64(b*f.hold*fadeBlock) + float64(f.hold*fadeBlock)/2
	for k := range f.paths {
		ph, rot := f.ph[k], f.rot[k]
		var ar, ai float64
		for m := range ph {
			if exact {
				s, c := math.Sincos(f.omega[k][m]*t + f.phase0[k][m])
				ph[m] = complex(c, s)
			} else {
				pr, pi, rr, ri := real(ph[m]), imag(ph[m]), real(rot[m]), imag(rot[m])
				ph[m] = complex(pr*rr-pi*ri, pr*ri+pi*rr)
			}
			ar += real(ph[m])
			ai += imag(ph[m])
		}
		f.cur[k] = complex(ar*f.amp[k], ai*f.amp[k])
	}
	f.at = b
	for m := range f.g {
		var gr, gi float64
		for k, a := range f.cur {
			w := f.taps[k][m]
			gr += real(a) * w
			gi += imag(a) * w
		}
		f.g[m] = complex(float32(gr), float32(gi))
	}
}

// gains returns the current complex gain of every path (for tests).
func (f *fader) gains() []complex128 {
	out := make([]complex128, len(f.paths))
	for k := range f.paths {
		for _, p := range f.ph[k] {
			out[k] += p
		}
		out[k] *= complex(f.amp[k], 0)
	}
	return out
}

// block computes one fade block of output z (len fadeBlock) starting at transmitter
// index i0 from x = input samples i0-jhi .. i0+fadeBlock-1-jlo.
func (f *fader) block(z, x []complex64, i0 int64) {
	f.setBlock(floorDiv(i0, fadeBlock))
	firCorr(z, x, f.g)
}
