package phy

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/m4sc/m4sc/radio/loopback"
)

// eosCases are the ways a stream can end on a frame's last sample: the frame alone (a
// recording written by `m4sc phy tx`), or after idle noise, fed whole or in pieces.
var eosCases = []struct {
	name  string
	lead  int  // samples before the frame
	noise bool // noise at 30 dB SNR (else silence, and no noise on the frame either)
	chunk int  // samples per Receive call; 0: all at once
}{
	{"alone", 0, false, 0},
	{"alone/chunks-of-97", 0, false, 97},
	{"after-silence", 100, false, 0},
	{"after-noise", 700, true, 0},
	{"after-noise/chunks-of-256", 700, true, 256},
}

// receiveChunks feeds y to r in pieces of chunk samples (all at once for 0) and flushes.
func receiveChunks(r *Receiver, y []complex64, chunk int) []Frame {
	if chunk <= 0 {
		chunk = len(y)
	}
	var frames []Frame
	for i := 0; i < len(y); i += chunk {
		frames = r.Receive(frames, y[i:min(i+chunk, len(y))])
	}
	return r.Flush(frames)
}

// endingAt returns x after lead samples, of noise at 30 dB SNR (which is added to x
// too) or of silence, the stream ending on x's last sample.
func endingAt(t *testing.T, x []complex64, lead int, noise bool, seed uint64) []complex64 {
	t.Helper()
	if !noise {
		return append(make([]complex64, lead, lead+len(x)), x...)
	}
	return channel(t, x, lead, lead+len(x), loopback.ChannelConfig{AWGN: true, SNR: 30, Seed: seed})
}

// A frame that ends exactly where the stream ends decodes: Flush drains what the
// receiver held back for lookahead. Every rate, PSDUs of 1 to 40 octets (one to a few
// OFDM symbols, the frames shorter than the receiver's lookahead among them).
func TestReceiverFrameAtEndOfStream(t *testing.T) {
	for _, w := range []Windowing{WindowingStandard, WindowingNone} {
		t.Run(w.String(), func(t *testing.T) { testFrameAtEndOfStream(t, w) })
	}
}

func testFrameAtEndOfStream(t *testing.T, w Windowing) {
	tx, err := NewTransmitter(TransmitterConfig{Windowing: w})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReceiver(ReceiverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(16, 2))
	for _, c := range eosCases {
		for _, rate := range Rates() {
			for n := 1; n <= 40; n++ {
				psdu := make([]byte, n)
				for i := range psdu {
					psdu[i] = byte(rng.Uint32())
				}
				x := tx.Packet(nil, psdu, rate, 0x5d)
				y := endingAt(t, x, c.lead, c.noise, uint64(n))
				frames := receiveChunks(r, y, c.chunk)
				name := fmt.Sprintf("%s: %d Mbit/s, %d octets (%d samples)", c.name, rate.Mbps, n, len(x))
				if len(frames) != 1 {
					t.Errorf("%s: %d frames: %+v", name, len(frames), frames)
					continue
				}
				if f := frames[0]; f.Err != nil || f.Rate != rate.Mbps || string(f.PSDU) != string(psdu) {
					t.Errorf("%s: %+v", name, f)
				}
			}
		}
	}
}

// The same for semantic frames, analog and digital, the shortest ones included.
func TestReceiverSemanticFrameAtEndOfStream(t *testing.T) {
	for _, w := range []Windowing{WindowingStandard, WindowingNone} {
		t.Run(w.String(), func(t *testing.T) { testSemanticFrameAtEndOfStream(t, w) })
	}
}

func testSemanticFrameAtEndOfStream(t *testing.T, w Windowing) {
	tx, err := NewTransmitter(TransmitterConfig{Windowing: w})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReceiver(ReceiverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(16, 3))
	for _, c := range eosCases {
		for _, n := range []int{1, 2, 47, 48, 49, 100} {
			sym := make([]complex64, n)
			for i := range sym {
				sym[i] = complex(float32(rng.NormFloat64()), float32(rng.NormFloat64()))
			}
			h := testHeader(uint16(n), SchemeAnalog)
			x, err := tx.Semantic(nil, h, sym)
			if err != nil {
				t.Fatal(err)
			}
			frames := receiveChunks(r, endingAt(t, x, c.lead, c.noise, uint64(n)), c.chunk)
			if len(frames) != 1 || frames[0].Err != nil || frames[0].Header != h || len(frames[0].Symbols) != n {
				t.Errorf("%s: analog, %d symbols: %+v", c.name, n, frames)
			}
		}
		for _, rate := range Rates() {
			for _, n := range []int{1, 8, 24, 40} {
				data := make([]byte, n)
				for i := range data {
					data[i] = byte(rng.Uint32())
				}
				h := testHeader(uint16(n), SchemeFor(rate))
				x, err := tx.SemanticDigital(nil, h, data, 0x21)
				if err != nil {
					t.Fatal(err)
				}
				frames := receiveChunks(r, endingAt(t, x, c.lead, c.noise, uint64(n)), c.chunk)
				if len(frames) != 1 || frames[0].Err != nil || frames[0].Header != h || string(frames[0].PSDU) != string(data) {
					t.Errorf("%s: digital %d Mbit/s, %d octets: %+v", c.name, rate.Mbps, n, frames)
				}
			}
		}
	}
}

// A stream cut inside a frame still reports the frame as truncated, and nothing else.
func TestReceiverTruncatedFrame(t *testing.T) {
	tx, _ := NewTransmitter(TransmitterConfig{})
	r, err := NewReceiver(ReceiverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	x := tx.Packet(nil, make([]byte, 100), rateTable()[4], 0x5d)
	for _, cut := range []int{PreambleLen + 40, PreambleLen + SymbolLen + 10, len(x) - 100, len(x) - 10} {
		frames := receiveChunks(r, x[:cut], 0)
		if len(frames) != 1 || frames[0].Err != ErrTruncated {
			t.Errorf("cut at %d of %d: %+v", cut, len(x), frames)
		}
	}
}
