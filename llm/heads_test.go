package llm

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/nn"
)

// Every object of a scene gets a cell of its own, and the cell targets give its
// attributes and centre back exactly.
func TestSceneAuxCells(t *testing.T) {
	for seed := range uint64(3000) {
		sc := dataset.GenerateScene(dataset.SceneTrain.Seed(seed))
		a := sceneAux(sc.Objects)
		var got []dataset.Object
		for c := range ImageSlots {
			if a.cell[0][c] == 0 {
				for h := 1; h < auxCellHeads; h++ {
					if a.cell[h][c] != nn.IgnoreIndex {
						t.Fatalf("seed %d: empty cell %d has a %s", seed, c, auxCellNames[h])
					}
				}
				continue
			}
			got = append(got, dataset.Object{
				Shape: dataset.Shape(a.cell[1][c]),
				Color: dataset.Color(a.cell[2][c]),
				Size:  dataset.Size(a.cell[3][c]),
				X:     c%PatchGrid*PatchSize + a.cell[4][c]%PatchSize,
				Y:     c/PatchGrid*PatchSize + a.cell[4][c]/PatchSize,
			})
		}
		slices.SortFunc(got, func(p, q dataset.Object) int { return p.X - q.X })
		if !slices.Equal(got, sc.Objects) {
			t.Fatalf("seed %d: cells give %+v, scene has %+v", seed, got, sc.Objects)
		}
	}
}

