package phy

import (
	"fmt"
	"math"
)

// PilotCount is the number of pilot subcarriers in every OFDM symbol.
const PilotCount = 4

// DataSubcarriers returns the subcarrier numbers (-26..26) that carry data points 0..47
// of an OFDM symbol, in order: -26..-22, -20..-8, -6..-1, 1..6, 8..20, 22..26, the
// mapping M(k) of clause 17.3.5.10 (equation 17-24).
func DataSubcarriers() [DataCarriers]int {
	var d [DataCarriers]int
	i := 0
	for k := -26; k <= 26; k++ {
		switch k {
		case 0, -21, -7, 7, 21:
			continue
		}
		d[i] = k
		i++
	}
	return d
}

// PilotSubcarriers returns the pilot subcarriers of clause 17.3.5.10.
func PilotSubcarriers() [PilotCount]int { return [PilotCount]int{-21, -7, 7, 21} }

// PilotValues returns the pilot values P_-21, P_-7, P_7, P_21 (1, 1, 1, -1) of clause
// 17.3.5.10, before they are multiplied by the symbol's polarity p_n (PilotPolarity).
func PilotValues() [PilotCount]float32 { return [PilotCount]float32{1, 1, 1, -1} }

// FFTBin returns the FFT bin of subcarrier k (-32..31): (k+64)%64.
func FFTBin(k int) int { return (k + FFTSize) % FFTSize }

// FFT64 is a 64-point complex FFT (radix 4, three stages) in float32, the transform of
// the 802.11a OFDM symbol. It is a plan: NewFFT64 computes the twiddle factors once.
// It replaces gonum's dsp/fourier CmplxFFT, which works in complex128 and with the
// conversions a complex64 pipeline needs is several times slower here (compare
// BenchmarkFFT64 with BenchmarkGonumFFT64). An FFT64 is read-only after construction
// and may be shared.
type FFT64 struct {
	rev [FFTSize]uint8   // base-4 digit reversal of the index
	w16 [3][4]complex64  // stage 2: W_16^(m*j), m = 1..3, j = 0..3
	w64 [3][16]complex64 // stage 3: W_64^(m*j), m = 1..3, j = 0..15
}

// NewFFT64 returns a 64-point FFT plan.
func NewFFT64() *FFT64 {
	f := new(FFT64)
	w := func(k, n int) complex64 {
		s, c := math.Sincos(-2 * math.Pi * float64(k) / float64(n))
		return complex(float32(c), float32(s))
	}
	for k := range FFTSize {
		f.rev[k] = uint8(k&3<<4 | k&12 | k>>4&3)
	}
	for m := range 3 {
		for j := range 4 {
			f.w16[m][j] = w((m+1)*j, 16)
		}
		for j := range 16 {
			f.w64[m][j] = w((m+1)*j, 64)
		}
	}
	return f
}

// Forward sets dst to the unscaled DFT of src: X[k] = sum over n of x[n] e^(-2 pi i kn/64),
// k being the FFT bin. dst may be src.
func (f *FFT64) Forward(dst, src *[FFTSize]complex64) {
	var t [FFTSize]complex64
	for i, r := range f.rev {
		t[i] = src[r&(FFTSize-1)]
	}
	f.radix4(&t)
	*dst = t
}

// Inverse sets dst to the inverse DFT of src scaled by 1/64, the standard's time
// samples (clause 17.3.2.5): x[n] = (1/64) sum over k of X[k] e^(+2 pi i kn/64). dst may
// be src.
func (f *FFT64) Inverse(dst, src *[FFTSize]complex64) {
	// Swapping real and imaginary parts before and after a forward DFT gives the
	// unscaled inverse DFT.
	var t [FFTSize]complex64
	for i, r := range f.rev {
		v := src[r&(FFTSize-1)]
		t[i] = complex(imag(v), real(v))
	}
	f.radix4(&t)
	const s = 1.0 / FFTSize
	for i, v := range t {
		dst[i] = complex(imag(v)*s, real(v)*s)
	}
}

// radix4 runs the three decimation-in-time radix-4 stages on digit-reversed input. A
// radix-4 butterfly on a0..a3 (twiddles applied) is the 4-point DFT:
// y0 = a0+a1+a2+a3, y1 = a0-a2 - i(a1-a3), y2 = a0-a1+a2-a3, y3 = a0-a2 + i(a1-a3).
func (f *FFT64) radix4(t *[FFTSize]complex64) {
	for g := 0; g < FFTSize; g += 4 {
		b := (*[4]complex64)(t[g : g+4])
		t0, t1 := b[0]+b[2], b[0]-b[2]
		t2, d := b[1]+b[3], b[1]-b[3]
		t3 := complex(imag(d), -real(d)) // -i*(a1-a3)
		b[0], b[1], b[2], b[3] = t0+t2, t1+t3, t0-t2, t1-t3
	}
	w1, w2, w3 := &f.w16[0], &f.w16[1], &f.w16[2]
	for g := 0; g < FFTSize; g += 16 {
		b := (*[16]complex64)(t[g : g+16])
		for j := range 4 {
			a0, a1, a2, a3 := b[j], b[j+4]*w1[j], b[j+8]*w2[j], b[j+12]*w3[j]
			t0, t1 := a0+a2, a0-a2
			t2, d := a1+a3, a1-a3
			t3 := complex(imag(d), -real(d))
			b[j], b[j+4], b[j+8], b[j+12] = t0+t2, t1+t3, t0-t2, t1-t3
		}
	}
	v1, v2, v3 := &f.w64[0], &f.w64[1], &f.w64[2]
	for j := range 16 {
		a0, a1, a2, a3 := t[j], t[j+16]*v1[j], t[j+32]*v2[j], t[j+48]*v3[j]
		t0, t1 := a0+a2, a0-a2
		t2, d := a1+a3, a1-a3
		t3 := complex(imag(d), -real(d))
		t[j], t[j+16], t[j+32], t[j+48] = t0+t2, t1+t3, t0-t2, t1-t3
	}
}

