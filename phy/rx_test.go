package phy

import (
	"bytes"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/radio/loopback"
)

func annexPSDU(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../../shared/testvectors/ieee80211a-annex-g/psdu.hex")
	if err != nil {
		t.Skipf("test vectors not found: %v", err)
	}
	p, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// channel passes x (placed at offset in a stream of n samples) through the loopback
// simulator's channel.
func channel(t testing.TB, x []complex64, offset, n int, cfg loopback.ChannelConfig) []complex64 {
	t.Helper()
	cfg.SampleRate = SampleRate
	c, err := loopback.NewChannel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]complex64, n)
	c.Process(y, &loopback.SliceInput{Start: int64(offset), Data: x})
	return y
}

func receiveAll(t testing.TB, y []complex64, chunk int) []Frame {
	t.Helper()
	r, err := NewReceiver(ReceiverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var frames []Frame
	for i := 0; i < len(y); i += chunk {
		frames = r.Receive(frames, y[i:min(i+chunk, len(y))])
	}
	return r.Flush(frames)
}

// packetTxt reads the standard's packet.txt: the Annex G packet as samples.
func packetTxt(t testing.TB) []complex64 {
	t.Helper()
	b, err := os.ReadFile("../../shared/testvectors/ieee80211a-annex-g/packet.txt")
	if err != nil {
		t.Skipf("test vectors not found: %v", err)
	}
	var x []complex64
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		re, err1 := strconv.ParseFloat(f[1], 64)
		im, err2 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("packet.txt: bad line %q", line)
		}
		x = append(x, complex(float32(re), float32(im)))
	}
	if len(x) != 881 {
		t.Fatalf("packet.txt: %d samples, want 881", len(x))
	}
	return x
}

// The standard's own packet (packet.txt, Annex G), at a random offset in noise, with a
// carrier offset and multipath from the simulator, decodes to psdu.hex (whose 1999 FCS
// is wrong, so the FCS check fails as it should).
func TestReceiverAnnexG(t *testing.T) {
	psdu := annexPSDU(t)
	x := packetTxt(t)
	p, _ := loopback.LookupProfile("tdl-c")
	paths, _ := p.Paths(30e-9)
	rng := rand.New(rand.NewPCG(1, 1))
	for trial := 0; trial < 10; trial++ {
		off := 1000 + rng.IntN(5000)
		cfg := loopback.ChannelConfig{AWGN: true, SNR: 30, CarrierOffset: 150e3, Seed: uint64(trial + 1)}
		if trial%2 == 1 {
			cfg.Paths = paths
		}
		y := channel(t, x, off, 10000, cfg)
		frames := receiveAll(t, y, 1000+trial*777)
		if len(frames) != 1 {
			t.Fatalf("trial %d: %d frames: %+v", trial, len(frames), frames)
		}
		f := frames[0]
		if f.Err != nil || !bytes.Equal(f.PSDU, psdu) || f.Rate != 36 || f.FCSOK {
			t.Fatalf("trial %d: %+v", trial, f)
		}
		if d := f.Start - int64(off); d < -2 || d > 2 {
			t.Errorf("trial %d: start %d, sent at %d", trial, f.Start, off)
		}
		if math.Abs(f.CFO-150e3) > 2e3 {
			t.Errorf("trial %d: CFO %.0f Hz, want 150000", trial, f.CFO)
		}
		t.Logf("trial %d: snr %.1f dB, cfo %.0f Hz, evm %.1f dB", trial, f.SNR, f.CFO, f.EVM)
	}
}
