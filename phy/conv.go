package phy

import (
	"fmt"
	"math/bits"
	"slices"
)

// Generator polynomials of the rate-1/2 mother code, constraint length 7 (clause
// 17.3.5.6, Figure 17-8), in octal as the standard writes them. Read as a 7-bit number
// the most significant bit taps the current input and the least significant the input
// six steps back.
const (
	ConvGenA          = 0o133 // output A, sent first
	ConvGenB          = 0o171 // output B, sent second
	ConvConstraintLen = 7
)

// ConvEncoder is the K=7 convolutional encoder of clause 17.3.5.6 followed by the
// puncturing of Figure 17-9. For every input bit the mother code produces A (generator
// 133) then B (generator 171); puncturing then drops some of them:
//
//	1/2: A B (nothing dropped)
//	2/3: period of 2 input bits, A0 B0 A1 (B1 dropped)
//	3/4: period of 3 input bits, A0 B0 A1 B2 (B1 and A2 dropped)
//
// The encoder keeps its shift register and its place in the puncturing period across
// calls, so a bit stream may be fed in pieces of any size.
type ConvEncoder struct {
	code  CodeRate
	reg   uint8 // the last six input bits, the newest in bit 5
	phase uint8 // input bits since the start of the current puncturing period
	// Puncturing: period in input bits; whether A and B are sent at each phase.
	period     uint8
	keepA      [3]uint8
	keepB      [3]uint8
	keptPerPer int
	// out[w] = A<<1 | B for the register w = input<<6 | reg.
	out [128]uint8
}

// NewConvEncoder returns an encoder for the given code rate, reset to the all-zero state.
func NewConvEncoder(code CodeRate) (*ConvEncoder, error) {
	e := &ConvEncoder{code: code}
	switch code {
	case Rate12:
		e.period, e.keepA, e.keepB = 1, [3]uint8{1}, [3]uint8{1}
	case Rate23:
		e.period, e.keepA, e.keepB = 2, [3]uint8{1, 1}, [3]uint8{1, 0}
	case Rate34:
		e.period, e.keepA, e.keepB = 3, [3]uint8{1, 1, 0}, [3]uint8{1, 0, 1}
	default:
		return nil, fmt.Errorf("phy: new convolutional encoder: unknown code rate %v", code)
	}
	for p := range e.period {
		e.keptPerPer += int(e.keepA[p] + e.keepB[p])
	}
	for w := range e.out {
		a := bits.OnesCount8(uint8(w)&ConvGenA) & 1
		b := bits.OnesCount8(uint8(w)&ConvGenB) & 1
		e.out[w] = uint8(a<<1 | b)
	}
	e.Reset()
	return e, nil
}

// Reset returns the shift register to the all-zero state (clause 17.3.5.6: the encoder
// starts every field from zero) and restarts the puncturing period.
func (e *ConvEncoder) Reset() { e.reg, e.phase = 0, 0 }

// Code returns the encoder's code rate.
func (e *ConvEncoder) Code() CodeRate { return e.code }

// OutLen returns how many coded bits the next Append of n input bits produces (it
// depends on the place in the puncturing period).
func (e *ConvEncoder) OutLen(n int) int {
	per := int(e.period)
	out := n / per * e.keptPerPer
	for i := range n % per {
		p := (int(e.phase) + i) % per
		out += int(e.keepA[p] + e.keepB[p])
	}
	return out
}

