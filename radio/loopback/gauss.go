package loopback

import (
	"math"
	"math/bits"
)

// normal draws standard normal deviates, fast enough for several per sample at 40 Msps.
//
// Hand-written because the simulator draws two to three Gaussians per sample:
// math/rand/v2's NormFloat64 costs 4.1 ns each on this project's reference machine (PCG
// source; 6.5 ns with ChaCha8), which alone would use half the 25 ns a sample may take at
// 40 Msps. This one is the ziggurat method of Marsaglia and Tsang (J. Stat. Softw. 5(8),
// 2000) with 128 layers, fed by xoshiro256++ (Blackman and Vigna, 2018). Following
// Doornik (2005), the layer index and the abscissa come from disjoint bits of one 64-bit
// draw, which removes the correlation of the original 32-bit version.
type normal struct {
	s  [4]uint64
	zt *zigTables
}

type zigTables struct {
	k [128]uint32  // acceptance thresholds on |hz|
	w [128]float64 // abscissa scale per layer
	f [128]float64 // density at the layer edges

	// The same thresholds and scales for a 25-bit abscissa (see addComplex).
	k25 [128]uint32
	w25 [128]float32
}

const (
	zigR = 3.442619855899       // start of the tail
	zigV = 9.91256303526217e-3  // area of each layer
	zigM = 2147483648.0         // 2^31
	zigI = 1.0 / 3.442619855899 // 1/zigR
)

func newZigTables() *zigTables {
	t := new(zigTables)
	dn, tn := zigR, zigR
	q := zigV / math.Exp(-0.5*dn*dn)
	t.k[0] = uint32(dn / q * zigM)
	t.k[1] = 0
	t.w[0] = q / zigM
	t.w[127] = dn / zigM
	t.f[0] = 1
	t.f[127] = math.Exp(-0.5 * dn * dn)
	for i := 126; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(zigV/dn+math.Exp(-0.5*dn*dn)))
		t.k[i+1] = uint32(dn / tn * zigM)
		tn = dn
		t.f[i] = math.Exp(-0.5 * dn * dn)
		t.w[i] = dn / zigM
	}
	for i := range t.k {
		t.k25[i] = t.k[i] >> 7
		t.w25[i] = float32(t.w[i] * 128)
	}
	return t
}

// newNormal seeds a generator; equal seeds give equal sequences. zt may be shared
// between generators (it is read only).
func newNormal(seed uint64, zt *zigTables) *normal {
	g := &normal{zt: zt}
	// splitmix64 expands the seed into the four state words, never all zero.
	x := seed
	for i := range g.s {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		g.s[i] = z ^ (z >> 31)
	}
	return g
}

// uint64 is xoshiro256++.
func (g *normal) uint64() uint64 {
	r, s0, s1, s2, s3 := xoshiro(g.s[0], g.s[1], g.s[2], g.s[3])
	g.s = [4]uint64{s0, s1, s2, s3}
	return r
}

// uniform returns a float64 in (0, 1).
func (g *normal) uniform() float64 {
	return (float64(g.uint64()>>11) + 0.5) * (1.0 / (1 << 53))
}

// next returns one standard normal deviate.
func (g *normal) next() float64 {
	u := g.uint64()
	iz := u & 127
	hz := int32(u >> 32)
	if uint32(absInt32(hz)) < g.zt.k[iz] {
		return float64(hz) * g.zt.w[iz]
	}
	return g.slow(hz, iz)
}

func absInt32(x int32) int64 {
	v := int64(x)
	if v < 0 {
		return -v
	}
	return v
}

// slow handles the wedges and the tail (about 1.2% of draws).
func (g *normal) slow(hz int32, iz uint64) float64 {
	t := g.zt
	for {
		x := float64(hz) * t.w[iz]
		if iz == 0 {
			// Tail beyond zigR: Marsaglia's exponential rejection.
			for {
				xx := -math.Log(g.uniform()) * zigI
				yy := -math.Log(g.uniform())
				if yy+yy >= xx*xx {
					if hz > 0 {
						return zigR + xx
					}
					return -zigR - xx
				}
			}
		}
		if t.f[iz]+g.uniform()*(t.f[iz-1]-t.f[iz]) < math.Exp(-0.5*x*x) {
			return x
		}
		u := g.uint64()
		iz = u & 127
		hz = int32(u >> 32)
		if uint32(absInt32(hz)) < t.k[iz] {
			return float64(hz) * t.w[iz]
		}
	}
}

