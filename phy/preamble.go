package phy

import "math"

// STFSequence returns the short training sequence S_-26..S_26 of clause 17.3.3
// (equation 17-6) with its power factor sqrt(13/6) applied: element i is subcarrier
// i-26. Only the twelve subcarriers that are multiples of 4 are non-zero, which makes
// the time signal repeat every 16 samples.
func STFSequence() [53]complex64 {
	// Signs of (1+j) on subcarriers -24, -20, ..., 24 (0 excluded).
	signs := [12]float32{1, -1, 1, -1, -1, 1, -1, -1, 1, 1, 1, 1}
	a := float32(math.Sqrt(13.0 / 6.0))
	var s [53]complex64
	i := 0
	for k := -24; k <= 24; k += 4 {
		if k == 0 {
			continue
		}
		s[k+26] = complex(signs[i]*a, signs[i]*a)
		i++
	}
	return s
}

// LTFSequence returns the long training sequence L_-26..L_26 of clause 17.3.3 (equation
// 17-8): element i is subcarrier i-26, +-1 except L_0 = 0. A receiver's least-squares
// channel estimate on subcarrier k is Y_k * L_k (that is Y_k / L_k).
func LTFSequence() [53]float32 {
	return [53]float32{
		1, 1, -1, -1, 1, 1, -1, 1, -1, 1, 1, 1, 1, 1, 1, -1, -1, 1, 1, -1, 1, -1, 1, 1, 1, 1,
		0,
		1, -1, -1, 1, 1, -1, 1, -1, 1, -1, -1, -1, -1, -1, 1, 1, -1, -1, 1, -1, 1, -1, 1, 1, 1, 1,
	}
}

// STFTime returns one 16-sample period of the short training field in time (clause
// 17.3.3, equation 17-7, standard amplitude, no window), for a receiver's correlator.
func STFTime() [16]complex64 {
	var bins, td [FFTSize]complex64
	for i, v := range STFSequence() {
		bins[FFTBin(i-26)] = v
	}
	NewFFT64().Inverse(&td, &bins)
	return [16]complex64(td[:16])
}

// LTFTime returns one 64-sample long training symbol in time (clause 17.3.3, equation
// 17-9, standard amplitude, no window), for a receiver's cross-correlator.
func LTFTime() [FFTSize]complex64 {
	var bins, td [FFTSize]complex64
	for i, v := range LTFSequence() {
		bins[FFTBin(i-26)] = complex(v, 0)
	}
	NewFFT64().Inverse(&td, &bins)
	return td
}

// AppendSTF appends the short training field (clause 17.3.3): ten 16-sample short
// symbols, 160 samples, windowed like any field.
func (m *OFDMModulator) AppendSTF(dst []complex64) []complex64 {
	start := len(dst)
	for range STFLen / len(m.stf) {
		dst = append(dst, m.stf[:]...)
	}
	return m.window(dst, start, m.stf[0])
}

// AppendLTF appends the long training field (clause 17.3.3): a 32-sample guard (the
// second half of the long symbol) and two long symbols, 160 samples, windowed.
func (m *OFDMModulator) AppendLTF(dst []complex64) []complex64 {
	start := len(dst)
	dst = append(dst, m.ltf[FFTSize/2:]...)
	dst = append(dst, m.ltf[:]...)
	dst = append(dst, m.ltf[:]...)
	return m.window(dst, start, m.ltf[0])
}

// AppendPreamble appends the PLCP preamble, short then long training field (clause
// 17.3.3, Figure 17-4), PreambleLen samples.
func (m *OFDMModulator) AppendPreamble(dst []complex64) []complex64 {
	return m.AppendLTF(m.AppendSTF(dst))
}
