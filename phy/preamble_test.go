package phy

import (
	"math"
	"math/cmplx"
	"testing"
)

// TestPreamblePower: the sqrt(13/6) factor gives the short training field the same
// power as the long one and as a data symbol, 52/4096 (clause 17.3.3), and the short
// field repeats every 16 samples.
func TestPreamblePower(t *testing.T) {
	stf, ltf := STFTime(), LTFTime()
	pow := func(x []complex64) float64 {
		var s float64
		for _, v := range x {
			s += real(complex128(v))*real(complex128(v)) + imag(complex128(v))*imag(complex128(v))
		}
		return s / float64(len(x))
	}
	want := 52.0 / 4096
	if p := pow(stf[:]); math.Abs(p-want) > 1e-6 {
		t.Errorf("STF power %v, want %v", p, want)
	}
	if p := pow(ltf[:]); math.Abs(p-want) > 1e-6 {
		t.Errorf("LTF power %v, want %v", p, want)
	}
	m, _ := NewOFDMModulator(WindowingNone)
	pre := m.AppendPreamble(nil)
	if len(pre) != PreambleLen {
		t.Fatalf("preamble has %d samples, want %d", len(pre), PreambleLen)
	}
	for i := range STFLen {
		if cmplx.Abs(complex128(pre[i]-stf[i%16])) > 1e-7 {
			t.Fatalf("STF sample %d is not periodic", i)
		}
	}
	for i := range LTFLen {
		if cmplx.Abs(complex128(pre[STFLen+i]-ltf[(i+32)%64])) > 1e-7 {
			t.Fatalf("LTF sample %d is not guard + two long symbols", i)
		}
	}
	var nz int
	for i, v := range LTFSequence() {
		if v != 0 {
			nz++
			if v != 1 && v != -1 {
				t.Fatalf("L_%d = %v", i-26, v)
			}
		} else if i != 26 {
			t.Fatalf("L_%d = 0", i-26)
		}
	}
	if nz != 52 {
		t.Fatalf("%d non-zero long training values, want 52", nz)
	}
}
