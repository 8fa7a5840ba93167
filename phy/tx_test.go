package phy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func txRandomPSDU(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

// txDataBits builds the scrambled DATA bits of clause 17.3.5 the long way: SERVICE,
// PSDU least significant bit first, tail and pad, scrambled, then the tail zeroed.
func txDataBits(psdu []byte, rate Rate, init uint8) []uint8 {
	n := rate.DataSymbols(len(psdu)) * rate.NDBPS
	bits := make([]uint8, ServiceBits, n)
	for _, o := range psdu {
		for i := range 8 {
			bits = append(bits, o>>i&1)
		}
	}
	bits = bits[:n] // tail and pad are zero
	bits = NewScrambler(init).Append(bits[:0], bits)
	tail := ServiceBits + 8*len(psdu)
	clear(bits[tail : tail+TailBits])
	return bits
}

// TestTransmitterLoopback takes packets of every rate apart with the receiving half of
// the library (FFT, pilots, Demapper, Deinterleave, Depuncture) and checks that the soft
// bits agree in sign with the mother code of the DATA bits built independently, and
// that the pilots carry the polarity sequence.
func TestTransmitterLoopback(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	tx, err := NewTransmitter(TransmitterConfig{Windowing: WindowingNone})
	if err != nil {
		t.Fatal(err)
	}
	fft := NewFFT64()
	pol := PilotPolarity()
	dsc, psc, pv := DataSubcarriers(), PilotSubcarriers(), PilotValues()
	var pkt []complex64
	for _, rate := range Rates() {
		dm, _ := NewDemapper(rate.Modulation)
		il, _ := NewInterleaver(rate.Modulation)
		for _, n := range []int{1, 57, 1000} {
			psdu := txRandomPSDU(r, n)
			init := uint8(1 + r.IntN(127))
			pkt = tx.Packet(pkt[:0], psdu, rate, init)
			nsym := rate.DataSymbols(n)
			if len(pkt) != PreambleLen+SymbolLen*(1+nsym) || len(pkt) != tx.PacketLen(n, rate) {
				t.Fatalf("%d Mbit/s, %d octets: %d samples", rate.Mbps, n, len(pkt))
			}
			var soft []float32
			for s := range nsym {
				var td, bins [FFTSize]complex64
				copy(td[:], pkt[PreambleLen+SymbolLen*(1+s)+CPLen:])
				fft.Forward(&bins, &td)
				for i, k := range psc {
					want := pv[i] * pol[(s+1)%127]
					if got := bins[FFTBin(k)]; math.Abs(float64(real(got)-want)) > 1e-4 || math.Abs(float64(imag(got))) > 1e-4 {
						t.Fatalf("%d Mbit/s symbol %d: pilot %d = %v, want %v", rate.Mbps, s+1, k, got, want)
					}
				}
				var pts [DataCarriers]complex64
				for i, k := range dsc {
					pts[i] = bins[FFTBin(k)]
				}
				llr := dm.Append(nil, pts[:], nil)
				soft = append(soft, Depuncture(nil, il.Deinterleave(nil, llr), rate.Code)...)
			}
			data := txDataBits(psdu, rate, init)
			mother := convSlow(data)
			if len(soft) != len(mother) {
				t.Fatalf("%d Mbit/s: %d soft bits, mother code has %d", rate.Mbps, len(soft), len(mother))
			}
			period, keep := punctureKeep(rate.Code)
			for i, v := range soft {
				if keep>>(i%period)&1 == 0 {
					if v != 0 {
						t.Fatalf("%d Mbit/s: punctured position %d has LLR %v", rate.Mbps, i, v)
					}
					continue
				}
				if (v < 0) != (mother[i] == 1) || math.Abs(float64(v)) < 0.09 { // noiseless: at least (2*K_MOD)^2 = 4/42
					t.Fatalf("%d Mbit/s, %d octets: coded bit %d is %d, LLR %v", rate.Mbps, n, i, mother[i], v)
				}
			}
			if got := ScramblerInit(data[:7]); got != init {
				t.Fatalf("scrambler state recovered as %#x, want %#x", got, init)
			}
		}
	}
}

func TestTransmitterLengths(t *testing.T) {
	std, _ := NewTransmitter(TransmitterConfig{})
	none, _ := NewTransmitter(TransmitterConfig{Windowing: WindowingNone})
	r := rand.New(rand.NewPCG(21, 22))
	for _, rate := range Rates() {
		for _, n := range []int{1, MaxPSDULength} {
			psdu := txRandomPSDU(r, n)
			nsym := (16 + 8*n + 6 + rate.NDBPS - 1) / rate.NDBPS
			a := std.Packet(nil, psdu, rate, 0x5d)
			b := none.Packet(nil, psdu, rate, 0x5d)
			if len(a) != PreambleLen+SymbolLen*(1+nsym)+1 || len(b) != len(a)-1 {
				t.Fatalf("%d Mbit/s %d octets: %d and %d samples for %d symbols", rate.Mbps, n, len(a), len(b), nsym)
			}
			// Mean power of the DATA part is 52/4096 (clause 17.3.5.8's normalisation);
			// check it loosely, random data.
			var p float64
			for _, v := range b[PreambleLen+SymbolLen:] {
				p += float64(real(v)*real(v) + imag(v)*imag(v))
			}
			p /= float64(len(b) - PreambleLen - SymbolLen)
			if n > 1000 && math.Abs(p/(52.0/4096)-1) > 0.05 {
				t.Errorf("%d Mbit/s: DATA power %v, want about %v", rate.Mbps, p, 52.0/4096)
			}
		}
	}
}

func TestTransmitterInvalid(t *testing.T) {
	if _, err := NewTransmitter(TransmitterConfig{Windowing: -1}); err == nil {
		t.Error("NewTransmitter with unknown windowing succeeded")
	}
	r24, _ := RateByMbps(24)
	for _, c := range []struct {
		n    int
		rate Rate
		init uint8
	}{
		{0, r24, 1},
		{MaxPSDULength + 1, r24, 1},
		{100, Rate{}, 1},
		{100, Rate{Mbps: 24}, 1},
		{100, r24, 0},
		{100, r24, 0x80},
	} {
		if CheckPacket(c.n, c.rate, c.init) == nil {
			t.Errorf("CheckPacket(%d, %+v, %#x) accepted", c.n, c.rate, c.init)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Packet(%d octets, %+v, %#x) did not panic", c.n, c.rate, c.init)
				}
			}()
			tx, _ := NewTransmitter(TransmitterConfig{})
			tx.Packet(nil, make([]byte, c.n), c.rate, c.init)
		}()
	}
	if err := CheckPacket(100, r24, 0x7f); err != nil {
		t.Errorf("CheckPacket rejects a good packet: %v", err)
	}
}

// BenchmarkTransmitterPacket: 1000-octet PSDUs, samples produced per second.
func BenchmarkTransmitterPacket(b *testing.B) {
	for _, mbps := range []int{6, 24, 54} {
		b.Run(fmt.Sprintf("%dMbps", mbps), func(b *testing.B) {
			rate, _ := RateByMbps(mbps)
			tx, err := NewTransmitter(TransmitterConfig{})
			if err != nil {
				b.Fatal(err)
			}
			psdu := txRandomPSDU(rand.New(rand.NewPCG(23, 24)), 1000)
			dst := tx.Packet(nil, psdu, rate, 0x5d)
			n := len(dst)
			b.ReportAllocs()
			for b.Loop() {
				dst = tx.Packet(dst[:0], psdu, rate, 0x5d)
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(n)*float64(b.N)/sec/1e6, "Msps")
			b.ReportMetric(8*float64(len(psdu))*float64(b.N)/sec/1e6, "Mbit/s")
		})
	}
}
