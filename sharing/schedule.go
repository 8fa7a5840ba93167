package sharing

import (
	"fmt"
	"math/cmplx"
	"slices"

	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/semantic"
)

// Sharing frames use the m4sc header (phy.SemanticHeader) this way:
//
//   - Kind: phy.KindPublic for a public part, phy.KindSemantic for a private part or
//     an enhancement;
//   - Address: a group address (GroupBase + the group's number in the round) for a
//     public part, the user's address (UserAddress) otherwise;
//   - Task: the llm.Task in bits 0-4 (a public part's first member's; receivers read
//     their own), the bandwidth's index in semantic.Bandwidths in bits 5-6, and bit 7
//     set for an enhancement layer;
//   - Sequence: the part's slots (an image's cell mask, AllSlots for a whole text);
//   - Length: payload symbols, C copies of N vectors of K symbols placed by
//     semantic.Placement as C*N vectors (copy c of vector i is vector c*N+i), so
//     Length / (N*K) is the number of copies.
const enhancementBit = 1 << 7

// UserAddress is the address of user u (0-based) of a round.
func UserAddress(u int) uint16 { return uint16(u + 1) }

// Scheduled is one frame of a round as the schedule lists it. The schedule reaches
// the receivers with the round's group table, before the round (as each user's SNR
// reached the transmitter), so a receiver knows which frames are its own, what their
// slots are and when it has everything it waits for.
type Scheduled struct {
	Address uint16  `json:"address"`
	Layer   Layer   `json:"layer"`
	Members []int   `json:"members"`
	Slots   uint16  `json:"slots"`
	N       int     `json:"n"`
	K       int     `json:"k"`
	Copies  int     `json:"copies"` // of the N*K symbols
	SNRHint float64 `json:"snr_hint_db"`
	Symbols int     `json:"symbols"` // payload symbols, Copies*N*K
	Start   int     `json:"start"`   // the frame's first sample in Burst.Samples
}

// Burst is a round on the air.
type Burst struct {
	Samples     []complex64 // 20 Msps, frames each followed by semantic.FrameGapSamples of silence
	Schedule    []Scheduled // in the order sent
	DataSymbols int         // complex payload symbols of every frame
	AirtimeUS   float64     // frames' duration, preambles and headers included, gaps excluded
}

// Frames returns the schedule's frames that user u keeps: its own and its groups'.
func (b *Burst) Frames(u int) []Scheduled {
	var out []Scheduled
	for _, s := range b.Schedule {
		if slices.Contains(s.Members, u) {
			out = append(out, s)
		}
	}
	return out
}

// Transmit codes a plan's parts with the codec and frames them: public parts first,
// those with the most members first (every member can start decoding from them), then
// each user's private part and enhancement in user order, so user u has all it
// waits for once its own frames have passed. Each part is coded at its SNRHint: a
// public part at its weakest member's SNR. A part's copies (Part.Copies) go in its
// one frame (see spreadCopies).
func Transmit(c *semantic.Codec, p *Plan) (*Burst, error) {
	order := make([]int, len(p.Parts))
	for i := range order {
		order[i] = i
	}
	rank := func(pt *Part) int {
		if pt.Layer == LayerPublic {
			return -len(pt.Members)
		}
		return pt.Members[0] + 1
	}
	slices.SortStableFunc(order, func(a, b int) int { return rank(&p.Parts[a]) - rank(&p.Parts[b]) })
	tx, err := phy.NewTransmitter(phy.TransmitterConfig{})
	if err != nil {
		return nil, err
	}
	b := &Burst{}
	groups := 0
	for _, i := range order {
		pt := &p.Parts[i]
		sym, err := c.Encode(nil, pt.Vectors, pt.N, pt.K, pt.Image, pt.SNRHint)
		if err != nil {
			return nil, fmt.Errorf("sharing: %s part of users %v: %w", pt.Layer, pt.Members, err)
		}
		copies := max(1, pt.Copies)
		pl := semantic.NewPlacement(pt.N*copies, pt.K)
		if pl.Len() > semantic.FrameSymbols {
			return nil, fmt.Errorf("sharing: %s part of %d symbols exceeds a frame's %d", pt.Layer, pl.Len(), semantic.FrameSymbols)
		}
		payload := make([]complex64, pl.Len())
		pl.Scatter(payload, spreadCopies(nil, sym, pt.N, pt.K, copies))
		h := phy.SemanticHeader{Version: phy.SemanticVersion, Kind: phy.KindSemantic, Task: taskCode(pt.Task, pt.K, pt.Layer),
			Sequence: pt.Slots, Length: uint16(len(payload)), Scheme: phy.SchemeAnalog}
		if pt.Layer == LayerPublic {
			h.Kind, h.Address = phy.KindPublic, uint16(GroupBase+groups)
			groups++
		} else {
			h.Address = UserAddress(pt.Members[0])
		}
		start := len(b.Samples)
		if b.Samples, err = tx.Semantic(b.Samples, h, payload); err != nil {
			return nil, err
		}
		b.AirtimeUS += float64(len(b.Samples)-start) / phy.SampleRate * 1e6
		b.Samples = append(b.Samples, make([]complex64, semantic.FrameGapSamples)...)
		b.DataSymbols += len(payload)
		b.Schedule = append(b.Schedule, Scheduled{Address: h.Address, Layer: pt.Layer, Members: pt.Members, Slots: pt.Slots,
			N: pt.N, K: pt.K, Copies: copies, SNRHint: pt.SNRHint, Symbols: len(payload), Start: start})
	}
	return b, nil
}

