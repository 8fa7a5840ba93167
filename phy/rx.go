package phy

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"
)

// Frame is one frame the receiver detected: decoded, or failed with the reason.
type Frame struct {
	Start  int64   // stream index of the frame's first sample (the L-STF's start)
	Rate   int     // Mbit/s from SIGNAL; 0 if SIGNAL failed
	Length int     // PSDU octets from SIGNAL
	PSDU   []byte  // decoded PSDU including its FCS; nil if decoding failed
	FCSOK  bool    // the last four octets are the CRC-32 of the rest
	SNR    float64 // dB, from the L-LTF: received signal power over noise power in the full band
	CFO    float64 // carrier frequency offset, Hz (received minus expected)
	EVM    float64 // dB, of the data subcarriers against the nearest constellation points
	Err    error   // why a detected frame was not decoded; nil when decoded

	// Semantic frames (Kind other than KindLegacy) only.
	Kind   FrameKind
	Header SemanticHeader
	// Symbols are the analog payload, equalised (Header.Length of them).
	Symbols []complex64
	// SubcarrierSNR is |H|^2/N0 of each data subcarrier (linear), in the order of
	// DataSubcarriers: what the semantic decoder weighs each symbol by; symbol i of the
	// payload sat on subcarrier i mod 48.
	SubcarrierSNR [DataCarriers]float32
}

// Reasons a detected frame fails.
var (
	ErrNoLTF     = errors.New("phy: no long training field after the detected short one")
	ErrTruncated = errors.New("phy: stream ended inside the frame")
)

// ReceiverConfig configures a Receiver. The zero value is the 802.11a default.
type ReceiverConfig struct {
	// WindowAdvance starts every FFT window this many samples early into the cyclic
	// prefix, leaving room for multipath and timing drift; the channel estimate takes
	// the resulting linear phase in. Default DefaultWindowAdvance.
	WindowAdvance int
}

// DefaultWindowAdvance is ReceiverConfig.WindowAdvance's default, in samples.
const DefaultWindowAdvance = 3

// ReceiverState is where a Receiver stands in the stream, as in liquid-dsp's
// ofdmframesync (seek the preamble, the long sequence, the header, the symbols). The
// states follow one another in this order for every frame; a frame that fails, ends
// or is cut short returns the receiver to StateSeek.
type ReceiverState uint8

const (
	// StateSeek looks for an L-STF (clause 17.3.3) by its lag-16 autocorrelation.
	StateSeek ReceiverState = iota
	// StateLongTraining has detected a short training field and waits for the long
	// one: it locates the L-LTF, refines the carrier offset and estimates the channel.
	StateLongTraining
	// StateSignal decodes SIGNAL (clause 17.3.4) and tells a legacy frame from a
	// semantic one by the axis of the symbols after it.
	StateSignal
	// StateHeader decodes the m4sc header of a semantic frame.
	StateHeader
	// StatePayload waits for the frame's last symbol and decodes DATA (clause 17.3.5)
	// or the semantic payload.
	StatePayload
)

func (s ReceiverState) String() string {
	switch s {
	case StateSeek:
		return "seek"
	case StateLongTraining:
		return "long training"
	case StateSignal:
		return "signal"
	case StateHeader:
		return "header"
	case StatePayload:
		return "payload"
	}
	return fmt.Sprintf("ReceiverState(%d)", int(s))
}

// Receiver finds and decodes 802.11a and semantic frames in a stream of 20 Msps
// samples (clause 17.3). It is a state machine (ReceiverState) fed by Receive in
// chunks of any size; it keeps the samples of at most one frame (about 110,000 for
// the longest) and resumes across calls. Flush ends a stream; Reset forgets one.
type Receiver struct {
	cfg ReceiverConfig
	det detector
	fft *FFT64

	// Stream state, cleared by Reset.
	state ReceiverState
	p     pendingFrame // the frame in progress, in every state but StateSeek
	buf   []complex64  // samples from stream index base on, DC removed
	base  int64
	scan  int       // where detection resumes in buf
	dc    complex64 // running DC estimate of the input
	eos   bool      // the stream has ended (Flush): no more samples will come

	// per frame scratch
	work           []complex64
	corr           []float64
	h              [FFTSize]complex64 // channel estimate per bin
	w              [FFTSize]float32   // per-bin SNR weight |H|^2/N0
	hinv           [FFTSize]complex64 // 1/H
	noise          float64            // per-bin noise variance of the unscaled FFT
	bins, eq       [FFTSize]complex64
	llr, dil, dep  []float32
	bits, descr    []uint8
	demap          map[Modulation]*Demapper
	inter          map[Modulation]*Interleaver
	vit            *Viterbi
	ltf            [FFTSize]complex64 // L-LTF time symbol, conjugated for correlation
	ltfF           [FFTSize]float32   // L-LTF values per bin
	data           [DataCarriers]int
	pilotK         [4]int
	pilotV         [4]float32
	polarity       [127]float32
	symbols        []complex64 // equalised data symbols of the frame, for EVM
	wsAll          []float32
	evmErr, evmRef float64
	allBins        [][FFTSize]complex64 // FFT of every DATA symbol of the frame
	theta, slope   []float64            // per symbol pilot phase and slope
}

