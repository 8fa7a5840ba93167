package phy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// vitTestEncode is the encoder of clause 17.3.5.6 written from the standard's
// figure, independently of the decoder's bit order: the shift register holds the
// current input and the six previous ones, and each generator, read from its most
// significant octal digit, taps delays 0 to 6. It returns the rate-1/2 code bits
// A0 B0 A1 B1 ... starting from the all-zero register.
func vitTestEncode(in []uint8) []uint8 {
	const g0, g1 = 0o133, 0o171
	var reg [7]uint8 // reg[k] is the input k steps ago
	out := make([]uint8, 0, 2*len(in))
	for _, b := range in {
		copy(reg[1:], reg[:6])
		reg[0] = b & 1
		var a, c uint8
		for k := 0; k < 7; k++ {
			a ^= reg[k] & uint8(g0>>(6-k))
			c ^= reg[k] & uint8(g1>>(6-k))
		}
		out = append(out, a&1, c&1)
	}
	return out
}

// vitTestPuncture keeps the code bits of clause 17.3.5.6's puncturing patterns, with
// the stolen bits set to 0 (an erasure) in a rate-1/2 LLR stream: rate 2/3 drops B1 of
// every A0 B0 A1 B1, rate 3/4 drops B1 and A2 of every A0 B0 A1 B1 A2 B2.
func vitTestPuncture(llr []float32, rate CodeRate) {
	switch rate {
	case Rate23:
		for i := 3; i < len(llr); i += 4 {
			llr[i] = 0
		}
	case Rate34:
		for i := 0; i+4 < len(llr); i += 6 {
			llr[i+3], llr[i+4] = 0, 0
		}
	}
}

// vitTestBPSK returns LLRs for code bits sent as BPSK (0 -> +1, 1 -> -1) through AWGN
// at the given Eb/N0 for a code of the given rate: noise variance
// sigma^2 = 1/(2*rate*Eb/N0) and LLR = 2y/sigma^2.
func vitTestBPSK(rng *rand.Rand, coded []uint8, ebn0dB, rate float64) []float32 {
	sigma2 := 1 / (2 * rate * math.Pow(10, ebn0dB/10))
	sigma := math.Sqrt(sigma2)
	llr := make([]float32, len(coded))
	for i, c := range coded {
		y := 1 - 2*float64(c) + sigma*rng.NormFloat64()
		llr[i] = float32(2 * y / sigma2)
	}
	return llr
}

func vitTestBits(rng *rand.Rand, n, tail int) []uint8 {
	b := make([]uint8, n+tail)
	for i := range n {
		b[i] = uint8(rng.IntN(2))
	}
	return b
}

// vitCorr is the correlation metric sum (1-2c)*L that maximum likelihood maximises.
func vitCorr(coded []uint8, llr []float32) float64 {
	var s float64
	for i, c := range coded {
		s += (1 - 2*float64(c)) * float64(llr[i])
	}
	return s
}

// vitTestKernels lists the decoders to test: the portable Go kernels always and the
// assembly ones where this CPU has them.
func vitTestKernels() []struct {
	name    string
	generic bool
} {
	k := []struct {
		name    string
		generic bool
	}{{"go", true}}
	if vitSIMD != nil {
		k = append(k, struct {
			name    string
			generic bool
		}{"simd", false})
	}
	return k
}

func vitNew(maxBits int, generic bool) *Viterbi {
	v := NewViterbi(maxBits)
	v.generic = generic
	return v
}

