//go:build !openblas

package nn

// cKernels reports that this build has no C loops (see kernels_openblas.go): the
// pure-Go ones run.
const cKernels = false

func geluRowsC(y, deriv, z, bias []float32, rows, n int) { panic("nn: no C kernels in this build") }

func adamC(theta, g, m, v []float32, k *adamConsts[float32]) int {
	panic("nn: no C kernels in this build")
}

func layerNormC(y, x, gd, bd, means, rstds []float32, n, lo, hi int, eps float64) bool {
	panic("nn: no C kernels in this build")
}

func layerNormBackC(dx []float32, fresh bool, x, dy, gd, dg, db, means, rstds []float32, n, lo, hi int) bool {
	panic("nn: no C kernels in this build")
}

func biasBackC(dz, dy, db []float32, m, n, lo, hi int) { panic("nn: no C kernels in this build") }
