package kan

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m4sc/m4sc/nn"
)

// The KAN-versus-MLP check of issue 3, point 6. Both models train on the same fixed
// data with the same optimiser, schedule and number of full-batch steps; only the
// initialisation seed varies. Longer budgets:
//
//	go test ./kan -run PaperClaim -v -kan.steps 20000
//	KAN_PAPER_STEPS=20000 go test ./kan -run PaperClaim -v
//	go test ./kan -run '^$' -bench PaperClaim -benchtime 1x -kan.steps 20000
//
// and -kan.more (or KAN_PAPER_MORE=1) adds the three further functions of the table.
var (
	paperSteps = flag.Int("kan.steps", 0, "full-batch Adam steps per model in TestPaperClaim (0: $KAN_PAPER_STEPS or the default)")
	paperLR    = flag.Float64("kan.lr", paperDefaultLR, "peak Adam learning rate in TestPaperClaim, for both models")
	paperMore  = flag.Bool("kan.more", false, "TestPaperClaim also fits the further functions (also KAN_PAPER_MORE=1)")
)

const (
	paperDefaultSteps = 2000
	paperDefaultLR    = 1e-2
	paperTrain        = 1000 // points uniform in [-1, 1]^d
	paperTest         = 1000
)

var paperSeeds = []uint64{1, 2, 3}

// paperTarget is one function of the paper's section 3.1 (Liu et al. 2024, Figure 3.1)
// with the KAN shape the paper uses or wider, and an MLP of equal parameter count.
type paperTarget struct {
	name  string
	dim   int
	f     func(x []float64) float64
	kan   []int // KAN widths
	mlp   []int // MLP widths, SiLU between layers
	gridG int
	// minR2 is what "the model learned" means in the test: test RMSE below
	// sqrt(1-minR2) times the standard deviation of the test targets (predicting the
	// mean scores R^2 = 0). Two-variable functions must be fitted closely at the
	// default budget; the harder ones, which neither model has fitted closely after
	// 2000 steps, must at least explain half the variance.
	minR2 float64
}

var paperTargets = []paperTarget{
	{"exp(sin(pi x) + y^2)", 2, func(x []float64) float64 {
		return math.Exp(math.Sin(math.Pi*x[0]) + x[1]*x[1])
	}, []int{2, 5, 1}, []int{2, 10, 10, 1}, 5, 0.98},
	{"x y", 2, func(x []float64) float64 { return x[0] * x[1] }, []int{2, 5, 1}, []int{2, 10, 10, 1}, 5, 0.98},
	{"exp((sin(pi(x1^2+x2^2)) + sin(pi(x3^2+x4^2)))/2)", 4, func(x []float64) float64 {
		return math.Exp(0.5 * (math.Sin(math.Pi*(x[0]*x[0]+x[1]*x[1])) + math.Sin(math.Pi*(x[2]*x[2]+x[3]*x[3]))))
	}, []int{4, 4, 2, 1}, []int{4, 13, 13, 1}, 5, 0.5},
}

// paperMoreTargets probe beyond the functions: a high-frequency special
// function (the paper's J0(20x), Figure 3.1), kinks off the grid's knots, and more
// oscillation than G = 5 intervals resolve on one axis.
var paperMoreTargets = []paperTarget{
	{"J0(20x)", 1, func(x []float64) float64 { return math.J0(20 * x[0]) }, []int{1, 5, 1}, []int{1, 8, 8, 1}, 5, 0.5},
	{"|x| + |y|", 2, func(x []float64) float64 { return math.Abs(x[0]) + math.Abs(x[1]) }, []int{2, 5, 1}, []int{2, 10, 10, 1}, 5, 0.5},
	{"sin(4 pi x) y", 2, func(x []float64) float64 { return math.Sin(4*math.Pi*x[0]) * x[1] }, []int{2, 5, 1}, []int{2, 10, 10, 1}, 5, 0.5},
}

func paperFunctions() []paperTarget {
	if *paperMore || os.Getenv("KAN_PAPER_MORE") == "1" {
		return append(slices.Clone(paperTargets), paperMoreTargets...)
	}
	return paperTargets
}

func paperStepCount() int {
	if *paperSteps > 0 {
		return *paperSteps
	}
	if v, err := strconv.Atoi(os.Getenv("KAN_PAPER_STEPS")); err == nil && v > 0 {
		return v
	}
	return paperDefaultSteps
}

// paperData draws n points uniform in [-1, 1]^d and their targets, from a fixed seed.
func paperData(f paperTarget, n int, seed uint64) (x, y *nn.Tensor[float64]) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	x, y = nn.NewTensor[float64](nil, n, f.dim), nn.NewTensor[float64](nil, n, 1)
	for r := range n {
		row := x.Data[r*f.dim : (r+1)*f.dim]
		for i := range row {
			row[i] = 2*rng.Float64() - 1
		}
		y.Data[r] = f.f(row)
	}
	return x, y
}

