package phy

import (
	"slices"
	"testing"
)

// The 127-bit sequence from the all-ones state, as printed in clause 17.3.5.5.
const scramblerAllOnes = "00001110" + "11110010" + "11001001" + "00000010" + "00100110" + "00101110" +
	"10110110" + "00001100" + "11010100" + "11100111" + "10110100" + "00101010" + "11111010" +
	"01010001" + "10111000" + "1111111"

func TestScramblerSequence(t *testing.T) {
	s := NewScrambler(0x7f)
	for i := range len(scramblerAllOnes) {
		if got := s.Next(); got != scramblerAllOnes[i]-'0' {
			t.Fatalf("bit %d = %d, want %c", i, got, scramblerAllOnes[i])
		}
	}
}

// TestScramblerPeriod checks that every non-zero state returns after exactly 127 steps
// and visits all 127 non-zero states on the way (x^7+x^4+1 is primitive).
func TestScramblerPeriod(t *testing.T) {
	for init := uint8(1); init <= 0x7f; init++ {
		s := NewScrambler(init)
		var seen [128]bool
		for i := 1; i <= 127; i++ {
			s.Next()
			st := s.State()
			if st == 0 || seen[st] {
				t.Fatalf("init %#x: state %#x repeats or is zero at step %d", init, st, i)
			}
			seen[st] = true
			if (st == init) != (i == 127) {
				t.Fatalf("init %#x: back to the initial state at step %d, want 127", init, i)
			}
		}
	}
	z := NewScrambler(0)
	for range 10 {
		if z.Next() != 0 {
			t.Fatal("all-zero state outputs a one")
		}
	}
}

func TestScramblerAppend(t *testing.T) {
	src := make([]uint8, 300)
	for i := range src {
		src[i] = uint8(i*7/3) & 1
	}
	a := NewScrambler(0b1011101)
	got := a.Append(nil, src)
	b := NewScrambler(0b1011101)
	for i, v := range src {
		if want := v ^ b.Next(); got[i] != want {
			t.Fatalf("bit %d = %d, want %d", i, got[i], want)
		}
	}
	// In place, and descrambling restores the input.
	c := NewScrambler(0b1011101)
	buf := slices.Clone(got)
	buf = c.Append(buf[:0], buf)
	if !slices.Equal(buf, src) {
		t.Fatal("scrambling twice does not restore the input")
	}
}

// TestScramblerRecover: the receiver side, from the seven scrambled zero bits of SERVICE.
func TestScramblerRecover(t *testing.T) {
	for init := uint8(0); init <= 0x7f; init++ {
		s := NewScrambler(init)
		first := s.Append(nil, make([]uint8, 7))
		if got := ScramblerInit(first); got != init {
			t.Fatalf("ScramblerInit(%v) = %#x, want %#x", first, got, init)
		}
		var r Scrambler
		r.Sync(first)
		if r.State() != s.State() {
			t.Fatalf("init %#x: Sync state %#x, transmitter at %#x", init, r.State(), s.State())
		}
		for i := range 20 {
			if r.Next() != s.Next() {
				t.Fatalf("init %#x: synchronised scrambler differs at bit %d", init, 7+i)
			}
		}
	}
}

func TestPilotPolarity(t *testing.T) {
	// p_0..p_126 as listed in clause 17.3.5.10 (equation 17-25).
	want := [127]float32{1, 1, 1, 1, -1, -1, -1, 1, -1, -1, -1, -1, 1, 1, -1, 1, -1, -1, 1, 1, -1, 1, 1, -1,
		1, 1, 1, 1, 1, 1, -1, 1, 1, 1, -1, 1, 1, -1, -1, 1, 1, 1, -1, 1, -1, -1, -1, 1, -1, 1, -1, -1, 1, -1,
		-1, 1, 1, 1, 1, 1, -1, -1, 1, 1, -1, -1, 1, -1, 1, -1, 1, 1, -1, -1, -1, 1, 1, -1, -1, -1, -1, 1, -1,
		-1, 1, -1, 1, 1, 1, 1, -1, 1, -1, 1, -1, 1, -1, -1, -1, -1, -1, 1, -1, 1, 1, -1, 1, -1, 1, 1, 1, -1,
		-1, 1, -1, -1, -1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1}
	if got := PilotPolarity(); got != want {
		t.Fatalf("PilotPolarity() = %v\nwant %v", got, want)
	}
}
