package phy

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// convSlow encodes with the rate-1/2 mother code by multiplying the input polynomial
// with each generator polynomial over GF(2) (clause 17.3.5.6): output A at time n is the
// sum of b[n-i] over the delays i that generator 133 taps, and B likewise for 171.
func convSlow(in []uint8) []uint8 {
	// Taps by delay, read off the octal generators: 133 = 1 011 011, 171 = 1 111 001,
	// the leftmost binary digit being delay 0.
	tapsA := []int{0, 2, 3, 5, 6}
	tapsB := []int{0, 1, 2, 3, 6}
	out := make([]uint8, 0, 2*len(in))
	for n := range in {
		var a, b uint8
		for _, i := range tapsA {
			if n-i >= 0 {
				a ^= in[n-i]
			}
		}
		for _, i := range tapsB {
			if n-i >= 0 {
				b ^= in[n-i]
			}
		}
		out = append(out, a, b)
	}
	return out
}

func convRandomBits(r *rand.Rand, n int) []uint8 {
	b := make([]uint8, n)
	for i := range b {
		b[i] = uint8(r.IntN(2))
	}
	return b
}

func TestConvEncoderMother(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	in := convRandomBits(r, 1000)
	e, err := NewConvEncoder(Rate12)
	if err != nil {
		t.Fatal(err)
	}
	got := e.Append(nil, in)
	if want := convSlow(in); !slices.Equal(got, want) {
		t.Fatal("rate-1/2 encoder differs from the polynomial product")
	}
	// Impulse response: the generators themselves.
	e.Reset()
	imp := e.Append(nil, []uint8{1, 0, 0, 0, 0, 0, 0})
	want := []uint8{1, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1, 1}
	if !slices.Equal(imp, want) {
		t.Fatalf("impulse response %v, want %v", imp, want)
	}
}

func TestConvEncoderPunctured(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	in := convRandomBits(r, 144*5)
	mother := convSlow(in)
	for _, c := range []struct {
		code   CodeRate
		stolen []int // positions of stolen bits within a period of the mother code
		period int
	}{
		{Rate12, nil, 2},
		{Rate23, []int{3}, 4},    // B1
		{Rate34, []int{3, 4}, 6}, // B1, A2
	} {
		var want []uint8
		for i, b := range mother {
			if !slices.Contains(c.stolen, i%c.period) {
				want = append(want, b)
			}
		}
		e, err := NewConvEncoder(c.code)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Append(nil, in); !slices.Equal(got, want) {
			t.Errorf("%v: encoder output differs from the punctured mother code", c.code)
		}
		if got := Puncture(nil, mother, c.code); !slices.Equal(got, want) {
			t.Errorf("%v: Puncture differs from Figure 17-9's pattern", c.code)
		}
		// Fed in uneven pieces, the encoder keeps its register and puncturing phase.
		e.Reset()
		var got []uint8
		for rest := in; len(rest) > 0; {
			n := min(1+r.IntN(11), len(rest))
			got = e.Append(got, rest[:n])
			rest = rest[n:]
		}
		if !slices.Equal(got, want) {
			t.Errorf("%v: piecewise encoding differs", c.code)
		}
		// Depuncture puts every received value back in its place and zeros elsewhere.
		soft := make([]float32, len(want))
		for i, b := range want {
			soft[i] = float32(1 + 2*i + int(b)) // distinct, non-zero
		}
		dep := Depuncture(nil, soft, c.code)
		if len(dep) != len(mother) {
			t.Fatalf("%v: depunctured %d values, want %d", c.code, len(dep), len(mother))
		}
		k := 0
		for i, v := range dep {
			if slices.Contains(c.stolen, i%c.period) {
				if v != 0 {
					t.Fatalf("%v: depunctured position %d = %v, want 0", c.code, i, v)
				}
				continue
			}
			if v != soft[k] {
				t.Fatalf("%v: depunctured position %d = %v, want %v", c.code, i, v, soft[k])
			}
			k++
		}
	}
}

func TestConvEncoderInvalid(t *testing.T) {
	for _, c := range []CodeRate{0, Rate34 + 1, -1} {
		if _, err := NewConvEncoder(c); err == nil {
			t.Errorf("NewConvEncoder(%v) succeeded", c)
		}
	}
}

func BenchmarkConvEncoder(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	in := convRandomBits(r, 216*40)
	for _, code := range []CodeRate{Rate12, Rate34} {
		b.Run("rate"+strings.ReplaceAll(code.String(), "/", ""), func(b *testing.B) {
			e, _ := NewConvEncoder(code)
			dst := make([]uint8, 0, 2*len(in))
			b.ReportAllocs()
			for b.Loop() {
				e.Reset()
				dst = e.Append(dst[:0], in)
			}
			b.ReportMetric(float64(len(in))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mbit/s")
		})
	}
}
