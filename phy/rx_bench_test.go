package phy

import (
	"bytes"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// Receiver speed: whole streams of frames at 50% duty cycle, idle gaps of noise as long
// as each frame so that the detector scans real samples, fed to one Receiver in chunks
// of benchChunk samples as a device driver would deliver them. The stream is built once
// outside the timed loop; each iteration runs the whole stream through and checks every
// frame. The target (BenchmarkReceiver24Mbps) is stated for one core, so GOMAXPROCS is 1
// while timing (run with -cpu 1 for a name that says so). Figures: phy/RESULTS.md.
//
// bench/ofdm_peer.sh runs BenchmarkReceiverSemantic against liquid-dsp's
// ofdmflexframesync on frames of the same payload duration. The transmitter's rate is
// BenchmarkTransmitterPacket's, in tx_test.go.

const (
	benchChunk  = 16384 // samples per Receive call
	benchFrames = 32    // frames per stream
	// benchSemanticSymbols is the payload length of BenchmarkReceiverSemantic's frames
	// in OFDM symbols; bench/ofdm_peer.c sizes liquid-dsp's payload to the same
	// number of OFDM symbols (keep the two equal).
	benchSemanticSymbols = 92
)

// benchStream lays out frames at 50% duty cycle, each preceded by an idle gap as long
// as itself, and adds complex white Gaussian noise over the whole stream at snrDB
// below the frames' mean power (full 20 MHz band). It returns the stream and the index
// at which each frame starts.
func benchStream(frames [][]complex64, snrDB float64, rng *rand.Rand) ([]complex64, []int) {
	var n int
	var p float64
	for _, f := range frames {
		n += 2 * len(f)
		for _, v := range f {
			p += float64(real(v)*real(v) + imag(v)*imag(v))
		}
	}
	p /= float64(n / 2)
	sigma := math.Sqrt(p / math.Pow(10, snrDB/10) / 2) // per component
	x := make([]complex64, 0, n)
	starts := make([]int, len(frames))
	for i, f := range frames {
		x = append(x, make([]complex64, len(f))...)
		starts[i] = len(x)
		x = append(x, f...)
	}
	for i := range x {
		x[i] += complex(float32(sigma*rng.NormFloat64()), float32(sigma*rng.NormFloat64()))
	}
	return x, starts
}

// benchOneCore sets GOMAXPROCS to 1 for the benchmark and restores it afterwards.
func benchOneCore(b *testing.B) {
	prev := runtime.GOMAXPROCS(1)
	b.Cleanup(func() { runtime.GOMAXPROCS(prev) })
}

// benchReceive feeds x to r in benchChunk pieces and ends the stream.
func benchReceive(r *Receiver, frames []Frame, x []complex64) []Frame {
	for i := 0; i < len(x); i += benchChunk {
		frames = r.Receive(frames, x[i:min(i+benchChunk, len(x))])
	}
	return r.Flush(frames)
}

// BenchmarkReceiver24Mbps: 24 Mbit/s frames with 1000-octet PSDUs (random, valid FCS)
// in noise 30 dB below the frames' power. Msps counts stream samples (frames and gaps),
// Mbit/s the PSDU bits decoded, per second of one core. The target is at least
// 40 Msps, twice real time at HackRF's 20 Msps.
func BenchmarkReceiver24Mbps(b *testing.B) {
	const psduLen = 1000
	rate, err := RateByMbps(24)
	if err != nil {
		b.Fatal(err)
	}
	tx, err := NewTransmitter(TransmitterConfig{})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(24, 1000))
	psdus := make([][]byte, benchFrames)
	frames := make([][]complex64, benchFrames)
	for i := range psdus {
		p := make([]byte, psduLen-FCSLen)
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		psdus[i] = AppendFCS(p)
		frames[i] = tx.Packet(nil, psdus[i], rate, uint8(1+i%127))
	}
	x, starts := benchStream(frames, 30, rng)
	r, err := NewReceiver(ReceiverConfig{})
	if err != nil {
		b.Fatal(err)
	}
	benchOneCore(b)
	var got []Frame
	b.ReportAllocs()
	for b.Loop() {
		got = benchReceive(r, got[:0], x)
		if len(got) != len(psdus) {
			b.Fatalf("%d frames reported, %d sent", len(got), len(psdus))
		}
		for i, f := range got {
			if f.Err != nil || !CheckFCS(f.PSDU) || !bytes.Equal(f.PSDU, psdus[i]) {
				b.Fatalf("frame %d (sent at %d, reported at %d): err %v, FCS ok %v", i, starts[i], f.Start, f.Err, CheckFCS(f.PSDU))
			}
		}
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(len(x))*float64(b.N)/sec/1e6, "Msps")
	b.ReportMetric(8*psduLen*float64(len(psdus))*float64(b.N)/sec/1e6, "Mbit/s")
}

