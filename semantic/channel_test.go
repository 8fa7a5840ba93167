package semantic

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"github.com/m4sc/m4sc/phy"
)

// The training channel imitates the receiver: the error of the equalised payload
// symbols (the post-equalisation SNR) that phy's receiver produces from samples over
// the loopback matches what Channel draws for the same SNR and profile within 1 dB,
// averaged in dB over frames (each frame's post-equalisation SNR in dB; 300 frames of
// 960 symbols for each case, since a fading frame's figure varies by many dB).
func TestTrainingChannelMatchesReceiver(t *testing.T) {
	tx, err := phy.NewTransmitter(phy.TransmitterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kind    ChannelKind
		profile string
		snr     float64
	}{{ChannelAWGN, "", 5}, {ChannelAWGN, "", 15}, {ChannelEPA, "epa", 15}, {ChannelTDLC, "tdl-c", 10}} {
		rng := rand.New(rand.NewPCG(7, uint64(c.snr)))
		ch, err := NewChannel(c.kind)
		if err != nil {
			t.Fatal(err)
		}
		const frames, n = 300, 960
		var realDB, simDB float64
		missed := 0
		var fc FrameChannel
		for f := range frames {
			var realErr, simErr, power float64
			sym := make([]complex64, n)
			for i := range sym {
				sym[i] = complex(float32(rng.NormFloat64()/math.Sqrt2), float32(rng.NormFloat64()/math.Sqrt2))
			}
			h := phy.SemanticHeader{Version: phy.SemanticVersion, Kind: phy.KindSemantic, Address: 1, Length: n}
			x, err := tx.Semantic(nil, h, sym)
			if err != nil {
				t.Fatal(err)
			}
			got := overAir(t, x, c.snr, c.profile, uint64(f+1))
			ch.Draw(&fc, c.snr, rng)
			if len(got) != 1 || got[0].Err != nil {
				// A frame in a deep fade is not found; both sides skip it.
				missed++
				continue
			}
			// Semantic scales the payload to unit mean power; compare with that.
			var p float64
			for _, v := range sym {
				p += float64(real(v)*real(v) + imag(v)*imag(v))
			}
			scale := complex(math.Sqrt(n/p), 0)
			for i, v := range got[0].Symbols {
				ref := complex128(sym[i]) * scale
				realErr += sq(complex128(v) - ref)
				sc := i % phy.DataCarriers
				sim := ref*complex128(fc.Gain[sc]) + complex(float64(fc.Noise[sc])*rng.NormFloat64(), float64(fc.Noise[sc])*rng.NormFloat64())
				simErr += sq(sim - ref)
				power += sq(ref)
			}
			realDB += 10 * math.Log10(power/realErr)
			simDB += 10 * math.Log10(power/simErr)
		}
		if missed > frames/20 {
			t.Fatalf("%s at %g dB: %d of %d frames not found", c.kind, c.snr, missed, frames)
		}
		realDB /= float64(frames - missed)
		simDB /= float64(frames - missed)
		t.Logf("%s at %g dB: post-equalisation SNR %.2f dB from the receiver, %.2f dB from the training channel", c.kind, c.snr, realDB, simDB)
		if math.Abs(realDB-simDB) > 1 {
			t.Errorf("%s at %g dB: receiver %.2f dB, training channel %.2f dB: more than 1 dB apart", c.kind, c.snr, realDB, simDB)
		}
	}
}

func sq(z complex128) float64 { a := cmplx.Abs(z); return a * a }
