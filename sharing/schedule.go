package sharing

import (
	"fmt"
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
//   - Length: payload symbols, N vectors of K symbols placed by semantic.Placement.
const enhancementBit = 1 << 7

// UserAddress is the address of user u (0-based) of a round.
func UserAddress(u int) uint16 { return uint16(u + 1) }

// Scheduled is one frame of a round as the schedule lists it. The schedule reaches
// the receivers with the round's group table, before the round (as each user's SNR
// reached the transmitter), so a receiver knows which frames are its own, what their
// slots are and when it has everything it waits for.
type Scheduled struct {
	Address uint16
	Layer   Layer
	Members []int
	Slots   uint16
	N, K    int
	SNRHint float64
	Symbols int // payload symbols
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
// public part at its weakest member's SNR.
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
		pl := semantic.NewPlacement(pt.N, pt.K)
		if pl.Len() > semantic.FrameSymbols {
			return nil, fmt.Errorf("sharing: %s part of %d symbols exceeds a frame's %d", pt.Layer, pl.Len(), semantic.FrameSymbols)
		}
		payload := make([]complex64, pl.Len())
		pl.Scatter(payload, sym)
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
			N: pt.N, K: pt.K, SNRHint: pt.SNRHint, Symbols: len(payload)})
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
