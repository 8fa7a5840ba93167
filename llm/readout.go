package llm

import (
	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/nn"
)

// The spatial readout of image.vqa (Config.GeoReadout). Unlike the training-only
// heads of heads.go it runs at inference: Decode computes it once the prompt has
// passed RoleLayer blocks (decoder.addGeo) and adds it to every position after the
// image. Its offset and direction heads are trained by geoLoss; the role head whose
// probabilities it reads is trained by roleLoss (heads.go).

// GeoFeatures is the length of the spatial readout (Config.GeoReadout): the expected
// centres (x, y) of the question's first and second objects, in cells from the image
// centre; their difference d and tanh(3 d), about +-0.8 already for centres
// dataset.MinColumnGap (3) pixels apart; and the answer's sign, tanh(3 u.d), where u is the
// direction the question looks (dataset.Direction's vector, as the direction head
// reads it from the question).
const GeoFeatures = 9

// geo holds the spatial readout's trained parts of one forward pass: each image
// slot's predicted centre offset, [slots, 2] in half cells (geoOffTarget), and each
// image.vqa example's predicted direction, [examples, 2] (dataset.Direction.Vector,
// zero for questions that are not relations).
type geo struct{ off, dir *tensor }

// geoReadout is the spatial readout of image.vqa. mid holds the image slots' decoder
// states after RoleLayer blocks, [n*ImageSlots, Dim] for n images, slots in cell
// order; at, [n, Dim], the state of each example's first position after its image at
// the same depth, which has read the question. Each slot's role probabilities (the
// role head) weigh the slots into one distribution over cells per role; each slot's
// centre is its cell's centre moved by at most half a cell (the offset head); the
// direction head reads from at which way the question looks. The readout
// (GeoFeatures) is mapped by geoW to [n, Dim].
//
// Why a readout and not more attention: with the role head telling the slots which
// object is which, 6000 steps of instruction tuning answered relations at chance
// (MODEL.md). So did a readout of the two positions alone, although its sign matched
// the answer for 94% of the questions after 1900 steps: whether "yes" goes with a
// negative or a positive difference depends on the question's direction, and
// averaged over questions asked both ways round a linear map of the difference
// correlates with nothing. The direction head, trained on the question's direction,
// turns the difference into the answer's sign, which the decoder only has to read.
func (m *Model) geoReadout(g *graph, mid, at *tensor) (feat *tensor, parts geo) {
	n := mid.Dim(0) / ImageSlots
	logp := g.LogSoftmax(g.Add(g.MatMul(mid, m.roleW), m.roleB), nil)
	att := g.Softmax(g.Transpose(g.Reshape(logp, n, ImageSlots, dataset.NumRoles), 1, 2), nil) // [n, roles, cells]
	parts.off = g.Tanh(g.Add(g.MatMul(mid, m.geoOffW), m.geoOffB))
	centres := make([]float32, 0, n*ImageSlots*2)
	for range n {
		for c := range ImageSlots {
			centres = append(centres, float32(c%PatchGrid)+0.5-PatchGrid/2, float32(c/PatchGrid)+0.5-PatchGrid/2)
		}
	}
	where := g.Add(g.Scale(parts.off, 0.5), nn.NewTensor(centres, n*ImageSlots, 2))
	pos := g.BatchMatMul(att, g.Reshape(where, n, ImageSlots, 2), false, false) // [n, roles, 2]
	a := g.Reshape(g.Slice(pos, 1, int(dataset.RoleNamed), int(dataset.RoleNamed)+1), n, 2)
	b := g.Reshape(g.Slice(pos, 1, int(dataset.RoleSecond), int(dataset.RoleSecond)+1), n, 2)
	d := g.Sub(a, b)
	parts.dir = g.Add(g.MatMul(at, m.geoDirW), m.geoDirB)
	sign := g.Tanh(g.Scale(g.Reshape(g.BatchMatMul(g.Reshape(parts.dir, n, 1, 2), g.Reshape(d, n, 2, 1), false, false), n, 1), 3))
	f := g.Concat(1, a, b, d, g.Tanh(g.Scale(d, 3)), sign)
	return g.MatMul(f, m.geoW), parts
}

// geoOffTarget is the offset head's target for a cell holding an object centred at
// pixel (x, y) of the cell, in half cells from the cell's centre.
func geoOffTarget(x, y int) (float32, float32) {
	const half = PatchSize / 2
	return (float32(x)+0.5)/half - 1, (float32(y)+0.5)/half - 1
}

// geoLoss is the mean squared error of the offset head on the cells that hold an
// object (rows offSel of parts.off, targets offT) plus that of the direction head on
// the examples whose question is known (rows dirSel of parts.dir, targets dirT).
func (m *Model) geoLoss(g *graph, parts geo, offSel []int, offT []float32, dirSel []int, dirT []float32) *tensor {
	var l *tensor
	if len(offSel) > 0 {
		l = g.MSE(g.Gather(parts.off, offSel), nn.NewTensor(offT, len(offSel), 2))
	}
	if len(dirSel) > 0 {
		dl := g.MSE(g.Gather(parts.dir, dirSel), nn.NewTensor(dirT, len(dirSel), 2))
		if l == nil {
			return dl
		}
		l = g.Add(l, dl)
	}
	return l
}
