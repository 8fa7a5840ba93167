package llm

import (
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
	b, err := m.buildBatch(exs, rand.New(rand.NewPCG(1, 1)))
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