// pendingFrame is what the receiver knows of the frame in progress. Indices are into
// Receiver.buf, which is not compacted while a frame is in progress.
type pendingFrame struct {
	detEnd   int     // where the L-STF detector's run ended
	t1       int     // first sample of the first long training symbol (from StateSignal on)
	cfo      float64 // radians per sample
	sigDone  bool    // SIGNAL decoded (sig) or failed (sigErr)
	sig      SignalField
	sigErr   error // SIGNAL failed; the frame rests on the m4sc header alone
	semantic bool
	// tentative marks a header decode tried on weak QBPSK evidence: when its CRC
	// fails, the frame is legacy after all.
	tentative bool
	hdr       SemanticHeader // from StatePayload on, for a semantic frame
}

// NewReceiver returns a receiver in StateSeek.
func NewReceiver(cfg ReceiverConfig) (*Receiver, error) {
	if cfg.WindowAdvance == 0 {
		cfg.WindowAdvance = DefaultWindowAdvance
	}
	if cfg.WindowAdvance < 0 || cfg.WindowAdvance > CPLen/2 {
		return nil, fmt.Errorf("phy: receiver window advance %d outside 0..%d", cfg.WindowAdvance, CPLen/2)
	}
	r := &Receiver{cfg: cfg, fft: NewFFT64(), demap: map[Modulation]*Demapper{}, inter: map[Modulation]*Interleaver{}, vit: NewViterbi(8 * (MaxPSDULength + 8))}
	for _, m := range []Modulation{BPSK, QPSK, QAM16, QAM64} {
		d, err := NewDemapper(m)
		if err != nil {
			return nil, err
		}
		il, err := NewInterleaver(m)
		if err != nil {
			return nil, err
		}
		r.demap[m], r.inter[m] = d, il
	}
	lt := LTFTime()
	for i, v := range lt {
		r.ltf[i] = complex(real(v), -imag(v))
	}
	seq := LTFSequence()
	for i, v := range seq {
		r.ltfF[FFTBin(i-26)] = v
	}
	r.data = DataSubcarriers()
	r.pilotK = PilotSubcarriers()
	r.pilotV = PilotValues()
	r.polarity = PilotPolarity()
	r.Reset()
	return r, nil
}

// Reset returns the receiver to StateSeek at the start of a new stream: the frame in
// progress, the samples held and the DC estimate are forgotten, and stream indices
// (Frame.Start) count from 0 again. Buffers are kept for reuse.
func (r *Receiver) Reset() {
	r.state = StateSeek
	r.p = pendingFrame{}
	r.buf = r.buf[:0]
	r.base = 0
	r.scan = 0
	r.dc = 0
	r.eos = false
	r.det = detector{}
}

// State returns the receiver's state.
func (r *Receiver) State() ReceiverState { return r.state }

// dcPole sets the input DC tracker's time constant, 2^12 samples (205 us): it follows a
// receiver's DC offset (HackRF's DC spike) while leaving the OFDM spectrum, which has
// nothing within 156 kHz of DC, untouched.
const dcShift = 12

// Receive feeds samples and appends every frame completed by them to frames.
func (r *Receiver) Receive(frames []Frame, x []complex64) []Frame {
	// Remove the DC offset before anything else: after carrier-offset correction it
	// would otherwise land on the subcarriers next to DC as interference.
	n := len(r.buf)
	r.buf = append(r.buf, x...)
	dr, di := real(r.dc), imag(r.dc)
	const a = 1.0 / (1 << dcShift)
	for i, v := range r.buf[n:] {
		dr += a * (real(v) - dr)
		di += a * (imag(v) - di)
		r.buf[n+i] = complex(real(v)-dr, imag(v)-di)
	}
	r.dc = complex(dr, di)
	return r.run(frames)
}

// Flush ends the stream and appends the frames its last samples complete. While
// samples keep coming the receiver looks further ahead than a frame needs (the long
// training search spans several hundred samples past the detection); at the end of
// the stream it decodes with what there is, so a frame that ends on the stream's last
// sample decodes. A frame the stream cuts short is reported with ErrTruncated.
//
// The receiver is then ready for the next stream, in StateSeek with stream indices
// from 0, as after Reset, except that it keeps its estimate of the input's DC offset:
// that belongs to the radio, which the next stream (the next burst of a half-duplex
// device, the next capture) most likely comes from again. Reset forgets it too.
func (r *Receiver) Flush(frames []Frame) []Frame {
	r.eos = true
	frames = r.run(frames)
	dc := r.dc
	r.Reset()
	r.dc = dc
	return frames
}