// model is what the trainer needs of either network.
type model struct {
	forward func(g *nn.Graph[float64], x *nn.Tensor[float64]) *nn.Tensor[float64]
	params  *nn.Params[float64]
	count   int
	refresh func(x *nn.Tensor[float64]) error // KAN grid update; nil for the MLP
}

func newKANModel(f paperTarget, seed uint64) (model, error) {
	n, err := NewNetwork[float64]("kan/paper", f.kan, Config{GridSize: f.gridG}, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		return model{}, err
	}
	p := nn.NewParams[float64]()
	n.AddParams(p)
	return model{forward: n.Forward, params: p, count: n.NumParams(), refresh: n.UpdateGrid}, nil
}

// newMLPModel builds x -> W_1 x + b_1 -> SiLU -> ... -> W_L x + b_L, every weight and
// bias uniform in +-1/sqrt(fan_in) (PyTorch's nn.Linear default).
func newMLPModel(f paperTarget, seed uint64) model {
	rng := rand.New(rand.NewPCG(seed, 2))
	p := nn.NewParams[float64]()
	var ws, bs []*nn.Tensor[float64]
	count := 0
	for l := range len(f.mlp) - 1 {
		in, out := f.mlp[l], f.mlp[l+1]
		bound := 1 / math.Sqrt(float64(in))
		w := nn.Uniform(rng, nn.NewParam[float64](nil, out, in), -bound, bound)
		b := nn.Uniform(rng, nn.NewParam[float64](nil, out), -bound, bound)
		p.Add(fmt.Sprintf("mlp/layer%d/w", l), w)
		p.Add(fmt.Sprintf("mlp/layer%d/b", l), b)
		ws, bs = append(ws, w), append(bs, b)
		count += out*in + out
	}
	fwd := func(g *nn.Graph[float64], x *nn.Tensor[float64]) *nn.Tensor[float64] {
		for l := range ws {
			x = g.Add(g.MatMulT(x, ws[l]), bs[l])
			if l+1 < len(ws) {
				x = g.SiLU(x)
			}
		}
		return x
	}
	return model{forward: fwd, params: p, count: count}
}

// train runs full-batch Adam on the MSE for steps updates, the rate a cosine from lr to
// lr/100. A KAN's grids follow its activations (UpdateGrid on the training inputs)
// every steps/20 updates during the first half, as pykan's fit does early in training.
func train(m model, xtr, ytr *nn.Tensor[float64], steps int, lr float64) error {
	opt, err := nn.NewAdam[float64](nn.AdamConfig{LR: lr, Schedule: nn.Schedule{Kind: nn.WarmupCosine, Total: int64(steps), Floor: 0.01}})
	if err != nil {
		return err
	}
	g := nn.NewGraph[float64](nil)
	every := max(1, steps/20)
	for s := range steps {
		if m.refresh != nil && s%every == 0 && s < steps/2 {
			if err := m.refresh(xtr); err != nil {
				return err
			}
		}
		g.Reset()
		m.params.ZeroGrad()
		g.Backward(g.MSE(m.forward(g, xtr), ytr))
		opt.Step(m.params)
	}
	return nil
}

func rmse(m model, x, y *nn.Tensor[float64]) float64 {
	p := m.forward(nn.NewGraph[float64](nil), x).Data
	var s float64
	for i, v := range y.Data {
		s += (p[i] - v) * (p[i] - v)
	}
	return math.Sqrt(s / float64(len(y.Data)))
}

func stddev(v []float64) (mean, sd float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	if len(v) > 1 {
		sd = math.Sqrt(sd / float64(len(v)-1))
	}
	return mean, sd
}

// paperRow is one function's result.
type paperRow struct {
	target         paperTarget
	kanN, mlpN     int
	kanRMSE, mlpRM []float64
	std            float64         // of the test targets
	kanT, mlpT     []time.Duration // training wall time per seed
}