func TestViterbiTrellis(t *testing.T) {
	rev7 := func(x uint) uint { return uint(bits.Reverse8(uint8(x)) >> 1) }
	if vitPolyA != rev7(0o133) || vitPolyB != rev7(0o171) {
		t.Fatalf("polynomials %#x %#x are not 133, 171 octal reversed", vitPolyA, vitPolyB)
	}
	for i := 0; i < 32; i++ {
		r := uint(2 * i)
		ca := bits.OnesCount(r&vitPolyA) & 1
		cb := bits.OnesCount(r&vitPolyB) & 1
		if got := int(vitButterflies>>(2*i)) & 3; got != 2*ca+cb {
			t.Errorf("butterfly %d: index %d, want %d", i, got, 2*ca+cb)
		}
		// The butterfly relies on both generators tapping the newest and oldest bits.
		for _, x := range []uint{r | 1, r | 64} {
			if bits.OnesCount(x&vitPolyA)&1 == ca || bits.OnesCount(x&vitPolyB)&1 == cb {
				t.Fatalf("butterfly %d: register %#x does not complement the outputs", i, x)
			}
		}
	}
	// The decoder's state order against the standard's encoder: decoding the noiseless
	// code of an impulse must return the impulse.
	in := []uint8{1, 0, 0, 0, 0, 0, 0}
	llr := make([]float32, 14)
	for i, c := range vitTestEncode(in) {
		llr[i] = 1 - 2*float32(c)
	}
	if got := NewViterbi(7).Decode(nil, llr, true); !slices.Equal(got, in) {
		t.Fatalf("impulse decodes to %v", got)
	}
}

// TestViterbiBruteForce compares the decoder with an exhaustive maximum-likelihood
// search over every input sequence of short blocks.
//
// With integer LLRs in [-vitFull, vitFull] that reach +-vitFull the quantiser is the
// identity, so the decoder must return an input sequence of exactly the maximum
// correlation, and the maximiser itself when it is unique. With real LLRs, rounding
// changes any correlation by at most n/2 quantisation steps (n LLRs, step
// max|L|/vitFull), so the result may trail the maximum by at most n steps and must be
// the maximiser whenever the runner-up trails by more.
func TestViterbiBruteForce(t *testing.T) {
	for _, kern := range vitTestKernels() {
		for _, terminated := range []bool{true, false} {
			for _, integer := range []bool{true, false} {
				name := fmt.Sprintf("%s/terminated=%v/integer=%v", kern.name, terminated, integer)
				t.Run(name, func(t *testing.T) {
					vitBruteForce(t, kern.generic, terminated, integer)
				})
			}
		}
	}
}

func vitBruteForce(t *testing.T, generic, terminated, integer bool) {
	rng := rand.New(rand.NewPCG(7, 11))
	v := vitNew(64, generic)
	sizes := []int{1, 2, 5, 8, 10, 12}
	trials := 0
	ties, nearTies := 0, 0
	for _, n := range sizes {
		tail := 0
		if terminated {
			tail = TailBits
		}
		// Every candidate input and its code, once per size.
		words := make([][]uint8, 1<<n)
		for w := range words {
			in := make([]uint8, n+tail)
			for k := range n {
				in[k] = uint8(w >> k & 1)
			}
			words[w] = vitTestEncode(in)
		}
		for trial := 0; trial < 60; trial++ {
			trials++
			sent := words[rng.IntN(len(words))]
			var llr []float32
			if integer {
				llr = make([]float32, len(sent))
				for i, c := range sent {
					// Weakly biased towards the sent bit, so that both clean and badly
					// corrupted blocks occur.
					x := rng.IntN(2*vitFull+1) - vitFull + (1-2*int(c))*rng.IntN(300)
					llr[i] = float32(min(max(x, -vitFull), vitFull))
				}
				llr[rng.IntN(len(llr))] = float32(vitFull * (1 - 2*rng.IntN(2)))
			} else {
				llr = vitTestBPSK(rng, sent, rng.Float64()*6-2, 0.5)
			}
			// Brute force: the best and runner-up correlations.
			best, second := math.Inf(-1), math.Inf(-1)
			bestW := -1
			for w, code := range words {
				c := vitCorr(code, llr)
				if c > best {
					best, second, bestW = c, best, w
				} else if c > second {
					second = c
				}
			}
			got := v.Decode(nil, llr, terminated)
			if len(got) != n+tail {
				t.Fatalf("n=%d: %d bits decoded, want %d", n, len(got), n+tail)
			}
			gotCode := vitTestEncode(got)
			gotCorr := vitCorr(gotCode, llr)
			var tol float64
			if !integer {
				var amax float64
				for _, x := range llr {
					amax = max(amax, math.Abs(float64(x)))
				}
				tol = float64(len(llr)) * amax / vitFull
				tol *= 1 + 1e-6 // float32 products and float64 sums
			}
			if terminated && !slices.Equal(got[n:], make([]uint8, tail)) {
				t.Fatalf("n=%d: tail decoded as %v", n, got[n:])
			}
			if gotCorr < best-tol-1e-9*math.Abs(best) {
				t.Fatalf("n=%d trial %d: correlation %v, maximum %v (tolerance %v)\nllr %v",
					n, trial, gotCorr, best, tol, llr)
			}
			if best-second <= tol+1e-9*math.Abs(best) {
				if integer {
					ties++
				} else {
					nearTies++
				}
				continue
			}
			want := words[bestW]
			if !slices.Equal(gotCode, want) {
				t.Fatalf("n=%d trial %d: decoded %v, maximum-likelihood input differs (corr %v vs %v)",
					n, trial, got, gotCorr, best)
			}
		}
	}
	t.Logf("%d blocks; %d exact ties and %d within rounding of a tie, where only the correlation is checked",
		trials, ties, nearTies)
}

