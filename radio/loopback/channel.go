package loopback

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"
)

// Input supplies transmitted samples by index on the transmitter's sample clock.
// Samples never sent are silence: Samples must fill dst with zeros outside what exists.
type Input interface {
	Samples(dst []complex64, start int64)
}

// SliceInput is an Input holding one burst: Data[0] has index Start.
type SliceInput struct {
	Start int64
	Data  []complex64
}

// Samples implements Input.
func (s *SliceInput) Samples(dst []complex64, start int64) {
	clear(dst)
	lo := max(start, s.Start)
	hi := min(start+int64(len(dst)), s.Start+int64(len(s.Data)))
	if lo < hi {
		copy(dst[lo-start:hi-start], s.Data[lo-s.Start:hi-s.Start])
	}
}

// ChannelConfig describes what lies between one transmitter and one receiver. The zero
// value (with a sample rate) is an ideal wire.
type ChannelConfig struct {
	SampleRate float64 // nominal rate of both ends, samples/s

	// Multipath: resolved paths (see Profile.Paths); nil or one path at delay 0 with
	// no Doppler is a flat channel. Powers should sum to 1 so the mean gain is 0 dB.
	Paths   []Path
	Doppler float64 // maximum Doppler shift, Hz (Jakes spectrum)

	// Oscillators, as errors relative to nominal in parts per million. One crystal
	// per device drives both its carrier and its sample clock (HackRF: one 25 MHz
	// reference), so a pair of values fixes both the carrier offset and the rate
	// mismatch.
	TxPPM, RxPPM float64
	// CarrierOffset is the difference of the nominal centre frequencies, transmitter
	// minus receiver, Hz; the oscillator errors add CarrierHz*(TxPPM-RxPPM)*1e-6.
	CarrierOffset float64
	CarrierHz     float64 // nominal carrier, Hz, for the ppm to Hz conversion
	// PhaseNoise is the combined 3 dB linewidth of both oscillators, Hz (Wiener
	// phase noise: the phase increment over one sample has variance 2*pi*PhaseNoise/fs).
	PhaseNoise float64

	// Level scales the signal at the converter input, dB. SNR (below) is unaffected:
	// the noise scales with it, so only clipping and quantisation see the level.
	Level float64
	// TxGain scales the signal only, dB: the transmitter's gain relative to its
	// default, which moves the signal above the receiver's noise floor.
	TxGain float64
	// AWGN adds white Gaussian noise at SNR; without it there is none.
	AWGN bool
	// SNR is the signal-to-noise ratio in dB, defined for the whole project as the
	// mean power of the received signal over the noise power in the full sample
	// bandwidth. Here it sets the thermal noise alone: quantisation (Bits) adds its
	// own noise after it. The signal power it refers to is RefPower (linear, full scale 1):
	// a transmitted signal of mean power RefPower arrives at this SNR (averaged over
	// fading).
	SNR      float64
	RefPower float64

	// Receiver front end.
	IQGain  float64    // I/Q gain imbalance, dB (Q branch relative to I)
	IQPhase float64    // I/Q phase imbalance, degrees
	DC      complex128 // DC offset, full scale 1
	Bits    int        // ADC resolution; 0 = no quantisation. Clips at full scale.

	// Start is the transmitter-clock index that receiver sample 0 sees (negative
	// values put silence first).
	Start int64
	Seed  uint64
}

// Channel turns a transmitted sample stream into what one receiver gets. It works in
// blocks aligned to absolute sample indices, so its output does not depend on how
// callers cut their reads: Process(dst[:a]) then Process(dst[a:]) equals one call.
//
// Stages, in the order the signal meets them:
//
//  1. multipath with time-varying Rayleigh or Rician taps (transmitter clock);
//  2. the receiver's sample clock: band-limited interpolation at the rate ratio;
//  3. carrier offset and Wiener phase noise;
//  4. level, then additive white Gaussian noise;
//  5. I/Q imbalance and DC offset of the receiver's mixer;
//  6. ADC quantisation with clipping at full scale.
type Channel struct {
	cfg ChannelConfig

	fade *fader     // nil: flat
	rs   *resampler // nil: receiver clock equals transmitter clock

	// z is the signal after stage 1 on the transmitter clock: z[i] = zbuf[i-zbase].
	zbuf  []complex64
	zbase int64
	xwin  []complex64 // input window for stage 1

	// Output position and carry of a partly delivered block.
	next  int64       // index of the next output sample the caller gets
	block []complex64 // current output block
	bpos  int         // first undelivered sample of block

	// Stage 3.
	omega   float64    // carrier offset, rad per receiver sample
	pnSigma float64    // phase-noise increment standard deviation, rad
	pnPhase float64    // accumulated phase noise, rad
	cfoAt   int64      // output index where cfoPh holds
	cfoPh   float64    // carrier-offset phase at cfoAt, in [-pi, pi)
	phasor  complex128 // rotation phasor after the last sample of the last block
	rot     complex128 // exp(j*omega)
	pn      *normal
	pnBuf   []float32

	// Stages 4-6.
	gain             float32 // amplitude of Level
	sigma            float32 // noise standard deviation per dimension
	noise            *normal
	iqA, iqB         float32 // Q' = iqA*Q + iqB*I
	iqOn             bool
	dcRe, dcIm       float32
	qScale, qInv     float32
	qMin, qMax       float32
	quantise, rotate bool
}

