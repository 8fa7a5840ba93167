package calibration

import (
	"context"
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/burst"
	"github.com/m4sc/m4sc/radio/spectrum"
)

// Defaults of Config, and the levels the gain sweep aims at.
const (
	DefaultSampleRate   = 20e6    // samples/s: the 802.11a numerology
	DefaultFrequency    = 2.45e9  // Hz
	DefaultFrames       = 200     // 802.11a frames for the carrier offset, mirror I/Q and channel
	DefaultSweepFrames  = 8       // frames per gain setting
	DefaultToneSamples  = 1 << 18 // CW tone, 13 ms at 20 Msps
	DefaultIdleSamples  = 1 << 18 // idle samples for the DC offset
	DefaultNoiseSamples = 1 << 20 // noise samples for the moment I/Q estimator
	// DefaultLead is the silence sent before every burst and the extra samples read
	// after it: room for a receiver that starts late or early (the loopback hackrf
	// preset starts up to 20000 samples early). Hardware whose streams take longer to
	// start needs more.
	DefaultLead = 50000

	DefaultTargetLevel = -18.0 // dBFS of mean power the sweep aims at
	HeadroomHigh       = -15.0 // dBFS: the loudest mean level the sweep accepts
	HeadroomLow        = -20.0 // dBFS: the quietest it prefers
	// ClipLevel is the |I| or |Q| (full scale 1) at which a sample counts as clipped:
	// an 8-bit converter's largest positive code is 127/128 = 0.992.
	ClipLevel = 0.99
	// NoiseTarget is the idle noise level (dBFS) the receive gain is raised to for the
	// moment estimator, so that the converter's steps are small against the noise.
	NoiseTarget = -25.0
)

// Parameters of the signals sent, not worth configuring.
const (
	framePSDU      = 1000 // octets, FCS included: 38 symbols of 64-QAM
	frameGap       = 400  // idle samples between frames
	frameMbps      = 54   // 64-QAM: the sweep's EVM and the mirror estimator want QAM
	noiseProbe     = 1 << 14
	maxNoiseSteps  = 5
	minNoiseDBFS   = NoiseTarget - 10 // below it the moment estimate is not trusted
	sweepMaxPoints = 12               // settings of the transmit gain tried
	sweepMinStep   = 3.0              // dB between them at least
)

// GainMode says how Run chooses gains.
type GainMode int

const (
	// GainSweep sweeps the transmit and receive gains (the default).
	GainSweep GainMode = iota
	// GainFixed keeps Config.TXGains and Config.RXGains (device defaults for stages
	// left out) and only measures what they give.
	GainFixed
)

// Config configures Run. Zero values take the defaults above.
type Config struct {
	SampleRate float64 // samples/s; DefaultSampleRate
	Frequency  float64 // Hz; DefaultFrequency
	Bandwidth  float64 // baseband filter, Hz; 0: the device's automatic choice
	// TXGains and RXGains are the gains to start from (GainSweep) or to keep
	// (GainFixed); stages left out take the device's defaults.
	TXGains, RXGains map[string]float64
	Gains            GainMode

	Frames       int     // DefaultFrames
	SweepFrames  int     // DefaultSweepFrames
	ToneSamples  int     // DefaultToneSamples
	IdleSamples  int     // DefaultIdleSamples
	NoiseSamples int     // DefaultNoiseSamples
	Lead         int     // DefaultLead; negative for none
	TargetLevel  float64 // dBFS; DefaultTargetLevel
	Seed         uint64  // of the frames' payloads
}

