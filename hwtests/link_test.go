//go:build hwtest && hackrf

package hwtests

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio/burst"
	"github.com/m4sc/m4sc/radio/spectrum"
)

// A CW tone from the transmitting board arrives at the receiving board at the offset it
// was sent at, above and below the carrier (a swapped I and Q would mirror it), within
// the two crystals' tolerance; it stands well above the noise, and its mirror image
// (I/Q imbalance) well below it.
func TestCWTone(t *testing.T) {
	b := needPair(t)
	b.tune(t, b.rx, map[string]float64{"lna": 16, "vga": 10})
	tol := 2*crystalPPM*1e-6*b.freq + 2*benchRate/(1<<18) // two crystals, plus two bins
	for _, fo := range []float64{1e6, -3e6} {
		y := b.receive(t, burst.Repeat(toneChunk(fo, 0.5)), int(0.1*benchRate), 1<<18)
		_, dc := power(y)
		sp := spectrum.NewPeriodogram(y, dc, benchRate)
		// The strongest line anywhere but at DC must be the tone; its frequency is
		// refined within a few bins, its image looked for there too.
		k, _ := sp.Peak(0, benchRate/2*0.95, 100e3)
		f, p, near := sp.Freq(k), sp.Power(k), 5*benchRate/float64(len(y))
		if tn, ok := spectrum.EstimateTone(y, dc, benchRate, f, near); ok {
			f = tn.Freq
		}
		ki, _ := sp.Peak(-f, near, 0)
		img := sp.Power(ki)
		snr := dBFS(p / (float64(2*spectrum.PowerBins+1) * sp.NoisePerBin()))
		ppm := (f - fo) / b.freq * 1e6
		t.Logf("tone sent at %+.3f MHz, received at %+.6f MHz (%+.2f ppm between the boards), %.1f dBFS, %.1f dB above the noise in its bins, image %.1f dB below",
			fo/1e6, f/1e6, ppm, dBFS(p), snr, dBFS(p/img))
		if math.Abs(f-fo) > tol {
			t.Errorf("tone at %+.0f Hz received at %+.0f Hz: off by more than %.0f Hz (2 x %d ppm)", fo, f, tol, crystalPPM)
		}
		if snr < 30 {
			t.Errorf("tone %.1f dB above the noise, want at least 30 (check the cable and attenuators)", snr)
		}
		if dBFS(p/img) < 20 {
			t.Errorf("image only %.1f dB below the tone, want at least 20", dBFS(p/img))
		}
	}
}

// packetErrorLimit is the SNR (dB, full band) at which each rate reaches 10% PER on the
// loopback simulator's HackRF pair in AWGN (phy/RESULTS.md). Over the cable a rate
// must do at least that well with hwMargin dB more; below that the bench cannot test it.
var packetErrorLimit = map[int]float64{6: 3, 9: 5, 12: 6, 18: 8.5, 24: 11, 36: 15, 48: 19, 54: 21}

// hwMargin allows for what the simulator leaves out of real boards (transmitter I/Q
// imbalance, non-linearity) and for SNR estimates made on the preamble.
const hwMargin = 3

