package sigmf

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Datatype is the on-disk encoding of one complex sample: interleaved I then Q
// ("SigMF specification v1.2.0", section SigMF Dataset Format). The zero value means
// "not set"; Create then uses DefaultDatatype.
type Datatype uint8

const (
	// CI8 is "ci8": int8 I,Q (hackrf_transfer's .cs8); value v means v/128.
	CI8 Datatype = iota + 1
	// CI16LE is "ci16_le": little-endian int16 I,Q; value v means v/32768.
	CI16LE
	// CF32LE is "cf32_le": little-endian IEEE 754 float32 I,Q (GNU Radio's
	// .cf32/.cfile), taken as is.
	CF32LE
)

// DefaultDatatype is what Create writes when WriteOptions.Datatype is zero: the
// only lossless choice for complex64 samples.
const DefaultDatatype = CF32LE

// Full-scale factors: a quantised value v stands for v/scale. These follow the
// HackRF convention (int8 -128..127 over [-1, 1)), not the symmetric v/127.
const (
	scale8  = 128
	scale16 = 32768
)

var datatypeNames = [...]string{CI8: "ci8", CI16LE: "ci16_le", CF32LE: "cf32_le"}

// supportedList is quoted in error messages so the reader learns the way out.
const supportedList = "ci8, ci16_le, cf32_le"

// ParseDatatype returns the Datatype named by a SigMF core:datatype string.
func ParseDatatype(s string) (Datatype, error) {
	if d, ok := lookupDatatype(s); ok {
		return d, nil
	}
	return 0, &UnsupportedError{Field: "core:datatype", Msg: unsupportedDatatypeMsg(s)}
}

func lookupDatatype(s string) (Datatype, bool) {
	for d, name := range datatypeNames {
		if d != 0 && name == s {
			return Datatype(d), true
		}
	}
	return 0, false
}

func unsupportedDatatypeMsg(s string) string {
	return fmt.Sprintf("%q is unsupported (supported: %s)", clip(s), supportedList)
}

// String returns the SigMF name ("ci8", "ci16_le", "cf32_le").
func (d Datatype) String() string {
	if d.valid() {
		return datatypeNames[d]
	}
	return fmt.Sprintf("Datatype(%d)", uint8(d))
}

// SampleBytes returns the size in bytes of one complex sample (I and Q), or 0 for
// an invalid Datatype.
func (d Datatype) SampleBytes() int {
	switch d {
	case CI8:
		return 2
	case CI16LE:
		return 4
	case CF32LE:
		return 8
	}
	return 0
}

// MarshalText implements encoding.TextMarshaler, so a Datatype can sit in
// configuration files under its SigMF name.
func (d Datatype) MarshalText() ([]byte, error) {
	if !d.valid() {
		return nil, fmt.Errorf("sigmf: marshal invalid Datatype(%d)", uint8(d))
	}
	return []byte(datatypeNames[d]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Datatype) UnmarshalText(b []byte) error {
	v, err := ParseDatatype(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func (d Datatype) valid() bool { return d >= CI8 && d <= CF32LE }

// decode converts len(dst) samples from src, which holds at least
// len(dst)*d.SampleBytes() bytes.
func decode(d Datatype, dst []complex64, src []byte) {
	switch d {
	case CI8:
		src = src[:2*len(dst)]
		for i := range dst {
			re := float32(int8(src[2*i])) * (1.0 / scale8)
			im := float32(int8(src[2*i+1])) * (1.0 / scale8)
			dst[i] = complex(re, im)
		}
	case CI16LE:
		src = src[:4*len(dst)]
		for i := range dst {
			re := float32(int16(binary.LittleEndian.Uint16(src[4*i:]))) * (1.0 / scale16)
			im := float32(int16(binary.LittleEndian.Uint16(src[4*i+2:]))) * (1.0 / scale16)
			dst[i] = complex(re, im)
		}
	case CF32LE:
		src = src[:8*len(dst)]
		for i := range dst {
			re := math.Float32frombits(binary.LittleEndian.Uint32(src[8*i:]))
			im := math.Float32frombits(binary.LittleEndian.Uint32(src[8*i+4:]))
			dst[i] = complex(re, im)
		}
	default:
		panic("sigmf: decode with invalid datatype") // programmer error: checked at Open
	}
}

// encode converts src into dst, which holds at least len(src)*d.SampleBytes()
// bytes, and returns how many samples had I or Q clipped (always 0 for CF32LE,
// which stores any float32).
func encode(d Datatype, dst []byte, src []complex64) (clipped int) {
	switch d {
	case CI8:
		dst = dst[:2*len(src)]
		for i, v := range src {
			re, c1 := quantise(real(v), scale8)
			im, c2 := quantise(imag(v), scale8)
			dst[2*i] = byte(int8(re))
			dst[2*i+1] = byte(int8(im))
			if c1 || c2 {
				clipped++
			}
		}
	case CI16LE:
		dst = dst[:4*len(src)]
		for i, v := range src {
			re, c1 := quantise(real(v), scale16)
			im, c2 := quantise(imag(v), scale16)
			binary.LittleEndian.PutUint16(dst[4*i:], uint16(int16(re)))
			binary.LittleEndian.PutUint16(dst[4*i+2:], uint16(int16(im)))
			if c1 || c2 {
				clipped++
			}
		}
	case CF32LE:
		dst = dst[:8*len(src)]
		for i, v := range src {
			binary.LittleEndian.PutUint32(dst[8*i:], math.Float32bits(real(v)))
			binary.LittleEndian.PutUint32(dst[8*i+4:], math.Float32bits(imag(v)))
		}
	default:
		panic("sigmf: encode with invalid datatype") // programmer error: checked at Create
	}
	return clipped
}

// roundMagic is 1.5*2^52: adding and subtracting it rounds a float64 of
// magnitude below 2^51 to the nearest integer, ties to even, because the sum has no
// bits left below the units place. It is exact and avoids math.RoundToEven's
// software path on baseline amd64.
const roundMagic = 0x1.8p52

// quantise maps x in full-scale units to the integer grid of the given scale
// (128 or 32768): round to nearest, ties to even, then saturate at
// [-scale, scale-1]. NaN becomes 0. The second result reports saturation or NaN.
func quantise(x float32, scale float64) (int32, bool) {
	// float64(x)*scale is exact: a float32 mantissa times a power of two.
	f := float64(x) * scale
	hi := scale - 0.5 // rounds up to scale, one past the largest code
	lo := -scale - 0.5
	switch {
	case f >= hi:
		return int32(scale - 1), true
	case f >= lo: // a tie at lo rounds to even -scale, which fits
		return int32((f + roundMagic) - roundMagic), false
	case f < lo:
		return int32(-scale), true
	default: // NaN fails every comparison
		return 0, true
	}
}
