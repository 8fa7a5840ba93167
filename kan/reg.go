package kan

import (
	"math"

	"github.com/m4sc/m4sc/nn"
)

// Regularization returns the sparsity penalty of Liu et al. 2024, §2.5.1,
//
//	R = l1 * sum_{o,i} A_{o,i} + entropy * S,  S = -sum_{o,i} p_{o,i} log p_{o,i},  p = A / sum A,
//
// as a scalar on g to add to the loss (the paper weights both by lambda; pass
// lambda*mu_1 and lambda*mu_2). The paper's A_{o,i} is the mean |phi_{o,i}(x)| over a
// batch; like efficient-kan this uses the coefficient proxy
// A_{o,i} = |ws_{o,i}| mean_j |c_{o,i,j}|, which needs no batch and no
// [rows, out, in] tensor, and includes |ws| so the penalty cannot be dodged by moving
// magnitude from c into ws. The base path is not penalised.
func (l *Layer[T]) Regularization(g *nn.Graph[T], l1, entropy float64) *nn.Tensor[T] {
	c, ws := l.Coef, l.Ws
	nb := c.Dim(-1)
	out := g.New(c.RequiresGrad() || ws.RequiresGrad())
	a := make([]float64, len(ws.Data))
	var sum float64
	for e, w := range ws.Data {
		var m float64
		for _, v := range c.Data[e*nb : (e+1)*nb] {
			m += math.Abs(float64(v))
		}
		a[e] = math.Abs(float64(w)) * m / float64(nb)
		sum += a[e]
	}
	var ent float64
	if sum > 0 {
		for _, v := range a {
			if v > 0 {
				p := v / sum
				ent -= p * math.Log(p)
			}
		}
	}
	out.Data[0] = T(l1*sum + entropy*ent)
	// dR/dA_m = l1 + entropy*(-log p_m - S)/sum A (the entropy term is 0 where A_m = 0);
	// dA_m/dc_{m,j} = |ws_m| sign(c_{m,j})/nb, dA_m/dws_m = sign(ws_m) mean_j |c_{m,j}|.
	g.OnBackward(out, func() {
		d := float64(out.Grad[0])
		for e, w := range ws.Data {
			dA := l1
			if a[e] > 0 {
				dA += entropy * (-math.Log(a[e]/sum) - ent) / sum
			}
			dA *= d
			cs := c.Data[e*nb : (e+1)*nb]
			if c.RequiresGrad() {
				s := dA * math.Abs(float64(w)) / float64(nb)
				dc := c.Grad[e*nb : (e+1)*nb]
				for j, v := range cs {
					dc[j] += T(s * sign(float64(v)))
				}
			}
			if ws.RequiresGrad() {
				var m float64
				for _, v := range cs {
					m += math.Abs(float64(v))
				}
				ws.Grad[e] += T(dA * sign(float64(w)) * m / float64(nb))
			}
		}
	}, c, ws)
	return out
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