func taskCode(t llm.Task, k int, l Layer) uint8 {
	c := uint8(t) | uint8(slices.Index(semantic.Bandwidths[:], k))<<5
	if l == LayerEnhancement {
		c |= enhancementBit
	}
	return c
}

// spreadCopies appends r copies of sym, n vectors of k symbols (vector-major), to dst:
// copy c of vector i at [(c*n+i)*k, (c*n+i+1)*k). Copy c is rotated by c*k/r symbols
// (its symbol j is symbol (j+c*k/r) mod k of the vector), so that, placed as c*n+i by
// semantic.Placement (a vector's symbols about 48/k subcarriers apart), each symbol's
// copies land about 48/r subcarriers apart rather than side by side: a fade of a few
// neighbouring subcarriers takes at most one copy of a symbol.
func spreadCopies(dst, sym []complex64, n, k, r int) []complex64 {
	for c := range r {
		rot := c * k / r
		for i := range n {
			v := sym[i*k : (i+1)*k]
			for j := range k {
				dst = append(dst, v[(j+rot)%k])
			}
		}
	}
	return dst
}

// combineCopies undoes spreadCopies at the receiver by maximal-ratio combining
// (Brennan 1959): rx and rxSNR hold the r copies' equalised symbols and linear SNRs
// in spreadCopies' order; symbol q of vector i becomes the SNR-weighted mean of its
// copies, sum(rho_c y_c) / sum(rho_c), in sym [n*k], and its SNR the sum of theirs in
// snr [n*k]. Each equalised copy is the symbol plus noise of variance 1/rho_c, so the
// mean has variance 1/sum(rho_c): r copies at one SNR gain 10 log10(r) dB. A copy
// that was lost (SNR 0, or not a number) counts for nothing.
func combineCopies(sym []complex64, snr []float32, rx []complex64, rxSNR []float32, n, k, r int) {
	clear(snr)
	acc := make([]complex128, n*k)
	for c := range r {
		rot := c * k / r
		for i := range n {
			for j := range k {
				at := (c*n+i)*k + j
				y, rho := rx[at], rxSNR[at]
				if !(rho > 0) || cmplx.IsNaN(complex128(y)) || cmplx.IsInf(complex128(y)) {
					continue
				}
				q := i*k + (j+rot)%k
				acc[q] += complex(float64(rho), 0) * complex128(y)
				snr[q] += rho
			}
		}
	}
	for q, a := range acc {
		sym[q] = 0
		if snr[q] > 0 {
			sym[q] = complex64(a / complex(float64(snr[q]), 0))
		}
	}
}