// run advances the state machine as far as the samples allow.
func (r *Receiver) run(frames []Frame) []Frame {
	for {
		f, done, ok := r.step()
		if !ok {
			return frames
		}
		if done {
			frames = append(frames, f)
		}
	}
}

// compact drops samples before index keep. Only StateSeek compacts, so no index of a
// frame in progress moves.
func (r *Receiver) compact(keep int) {
	if keep <= 0 || keep < len(r.buf)/2 {
		return
	}
	n := copy(r.buf, r.buf[keep:])
	r.buf = r.buf[:n]
	r.base += int64(keep)
	r.scan -= keep
}

// have reports whether the state may go on: the samples up to index want are in (all
// the current state looks at while the stream runs), or the stream has ended and those
// up to need are (what decoding reads). When the stream has ended short of need, the
// frame is cut: truncated is true.
func (r *Receiver) have(need, want int) (ok, truncated bool) {
	if want <= len(r.buf) || r.eos && need <= len(r.buf) {
		return true, false
	}
	return false, r.eos
}

// done ends the frame in progress with f; detection resumes at scan.
func (r *Receiver) done(f Frame, scan int) (Frame, bool, bool) {
	r.state = StateSeek
	r.p = pendingFrame{}
	r.scan = min(scan, len(r.buf))
	return f, true, true
}

// truncated ends the frame in progress as cut short by the end of the stream.
func (r *Receiver) truncated() (Frame, bool, bool) {
	p := &r.p
	f := Frame{Start: r.base + int64(max(0, p.detEnd-160)), Err: ErrTruncated, CFO: p.cfo * SampleRate / (2 * math.Pi)}
	if r.state > StateLongTraining {
		f.Start = r.base + int64(max(0, p.t1-192))
	}
	if p.sigDone && p.sigErr == nil {
		f.Rate, f.Length = p.sig.Rate.Mbps, p.sig.Length
	}
	if r.state == StatePayload && p.semantic {
		f.Kind, f.Header, f.Length = p.hdr.Kind, p.hdr, int(p.hdr.Length)
	}
	return r.done(f, len(r.buf))
}