// TestViterbiNoiseless decodes clean codewords of random data, at rate 1/2 and
// punctured to 2/3 and 3/4 (erasures in place of the stolen bits), terminated or not.
func TestViterbiNoiseless(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, kern := range vitTestKernels() {
		v := vitNew(16, kern.generic) // smaller than most blocks: Decode must grow
		for _, rate := range []CodeRate{Rate12, Rate23, Rate34} {
			for _, n := range []int{1, 6, 7, 17, 24, 100, 823, 8000} {
				for _, terminated := range []bool{true, false} {
					tail := 0
					if terminated {
						tail = TailBits
					}
					in := vitTestBits(rng, n, tail)
					llr := make([]float32, 2*len(in))
					for i, c := range vitTestEncode(in) {
						// Confidence varies, the sign is always right.
						llr[i] = (1 - 2*float32(c)) * (0.01 + rng.Float32())
					}
					vitTestPuncture(llr, rate)
					prefix := []uint8{9, 9}
					got := v.Decode(prefix, llr, terminated)
					if !slices.Equal(got[:2], []uint8{9, 9}) || len(got) != 2+len(in) {
						t.Fatalf("%s rate %v n=%d: Decode did not append %d bits", kern.name, rate, n, len(in))
					}
					got = got[2:]
					// Without termination the last bits of a punctured block have too
					// little redundancy after them to be determined.
					cmp := len(in)
					if !terminated && rate != Rate12 {
						cmp = max(0, len(in)-vitK)
					}
					if !slices.Equal(got[:cmp], in[:cmp]) {
						t.Fatalf("%s rate %v n=%d terminated=%v: %d bit errors", kern.name, rate, n,
							terminated, vitHamming(got[:cmp], in[:cmp]))
					}
				}
			}
		}
	}
}

