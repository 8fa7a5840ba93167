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
	s := &g.s
	r := bits.RotateLeft64(s[0]+s[3], 23) + s[0]
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = bits.RotateLeft64(s[3], 45)
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

// addComplex adds sigma*(N(0,1) + jN(0,1)) to every element of dst; sigma is the
// standard deviation per real dimension. This is the simulator's hottest code: one
// 64-bit draw feeds both dimensions, each half split into a 7-bit layer index and a
// disjoint 25-bit signed abscissa, and the generator state stays in registers.
func (g *normal) addComplex(dst []complex64, sigma float32) {
	s0, s1, s2, s3 := g.s[0], g.s[1], g.s[2], g.s[3]
	k, w := &g.zt.k25, &g.zt.w25
	for i := range dst {
		r := bits.RotateLeft64(s0+s3, 23) + s0
		t := s1 << 17
		s2 ^= s0
		s3 ^= s1
		s1 ^= s2
		s0 ^= s3
		s2 ^= t
		s3 = bits.RotateLeft64(s3, 45)
		lo, hi := uint32(r), uint32(r>>32)
		izr, izi := lo&127, hi&127
		hr, hi2 := int32(lo)>>7, int32(hi)>>7
		var re, im float32
		if uint32(absInt32(hr)) < k[izr] {
			re = float32(hr) * w[izr]
		} else {
			g.s = [4]uint64{s0, s1, s2, s3}
			re = float32(g.slow(hr<<7, uint64(izr)))
			s0, s1, s2, s3 = g.s[0], g.s[1], g.s[2], g.s[3]
		}
		if uint32(absInt32(hi2)) < k[izi] {
			im = float32(hi2) * w[izi]
		} else {
			g.s = [4]uint64{s0, s1, s2, s3}
			im = float32(g.slow(hi2<<7, uint64(izi)))
			s0, s1, s2, s3 = g.s[0], g.s[1], g.s[2], g.s[3]
		}
		dst[i] += complex(re*sigma, im*sigma)
	}
	g.s = [4]uint64{s0, s1, s2, s3}
}

// fill writes standard normal deviates to dst, two per 64-bit draw as addComplex does.
func (g *normal) fill(dst []float32) {
	s0, s1, s2, s3 := g.s[0], g.s[1], g.s[2], g.s[3]
	k, w := &g.zt.k25, &g.zt.w25
	for i := 0; i < len(dst); i += 2 {
		r := bits.RotateLeft64(s0+s3, 23) + s0
		t := s1 << 17
		s2 ^= s0
		s3 ^= s1
		s1 ^= s2
		s0 ^= s3
		s2 ^= t
		s3 = bits.RotateLeft64(s3, 45)
		for h, u := range [2]uint32{uint32(r), uint32(r >> 32)} {
			if i+h >= len(dst) {
				break
			}
			iz := u & 127
			hz := int32(u) >> 7
			if uint32(absInt32(hz)) < k[iz] {
				dst[i+h] = float32(hz) * w[iz]
				continue
			}
			g.s = [4]uint64{s0, s1, s2, s3}
			dst[i+h] = float32(g.slow(hz<<7, uint64(iz)))
			s0, s1, s2, s3 = g.s[0], g.s[1], g.s[2], g.s[3]
		}
	}
	g.s = [4]uint64{s0, s1, s2, s3}
}
