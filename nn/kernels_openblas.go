//go:build openblas

package nn

// Under the openblas tag the package is built with cgo already, so the two
// elementwise passes that remain large beside OpenBLAS's products, GELU's forward
// pass and AdamW's update, run as C loops that the C compiler vectorises (Go's
// compiler does not): AVX2 where the CPU has it (checked at run time), else SSE2 for
// GELU, the same arithmetic in the same order either way (no fused multiply-adds), so
// results do not depend on the CPU.
//
// GELU computes geluTail's formula for every input (four float64 lanes at a time):
// within 2e-8 of the exact value before rounding to float32, as the pure-Go table
// is within 1e-10, so the two builds agree to float32 rounding (TestGELUKernel).
// AdamW's update (AVX2 only; elsewhere the Go loop runs) is the float32 arithmetic of
// adamUpdate, operation for operation, so it gives the pure-Go build's bits
// (TestAdamKernel).

/*
#cgo CFLAGS: -O3
#cgo LDFLAGS: -lm
// cgo takes only a list of safe flags; these two are set here instead. Without
// no-trapping-math GCC keeps a branch per element for floating-point traps and does
// not vectorise GELU's loop; neither changes a value.
#pragma GCC optimize("fp-contract=off", "no-trapping-math")
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define M4SC_INLINE static inline __attribute__((always_inline))

// e^x for x in [-104, 0] as nn's exp32: Cody-Waite reduction, degree-7 Taylor
// polynomial in Estrin's scheme, the power of two built in the exponent's bits.
M4SC_INLINE double m4sc_exp32(double x) {
	const double magic = 0x1.8p52;
	double t = x * 1.4426950408889634 + magic;
	double r = x - (t - magic) * 0.6931471805599453;
	double r2 = r * r;
	double p = (1 + r) + r2 * ((1.0 / 2 + r * (1.0 / 6)) + r2 * ((1.0 / 24 + r * (1.0 / 120)) + r2 * (1.0 / 720 + r * (1.0 / 5040))));
	uint64_t b;
	memcpy(&b, &t, 8);
	b = (b + 1023) << 52;
	double s;
	memcpy(&s, &b, 8);
	return p * s;
}

// One row of y = GELU(z + b) and its derivative d, by geluTail's formula with both
// selects written as selects so the loop has no branches. hasb and hasd are
// constants at every call, so each combination is its own loop.
M4SC_INLINE void m4sc_gelu_row(float *restrict y, float *restrict d, const float *restrict z, const float *restrict b, long n, int hasb, int hasd) {
	for (long j = 0; j < n; j++) {
		float v = z[j];
		if (hasb) v += b[j];
		double x = v;
		double zz = x * 0x1.6a09e667f3bcdp-1; // x / sqrt(2)
		double az = zz < 0 ? -zz : zz;
		double t = 1 / (1 + 0.3 * az);
		double t2 = t * t;
		double t4 = t2 * t2;
		double q = (0.16918755969786992 + 0.17072174535530693 * t) + t2 * (0.14829861976505784 + 0.21506632481308985 * t) +
			t4 * ((-0.094946208858426112 + 0.54810877465226704 * t) + t2 * (-0.51259047792973433 + 0.48570360095505544 * t) +
			      t4 * -0.12954995816734943);
		double a = -zz * zz;
		double e = m4sc_exp32(a);
		e = a > -104 ? e : 0;
		double cdf = 0.5 * t * e * q;
		cdf = x > 0 ? 1 - cdf : cdf;
		y[j] = (float)(x * cdf);
		if (hasd) d[j] = (float)(cdf + x * e * 0.3989422804014327);
	}
}

M4SC_INLINE void m4sc_gelu_body(float *y, float *d, const float *z, const float *b, long rows, long n) {
	for (long r = 0; r < rows; r++) {
		float *yr = y + r * n;
		const float *zr = z + r * n;
		if (b && d) m4sc_gelu_row(yr, d + r * n, zr, b, n, 1, 1);
		else if (b) m4sc_gelu_row(yr, 0, zr, b, n, 1, 0);
		else if (d) m4sc_gelu_row(yr, d + r * n, zr, 0, n, 0, 1);
		else m4sc_gelu_row(yr, 0, zr, 0, n, 0, 0);
	}
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void m4sc_gelu_avx2(float *y, float *d, const float *z, const float *b, long rows, long n) {
	m4sc_gelu_body(y, d, z, b, rows, n);
}
// AdamW's update, eight lanes at a time: the float32 operations of adamUpdate in its
// order (correctly rounded square root and division, no fused multiply-add), so the
// bits are the pure-Go loop's. The tail goes back to Go.
__attribute__((target("avx2"))) static long m4sc_adam_avx2(float *th, const float *g, float *m, float *v, long n,
	float b1, float c1, float b2, float c2, float step, float eps, float shrink) {
	__m256 vb1 = _mm256_set1_ps(b1), vc1 = _mm256_set1_ps(c1), vb2 = _mm256_set1_ps(b2), vc2 = _mm256_set1_ps(c2);
	__m256 vstep = _mm256_set1_ps(step), veps = _mm256_set1_ps(eps), vshrink = _mm256_set1_ps(shrink);
	long i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256 gi = _mm256_loadu_ps(g + i);
		__m256 mi = _mm256_add_ps(_mm256_mul_ps(vb1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(vc1, gi));
		__m256 vi = _mm256_add_ps(_mm256_mul_ps(vb2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(_mm256_mul_ps(vc2, gi), gi));
		_mm256_storeu_ps(m + i, mi);
		_mm256_storeu_ps(v + i, vi);
		__m256 upd = _mm256_div_ps(_mm256_mul_ps(vstep, mi), _mm256_add_ps(_mm256_sqrt_ps(vi), veps));
		_mm256_storeu_ps(th + i, _mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(th + i), vshrink), upd));
	}
	return i;
}
// libgcc detects the CPU in a constructor, before any of this runs.
static int m4sc_avx2(void) { return __builtin_cpu_supports("avx2"); }
#endif

#if defined(__x86_64__)
// Sum of the four double lanes, in lane order.
__attribute__((target("avx2"))) static inline double m4sc_hsum(__m256d v) {
	double t[4];
	_mm256_storeu_pd(t, v);
	return (t[0] + t[1]) + (t[2] + t[3]);
}

// LayerNorm's forward over rows of n, with gain gd and bias bd, as layerNormRows:
// shifted sums in float64 (four lanes), then y = (x - m) r gd + bd in float32 in
// that order. means and rstds may be NULL.
__attribute__((target("avx2"))) static void m4sc_ln_avx2(float *y, const float *x, const float *gd, const float *bd,
	float *means, float *rstds, long n, long rows, double eps) {
	for (long i = 0; i < rows; i++) {
		const float *xr = x + i * n;
		float *yr = y + i * n;
		double k = xr[0];
		__m256d vk = _mm256_set1_pd(k), s = _mm256_setzero_pd(), q = _mm256_setzero_pd();
		long j = 0;
		for (; j + 4 <= n; j += 4) {
			__m256d d = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(xr + j)), vk);
			s = _mm256_add_pd(s, d);
			q = _mm256_add_pd(q, _mm256_mul_pd(d, d));
		}
		double ss = m4sc_hsum(s), qq = m4sc_hsum(q);
		for (; j < n; j++) {
			double d = (double)xr[j] - k;
			ss += d;
			qq += d * d;
		}
		double mu = ss / (double)n;
		double var = qq / (double)n - mu * mu;
		if (!(var > 0)) var = 0;
		double rs = 1 / __builtin_sqrt(var + eps);
		float m = (float)(mu + k), r = (float)rs;
		if (means) {
			means[i] = m;
			rstds[i] = r;
		}
		__m256 vm = _mm256_set1_ps(m), vr = _mm256_set1_ps(r);
		j = 0;
		for (; j + 8 <= n; j += 8) {
			__m256 v = _mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + j), vm), vr), _mm256_loadu_ps(gd + j));
			_mm256_storeu_ps(yr + j, _mm256_add_ps(v, _mm256_loadu_ps(bd + j)));
		}
		for (; j < n; j++) yr[j] = (xr[j] - m) * r * gd[j] + bd[j];
	}
}

// LayerNorm's backward over rows of n in training (gain, both parameter gradients and
// dx wanted), as layerNormBackRows: dg += dy xh, db += dy, the row sums of gy and gy xh
// in float64, then dx (+)= r (dy gd - mean(gy) - xh mean(gy xh)).
__attribute__((target("avx2"))) static void m4sc_ln_back_avx2(float *dx, int fresh, const float *x, const float *dy, const float *gd,
	float *dg, float *db, const float *means, const float *rstds, long n, long lo, long hi) {
	for (long i = lo; i < hi; i++) {
		float m = means[i], rs = rstds[i];
		const float *xr = x + i * n, *dyr = dy + i * n;
		float *dxr = dx + i * n;
		__m256 vm = _mm256_set1_ps(m), vr = _mm256_set1_ps(rs);
		__m256d a = _mm256_setzero_pd(), b = _mm256_setzero_pd();
		long j = 0;
		for (; j + 8 <= n; j += 8) {
			__m256 d = _mm256_loadu_ps(dyr + j);
			__m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + j), vm), vr);
			_mm256_storeu_ps(dg + j, _mm256_add_ps(_mm256_loadu_ps(dg + j), _mm256_mul_ps(d, xh)));
			_mm256_storeu_ps(db + j, _mm256_add_ps(_mm256_loadu_ps(db + j), d));
			__m256 gy = _mm256_mul_ps(d, _mm256_loadu_ps(gd + j));
			__m256 gx = _mm256_mul_ps(gy, xh);
			a = _mm256_add_pd(a, _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(gy)), _mm256_cvtps_pd(_mm256_extractf128_ps(gy, 1))));
			b = _mm256_add_pd(b, _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(gx)), _mm256_cvtps_pd(_mm256_extractf128_ps(gx, 1))));
		}
		double sa = m4sc_hsum(a), sb = m4sc_hsum(b);
		for (; j < n; j++) {
			float d = dyr[j], xh = (xr[j] - m) * rs;
			dg[j] += d * xh;
			db[j] += d;
			float gy = d * gd[j];
			sa += (double)gy;
			sb += (double)(gy * xh);
		}
		float ma = (float)(sa / (double)n), mb = (float)(sb / (double)n);
		__m256 vma = _mm256_set1_ps(ma), vmb = _mm256_set1_ps(mb);
		j = 0;
		for (; j + 8 <= n; j += 8) {
			__m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + j), vm), vr);
			__m256 t = _mm256_sub_ps(_mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(dyr + j), _mm256_loadu_ps(gd + j)), vma), _mm256_mul_ps(xh, vmb));
			t = _mm256_mul_ps(vr, t);
			if (!fresh) t = _mm256_add_ps(_mm256_loadu_ps(dxr + j), t);
			_mm256_storeu_ps(dxr + j, t);
		}
		for (; j < n; j++) {
			float t = rs * (dyr[j] * gd[j] - ma - (xr[j] - m) * rs * mb);
			dxr[j] = fresh ? t : dxr[j] + t;
		}
	}
}
#endif

// m4sc_ln and m4sc_ln_back return 1 when they ran (AVX2), 0 when the Go loops must.
static int m4sc_ln(float *y, const float *x, const float *gd, const float *bd, float *means, float *rstds, long n, long rows, double eps) {
#if defined(__x86_64__)
	if (m4sc_avx2()) {
		m4sc_ln_avx2(y, x, gd, bd, means, rstds, n, rows, eps);
		return 1;
	}
#endif
	return 0;
}

static int m4sc_ln_back(float *dx, int fresh, const float *x, const float *dy, const float *gd, float *dg, float *db,
	const float *means, const float *rstds, long n, long lo, long hi) {
#if defined(__x86_64__)
	if (m4sc_avx2()) {
		m4sc_ln_back_avx2(dx, fresh, x, dy, gd, dg, db, means, rstds, n, lo, hi);
		return 1;
	}
#endif
	return 0;
}

// m4sc_gelu_rows writes rows of n values: y = GELU(z + b) (b: n values, or NULL) and,
// when d is not NULL, the derivative there.
static void m4sc_gelu_rows(float *y, float *d, const float *z, const float *b, long rows, long n) {
#if defined(__x86_64__)
	if (m4sc_avx2()) {
		m4sc_gelu_avx2(y, d, z, b, rows, n);
		return;
	}
#endif
	m4sc_gelu_body(y, d, z, b, rows, n);
}

// Columns [lo, hi) of a dense layer's backward pass over m rows of n values: dz *= dy
// where dy is not NULL (GELU's saved derivative times the output's gradient), then
// db += dz over the rows where db is not NULL. Each column's sum runs over the rows in
// order in float32, as the Go loop's, so the bits are the same.
M4SC_INLINE void m4sc_bias_back_body(float *dz, const float *dy, float *restrict db, long m, long n, long lo, long hi) {
	long w = hi - lo;
	float *restrict s = db ? db + lo : 0;
	for (long r = 0; r < m; r++) {
		float *restrict d = dz + r * n + lo;
		if (dy) {
			const float *restrict a = dy + r * n + lo;
			if (s) {
				for (long j = 0; j < w; j++) {
					float t = d[j] * a[j];
					d[j] = t;
					s[j] += t;
				}
			} else {
				for (long j = 0; j < w; j++) d[j] *= a[j];
			}
		} else if (s) {
			for (long j = 0; j < w; j++) s[j] += d[j];
		}
	}
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void m4sc_bias_back_avx2(float *dz, const float *dy, float *db, long m, long n, long lo, long hi) {
	m4sc_bias_back_body(dz, dy, db, m, n, lo, hi);
}
#endif

static void m4sc_bias_back(float *dz, const float *dy, float *db, long m, long n, long lo, long hi) {
#if defined(__x86_64__)
	if (m4sc_avx2()) {
		m4sc_bias_back_avx2(dz, dy, db, m, n, lo, hi);
		return;
	}
#endif
	m4sc_bias_back_body(dz, dy, db, m, n, lo, hi);
}

// m4sc_adam runs adamUpdate's loop for float32 over a prefix of the n elements and
// returns its length: all but fewer than 8 with AVX2, none without.
static long m4sc_adam(float *th, const float *g, float *m, float *v, long n,
	float b1, float c1, float b2, float c2, float step, float eps, float shrink) {
#if defined(__x86_64__)
	if (m4sc_avx2()) return m4sc_adam_avx2(th, g, m, v, n, b1, c1, b2, c2, step, eps, shrink);
#endif
	return 0;
}
*/
import "C"