func (c Config) withDefaults() (Config, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if c.SampleRate == 0 {
		c.SampleRate = DefaultSampleRate
	}
	if c.Frequency == 0 {
		c.Frequency = DefaultFrequency
	}
	def(&c.Frames, DefaultFrames)
	def(&c.SweepFrames, DefaultSweepFrames)
	def(&c.ToneSamples, DefaultToneSamples)
	def(&c.IdleSamples, DefaultIdleSamples)
	def(&c.NoiseSamples, DefaultNoiseSamples)
	def(&c.Lead, DefaultLead)
	if c.Lead < 0 {
		c.Lead = 0
	}
	if c.TargetLevel == 0 {
		c.TargetLevel = DefaultTargetLevel
	}
	bad := func(name string, v any, want string) (Config, error) {
		return c, fmt.Errorf("calibration: config %s %v: %s", name, v, want)
	}
	switch {
	case !(c.SampleRate > 0) || math.IsInf(c.SampleRate, 0):
		return bad("sample rate", c.SampleRate, "must be positive")
	case !(c.Frequency > 0) || math.IsInf(c.Frequency, 0):
		return bad("frequency", c.Frequency, "must be positive")
	case c.Frames < 4:
		return bad("frames", c.Frames, "at least 4")
	case c.SweepFrames < 1:
		return bad("sweep frames", c.SweepFrames, "at least 1")
	case c.ToneSamples < 1<<12:
		return bad("tone samples", c.ToneSamples, "at least 4096")
	case c.IdleSamples < 1<<10:
		return bad("idle samples", c.IdleSamples, "at least 1024")
	case c.NoiseSamples < 1<<12:
		return bad("noise samples", c.NoiseSamples, "at least 4096")
	case c.Gains != GainSweep && c.Gains != GainFixed:
		return bad("gain mode", int(c.Gains), "unknown")
	case !(c.TargetLevel < 0 && c.TargetLevel > -100):
		return bad("target level", c.TargetLevel, "must lie in -100..0 dBFS")
	}
	return c, nil
}

// Stages of Run, as the progress callback names them.
const (
	StageGains   = "gains"
	StageDC      = "dc offset"
	StageNoise   = "noise (I/Q)"
	StageFrames  = "frames"
	StageTone    = "tone"
	StageChannel = "channel"
)

// stageSpans are the parts of the whole run each stage reports progress in.
var stageSpans = map[string][2]float64{
	StageGains:   {0, 0.4},
	StageDC:      {0.4, 0.45},
	StageNoise:   {0.45, 0.6},
	StageFrames:  {0.6, 0.8},
	StageTone:    {0.8, 0.9},
	StageChannel: {0.9, 1},
}

// Run measures the pair tx -> rx and returns its profile. Both devices are tuned to
// cfg's rate and frequency; on return they keep the gains the profile names. progress,
// if not nil, is called with the current stage and the fraction of the whole run done
// (0..1). Nothing is printed.
//
// Stages: gain sweep (802.11a 64-QAM frames at each setting), DC offset and noise
// floor (idle samples at the chosen gains), moment I/Q estimate (idle noise with the
// receive gain raised towards NoiseTarget), frames (carrier offset from each frame's
// long training field, mirror I/Q estimate), CW tone (carrier offset by phase slope),
// channel (the frames again, corrected by the profile: SNR per subcarrier, delay
// spread, EVM).
func Run(ctx context.Context, tx, rx radio.Device, cfg Config, progress func(stage string, frac float64)) (*Profile, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if !tx.Info().CanTX {
		return nil, fmt.Errorf("calibration: %s cannot transmit: %w", tx.Info().Spec, radio.ErrUnsupported)
	}
	if !rx.Info().CanRX {
		return nil, fmt.Errorf("calibration: %s cannot receive: %w", rx.Info().Spec, radio.ErrUnsupported)
	}
	t, err := phy.NewTransmitter(phy.TransmitterConfig{})
	if err != nil {
		return nil, err
	}
	rate, err := phy.RateByMbps(frameMbps)
	if err != nil {
		return nil, err
	}
	r := &runner{ctx: ctx, tx: tx, rx: rx, cfg: cfg, progress: progress, t: t, rate: rate,
		txPlan: newGainPlan(tx.Info(), radio.TX), rxPlan: newGainPlan(rx.Info(), radio.RX)}
	r.pktLen = t.PacketLen(framePSDU, rate)
	base := radio.Config{SampleRate: cfg.SampleRate, Frequency: cfg.Frequency, Bandwidth: cfg.Bandwidth}
	r.txBase, r.rxBase = base.Clone(), base.Clone()
	r.txBase.Gains = r.txPlan.merge(cfg.TXGains)
	r.rxBase.Gains = r.rxPlan.merge(cfg.RXGains)
	if err := tx.Configure(r.txBase); err != nil {
		return nil, fmt.Errorf("calibration: transmitter: %w", err)
	}
	if err := rx.Configure(r.rxBase); err != nil {
		return nil, fmt.Errorf("calibration: receiver: %w", err)
	}
	r.txGain, r.rxGain = r.txPlan.total(r.txBase.Gains), r.rxPlan.total(r.rxBase.Gains)
	p := &Profile{
		Version: ProfileVersion, Created: time.Now().UTC().Truncate(time.Second),
		TX: deviceID(tx), RX: deviceID(rx), Frequency: cfg.Frequency, SampleRate: cfg.SampleRate,
		IQ: IQImbalance{Method: IQNone},
	}
	steps := []struct {
		stage string
		run   func(*Profile) error
	}{
		{StageGains, r.gains},
		{StageDC, r.dcOffset},
		{StageNoise, r.noise},
		{StageFrames, r.frames},
		{StageTone, r.tone},
		{StageChannel, r.channel},
	}
	for _, s := range steps {
		if err := context.Cause(ctx); err != nil {
			return nil, err
		}
		r.stage = s.stage
		r.report(0)
		if err := s.run(p); err != nil {
			return nil, err
		}
		r.report(1)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("calibration: measured profile is out of range: %w", err)
	}
	return p, nil
}

