// Package per measures the packet error rate of package phy's 802.11a receiver over
// radio devices: frames of random PSDUs sent by one radio.Device, received by another,
// found and decoded from the samples alone, and scored against what was sent. `m4sc
// phy per` prints its tables; phy/RESULTS.md holds them.
//
// Entry point: Run, configured by Config, returning a Result.
//
// What it is not: no channel model of its own (the loopback simulator in
// radio/loopback is the channel), and no part of package phy, which stays free of
// radio devices.
package per

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/burst"
)

// Defaults of Config.
const (
	DefaultGap = 400 // idle samples between frames
	// DefaultLead is how many samples the receiver reads beyond the frames: room for a
	// device's random start offset, above the loopback hackrf preset's 20000.
	DefaultLead = 25000
)

// Config describes a packet-error-rate run: Frames frames of PSDULen octets at Rate,
// sent by one device and received by another, with Gap idle samples between frames.
type Config struct {
	Rate    phy.Rate
	PSDULen int // octets including the 4-octet FCS, 8..phy.MaxPSDULength
	Frames  int // at least 1000 for a figure worth quoting
	Gap     int // idle samples between frames; DefaultGap
	Seed    uint64
	// Lead is how many samples the receiver may see before the first frame arrives
	// (a device's random start offset); the receiver reads this much extra.
	// DefaultLead.
	Lead int
	// PerFrame, when not nil, opens a new receiving device for every frame (frame
	// numbers from 0), so that each frame meets its own channel realisation: the
	// convention for PER over fading channels, where one long run would see only the
	// few realisations its duration spans. The rx argument of Run is then unused.
	PerFrame func(frame int) (radio.Device, error)
}

// Result counts what happened to the frames of a run.
type Result struct {
	Sent     int
	Detected int     // frames the receiver reported, decoded or not
	OK       int     // frames decoded with a correct FCS and the PSDU that was sent
	False    int     // frames reported that match nothing sent
	PER      float64 // 1 - OK/Sent
	SNR      float64 // mean of the receiver's SNR estimates, dB
	EVM      float64 // mean EVM of decoded frames, dB; NaN when none decoded
}

// Run transmits the frames on tx while rx receives them (through burst.Run), and
// scores the receiver's output against what was sent. Each PSDU starts with its frame
// number, so frames are matched by content, not by order. progress, if not nil, is
// called with the number of frames scored so far.
func Run(ctx context.Context, tx, rx radio.Device, cfg Config, progress func(int)) (Result, error) {
	if cfg.PSDULen < 8 || cfg.PSDULen > phy.MaxPSDULength {
		return Result{}, fmt.Errorf("per: PSDU length %d outside 8..%d", cfg.PSDULen, phy.MaxPSDULength)
	}
	if cfg.Frames < 1 {
		return Result{}, fmt.Errorf("per: %d frames", cfg.Frames)
	}
	if cfg.Gap == 0 {
		cfg.Gap = DefaultGap
	}
	if cfg.Lead == 0 {
		cfg.Lead = DefaultLead
	}
	if cfg.Gap < 0 || cfg.Lead < 0 {
		return Result{}, fmt.Errorf("per: gap %d and lead %d must not be negative", cfg.Gap, cfg.Lead)
	}
	t, err := phy.NewTransmitter(phy.TransmitterConfig{})
	if err != nil {
		return Result{}, err
	}
	rcv, err := phy.NewReceiver(phy.ReceiverConfig{})
	if err != nil {
		return Result{}, err
	}
	s := &scorer{cfg: cfg, res: Result{Sent: cfg.Frames}, seen: make([]bool, cfg.Frames)}
	gap := make([]complex64, cfg.Gap)
	frame := func(dst []complex64, i int) []complex64 {
		dst = t.Packet(dst, s.payload(i), cfg.Rate, uint8(1+i%127))
		return append(dst, gap...)
	}
	perFrame := t.PacketLen(cfg.PSDULen, cfg.Rate) + cfg.Gap
	var frames []phy.Frame
	if cfg.PerFrame != nil {
		var x []complex64
		for i := 0; i < cfg.Frames; i++ {
			rx, err := cfg.PerFrame(i)
			if err != nil {
				return s.res, err
			}
			x = frame(x[:0], i)
			got, err := burst.Capture(ctx, tx, rx, burst.Samples(x), perFrame+cfg.Lead, burst.Config{})
			rx.Close()
			if err != nil {
				return s.res, fmt.Errorf("per: frame %d: %w", i, err)
			}
			frames = rcv.Receive(frames[:0], got.Samples)
			s.score(rcv.Flush(frames), i)
			if progress != nil {
				progress(i + 1)
			}
		}
		return s.result(), nil
	}
	i := 0
	src := burst.Func(func(dst []complex64) []complex64 {
		if i == cfg.Frames {
			return dst
		}
		dst = frame(dst, i)
		i++
		return dst
	})
	total := int64(perFrame)*int64(cfg.Frames) + int64(cfg.Lead)
	_, err = burst.Run(ctx, tx, rx, src, total, burst.Config{}, func(y []complex64, _ radio.RXMeta) error {
		frames = rcv.Receive(frames[:0], y)
		s.score(frames, -1)
		if progress != nil && len(frames) > 0 {
			progress(s.res.Detected)
		}
		return nil
	})
	if err != nil {
		return s.res, fmt.Errorf("per: %w", err)
	}
	s.score(rcv.Flush(frames[:0]), -1)
	return s.result(), nil
}

// scorer matches received frames with the frames sent.
type scorer struct {
	cfg            Config
	res            Result
	seen           []bool
	snrSum, evmSum float64
}

// payload is frame i's PSDU: its number, random octets and the FCS.
func (s *scorer) payload(i int) []byte {
	rng := rand.New(rand.NewPCG(s.cfg.Seed, uint64(i)))
	p := make([]byte, s.cfg.PSDULen-phy.FCSLen)
	binary.LittleEndian.PutUint32(p, uint32(i))
	for j := 4; j < len(p); j++ {
		p[j] = byte(rng.Uint32())
	}
	return phy.AppendFCS(p)
}

// score counts fs; only frame sent may match when it is not negative (one frame per
// receiving device), else any frame not yet seen.
func (s *scorer) score(fs []phy.Frame, sent int) {
	for _, f := range fs {
		s.res.Detected++
		s.snrSum += f.SNR
		if f.Err != nil || !f.FCSOK || len(f.PSDU) < 4 {
			continue
		}
		i := int(binary.LittleEndian.Uint32(f.PSDU))
		if sent >= 0 && i != sent || i < 0 || i >= s.cfg.Frames || s.seen[i] || f.Length != s.cfg.PSDULen || string(f.PSDU) != string(s.payload(i)) {
			// A frame whose FCS holds but which is not one sent (or not one expected
			// now) is a false one.
			s.res.False++
			continue
		}
		s.seen[i] = true
		s.res.OK++
		s.evmSum += f.EVM
	}
}

func (s *scorer) result() Result {
	r := s.res
	r.PER = 1 - float64(r.OK)/float64(r.Sent)
	if r.Detected > 0 {
		r.SNR = s.snrSum / float64(r.Detected)
	}
	r.EVM = math.NaN()
	if r.OK > 0 {
		r.EVM = s.evmSum / float64(r.OK)
	}
	return r
}
