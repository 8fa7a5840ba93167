package sharing

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"sync"

	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/semantic"
)

// Result is what one user's receiver made of a round.
type Result struct {
	User    int     `json:"user"`
	Address uint16  `json:"address"`
	Task    string  `json:"task"`
	Frames  int     `json:"frames"`      // frames scheduled for the user (its groups' and its own)
	Lost    int     `json:"frames_lost"` // of those, not received
	SNR     float64 `json:"snr_db"`      // mean over the frames received
	// Partial says what was missing: the output is the decoder's best from what
	// arrived (a lost public or private part's vectors are decoded from no symbols,
	// the codec's prior; a lost enhancement falls back to the public base layer).
	Partial string `json:"partial,omitempty"`
	Text    string `json:"text,omitempty"`
	// Used lists the addresses of the frames the receiver decoded: its own and its
	// groups', never another user's.
	Used  []uint16  `json:"-"`
	Image []float32 `json:"-"` // image.reconstruct's output, HWC in [0, 1]
}

// Receive decodes user u's semantics from the frames phy's receiver found in its
// samples, given the round's schedule, and runs the user's task (ins) with the
// model. Frames addressed to anyone else, and frames that do not match what the
// schedule announced for this address, are skipped. A frame's copies are combined
// (combineCopies) before the codec decodes them. Each image cell takes, in order
// of preference, the enhancement layer, then the public or private part that carries
// it; cells whose every frame was lost are decoded from no symbols and named in
// Partial. A text whose frame was lost gives no text, and says so.
func Receive(ch *semantic.Chain, frames []phy.Frame, schedule []Scheduled, u int, ins llm.Instruction) (Result, error) {
	mine := (&Burst{Schedule: schedule}).Frames(u)
	r := Result{User: u, Address: UserAddress(u), Task: ins.Task.String(), Frames: len(mine)}
	if len(mine) == 0 {
		return r, fmt.Errorf("sharing: user %d has no frames in the schedule", u)
	}
	dim := ch.Model.Config().SemDim
	image := ins.Task.Image()
	for _, s := range mine {
		// A schedule read back from a recording (Replay) may be anything.
		if image && bits.OnesCount16(s.Slots) != s.N {
			return r, fmt.Errorf("sharing: user %d's frame to %#04x: %d vectors for %d cells", u, s.Address, s.N, bits.OnesCount16(s.Slots))
		}
	}
	got := make([]*phy.Frame, len(mine))
	for i := range frames {
		f := &frames[i]
		if f.Err != nil || f.Kind == phy.KindLegacy {
			continue
		}
		for j, s := range mine {
			wantKind := phy.KindSemantic
			if s.Layer == LayerPublic {
				wantKind = phy.KindPublic
			}
			if got[j] == nil && f.Kind == wantKind && f.Header.Address == s.Address && f.Header.Sequence == s.Slots &&
				f.Header.Task&enhancementBit != 0 == (s.Layer == LayerEnhancement) && len(f.Symbols) == s.N*s.K*max(1, s.Copies) {
				got[j] = f
				break
			}
		}
	}
	slots := 1
	if image {
		slots = llm.ImageSlots
	}
	vecs := make([][]float32, slots) // per slot, the vectors chosen
	rank := make([]int, slots)       // 0 none, 1 from no symbols, 2 base or private, 3 enhancement
	var lostWhat []string
	var snr float64
	for j, s := range mine {
		f := got[j]
		pr := 2
		if s.Layer == LayerEnhancement {
			pr = 3
		}
		sym, psnr := make([]complex64, s.N*s.K), make([]float32, s.N*s.K)
		if f == nil {
			r.Lost++
			lostWhat = append(lostWhat, describe(s, image))
			if s.Layer == LayerEnhancement {
				continue // the base layer stands in
			}
			if !image {
				continue // a text without its tokens: nothing to decode
			}
			pr = 1
		} else {
			r.Used = append(r.Used, f.Header.Address)
			snr += f.SNR
			payload, ps := f.Symbols, make([]float32, len(f.Symbols))
			for i := range ps {
				ps[i] = f.SubcarrierSNR[i%phy.DataCarriers]
			}
			copies := max(1, s.Copies)
			rx, rxSNR := make([]complex64, len(payload)), make([]float32, len(payload))
			semantic.NewPlacement(s.N*copies, s.K).Gather(rx, rxSNR, payload, ps)
			combineCopies(sym, psnr, rx, rxSNR, s.N, s.K, copies)
		}
		v, err := ch.Codec.Decode(nil, sym, psnr, s.N, s.K, image)
		if err != nil {
			return r, err
		}
		i := 0
		for slot := range slots {
			if !image || s.Slots&(1<<slot) != 0 {
				n := dim
				if !image {
					n = len(v)
				}
				if pr > rank[slot] {
					vecs[slot], rank[slot] = v[i:i+n], pr
				}
				i += n
			}
		}
	}
	if n := r.Frames - r.Lost; n > 0 {
		r.SNR = snr / float64(n)
	}
	if r.Lost > 0 {
		r.Partial = fmt.Sprintf("%d of %d frames lost (%s); decoded from the rest", r.Lost, r.Frames, strings.Join(lostWhat, ", "))
	}
	var sem llm.Semantics
	for slot := range slots {
		if vecs[slot] == nil {
			r.Partial = fmt.Sprintf("%d of %d frames lost (%s); nothing to decode", r.Lost, r.Frames, strings.Join(lostWhat, ", "))
			return r, nil
		}
		sem.Vectors = append(sem.Vectors, vecs[slot]...)
	}
	sem = llm.Semantics{Task: ins.Task, N: len(sem.Vectors) / dim, Dim: dim, Vectors: sem.Vectors}
	out, err := ch.Model.Decode(sem, ins, llm.DecodeOptions{})
	if err != nil {
		return r, err
	}
	r.Text, r.Image = out.Text, out.Image
	return r, nil
}

