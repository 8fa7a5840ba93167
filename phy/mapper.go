package phy

import (
	"fmt"
	"math"
)

// Constellations of clause 17.3.5.8 (Tables 17-8 to 17-11). Each is Gray coded per
// axis: the first half of a symbol's N_BPSC bits picks the in-phase level, the second
// half the quadrature level (BPSK has no quadrature part), and the first bit of each
// half is the sign (0 negative). On one axis with L levels the label of level
// 2g-(L-1) is the binary-reflected Gray code g XOR g>>1, so for 64-QAM
// 000 001 011 010 110 111 101 100 label -7 -5 -3 -1 1 3 5 7. K_MOD scales every
// constellation to unit average energy.

// mapperKMod returns K_MOD of Table 17-7 (clause 17.3.5.8) and the number of bits per axis.
func mapperKMod(m Modulation) (k float64, axisBits int) {
	switch m {
	case BPSK:
		return 1, 1
	case QPSK:
		return 1 / math.Sqrt2, 1
	case QAM16:
		return 1 / math.Sqrt(10), 2
	case QAM64:
		return 1 / math.Sqrt(42), 3
	}
	return 0, 0
}

// Mapper maps coded, interleaved bits to constellation points (clause 17.3.5.8).
// A Mapper is read-only after construction and may be shared.
type Mapper struct {
	mod   Modulation
	nbpsc int
	point [64]complex64 // indexed by a symbol's bits, first bit most significant
}

// NewMapper returns a mapper for modulation m.
func NewMapper(m Modulation) (*Mapper, error) {
	k, ab := mapperKMod(m)
	if ab == 0 {
		return nil, fmt.Errorf("phy: new mapper: unknown modulation %v", m)
	}
	mp := &Mapper{mod: m, nbpsc: m.BitsPerSymbol()}
	levels := 1 << ab
	level := func(label int) float64 { // Gray label -> amplitude, unnormalised
		g := label
		for s := 1; s < ab; s++ {
			g ^= label >> s
		}
		return float64(2*g - (levels - 1))
	}
	for idx := range 1 << mp.nbpsc {
		if m == BPSK {
			mp.point[idx] = complex(float32(level(idx)*k), 0)
			continue
		}
		i, q := idx>>ab, idx&(levels-1)
		mp.point[idx] = complex(float32(level(i)*k), float32(level(q)*k))
	}
	return mp, nil
}

// Modulation returns the mapper's modulation.
func (mp *Mapper) Modulation() Modulation { return mp.mod }

// Append maps bits (0 or 1), N_BPSC at a time, and appends one complex point per group
// to dst, normalised by K_MOD (clause 17.3.5.8). It panics if len(bits) is not a
// multiple of N_BPSC.
func (mp *Mapper) Append(dst []complex64, bits []uint8) []complex64 {
	n := mp.nbpsc
	if len(bits)%n != 0 {
		panic(fmt.Sprintf("phy: Mapper.Append: %d bits is not a multiple of %d", len(bits), n))
	}
	switch n {
	case 1:
		for _, b := range bits {
			dst = append(dst, mp.point[b&1])
		}
	case 2:
		for i := 0; i+1 < len(bits); i += 2 {
			dst = append(dst, mp.point[(bits[i]&1)<<1|bits[i+1]&1])
		}
	case 4:
		for i := 0; i+3 < len(bits); i += 4 {
			b := bits[i : i+4 : i+4]
			dst = append(dst, mp.point[(b[0]&1)<<3|(b[1]&1)<<2|(b[2]&1)<<1|b[3]&1])
		}
	case 6:
		for i := 0; i+5 < len(bits); i += 6 {
			b := bits[i : i+6 : i+6]
			dst = append(dst, mp.point[(b[0]&1)<<5|(b[1]&1)<<4|(b[2]&1)<<3|(b[3]&1)<<2|(b[4]&1)<<1|b[5]&1])
		}
	}
	return dst
}

// Demapper computes max-log soft bits from equalised constellation points (the inverse
// of clause 17.3.5.8's mapping, for a soft-decision Viterbi decoder).
//
// For a received point y with noise of variance sigma^2 = E|n|^2 the LLR of bit b is
//
//	LLR(b) = (min over points s with b=1 of |y-s|^2 - min over s with b=0 of |y-s|^2) / sigma^2,
//
// positive for a 0 (the convention of the package doc). Because each axis is Gray coded
// independently the minima separate per axis and have a closed piecewise-linear form,
// which Append evaluates; the result equals the brute-force minimum over all points.
// A Demapper is read-only after construction and may be shared.
type Demapper struct {
	mod   Modulation
	scale float32 // 1/K_MOD: from normalised to odd-integer levels
	k2    float32 // K_MOD^2: from squared integer distances back to normalised ones
}

