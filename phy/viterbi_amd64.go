package phy

import "golang.org/x/sys/cpu"

func init() {
	// Decided once from the CPU's features; every kernel needs only AVX2.
	if cpu.X86.HasAVX2 {
		vitSIMD = &vitKernels{maxAbs: vitMaxAbsSIMD, quantize: vitQuantizeSIMD, acs: vitACSSIMD}
	}
}

func vitMaxAbsSIMD(x []float32) float32 {
	n := len(x) &^ 31
	return vitMaxAbs(vitMaxAbsAVX2(x[:n]), x[n:])
}

func vitQuantizeSIMD(q []int16, x []float32, scale float32) {
	q = q[:len(x)]
	n := len(x) &^ 15
	vitQuantizeAVX2(q[:n], x[:n], scale)
	vitQuantize(q[n:], x[n:], scale)
}

func vitACSSIMD(dec []uint64, q []int16, m *[vitStates]int16, signs *[4 * 16]int16) {
	_ = q[:2*len(dec)] // the assembly reads two LLRs per step without checking
	vitACSAVX2(dec, q, m, signs)
}

// vitMaxAbsAVX2 is vitMaxAbs(0, x) for len(x) a multiple of 32 (viterbi_amd64.s).
//
//go:noescape
func vitMaxAbsAVX2(x []float32) float32

// vitQuantizeAVX2 is vitQuantize for len(x) a multiple of 16 and len(q) >= len(x)
// (viterbi_amd64.s).
//
//go:noescape
func vitQuantizeAVX2(q []int16, x []float32, scale float32)

// vitACSAVX2 is vitACS with int16 metrics (viterbi_amd64.s); it needs
// len(q) >= 2*len(dec) and does not check it. signs holds, for butterflies 0..31, the
// sign of LA in signs[i] and of LB in signs[32+i].
//
//go:noescape
func vitACSAVX2(dec []uint64, q []int16, m *[vitStates]int16, signs *[4 * 16]int16)
