// Package nn is a small reverse-mode automatic differentiation engine for m4sc's models:
// dense row-major tensors of float32 (training) or float64 (gradient checks), operations
// with hand-written backward rules at the level of whole layers, matrix products
// through gonum's BLAS, optimisers and a named parameter store.
//
// Why hand-written: on this project's 2-core reference machine no maintained Go
// library trains fast enough. gomlx v0.26's pure-Go backend trains at about
// 0.5 GFLOP/s and cannot run the B-spline KAN; v0.28.8 takes 32 ms per KAN step where a
// hand-written forward and backward takes 6.5 ms; spago (2-D only, paused) and gorgonia
// (panics at start on Go 1.26) are out. gonum's blas32.Gemm reaches about 21 GFLOP/s,
// so an engine whose time goes into Gemm calls trains in hours.
//
// Use: a Graph records the operations of one forward pass; Backward runs their rules in
// reverse and accumulates gradients into every tensor that needs one. Reset recycles
// every buffer the pass allocated, so a training loop that repeats the same shapes
// allocates nothing per step after the first.
//
//	g := nn.NewGraph[float32](rng)
//	for step := range steps {
//		g.Reset()
//		y := g.MatMul(x, w)            // [batch, in] x [in, out]
//		loss := g.MSE(y, target)
//		g.Backward(loss)
//		opt.Step(params)
//	}
//
// Shapes are written [batch, tokens, features] in comments; the last dimension is
// contiguous. Each backward rule states its formula next to the code.
//
// Not here: automatic broadcasting beyond suffix and per-row forms (see Add), graph
// optimisation, GPUs.
package nn
