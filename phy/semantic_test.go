package phy

import (
	"errors"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"github.com/m4sc/m4sc/radio/loopback"
)

func testHeader(length uint16, scheme uint8) SemanticHeader {
	return SemanticHeader{Version: SemanticVersion, Kind: KindSemantic, Address: 0xbeef, Task: 7, Sequence: 4242, Length: length, Scheme: scheme}
}

func TestSemanticHeaderRoundTrip(t *testing.T) {
	for _, h := range []SemanticHeader{testHeader(1, 0), testHeader(1000, 0), testHeader(4000, SchemeFor(rateTable()[4])), {Version: 1, Kind: KindPublic, Address: 0xffff, Task: 255, Sequence: 65535, Length: 48, Scheme: 0}} {
		bits := h.appendBits(nil)
		if len(bits) != SemanticHeaderBits {
			t.Fatalf("%d bits", len(bits))
		}
		got, err := ParseSemanticHeader(bits)
		if err != nil || got != h {
			t.Errorf("%+v: parsed %+v, %v", h, got, err)
		}
		// Every single-bit error is caught (by the CRC, or for CRC bits themselves).
		for i := range bits {
			bits[i] ^= 1
			if _, err := ParseSemanticHeader(bits); err == nil {
				t.Errorf("bit %d flipped: accepted", i)
			}
			bits[i] ^= 1
		}
	}
	bad := testHeader(0, 0)
	var fe *HeaderFieldError
	if err := bad.validate(); !errors.As(err, &fe) || fe.Field != "length" {
		t.Errorf("zero length: %v", err)
	}
}

func FuzzParseSemanticHeader(f *testing.F) {
	f.Add(make([]byte, SemanticHeaderBits))
	f.Add(testHeader(100, 0).appendBits(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		bits := make([]uint8, len(b))
		for i, v := range b {
			bits[i] = v & 1
		}
		h, err := ParseSemanticHeader(bits)
		if err != nil {
			return
		}
		again, err := ParseSemanticHeader(h.appendBits(nil))
		if err != nil || again != h {
			t.Fatalf("accepted %+v does not re-encode: %+v %v", h, again, err)
		}
	})
}

// Analog and digital semantic frames through noise, a carrier offset and multipath:
// header and payload come back; the analog symbols with an error near the SNR.
func TestSemanticFrames(t *testing.T) {
	tx, _ := NewTransmitter(TransmitterConfig{})
	rng := rand.New(rand.NewPCG(4, 4))
	sym := make([]complex64, 1000)
	for i := range sym {
		sym[i] = complex(float32(rng.NormFloat64()), float32(rng.NormFloat64()))
	}
	var p float64
	for _, v := range sym {
		p += float64(real(v)*real(v) + imag(v)*imag(v))
	}
	scale := float32(math.Sqrt(float64(len(sym)) / p))
	h := testHeader(uint16(len(sym)), SchemeAnalog)
	x, err := tx.Semantic(nil, h, sym)
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != tx.SemanticFrameLen(h) {
		t.Fatalf("frame of %d samples, SemanticFrameLen says %d", len(x), tx.SemanticFrameLen(h))
	}
	data := []byte("quantised semantics travel as octets through the DATA chain")
	hd := testHeader(uint16(len(data)), SchemeFor(rateTable()[2]))
	xd, err := tx.SemanticDigital(nil, hd, data, 0x33)
	if err != nil {
		t.Fatal(err)
	}
	prof, _ := loopback.LookupProfile("tdl-c")
	paths, _ := prof.Paths(50e-9)
	for trial := 0; trial < 6; trial++ {
		cfg := loopback.ChannelConfig{AWGN: true, SNR: 25, CarrierOffset: -80e3, Seed: uint64(trial + 1)}
		if trial%2 == 1 {
			cfg.Paths = paths
		}
		stream := append(append(make([]complex64, 0, len(x)+len(xd)+500), x...), make([]complex64, 300)...)
		stream = append(stream, xd...)
		y := channel(t, stream, 700, len(stream)+1500, cfg)
		frames := receiveAll(t, y, 4096)
		if len(frames) != 2 {
			t.Fatalf("trial %d: %d frames: %+v", trial, len(frames), frames)
		}
		a, d := frames[0], frames[1]
		if a.Err != nil || a.Header != h || len(a.Symbols) != len(sym) {
			t.Fatalf("trial %d analog: %+v", trial, a)
		}
		var e, s float64
		for i, v := range a.Symbols {
			ref := complex128(sym[i] * complex(scale, 0))
			e += math.Pow(cmplx.Abs(complex128(v)-ref), 2)
			s += math.Pow(cmplx.Abs(ref), 2)
		}
		nmse := 10 * math.Log10(e/s)
		t.Logf("trial %d: analog payload NMSE %.1f dB at %.1f dB SNR", trial, nmse, a.SNR)
		// Flat 25 dB: per-subcarrier SNR 25.9 dB less channel-estimation loss, about
		// -25 dB. Multipath (TDL-C, 50 ns) fades some subcarriers, and equalising them
		// lifts their noise: allow 10 dB more there (the semantic decoder weighs each
		// symbol by SubcarrierSNR).
		limit := -22.0
		if cfg.Paths != nil {
			limit = -15
		}
		if nmse > limit {
			t.Errorf("trial %d: analog payload NMSE %.1f dB", trial, nmse)
		}
		if d.Err != nil || d.Header != hd || string(d.PSDU) != string(data) || d.Rate != 12 {
			t.Fatalf("trial %d digital: %+v", trial, d)
		}
	}
}

// The m4sc header decodes at least as reliably as the 6 Mbit/s SIGNAL: at low SNR,
// over 400 frames of each kind, the share of semantic frames whose header decodes is
// no lower than the share of legacy frames whose SIGNAL decodes.
func TestSemanticHeaderRobustness(t *testing.T) {
	tx, _ := NewTransmitter(TransmitterConfig{})
	rate6 := rateTable()[0]
	legacy := tx.Packet(nil, make([]byte, 100), rate6, 0x11)
	sem, _ := tx.Semantic(nil, testHeader(96, SchemeAnalog), make([]complex64, 96))
	const frames = 400
	for _, snr := range []float64{-1, 1} {
		sigOK, hdrOK := 0, 0
		for i := 0; i < frames; i++ {
			cfg := loopback.ChannelConfig{AWGN: true, SNR: snr, Seed: uint64(1000*int(snr+10) + i)}
			for _, f := range receiveAll(t, channel(t, legacy, 400, len(legacy)+800, cfg), 1<<16) {
				if f.Rate == 6 {
					sigOK++
				}
			}
			for _, f := range receiveAll(t, channel(t, sem, 400, len(sem)+800, cfg), 1<<16) {
				if f.Err == nil && f.Kind == KindSemantic {
					hdrOK++
				}
			}
		}
		t.Logf("SNR %g dB: SIGNAL decoded %d/%d, m4sc header %d/%d", snr, sigOK, frames, hdrOK, frames)
		if hdrOK < sigOK {
			t.Errorf("SNR %g dB: header %d < SIGNAL %d of %d", snr, hdrOK, sigOK, frames)
		}
	}
}
