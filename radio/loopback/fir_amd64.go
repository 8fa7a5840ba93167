package loopback

import "golang.org/x/sys/cpu"

// useAVX512 and useAVX2 select an assembly kernel; they are decided once from the CPU's
// features and never change afterwards.
var (
	useAVX512 = cpu.X86.HasAVX512F
	useAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
)

// firCorr computes y[k] = sum_m g[m]*x[k+m] for k < len(y); len(x) >= len(y)+len(g)-1.
// This is the simulator's inner loop (multipath and clock interpolation).
func firCorr(y, x, g []complex64) {
	if !useAVX512 && !useAVX2 {
		firCorrGo(y, x, g)
		return
	}
	n, L := len(y), len(g)
	if len(x) < n+L-1 {
		// The assembly trusts the lengths, so a short x must stop here rather than
		// read past its end.
		panic("loopback: firCorr: len(x) < len(y)+len(g)-1")
	}
	if n == 0 {
		return
	}
	if L == 0 {
		clear(y)
		return
	}
	if useAVX512 {
		firCorrAVX512(y, x, g)
	} else {
		firCorrAVX2(y, x, g)
	}
}

// firCorrAVX2 is firCorr for AVX2 with FMA (fir_amd64.s). It requires len(g) >= 1 and
// len(x) >= len(y)+len(g)-1 and does not check them; it reads only
// x[:len(y)+len(g)-1] and writes only y.
//
//go:noescape
func firCorrAVX2(y, x, g []complex64)

// firCorrAVX512 is firCorrAVX2 for AVX-512F (fir_amd64.s), with the same requirements.
//
//go:noescape
func firCorrAVX512(y, x, g []complex64)
