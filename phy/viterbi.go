package phy

import (
	"math"
	"slices"
)

// Soft-decision Viterbi decoding of the IEEE 802.11a convolutional code (clause
// 17.3.5.6): constraint length 7, generators g0 = 133 and g1 = 171 (octal), output A
// (g0) before output B (g1) in each pair.
//
// Trellis. A state is the last six input bits with the newest in bit 0, so the encoder
// register after input b is r = s<<1 | b, with the oldest bit in bit 6. In that bit
// order the generators read 0x6d (g0) and 0x4f (g1): 133 and 171 reversed over seven
// bits. Input b moves state s to (s<<1|b) & 63; the old states i and i+32 both lead to
// the new states 2i and 2i+1 (a butterfly). Both generators tap bit 0 and bit 6, so the
// four branches of butterfly i carry one output pair c_i (from i with b = 0) or its
// complement.
//
// Metric. The decoder maximises the correlation sum over the code bits of (1-2c)*L,
// which for LLRs L = log(P(0)/P(1)) is maximum likelihood. For butterfly i with branch
// value m_i = (1-2cA_i)*LA + (1-2cB_i)*LB:
//
//	new[2i]   = max(old[i] + m_i, old[i+32] - m_i)
//	new[2i+1] = max(old[i] - m_i, old[i+32] + m_i)
//
// Bit s of a step's decision word is 1 when new state s kept the path from the old
// state with bit 5 set (the strictly larger candidate; a tie keeps the other), so the
// trace back from state s goes to s>>1 | d<<5 and emits s&1.
//
// Arithmetic. The LLRs of a block are scaled so that the largest magnitude becomes
// vitFull and rounded to integers, then the recursion runs exactly in integers. The
// bounds below keep every sum inside int16, so the AVX2 kernel (int16 lanes, 16 states
// per register) and the portable Go kernel (int32) take the same decisions and return
// the same bits on every machine. Against exact arithmetic, rounding moves a path's
// correlation by at most half a step per LLR, len(llr)/2 steps of size max|L|/vitFull.

const (
	vitK      = 7
	vitStates = 1 << (vitK - 1)
	vitPolyA  = 0x6d // g0 = 133 octal, newest bit in bit 0
	vitPolyB  = 0x4f // g1 = 171 octal, newest bit in bit 0

	// vitFull is the largest quantised LLR magnitude, so branch values lie in
	// [-2*vitFull, 2*vitFull].
	vitFull = 511

	// vitUnreached is how far below state 0 the other states start: the encoder starts
	// in state 0. A path from any of them trails every path from state 0 by at least
	// vitUnreached - 2*2*vitFull*5 > 0 until step 6, after which all states are reached
	// from state 0.
	vitUnreached = 26 * vitFull

	// vitRenorm is how many steps may pass between renormalisations (subtracting state
	// 0's metric from all). Any state reaches any other in 6 steps, so after step 6 the
	// metrics span at most 2*6*2*vitFull; with state 0 at 0 after a renormalisation and
	// each step moving a metric by at most 2*vitFull, every value and every candidate
	// sum stays within (24 + 2*vitRenorm + 2)*vitFull = 42*vitFull = 21462 < 32767.
	vitRenorm = 8
)

// vitButterflies packs, for butterfly i, the branch index 2*cA_i + cB_i into bits
// 2i..2i+1, where (cA_i, cB_i) is the output pair for register value 2i. The index
// selects m_i from {LA+LB, LA-LB, LB-LA, -LA-LB}. TestViterbiTrellis checks it
// against the generators.
const vitButterflies uint64 = 0xe11ee11e4bb44bb4

// Viterbi decodes the 802.11a rate-1/2 mother code from soft bits. Create one with
// NewViterbi and call Decode for each block; a Viterbi is not safe for concurrent use.
type Viterbi struct {
	dec     []uint64 // one decision word per trellis step
	q       []int16  // the block's quantised LLRs
	metrics [vitStates]int32
	m16     [vitStates]int16 // metrics for the assembly kernel
	signs   [4 * 16]int16    // per-butterfly signs of LA and LB for the assembly kernel
	generic bool             // use the portable kernels even where assembly exists
}

// NewViterbi returns a decoder that handles blocks of up to maxBits trellis steps
// (decoded bits, tail included) without allocating; larger blocks grow its buffers.
func NewViterbi(maxBits int) *Viterbi {
	v := &Viterbi{}
	v.grow(max(maxBits, 0))
	for i := 0; i < 32; i++ {
		idx := vitButterflies >> (2 * i) & 3
		sa, sb := int16(1), int16(1)
		if idx&2 != 0 {
			sa = -1
		}
		if idx&1 != 0 {
			sb = -1
		}
		v.signs[i] = sa    // butterflies 0..31, LA
		v.signs[32+i] = sb // butterflies 0..31, LB
	}
	return v
}

func (v *Viterbi) grow(n int) {
	if n > len(v.dec) {
		v.dec = make([]uint64, n)
		v.q = make([]int16, 2*n)
	}
}

