package phy

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// mapperPoints returns every constellation point of m, indexed by its bits (first bit
// most significant), by mapping each label through a Mapper.
func mapperPoints(t testing.TB, m Modulation) []complex64 {
	t.Helper()
	mp, err := NewMapper(m)
	if err != nil {
		t.Fatal(err)
	}
	n := m.BitsPerSymbol()
	pts := make([]complex64, 1<<n)
	lab := make([]uint8, n)
	for idx := range pts {
		for i := range n {
			lab[i] = uint8(idx >> (n - 1 - i) & 1)
		}
		pts[idx] = mp.Append(nil, lab)[0]
	}
	return pts
}

// TestMapperTables checks points against Tables 17-8 to 17-11: per axis Gray coded,
// first bit of the half the sign.
func TestMapperTables(t *testing.T) {
	type pt struct {
		bits string
		i, q float64 // before K_MOD
	}
	for _, c := range []struct {
		m    Modulation
		k    float64
		want []pt
	}{
		{BPSK, 1, []pt{{"0", -1, 0}, {"1", 1, 0}}},
		{QPSK, 1 / math.Sqrt(2), []pt{{"00", -1, -1}, {"01", -1, 1}, {"10", 1, -1}, {"11", 1, 1}}},
		{QAM16, 1 / math.Sqrt(10), []pt{{"0000", -3, -3}, {"0100", -1, -3}, {"1100", 1, -3}, {"1000", 3, -3},
			{"0001", -3, -1}, {"0011", -3, 1}, {"0010", -3, 3}, {"1110", 1, 3}}},
		{QAM64, 1 / math.Sqrt(42), []pt{{"000000", -7, -7}, {"001000", -5, -7}, {"011000", -3, -7},
			{"010000", -1, -7}, {"110000", 1, -7}, {"111000", 3, -7}, {"101000", 5, -7}, {"100000", 7, -7},
			{"000001", -7, -5}, {"000011", -7, -3}, {"000010", -7, -1}, {"000110", -7, 1},
			{"000111", -7, 3}, {"000101", -7, 5}, {"000100", -7, 7}, {"101110", 5, 1}}},
	} {
		mp, err := NewMapper(c.m)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range c.want {
			b := make([]uint8, len(p.bits))
			for i := range b {
				b[i] = p.bits[i] - '0'
			}
			got := mp.Append(nil, b)
			want := complex(p.i*c.k, p.q*c.k)
			if len(got) != 1 || math.Abs(real(complex128(got[0]))-real(want)) > 1e-6 || math.Abs(imag(complex128(got[0]))-imag(want)) > 1e-6 {
				t.Errorf("%v %s -> %v, want %v", c.m, p.bits, got, want)
			}
		}
	}
}

// TestMapperEnergy checks unit average energy (K_MOD of Table 17-7) and the Gray
// property: nearest neighbours differ in one bit.
func TestMapperEnergy(t *testing.T) {
	for _, m := range interleaveMods {
		pts := mapperPoints(t, m)
		var e float64
		for _, p := range pts {
			e += real(complex128(p))*real(complex128(p)) + imag(complex128(p))*imag(complex128(p))
		}
		e /= float64(len(pts))
		if math.Abs(e-1) > 1e-6 {
			t.Errorf("%v: average energy %v, want 1", m, e)
		}
		k, _ := mapperKMod(m)
		for a := range pts {
			for b := range pts {
				d := complex128(pts[a] - pts[b])
				if dist := math.Hypot(real(d), imag(d)); a != b && math.Abs(dist-2*k) < 1e-5 {
					if bits.OnesCount(uint(a^b)) != 1 {
						t.Errorf("%v: neighbours %b and %b differ in more than one bit", m, a, b)
					}
				}
			}
		}
	}
}

// demapSlow is the brute-force max-log LLR: for each bit, the smallest squared distance
// to a point whose label has that bit 1 minus the smallest to one with the bit 0, times w.
func demapSlow(pts []complex64, nbits int, y complex64, w float32) []float64 {
	out := make([]float64, nbits)
	for i := range nbits {
		min0, min1 := math.Inf(1), math.Inf(1)
		for idx, p := range pts {
			d := complex128(y - p)
			dd := real(d)*real(d) + imag(d)*imag(d)
			if idx>>(nbits-1-i)&1 == 0 {
				min0 = math.Min(min0, dd)
			} else {
				min1 = math.Min(min1, dd)
			}
		}
		out[i] = float64(w) * (min1 - min0)
	}
	return out
}

func TestDemapperBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, m := range interleaveMods {
		pts := mapperPoints(t, m)
		n := m.BitsPerSymbol()
		d, err := NewDemapper(m)
		if err != nil {
			t.Fatal(err)
		}
		const trials = 20000
		ys := make([]complex64, trials)
		ws := make([]float32, trials)
		for i := range ys {
			// Around the constellation and well beyond its edge, plus exact breakpoints.
			s := 1.6
			if i%4 == 0 {
				s = 0.3
			}
			ys[i] = complex(float32(r.NormFloat64()*s), float32(r.NormFloat64()*s))
			ws[i] = float32(0.1 + 10*r.Float64())
		}
		k, _ := mapperKMod(m)
		for j := -8; j <= 8; j++ {
			ys[j+8] = complex(float32(float64(j)*k), float32(float64(-j)*k))
		}
		got := d.Append(nil, ys, ws)
		if len(got) != n*trials {
			t.Fatalf("%v: %d LLRs for %d points", m, len(got), trials)
		}
		for i, y := range ys {
			want := demapSlow(pts, n, y, ws[i])
			for b := range n {
				g := float64(got[i*n+b])
				if math.Abs(g-want[b]) > 1e-4*(1+math.Abs(want[b])) {
					t.Fatalf("%v: y=%v w=%v bit %d: LLR %v, brute force %v", m, y, ws[i], b, g, want[b])
				}
			}
		}
		// nil weights weigh 1.
		one := d.Append(nil, ys[:1], nil)
		want := demapSlow(pts, n, ys[0], 1)
		for b := range n {
			if math.Abs(float64(one[b])-want[b]) > 1e-4*(1+math.Abs(want[b])) {
				t.Fatalf("%v: nil weights: LLR %v, want %v", m, one[b], want[b])
			}
		}
	}
}

// TestDemapperSigns: on a noiseless point every LLR has the sign of its bit (positive
// for 0) and magnitude at least w times the squared minimum distance (2*K_MOD)^2.
func TestDemapperSigns(t *testing.T) {
	for _, m := range interleaveMods {
		pts := mapperPoints(t, m)
		n := m.BitsPerSymbol()
		d, _ := NewDemapper(m)
		k, _ := mapperKMod(m)
		const w = 3
		ws := make([]float32, len(pts))
		for i := range ws {
			ws[i] = w
		}
		llr := d.Append(nil, pts, ws)
		for idx := range pts {
			for b := range n {
				bit := idx >> (n - 1 - b) & 1
				v := llr[idx*n+b]
				if (v > 0) != (bit == 0) || math.Abs(float64(v)) < w*4*k*k*(1-1e-5) {
					t.Fatalf("%v: point %b bit %d: LLR %v", m, idx, b, v)
				}
			}
		}
	}
}

func TestMapperInvalid(t *testing.T) {
	for _, m := range []Modulation{0, QAM64 + 1} {
		if _, err := NewMapper(m); err == nil {
			t.Errorf("NewMapper(%v) succeeded", m)
		}
		if _, err := NewDemapper(m); err == nil {
			t.Errorf("NewDemapper(%v) succeeded", m)
		}
	}
}

func BenchmarkDemapper(b *testing.B) {
	for _, m := range []Modulation{QPSK, QAM64} {
		b.Run(m.String(), func(b *testing.B) {
			d, _ := NewDemapper(m)
			r := rand.New(rand.NewPCG(11, 12))
			y := make([]complex64, 48*40)
			w := make([]float32, len(y))
			for i := range y {
				y[i] = complex(float32(r.NormFloat64()), float32(r.NormFloat64()))
				w[i] = 1
			}
			dst := make([]float32, 0, 6*len(y))
			b.ReportAllocs()
			for b.Loop() {
				dst = d.Append(dst[:0], y, w)
			}
			b.ReportMetric(float64(len(y)*m.BitsPerSymbol())*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mbit/s")
		})
	}
}