// Block lengths.
const (
	// fadeBlock is how many transmitter samples share one set of fading taps. At
	// 20 Msps it is 3.2 us; even 1 kHz of Doppler turns a tap by 0.02 rad in that time.
	fadeBlock = 64
	// outBlock is how many output samples share one interpolation phase. With a
	// 100 ppm clock error the phase drifts by 8e-4 samples across it, a timing error
	// 60 dB below the signal at the band edge.
	outBlock = 16
)

// Errors for invalid channel configurations.
var errRate = errors.New("loopback: sample rate must be positive and finite")

// NewChannel checks cfg and builds the channel.
func NewChannel(cfg ChannelConfig) (*Channel, error) {
	if !(cfg.SampleRate > 0) || math.IsInf(cfg.SampleRate, 0) {
		return nil, errRate
	}
	if cfg.RefPower == 0 {
		cfg.RefPower = DefaultRefPower
	}
	for _, c := range []struct {
		name string
		v    float64
		ok   bool
	}{
		{"doppler", cfg.Doppler, cfg.Doppler >= 0 && cfg.Doppler < cfg.SampleRate/100},
		{"tx ppm", cfg.TxPPM, math.Abs(cfg.TxPPM) <= 1000},
		{"rx ppm", cfg.RxPPM, math.Abs(cfg.RxPPM) <= 1000},
		{"phase noise", cfg.PhaseNoise, cfg.PhaseNoise >= 0 && cfg.PhaseNoise <= cfg.SampleRate/100},
		{"level", cfg.Level, math.Abs(cfg.Level) <= 200},
		{"tx gain", cfg.TxGain, math.Abs(cfg.TxGain) <= 200},
		{"snr", cfg.SNR, !cfg.AWGN || cfg.SNR > -100 && cfg.SNR < 300},
		{"ref power", cfg.RefPower, cfg.RefPower > 0 && !math.IsInf(cfg.RefPower, 0)},
		{"iq gain", cfg.IQGain, math.Abs(cfg.IQGain) <= 6},
		{"iq phase", cfg.IQPhase, math.Abs(cfg.IQPhase) <= 45},
		{"carrier offset", cfg.CarrierOffset, !math.IsInf(cfg.CarrierOffset, 0)},
		{"carrier", cfg.CarrierHz, cfg.CarrierHz >= 0 && !math.IsInf(cfg.CarrierHz, 0)},
		{"dc", cmplx.Abs(cfg.DC), cmplx.Abs(cfg.DC) <= 1},
	} {
		if math.IsNaN(c.v) || !c.ok {
			return nil, fmt.Errorf("loopback: channel %s %g out of range", c.name, c.v)
		}
	}
	if cfg.Bits < 0 || cfg.Bits > 24 {
		return nil, fmt.Errorf("loopback: channel bits %d out of range 0..24", cfg.Bits)
	}
	c := &Channel{cfg: cfg}
	zt := newZigTables()
	fs := cfg.SampleRate
	if !flat(cfg.Paths, cfg.Doppler) {
		f, err := newFader(cfg.Paths, cfg.Doppler, fs, cfg.Seed^0x5a17, zt)
		if err != nil {
			return nil, err
		}
		c.fade = f
	}
	// Receiver sample n is taken when the transmitter clock reads n*(1+eTx)/(1+eRx).
	eTx, eRx := cfg.TxPPM*1e-6, cfg.RxPPM*1e-6
	if eps := (eTx - eRx) / (1 + eRx); eps != 0 {
		c.rs = newResampler(eps)
	}
	// Carrier offset in Hz, then per receiver sample (the receiver's clock is fast
	// by eRx, so its samples are 1/(fs*(1+eRx)) apart).
	df := cfg.CarrierOffset + cfg.CarrierHz*(eTx-eRx)
	c.omega = 2 * math.Pi * df / (fs * (1 + eRx))
	c.rot = cmplx.Exp(complex(0, c.omega))
	if cfg.PhaseNoise > 0 {
		c.pnSigma = math.Sqrt(2 * math.Pi * cfg.PhaseNoise / fs)
		c.pn = newNormal(cfg.Seed^0x9e11, zt)
		c.pnBuf = make([]float32, outBlock)
	}
	c.rotate = c.omega != 0 || c.pnSigma != 0
	c.gain = float32(math.Pow(10, (cfg.Level+cfg.TxGain)/20))
	if cfg.AWGN {
		np := cfg.RefPower * math.Pow(10, (cfg.Level-cfg.SNR)/10)
		c.sigma = float32(math.Sqrt(np / 2))
		c.noise = newNormal(cfg.Seed^0x0123, zt)
	}
	if cfg.IQGain != 0 || cfg.IQPhase != 0 {
		g := math.Pow(10, cfg.IQGain/20)
		ph := cfg.IQPhase * math.Pi / 180
		c.iqA, c.iqB, c.iqOn = float32(g*math.Cos(ph)), float32(-g*math.Sin(ph)), true
	}
	c.dcRe, c.dcIm = float32(real(cfg.DC)), float32(imag(cfg.DC))
	if cfg.Bits > 0 {
		s := float32(math.Ldexp(1, cfg.Bits-1))
		c.quantise, c.qScale, c.qInv = true, s, 1/s
		c.qMin, c.qMax = -s, s-1
	}
	c.block = make([]complex64, outBlock)
	c.Reset()
	return c, nil
}

