package phy

import (
	"math/rand/v2"
	"testing"
)

var interleaveMods = []Modulation{BPSK, QPSK, QAM16, QAM64}

// TestInterleaverPermutation checks the permutation against equations 17-17 and 17-18
// evaluated as two separate passes over a block, and that it is a bijection.
func TestInterleaverPermutation(t *testing.T) {
	for _, m := range interleaveMods {
		il, err := NewInterleaver(m)
		if err != nil {
			t.Fatal(err)
		}
		ncbps := 48 * m.BitsPerSymbol()
		if il.BlockLen() != ncbps {
			t.Fatalf("%v: BlockLen %d, want %d", m, il.BlockLen(), ncbps)
		}
		s := max(m.BitsPerSymbol()/2, 1)
		// Two passes on labelled bits: first[i] holds the label of input bit k.
		in := make([]int, ncbps)
		for k := range in {
			in[k] = k
		}
		first := make([]int, ncbps)
		for k := range ncbps {
			first[ncbps/16*(k%16)+k/16] = in[k]
		}
		second := make([]int, ncbps)
		for i := range ncbps {
			second[s*(i/s)+(i+ncbps-16*i/ncbps)%s] = first[i]
		}
		bits := make([]uint8, ncbps)
		seen := make([]bool, ncbps)
		for k := range ncbps {
			// Interleave a single one at k and find where it lands.
			clear(bits)
			bits[k] = 1
			out := il.Interleave(nil, bits)
			j := -1
			for p, v := range out {
				if v == 1 {
					j = p
				}
			}
			if j < 0 || seen[j] {
				t.Fatalf("%v: bit %d lands at %d (not a bijection)", m, k, j)
			}
			seen[j] = true
			if second[j] != k {
				t.Fatalf("%v: bit %d lands at %d, the two passes put bit %d there", m, k, j, second[j])
			}
		}
	}
}

func TestInterleaverRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, rate := range Rates() {
		il, err := NewInterleaver(rate.Modulation)
		if err != nil {
			t.Fatal(err)
		}
		const nsym = 5
		bits := convRandomBits(r, nsym*rate.NCBPS)
		tx := il.Interleave(nil, bits)
		if len(tx) != len(bits) {
			t.Fatalf("%d Mbit/s: %d bits out of %d", rate.Mbps, len(tx), len(bits))
		}
		soft := make([]float32, len(tx))
		for i, b := range tx {
			soft[i] = 1 - 2*float32(b) // LLR sign: positive for 0
		}
		back := il.Deinterleave(nil, soft)
		for i, v := range back {
			if (v < 0) != (bits[i] == 1) {
				t.Fatalf("%d Mbit/s: bit %d does not survive interleave and deinterleave", rate.Mbps, i)
			}
		}
		// Each symbol is interleaved on its own.
		one := il.Interleave(nil, bits[rate.NCBPS:2*rate.NCBPS])
		for i, v := range one {
			if tx[rate.NCBPS+i] != v {
				t.Fatalf("%d Mbit/s: the second symbol depends on the first", rate.Mbps)
			}
		}
	}
}

func TestInterleaverInvalid(t *testing.T) {
	for _, m := range []Modulation{0, QAM64 + 1} {
		if _, err := NewInterleaver(m); err == nil {
			t.Errorf("NewInterleaver(%v) succeeded", m)
		}
	}
	il, _ := NewInterleaver(QPSK)
	defer func() {
		if recover() == nil {
			t.Error("Interleave of a partial block did not panic")
		}
	}()
	il.Interleave(nil, make([]uint8, 95))
}

func BenchmarkDeinterleave(b *testing.B) {
	il, _ := NewInterleaver(QAM64)
	src := make([]float32, 288*40)
	dst := make([]float32, 0, len(src))
	b.ReportAllocs()
	for b.Loop() {
		dst = il.Deinterleave(dst[:0], src)
	}
	b.ReportMetric(float64(len(src))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mbit/s")
}
