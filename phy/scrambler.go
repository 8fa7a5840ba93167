package phy

// ScramblerStateMask covers the seven bits of the scrambler's state.
const ScramblerStateMask = 0x7f

// Scrambler is the frame-synchronous data scrambler of clause 17.3.5.5, generator
// polynomial S(x) = x^7 + x^4 + 1. Scrambling and descrambling are the same operation.
//
// The state is a 7-bit number whose bit i-1 holds register x_i of Figure 17-7, so the
// binary literal 0b1011101 lists x7..x1 (the Annex I example's 1011101 reads the same
// either way). Each step outputs x7 XOR x4 and shifts that bit in as the new x1. From the
// all-ones state the first outputs are 00001110 11110010 ..., the 127-bit sequence given
// in clause 17.3.5.5.
//
// The zero value is a scrambler in the all-zero state, which outputs only zeros.
type Scrambler struct {
	state uint8
}

// NewScrambler returns a scrambler in the given initial state (only the low seven bits
// are used).
func NewScrambler(init uint8) *Scrambler {
	s := new(Scrambler)
	s.Reset(init)
	return s
}

// Reset sets the state to init & ScramblerStateMask.
func (s *Scrambler) Reset(init uint8) { s.state = init & ScramblerStateMask }

// State returns the current 7-bit state.
func (s *Scrambler) State() uint8 { return s.state }

// Next returns the next bit of the scrambling sequence and advances the state
// (clause 17.3.5.5, Figure 17-7).
func (s *Scrambler) Next() uint8 {
	b := (s.state>>6 ^ s.state>>3) & 1
	s.state = (s.state<<1 | b) & ScramblerStateMask
	return b
}

// Append appends src XOR the scrambling sequence to dst and returns the extended slice;
// it scrambles and descrambles alike (clause 17.3.5.5). src holds bits (0 or 1); dst
// and src may be the same slice (dst[:0], src) to work in place.
func (s *Scrambler) Append(dst, src []uint8) []uint8 {
	st := s.state
	for _, b := range src {
		f := (st>>6 ^ st>>3) & 1
		st = (st<<1 | f) & ScramblerStateMask
		dst = append(dst, b^f)
	}
	s.state = st
	return dst
}

// Sync sets the state from the first seven bits of a received, still scrambled DATA
// field. The SERVICE field begins with seven zero bits (clause 17.3.5.2), so those
// received bits are the scrambler's own output, and a scrambler synchronised this way
// descrambles the rest of the field starting with bit 7 (clause 17.3.5.5). Only the
// first seven elements of first7 are read; it must hold at least seven.
func (s *Scrambler) Sync(first7 []uint8) {
	_ = first7[6]
	var st uint8
	for _, b := range first7[:7] {
		st = st<<1 | b&1
	}
	s.state = st & ScramblerStateMask
}

// ScramblerInit returns the initial state that makes a scrambler output first7 (seven
// bits) as its first seven bits: the state a transmitter used, recovered from the
// scrambled zero bits at the start of SERVICE (clause 17.3.5.5). The result is zero if
// and only if the seven bits are zero.
func ScramblerInit(first7 []uint8) uint8 {
	var s Scrambler
	s.Sync(first7)
	// Run the register backwards seven steps. A forward step maps x7..x1 to
	// x6..x1,f with f = x7 XOR x4, so x7 = f XOR x4 = bit 0 XOR bit 4 of the new state.
	st := s.state
	for range 7 {
		x7 := (st ^ st>>4) & 1
		st = st>>1 | x7<<6
	}
	return st
}

// PilotPolarity returns the pilot polarity sequence p_0..p_126 of clause 17.3.5.10:
// the scrambler's output from the all-ones state, with 0 mapped to +1 and 1 to -1.
// The SIGNAL symbol uses p_0 and DATA symbol n (from 1) uses p_(n mod 127).
func PilotPolarity() [127]float32 {
	var p [127]float32
	s := NewScrambler(ScramblerStateMask)
	for i := range p {
		p[i] = 1 - 2*float32(s.Next())
	}
	return p
}