func deviceID(d radio.Device) Device {
	in := d.Info()
	return Device{Spec: in.Spec, Driver: in.Driver, Serial: in.Serial}
}

// merge returns the plan's stages with the values of m where it names them and the
// defaults elsewhere; names of other stages are kept, for the device to refuse.
func (g gainPlan) merge(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for _, s := range g.stages {
		out[s.Name] = s.Default
	}
	for k, v := range m {
		out[k] = v
	}
	return out
}

type runner struct {
	ctx            context.Context
	tx, rx         radio.Device
	cfg            Config
	progress       func(string, float64)
	stage          string
	t              *phy.Transmitter
	rate           phy.Rate
	pktLen         int
	txPlan, rxPlan gainPlan
	txBase, rxBase radio.Config // tuning, with the gains in force
	txGain, rxGain float64      // totals in force

	frameY      []complex64 // the frames stage's capture
	momentOK    bool        // the moment estimate rests on noise well above the converter's steps
	sweepFrames []complex64
}

func (r *runner) report(f float64) {
	if r.progress == nil {
		return
	}
	s := stageSpans[r.stage]
	r.progress(r.stage, s[0]+(s[1]-s[0])*clamp(f, 0, 1))
}

// setGains configures both devices for the given total gains, spread over their
// stages, and records the totals actually set.
func (r *runner) setGains(txTotal, rxTotal float64) error {
	tc, rc := r.txBase.Clone(), r.rxBase.Clone()
	if len(r.txPlan.stages) > 0 {
		for k, v := range r.txPlan.settings(txTotal) {
			tc.Gains[k] = v
		}
	}
	if len(r.rxPlan.stages) > 0 {
		for k, v := range r.rxPlan.settings(rxTotal) {
			rc.Gains[k] = v
		}
	}
	if err := r.tx.Configure(tc); err != nil {
		return fmt.Errorf("calibration: transmitter: %w", err)
	}
	if err := r.rx.Configure(rc); err != nil {
		return fmt.Errorf("calibration: receiver: %w", err)
	}
	r.txBase, r.rxBase = tc, rc
	r.txGain, r.rxGain = r.txPlan.total(tc.Gains), r.rxPlan.total(rc.Gains)
	return nil
}

// capture sends x from tx (nothing if nil) while rx receives n samples, and returns
// them with the indices where samples were lost before them. A recording that ends
// early gives fewer samples. burst.Run says in what order the streams start.
func (r *runner) capture(x []complex64, n int) ([]complex64, []int, error) {
	var src burst.Source
	if x != nil {
		src = burst.Samples(x)
	}
	got, err := burst.Capture(r.ctx, r.tx, r.rx, src, n, burst.Config{})
	if err != nil {
		return nil, nil, fmt.Errorf("calibration: %w", err)
	}
	return got.Samples, got.Breaks, nil
}

// payload is frame i's PSDU: random octets and the FCS.
func payload(seed uint64, i int) []byte {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	p := make([]byte, framePSDU-phy.FCSLen)
	for j := range p {
		p[j] = byte(rng.Uint32())
	}
	return phy.AppendFCS(p)
}

// frameBurst is the lead's silence and then n frames at 54 Mbit/s with gaps.
func (r *runner) frameBurst(n int, seed uint64) []complex64 {
	x := make([]complex64, r.cfg.Lead, r.cfg.Lead+n*(r.pktLen+frameGap))
	for i := range n {
		x = r.t.Packet(x, payload(seed, i), r.rate, uint8(1+i%127))
		x = append(x, make([]complex64, frameGap)...)
	}
	return x
}

func receive(y []complex64) ([]phy.Frame, error) {
	rcv, err := phy.NewReceiver(phy.ReceiverConfig{})
	if err != nil {
		return nil, err
	}
	return rcv.Flush(rcv.Receive(nil, y)), nil
}