// runPaperClaim trains every (function, seed, model) on its own goroutine, at most
// GOMAXPROCS at a time. The runs share only read-only data, so the results do not
// depend on the scheduling; each run's time is its own wall time.
func runPaperClaim(tb testing.TB, steps int, lr float64) []paperRow {
	fs := paperFunctions()
	rows := make([]paperRow, len(fs))
	type job struct {
		fi, si int
		kan    bool
	}
	var jobs []job
	for fi, f := range fs {
		rows[fi] = paperRow{target: f, kanRMSE: make([]float64, len(paperSeeds)), mlpRM: make([]float64, len(paperSeeds)),
			kanT: make([]time.Duration, len(paperSeeds)), mlpT: make([]time.Duration, len(paperSeeds))}
		for si := range paperSeeds {
			jobs = append(jobs, job{fi, si, true}, job{fi, si, false})
		}
	}
	data := make([][4]*nn.Tensor[float64], len(fs)) // xtr, ytr, xte, yte
	for fi, f := range fs {
		xtr, ytr := paperData(f, paperTrain, uint64(100+fi))
		xte, yte := paperData(f, paperTest, uint64(200+fi))
		data[fi] = [4]*nn.Tensor[float64]{xtr, ytr, xte, yte}
		_, rows[fi].std = stddev(yte.Data)
	}
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for ji, j := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			f, d, seed := fs[j.fi], data[j.fi], paperSeeds[j.si]
			var m model
			if j.kan {
				var err error
				if m, err = newKANModel(f, seed); err != nil {
					errs[ji] = err
					return
				}
			} else {
				m = newMLPModel(f, seed)
			}
			start := time.Now()
			if errs[ji] = train(m, d[0], d[1], steps, lr); errs[ji] != nil {
				return
			}
			el, e := time.Since(start), rmse(m, d[2], d[3])
			r := &rows[j.fi]
			if j.kan {
				r.kanN, r.kanRMSE[j.si], r.kanT[j.si] = m.count, e, el
			} else {
				r.mlpN, r.mlpRM[j.si], r.mlpT[j.si] = m.count, e, el
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
	return rows
}

func paperTable(rows []paperRow, steps int, lr float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d full-batch Adam steps, lr %g cosine to %g, %d train / %d test points, seeds %v\n", steps, lr, lr/100, paperTrain, paperTest, paperSeeds)
	fmt.Fprintf(&b, "%-48s | %-20s | %-22s | %-22s | %s\n", "f", "KAN (params)", "KAN test RMSE", "MLP test RMSE", "MLP (params); lower")
	for _, r := range rows {
		km, ks := stddev(r.kanRMSE)
		mm, ms := stddev(r.mlpRM)
		lower := "KAN"
		if mm < km {
			lower = "MLP"
		}
		fmt.Fprintf(&b, "%-48s | %-20s | %.2e ± %.1e | %.2e ± %.1e | %v (%d); %s\n", r.target.name,
			fmt.Sprintf("%v G=%d (%d)", r.target.kan, r.target.gridG, r.kanN), km, ks, mm, ms, r.target.mlp, r.mlpN, lower)
		perStep := func(ds []time.Duration) float64 {
			var sum time.Duration
			for _, d := range ds {
				sum += d
			}
			return sum.Seconds() * 1e3 / float64(steps*len(ds))
		}
		fmt.Fprintf(&b, "%-48s   per seed KAN %.2e, MLP %.2e; target sd %.3f; ms/step KAN %.2f, MLP %.2f\n", "", r.kanRMSE, r.mlpRM, r.std, perStep(r.kanT), perStep(r.mlpT))
	}
	return b.String()
}

// TestPaperClaim trains a KAN and an MLP of (nearly) equal parameter count on each
// function and logs the table that kan/doc.go reproduces. It asserts only what is
// robust: every model learns (R^2 >= minR2 on the test set) and the parameter counts
// match within 3%. Which model wins is reported, not asserted.
func TestPaperClaim(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 18 models; skipped with -short")
	}
	steps := paperStepCount()
	start := time.Now()
	rows := runPaperClaim(t, steps, *paperLR)
	t.Logf("%s(%.1fs)", paperTable(rows, steps, *paperLR), time.Since(start).Seconds())
	for _, r := range rows {
		if d := math.Abs(float64(r.kanN-r.mlpN)) / float64(r.kanN); d > 0.03 {
			t.Errorf("%s: KAN has %d parameters, MLP %d", r.target.name, r.kanN, r.mlpN)
		}
		bound := math.Sqrt(1-r.target.minR2) * r.std
		for i, seed := range paperSeeds {
			if r.kanRMSE[i] > bound || r.mlpRM[i] > bound {
				t.Errorf("%s seed %d: test RMSE KAN %.3g, MLP %.3g; want both below %.3g (R^2 >= %g)", r.target.name, seed, r.kanRMSE[i], r.mlpRM[i], bound, r.target.minR2)
			}
		}
	}
}

// BenchmarkPaperClaim runs the same comparison and reports the mean test RMSEs.
func BenchmarkPaperClaim(b *testing.B) {
	steps := paperStepCount()
	for b.Loop() {
		rows := runPaperClaim(b, steps, *paperLR)
		for i, r := range rows {
			km, _ := stddev(r.kanRMSE)
			mm, _ := stddev(r.mlpRM)
			b.ReportMetric(km, fmt.Sprintf("kan-rmse-f%d", i+1))
			b.ReportMetric(mm, fmt.Sprintf("mlp-rmse-f%d", i+1))
		}
		b.Logf("\n%s", paperTable(rows, steps, *paperLR))
	}
}