// step advances the state machine by one state. It returns ok=false when it needs
// more samples, done=true with a frame when one is finished (decoded or failed).
func (r *Receiver) step() (f Frame, done, ok bool) {
	p := &r.p
	adv := r.cfg.WindowAdvance
	switch r.state {
	case StateSeek:
		end := r.det.scan(r.buf, r.scan)
		if end < 0 {
			// Keep only what the next scan needs.
			r.scan = max(0, len(r.buf)-detWindow-16) // rescan the tail next time
			r.compact(r.scan - 400)
			return f, false, false
		}
		r.p = pendingFrame{detEnd: end, cfo: coarseCFO(r.buf, max(0, end-detRun-detWindow-16), end)}
		r.scan = end
		r.state = StateLongTraining
		return f, false, true

	case StateLongTraining:
		// The LTF's first symbol starts about 192 samples after the STF's start; the
		// detector's run ended somewhere in the STF's second half.
		lo, hi := max(0, p.detEnd-120), p.detEnd+260
		clipped := false
		if ok, cut := r.have(lo+2*64, hi+2*64); cut {
			return r.truncated()
		} else if !ok {
			return f, false, false
		}
		if hi+2*64 > len(r.buf) {
			// The stream has ended: search up to its last sample.
			hi, clipped = len(r.buf)-2*64, true
		}
		t1, found := r.findLTF(lo, hi, p.cfo)
		if !found {
			if clipped {
				return r.truncated()
			}
			return r.done(Frame{Start: r.base + int64(max(0, p.detEnd-160)), Err: ErrNoLTF, CFO: p.cfo * SampleRate / (2 * math.Pi)}, p.detEnd)
		}
		p.t1 = t1
		// Fine carrier offset from the repeated long symbols: the phase of
		// sum T1[n] conj(T2[n]) is -64 w_residual (clause 17.3.3).
		var c complex128
		for n := 0; n < 64; n++ {
			a := rot(r.buf[t1+n], -p.cfo*float64(n))
			b := rot(r.buf[t1+64+n], -p.cfo*float64(n+64))
			c += complex128(a) * conj(complex128(b))
		}
		p.cfo += -math.Atan2(imag(c), real(c)) / 64
		r.estimateChannel(t1, p.cfo)
		r.state = StateSignal
		return f, false, true

	case StateSignal:
		t1 := p.t1
		if !p.sigDone {
			sigEnd := t1 + 128 + SymbolLen
			if ok, cut := r.have(sigEnd-adv, sigEnd); cut {
				return r.truncated()
			} else if !ok {
				return f, false, false
			}
			p.sig, p.sigErr = r.decodeSignal(t1, p.cfo)
			p.sigDone = true
		}
		// A semantic frame is marked by QBPSK on the two symbols after SIGNAL. Look
		// when SIGNAL failed (the m4sc header carries all a semantic frame needs and
		// is sent more robustly than SIGNAL) and when a 6 Mbit/s SIGNAL may cover one.
		nsym := 0
		look := p.sigErr != nil
		if p.sigErr == nil {
			nsym = p.sig.Rate.DataSymbols(p.sig.Length)
			look = p.sig.Rate.Mbps == 6 && nsym >= 2
		}
		if look {
			end := t1 + 128 + 3*SymbolLen
			if ok, cut := r.have(end-adv, end); cut {
				return r.truncated()
			} else if !ok {
				return f, false, false
			}
			q := r.qbpskRatio(t1, p.cfo)
			p.semantic = q > 1
			// Near the balance point (noise in the channel estimate turns the
			// constellation) a 6 Mbit/s frame tries the header too, and its CRC decides.
			if !p.semantic && q > 1.0/3 && p.sigErr == nil && p.sig.Rate.Mbps == 6 {
				p.semantic, p.tentative = true, true
			}
		}
		switch {
		case p.semantic:
			r.state = StateHeader
		case p.sigErr != nil:
			return r.done(r.frameHeader(t1, p, Frame{Err: fmt.Errorf("phy: SIGNAL: %w", p.sigErr)}), t1+128+SymbolLen)
		default:
			r.state = StatePayload
		}
		return f, false, true

	case StateHeader:
		t1 := p.t1
		end := t1 + 128 + SymbolLen*(1+SemanticHeaderSymbols)
		if ok, cut := r.have(end-adv, end); cut {
			return r.truncated()
		} else if !ok {
			return f, false, false
		}
		h, err := r.decodeHeader(t1, p.cfo)
		if err != nil {
			if p.sigErr != nil {
				return r.done(r.frameHeader(t1, p, Frame{Err: fmt.Errorf("phy: SIGNAL: %w; m4sc header: %w", p.sigErr, err)}), t1+128+SymbolLen)
			}
			if p.tentative {
				// Weak QBPSK evidence and no header: a legacy frame after all.
				p.semantic = false
				r.state = StatePayload
				return f, false, true
			}
			// Skip to where the legacy SIGNAL says the frame ends.
			sigEnd := t1 + 128 + SymbolLen*(1+p.sig.Rate.DataSymbols(p.sig.Length))
			return r.done(r.frameHeader(t1, p, Frame{Kind: KindSemantic, Err: fmt.Errorf("phy: m4sc header: %w", err)}), sigEnd)
		}
		p.hdr = h
		r.state = StatePayload
		return f, false, true

	case StatePayload:
		if p.semantic {
			return r.semanticPayload()
		}
		t1 := p.t1
		nsym := p.sig.Rate.DataSymbols(p.sig.Length)
		end := t1 + 128 + SymbolLen*(1+nsym)
		if ok, cut := r.have(end-adv, end); cut {
			return r.truncated()
		} else if !ok {
			return f, false, false
		}
		f = r.frameHeader(t1, p, Frame{Rate: p.sig.Rate.Mbps, Length: p.sig.Length})
		psdu, evm, err := r.decodeData(t1, p.cfo, p.sig.Rate, p.sig.Length, 1, nsym)
		f.EVM = evm
		if err != nil {
			f.Err = err
		} else {
			f.PSDU = psdu
			f.FCSOK = len(psdu) > FCSLen && CheckFCS(psdu)
		}
		return r.done(f, end)
	}
	panic(fmt.Sprintf("phy: receiver in unknown state %v", r.state))
}

// semanticPayload decodes the payload of a semantic frame whose header is p.hdr.
func (r *Receiver) semanticPayload() (f Frame, done, ok bool) {
	p := &r.p
	t1, h := p.t1, p.hdr
	nsym := h.payloadSymbols()
	end := t1 + 128 + SymbolLen*(1+SemanticHeaderSymbols+nsym)
	if ok, cut := r.have(end-r.cfg.WindowAdvance, end); cut {
		return r.truncated()
	} else if !ok {
		return f, false, false
	}
	f = r.frameHeader(t1, p, Frame{Kind: h.Kind, Header: h, Length: int(h.Length)})
	first := 1 + SemanticHeaderSymbols
	if rate, digital := h.DigitalRate(); digital {
		f.Rate = rate.Mbps
		data, evm, err := r.decodeData(t1, p.cfo, rate, int(h.Length), first, nsym)
		f.EVM, f.PSDU, f.Err = evm, data, err
	} else {
		r.symbols, r.wsAll = r.symbols[:0], r.wsAll[:0]
		r.equaliseSymbols(t1, p.cfo, first, nsym)
		f.Symbols = append([]complex64(nil), r.symbols[:h.Length]...)
	}
	for i, k := range r.data {
		f.SubcarrierSNR[i] = r.w[FFTBin(k)]
	}
	return r.done(f, end)
}