// NewDemapper returns a soft demapper for modulation m.
func NewDemapper(m Modulation) (*Demapper, error) {
	k, ab := mapperKMod(m)
	if ab == 0 {
		return nil, fmt.Errorf("phy: new demapper: unknown modulation %v", m)
	}
	return &Demapper{mod: m, scale: float32(1 / k), k2: float32(k * k)}, nil
}

// Modulation returns the demapper's modulation.
func (d *Demapper) Modulation() Modulation { return d.mod }

// Append appends N_BPSC LLRs for every point of y to dst, in the order of the bits
// that Mapper.Append consumed. y holds equalised points (the transmitted point plus
// noise, at the unit-energy scale of the constellation). w[i] is the inverse noise
// variance 1/sigma^2 of y[i], linear, not dB: for a subcarrier with channel gain H
// and receiver noise variance N0 it is |H|^2/N0, the subcarrier's SNR, so that bits on
// faded subcarriers weigh less. w == nil weighs every point 1, giving LLRs that are
// squared-distance differences; otherwise len(w) must equal len(y), or Append panics.
func (d *Demapper) Append(dst []float32, y []complex64, w []float32) []float32 {
	if w != nil && len(w) != len(y) {
		panic(fmt.Sprintf("phy: Demapper.Append: %d weights for %d points", len(w), len(y)))
	}
	sc, k2 := d.scale, d.k2
	for i, v := range y {
		g := k2
		if w != nil {
			g *= w[i]
		}
		u, q := real(v)*sc, imag(v)*sc
		switch d.mod {
		case BPSK:
			dst = append(dst, g*demapSign2(u))
		case QPSK:
			dst = append(dst, g*demapSign2(u), g*demapSign2(q))
		case QAM16:
			dst = append(dst, g*demapSign4(u), g*demapMag4(u), g*demapSign4(q), g*demapMag4(q))
		case QAM64:
			dst = append(dst,
				g*demapSign8(u), g*demapMid8(u), g*demapLow8(u),
				g*demapSign8(q), g*demapMid8(q), g*demapLow8(q))
		}
	}
	return dst
}

// The functions below return min_{b=1}(u-a)^2 - min_{b=0}(u-a)^2 for one axis with
// levels a at odd integers, u the received coordinate on that scale. Derivation: on each
// interval between even integers the nearest level of each bit class is fixed, and the
// difference of two squares (u-a1)^2-(u-a0)^2 = (a0-a1)(2u-a0-a1) is linear in u.

// demapSign2: levels -1 (0), +1 (1).
func demapSign2(u float32) float32 { return -4 * u }

// demapSign4: first bit of 16-QAM, levels -3 -1 (0) and 1 3 (1).
func demapSign4(u float32) float32 {
	// -4u inside [-2, 2], -8(u-+1) outside, without branches.
	return -8*u - 2*demapAbs(u-2) + 2*demapAbs(u+2)
}

// demapMag4: second bit of 16-QAM, |a| = 3 (0) and |a| = 1 (1).
func demapMag4(u float32) float32 { return 4 * (demapAbs(u) - 2) }

// demapSign8: first bit of 64-QAM, negative levels (0) and positive levels (1).
func demapSign8(u float32) float32 {
	a := demapAbs(u)
	var d float32
	switch {
	case a <= 2:
		d = 4 * a
	case a <= 4:
		d = 8 * (a - 1)
	case a <= 6:
		d = 12 * (a - 2)
	default:
		d = 16 * (a - 3)
	}
	if u > 0 {
		return -d
	}
	return d
}

// demapMid8: second bit of 64-QAM, |a| in {5,7} (0) and |a| in {1,3} (1).
func demapMid8(u float32) float32 {
	a := demapAbs(u)
	switch {
	case a <= 2:
		return 8 * (a - 3)
	case a <= 6:
		return 4 * (a - 4)
	}
	return 8 * (a - 5)
}

// demapLow8: third bit of 64-QAM, |a| in {1,7} (0) and |a| in {3,5} (1).
func demapLow8(u float32) float32 { return 4 * (demapAbs(demapAbs(u)-4) - 2) }

func demapAbs(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }
