package sharing

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/semantic"
)

// randomSymbols returns n*k complex symbols of unit mean power.
func randomSymbols(rng *rand.Rand, n, k int) []complex64 {
	s := make([]complex64, n*k)
	for i := range s {
		s[i] = complex(float32(rng.NormFloat64()/math.Sqrt2), float32(rng.NormFloat64()/math.Sqrt2))
	}
	return s
}

// combineCopies against the definition of maximal-ratio combining, computed the slow
// way: for every symbol, find each of its copies by searching spreadCopies' output,
// and take the SNR-weighted mean. Copies with SNR 0 or a NaN symbol count for nothing.
func TestCombineCopies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ n, k, r int }{{1, 4, 1}, {16, 16, 1}, {16, 16, 2}, {16, 16, 3}, {16, 16, 4}, {7, 8, 2}, {20, 4, 4}} {
		sym := randomSymbols(rng, c.n, c.k)
		tx := spreadCopies(nil, sym, c.n, c.k, c.r)
		if len(tx) != c.r*c.n*c.k {
			t.Fatalf("%+v: %d symbols spread, want %d", c, len(tx), c.r*c.n*c.k)
		}
		// Noiseless: the copies give the symbols back.
		rxSNR := make([]float32, len(tx))
		for i := range rxSNR {
			rxSNR[i] = float32(rng.ExpFloat64() * 10)
		}
		got, snr := make([]complex64, len(sym)), make([]float32, len(sym))
		combineCopies(got, snr, tx, rxSNR, c.n, c.k, c.r)
		for q := range sym {
			if cmplx.Abs(complex128(got[q]-sym[q])) > 1e-5 {
				t.Fatalf("%+v: symbol %d comes back as %v, sent %v", c, q, got[q], sym[q])
			}
		}
		// Noisy, some copies lost: against the slow combination.
		rx := make([]complex64, len(tx))
		for i := range rx {
			rx[i] = tx[i] + complex(float32(rng.NormFloat64()), float32(rng.NormFloat64()))
			switch rng.IntN(8) {
			case 0:
				rxSNR[i] = 0
			case 1:
				rx[i] = complex(float32(math.NaN()), 0)
			}
		}
		combineCopies(got, snr, rx, rxSNR, c.n, c.k, c.r)
		for q, s := range sym {
			var num complex128
			var den float64
			for at, x := range tx {
				// A copy of symbol q of vector q/k: the same value at a position of that
				// vector's copies (the symbols are distinct with probability 1).
				if x == s && (at/c.k)%c.n == q/c.k && rxSNR[at] > 0 && !cmplx.IsNaN(complex128(rx[at])) {
					num += complex(float64(rxSNR[at]), 0) * complex128(rx[at])
					den += float64(rxSNR[at])
				}
			}
			want := complex64(0)
			if den > 0 {
				want = complex64(num / complex(den, 0))
			}
			if cmplx.Abs(complex128(got[q]-want)) > 1e-4 || math.Abs(float64(snr[q])-den) > 1e-3*den {
				t.Fatalf("%+v: symbol %d combined to %v (SNR %v), want %v (SNR %v)", c, q, got[q], snr[q], want, den)
			}
		}
	}
}

// Maximal-ratio combining of r copies at SNR rho leaves noise of variance 1/(r rho):
// the measured error power of 4096 combined symbols against that, within 10% (the
// estimate of a complex Gaussian's variance from N samples has a relative standard
// deviation of 1/sqrt(N), 1.6%; 10% is six of those).
func TestCombiningGain(t *testing.T) {
	const n, k = 256, 16
	rng := rand.New(rand.NewPCG(3, 4))
	for _, r := range []int{1, 2, 4} {
		for _, db := range []float64{0, 10} {
			rho := math.Pow(10, db/10)
			sym := randomSymbols(rng, n, k)
			tx := spreadCopies(nil, sym, n, k, r)
			rx, rxSNR := make([]complex64, len(tx)), make([]float32, len(tx))
			sd := math.Sqrt(1 / rho / 2)
			for i := range tx {
				rx[i] = tx[i] + complex(float32(sd*rng.NormFloat64()), float32(sd*rng.NormFloat64()))
				rxSNR[i] = float32(rho)
			}
			got, snr := make([]complex64, len(sym)), make([]float32, len(sym))
			combineCopies(got, snr, rx, rxSNR, n, k, r)
			var e float64
			for q := range sym {
				d := complex128(got[q] - sym[q])
				e += real(d)*real(d) + imag(d)*imag(d)
			}
			e /= float64(len(sym))
			want := 1 / (float64(r) * rho)
			if math.Abs(e/want-1) > 0.1 {
				t.Errorf("%d copies at %v dB: error power %.4g, want %.4g", r, db, e, want)
			}
			if math.Abs(float64(snr[0])/(float64(r)*rho)-1) > 1e-5 {
				t.Errorf("%d copies at %v dB: combined SNR %v, want %v", r, db, snr[0], float64(r)*rho)
			}
		}
	}
}

