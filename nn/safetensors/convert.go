package safetensors

import "math"

// Conversions between float32 and the 16-bit formats. Field layouts:
// binary16 (IEEE 754-2019 3.6) is sign:1 exponent:5 (bias 15) fraction:10;
// bfloat16 is the upper 16 bits of binary32, sign:1 exponent:8 (bias 127)
// fraction:7. Rounding is roundTiesToEven (4.3.1).

// f16ToF32 widens a binary16 pattern. Every binary16 value is a binary32 value,
// so the result is exact; NaN payloads move to the top of the binary32 fraction.
func f16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case 0:
		if frac == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal frac*2^-24: normalise so the leading one becomes implicit.
		e := uint32(127 - 15 + 1)
		for frac&0x400 == 0 {
			frac <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (frac&0x3ff)<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// f32ToF16 narrows to binary16 with round-to-nearest-even. Magnitudes from
// 65520 (halfway between the largest finite value 65504 and 2^16) upward become
// Inf; below 2^-14 the result is subnormal, and at or below 2^-25 (half the
// smallest subnormal; the tie goes to the even zero) it is a signed zero.
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	frac := b & 0x7fffff
	if exp == 0xff {
		if frac == 0 {
			return sign | 0x7c00
		}
		// NaN: keep the top payload bits, and stay NaN if they are all zero.
		p := uint16(frac >> 13)
		if p == 0 {
			p = 1
		}
		return sign | 0x7c00 | p
	}
	he := exp - 127 + 15 // biased binary16 exponent
	if he >= 0x1f {
		return sign | 0x7c00
	}
	if he <= 0 {
		if he < -10 {
			// Below 2^-25, closer to zero than to the smallest subnormal.
			return sign
		}
		// The binary16 subnormal fraction counts units of 2^-24. With the implicit
		// bit the binary32 significand sig means sig*2^(exp-150), that is
		// sig*2^(he-14) units, so drop 14-he low bits (14..24 here).
		sig := frac | 0x800000
		shift := uint(14 - he)
		q := sig >> shift
		rem := sig & (1<<shift - 1)
		halfway := uint32(1) << (shift - 1)
		if rem > halfway || rem == halfway && q&1 == 1 {
			q++ // may carry into the smallest normal, whose pattern is 0x400: correct
		}
		return sign | uint16(q)
	}
	// Round without a branch (random data would mispredict one half the time):
	// adding 0xfff plus the lowest kept bit carries into the kept bits exactly
	// when the discarded 13 bits are above halfway, or halfway with an odd kept
	// value. A carry out of the fraction bumps the exponent, up to Inf: correct.
	v := uint32(he)<<23 | frac
	v += 0xfff + (v>>13)&1
	return sign | uint16(v>>13)
}

// bf16ToF32 widens a bfloat16 pattern exactly.
func bf16ToF32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// f32ToBF16 narrows to bfloat16 with round-to-nearest-even. Adding 0x7fff plus
// the lowest kept bit rounds the discarded half-word: above halfway always carries,
// exactly halfway carries only from an odd kept value. Carries ripple into the
// exponent, so the largest float32 values overflow to Inf as IEEE requires.
func f32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		// NaN: truncate the payload, and stay NaN if the kept bits are zero.
		h := uint16(b >> 16)
		if h&0x7f == 0 {
			h |= 1
		}
		return h
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