// ours reports whether f is one of the frames sent, demodulated to the end (its
// SIGNAL as sent; the PSDU may have errors).
func (r *runner) ours(f phy.Frame) bool {
	return f.Err == nil && f.Rate == frameMbps && f.Length == framePSDU
}

// intact reports whether f is one of the frames sent, decoded without error.
func (r *runner) intact(f phy.Frame) bool { return r.ours(f) && f.FCSOK }

func dbfs(p float64) float64 {
	if !(p > 0) {
		return MinLevelDBFS
	}
	return clamp(10*math.Log10(p), MinLevelDBFS, MaxLevelDBFS)
}

// measure sends the sweep's frames at the gains in force and scores what arrives.
func (r *runner) measure() (SweepPoint, error) {
	if r.sweepFrames == nil {
		r.sweepFrames = r.frameBurst(r.cfg.SweepFrames, r.cfg.Seed^0x5eed)
	}
	y, _, err := r.capture(r.sweepFrames, len(r.sweepFrames)+r.cfg.Lead)
	if err != nil {
		return SweepPoint{}, err
	}
	frames, err := receive(y)
	if err != nil {
		return SweepPoint{}, err
	}
	pt := SweepPoint{TXGain: r.txGain, RXGain: r.rxGain, Frames: r.cfg.SweepFrames}
	dc := meanDC(y)
	var peak float64
	for _, v := range y {
		re, im := math.Abs(float64(real(v))), math.Abs(float64(imag(v)))
		peak = math.Max(peak, math.Max(re, im))
		if re >= ClipLevel || im >= ClipLevel {
			pt.Clipped++
		}
	}
	pt.PeakDBFS = clamp(20*math.Log10(math.Max(peak, 1e-10)), MinLevelDBFS, MaxLevelDBFS)
	var pw, evm float64
	var np, ne int
	for _, f := range frames {
		if f.Rate != frameMbps || f.Length != framePSDU || f.Start < 0 || int(f.Start)+r.pktLen > len(y) {
			continue
		}
		pw += meanPower(y[f.Start:int(f.Start)+r.pktLen], dc)
		np++
		if r.ours(f) {
			ne++
			evm += math.Pow(10, f.EVM/10)
		}
		if r.intact(f) {
			pt.Decoded++
		}
	}
	switch {
	case np > 0:
		pt.LevelDBFS = dbfs(pw / float64(np))
	default:
		// No frame to measure: the loudest part of the capture stands for the level.
		if lo, hi, ok := BurstSpan(y, dc, 1024, 1); ok {
			pt.LevelDBFS = dbfs(meanPower(y[lo:hi], dc))
		} else {
			pt.LevelDBFS = dbfs(meanPower(y, dc))
		}
	}
	if ne > 0 {
		pt.EVMDB = clamp(10*math.Log10(evm/float64(ne)), MinLevelDBFS, -1e-9)
	}
	return pt, nil
}

// usable reports whether a sweep point can be chosen: nothing clipped and an EVM
// measured (some frames demodulated to the end).
func usable(p SweepPoint) bool { return p.Clipped == 0 && p.EVMDB < 0 }