// The auxiliary heads draw nothing from the random source: a model with them equals
// one without in every shared weight, and Rebuild adding them gives zeros.
func TestAuxHeadsLeaveOtherWeights(t *testing.T) {
	tok := shippedTokenizer(t)
	cfg := DefaultConfig(tok.VocabSize())
	cfg.Dim, cfg.ImgDim, cfg.Layers, cfg.EncLayers, cfg.ImgLayers = 32, 32, 1, 1, 1
	with, err := New(cfg, tok, rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	cfg.AuxHeads = false
	without, err := New(cfg, tok, rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range without.params.All() {
		if q := with.params.Get(name); q == nil || !slices.Equal(p.Data, q.Data) {
			t.Fatalf("%s differs when the auxiliary heads are added", name)
		}
	}
	cfg.AuxHeads = true
	rebuilt, err := without.Rebuild(cfg, rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range with.params.All() {
		if q := rebuilt.params.Get(name); q == nil || !slices.Equal(p.Data, q.Data) {
			t.Fatalf("%s: Rebuild with the heads differs from New with them", name)
		}
	}
	want := ImageSlots*cfg.SemDim*10 + 10
	for _, n := range auxCellClasses {
		want += (cfg.SemDim + 1) * n
	}
	if with.NumParams()-without.NumParams() != want {
		t.Errorf("heads add %d parameters", with.NumParams()-without.NumParams())
	}
}

// The batch routes each image's targets to its own semantic rows: text rows first,
// then ImageSlots rows per image in example order.
func TestAuxBatchRows(t *testing.T) {
	m := smallModel(t, ProjectorKAN)
	exs := mixedExamples(14)
	b, err := m.buildBatch(exs)
	if err != nil {
		t.Fatal(err)
	}
	nText := len(b.textRows)
	var wantCells, wantDigits []int
	img := 0
	for _, ex := range exs {
		if !ex.Task.Image() {
			continue
		}
		for j := range ImageSlots {
			r := nText + img*ImageSlots + j
			if ex.aux != nil && ex.aux.cells {
				wantCells = append(wantCells, r)
			}
			if ex.aux != nil && ex.aux.digit >= 0 {
				wantDigits = append(wantDigits, r)
			}
		}
		img++
	}
	if !slices.Equal(b.aux.cellRows, wantCells) || !slices.Equal(b.aux.digitRows, wantDigits) {
		t.Fatalf("cell rows %v, want %v; digit rows %v, want %v", b.aux.cellRows, wantCells, b.aux.digitRows, wantDigits)
	}
	if len(wantCells) == 0 || len(b.aux.digitLabels) != 2 || b.aux.digitLabels[0] != 7 {
		t.Fatalf("mixed examples should hold scenes and two digits: %d cells, labels %v", len(wantCells), b.aux.digitLabels)
	}
}

// ReadCells decides each head as the training graph's logits do, and refuses what is
// not an image's semantics.
func TestReadCells(t *testing.T) {
	m := smallModel(t, ProjectorKAN)
	rng := rand.New(rand.NewPCG(3, 4))
	for h := range auxCellHeads {
		for _, p := range []*tensor{m.aux.cellW[h], m.aux.cellB[h]} {
			for i := range p.Data {
				p.Data[i] = float32(rng.NormFloat64())
			}
		}
	}
	sc := dataset.GenerateScene(dataset.SceneTest.Seed(11))
	s, err := m.Encode(Input{Task: ImageCaption, Image: SceneImage(&sc)})
	if err != nil {
		t.Fatal(err)
	}
	cells, err := m.ReadCells(s)
	if err != nil {
		t.Fatal(err)
	}
	got := CellObjects(cells)
	g := nn.NewGraph[float32](nil)
	x := nn.NewTensor(s.Vectors, s.N, s.Dim)
	var want []dataset.Object
	var cls [auxCellHeads][]int
	for h, n := range auxCellClasses {
		lo := g.Add(g.MatMul(x, m.aux.cellW[h]), m.aux.cellB[h])
		for c := range ImageSlots {
			row := lo.Data[c*n : (c+1)*n]
			cls[h] = append(cls[h], slices.Index(row, slices.Max(row)))
		}
	}
	for c := range ImageSlots {
		if cls[0][c] == 1 {
			want = append(want, dataset.Object{Shape: dataset.Shape(cls[1][c]), Color: dataset.Color(cls[2][c]),
				Size: dataset.Size(cls[3][c]), X: c%PatchGrid*PatchSize + cls[4][c]%PatchSize, Y: c/PatchGrid*PatchSize + cls[4][c]/PatchSize})
		}
	}
	slices.SortStableFunc(want, func(p, q dataset.Object) int { return p.X - q.X })
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Fatalf("ReadCells %+v, graph %+v", got, want)
	}

	txt, err := m.Encode(Input{Task: TextTransmit, Text: "a short sentence"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.ReadCells(txt); err == nil {
		t.Error("text semantics read as a scene")
	}
	s.Vectors = s.Vectors[1:]
	if _, err := m.ReadCells(s); err == nil {
		t.Error("short semantics read as a scene")
	}
	cfg := m.Config()
	cfg.AuxHeads = false
	bare, err := New(cfg, m.Tokenizer(), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bare.ReadCells(sceneSemantics(t, bare, sc)); !errors.Is(err, ErrNoAuxHeads) {
		t.Errorf("model without heads: %v", err)
	}
}

func sceneSemantics(t *testing.T, m *Model, sc dataset.Scene) Semantics {
	s, err := m.Encode(Input{Task: ImageCaption, Image: SceneImage(&sc)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRoleHead checks the role head's targets and rows: an image.vqa example of a
// generated scene scores exactly its 16 image slots, each with the role of the object
// centred in that cell; other tasks and models without the head score none; a few
// optimiser steps on the role loss alone learn the roles; and the head alone (without
// the spatial readout that uses it) leaves the decoder's outputs as they were.
func TestRoleHead(t *testing.T) {
	m := smallModel(t, ProjectorKAN)
	c := m.Config()
	c.Layers = RoleLayer + 1
	c.RoleHead = true
	m, err := New(c, m.tok, rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	d := &Data{}
	rng := rand.New(rand.NewPCG(3, 4))
	var exs []Example
	for len(exs) < 8 {
		ex, err := d.sample(ImageVQA, dataset.Train, rng, &QuestionWeights{dataset.AskRelation: 1})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(ex.roles[:], int(dataset.RoleSecond)) { // scenes of one object have no relations
			exs = append(exs, ex)
		}
	}
	exs = append(exs, Example{Task: TextTransmit, Text: "the union is strong"})
	b, err := m.buildBatch(exs)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.roleRows) != 8*ImageSlots {
		t.Fatalf("%d role rows, want %d", len(b.roleRows), 8*ImageSlots)
	}
	var named, second int
	for k, r := range b.roleRows {
		if b.slot[r] == 0 || b.cell[r] == 0 {
			t.Fatalf("role row %d is not an image slot (slot %d, cell %d)", r, b.slot[r], b.cell[r])
		}
		switch dataset.Role(b.roleTargets[k]) {
		case dataset.RoleNamed:
			named++
		case dataset.RoleSecond:
			second++
		}
	}
	if named != 8 || second != 8 {
		t.Errorf("relation questions: %d named and %d second cells, want 8 and 8", named, second)
	}

	// Untrained (zero) head: the loss is ln 3 per scored slot.
	g := nn.NewGraph[float32](nil)
	_, l := m.loss(g, b)
	opt, err := nn.NewAdamW[float32](nn.AdamConfig{LR: 1e-2})
	if err != nil {
		t.Fatal(err)
	}
	first := -1.0
	var last float64
	for range 60 {
		g.Reset()
		m.params.ZeroGrad()
		_, _, roles, _ := m.forward(g, b)
		ce := m.roleLoss(g, roles, b.roleTargets)
		g.Backward(ce)
		opt.Step(m.params)
		if first < 0 {
			first = float64(ce.Data[0])
		}
		last = float64(ce.Data[0])
	}
	if math.Abs(first-math.Log(3)) > 1e-5 {
		t.Errorf("zero head: role loss %.6f, want ln 3", first)
	}
	if !(last < 0.1) {
		t.Errorf("role loss %.4f -> %.4f after 60 steps on one batch", first, last)
	}
	if l.Aux <= 0 {
		t.Errorf("loss parts %+v: the role term is missing from Aux", l)
	}

	// The head does not change what the decoder computes.
	g.Reset()
	m0, err := m.Rebuild(func() Config { c := m.Config(); c.RoleHead = false; return c }(), rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	b0, err := m0.buildBatch(exs)
	if err != nil {
		t.Fatal(err)
	}
	if len(b0.roleRows) != 0 {
		t.Errorf("a model without the head scores %d role rows", len(b0.roleRows))
	}
	h1, _, _, _ := m.forward(g, b)
	h2, _, _, _ := m0.forward(nn.NewGraph[float32](nil), b0)
	if !slices.Equal(h1.Data, h2.Data) {
		t.Error("the role head changed the decoder's outputs")
	}
}
