package phy

import "fmt"

// Interleaver is the block interleaver of clause 17.3.5.7 for one modulation: every
// OFDM symbol's N_CBPS = 48*N_BPSC coded bits are permuted twice, first so that adjacent
// coded bits land on non-adjacent subcarriers, then so that they alternate between more
// and less significant bits of the constellation labels.
//
// An Interleaver is read-only after construction and may be shared.
type Interleaver struct {
	mod  Modulation
	perm []uint16 // perm[k] = j: coded bit k is sent as bit j of the symbol
}

// NewInterleaver builds the permutation for modulation m (clause 17.3.5.7, equations
// 17-17 and 17-18).
func NewInterleaver(m Modulation) (*Interleaver, error) {
	nbpsc := m.BitsPerSymbol()
	if nbpsc == 0 {
		return nil, fmt.Errorf("phy: new interleaver: unknown modulation %v", m)
	}
	ncbps := DataCarriers * nbpsc
	s := max(nbpsc/2, 1)
	il := &Interleaver{mod: m, perm: make([]uint16, ncbps)}
	for k := range ncbps {
		i := (ncbps/16)*(k%16) + k/16           // eq. 17-17
		j := s*(i/s) + (i+ncbps-(16*i/ncbps))%s // eq. 17-18
		il.perm[k] = uint16(j)
	}
	return il, nil
}

// BlockLen returns N_CBPS, the number of coded bits in one OFDM symbol.
func (il *Interleaver) BlockLen() int { return len(il.perm) }

// Interleave appends the interleaved form of src to dst (clause 17.3.5.7). Each block
// of BlockLen() bits is one OFDM symbol and is permuted on its own; Interleave panics
// if len(src) is not a multiple of BlockLen(). dst must not overlap src.
func (il *Interleaver) Interleave(dst, src []uint8) []uint8 {
	n := len(il.perm)
	if len(src)%n != 0 {
		panic(fmt.Sprintf("phy: Interleave: %d bits is not a whole number of %d-bit symbols", len(src), n))
	}
	for len(src) > 0 {
		start := len(dst)
		dst = append(dst, src[:n]...) // grow; every element is overwritten below
		out := dst[start : start+n]
		for k, j := range il.perm {
			out[j] = src[k]
		}
		src = src[n:]
	}
	return dst
}

// Deinterleave appends to dst the soft bits of src put back in coded order, inverting
// Interleave (clause 17.3.5.7), for a receiver working on LLRs. It panics if len(src)
// is not a multiple of BlockLen(). dst must not overlap src.
func (il *Interleaver) Deinterleave(dst, src []float32) []float32 {
	n := len(il.perm)
	if len(src)%n != 0 {
		panic(fmt.Sprintf("phy: Deinterleave: %d soft bits is not a whole number of %d-bit symbols", len(src), n))
	}
	for len(src) > 0 {
		blk := src[:n]
		for _, j := range il.perm {
			dst = append(dst, blk[j])
		}
		src = src[n:]
	}
	return dst
}