// TestViterbiConvEncoder decodes the package's own encoder (ConvEncoder, punctured to
// every rate) through Depuncture: clean blocks must decode exactly, and noisy ones
// exactly as the same LLRs punctured by this file's reading of Figure 17-9.
func TestViterbiConvEncoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	for _, kern := range vitTestKernels() {
		v := vitNew(2000, kern.generic)
		for _, rate := range []CodeRate{Rate12, Rate23, Rate34} {
			enc, err := NewConvEncoder(rate)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{0, 1, 2, 5, 18, 1000, 1001} {
				in := vitTestBits(rng, n, TailBits)
				enc.Reset()
				sent := enc.Append(nil, in)
				for _, noisy := range []bool{false, true} {
					rx := make([]float32, len(sent))
					for i, c := range sent {
						rx[i] = 1 - 2*float32(c)
						if noisy {
							rx[i] += 0.8 * float32(rng.NormFloat64())
						}
					}
					llr := Depuncture(nil, rx, rate)
					got := v.Decode(nil, llr, true)
					if len(got) != len(in) {
						t.Fatalf("%s rate %v n=%d: %d bits decoded, want %d", kern.name, rate, n, len(got), len(in))
					}
					if !noisy {
						if !slices.Equal(got, in) {
							t.Fatalf("%s rate %v n=%d: %d bit errors on a clean block", kern.name, rate, n,
								vitHamming(got, in))
						}
						continue
					}
					// The same channel values at the mother code's positions, then
					// erased where this test's puncturing says.
					mother := make([]float32, 2*len(in))
					for i, j := 0, 0; i < len(mother) && j < len(rx); i++ {
						kept := true
						switch rate {
						case Rate23:
							kept = i%4 != 3
						case Rate34:
							kept = i%6 != 3 && i%6 != 4
						}
						if kept {
							mother[i] = rx[j]
							j++
						}
					}
					if want := v.Decode(nil, mother, true); !slices.Equal(got, want) {
						t.Fatalf("%s rate %v n=%d: Depuncture and Figure 17-9 disagree", kern.name, rate, n)
					}
				}
			}
		}
	}
}

func vitHamming(a, b []uint8) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// TestViterbiKernelsAgree checks that the assembly and Go kernels quantise alike and
// take the same decision at every step, on blocks of every small length (the SIMD
// loops have remainders) and with NaNs, infinities and denormals in the input.
func TestViterbiKernelsAgree(t *testing.T) {
	if vitSIMD == nil {
		t.Skip("no assembly kernel on this CPU")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	vg, vs := vitNew(0, true), vitNew(0, false)
	specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, 0}
	for trial := 0; trial < 400; trial++ {
		n := trial
		if trial >= 100 {
			n = rng.IntN(3000)
		}
		in := vitTestBits(rng, n, 0)
		llr := vitTestBPSK(rng, vitTestEncode(in), rng.Float64()*8-3, 0.5)
		if trial%3 == 0 && len(llr) > 0 {
			for range 1 + rng.IntN(4) {
				llr[rng.IntN(len(llr))] = specials[rng.IntN(len(specials))]
			}
		}
		if trial%7 == 0 && len(llr) > 0 { // tiny values only: the scale may overflow
			for i := range llr {
				llr[i] *= 1e-44
			}
		}
		terminated := trial%2 == 0
		a := vg.Decode(nil, llr, terminated)
		b := vs.Decode(nil, llr, terminated)
		if !slices.Equal(vg.q[:len(llr)], vs.q[:len(llr)]) {
			t.Fatalf("trial %d: quantised LLRs differ", trial)
		}
		if !slices.Equal(vg.dec[:n], vs.dec[:n]) {
			t.Fatalf("trial %d (n=%d): decisions differ", trial, n)
		}
		if !slices.Equal(a, b) {
			t.Fatalf("trial %d: decoded bits differ", trial)
		}
	}
}