func (r *Receiver) frameHeader(t1 int, p *pendingFrame, f Frame) Frame {
	f.Start = r.base + int64(t1-192)
	f.CFO = p.cfo * SampleRate / (2 * math.Pi)
	// Signal over noise in the full band: the 52 used bins carry |H|^2 each (the
	// training values have unit magnitude), the noise spreads over all 64.
	var s float64
	for k := -26; k <= 26; k++ {
		if k != 0 {
			s += sq(complex128(r.h[FFTBin(k)]))
		}
	}
	f.SNR = 10 * math.Log10(s/(FFTSize*r.noise))
	return f
}

// rot returns x*exp(j*phase).
func rot(x complex64, phase float64) complex64 {
	s, c := math.Sincos(phase)
	return x * complex(float32(c), float32(s))
}

// ltfMinCorrelation is the normalised correlation an L-LTF pair must reach. A single
// template lag collects one path's energy: on TDL-C with 100 ns delay spread the
// strongest path can hold well under half of it, and 0.5 lost 1.5% of frames at 40 dB;
// noise-only candidates rarely pass the detector at all (BenchmarkFalseAlarms: none in
// 10^8 samples at 0.3).
const ltfMinCorrelation = 0.3

// findLTF locates the first long training symbol by cross-correlating the CFO-corrected
// samples with the known symbol (clause 17.3.3) and pairing each peak with the one 64
// samples later. It returns the index of T1's first sample.
func (r *Receiver) findLTF(lo, hi int, cfo float64) (int, bool) {
	n := hi - lo + 128
	if cap(r.work) < n {
		r.work = make([]complex64, 2*n)
	}
	w := r.work[:n]
	s, c := math.Sincos(-cfo)
	p, step := complex(1, 0), complex(c, s)
	for i := range w {
		if i&63 == 0 { // renormalise the phasor now and then
			p = cmplx.Rect(1, -cfo*float64(i))
		}
		w[i] = r.buf[lo+i] * complex64(p)
		p *= step
	}
	// |correlation| with the template at every offset, once; a pair is two of them.
	if cap(r.corr) < n-63 {
		r.corr = make([]float64, n)
	}
	cm := r.corr[:n-63]
	for at := range cm {
		var re, im float32
		x := w[at : at+64]
		for k, v := range x {
			t := r.ltf[k]
			re += real(v)*real(t) - imag(v)*imag(t)
			im += real(v)*imag(t) + imag(v)*real(t)
		}
		cm[at] = math.Sqrt(float64(re*re + im*im))
	}
	best, bestAt := 0.0, -1
	for at := 0; at+128 <= n; at++ {
		m := cm[at] + cm[at+64]
		if m > best {
			best, bestAt = m, at
		}
	}
	if bestAt < 0 {
		return 0, false
	}
	// A true LTF pair on a flat channel correlates with the template at nearly the
	// product of their norms (rho = 1 without noise, sqrt(S/(S+N)) with it: 0.82 at
	// 3 dB); multipath spreads it over several lags. Reject weak peaks.
	var pw, tn float64
	for _, v := range w[bestAt : bestAt+128] {
		pw += sq(complex128(v))
	}
	for _, v := range r.ltf {
		tn += sq(complex128(v))
	}
	if rho := best / (2 * math.Sqrt(pw/2*tn)); !(rho >= ltfMinCorrelation) {
		return 0, false
	}
	return lo + bestAt, true
}

// window returns the FFT of the 64 samples starting at buf[at], corrected for the
// carrier offset with the phase measured from t1.
func (r *Receiver) window(dst *[FFTSize]complex64, at, t1 int, cfo float64) {
	var in [FFTSize]complex64
	ph := -cfo * float64(at-t1)
	s, c := math.Sincos(-cfo)
	step := complex(c, s)
	p := cmplx.Rect(1, ph)
	for i := range in {
		in[i] = r.buf[at+i] * complex64(p)
		p *= step
	}
	r.fft.Forward(dst, &in)
}

