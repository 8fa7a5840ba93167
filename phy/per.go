package phy

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/m4sc/m4sc/radio"
)

// PERConfig describes a packet-error-rate run: Frames frames of PSDULen octets at Rate,
// sent by one device and received by another, with Gap idle samples between frames.
type PERConfig struct {
	Rate    Rate
	PSDULen int // octets including the 4-octet FCS; 1000 as in the tables
	Frames  int // at least 1000 for a figure worth quoting
	Gap     int // idle samples between frames; default 400
	Seed    uint64
	// Lead is how many samples the receiver may see before the first frame arrives
	// (a device's random start offset); the receiver reads this much extra. Default
	// 25000, above the loopback hackrf preset's 20000.
	Lead int
	// PerFrame, when not nil, opens a new receiving device for every frame (frame
	// numbers from 0), so that each frame meets its own channel realisation: the
	// convention for PER over fading channels, where one long run would see only the
	// few realisations its duration spans. The rx argument of RunPER is then unused.
	PerFrame func(frame int) (radio.Device, error)
}

// PERResult counts what happened to the frames of a run.
type PERResult struct {
	Sent     int
	Detected int     // frames the receiver reported, decoded or not
	OK       int     // frames decoded with a correct FCS and the PSDU that was sent
	False    int     // frames reported that match nothing sent
	PER      float64 // 1 - OK/Sent
	SNR      float64 // mean of the receiver's SNR estimates, dB
	EVM      float64 // mean EVM of decoded frames, dB
}

// RunPER transmits the frames on tx while rx receives them, and scores the receiver's
// output against what was sent. Each PSDU starts with its frame number, so frames are
// matched by content, not by order. progress, if not nil, is called with the number of
// frames scored so far.
func RunPER(ctx context.Context, tx, rx radio.Device, cfg PERConfig, progress func(int)) (PERResult, error) {
	if cfg.PSDULen < 8 || cfg.PSDULen > MaxPSDULength {
		return PERResult{}, fmt.Errorf("phy: PER: PSDU length %d outside 8..%d", cfg.PSDULen, MaxPSDULength)
	}
	if cfg.Frames < 1 {
		return PERResult{}, fmt.Errorf("phy: PER: %d frames", cfg.Frames)
	}
	if cfg.Gap == 0 {
		cfg.Gap = 400
	}
	if cfg.Lead == 0 {
		cfg.Lead = 25000
	}
	t, err := NewTransmitter(TransmitterConfig{})
	if err != nil {
		return PERResult{}, err
	}
	payload := func(i int) []byte {
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
		p := make([]byte, cfg.PSDULen-FCSLen)
		binary.LittleEndian.PutUint32(p, uint32(i))
		for j := 4; j < len(p); j++ {
			p[j] = byte(rng.Uint32())
		}
		return AppendFCS(p)
	}
	perFrame := t.PacketLen(cfg.PSDULen, cfg.Rate) + cfg.Gap
	total := perFrame*cfg.Frames + cfg.Lead
	if cfg.PerFrame != nil {
		return runPERPerFrame(ctx, tx, cfg, t, payload, perFrame, progress)
	}

	ts, err := tx.StartTX(ctx)
	if err != nil {
		return PERResult{}, err
	}
	// The transmitter is paced by the receiver: a simulated transmitter writes
	// instantly, and running far ahead would overflow the receiver's buffers (a real
	// one sends at the sample rate, which the receiver keeps up with).
	var mu sync.Mutex
	progressed := sync.NewCond(&mu)
	var sent, received int64
	stop := false
	errc := make(chan error, 1)
	go func() {
		var buf []complex64
		gap := make([]complex64, cfg.Gap)
		var err error
		for i := 0; i < cfg.Frames && err == nil; i++ {
			mu.Lock()
			for sent-received > perMaxAhead && !stop {
				progressed.Wait()
			}
			mu.Unlock()
			buf = t.Packet(buf[:0], payload(i), cfg.Rate, uint8(1+i%127))
			mu.Lock()
			sent += int64(len(buf) + len(gap))
			mu.Unlock()
			if _, err = ts.Write(buf); err == nil {
				_, err = ts.Write(gap)
			}
		}
		if cerr := ts.Close(); err == nil {
			err = cerr
		}
		errc <- err
	}()
	halt := func() {
		mu.Lock()
		stop = true
		progressed.Broadcast()
		mu.Unlock()
	}
	rs, err := rx.StartRX(ctx)
	if err != nil {
		halt()
		<-errc
		return PERResult{}, err
	}
	defer rs.Close()
	rcv, err := NewReceiver(ReceiverConfig{})
	if err != nil {
		halt()
		<-errc
		return PERResult{}, err
	}
	res := PERResult{Sent: cfg.Frames}
	seen := make([]bool, cfg.Frames)
	var frames []Frame
	var snrSum, evmSum float64
	score := func(fs []Frame) {
		for _, f := range fs {
			res.Detected++
			snrSum += f.SNR
			if f.Err != nil || len(f.PSDU) < 4 {
				continue
			}
			i := int(binary.LittleEndian.Uint32(f.PSDU))
			if i < 0 || i >= cfg.Frames || seen[i] || f.Length != cfg.PSDULen || !f.FCSOK {
				if !f.FCSOK || i < 0 || i >= cfg.Frames {
					continue
				}
				res.False++
				continue
			}
			want := payload(i)
			if string(want) != string(f.PSDU) {
				continue
			}
			seen[i] = true
			res.OK++
			evmSum += f.EVM
		}
		if progress != nil && len(fs) > 0 {
			progress(res.Detected)
		}
	}
	chunk := make([]complex64, 1<<15)
	for got := 0; got < total; {
		n, _, err := rs.Read(chunk[:min(len(chunk), total-got)])
		frames = rcv.Receive(frames[:0], chunk[:n])
		score(frames)
		got += n
		mu.Lock()
		received = int64(got)
		progressed.Broadcast()
		mu.Unlock()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			halt()
			<-errc
			return res, err
		}
	}
	halt()
	score(rcv.Flush(frames[:0]))
	if err := <-errc; err != nil {
		return res, fmt.Errorf("phy: PER: transmit: %w", err)
	}
	res.PER = 1 - float64(res.OK)/float64(res.Sent)
	if res.Detected > 0 {
		res.SNR = snrSum / float64(res.Detected)
	}
	if res.OK > 0 {
		res.EVM = evmSum / float64(res.OK)
	} else {
		res.EVM = math.NaN()
	}
	return res, nil
}