// The two bulk methods below are the simulator's hottest code. One 64-bit draw feeds
// two deviates, each half split into a 7-bit layer index and a disjoint 25-bit signed
// abscissa, and the generator state stays in local variables; xoshiro and fast are
// small enough for the compiler to inline.

// xoshiro is one step of xoshiro256++ on a state held in registers.
func xoshiro(s0, s1, s2, s3 uint64) (r, t0, t1, t2, t3 uint64) {
	r = bits.RotateLeft64(s0+s3, 23) + s0
	t := s1 << 17
	s2 ^= s0
	s3 ^= s1
	s1 ^= s2
	s0 ^= s3
	s2 ^= t
	s3 = bits.RotateLeft64(s3, 45)
	return r, s0, s1, s2, s3
}

// fast is the ziggurat's common case for 32 random bits; ok is false for the 1.2% of
// draws that need slow.
func (t *zigTables) fast(u uint32) (v float32, hz int32, ok bool) {
	iz := u & 127
	hz = int32(u) >> 7
	if uint32(absInt32(hz)) < t.k25[iz] {
		return float32(hz) * t.w25[iz], hz, true
	}
	return 0, hz, false
}

// pair draws two standard normal deviates.
func (g *normal) pair() (float32, float32) {
	r, s0, s1, s2, s3 := xoshiro(g.s[0], g.s[1], g.s[2], g.s[3])
	g.s = [4]uint64{s0, s1, s2, s3}
	return g.finish(uint32(r)), g.finish(uint32(r >> 32))
}

// finish turns 32 random bits into a deviate, through the slow path if need be.
func (g *normal) finish(u uint32) float32 {
	v, hz, ok := g.zt.fast(u)
	if !ok {
		v = float32(g.slow(hz<<7, uint64(u&127)))
	}
	return v
}

// addComplex adds sigma*(N(0,1) + jN(0,1)) to every element of dst; sigma is the
// standard deviation per real dimension.
func (g *normal) addComplex(dst []complex64, sigma float32) {
	s0, s1, s2, s3 := g.s[0], g.s[1], g.s[2], g.s[3]
	zt := g.zt
	for i := range dst {
		var r uint64
		r, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
		a, _, okA := zt.fast(uint32(r))
		b, _, okB := zt.fast(uint32(r >> 32))
		if !okA || !okB {
			g.s = [4]uint64{s0, s1, s2, s3}
			if !okA {
				a = g.finish(uint32(r))
			}
			if !okB {
				b = g.finish(uint32(r >> 32))
			}
			s0, s1, s2, s3 = g.s[0], g.s[1], g.s[2], g.s[3]
		}
		dst[i] += complex(a*sigma, b*sigma)
	}
	g.s = [4]uint64{s0, s1, s2, s3}
}

// fill writes standard normal deviates to dst.
func (g *normal) fill(dst []float32) {
	s0, s1, s2, s3 := g.s[0], g.s[1], g.s[2], g.s[3]
	zt := g.zt
	i := 0
	for ; i+1 < len(dst); i += 2 {
		var r uint64
		r, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
		a, _, okA := zt.fast(uint32(r))
		b, _, okB := zt.fast(uint32(r >> 32))
		if !okA || !okB {
			g.s = [4]uint64{s0, s1, s2, s3}
			if !okA {
				a = g.finish(uint32(r))
			}
			if !okB {
				b = g.finish(uint32(r >> 32))
			}
			s0, s1, s2, s3 = g.s[0], g.s[1], g.s[2], g.s[3]
		}
		dst[i], dst[i+1] = a, b
	}
	g.s = [4]uint64{s0, s1, s2, s3}
	if i < len(dst) {
		dst[i], _ = g.pair()
	}
}
