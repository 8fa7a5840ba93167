package safetensors

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// format describes a binary floating-point format by its IEEE 754 parameters,
// for the slow reference conversions below.
type format struct {
	name     string
	expBits  int // exponent field width
	fracBits int // trailing significand field width, p-1
	decode   func(uint16) float32
	encode   func(float32) uint16
}

var formats = []format{
	{"F16", 5, 10, f16ToF32, f32ToF16},
	{"BF16", 8, 7, bf16ToF32, f32ToBF16},
}

func (ft format) bias() int        { return 1<<(ft.expBits-1) - 1 }
func (ft format) expMax() uint16   { return 1<<ft.expBits - 1 }
func (ft format) fracMask() uint16 { return 1<<ft.fracBits - 1 }

// refValue evaluates a finite bit pattern from the definition (IEEE 754-2019
// 3.4): normal (-1)^s * 2^(e-bias) * (1 + f/2^(p-1)), subnormal
// (-1)^s * 2^(1-bias) * (f/2^(p-1)). Exact in float64.
func (ft format) refValue(h uint16) float64 {
	s := h >> 15
	e := (h >> ft.fracBits) & ft.expMax()
	f := float64(h & ft.fracMask())
	var v float64
	if e == 0 {
		v = math.Ldexp(f, 1-ft.bias()-ft.fracBits)
	} else {
		v = math.Ldexp(1+f/float64(int(1)<<ft.fracBits), int(e)-ft.bias())
	}
	if s == 1 {
		v = -v
	}
	return v
}

// positives lists every finite non-negative value in increasing order; the
// pattern of positives[i] is i, since the encoding is monotonic.
func (ft format) positives() []float64 {
	n := int(ft.expMax()) << ft.fracBits // patterns below the all-ones exponent
	out := make([]float64, n)
	for i := range out {
		out[i] = ft.refValue(uint16(i))
	}
	return out
}

// refEncode rounds x to the format by roundTiesToEven from the definition
// (IEEE 754-2019 4.3.1): the nearest representable value, on a tie the one
// with an even significand; a magnitude of at least 2^emax * (2 - 2^-p) goes
// to infinity. NaN is handled by the package's own documented rule, not here.
func (ft format) refEncode(pos []float64, x float32) uint16 {
	v := float64(x)
	var sign uint16
	if math.Signbit(v) {
		sign = 0x8000
		v = -v
	}
	emax := ft.bias()
	threshold := math.Ldexp(2-math.Ldexp(1, -(ft.fracBits+1)), emax)
	if v >= threshold {
		return sign | ft.expMax()<<ft.fracBits
	}
	i := sort.SearchFloat64s(pos, v) // first pos[i] >= v
	if i == len(pos) {
		// Between the largest finite value and the threshold: rounds down.
		return sign | uint16(len(pos)-1)
	}
	if pos[i] == v {
		return sign | uint16(i)
	}
	lo, hi := pos[i-1], pos[i]
	switch {
	case v-lo < hi-v:
		return sign | uint16(i-1)
	case v-lo > hi-v:
		return sign | uint16(i)
	case (i-1)%2 == 0:
		return sign | uint16(i-1)
	default:
		return sign | uint16(i)
	}
}

func isNaN16(ft format, h uint16) bool {
	return (h>>ft.fracBits)&ft.expMax() == ft.expMax() && h&ft.fracMask() != 0
}

// TestDecodeAll compares the decoder with the definition on all 65536 patterns.
func TestDecodeAll(t *testing.T) {
	for _, ft := range formats {
		t.Run(ft.name, func(t *testing.T) {
			for i := range 1 << 16 {
				h := uint16(i)
				got := math.Float32bits(ft.decode(h))
				e := (h >> ft.fracBits) & ft.expMax()
				var want uint32
				switch {
				case e == ft.expMax() && h&ft.fracMask() == 0:
					want = math.Float32bits(float32(math.Inf(1)))
					if h>>15 == 1 {
						want |= 1 << 31
					}
				case e == ft.expMax():
					// NaN: sign kept, payload at the top of the float32 fraction.
					want = uint32(h>>15)<<31 | 0x7f800000 | uint32(h&ft.fracMask())<<(23-ft.fracBits)
				default:
					want = math.Float32bits(float32(ft.refValue(h))) // exact: fits float32
				}
				if got != want {
					t.Fatalf("decode(%#04x) = %#08x, want %#08x", h, got, want)
				}
			}
		})
	}
}

// TestDecodeEncodeIdentity: every pattern, NaNs included, survives a round trip.
func TestDecodeEncodeIdentity(t *testing.T) {
	for _, ft := range formats {
		for i := range 1 << 16 {
			h := uint16(i)
			if got := ft.encode(ft.decode(h)); got != h {
				t.Fatalf("%s: encode(decode(%#04x)) = %#04x", ft.name, h, got)
			}
		}
	}
}

