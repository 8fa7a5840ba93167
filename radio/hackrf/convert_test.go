package hackrf

import (
	"math"
	"testing"
)

// Every int8 value maps to v/128 exactly, in both components.
func TestConvertInt8Exact(t *testing.T) {
	src := make([]int8, 512)
	for v := -128; v <= 127; v++ {
		src[2*(v+128)] = int8(v)
		src[2*(v+128)+1] = int8(-1 - v) // the other components, in reverse
	}
	dst := make([]complex64, 256)
	convertInt8(dst, src)
	for i, x := range dst {
		re, im := float64(i-128)/128, float64(-1-(i-128))/128
		if float64(real(x)) != re || float64(imag(x)) != im {
			t.Fatalf("sample %d: %v, want (%v%+vi)", i, x, re, im)
		}
	}
	for _, c := range []struct {
		v    int8
		want float32
	}{{-128, -1}, {127, 0.9921875}, {0, 0}, {1, 0.0078125}, {-1, -0.0078125}, {64, 0.5}} {
		d := make([]complex64, 1)
		convertInt8(d, []int8{c.v, c.v})
		if real(d[0]) != c.want || imag(d[0]) != c.want {
			t.Errorf("%d: %v, want %v", c.v, d[0], c.want)
		}
	}
}

// Quantisation rounds to nearest with ties to even, saturates at -128..127, maps NaN to
// 0, counts what saturated, and inverts convertInt8 on every code.
func TestQuantizeInt8(t *testing.T) {
	for _, c := range []struct {
		x       float32
		want    int8
		clipped bool
	}{
		{0, 0, false},
		{0.5, 64, false},
		{-1, -128, false},
		{0.9921875, 127, false},
		{1, 127, true},
		{-1.5, -128, true},
		{2.5 / 128, 2, false},   // tie: to even
		{3.5 / 128, 4, false},   // tie: to even
		{-2.5 / 128, -2, false}, // tie: to even
		{126.5 / 128, 126, false},
		{127.49 / 128, 127, false},
		{127.5 / 128, 127, true}, // rounds to 128, which does not fit
		{-128.5 / 128, -128, false},
		{-128.51 / 128, -128, true},
		{float32(math.Inf(1)), 127, true},
		{float32(math.Inf(-1)), -128, true},
		{float32(math.NaN()), 0, true},
	} {
		// The same value in I and in Q.
		for part, x := range []complex64{complex(c.x, 0), complex(0, c.x)} {
			dst := make([]int8, 2)
			n := quantizeInt8(dst, []complex64{x})
			if dst[part] != c.want || dst[1-part] != 0 || (n == 1) != c.clipped || n > 1 {
				t.Errorf("%v: %v (%d clipped), want %d (clipped %v)", x, dst, n, c.want, c.clipped)
			}
		}
	}
	// Round trip on every code.
	src := make([]int8, 512)
	for i := range src {
		src[i] = int8(i/2 - 128)
	}
	x := make([]complex64, 256)
	convertInt8(x, src)
	back := make([]int8, 512)
	if n := quantizeInt8(back, x); n != 0 {
		t.Errorf("round trip clipped %d components", n)
	}
	for i := range src {
		if back[i] != src[i] {
			t.Fatalf("code %d came back as %d", src[i], back[i])
		}
	}
}

func BenchmarkConvertInt8(b *testing.B) {
	src := make([]int8, 2*131072) // one libhackrf transfer
	for i := range src {
		src[i] = int8(i * 7)
	}
	dst := make([]complex64, len(src)/2)
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		convertInt8(dst, src)
	}
	b.ReportMetric(float64(b.N)*float64(len(dst))/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkQuantizeInt8(b *testing.B) {
	src := make([]complex64, 131072)
	for i := range src {
		src[i] = complex(float32(math.Sin(float64(i))), float32(math.Cos(float64(i))))
	}
	dst := make([]int8, 2*len(src))
	b.ReportAllocs()
	b.SetBytes(int64(len(dst)))
	for b.Loop() {
		quantizeInt8(dst, src)
	}
	b.ReportMetric(float64(b.N)*float64(len(src))/b.Elapsed().Seconds(), "samples/s")
}