func describe(s Scheduled, image bool) string {
	what := s.Layer.String()
	if image {
		return fmt.Sprintf("%s, %d cells", what, bits.OnesCount16(s.Slots))
	}
	return what
}

// AirMargin is the number of samples each receiver reads beyond a burst's length, for
// the receiver's start offset and the channel's delay.
const AirMargin = 4000

// OverAir sends samples on tx while every device of rxs receives, and returns the
// frames phy's receiver finds in each receiver's samples (len(samples)+AirMargin of
// them). The receive streams start before the transmission and are read after it,
// one goroutine each; on loopback devices of one air each hears the transmitter through
// its own channel.
func OverAir(ctx context.Context, tx radio.Device, rxs []radio.Device, samples []complex64) ([][]phy.Frame, error) {
	frames, _, err := overAir(ctx, tx, rxs, samples, nil)
	return frames, err
}

// overAir is OverAir showing every receiver's samples to w (when not nil) as they
// are read, and the frames each found; it returns each receiver's samples too.
func overAir(ctx context.Context, tx radio.Device, rxs []radio.Device, samples []complex64, w Watcher) ([][]phy.Frame, [][]complex64, error) {
	if tx == nil || len(rxs) == 0 {
		return nil, nil, errors.New("sharing: over the air needs a transmitter and at least one receiver")
	}
	for _, d := range append([]radio.Device{tx}, rxs...) {
		if c := d.Config(); c.SampleRate != phy.SampleRate {
			return nil, nil, fmt.Errorf("sharing: %s runs at %g samples/s; m4sc frames need %g", d.Info().Spec, c.SampleRate, phy.SampleRate)
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	streams := make([]radio.RXStream, len(rxs))
	for i, d := range rxs {
		s, err := d.StartRX(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("sharing: receiver %d: %w", i, err)
		}
		defer s.Close()
		streams[i] = s
	}
	// The burst goes out whole before the receivers read: a loopback receiver that
	// waits longer than its air's UnderrunTimeout for samples hears silence instead,
	// which a loaded machine's scheduler can cause. Radios buffer far more than a
	// round's few milliseconds of samples.
	ts, err := tx.StartTX(ctx)
	if err == nil {
		if _, err = ts.Write(samples); err != nil {
			ts.Close()
		} else {
			err = ts.Close()
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sharing: transmit: %w", err)
	}
	out := make([][]phy.Frame, len(rxs))
	ys := make([][]complex64, len(rxs))
	errs := make([]error, len(rxs))
	var wg sync.WaitGroup
	for i, s := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ys[i], errs[i] = capture(s, len(samples)+AirMargin, w)
			if errs[i] != nil {
				cancel(errs[i])
				return
			}
			out[i], errs[i] = findFrames(ys[i])
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if e != nil {
			return nil, nil, fmt.Errorf("sharing: receiver %d: %w", i, e)
		}
	}
	if w != nil {
		for _, f := range out {
			w.Frames(f)
		}
	}
	return out, ys, nil
}

// capture reads n samples from s, showing each buffer to w (when not nil).
func capture(s radio.RXStream, n int, w Watcher) ([]complex64, error) {
	y := make([]complex64, n)
	for got := 0; got < n; {
		m, _, err := s.Read(y[got:min(n, got+1<<14)])
		if w != nil {
			w.Samples(y[got : got+m])
		}
		got += m
		if err != nil {
			return y[:got], err
		}
	}
	return y, nil
}

// findFrames runs a fresh phy receiver over one capture, all of it at once, so that
// a capture read back from a recording (Replay) gives the same frames bit for bit.
func findFrames(y []complex64) ([]phy.Frame, error) {
	rcv, err := phy.NewReceiver(phy.ReceiverConfig{})
	if err != nil {
		return nil, err
	}
	return rcv.Flush(rcv.Receive(nil, y)), nil
}