// DefaultRefPower is the signal power that SNR refers to when ChannelConfig.RefPower is
// zero: the mean power of an IEEE 802.11a frame (and of m4sc's frames) at the standard's
// amplitude, 52 unit-power subcarriers through a 64-point inverse DFT scaled by 1/64,
// which is 52/4096 or -18.96 dBFS.
const DefaultRefPower = 52.0 / 4096

func flat(paths []Path, doppler float64) bool {
	return len(paths) == 0 || len(paths) == 1 && paths[0].Delay == 0 && (doppler == 0 || paths[0].LOS) && paths[0].Power == 1 && !paths[0].LOS
}

// Reset returns the channel to receiver sample 0 with its random streams restarted.
func (c *Channel) Reset() {
	c.next = 0
	c.bpos = outBlock
	c.zbuf = c.zbuf[:0]
	c.zbase = c.cfg.Start - stageBHistory - 1
	c.pnPhase = 0
	c.cfoAt = math.MinInt64 / 2
	if c.pn != nil {
		*c.pn = *newNormal(c.cfg.Seed^0x9e11, c.pn.zt)
	}
	if c.noise != nil {
		*c.noise = *newNormal(c.cfg.Seed^0x0123, c.noise.zt)
	}
	if c.fade != nil {
		c.fade.reset()
	}
	c.alignZ(c.zbase)
}

// stageBHistory is how far before the current position stage 2 reads.
const stageBHistory = resampleHalf