// estimateChannel makes the least-squares channel estimate from the two long symbols,
// smoothed over neighbouring subcarriers, and the noise variance from their difference.
func (r *Receiver) estimateChannel(t1 int, cfo float64) {
	adv := r.cfg.WindowAdvance
	var y1, y2 [FFTSize]complex64
	r.window(&y1, t1-adv, t1, cfo)
	r.window(&y2, t1+64-adv, t1, cfo)
	var ls [FFTSize]complex64
	var nsum float64
	for k := -26; k <= 26; k++ {
		if k == 0 {
			continue
		}
		b := FFTBin(k)
		// The early window delays the symbol by adv samples inside it, a phase of
		// -2 pi k adv / 64 on subcarrier k; take it out so that smoothing averages
		// neighbours of like phase (it is put back below).
		ls[b] = (y1[b] + y2[b]) / 2 * complex(r.ltfF[b], 0) * complex64(cmplx.Rect(1, 2*math.Pi*float64(k*adv)/FFTSize))
		nsum += sq(complex128(y1[b] - y2[b]))
	}
	// E|Y1-Y2|^2 = 2 N0 per bin; 52 bins.
	r.noise = math.Max(nsum/(2*52), 1e-20)
	// Smooth with weights 1/4, 1/2, 1/4 over neighbours inside the band (the DC bin
	// is empty and the edges have one neighbour): the estimate's noise drops by
	// about 4 dB while channels with delay spreads up to a few hundred ns change
	// little over 625 kHz.
	for k := -26; k <= 26; k++ {
		if k == 0 {
			continue
		}
		var acc complex64
		var wsum float32
		for d, wt := range [3]float32{0.25, 0.5, 0.25} {
			j := k + d - 1
			if j < -26 || j > 26 || j == 0 {
				continue
			}
			acc += ls[FFTBin(j)] * complex(wt, 0)
			wsum += wt
		}
		h := acc / complex(wsum, 0) * complex64(cmplx.Rect(1, -2*math.Pi*float64(k*adv)/FFTSize))
		r.h[FFTBin(k)] = h
		// The averaged estimate's own noise is small against the symbol's; weigh
		// each subcarrier by its SNR |H|^2/N0.
		r.w[FFTBin(k)] = float32(sq(complex128(h)) / r.noise)
		r.hinv[FFTBin(k)] = complex64(1 / complex128(h))
	}
}

// pilots measures symbol n's pilots against the channel estimate (clause 17.3.5.10:
// pilot values times p_n): the common phase theta and the phase slope across
// subcarriers (radians per subcarrier, from a timing offset) that they show.
//
// pred is a predicted slope, taken out before the phases are compared so that a large
// timing drift cannot wrap the outer pilots' phases (at a drift of one sample the
// pilots at -21 and +21 differ by 4.1 rad); the result includes it.
func (r *Receiver) pilots(bins *[FFTSize]complex64, n int, pred float64) (theta, slope float64) {
	pol := r.polarity[n%127]
	var phi, wt [4]float64
	var c complex128
	for i, k := range r.pilotK {
		b := FFTBin(k)
		e := complex128(bins[b]) * conj(complex128(r.h[b])) * complex(float64(r.pilotV[i]*pol), 0) * cmplx.Rect(1, -pred*float64(k))
		c += e
		phi[i] = cmplx.Phase(e)
		wt[i] = sq(e)
	}
	// Fit phi_i = theta + k_i*slope by weighted least squares (weights |e_i|^2, the
	// pilots' SNR). The intercept must come from the fit, not from the phase of the
	// sum: on a frequency-selective channel the sum leans towards the strongest
	// pilots, and with a timing slope that lean is a phase error on every subcarrier.
	ref := cmplx.Phase(c)
	var sw, sx, sy, sxx, sxy float64
	for i, k := range r.pilotK {
		d := math.Remainder(phi[i]-ref, 2*math.Pi)
		x := float64(k)
		sw += wt[i]
		sx += wt[i] * x
		sy += wt[i] * d
		sxx += wt[i] * x * x
		sxy += wt[i] * x * d
	}
	den := sw*sxx - sx*sx
	if sw == 0 || den == 0 {
		return ref, pred
	}
	slope = (sw*sxy - sx*sy) / den
	return ref + (sy-slope*sx)/sw, pred + slope
}

// equalise divides the data bins by the channel and removes the phase theta +
// slope*k, appending the 48 equalised data points to dst and their SNR weights to wdst.
func (r *Receiver) equalise(dst []complex64, wdst []float32, bins *[FFTSize]complex64, theta, slope float64) ([]complex64, []float32) {
	// exp(-j(theta + slope k)) by recurrence over k = -26..26 (one Sincos per symbol).
	s0, c0 := math.Sincos(-(theta - 26*slope))
	s1, c1 := math.Sincos(-slope)
	p, step := complex(c0, s0), complex(c1, s1)
	var ph [53]complex64
	for i := range ph {
		ph[i] = complex64(p)
		p *= step
	}
	for _, k := range r.data {
		b := FFTBin(k)
		dst = append(dst, bins[b]*ph[k+26]*r.hinv[b])
		wdst = append(wdst, r.w[b])
	}
	return dst, wdst
}

// decodeSignal decodes the SIGNAL symbol (BPSK, rate 1/2, 24 bits, clause 17.3.4).
func (r *Receiver) decodeSignal(t1 int, cfo float64) (SignalField, error) {
	at := t1 + 128 + CPLen - r.cfg.WindowAdvance
	r.window(&r.bins, at, t1, cfo)
	var pts [DataCarriers]complex64
	var ws [DataCarriers]float32
	// One symbol right after the channel estimate: no timing drift yet to track.
	theta, _ := r.pilots(&r.bins, 0, 0)
	y, w := r.equalise(pts[:0], ws[:0], &r.bins, theta, 0)
	r.llr = r.demap[BPSK].Append(r.llr[:0], y, w)
	r.dil = r.inter[BPSK].Deinterleave(r.dil[:0], r.llr)
	r.bits = r.vit.Decode(r.bits[:0], r.dil, true)
	return ParseSignal(r.bits)
}