// BenchmarkReceiverSemantic: semantic frames (m4sc header, analog payload of
// 48*benchSemanticSymbols complex Gaussian symbols) in noise 20 dB below the frames'
// power, the SNR of bench/ofdm_peer.c. Every frame's header must decode and its
// payload come back with an error at most -12 dB relative to the symbols sent (about
// -20 dB is expected at 20 dB SNR). Msps counts stream samples, frames/s the frames
// received, per second of one core.
func BenchmarkReceiverSemantic(b *testing.B) {
	const nsym = DataCarriers * benchSemanticSymbols
	tx, err := NewTransmitter(TransmitterConfig{})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(48, nsym))
	hdrs := make([]SemanticHeader, benchFrames)
	syms := make([][]complex64, benchFrames) // as sent: unit mean power
	frames := make([][]complex64, benchFrames)
	for i := range frames {
		s := make([]complex64, nsym)
		var p float64
		for j := range s {
			s[j] = complex(float32(rng.NormFloat64()), float32(rng.NormFloat64()))
			p += float64(real(s[j])*real(s[j]) + imag(s[j])*imag(s[j]))
		}
		hdrs[i] = SemanticHeader{Version: SemanticVersion, Kind: KindSemantic, Address: 0x4d34, Task: 1, Sequence: uint16(i), Length: nsym, Scheme: SchemeAnalog}
		if frames[i], err = tx.Semantic(nil, hdrs[i], s); err != nil {
			b.Fatal(err)
		}
		// Semantic sends the symbols scaled to unit mean power; compare with that.
		g := float32(math.Sqrt(nsym / p))
		for j := range s {
			s[j] *= complex(g, 0)
		}
		syms[i] = s
	}
	x, starts := benchStream(frames, 20, rng)
	r, err := NewReceiver(ReceiverConfig{})
	if err != nil {
		b.Fatal(err)
	}
	const maxNMSE = 0.063 // -12 dB
	benchOneCore(b)
	var got []Frame
	b.ReportAllocs()
	for b.Loop() {
		got = benchReceive(r, got[:0], x)
		if len(got) != len(hdrs) {
			b.Fatalf("%d frames reported, %d sent", len(got), len(hdrs))
		}
		for i, f := range got {
			if f.Err != nil || f.Header != hdrs[i] || len(f.Symbols) != nsym {
				b.Fatalf("frame %d (sent at %d, reported at %d): err %v, header %+v, %d symbols", i, starts[i], f.Start, f.Err, f.Header, len(f.Symbols))
			}
			var e float32
			for j, v := range f.Symbols {
				d := v - syms[i][j]
				e += real(d)*real(d) + imag(d)*imag(d)
			}
			if e > maxNMSE*nsym {
				b.Fatalf("frame %d: payload error %.1f dB", i, 10*math.Log10(float64(e)/nsym))
			}
		}
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(len(x))*float64(b.N)/sec/1e6, "Msps")
	b.ReportMetric(float64(len(hdrs))*float64(b.N)/sec, "frames/s")
}
