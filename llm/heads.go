package llm

import (
	"errors"
	"fmt"
	"slices"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/nn"
)

// Auxiliary readouts of image semantics (Config.AuxHeads).
//
// The language model learns to read images only through its answers, a sparse signal
// that reaches the image encoder after four decoder blocks: after the whole
// align+instruct budget the shipped model without these heads still confused shapes
// (VQA shape questions 46%, three shapes) while its reconstructions drew them. The
// auxiliary heads give the image encoder a direct, dense signal, in the role a
// pre-trained vision backbone plays in a full-size multi-modal model:
//
//   - per image cell (one semantic vector per PatchSize x PatchSize cell), linear
//     softmaxes over whether an object is centred there and, if one is, its shape,
//     colour, size and centre within the cell (PatchSize^2 classes);
//   - per digit image, a linear softmax over the ten classes from all its vectors.
//
// They read the clean semantic vectors, the ones the channel will carry, so what they
// teach is present in what is transmitted. They are used by training only; inference
// never runs them. They start at zero, so they draw nothing from the random source
// and adding them to a trained model (Rebuild) equals having had them from the start.

// AuxWeight scales the sum of the auxiliary cross-entropies against the token loss.
const AuxWeight = 1

// The cell heads: whether an object is centred in the cell (over every cell), and its
// shape, colour, size and centre within the cell (over the cells that hold one). They
// are separate softmaxes, and the attribute ones skip empty cells: with a joint
// "empty or (shape, colour, size)" softmax over all cells, the three empty cells in
// four drowned the attributes, and after 400 steps on images alone the heads read
// colour at chance while finding objects perfectly; split this way they read colour
// perfectly in the same steps.
const (
	auxCellHeads  = 5
	auxPosClasses = PatchSize * PatchSize
)

// auxCellClasses are the class counts of the cell heads: object or not, shape, colour,
// size, centre position.
var auxCellClasses = [auxCellHeads]int{2, dataset.NumShapes, dataset.NumColors, dataset.NumSizes, auxPosClasses}

var auxCellNames = [auxCellHeads]string{"occupied", "shape", "color", "size", "pos"}

// auxTarget is what the auxiliary heads should read from one image.
type auxTarget struct {
	cells bool                          // cell targets are set (a generated scene)
	cell  [auxCellHeads][ImageSlots]int // per head and cell: the class, or nn.IgnoreIndex
	digit int                           // a digit's label, or -1
}

// sceneAux returns the cell targets of a scene. Two centres never share a cell: objects
// whose centres are closer than a cell horizontally are at least a cell apart
// vertically (dataset's placement rule), which TestSceneAuxCells checks.
func sceneAux(objs []dataset.Object) *auxTarget {
	a := &auxTarget{cells: true, digit: -1}
	for h := 1; h < auxCellHeads; h++ {
		for j := range ImageSlots {
			a.cell[h][j] = nn.IgnoreIndex
		}
	}
	for _, o := range objs {
		c := CellOf(o.X, o.Y)
		a.cell[0][c] = 1
		a.cell[1][c] = int(o.Shape)
		a.cell[2][c] = int(o.Color)
		a.cell[3][c] = int(o.Size)
		a.cell[4][c] = (o.Y%PatchSize)*PatchSize + o.X%PatchSize
	}
	return a
}

// digitAux returns the target of a digit image.
func digitAux(label uint8) *auxTarget { return &auxTarget{digit: int(label)} }

// auxHeads are the heads' weights.
type auxHeads struct {
	cellW, cellB [auxCellHeads]*tensor
	digW, digB   *tensor
}

func newAuxHeads(s nn.Scope[float32], semDim int) *auxHeads {
	a := &auxHeads{}
	for h, n := range auxCellClasses {
		a.cellW[h] = s.Add(auxCellNames[h]+"/w", nn.NewParam[float32](nil, semDim, n))
		a.cellB[h] = s.Add(auxCellNames[h]+"/bias", nn.NewParam[float32](nil, n))
	}
	a.digW = s.Add("digit/w", nn.NewParam[float32](nil, ImageSlots*semDim, 10))
	a.digB = s.Add("digit/bias", nn.NewParam[float32](nil, 10))
	return a
}

// auxBatch holds a batch's auxiliary targets, rows into the semantic table [rows, SemDim].
type auxBatch struct {
	cellRows    []int               // semantic rows of the cells of scene images
	cell        [auxCellHeads][]int // their targets per head
	digitRows   []int               // semantic rows of digit images, ImageSlots per image in slot order
	digitLabels []int
}

// add records image n's targets, its semantic rows starting at row0.
func (a *auxBatch) add(t *auxTarget, row0 int) {
	if t.cells {
		for j := range ImageSlots {
			a.cellRows = append(a.cellRows, row0+j)
		}
		for h := range t.cell {
			a.cell[h] = append(a.cell[h], t.cell[h][:]...)
		}
	}
	if t.digit >= 0 {
		for j := range ImageSlots {
			a.digitRows = append(a.digitRows, row0+j)
		}
		a.digitLabels = append(a.digitLabels, t.digit)
	}
}