// TestViterbiScale checks that the result does not depend on the LLRs' scale (powers
// of two keep the quantisation exact) and that NaN and infinite LLRs are handled.
func TestViterbiScale(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, kern := range vitTestKernels() {
		v := vitNew(1000, kern.generic)
		in := vitTestBits(rng, 500, TailBits)
		llr := vitTestBPSK(rng, vitTestEncode(in), 2, 0.5)
		ref := v.Decode(nil, llr, true)
		for _, k := range []float32{0x1p-60, 0x1p-20, 0x1p20, 0x1p60} {
			scaled := make([]float32, len(llr))
			for i := range llr {
				scaled[i] = llr[i] * k
			}
			if got := v.Decode(nil, scaled, true); !slices.Equal(got, ref) {
				t.Errorf("%s: scaling by %g changes the result", kern.name, k)
			}
		}
		// A NaN is an erasure; an infinity is the strongest possible LLR.
		clean := make([]float32, len(llr))
		for i, c := range vitTestEncode(in) {
			clean[i] = 1 - 2*float32(c)
		}
		clean[10] = float32(math.NaN())
		clean[11] = float32(math.Inf(1 - 2*int(vitTestEncode(in)[11])))
		if got := v.Decode(nil, clean, true); !slices.Equal(got, in) {
			t.Errorf("%s: NaN or infinite LLR broke a clean block", kern.name)
		}
		// All zero: no information; any result of the right length will do.
		if got := v.Decode(nil, make([]float32, 40), false); len(got) != 20 {
			t.Errorf("%s: %d bits from 40 erased LLRs", kern.name, len(got))
		}
		// An odd last LLR is an A whose B is erased.
		if got := v.Decode(nil, []float32{-1}, false); !slices.Equal(got, []uint8{1}) {
			t.Errorf("%s: LLR -1 alone decoded to %v", kern.name, got)
		}
	}
}

func TestViterbiAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	in := vitTestBits(rng, 8000, TailBits)
	llr := vitTestBPSK(rng, vitTestEncode(in), 4, 0.5)
	for _, kern := range vitTestKernels() {
		v := vitNew(len(in), kern.generic)
		dst := make([]uint8, 0, len(in))
		allocs := testing.AllocsPerRun(5, func() {
			dst = v.Decode(dst[:0], llr, true)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per Decode", kern.name, allocs)
		}
	}
}

// TestViterbiAnnexSignal decodes the SIGNAL symbol of the standard's worked example
// (802.11a-1999 Annex G): its BPSK subcarriers, deinterleaved (clause 17.3.5.7, for
// N_CBPS = 48 coded bit k sits on data subcarrier 3*(k%16) + k/16), carry the rate-1/2
// code of the 24 SIGNAL bits, tail included.
func TestViterbiAnnexSignal(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "testvectors", "ieee80211a-annex-g", "signal_freq.txt")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("test vectors not found: %v", err)
	}
	defer f.Close()
	var bins [FFTSize]float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		i, err1 := strconv.Atoi(fields[0])
		re, err2 := strconv.ParseFloat(fields[1], 64)
		if err1 != nil || err2 != nil || i < 0 || i >= FFTSize {
			t.Fatalf("bad line %q", sc.Text())
		}
		bins[i] = re
	}
	var slots []float64 // data subcarriers -26..26 in increasing order
	for k := -26; k <= 26; k++ {
		if k == 0 || k == 7 || k == -7 || k == 21 || k == -21 {
			continue
		}
		slots = append(slots, bins[(k+FFTSize)%FFTSize])
	}
	llr := make([]float32, 48)
	for k := range llr {
		// BPSK maps 0 to -1 and 1 to +1 (clause 17.3.5.8).
		llr[k] = float32(-slots[3*(k%16)+k/16])
	}
	want := []uint8{1, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	for _, kern := range vitTestKernels() {
		if got := vitNew(24, kern.generic).Decode(nil, llr, true); !slices.Equal(got, want) {
			t.Errorf("%s: SIGNAL decodes to %v, want %v", kern.name, got, want)
		}
	}
}

