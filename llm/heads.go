package llm

import (
	"errors"
	"fmt"
	"slices"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/nn"
)

// Training-only heads: the auxiliary readouts of image semantics (Config.AuxHeads)
// and the role head's loss (Config.RoleHead). Task inference never runs them (the
// role head reaches inference only through the spatial readout, readout.go);
// ReadCells uses the auxiliary heads as a probe of what the semantics carry.
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