// Decode appends to dst the maximum-likelihood input bits (0 or 1) for the soft code
// bits llr, two per input bit in the order A, B of clause 17.3.5.6, as LLRs
// log(P(0)/P(1)); punctured and erased positions carry 0. It appends
// (len(llr)+1)/2 bits: an odd last LLR is an A whose B is missing, as Depuncture
// leaves a stream that ends inside a puncturing period. The encoder is assumed to start
// in state 0. With
// terminated, the block ends with TailBits zero inputs that return the encoder to
// state 0 and the trace back starts there (the appended bits then end with those
// zeros); otherwise it starts from the best final state.
//
// For an 802.11a DATA field, whose tail is followed by pad bits, decode the LLRs up to
// and including the tail (2*(16+8*length+6) values) with terminated set.
//
// Decode scales the block's LLRs by vitFull/max|L| over the finite ones and rounds
// them, so the result does not depend on the LLRs' overall scale; a NaN counts as 0 and
// an infinity as the largest finite magnitude. The result is the same on every CPU,
// whichever kernel runs.
func (v *Viterbi) Decode(dst []uint8, llr []float32, terminated bool) []uint8 {
	n := (len(llr) + 1) / 2
	if n == 0 {
		return dst
	}
	v.grow(n)
	dec, q := v.dec[:n], v.q[:2*n]
	q[2*n-1] = 0 // erased, unless llr fills it

	simd := vitSIMD != nil && !v.generic
	var amax float32
	if simd {
		amax = vitSIMD.maxAbs(llr)
	} else {
		amax = vitMaxAbs(0, llr)
	}
	scale := float32(1) // all LLRs 0 or not finite
	if amax > 0 {
		scale = vitFull / amax
	}
	if simd {
		vitSIMD.quantize(q[:len(llr)], llr, scale)
	} else {
		vitQuantize(q[:len(llr)], llr, scale)
	}

	end := 0
	if simd {
		v.m16[0] = 0
		for s := 1; s < vitStates; s++ {
			v.m16[s] = -vitUnreached
		}
		vitSIMD.acs(dec, q, &v.m16, &v.signs)
		if !terminated {
			end = vitBest16(&v.m16)
		}
	} else {
		v.metrics[0] = 0
		for s := 1; s < vitStates; s++ {
			v.metrics[s] = -vitUnreached
		}
		vitACS(dec, q, &v.metrics)
		if !terminated {
			end = vitBest32(&v.metrics)
		}
	}

	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	vitTraceback(out, dec, uint(end))
	return dst[:len(dst)+n]
}

// vitKernels are the assembly versions of vitMaxAbs, vitQuantize and vitACS with the
// same results.
type vitKernels struct {
	maxAbs   func(x []float32) float32
	quantize func(q []int16, x []float32, scale float32)
	acs      func(dec []uint64, q []int16, metrics *[vitStates]int16, signs *[4 * 16]int16)
}

// vitMaxAbs returns the largest of m and the finite |x[i]|.
func vitMaxAbs(m float32, x []float32) float32 {
	for _, v := range x {
		a := float32(math.Abs(float64(v)))
		if a > m && a <= math.MaxFloat32 { // false for NaN and infinities
			m = a
		}
	}
	return m
}

// vitQuantize sets q[i] to x[i]*scale clamped to +-vitFull and rounded half to even,
// with NaN products taken as 0; the same operations in the same order as the SIMD
// version (multiply in float32, clamp, round).
func vitQuantize(q []int16, x []float32, scale float32) {
	q = q[:len(x)]
	for i, v := range x {
		y := v * scale
		if y != y {
			y = 0
		}
		y = min(max(y, -vitFull), vitFull)
		q[i] = int16(math.RoundToEven(float64(y)))
	}
}

// vitACS runs the add-compare-select recursion over the steps of dec, two quantised
// LLRs of q per step, starting from and leaving the path metrics in metrics.
func vitACS(dec []uint64, q []int16, metrics *[vitStates]int32) {
	var bufs [2][vitStates]int32
	bufs[0] = *metrics
	old, nxt := &bufs[0], &bufs[1]
	q = q[:2*len(dec)]
	for t := range dec {
		la, lb := int32(q[2*t]), int32(q[2*t+1])
		bm := [4]int32{la + lb, la - lb, lb - la, -la - lb}
		d := vitStep(old, nxt, &bm)
		dec[t] = d
		if t%vitRenorm == vitRenorm-1 {
			base := nxt[0]
			for s := range nxt {
				nxt[s] -= base
			}
		}
		old, nxt = nxt, old
	}
	*metrics = *old
}

// vitStep is one step of vitACS: it fills nxt from old with the branch values bm and
// returns the decision word. Kept out of vitACS's loop so its values stay in registers.
//
//go:noinline
func vitStep(old, nxt *[vitStates]int32, bm *[4]int32) uint64 {
	var d uint64
	code := vitButterflies
	// From the last butterfly down, so the decision bits shift in by constants.
	for i := 31; i >= 0; i-- {
		m := bm[code>>62]
		code <<= 2
		a, b := old[i], old[i+32]
		x0, x1 := a+m, b-m
		y0, y1 := a-m, b+m
		nxt[2*i] = max(x0, x1)
		nxt[2*i+1] = max(y0, y1)
		// The sign bit of x0-x1 is set exactly when x1 > x0.
		d = d<<2 | uint64(uint32(y0-y1)>>31)<<1 | uint64(uint32(x0-x1)>>31)
	}
	return d
}

// vitBest32 and vitBest16 return the state with the largest metric, the lowest such
// state on a tie.
func vitBest32(m *[vitStates]int32) int {
	best := 0
	for s := 1; s < vitStates; s++ {
		if m[s] > m[best] {
			best = s
		}
	}
	return best
}

func vitBest16(m *[vitStates]int16) int {
	best := 0
	for s := 1; s < vitStates; s++ {
		if m[s] > m[best] {
			best = s
		}
	}
	return best
}

// vitTraceback writes the input bits of the survivor path ending in state s at the
// last step of dec, one per step, to out (len(out) == len(dec)).
func vitTraceback(out []uint8, dec []uint64, s uint) {
	out = out[:len(dec)]
	for t := len(dec) - 1; t >= 0; t-- {
		out[t] = uint8(s & 1)
		s = s>>1 | uint(dec[t]>>(s&63)&1)<<5
	}
}

// vitSIMD is set once, at initialisation, where the CPU has an assembly kernel.
var vitSIMD *vitKernels