// auxLoss returns the summed auxiliary cross-entropies of the semantic vectors sem, or
// nil when the batch has no targets.
func (m *Model) auxLoss(g *graph, sem *tensor, a *auxBatch) *tensor {
	if m.aux == nil || sem == nil {
		return nil
	}
	var terms []*tensor
	if len(a.cellRows) > 0 {
		x := g.Gather(sem, a.cellRows)
		for h := range auxCellHeads {
			if hasTarget(a.cell[h]) {
				logits := g.Add(g.MatMul(x, m.aux.cellW[h]), m.aux.cellB[h])
				terms = append(terms, g.CrossEntropy(logits, a.cell[h], nn.CrossEntropyOptions{}))
			}
		}
	}
	if n := len(a.digitLabels); n > 0 {
		x := g.Reshape(g.Gather(sem, a.digitRows), n, ImageSlots*m.cfg.SemDim)
		terms = append(terms,
			g.CrossEntropy(g.Add(g.MatMul(x, m.aux.digW), m.aux.digB), a.digitLabels, nn.CrossEntropyOptions{}))
	}
	if len(terms) == 0 {
		return nil
	}
	total := terms[0]
	for _, t := range terms[1:] {
		total = g.Add(total, t)
	}
	return total
}

// roleLoss is the role head's cross-entropy (Config.RoleHead): h holds the image
// slots' hidden states after RoleLayer decoder blocks, targets their dataset.Role.
func (m *Model) roleLoss(g *graph, h *tensor, targets []int) *tensor {
	return g.CrossEntropy(g.Add(g.MatMul(h, m.roleW), m.roleB), targets, nn.CrossEntropyOptions{})
}

func hasTarget(ts []int) bool {
	for _, t := range ts {
		if t != nn.IgnoreIndex {
			return true
		}
	}
	return false
}

// ErrNoAuxHeads is returned by ReadCells for a model without Config.AuxHeads.
var ErrNoAuxHeads = errors.New("llm: the model has no auxiliary heads (Config.AuxHeads)")

// Cell is what the auxiliary heads read from one image cell's semantic vector: whether
// an object is centred in the cell and, as if one were, its most likely shape, colour,
// size and centre (X, Y in image pixels).
type Cell struct {
	Occupied bool
	dataset.Object
}

// CellOf returns the cell (semantic vector) of an image that pixel (x, y) lies in.
func CellOf(x, y int) int { return (y/PatchSize)*PatchGrid + x/PatchSize }

// CellObjects returns the objects of the occupied cells, sorted left to right like
// dataset.Scene.Objects.
func CellObjects(cells [ImageSlots]Cell) []dataset.Object {
	var objs []dataset.Object
	for _, c := range cells {
		if c.Occupied {
			objs = append(objs, c.Object)
		}
	}
	slices.SortStableFunc(objs, func(p, q dataset.Object) int { return p.X - q.X })
	return objs
}

// ReadCells returns what the auxiliary heads read from an image's semantic vectors,
// clean or received through a channel: a probe of what the transmitted semantics
// carry, apart from the language model that decodes them.
func (m *Model) ReadCells(s Semantics) ([ImageSlots]Cell, error) {
	var cells [ImageSlots]Cell
	if m.aux == nil {
		return cells, ErrNoAuxHeads
	}
	if !s.Task.Image() || s.N != ImageSlots || s.Dim != m.cfg.SemDim || len(s.Vectors) != s.N*s.Dim {
		return cells, fmt.Errorf("llm: read cells: want the %d x %d semantic vectors of an image task, got %s with %d x %d (%d values)",
			ImageSlots, m.cfg.SemDim, s.Task, s.N, s.Dim, len(s.Vectors))
	}
	g := nn.NewGraph[float32](nil)
	x := nn.NewTensor(s.Vectors, s.N, s.Dim)
	var cls [auxCellHeads][]float32
	for h := range auxCellHeads {
		cls[h] = g.Add(g.MatMul(x, m.aux.cellW[h]), m.aux.cellB[h]).Data
	}
	class := func(h, c int) int {
		row := cls[h][c*auxCellClasses[h] : (c+1)*auxCellClasses[h]]
		return slices.Index(row, slices.Max(row))
	}
	for c := range cells {
		pos := class(4, c)
		cells[c] = Cell{Occupied: class(0, c) == 1, Object: dataset.Object{
			Shape: dataset.Shape(class(1, c)), Color: dataset.Color(class(2, c)), Size: dataset.Size(class(3, c)),
			X: c%PatchGrid*PatchSize + pos%PatchSize, Y: c/PatchGrid*PatchSize + pos/PatchSize,
		}}
	}
	return cells, nil
}

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