// The copies of a symbol sit on subcarriers far apart: a fade that wipes out any 20
// adjacent data subcarriers of a public frame in 2 copies leaves every symbol one
// copy (side by side, as plain repetition would place them, a fade of 2 could take
// both).
func TestCopiesSurviveFade(t *testing.T) {
	const n, k, r, width = 16, 16, 2, 20
	rng := rand.New(rand.NewPCG(5, 6))
	sym := randomSymbols(rng, n, k)
	pl := semantic.NewPlacement(n*r, k)
	payload := make([]complex64, pl.Len())
	pl.Scatter(payload, spreadCopies(nil, sym, n, k, r))
	for lo := 0; lo+width <= 48; lo++ {
		ps := make([]float32, len(payload))
		for p := range ps {
			if sc := p % 48; sc < lo || sc >= lo+width {
				ps[p] = 100
			}
		}
		rx, rxSNR := make([]complex64, len(payload)), make([]float32, len(payload))
		pl.Gather(rx, rxSNR, payload, ps)
		got, snr := make([]complex64, len(sym)), make([]float32, len(sym))
		combineCopies(got, snr, rx, rxSNR, n, k, r)
		for q := range sym {
			if snr[q] == 0 || got[q] != sym[q] {
				t.Fatalf("fade of subcarriers %d-%d: symbol %d lost both copies", lo, lo+width-1, q)
			}
		}
	}
}

// How many copies Split gives a public part: one per DefaultCopyUsers members, at
// least one, at most MaxCopies, no more than fit a frame, one when CopyUsers is
// negative; private and enhancement parts go once. A burst carries them in the
// part's one frame, and every member decodes it.
func TestSplitCopies(t *testing.T) {
	ch := shippedChain(t)
	for _, c := range []struct {
		users, copyUsers, want int
	}{
		{2, 0, 1}, {4, 0, 1}, {8, 0, 2}, {12, 0, 3}, {16, 0, 4}, {32, 0, MaxCopies}, {8, 2, 4}, {8, -1, 1},
	} {
		users, _ := sceneUsers(t, ch, 7, c.users, 1)
		p, err := Split(users, Options{CopyUsers: c.copyUsers})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Parts) != 1 || p.Parts[0].Copies != c.want {
			t.Errorf("%d users, CopyUsers %d: parts %s, copies %d, want %d", c.users, c.copyUsers, describeParts(p), p.Parts[0].Copies, c.want)
		}
	}
	// A text of 100 tokens at 16 symbols: 1600 symbols, one copy fits a frame of 2304.
	long := make([]float32, 100*llm.DefaultSemDim)
	var us []User
	for range 8 {
		us = append(us, User{Task: llm.TextTransmit, SNR: 5, Sem: llm.Semantics{Task: llm.TextTransmit, N: 100, Dim: llm.DefaultSemDim, Vectors: long}})
	}
	p, err := Split(us, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Parts) != 1 || p.Parts[0].Copies != 1 {
		t.Errorf("long text: parts %s, copies %d", describeParts(p), p.Parts[0].Copies)
	}

	users, _ := sceneUsers(t, ch, 7, 8, 1)
	_, b := splitAndSend(t, ch, users)
	if len(b.Schedule) != 1 || b.Schedule[0].Copies != 2 || b.Schedule[0].Symbols != 2*llm.ImageSlots*16 {
		t.Fatalf("schedule %+v", b.Schedule)
	}
	frames := cleanFrames(t, b.Samples)
	for u := range users {
		r, err := Receive(ch, frames, b.Schedule, u, llm.Instruction{Task: users[u].Task, Question: users[u].Question})
		if err != nil {
			t.Fatal(err)
		}
		if r.Lost != 0 || r.Text == "" && r.Image == nil {
			t.Errorf("user %d: lost %d, text %q", u, r.Lost, r.Text)
		}
	}
}

// A public part gets only the copies its saving pays for: eight users share n of
// their 16 cells (the rest their own), so the part saves (8-c) n 16 symbols with c
// copies and must cover a frame's overhead (624 data symbols). At n = 6 one copy pays
// (672 > 624) and two do not (576); at n = 7 two do (672).
func TestSplitCopiesPaid(t *testing.T) {
	if oh, err := frameOverhead(); err != nil || oh != 624 {
		t.Fatalf("frame overhead %d symbols (%v); the cases below assume 624", oh, err)
	}
	rng := rand.New(rand.NewPCG(8, 9))
	vec := func() []float32 {
		v := make([]float32, llm.DefaultSemDim)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	for _, c := range []struct{ cells, copies int }{{5, 0}, {6, 1}, {7, 2}, {16, 2}} {
		common := make([][]float32, c.cells)
		for i := range common {
			common[i] = vec()
		}
		users := make([]User, 8)
		for u := range users {
			var vs []float32
			for cell := range llm.ImageSlots {
				if cell < c.cells {
					vs = append(vs, common[cell]...)
				} else {
					vs = append(vs, vec()...)
				}
			}
			users[u] = User{Task: llm.ImageCaption, SNR: 5, Sem: llm.Semantics{Task: llm.ImageCaption, N: llm.ImageSlots, Dim: llm.DefaultSemDim, Vectors: vs}}
		}
		p, err := Split(users, Options{})
		if err != nil {
			t.Fatal(err)
		}
		copies := 0
		for _, pt := range p.Parts {
			if pt.Layer == LayerPublic {
				copies = pt.Copies
			}
		}
		if publicParts(p) > 1 || copies != c.copies {
			t.Errorf("%d cells in common: parts %s, copies %d, want %d", c.cells, describeParts(p), copies, c.copies)
		}
	}
}