// encodeSample returns float32 inputs that probe every rounding boundary:
// for each finite 16-bit value, the value itself, the midpoints to both
// neighbours and one float32 step either side of each, plus specials and
// random bit patterns.
func encodeSample(ft format, pos []float64, rng *rand.Rand, nRandom int) []float32 {
	var xs []float32
	add := func(v float64) {
		f := float32(v)
		if float64(f) != v {
			panic("sample point not exact in float32")
		}
		xs = append(xs, f, math.Nextafter32(f, float32(math.Inf(1))), math.Nextafter32(f, float32(math.Inf(-1))))
		xs = append(xs, -f, -math.Nextafter32(f, float32(math.Inf(1))), -math.Nextafter32(f, float32(math.Inf(-1))))
	}
	for i, v := range pos {
		add(v)
		if i+1 < len(pos) {
			add((v + pos[i+1]) / 2)
		}
	}
	// Around overflow: the largest finite value, the threshold, 2^(emax+1).
	maxv := pos[len(pos)-1]
	add(math.Ldexp(2-math.Ldexp(1, -(ft.fracBits+1)), ft.bias()))
	if math.Ldexp(1, ft.bias()+1) <= math.MaxFloat32 {
		add(math.Ldexp(1, ft.bias()+1))
	}
	add(maxv)
	for _, b := range []uint32{0, 1, 2, 0x7fffff, 0x800000, 0x7f7fffff, 0x7f800000, 0x33000000, 0x33000001, 0x32ffffff, 0x387fc000, 0x38800000, 0x477fe000, 0x477fefff, 0x477ff000} {
		xs = append(xs, math.Float32frombits(b), math.Float32frombits(b|1<<31))
	}
	for range nRandom {
		b := rng.Uint32()
		if b&0x7f800000 == 0x7f800000 && b&0x7fffff != 0 {
			continue // NaN: covered by TestEncodeNaN
		}
		xs = append(xs, math.Float32frombits(b))
	}
	return xs
}

// TestEncodeAgainstReference checks round-to-nearest-even against refEncode.
func TestEncodeAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, ft := range formats {
		t.Run(ft.name, func(t *testing.T) {
			pos := ft.positives()
			xs := encodeSample(ft, pos, rng, 1<<20)
			for _, x := range xs {
				if got, want := ft.encode(x), ft.refEncode(pos, x); got != want {
					t.Fatalf("encode(%g = %#08x) = %#04x, want %#04x", x, math.Float32bits(x), got, want)
				}
			}
			t.Logf("%d inputs", len(xs))
		})
	}
}

// TestEncodeNaN checks the documented NaN rule: sign kept, top payload bits
// kept, lowest bit set when they are all zero; signalling NaNs stay signalling.
func TestEncodeNaN(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	payloads := []uint32{1, 2, 0x1fff, 0x2000, 0x3fffff, 0x400000, 0x400001, 0x7fffff, 0xffff, 0x10000}
	for range 10000 {
		payloads = append(payloads, rng.Uint32N(0x7fffff)+1)
	}
	for _, ft := range formats {
		shift := 23 - ft.fracBits
		for _, p := range payloads {
			for _, s := range []uint32{0, 1 << 31} {
				x := math.Float32frombits(s | 0x7f800000 | p)
				got := ft.encode(x)
				keep := uint16(p >> shift)
				if keep == 0 {
					keep = 1
				}
				want := uint16(s>>16) | ft.expMax()<<ft.fracBits | keep
				if got != want || !isNaN16(ft, got) {
					t.Fatalf("%s: encode(NaN %#08x) = %#04x, want %#04x", ft.name, math.Float32bits(x), got, want)
				}
			}
		}
	}
}

func TestEncodeEdges(t *testing.T) {
	inf, ninf := float32(math.Inf(1)), float32(math.Inf(-1))
	tests := []struct {
		name string
		enc  func(float32) uint16
		in   float32
		want uint16
	}{
		{"F16 1", f32ToF16, 1, 0x3c00},
		{"F16 -0", f32ToF16, float32(math.Copysign(0, -1)), 0x8000},
		{"F16 max", f32ToF16, 65504, 0x7bff},
		{"F16 65519 rounds down", f32ToF16, 65519, 0x7bff},
		{"F16 65520 ties to Inf", f32ToF16, 65520, 0x7c00},
		{"F16 -1e6", f32ToF16, -1e6, 0xfc00},
		{"F16 Inf", f32ToF16, inf, 0x7c00},
		{"F16 -Inf", f32ToF16, ninf, 0xfc00},
		{"F16 min subnormal", f32ToF16, 0x1p-24, 0x0001},
		{"F16 2^-25 ties to 0", f32ToF16, 0x1p-25, 0x0000},
		{"F16 -2^-25 ties to -0", f32ToF16, -0x1p-25, 0x8000},
		{"F16 3*2^-25 ties to 2", f32ToF16, 0x3p-25, 0x0002},
		{"F16 min normal", f32ToF16, 0x1p-14, 0x0400},
		{"F16 below min normal rounds up", f32ToF16, 0x1.ffcp-15 + 0x1p-26, 0x0400},
		{"F16 f32 subnormal", f32ToF16, math.Float32frombits(1), 0x0000},
		{"F16 1+2^-11 ties to 1", f32ToF16, 1 + 0x1p-11, 0x3c00},
		{"F16 1+3*2^-11 ties to even up", f32ToF16, 1 + 0x3p-11, 0x3c02},
		{"BF16 1", f32ToBF16, 1, 0x3f80},
		{"BF16 1+2^-8 ties to 1", f32ToBF16, 1 + 0x1p-8, 0x3f80},
		{"BF16 1+3*2^-8 ties up", f32ToBF16, 1 + 0x3p-8, 0x3f82},
		{"BF16 f32 max to Inf", f32ToBF16, math.MaxFloat32, 0x7f80},
		{"BF16 -Inf", f32ToBF16, ninf, 0xff80},
		{"BF16 f32 min subnormal to 0", f32ToBF16, math.Float32frombits(1), 0x0000},
		{"BF16 f32 subnormal kept", f32ToBF16, math.Float32frombits(0x00010000), 0x0001},
	}
	for _, tc := range tests {
		if got := tc.enc(tc.in); got != tc.want {
			t.Errorf("%s: got %#04x, want %#04x", tc.name, got, tc.want)
		}
	}
}
