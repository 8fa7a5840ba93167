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
// allocates nothing per step after the first. Gradient buffers of the pass are not
// cleared up front: the first rule to reach one writes it (a residual Add hands its
// output's gradient buffer on to its input), so after Backward the gradients of
// parameters and other leaves are meaningful, those of intermediate tensors are scratch.
//
//	params := nn.NewParams[float32]()
//	w := params.Add("layer0/w", nn.XavierUniform(rng, nn.NewParam[float32](nil, in, out)))
//	opt, err := nn.NewAdamW[float32](nn.AdamConfig{LR: 3e-4})
//	g := nn.NewGraph[float32](rng)
//	for step := range steps {
//		g.Reset()
//		params.ZeroGrad()              // Backward accumulates
//		y := g.MatMul(x, w)            // [batch, in] x [in, out]
//		loss := g.MSE(y, target)
//		g.Backward(loss)
//		params.ClipGradNorm(1)
//		opt.Step(params)
//	}
//
// Operations: MatMul, MatMulT, BatchMatMul; Add, Sub, Mul, Div with suffix, per-row
// and scalar broadcasting; Scale, GELU, SiLU, Tanh, Sigmoid, Exp, Square; Sum, Mean;
// Reshape, Transpose, Permute, Slice, Concat, Gather (embeddings), Dropout; Softmax and
// LogSoftmax with masks, CrossEntropy with ignored positions and label smoothing, MSE;
// LayerNorm, RMSNorm; fused scaled dot-product Attention with causal and padding masks
// (AttentionQKV reads a fused query-key-value projection and writes merged heads in place);
// ComplexMul, ComplexConj, ComplexAbs2 and PowerNormalize for channel layers. Other
// packages add operations with New and OnBackward. GradCheck compares any of them with
// central differences in float64. Weights are saved by package nn/safetensors.
//
// BLAS: every float32 matrix product goes through one Gemm (Sgemm outside the graph):
// gonum's pure-Go blas32 in the default build, OpenBLAS under the build tag openblas
// (gonum's netlib wrapper on Debian's libopenblas-dev).
// UsingBLAS says which. With OpenBLAS this package splits each large product into
// blocks of rows or columns over its goroutine pool and OpenBLAS runs one thread per
// block, so one pool owns the cores (a threaded OpenBLAS's idle threads spin against
// the Go loops that follow each product). OpenBLAS reads its thread count and kernel
// choice from the environment as it loads, before any Go code runs: StartEnv says
// what a program should start itself again with, and Advice names settings that slow
// the library down on the processor at hand. bench/blas.sh compares the two builds.
// Once the products are that fast, GELU's forward pass, AdamW's update and layer
// normalisation are the next largest passes of a training step, and Go's compiler
// does not vectorise them; under the tag, which needs a C compiler anyway, they run as
// C loops over four or eight lanes (AVX2, chosen at run time; GELU also on SSE2), with
// the Go loops as the fallback. AdamW's gives the Go loop's bits; GELU and layer
// normalisation agree with theirs to a float32 step or so (their float64 sums are
// added in another order, and GELU uses one formula where Go uses a table).
//
// Parallelism: elementwise operations and their gradients, GELU, the cross-entropy,
// attention's heads, the split products and AdamW's update run on a pool of
// GOMAXPROCS-1 long-lived goroutines plus the caller; small operations stay on the
// caller. Results do not
// depend on the number of workers (reductions that are split keep per-row partial
// sums and add them in order).
//
// Allocation: recording an operation allocates nothing; the arena hands out buffers
// by power-of-two size class, so passes whose graphs differ from step to step (other
// tasks, other lengths) reuse each other's buffers. An operation split over the pool
// allocates its closure (a few dozen bytes); operations too small to split allocate
// nothing, which the allocation tests check. gonum's parallel Gemm allocates its
// goroutines' bookkeeping on each call; OpenBLAS's path does not.
//
// Shapes are written [batch, tokens, features] in comments; the last dimension is
// contiguous. Each backward rule states its formula next to the code.
//
// Not here: automatic broadcasting beyond suffix and per-row forms (see Add), graph
// optimisation, GPUs.
package nn