// gains runs the gain sweep (or measures the fixed gains) and leaves the chosen
// gains in force.
//
// The received level is taken to move dB for dB with either side's total gain (true
// of the simulator, nearly so of a HackRF). First a reference at the starting gains;
// then up to sweepMaxPoints transmit gains across the transmitter's range, each with the
// receive gain that should bring the frames to the target level, keeping the lowest
// transmit gain whose EVM is within 0.5 dB of the best (more drive buys nothing once
// the converters' quantisation, not the noise, limits the EVM); then receive gains
// from 8 dB below to 6 dB above the target in 2 dB steps at that transmit gain,
// keeping the best EVM whose level lies in HeadroomLow..HeadroomHigh (ties within 0.3
// dB to the level nearest the target). Clipped points are never chosen.
func (r *runner) gains(p *Profile) error {
	var pts []SweepPoint
	add := func(pt SweepPoint) { pts = append(pts, pt) }
	ref, err := r.measure()
	if err != nil {
		return err
	}
	add(ref)
	if r.cfg.Gains == GainFixed {
		r.report(1)
		r.setProfileGains(p, ref, nil)
		return nil
	}
	t0, g0 := r.txGain, r.rxGain
	if ref.EVMDB == 0 {
		// Nothing decoded at the starting gains: look around them for frames.
		for _, d := range [][2]float64{{0, 10}, {0, 20}, {10, 20}, {0, -10}, {0, -20}, {-10, -20}} {
			if err := r.setGains(t0+d[0], g0+d[1]); err != nil {
				return err
			}
			pt, err := r.measure()
			if err != nil {
				return err
			}
			add(pt)
			if pt.EVMDB < 0 {
				ref = pt
				break
			}
		}
		if ref.EVMDB == 0 {
			return fmt.Errorf("calibration: no frame from %s reached %s at any gain tried: check the cabling and attenuation", r.tx.Info().Spec, r.rx.Info().Spec)
		}
	}
	r.report(0.1)
	// level = offset + tx + rx
	offset := ref.LevelDBFS - ref.TXGain - ref.RXGain
	target := r.cfg.TargetLevel
	lo, hi := r.txPlan.lo, r.txPlan.hi
	n := 1
	if hi > lo {
		n = min(sweepMaxPoints, int((hi-lo)/sweepMinStep)+1)
	}
	var txPts []SweepPoint
	seen := map[[2]float64]bool{}
	for i := range n {
		tt := ref.TXGain
		if n > 1 {
			tt = lo + (hi-lo)*float64(i)/float64(n-1)
		}
		rr := clamp(target-offset-tt, r.rxPlan.lo, r.rxPlan.hi)
		if err := r.setGains(tt, rr); err != nil {
			return err
		}
		k := [2]float64{r.txGain, r.rxGain}
		if seen[k] || offset+r.txGain+r.rxGain > target+10 {
			continue // done already, or too loud even at the least receive gain
		}
		seen[k] = true
		pt, err := r.measure()
		if err != nil {
			return err
		}
		add(pt)
		txPts = append(txPts, pt)
		r.report(0.1 + 0.5*float64(i+1)/float64(n))
	}
	best := ref
	if c := pickTX(txPts); c >= 0 {
		best = txPts[c]
		offset = best.LevelDBFS - best.TXGain - best.RXGain
	}
	rxPts := []SweepPoint{best}
	for lv := target - 8; lv <= target+6; lv += 2 {
		rr := clamp(lv-offset-best.TXGain, r.rxPlan.lo, r.rxPlan.hi)
		if err := r.setGains(best.TXGain, rr); err != nil {
			return err
		}
		k := [2]float64{r.txGain, r.rxGain}
		if seen[k] {
			continue
		}
		seen[k] = true
		pt, err := r.measure()
		if err != nil {
			return err
		}
		add(pt)
		rxPts = append(rxPts, pt)
		r.report(0.6 + 0.4*(lv-target+8)/14)
	}
	chosen := best
	if c := pickRX(rxPts, target); c >= 0 {
		chosen = rxPts[c]
	}
	if err := r.setGains(chosen.TXGain, chosen.RXGain); err != nil {
		return err
	}
	var notes []string
	if !usable(chosen) {
		notes = append(notes, "gain sweep: every setting clipped or demodulated no 64-QAM frame; the gains are the best found")
	}
	r.setProfileGains(p, chosen, pts)
	p.Notes = append(p.Notes, notes...)
	return nil
}

func (r *runner) setProfileGains(p *Profile, pt SweepPoint, sweep []SweepPoint) {
	p.Gains = Gains{TX: map[string]float64{}, RX: map[string]float64{},
		LevelDBFS: pt.LevelDBFS, PeakDBFS: pt.PeakDBFS, EVMDB: pt.EVMDB, Sweep: sweep}
	for _, s := range r.txPlan.stages {
		p.Gains.TX[s.Name] = r.txBase.Gains[s.Name]
	}
	for _, s := range r.rxPlan.stages {
		p.Gains.RX[s.Name] = r.rxBase.Gains[s.Name]
	}
}

// pickTX returns the index of the lowest transmit gain whose EVM is within 0.5 dB of the
// best usable point's, or -1.
func pickTX(pts []SweepPoint) int {
	best := math.Inf(1)
	for _, p := range pts {
		if usable(p) {
			best = math.Min(best, p.EVMDB)
		}
	}
	c := -1
	for i, p := range pts {
		if usable(p) && p.EVMDB <= best+0.5 && (c < 0 || p.TXGain < pts[c].TXGain) {
			c = i
		}
	}
	return c
}