// vitSpectrum returns the information weights c_d (d = 0..dmax) of the code's error
// events: the number of input 1s summed over all paths that leave state 0 and first
// return to it with output weight d. It is the transfer-function expansion of Viterbi
// (1971), computed by dynamic programming over the trellis.
func vitSpectrum(dmax int) []float64 {
	type cell struct{ paths, info float64 }
	c := make([]float64, dmax+1)
	cur := make([][]cell, vitStates)
	for s := range cur {
		cur[s] = make([]cell, dmax+1)
	}
	// The first branch: input 1 from state 0.
	w0 := bits.OnesCount(1&vitPolyA) + bits.OnesCount(1&vitPolyB)
	cur[1][w0] = cell{1, 1}
	for live := true; live; {
		live = false
		nxt := make([][]cell, vitStates)
		for s := range nxt {
			nxt[s] = make([]cell, dmax+1)
		}
		for s := 1; s < vitStates; s++ {
			for d, e := range cur[s] {
				if e.paths == 0 {
					continue
				}
				for b := uint(0); b < 2; b++ {
					r := uint(s)<<1 | b
					nd := d + bits.OnesCount(r&vitPolyA)&1 + bits.OnesCount(r&vitPolyB)&1
					if nd > dmax {
						continue
					}
					ns := int(r & (vitStates - 1))
					ne := cell{e.paths, e.info + float64(b)*e.paths}
					if ns == 0 {
						c[nd] += ne.info
						continue
					}
					nxt[ns][nd].paths += ne.paths
					nxt[ns][nd].info += ne.info
					live = true
				}
			}
		}
		cur = nxt
	}
	return c
}

func vitQ(x float64) float64 { return 0.5 * math.Erfc(x/math.Sqrt2) }

// TestViterbiBER measures the bit error rate of BPSK over AWGN, 10^6 data bits per
// Eb/N0 in 1000-octet terminated blocks (the tail's 0.075% energy is not counted),
// against bounds from theory:
//
//   - The union bound for soft-decision maximum-likelihood decoding,
//     P_b <= sum_d c_d Q(sqrt(2 R d Eb/N0)) (A. J. Viterbi, "Convolutional codes and
//     their performance in communication systems", IEEE Trans. Commun. Technol. 19(5),
//     1971; Proakis, Digital Communications, chapter 8), summed to d = 40, with the
//     information weights c_d of this code computed by vitSpectrum and checked against
//     the values published for the (133, 171) code: 36, 211, 1404, 11633, 77433 for
//     d = 10, 12, .., 18. The test allows the bound plus 4 standard deviations of the
//     error count, counting errors in events of at most 10 bits. The bound is tight
//     at 4 and 5 dB and loose at 3 dB, where its terms fall slowly with d.
//   - A genie bound: told every other bit, the best decision on one bit still
//     confuses two codewords at the free distance 10, so P_b >= Q(sqrt(2 R 10 Eb/N0)).
//     It is logged, being too small to test with 10^6 bits.
//   - At 3 dB, where a few hundred errors are expected, the free-distance term
//     c_10 Q(sqrt(2 R 10 Eb/N0)), the usual high-SNR estimate, which lies below the
//     true BER at low SNR: the BER must exceed half of it.
func TestViterbiBER(t *testing.T) {
	spec := vitSpectrum(40)
	published := map[int]float64{10: 36, 12: 211, 14: 1404, 16: 11633, 18: 77433}
	for d := 0; d <= 19; d++ {
		if spec[d] != published[d] {
			t.Fatalf("c_%d = %v, published %v", d, spec[d], published[d])
		}
	}
	if testing.Short() {
		t.Skip("BER simulation skipped in short mode")
	}
	const (
		rate      = 0.5
		blockBits = 8000
		blocks    = 125 // 10^6 bits
		wmax      = 10  // bits per error event, for the deviation allowance
	)
	rng := rand.New(rand.NewPCG(2026, 4))
	v := NewViterbi(blockBits + TailBits)
	var got []uint8
	for _, ebn0 := range []float64{3, 4, 5} {
		e := math.Pow(10, ebn0/10)
		var union float64
		for d, cd := range spec {
			union += cd * vitQ(math.Sqrt(2*rate*float64(d)*e))
		}
		genie := vitQ(math.Sqrt(2 * rate * 10 * e))
		dfreeTerm := spec[10] * genie
		errs := 0
		for range blocks {
			in := vitTestBits(rng, blockBits, TailBits)
			llr := vitTestBPSK(rng, vitTestEncode(in), ebn0, rate)
			got = v.Decode(got[:0], llr, true)
			errs += vitHamming(got[:blockBits], in[:blockBits])
		}
		n := float64(blockBits * blocks)
		ber := float64(errs) / n
		upper := (union*n + 4*math.Sqrt(union*n*wmax)) / n
		t.Logf("Eb/N0 %.0f dB: BER %.3g (%d errors); union bound %.3g (allowed %.3g), c_10 term %.3g, genie bound %.3g",
			ebn0, ber, errs, union, upper, dfreeTerm, genie)
		if ber > upper {
			t.Errorf("Eb/N0 %.0f dB: BER %.3g above the union bound's allowance %.3g", ebn0, ber, upper)
		}
		if ebn0 == 3 && ber < dfreeTerm/2 {
			t.Errorf("Eb/N0 3 dB: BER %.3g below half the free-distance term %.3g", ber, dfreeTerm)
		}
	}
}