// Append encodes and punctures in (bits, 0 or 1) and appends the coded bits to dst in
// transmission order (clause 17.3.5.6, Figure 17-9): 2 coded bits per input bit at
// rate 1/2, 3 per 2 at 2/3, 4 per 3 at 3/4; OutLen tells exactly. It allocates only
// when dst lacks the capacity.
func (e *ConvEncoder) Append(dst, in []uint8) []uint8 {
	n := e.OutLen(len(in))
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	out := dst[start:]
	reg, phase, per := e.reg, e.phase, e.period
	tab := &e.out
	o := 0
	// Whole puncturing periods in straight-line code.
	if phase == 0 {
		switch e.code {
		case Rate12:
			for _, b := range in {
				w := (b&1)<<6 | reg
				c := tab[w&127]
				out[o], out[o+1] = c>>1, c&1
				o += 2
				reg = w >> 1
			}
			in = in[len(in):]
		case Rate23:
			for ; len(in) >= 2; in = in[2:] {
				w0 := (in[0]&1)<<6 | reg
				w1 := (in[1]&1)<<6 | w0>>1
				c0, c1 := tab[w0&127], tab[w1&127]
				out[o], out[o+1], out[o+2] = c0>>1, c0&1, c1>>1
				o += 3
				reg = w1 >> 1
			}
		case Rate34:
			for ; len(in) >= 3; in = in[3:] {
				w0 := (in[0]&1)<<6 | reg
				w1 := (in[1]&1)<<6 | w0>>1
				w2 := (in[2]&1)<<6 | w1>>1
				c0, c1, c2 := tab[w0&127], tab[w1&127], tab[w2&127]
				out[o], out[o+1], out[o+2], out[o+3] = c0>>1, c0&1, c1>>1, c2&1
				o += 4
				reg = w2 >> 1
			}
		}
	}
	// The rest one bit at a time.
	for _, b := range in {
		w := (b&1)<<6 | reg
		c := tab[w&127]
		if e.keepA[phase%3] != 0 {
			out[o] = c >> 1
			o++
		}
		if e.keepB[phase%3] != 0 {
			out[o] = c & 1
			o++
		}
		reg = w >> 1
		if phase++; phase == per {
			phase = 0
		}
	}
	e.reg, e.phase = reg, phase
	return dst
}

// punctureKeep returns the mother-code pattern of one puncturing period (Figure 17-9):
// its length in mother-code bits (A0 B0 A1 B1 ...) and, in bit i, whether bit i is sent.
func punctureKeep(code CodeRate) (period int, keep uint8) {
	switch code {
	case Rate23:
		return 4, 0b0111 // A0 B0 A1, B1 stolen
	case Rate34:
		return 6, 0b100111 // A0 B0 A1 B2; B1 and A2 stolen
	}
	return 2, 0b11
}

// Puncture appends the bits of the rate-1/2 coded stream coded (A0 B0 A1 B1 ...) that
// survive puncturing to code (Figure 17-9). coded must start at a puncturing period's
// start; a trailing partial period is punctured as far as it goes. A code other than
// 2/3 and 3/4 keeps every bit.
func Puncture(dst, coded []uint8, code CodeRate) []uint8 {
	period, keep := punctureKeep(code)
	for i, b := range coded {
		if keep>>(i%period)&1 != 0 {
			dst = append(dst, b)
		}
	}
	return dst
}

// Depuncture appends llr to dst with a zero LLR (no information) inserted in the place
// of every bit that puncturing to code removed (Figure 17-9), restoring the rate-1/2
// order A0 B0 A1 B1 ... that a Viterbi decoder for the mother code expects. llr must
// start at a puncturing period's start, as every OFDM symbol does (N_CBPS is a whole
// number of periods at every rate). A trailing partial period is restored up to its last
// received bit. A code other than 2/3 and 3/4 copies llr unchanged.
func Depuncture(dst, llr []float32, code CodeRate) []float32 {
	switch code {
	case Rate23:
		n := len(llr) / 3 * 3
		for i := 0; i < n; i += 3 {
			dst = append(dst, llr[i], llr[i+1], llr[i+2], 0)
		}
		return append(dst, llr[n:]...)
	case Rate34:
		n := len(llr) / 4 * 4
		for i := 0; i < n; i += 4 {
			dst = append(dst, llr[i], llr[i+1], llr[i+2], 0, 0, llr[i+3])
		}
		return append(dst, llr[n:]...)
	}
	return append(dst, llr...)
}