// pickRX returns the index of the best EVM among usable points with a level in the
// headroom range (ties within 0.3 dB going to the level nearest target), else of the
// usable point nearest target, else -1.
func pickRX(pts []SweepPoint, target float64) int {
	inRange := func(p SweepPoint) bool { return p.LevelDBFS >= HeadroomLow && p.LevelDBFS <= HeadroomHigh }
	best := math.Inf(1)
	for _, p := range pts {
		if usable(p) && inRange(p) {
			best = math.Min(best, p.EVMDB)
		}
	}
	c := -1
	near := func(i int) bool {
		return c < 0 || math.Abs(pts[i].LevelDBFS-target) < math.Abs(pts[c].LevelDBFS-target)
	}
	for i, p := range pts {
		if usable(p) && inRange(p) && p.EVMDB <= best+0.3 && near(i) {
			c = i
		}
	}
	if c >= 0 {
		return c
	}
	for i, p := range pts {
		if usable(p) && near(i) {
			c = i
		}
	}
	return c
}

// dcOffset measures the DC offset and noise floor on idle samples at the chosen gains.
// The standard error comes from the means of 16 blocks, which allows for noise that is
// not white.
func (r *runner) dcOffset(p *Profile) error {
	y, _, err := r.capture(nil, r.cfg.IdleSamples)
	if err != nil {
		return err
	}
	dc := meanDC(y)
	n := len(y) / 16
	var is, qs []float64
	for b := range 16 {
		m := meanDC(y[b*n : (b+1)*n])
		is, qs = append(is, real(m)), append(qs, imag(m))
	}
	_, si := meanSE(is)
	_, sq := meanSE(qs)
	p.DC = DCOffset{I: real(dc), Q: imag(dc), SE: math.Max(si, sq), NoiseDBFS: dbfs(meanPower(y, dc))}
	return nil
}

// noise runs the moment estimator on idle noise, the receive gain raised (or lowered)
// until the noise sits near NoiseTarget, then restores the chosen gains.
func (r *runner) noise(p *Profile) error {
	tx, rx := r.txGain, r.rxGain
	defer r.setGains(tx, rx)
	level := p.DC.NoiseDBFS
	g := rx
	for range maxNoiseSteps {
		need := NoiseTarget - level
		if math.Abs(need) < 3 {
			break
		}
		ng := clamp(g+clamp(need, -30, 30), r.rxPlan.lo, r.rxPlan.hi)
		if err := r.setGains(tx, ng); err != nil {
			return err
		}
		if r.rxGain == g {
			break // at the end of the range
		}
		g = r.rxGain
		y, _, err := r.capture(nil, noiseProbe)
		if err != nil {
			return err
		}
		level = dbfs(meanPower(y, meanDC(y)))
	}
	r.report(0.2)
	y, _, err := r.capture(nil, r.cfg.NoiseSamples)
	if err != nil {
		return err
	}
	level = dbfs(meanPower(y, meanDC(y)))
	p.IQ.Moment = iqFromNoise(y)
	r.momentOK = p.IQ.Moment.N > 0 && level >= minNoiseDBFS && level <= NoiseTarget+10
	if p.IQ.Moment.N > 0 && !r.momentOK {
		p.Notes = append(p.Notes, fmt.Sprintf("moment I/Q estimate on noise at %.1f dBFS, far from the %.0f dBFS wanted: not used", level, NoiseTarget))
	}
	return nil
}

// frames sends the frames, runs the mirror I/Q estimator on their DATA symbols and
// takes the carrier offset from each one's long training field.
func (r *runner) frames(p *Profile) error {
	burst := r.frameBurst(r.cfg.Frames, r.cfg.Seed)
	y, _, err := r.capture(burst, len(burst)+r.cfg.Lead)
	if err != nil {
		return err
	}
	r.report(0.4)
	frames, err := receive(y)
	if err != nil {
		return err
	}
	r.report(0.6)
	fft := phy.NewFFT64()
	dc := complex64(complex(p.DC.I, p.DC.Q))
	var all, batch moments
	var gs, ps []float64
	nb, pairs := 0, 0
	// Frames are pooled into 16 batches for the standard error.
	per := max(1, r.cfg.Frames/16)
	for _, f := range frames {
		if !r.ours(f) {
			continue
		}
		m, n := mirrorMoments(fft, y, dc, int(f.Start)+ltfOffset, r.rate.DataSymbols(f.Length))
		all.add(m)
		batch.add(m)
		pairs += n
		if nb++; nb == per {
			if g, ph, ok := batch.imbalance(); ok {
				gs, ps = append(gs, g), append(ps, ph)
			}
			batch, nb = moments{}, 0
		}
	}
	p.IQ.Mirror = estimateFrom(all, gs, ps, pairs)
	chooseIQ(p, r.momentOK)
	// The carrier offset comes from the frames with the DC offset and the I/Q
	// imbalance corrected: the image of an imbalanced receiver biases the receiver's
	// estimate (by 0.1 ppm at 23 dB image rejection).
	q := *p
	q.FrequencyError = FrequencyError{}
	var c Corrector
	if err := c.init(&q, r.cfg.SampleRate, r.cfg.Frequency); err != nil {
		return err
	}
	c.Process(y, y)
	if frames, err = receive(y); err != nil {
		return err
	}
	r.frameY = y
	// Frame.CFO counts in the 20 Msps numerology; at another rate the same phase step
	// per sample is a proportionally different frequency.
	scale := r.cfg.SampleRate / phy.SampleRate
	var ppm []float64
	for _, f := range frames {
		if r.ours(f) {
			ppm = append(ppm, f.CFO*scale/r.cfg.Frequency*1e6)
		}
	}
	if len(ppm) >= 2 {
		m, se := meanSE(ppm)
		p.FrequencyError.LTF = Estimate{Value: m, SE: se, N: len(ppm)}
	} else {
		p.Notes = append(p.Notes, fmt.Sprintf("frames: %d of %d demodulated; no carrier offset from the long training fields", len(ppm), r.cfg.Frames))
	}
	return nil
}