func FuzzViterbiDecode(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{1, 0, 0, 0x80, 0x3f, 0, 0, 0x80, 0xbf})
	f.Add([]byte{2, 0, 0, 0xc0, 0x7f, 0, 0, 0x80, 0x7f, 0, 0, 0x80, 0xff, 1, 0, 0, 0})
	seed := make([]byte, 1+4*48)
	for i := 1; i < len(seed); i += 4 {
		binary.LittleEndian.PutUint32(seed[i:], math.Float32bits(float32(i%7)-3))
	}
	f.Add(seed)
	vg, vs := vitNew(64, true), vitNew(64, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		terminated := data[0]&1 != 0
		llr := make([]float32, (len(data)-1)/4)
		for i := range llr {
			llr[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[1+4*i:]))
		}
		a := vg.Decode(nil, llr, terminated)
		if len(a) != (len(llr)+1)/2 {
			t.Fatalf("%d bits from %d LLRs", len(a), len(llr))
		}
		for _, b := range a {
			if b > 1 {
				t.Fatalf("bit value %d", b)
			}
		}
		if terminated && len(a) >= TailBits && !slices.Equal(a[len(a)-TailBits:], make([]uint8, TailBits)) {
			t.Fatalf("terminated block ends in %v", a[len(a)-TailBits:])
		}
		if vitSIMD != nil {
			if b := vs.Decode(nil, llr, terminated); !slices.Equal(a, b) {
				t.Fatalf("kernels disagree")
			}
		}
	})
}

// BenchmarkViterbi decodes one 1000-octet block (8000 data bits and the tail) at
// Eb/N0 4 dB, at rate 1/2 and punctured to 3/4, with the kernels this CPU selects and
// with the portable Go ones.
func BenchmarkViterbi(b *testing.B) {
	const dataBits = 8000
	rng := rand.New(rand.NewPCG(1, 1))
	in := vitTestBits(rng, dataBits, TailBits)
	coded := vitTestEncode(in)
	for _, kern := range []struct {
		name    string
		generic bool
	}{{"", false}, {"-go", true}} {
		if !kern.generic && vitSIMD == nil {
			continue
		}
		for _, rate := range []CodeRate{Rate12, Rate34} {
			r := map[CodeRate]float64{Rate12: 0.5, Rate34: 0.75}[rate]
			llr := vitTestBPSK(rng, coded, 4, r)
			vitTestPuncture(llr, rate)
			name := map[CodeRate]string{Rate12: "r1_2", Rate34: "r3_4"}[rate] + kern.name
			b.Run(name, func(b *testing.B) {
				v := vitNew(len(in), kern.generic)
				dst := make([]uint8, 0, len(in))
				b.ReportAllocs()
				for b.Loop() {
					dst = v.Decode(dst[:0], llr, true)
				}
				b.ReportMetric(float64(dataBits)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mbit/s")
			})
		}
	}
}