// 802.11a frames at every rate over the cable: PER, SNR and EVM per rate.
func TestFrames80211a(t *testing.T) {
	b := needPair(t)
	b.autoLevel(t)
	const frames, psduLen, gap = 200, 1000, 400
	tx, err := phy.NewTransmitter(phy.TransmitterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%8s %8s %8s %8s %8s", "Mbit/s", "PER", "SNR dB", "EVM dB", "found")
	for _, rate := range phy.Rates() {
		t.Run(fmt.Sprintf("%dMbps", rate.Mbps), func(t *testing.T) {
			payload := func(i int) []byte {
				rng := rand.New(rand.NewPCG(uint64(rate.Mbps), uint64(i)))
				p := make([]byte, psduLen-phy.FCSLen)
				binary.LittleEndian.PutUint32(p, uint32(i))
				for j := 4; j < len(p); j++ {
					p[j] = byte(rng.Uint32())
				}
				return phy.AppendFCS(p)
			}
			var burst []complex64
			for i := 0; i < frames; i++ {
				burst = tx.Packet(burst, payload(i), rate, uint8(1+i%127))
				burst = append(burst, make([]complex64, gap)...)
			}
			y := b.link(t, burst, int(0.02*benchRate), int(0.02*benchRate))
			rcv, err := phy.NewReceiver(phy.ReceiverConfig{})
			if err != nil {
				t.Fatal(err)
			}
			found := rcv.Flush(rcv.Receive(nil, y))
			ok, seen := 0, make([]bool, frames)
			var snr, evm float64
			for _, f := range found {
				snr += f.SNR
				if f.Err != nil || !f.FCSOK || len(f.PSDU) < 4 {
					continue
				}
				i := int(binary.LittleEndian.Uint32(f.PSDU))
				if i < 0 || i >= frames || seen[i] || string(f.PSDU) != string(payload(i)) {
					continue
				}
				seen[i] = true
				ok++
				evm += f.EVM
			}
			per := 1 - float64(ok)/frames
			if len(found) > 0 {
				snr /= float64(len(found))
			}
			if ok > 0 {
				evm /= float64(ok)
			}
			t.Logf("%8d %8.3f %8.1f %8.1f %8d", rate.Mbps, per, snr, evm, len(found))
			need := packetErrorLimit[rate.Mbps] + hwMargin
			switch {
			case len(found) == 0:
				t.Fatalf("no frame detected in %d samples", len(y))
			case snr < need:
				t.Skipf("SNR %.1f dB is below the %.1f dB this rate needs here: the bench cannot test it (less attenuation)", snr, need)
			case per > 0.1:
				t.Errorf("PER %.3f at %.1f dB SNR, want at most 0.1 (the simulator reaches it at %.1f dB)", per, snr, packetErrorLimit[rate.Mbps])
			}
		})
	}
}

// Semantic frames with analog payloads over the cable: the share whose m4sc header
// decodes, the payload's error against what was sent (NMSE, the analog EVM), and SNR.
func TestSemanticFrames(t *testing.T) {
	b := needPair(t)
	b.autoLevel(t)
	const frames, symbols, gap = 200, 480, 400
	tx, err := phy.NewTransmitter(phy.TransmitterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	sent := make([][]complex64, frames)
	var burst []complex64
	for i := range sent {
		s := make([]complex64, symbols)
		var p float64
		for k := range s {
			s[k] = complex(float32(rng.NormFloat64()), float32(rng.NormFloat64()))
			p += float64(real(s[k])*real(s[k]) + imag(s[k])*imag(s[k]))
		}
		// What the transmitter sends: the symbols at unit mean power.
		scale := complex(float32(math.Sqrt(symbols/p)), 0)
		for k := range s {
			s[k] *= scale
		}
		sent[i] = s
		h := phy.SemanticHeader{Version: phy.SemanticVersion, Kind: phy.KindSemantic, Address: 1, Sequence: uint16(i), Length: symbols, Scheme: phy.SchemeAnalog}
		if burst, err = tx.Semantic(burst, h, s); err != nil {
			t.Fatal(err)
		}
		burst = append(burst, make([]complex64, gap)...)
	}
	y := b.link(t, burst, int(0.02*benchRate), int(0.02*benchRate))
	rcv, err := phy.NewReceiver(phy.ReceiverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	found := rcv.Flush(rcv.Receive(nil, y))
	ok, seen := 0, make([]bool, frames)
	var snr, nmse float64
	for _, f := range found {
		if f.Kind != phy.KindSemantic || f.Err != nil || int(f.Header.Sequence) >= frames || seen[f.Header.Sequence] || len(f.Symbols) != symbols {
			continue
		}
		i := int(f.Header.Sequence)
		seen[i] = true
		ok++
		snr += f.SNR
		var e, s float64
		for k, v := range f.Symbols {
			e += math.Pow(cmplx.Abs(complex128(v-sent[i][k])), 2)
			s += math.Pow(cmplx.Abs(complex128(sent[i][k])), 2)
		}
		nmse += e / s
	}
	fer := 1 - float64(ok)/frames
	if ok == 0 {
		t.Fatalf("no semantic frame decoded among %d detected", len(found))
	}
	snr /= float64(ok)
	nmseDB := dBFS(nmse / float64(ok))
	t.Logf("semantic frames: %d of %d decoded (header FER %.3f), SNR %.1f dB, payload NMSE %.1f dB", ok, frames, fer, snr, nmseDB)
	// The header is coded more robustly than a 6 Mbit/s SIGNAL: it must decode wherever
	// 6 Mbit/s frames do. Each payload symbol sees the subcarrier SNR (about the full
	// band's plus 0.9 dB), less the channel estimate's noise; real boards add an
	// error floor near -25 dB (I/Q imbalance, phase noise). Allow 6 dB over that.
	if snr >= packetErrorLimit[6]+hwMargin && fer > 0.1 {
		t.Errorf("header FER %.3f at %.1f dB SNR, want at most 0.1", fer, snr)
	}
	if limit := -math.Min(snr, 25) + 6; nmseDB > limit {
		t.Errorf("payload NMSE %.1f dB at %.1f dB SNR, want at most %.1f dB", nmseDB, snr, limit)
	}
}

// Gain sweep: each gain stage moves the received level by its nominal step, wherever
// the level is in the receiver's linear range (above the noise, below clipping).
func TestGainSweep(t *testing.T) {
	b := needPair(t)
	const fo, amp = 1e6, 0.25
	type point struct {
		gain, level float64
	}
	sweep := func(dev string, name string, values []float64) []point {
		d := b.rx
		if dev == "tx" {
			d = b.tx
		}
		saved := d.Config()
		defer func() {
			if err := d.Configure(saved); err != nil {
				t.Fatal(err)
			}
		}()
		var pts []point
		for _, v := range values {
			setGain(t, d, name, v)
			pts = append(pts, point{v, b.level(t, fo, amp)})
		}
		return pts
	}
	b.tune(t, b.tx, map[string]float64{"txvga": 20})
	b.tune(t, b.rx, map[string]float64{"lna": 16, "vga": 20})
	for _, c := range []struct {
		dev, name string
		values    []float64
	}{
		{"rx", "lna", []float64{0, 8, 16, 24, 32, 40}},
		{"rx", "vga", []float64{0, 8, 16, 24, 32, 40, 48, 56}},
		{"tx", "txvga", []float64{0, 8, 16, 24, 32, 40, 47}},
	} {
		pts := sweep(c.dev, c.name, c.values)
		line := ""
		checked := 0
		for i, p := range pts {
			line += fmt.Sprintf(" %g:%.1f", p.gain, p.level)
			if i == 0 {
				continue
			}
			q := pts[i-1]
			// The linear range: well above the noise, below -6 dBFS (clipping).
			if q.level < -55 || p.level > -6 {
				continue
			}
			step, nominal := p.level-q.level, p.gain-q.gain
			checked++
			if math.Abs(step-nominal) > 3 {
				t.Errorf("%s %g -> %g dB moved the level by %.1f dB, want %.0f +- 3", c.name, q.gain, p.gain, step, nominal)
			}
		}
		t.Logf("%s sweep (gain dB: tone level dBFS):%s", c.name, line)
		if checked < 2 {
			t.Errorf("%s: only %d steps in the linear range; adjust the attenuation (30-60 dB)", c.name, checked)
		}
	}
}