import "unsafe"

// cKernels reports that this build has the C loops.
const cKernels = true

// f32p is the address of s's first element for C (s must not be empty).
func f32p(s []float32) *C.float { return (*C.float)(unsafe.Pointer(&s[0])) }

// geluRowsC writes rows of n values of y = GELU(z + bias) (bias nil: none) and the
// derivative into deriv when it is not nil. The caller checks the lengths.
func geluRowsC(y, deriv, z, bias []float32, rows, n int) {
	if rows*n == 0 {
		return
	}
	if len(y) < rows*n || len(z) < rows*n || (deriv != nil && len(deriv) < rows*n) || (bias != nil && len(bias) < n) {
		panic("nn: geluRowsC: slices shorter than rows x n")
	}
	var d, b *C.float
	if deriv != nil {
		d = f32p(deriv)
	}
	if bias != nil {
		b = f32p(bias)
	}
	C.m4sc_gelu_rows(f32p(y), d, f32p(z), b, C.long(rows), C.long(n))
}

// adamC runs adamUpdate for float32 over a prefix of theta in C and returns its
// length (0 where the CPU lacks AVX2); the caller finishes the rest.
func adamC(theta, g, m, v []float32, k *adamConsts[float32]) int {
	n := len(theta)
	if n < 8 {
		return 0
	}
	_, _, _ = g[n-1], m[n-1], v[n-1]
	return int(C.m4sc_adam(f32p(theta), f32p(g), f32p(m), f32p(v), C.long(n),
		C.float(k.b1), C.float(k.c1), C.float(k.b2), C.float(k.c2), C.float(k.step), C.float(k.eps), C.float(k.shrink)))
}