// equaliseSymbols FFTs the OFDM symbols first..first+count-1 after SIGNAL (symbol n
// starts 80n samples after it; n is also its pilot polarity index) and appends their
// equalised data points and weights to r.symbols and r.wsAll.
//
// Two passes: first the FFT of every symbol and its pilots' phase and slope; then,
// because four pilots per symbol are noisy at low SNR, the slope (sample-clock drift,
// linear in time) is replaced by a straight-line fit over the whole span and the
// common phase (residual carrier offset and phase noise, slow) by a local
// straight-line fit over nearby symbols.
func (r *Receiver) equaliseSymbols(t1 int, cfo float64, first, count int) {
	if cap(r.allBins) < count {
		r.allBins = make([][FFTSize]complex64, count)
		r.theta = make([]float64, count)
		r.slope = make([]float64, count)
	}
	bins, theta, slope := r.allBins[:count], r.theta[:count], r.slope[:count]
	pred := 0.0
	for i := range count {
		n := first + i
		at := t1 + 128 + SymbolLen*n + CPLen - r.cfg.WindowAdvance
		r.window(&bins[i], at, t1, cfo)
		theta[i], slope[i] = r.pilots(&bins[i], n, pred)
		// The drift changes by about 1e-4 rad per subcarrier and symbol at 40 ppm:
		// follow it with a slow average that the pilot noise barely moves.
		pred += 0.1 * (slope[i] - pred)
	}
	unwrap(theta)
	fitLine(slope)
	smoothLine(theta, phaseSmoothing)
	for i := range count {
		r.symbols, r.wsAll = r.equalise(r.symbols, r.wsAll, &bins[i], theta[i], slope[i])
	}
}

// decodeBits demaps, deinterleaves, depunctures and Viterbi-decodes the equalised
// points y (weights w) at rate, tracing back from state 0 after nbits data bits (tail
// included). It returns the decoded bits and the EVM of y in dB.
func (r *Receiver) decodeBits(y []complex64, w []float32, rate Rate, nbits int) ([]uint8, float64) {
	dm, il := r.demap[rate.Modulation], r.inter[rate.Modulation]
	r.llr = dm.Append(r.llr[:0], y, w)
	r.dil = il.Deinterleave(r.dil[:0], r.llr)
	r.dep = Depuncture(r.dep[:0], r.dil, rate.Code)
	if nb := 2 * nbits; nb <= len(r.dep) {
		r.dep = r.dep[:nb]
	}
	r.bits = r.vit.Decode(r.bits[:0], r.dep, true)
	e, p := constellationError(rate.Modulation, y)
	return r.bits, 10 * math.Log10(e/math.Max(p, 1e-30))
}

// decodeData decodes length octets sent through the DATA chain (clause 17.3.5) on
// nsym symbols from symbol first on.
func (r *Receiver) decodeData(t1 int, cfo float64, rate Rate, length, first, nsym int) ([]byte, float64, error) {
	r.symbols, r.wsAll = r.symbols[:0], r.wsAll[:0]
	r.equaliseSymbols(t1, cfo, first, nsym)
	// The encoder is back in state 0 after the six tail bits that follow the PSDU
	// (the pad bits after them are of no interest).
	bits, evm := r.decodeBits(r.symbols, r.wsAll, rate, ServiceBits+8*length+TailBits)
	need := ServiceBits + 8*length
	if len(bits) < need {
		return nil, evm, fmt.Errorf("phy: DATA: %d bits decoded, %d needed", len(bits), need)
	}
	s := NewScrambler(ScramblerInit(bits[:7]))
	r.descr = s.Append(r.descr[:0], bits[:need])
	psdu := make([]byte, length)
	for i := range psdu {
		var b byte
		for j := 0; j < 8; j++ {
			b |= r.descr[ServiceBits+8*i+j] << j
		}
		psdu[i] = b
	}
	return psdu, evm, nil
}

// qbpskRatio is the ratio of the energy on the quadrature axis to that on the in-phase
// axis in the two symbols after SIGNAL: above 1 they are QBPSK, the mark of an m4sc
// header (a 6 Mbit/s legacy frame has BPSK there). Without noise it is large on one
// and small on the other; at 0 dB it is about 3 or 1/3.
func (r *Receiver) qbpskRatio(t1 int, cfo float64) float64 {
	r.symbols, r.wsAll = r.symbols[:0], r.wsAll[:0]
	r.equaliseSymbols(t1, cfo, 1, 2)
	// Energy on each axis, each subcarrier weighed by its SNR: BPSK puts the signal
	// on the real axis, QBPSK on the imaginary one, noise on both alike.
	var re, im float64
	for i, v := range r.symbols {
		w := float64(r.wsAll[i])
		re += w * float64(real(v)*real(v))
		im += w * float64(imag(v)*imag(v))
	}
	if re <= 0 {
		return math.Inf(1)
	}
	return im / re
}

