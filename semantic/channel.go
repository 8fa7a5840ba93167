package semantic

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"

	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio/loopback"
)

// The training channel imitates what phy's receiver hands the channel decoder for one
// frame of analog payload symbols, so that the codec learns on the statistics it meets
// on the air:
//
//   - the SNR is the project's: mean signal power over noise power in the full 20 MHz
//     band, in which the 52 used subcarriers of 64 hold the signal, so a subcarrier of
//     unit gain sees SNR*64/52;
//   - multipath fading is drawn from a tap profile of package loopback (EPA, TDL-C, ...)
//     as one frequency response per frame (block fading: a frame lasts about a
//     millisecond, far shorter than the coherence time at 5 to 100 Hz of Doppler),
//     H_k = sum_l a_l exp(-j 2 pi f_k tau_l), a_l ~ CN(0, p_l) (or fixed, for a line
//     of sight), at the data subcarriers' frequencies f_k = k * 312.5 kHz;
//   - the receiver estimates H from the two long training symbols, averaged and
//     smoothed over neighbouring subcarriers as phy's receiver does, so its estimate
//     carries 3/16 of the per-subcarrier noise variance and, on a selective channel,
//     the smoothing's bias; it equalises by that estimate, which turns y = H x + n into
//     x^ = x H/H^ + n/H^, and it reports SubcarrierSNR = |H^|^2 / N0 per subcarrier;
//   - pilot tracking leaves a small common phase error per frame.
//
// The channel is linear in x: x^ = c x + w with c and w drawn per symbol, so it is two
// nn operations (ComplexMul by c, Add w) through which gradients reach the encoder.

// ChannelKind names a family of training channels.
type ChannelKind string

const (
	ChannelAWGN ChannelKind = "awgn" // flat, unit gain
	ChannelEPA  ChannelKind = "epa"  // LTE Extended Pedestrian A
	ChannelTDLC ChannelKind = "tdl-c"
)

// DefaultTDLCDelaySpread is the RMS delay spread of the TDL-C training channel, s.
const DefaultTDLCDelaySpread = 100e-9

// subcarrierSpacing is 802.11a's, Hz.
const subcarrierSpacing = 20e6 / 64

// usedShare is the share of the full band's noise that one subcarrier's signal sees
// relative to the whole: 52 of 64 bins carry signal.
const usedShare = 64.0 / 52.0

// PilotPhaseStd is the standard deviation of the common phase error left by pilot
// tracking, radians (about 1 degree).
const PilotPhaseStd = 0.017

// FrameChannel is one realisation of the training channel for a frame: per data
// subcarrier the equalised gain, the equalised noise's standard deviation per real
// dimension, and the SNR the receiver reports.
type FrameChannel struct {
	SNRdB float64                     // full-band SNR of the frame
	Gain  [phy.DataCarriers]complex64 // c_k = H_k / H^_k times the residual phase
	Noise [phy.DataCarriers]float32   // std of each real part of n/H^
	SNR   [phy.DataCarriers]float32   // |H^_k|^2 / N0, linear, as phy.Frame.SubcarrierSNR
}

// Channel draws training channels of one family.
type Channel struct {
	kind  ChannelKind
	paths []loopback.Path
	freqs [phy.DataCarriers]float64
}

// NewChannel returns a training channel of kind.
func NewChannel(kind ChannelKind) (*Channel, error) {
	c := &Channel{kind: kind}
	for i, k := range phy.DataSubcarriers() {
		c.freqs[i] = float64(k) * subcarrierSpacing
	}
	switch kind {
	case ChannelAWGN:
	case ChannelEPA, ChannelTDLC:
		p, err := loopback.LookupProfile(string(kind))
		if err != nil {
			return nil, err
		}
		if c.paths, err = p.Paths(DefaultTDLCDelaySpread); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("semantic: training channel %q: want awgn, epa or tdl-c", kind)
	}
	return c, nil
}

// Draw fills fc with a realisation at full-band SNR snrDB.
func (c *Channel) Draw(fc *FrameChannel, snrDB float64, rng *rand.Rand) {
	fc.SNRdB = snrDB
	// Unit signal power per subcarrier; the noise per subcarrier has variance n0.
	n0 := 1 / (math.Pow(10, snrDB/10) * usedShare)
	sd := math.Sqrt(n0 / 2) // per real dimension
	var taps []complex128
	for _, p := range c.paths {
		var a complex128
		if p.LOS {
			a = complex(math.Sqrt(p.Power), 0)
		} else {
			s := math.Sqrt(p.Power / 2)
			a = complex(s*rng.NormFloat64(), s*rng.NormFloat64())
		}
		taps = append(taps, a)
	}
	phase := cmplx.Rect(1, PilotPhaseStd*rng.NormFloat64())
	// The true response on every used subcarrier, -26..26 without DC.
	var resp [53]complex128
	for k := -26; k <= 26; k++ {
		h := complex(1, 0)
		if len(taps) > 0 {
			h = 0
			for l, p := range c.paths {
				h += taps[l] * cmplx.Rect(1, -2*math.Pi*float64(k)*subcarrierSpacing*p.Delay)
			}
		}
		resp[k+26] = h
	}
	for k := range phy.DataCarriers {
		sub := int(math.Round(c.freqs[k] / subcarrierSpacing))
		h := resp[sub+26]
		// The receiver averages the two long training symbols (noise n0/2) and smooths
		// the estimate with weights 1/4, 1/2, 1/4 over neighbouring subcarriers in
		// the band (phy's estimateChannel): the smoothed response, plus noise of
		// variance n0/2 times the sum of the squared weights.
		var acc complex128
		var wsum, w2 float64
		for d, wt := range [3]float64{0.25, 0.5, 0.25} {
			j := sub + d - 1
			if j < -26 || j > 26 || j == 0 {
				continue
			}
			acc += resp[j+26] * complex(wt, 0)
			wsum += wt
			w2 += wt * wt
		}
		esd := math.Sqrt(n0 / 2 * w2 / (wsum * wsum) / 2) // per real dimension
		est := acc/complex(wsum, 0) + complex(esd*rng.NormFloat64(), esd*rng.NormFloat64())
		if cmplx.Abs(est) < 1e-6 {
			est = 1e-6
		}
		fc.Gain[k] = complex64(h / est * phase)
		fc.Noise[k] = float32(sd / cmplx.Abs(est))
		fc.SNR[k] = float32(real(est)*real(est)+imag(est)*imag(est)) / float32(n0)
	}
}