// perMaxAhead is how far (in samples) the transmitter may run ahead of the receiver:
// well inside the loopback air's backlog of 2^24 samples.
const perMaxAhead = 1 << 21

// runPERPerFrame sends every frame as its own burst to a receiving device of its own.
func runPERPerFrame(ctx context.Context, tx radio.Device, cfg PERConfig, t *Transmitter, payload func(int) []byte, perFrame int, progress func(int)) (PERResult, error) {
	res := PERResult{Sent: cfg.Frames}
	rcv, err := NewReceiver(ReceiverConfig{})
	if err != nil {
		return res, err
	}
	var snrSum, evmSum float64
	var buf, y []complex64
	var frames []Frame
	gap := make([]complex64, cfg.Gap)
	for i := 0; i < cfg.Frames; i++ {
		rx, err := cfg.PerFrame(i)
		if err != nil {
			return res, err
		}
		rs, err := rx.StartRX(ctx)
		if err != nil {
			rx.Close()
			return res, err
		}
		ts, err := tx.StartTX(ctx)
		if err == nil {
			buf = t.Packet(buf[:0], payload(i), cfg.Rate, uint8(1+i%127))
			if _, err = ts.Write(buf); err == nil {
				_, err = ts.Write(gap)
			}
			if cerr := ts.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			rs.Close()
			rx.Close()
			return res, fmt.Errorf("phy: PER: transmit: %w", err)
		}
		n := perFrame + cfg.Lead
		if cap(y) < n {
			y = make([]complex64, n)
		}
		y = y[:n]
		for got := 0; got < n; {
			k, _, err := rs.Read(y[got:])
			got += k
			if err != nil {
				rs.Close()
				rx.Close()
				return res, err
			}
		}
		rs.Close()
		rx.Close()
		frames = rcv.Receive(frames[:0], y)
		frames = rcv.Flush(frames)
		for _, f := range frames {
			res.Detected++
			snrSum += f.SNR
			if f.Err == nil && f.FCSOK && string(f.PSDU) == string(payload(i)) {
				res.OK++
				evmSum += f.EVM
			} else if f.Err == nil && f.FCSOK {
				res.False++
			}
		}
		if progress != nil {
			progress(i + 1)
		}
	}
	res.PER = 1 - float64(res.OK)/float64(res.Sent)
	if res.Detected > 0 {
		res.SNR = snrSum / float64(res.Detected)
	}
	res.EVM = math.NaN()
	if res.OK > 0 {
		res.EVM = evmSum / float64(res.OK)
	}
	return res, nil
}