// layerNormC normalises rows [lo, hi) as layerNormRows does, with both gain and bias,
// in C; false when the CPU lacks AVX2 (nothing written).
func layerNormC(y, x, gd, bd, means, rstds []float32, n, lo, hi int, eps float64) bool {
	if hi <= lo || n == 0 {
		return true
	}
	if len(x) < hi*n || len(y) < hi*n || len(gd) < n || len(bd) < n || (means != nil && (len(means) < hi || len(rstds) < hi)) {
		panic("nn: layerNormC: slices too short")
	}
	var mp, rp *C.float
	if means != nil {
		mp, rp = f32p(means[lo:]), f32p(rstds[lo:])
	}
	return C.m4sc_ln(f32p(y[lo*n:]), f32p(x[lo*n:]), f32p(gd), f32p(bd), mp, rp, C.long(n), C.long(hi-lo), C.double(eps)) != 0
}

// layerNormBackC is layerNormBackRows on rows [lo, hi) in training (dx, gain and both
// parameter gradients present), in C; false when the CPU lacks AVX2 (nothing written).
func layerNormBackC(dx []float32, fresh bool, x, dy, gd, dg, db, means, rstds []float32, n, lo, hi int) bool {
	if hi <= lo || n == 0 {
		return true
	}
	if len(x) < hi*n || len(dy) < hi*n || len(dx) < hi*n || len(gd) < n || len(dg) < n || len(db) < n || len(means) < hi || len(rstds) < hi {
		panic("nn: layerNormBackC: slices too short")
	}
	f := C.int(0)
	if fresh {
		f = 1
	}
	return C.m4sc_ln_back(f32p(dx), f, f32p(x), f32p(dy), f32p(gd), f32p(dg), f32p(db), f32p(means), f32p(rstds), C.long(n), C.long(lo), C.long(hi)) != 0
}

// biasBackC runs columns [lo, hi) of linearBackward's pass over m rows of n values in
// C: dz *= dy when dy is not nil, then db += dz summed over the rows when db is not
// nil. The caller checks the lengths.
func biasBackC(dz, dy, db []float32, m, n, lo, hi int) {
	if m == 0 || hi <= lo {
		return
	}
	var a, s *C.float
	if dy != nil {
		a = f32p(dy)
	}
	if db != nil {
		s = f32p(db)
	}
	C.m4sc_bias_back(f32p(dz), a, s, C.long(m), C.long(n), C.long(lo), C.long(hi))
}