// decodeHeader decodes the m4sc header on symbols 1..SemanticHeaderSymbols: QBPSK back
// to BPSK, soft bits, deinterleave, add the two copies of each coded bit, Viterbi.
func (r *Receiver) decodeHeader(t1 int, cfo float64) (SemanticHeader, error) {
	r.symbols, r.wsAll = r.symbols[:0], r.wsAll[:0]
	r.equaliseSymbols(t1, cfo, 1, SemanticHeaderSymbols)
	for i, v := range r.symbols {
		r.symbols[i] = v * complex(0, -1)
	}
	r.llr = r.demap[BPSK].Append(r.llr[:0], r.symbols, r.wsAll)
	r.dil = r.inter[BPSK].Deinterleave(r.dil[:0], r.llr)
	const half = DataCarriers / 2
	r.dep = r.dep[:0]
	for s := 0; s < SemanticHeaderSymbols; s++ {
		blk := r.dil[s*DataCarriers : (s+1)*DataCarriers]
		for i := 0; i < half; i++ {
			r.dep = append(r.dep, blk[i]+blk[i+half])
		}
	}
	r.dep = r.dep[:2*(SemanticHeaderBits+TailBits)]
	r.bits = r.vit.Decode(r.bits[:0], r.dep, true)
	return ParseSemanticHeader(r.bits[:SemanticHeaderBits])
}

// constellationError sums |y - nearest point|^2 and |nearest point|^2 over y.
func constellationError(m Modulation, y []complex64) (float64, float64) {
	var e, p float64
	for _, v := range y {
		d := nearest(m, v)
		e += sq(complex128(v - d))
		p += sq(complex128(d))
	}
	return e, p
}

// nearest is the hard decision of the Gray constellations of clause 17.3.5.8.
func nearest(m Modulation, v complex64) complex64 {
	q := func(x float32, levels int, k float32) float32 {
		// levels per axis: 1 (BPSK Q axis: 0), 2, 4, 8; points at odd multiples of k.
		if levels == 1 {
			return 0
		}
		n := float32(levels)
		i := float32(math.Floor(float64(x/(2*k) + n/2)))
		i = min(max(i, 0), n-1)
		return (2*i - n + 1) * k
	}
	switch m {
	case BPSK:
		return complex(q(real(v), 2, 1), 0)
	case QPSK:
		k := float32(1 / math.Sqrt2)
		return complex(q(real(v), 2, k), q(imag(v), 2, k))
	case QAM16:
		k := float32(1 / math.Sqrt(10))
		return complex(q(real(v), 4, k), q(imag(v), 4, k))
	case QAM64:
		k := float32(1 / math.Sqrt(42))
		return complex(q(real(v), 8, k), q(imag(v), 8, k))
	}
	return 0
}

// phaseSmoothing is the half-width, in symbols, of the local line fitted to the pilots'
// common phase: 8 symbols (32 us) average the pilot noise down by about 12 dB while
// HackRF's oscillators (about 1 Hz linewidth each) wander by well under 0.01 rad.
const phaseSmoothing = 8

// unwrap removes 2 pi jumps from a sequence of phases.
func unwrap(p []float64) {
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] + math.Remainder(p[i]-p[i-1], 2*math.Pi)
	}
}

// fitLine replaces y by its least-squares straight line over the index.
func fitLine(y []float64) {
	n := float64(len(y))
	if len(y) < 2 {
		return
	}
	var sx, sy, sxx, sxy float64
	for i, v := range y {
		x := float64(i)
		sx += x
		sy += v
		sxx += x * x
		sxy += x * v
	}
	b := (n*sxy - sx*sy) / (n*sxx - sx*sx)
	a := (sy - b*sx) / n
	for i := range y {
		y[i] = a + b*float64(i)
	}
}

// smoothLine replaces each y[i] by the value at i of the least-squares line through
// y[i-h .. i+h] (clipped at the ends). It works from a copy held on the stack for short
// inputs and the heap otherwise.
func smoothLine(y []float64, h int) {
	if len(y) < 3 {
		return
	}
	src := append([]float64(nil), y...)
	for i := range y {
		lo, hi := max(0, i-h), min(len(y), i+h+1)
		var sx, sy, sxx, sxy float64
		n := float64(hi - lo)
		for j := lo; j < hi; j++ {
			x := float64(j - i)
			sx += x
			sy += src[j]
			sxx += x * x
			sxy += x * src[j]
		}
		den := n*sxx - sx*sx
		if den == 0 {
			y[i] = sy / n
			continue
		}
		b := (n*sxy - sx*sy) / den
		y[i] = (sy - b*sx) / n
	}
}