// chooseIQ applies the I/Q estimate with the smaller standard errors, each measured
// against the tolerances calibration aims at (0.1 dB, 0.5 degrees).
func chooseIQ(p *Profile, momentOK bool) {
	score := func(e IQEstimate) float64 {
		return (e.GainDBSE/0.1)*(e.GainDBSE/0.1) + (e.PhaseDegSE/0.5)*(e.PhaseDegSE/0.5)
	}
	var use IQEstimate
	switch mo, mi := p.IQ.Moment, p.IQ.Mirror; {
	case momentOK && (mi.N == 0 || score(mo) <= score(mi)):
		use, p.IQ.Method = mo, IQMoment
	case mi.N > 0:
		use, p.IQ.Method = mi, IQMirror
	default:
		p.IQ.Method = IQNone
	}
	p.IQ.GainDB, p.IQ.PhaseDeg = use.GainDB, use.PhaseDeg
	if mo, mi := p.IQ.Moment, p.IQ.Mirror; momentOK && mi.N > 0 {
		dg, dp := mo.GainDB-mi.GainDB, mo.PhaseDeg-mi.PhaseDeg
		if math.Abs(dg) > 4*math.Hypot(mo.GainDBSE, mi.GainDBSE)+0.05 || math.Abs(dp) > 4*math.Hypot(mo.PhaseDegSE, mi.PhaseDegSE)+0.25 {
			p.Notes = append(p.Notes, fmt.Sprintf("I/Q estimates disagree: moment %.3f dB %.2f deg, mirror %.3f dB %.2f deg", mo.GainDB, mo.PhaseDeg, mi.GainDB, mi.PhaseDeg))
		}
	}
}

// toneLevel is the tone's amplitude: the mean power of an 802.11a frame, so that it
// arrives at the level the gains were chosen for.
var toneLevel = math.Sqrt(52.0 / 4096)

// tone sends a CW tone at rate/8 and measures its frequency.
func (r *runner) tone(p *Profile) error {
	fs := r.cfg.SampleRate
	f0 := fs / 8
	burst := make([]complex64, r.cfg.Lead+r.cfg.ToneSamples)
	for i := r.cfg.Lead; i < len(burst); i++ {
		// exp(j 2 pi n/8): the phase repeats every 8 samples, so compute it exactly.
		burst[i] = complex64(cmplx.Rect(toneLevel, 2*math.Pi*float64((i-r.cfg.Lead)%8)/8))
	}
	y, breaks, err := r.capture(burst, len(burst)+r.cfg.Lead)
	if err != nil {
		return err
	}
	r.report(0.5)
	dc := complex(p.DC.I, p.DC.Q)
	lo, hi, ok := BurstSpan(y, dc, 1024, 2)
	if ok {
		lo, hi = longestRun(lo, hi, breaks)
	}
	if !ok || hi-lo < 1<<12 {
		p.Notes = append(p.Notes, "tone: no tone found in the received samples")
		return nil
	}
	tn, ok := spectrum.EstimateTone(y[lo:hi], dc, fs, f0, toneSpan*f0)
	if !ok {
		p.Notes = append(p.Notes, "tone: no clear peak near the tone's frequency")
		return nil
	}
	// The tone at f0 arrives at f0 + (fc + f0)*ppm*1e-6: the carrier and the tone's own
	// sample clock are both off by the same ratio.
	k := 1e6 / (r.cfg.Frequency + f0)
	p.FrequencyError.Tone = Estimate{Value: (tn.Freq - f0) * k, SE: tn.SE * k, N: tn.Blocks}
	return nil
}

