// Package kan builds Kolmogorov-Arnold Network layers (Liu et al. 2024, "KAN:
// Kolmogorov-Arnold Networks", arXiv:2404.19756) on package nn: every edge i -> o of a
// layer carries a learned function, a B-spline plus a SiLU residual,
//
//	y_o = sum_i [ wb_{o,i} SiLU(x_i) + ws_{o,i} sum_j c_{o,i,j} B_j(x_i) ],
//
// computed in the efficient form of Blealtan's efficient-kan as two matrix products,
// SiLU(X) Wb^T and Basis(X) (ws*c)^T, with Basis(X) the [rows, in*(G+k)] matrix of the
// k+1 B-splines live at each input. Cubic, quadratic and linear bases on uniform grids
// use closed forms; other orders and data-fitted grids use the Cox-de Boor recursion.
//
// Entry points: New makes a Layer from a Config whose zero value is the reference
// configuration (DefaultGridSize 5 intervals, DefaultOrder 3, range [-1, 1], SiLU
// base); Layer.Forward records it on an nn.Graph for [batch, features] or
// [batch, tokens, features]; NewNetwork stacks layers. UpdateGrid fits the grids to the
// input distribution and ExtendGrid refines them (G -> G'), both refitting the
// coefficients by least squares so the learned curves are kept. Regularization is the
// paper's L1 + entropy penalty (on a coefficient proxy of each edge's magnitude), a
// scalar for the loss. Tensors are named by path
// ("kan/proj/layer0/coef", ".../wb", ".../ws", ".../grid"); AddParams puts them in an
// nn.Params for nn.Adam and checkpoints.
//
// Not here: pykan's symbolic regression, pruning and plotting, and multiplication
// nodes (MultKAN).
//
// # Inputs off the grid
//
// Splines vanish outside the grid extended by k intervals on each side ([-2.2, 2.2] for
// the defaults): an input there gets no spline term and no spline gradient, only the
// SiLU path's. Squash inputs onto the grid (Config.Norm: NormTanh; NormLayer, which
// suits wide layers) or fit the grid to them (UpdateGrid, as pykan does early in
// training).
//
// # Cost
//
// Forward and backward of [2048, 64] -> 64 in float32 (BenchmarkLayerVsDense: both
// layers alternate in one loop on the 2-core reference machine, shared with other
// jobs, so absolute times varied by 1.5x between runs): KAN G=5, k=3 24 to 35 ms,
// dense MatMul + bias + SiLU 5.5 to 6.5 ms, a ratio of 4.3 to 5.4 within each run.
// The KAN layer has G+k+2 = 10 times the dense layer's weights and 9 times its
// matrix-product work (453 against 50 MFLOP); about 90% of its time is gonum's Sgemm,
// running at 13 to 19 GFLOP/s, so a faster matrix product in nn speeds it up in
// proportion. The ratio stays below 9 because at this size the dense layer spends
// more time on its elementwise SiLU and bias than on its products.
//
// # KAN versus MLP
//
// TestPaperClaim fits functions of the paper's §3.1 with a KAN and an MLP (SiLU, two
// hidden layers) of equal parameter count (all trainable values: c, wb, ws for the
// KAN; weights and biases for the MLP), on the same 1000 training and 1000 test points
// uniform in [-1, 1]^d, with the same full-batch Adam (lr 1e-2, cosine decay to 1e-4),
// the same number of steps and seeds 1, 2, 3 for the initialisation. KAN grids follow
// the activations (UpdateGrid every steps/20 updates during the first half). Test
// RMSE, mean ± standard deviation over the seeds:
//
//	2000 steps (the test's default, about 15 s on the two cores)
//	f                                 KAN (params)          KAN RMSE           MLP (params)           MLP RMSE           lower
//	exp(sin(pi x) + y^2)              [2 5 1] G=5 (150)     1.22e-2 ± 0.30e-2  [2 10 10 1] (151)      5.11e-2 ± 2.0e-2   KAN
//	x y                               [2 5 1] G=5 (150)     9.74e-4 ± 3.0e-4   [2 10 10 1] (151)      2.24e-3 ± 1.7e-3   KAN
//	exp((sin(pi(x1^2+x2^2))           [4 4 2 1] G=5 (260)   6.23e-2 ± 5.1e-2   [4 13 13 1] (261)      2.02e-1 ± 0.61e-1  KAN
//	   + sin(pi(x3^2+x4^2)))/2)
//	J0(20x)                           [1 5 1] G=5 (100)     6.11e-3 ± 2.6e-3   [1 8 8 1] (97)         8.42e-2 ± 3.6e-2   KAN
//	|x| + |y|                         [2 5 1] G=5 (150)     1.06e-2 ± 0.36e-2  [2 10 10 1] (151)      2.70e-2 ± 0.16e-2  KAN
//	sin(4 pi x) y                     [2 5 1] G=5 (150)     2.34e-2 ± 1.2e-2   [2 10 10 1] (151)      1.40e-1 ± 0.24e-1  KAN
//
//	10000 steps (-kan.steps 10000), same models
//	f                                 KAN RMSE             MLP RMSE           lower
//	exp(sin(pi x) + y^2)              1.86e-3 ± 0.13e-3    1.01e-2 ± 0.40e-2  KAN
//	x y                               3.09e-4 ± 0.93e-4    5.88e-4 ± 1.5e-4   KAN
//	exp((sin(pi(x1^2+x2^2)) + ...)/2) 2.41e-2 ± 3.2e-2     1.02e-1 ± 0.45e-1  KAN
//	J0(20x)                           3.11e-3 ± 3.1e-3     3.19e-2 ± 2.8e-2   KAN
//	|x| + |y|                         2.79e-3 ± 0.19e-3    6.99e-3 ± 1.7e-3   KAN
//	sin(4 pi x) y                     1.22e-2 ± 0.70e-2    6.63e-2 ± 1.6e-2   KAN
//
// The last three rows run with -kan.more. Target standard deviations: 1.40, 0.335,
// 0.595, 0.287, 0.427, 0.406.
//
// What the table shows, and what it does not: the KAN has the lower mean test RMSE in
// every row, by a factor of 1.9 to 14, and at these sizes its step takes no longer than
// the MLP's (0.5 to 1.0 ms against 0.6 to 1.1 ms at 2000 steps). No function tried
// here, at either budget, gave the MLP the lower mean. Where the margin is not decisive:
//   - x y is the closest case (factor 1.9 at 10000 steps): at 2000 steps the best MLP
//     seed (1.14e-3) beats the worst KAN seed (1.31e-3), at 10000 steps they almost
//     meet (4.19e-4 and 4.14e-4), and at lr 3e-2 (means 7.7e-4 and 1.3e-3) one MLP seed
//     again beats one KAN seed.
//   - The 4-D function spreads widely over KAN seeds (9.6e-3 to 1.1e-1 at 2000 steps):
//     whether a seed finds the compositional structure decides the result.
//   - For the three functions the ordering held at lr 3e-3 and 3e-2 (both
//     models), and with tanh instead of SiLU in the MLP; but these are tiny networks,
//     one optimiser and one data size.
//     The paper's own fits use LBFGS with grid extension; none is used here, so the
//     parameter counts stay equal.
//   - At equal shapes a KAN layer costs about 5 times a dense one (Cost above); the
//     tables compare equal parameter counts, where step times are alike.
//
// The test asserts only that both models learn (R^2 >= 0.98 for the two-variable
// functions of the issue, >= 0.5 for the harder ones, on every seed) and that the
// parameter counts agree within 3%; the table is logged, not asserted. Reproduce with
//
//	go test ./kan -run PaperClaim -v [-kan.steps N] [-kan.lr R] [-kan.more]
//
// (KAN_PAPER_STEPS and KAN_PAPER_MORE=1 do the same), or as a benchmark:
// go test ./kan -run '^$' -bench PaperClaim -benchtime 1x -kan.steps N.
package kan
