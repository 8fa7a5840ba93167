package hackrf

// Scale is the full-scale factor between HackRF's int8 samples and radio's complex64:
// the int8 value v stands for v/Scale.
const Scale = 128

// convertInt8 writes len(dst) samples from interleaved int8 I,Q (src must hold at least
// 2*len(dst) values) as complex64 at scale 1/128. Every v/128 is exact in float32.
func convertInt8(dst []complex64, src []int8) {
	src = src[:2*len(dst)]
	for i := range dst {
		re := float32(src[2*i]) * (1.0 / Scale)
		im := float32(src[2*i+1]) * (1.0 / Scale)
		dst[i] = complex(re, im)
	}
}

// roundMagic is 1.5*2^52: for |f| < 2^51, (f + roundMagic) - roundMagic is f rounded to
// the nearest integer, ties to even, because the sum keeps no bits below the units.
const roundMagic = 0x1.8p52

// quantizeInt8 writes src as interleaved int8 I,Q into dst (which must hold at least
// 2*len(src) values): round(128x), ties to even, saturated to -128..127, NaN to 0. It
// returns how many components saturated or were NaN.
func quantizeInt8(dst []int8, src []complex64) (clipped int) {
	dst = dst[:2*len(src)]
	for i, x := range src {
		re, c1 := quantize1(real(x))
		im, c2 := quantize1(imag(x))
		dst[2*i], dst[2*i+1] = re, im
		if c1 {
			clipped++
		}
		if c2 {
			clipped++
		}
	}
	return clipped
}

func quantize1(x float32) (int8, bool) {
	f := float64(x) * Scale // exact: a float32 times a power of two
	switch {
	case f >= Scale-0.5: // rounds to 128 or more, one past the largest code
		return Scale - 1, true
	case f >= -Scale-0.5: // -128.5 rounds to even -128, which fits
		return int8((f + roundMagic) - roundMagic), false
	case f < -Scale-0.5:
		return -Scale, true
	default: // NaN fails every comparison
		return 0, true
	}
}