// longestRun returns the longest part of [lo, hi) with no break (index where samples
// were lost) inside.
func longestRun(lo, hi int, breaks []int) (int, int) {
	cuts := []int{lo}
	for _, b := range breaks {
		if b > lo && b < hi {
			cuts = append(cuts, b)
		}
	}
	cuts = append(cuts, hi)
	sort.Ints(cuts)
	bl, bh := lo, lo
	for i := 1; i < len(cuts); i++ {
		if cuts[i]-cuts[i-1] > bh-bl {
			bl, bh = cuts[i-1], cuts[i]
		}
	}
	return bl, bh
}

// channel corrects the frames' capture with everything measured and measures the link
// the receiver then sees.
func (r *runner) channel(p *Profile) error {
	combineFrequency(p)
	frequencyNote(p)
	// The frames' DC offset and I/Q imbalance are corrected already (frames).
	y := r.frameY
	q := Profile{IQ: IQImbalance{Method: IQNone}, FrequencyError: p.FrequencyError}
	var c Corrector
	if err := c.init(&q, r.cfg.SampleRate, r.cfg.Frequency); err != nil {
		return err
	}
	c.Process(y, y)
	frames, err := receive(y)
	if err != nil {
		return err
	}
	r.report(0.5)
	acc := newChannelAcc()
	var snr []float64
	var evm float64
	var ne int
	for _, f := range frames {
		if !r.ours(f) {
			continue
		}
		if !acc.add(y, int(f.Start)+ltfOffset, 2*math.Pi*f.CFO/phy.SampleRate) {
			continue
		}
		snr = append(snr, clamp(f.SNR, MinSNRDB, MaxSNRDB))
		evm += math.Pow(10, f.EVM/10)
		ne++
	}
	ch := Channel{Frames: acc.frames, SubcarrierSNR: acc.subcarrierSNR()}
	ch.SNRDB, ch.SNRDBSE = meanSE(snr)
	if ne > 0 {
		ch.EVMDB = clamp(10*math.Log10(evm/float64(ne)), MinLevelDBFS, -1e-9)
	}
	ch.DelaySpreadNS = clamp(acc.delaySpread(r.cfg.SampleRate/phy.FFTSize)*1e9, 0, MaxDelaySpread)
	p.Channel = ch
	r.frameY = nil
	return nil
}

// combineFrequency sets the applied frequency error from the two estimates (inverse
// variance weights; an estimate with no scatter at all wins outright) and notes when
// they disagree.
func combineFrequency(p *Profile) {
	f := &p.FrequencyError
	var est []Estimate
	for _, e := range []Estimate{f.LTF, f.Tone} {
		if e.N > 0 {
			est = append(est, e)
		}
	}
	switch len(est) {
	case 0:
		f.PPM, f.PPMSE = 0, 0
	case 1:
		f.PPM, f.PPMSE = est[0].Value, est[0].SE
	default:
		a, b := est[0], est[1]
		switch {
		case a.SE == 0 && b.SE == 0:
			f.PPM, f.PPMSE = (a.Value+b.Value)/2, 0
		case a.SE == 0:
			f.PPM, f.PPMSE = a.Value, 0
		case b.SE == 0:
			f.PPM, f.PPMSE = b.Value, 0
		default:
			wa, wb := 1/(a.SE*a.SE), 1/(b.SE*b.SE)
			f.PPM, f.PPMSE = (wa*a.Value+wb*b.Value)/(wa+wb), 1/math.Sqrt(wa+wb)
		}
	}
	f.CarrierOffset = f.PPM * 1e-6 * p.Frequency
	f.SampleClockPPM = f.PPM
}

// frequencyNote records a disagreement of the two frequency estimates.
func frequencyNote(p *Profile) {
	f := p.FrequencyError
	if f.LTF.N == 0 || f.Tone.N == 0 {
		return
	}
	if d := math.Abs(f.LTF.Value - f.Tone.Value); d > 4*math.Hypot(f.LTF.SE, f.Tone.SE)+0.05 {
		p.Notes = append(p.Notes, fmt.Sprintf("frequency estimates disagree: long training fields %.3f ppm, tone %.3f ppm", f.LTF.Value, f.Tone.Value))
	}
}