// alignZ empties the stage-1 buffer and restarts it at the fade block containing i.
func (c *Channel) alignZ(i int64) {
	c.zbuf = c.zbuf[:0]
	c.zbase = floorDiv(i, fadeBlock) * fadeBlock
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Next returns the index of the next output sample.
func (c *Channel) Next() int64 { return c.next }

// Process writes the next len(dst) received samples, reading the transmitted signal
// from in.
func (c *Channel) Process(dst []complex64, in Input) {
	if rest := outBlock - c.bpos; len(dst) > rest {
		// Bring stage 1 up to everything this call needs in one pass.
		first := c.next + int64(rest)
		last := c.next + int64(len(dst)) - 1
		lo, _ := c.zRange(first - (first%outBlock+outBlock)%outBlock)
		_, hi := c.zRange(last - (last%outBlock+outBlock)%outBlock)
		c.ensureZ(lo, hi, in)
	}
	for len(dst) > 0 {
		if c.bpos == outBlock {
			c.computeBlock(c.next-int64(c.next%outBlock+outBlock)%outBlock, in)
			c.bpos = int(((c.next % outBlock) + outBlock) % outBlock)
		}
		k := copy(dst, c.block[c.bpos:])
		c.bpos += k
		c.next += int64(k)
		dst = dst[k:]
	}
}

// Skip advances the output by n samples without computing them, as a receiver does
// when samples are lost. The random streams keep their place in no particular way, so
// output after a skip differs from output after Process of the same length.
func (c *Channel) Skip(n int64) {
	if n <= 0 {
		return
	}
	target := c.next + n
	// Finish the current block in the ordinary way if the skip ends inside it.
	blockStart := c.next - int64(c.bpos)
	if c.bpos < outBlock && target < blockStart+outBlock {
		c.bpos += int(n)
		c.next = target
		return
	}
	c.next = target
	c.bpos = outBlock
	lo, _ := c.zRange(target - target%outBlock)
	c.alignZ(lo)
	c.pnPhase = 0
}

// Need returns the transmitter-clock indices [lo, hi) of input that producing the next
// n output samples reads. A receiver waits until the air holds them; nothing before lo
// is read again.
func (c *Channel) Need(n int) (lo, hi int64) {
	nb := c.next // start of the next block to compute
	if c.bpos < outBlock {
		nb = c.next + int64(outBlock-c.bpos)
	}
	last := c.next + int64(n) - 1
	zlo, _ := c.zRange(nb)
	start := c.zbase + int64(len(c.zbuf))
	if zlo < c.zbase || zlo > start+4*fadeBlock {
		start = floorDiv(zlo, fadeBlock) * fadeBlock
	}
	if last < nb {
		return start, start
	}
	_, zhi := c.zRange(last - (last%outBlock+outBlock)%outBlock)
	if c.fade != nil {
		zhi = (floorDiv(zhi-1, fadeBlock) + 1) * fadeBlock
		start -= int64(c.fade.jhi)
		zhi -= int64(c.fade.jlo)
	}
	return start, max(start, zhi)
}

// zRange gives the stage-1 indices [lo, hi) that the output block starting at n0 reads.
func (c *Channel) zRange(n0 int64) (lo, hi int64) {
	if c.rs == nil {
		i0 := c.cfg.Start + n0
		return i0, i0 + outBlock
	}
	i0, _ := c.rs.position(c.cfg.Start, n0)
	return i0 - resampleHalf + 1, i0 + outBlock + resampleHalf
}

// ensureZ makes z available on [lo, hi) and drops what lies before lo.
func (c *Channel) ensureZ(lo, hi int64, in Input) {
	if lo < c.zbase || lo > c.zbase+int64(len(c.zbuf))+4*fadeBlock {
		// A jump (start, or a skip): restart stage 1 there.
		c.alignZ(lo)
	}
	// Drop consumed samples, keeping whole fade blocks.
	// Compact only when at least half the buffer is dead, so the copying costs O(1)
	// per sample.
	if drop := floorDiv(lo-c.zbase, fadeBlock) * fadeBlock; drop >= 16*fadeBlock && 2*drop >= int64(len(c.zbuf)) {
		n := copy(c.zbuf, c.zbuf[drop:])
		c.zbuf = c.zbuf[:n]
		c.zbase += drop
	}
	end := c.zbase + int64(len(c.zbuf))
	if end >= hi {
		return
	}
	if c.fade == nil {
		n := int(hi - end)
		c.zbuf = grow(c.zbuf, n)
		in.Samples(c.zbuf[len(c.zbuf)-n:], end)
		return
	}
	// Stage 1 works in whole fade blocks; fetch the input for all of them at once.
	f := c.fade
	blocks := int((hi - end + fadeBlock - 1) / fadeBlock)
	need := blocks*fadeBlock + f.length - 1
	if cap(c.xwin) < need {
		c.xwin = make([]complex64, 2*need)
	}
	x := c.xwin[:need]
	in.Samples(x, end-int64(f.jhi))
	c.zbuf = grow(c.zbuf, blocks*fadeBlock)
	z := c.zbuf[len(c.zbuf)-blocks*fadeBlock:]
	for b := 0; b < blocks; b++ {
		o := b * fadeBlock
		f.block(z[o:o+fadeBlock], x[o:o+fadeBlock+f.length-1], end+int64(o))
	}
}

func grow(s []complex64, n int) []complex64 {
	if len(s)+n > cap(s) {
		t := make([]complex64, len(s), 2*(len(s)+n))
		copy(t, s)
		s = t
	}
	return s[:len(s)+n]
}

// computeBlock fills c.block with output samples n0 .. n0+outBlock-1.
func (c *Channel) computeBlock(n0 int64, in Input) {
	lo, hi := c.zRange(n0)
	c.ensureZ(lo, hi, in)
	y := c.block
	z := c.zbuf[lo-c.zbase : hi-c.zbase]
	if c.rs == nil {
		copy(y, z)
	} else {
		_, mu := c.rs.position(c.cfg.Start, n0)
		c.rs.interpolate(y, z, mu)
	}
	c.post(y, n0)
}

// post applies stages 3 to 6 in place.
func (c *Channel) post(y []complex64, n0 int64) {
	if c.rotate {
		// Start each block from the exact phase so rounding cannot accumulate; within
		// the block the phasor steps by exp(j(omega+d)), written out in real
		// arithmetic (Go's complex multiply is slower).
		pr, pi := c.blockPhasor(n0)
		rr, ri := real(c.rot), imag(c.rot)
		var d []float32
		if c.pn != nil {
			d = c.pnBuf[:len(y)]
			c.pn.fill(d)
		}
		for i, v := range y {
			if d != nil {
				// exp(jx) to fifth order in x = sigma*z, |x| < 0.1 rad for any allowed
				// linewidth; then times exp(j*omega).
				x := c.pnSigma * float64(d[i])
				c.pnPhase += x
				x2 := x * x
				er, ei := 1-x2*(0.5-x2/24), x*(1-x2*(1.0/6-x2/120))
				qr, qi := er*rr-ei*ri, er*ri+ei*rr
				pr, pi = pr*qr-pi*qi, pr*qi+pi*qr
			} else {
				pr, pi = pr*rr-pi*ri, pr*ri+pi*rr
			}
			a, b := float32(pr), float32(pi)
			y[i] = complex(real(v)*a-imag(v)*b, real(v)*b+imag(v)*a)
		}
		c.phasor = complex(pr, pi)
	} else if c.gain != 1 {
		for i := range y {
			y[i] *= complex(c.gain, 0)
		}
	}
	if c.noise != nil {
		c.noise.addComplex(y, c.sigma)
	}
	if c.iqOn || c.dcRe != 0 || c.dcIm != 0 || c.quantise {
		for i, v := range y {
			re, im := real(v), imag(v)
			if c.iqOn {
				im = c.iqA*im + c.iqB*re
			}
			re += c.dcRe
			im += c.dcIm
			if c.quantise {
				re = c.quant(re)
				im = c.quant(im)
			}
			y[i] = complex(re, im)
		}
	}
}

// quant rounds to the ADC grid and clips at full scale. Adding and subtracting 1.5*2^23
// rounds a float32 of magnitude below 2^22 to the nearest integer (ties to even) without
// a call to math.Round.
func (c *Channel) quant(v float32) float32 {
	const magic = 12582912
	q := min(max(v*c.qScale, c.qMin), c.qMax)
	q = (q + magic) - magic
	return q * c.qInv
}

// blockPhasor returns gain*exp(j*phase) for output n0, where the phase is the carrier
// offset's plus the phase noise's. Consecutive blocks carry the phasor on from the last
// sample of the previous block (the recurrence that post runs), with its magnitude
// pulled back to the gain; every 256 blocks, and after a jump, it is recomputed
// exactly from the accumulated phases.
func (c *Channel) blockPhasor(n0 int64) (float64, float64) {
	g := float64(c.gain)
	if n0 == c.cfoAt+outBlock {
		c.cfoPh = wrap(c.cfoPh + c.omega*outBlock)
		c.cfoAt = n0
		if (n0/outBlock)%256 != 0 {
			p := c.phasor
			// One Newton step towards |p| = g: p *= (3g^2 - |p|^2) / (2g^2).
			m := (3*g*g - (real(p)*real(p) + imag(p)*imag(p))) / (2 * g * g)
			// The phasor left by the previous block's last sample is where this
			// block starts (post steps before it applies).
			return real(p) * m, imag(p) * m
		}
	} else {
		c.cfoPh = wrap(math.Mod(c.omega*float64(n0), 2*math.Pi))
		c.cfoAt = n0
	}
	c.pnPhase = wrap(c.pnPhase)
	s, co := math.Sincos(c.cfoPh + c.pnPhase)
	return g * co, g * s
}

func wrap(p float64) float64 {
	if p >= math.Pi || p < -math.Pi {
		p -= 2 * math.Pi * math.Floor((p+math.Pi)/(2*math.Pi))
	}
	return p
}
