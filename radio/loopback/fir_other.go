//go:build !amd64

package loopback

// firCorr computes y[k] = sum_m g[m]*x[k+m] for k < len(y); len(x) >= len(y)+len(g)-1.
// This is the simulator's inner loop (multipath and clock interpolation).
func firCorr(y, x, g []complex64) { firCorrGo(y, x, g) }

// These mirror fir_amd64.go so that the tests build everywhere; the tests skip a kernel
// whose use flag is false.
const (
	useAVX512 = false
	useAVX2   = false
)

func firCorrAVX2(y, x, g []complex64)   { panic("loopback: firCorrAVX2 needs amd64") }
func firCorrAVX512(y, x, g []complex64) { panic("loopback: firCorrAVX512 needs amd64") }