// Windowing selects how consecutive fields of a packet join (clause 17.3.2.5).
type Windowing int

const (
	// WindowingStandard, the default, is the windowing of the standard's worked example
	// (Annex I, formerly Annex G) at 20 Msps: every field is extended by one sample that
	// continues it cyclically, the first and last samples of the field are halved, and
	// the extension overlaps (is added to) the next field's first sample. A packet gets
	// one extra sample at its end.
	WindowingStandard Windowing = iota
	// WindowingNone joins the fields with no transition window; a packet has exactly
	// PreambleLen + SymbolLen*(1+N_SYM) samples.
	WindowingNone
)

func (w Windowing) String() string {
	switch w {
	case WindowingStandard:
		return "standard"
	case WindowingNone:
		return "none"
	}
	return fmt.Sprintf("Windowing(%d)", int(w))
}

// OFDMModulator turns fields (the preamble, OFDM symbols given as data points or as FFT
// bins) into time samples at 20 Msps and the standard's amplitude, with cyclic prefix and
// windowing (clauses 17.3.2.5, 17.3.5.10). It carries the window's overlap from one field
// to the next, so the fields of a packet are appended in order and the packet is ended
// with Flush. It is not safe for concurrent use.
type OFDMModulator struct {
	fft     *FFT64
	win     Windowing
	pilot   [127]float32 // p_0..p_126
	pending complex64    // half of the previous field's extension sample
	bins    [FFTSize]complex64
	td      [FFTSize]complex64
	stf     [16]complex64      // one short training symbol in time
	ltf     [FFTSize]complex64 // one long training symbol in time
	dataIdx [DataCarriers]uint8
}

// NewOFDMModulator returns a modulator with the given windowing.
func NewOFDMModulator(w Windowing) (*OFDMModulator, error) {
	if w != WindowingStandard && w != WindowingNone {
		return nil, fmt.Errorf("phy: new OFDM modulator: unknown windowing %v", w)
	}
	m := &OFDMModulator{fft: NewFFT64(), win: w, pilot: PilotPolarity()}
	for i, k := range DataSubcarriers() {
		m.dataIdx[i] = uint8(FFTBin(k))
	}
	m.stf, m.ltf = STFTime(), LTFTime()
	m.Reset()
	return m, nil
}

// Reset forgets the pending window overlap, for a new packet.
func (m *OFDMModulator) Reset() { m.pending = 0 }

// Windowing returns the modulator's windowing.
func (m *OFDMModulator) Windowing() Windowing { return m.win }

// SymbolBins fills bins (FFT bin order, bin 0 is DC) with one OFDM symbol: data[i] on
// subcarrier DataSubcarriers()[i], the pilots PilotValues() times p_(n mod 127) on the
// pilot subcarriers, zero elsewhere (clause 17.3.5.10, equation 17-25). n is 0 for the
// SIGNAL symbol and counts DATA symbols from 1. len(data) must be DataCarriers.
func (m *OFDMModulator) SymbolBins(bins *[FFTSize]complex64, data []complex64, n int) {
	if len(data) != DataCarriers {
		panic(fmt.Sprintf("phy: SymbolBins: %d data points, want %d", len(data), DataCarriers))
	}
	*bins = [FFTSize]complex64{}
	for i, b := range m.dataIdx {
		bins[b] = data[i]
	}
	p := m.pilot[((n%127)+127)%127]
	bins[FFTBin(-21)] = complex(p, 0)
	bins[FFTBin(-7)] = complex(p, 0)
	bins[FFTBin(7)] = complex(p, 0)
	bins[FFTBin(21)] = complex(-p, 0)
}

// AppendSymbol appends one OFDM symbol (80 samples: 16 of cyclic prefix, then 64)
// carrying the 48 points of data and the pilots of symbol number n (see SymbolBins).
func (m *OFDMModulator) AppendSymbol(dst []complex64, data []complex64, n int) []complex64 {
	m.SymbolBins(&m.bins, data, n)
	return m.AppendBins(dst, &m.bins)
}

// AppendBins appends one OFDM symbol given in the frequency domain (FFT bin order, the
// subcarrier values of clause 17.3.5.10): the inverse DFT scaled by 1/64, preceded by its
// last 16 samples as cyclic prefix (80 samples), with windowing.
func (m *OFDMModulator) AppendBins(dst []complex64, bins *[FFTSize]complex64) []complex64 {
	m.fft.Inverse(&m.td, bins)
	start := len(dst)
	dst = append(dst, m.td[FFTSize-CPLen:]...)
	dst = append(dst, m.td[:]...)
	return m.window(dst, start, m.td[0])
}

// window applies clause 17.3.2.5's transition to the field that starts at dst[start],
// whose cyclic extension sample is ext.
func (m *OFDMModulator) window(dst []complex64, start int, ext complex64) []complex64 {
	if m.win == WindowingNone {
		return dst
	}
	dst[start] = dst[start]*0.5 + m.pending
	m.pending = ext * 0.5
	return dst
}

// Flush ends the packet: with WindowingStandard it appends the last field's halved
// extension sample. The modulator is then ready for a new packet.
func (m *OFDMModulator) Flush(dst []complex64) []complex64 {
	if m.win == WindowingStandard {
		dst = append(dst, m.pending)
	}
	m.pending = 0
	return dst
}
