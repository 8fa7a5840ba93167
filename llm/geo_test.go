package llm

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/nn"
)

// geoModel is smallModel with three blocks, the role head and the spatial readout,
// all with random weights so that every part shows in the outputs.
func geoModel(t *testing.T) *Model {
	t.Helper()
	m := smallModel(t, ProjectorKAN)
	cfg := m.Config()
	cfg.Layers, cfg.RoleHead, cfg.GeoReadout = RoleLayer+1, true, true
	m, err := m.Rebuild(cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, p := range []*tensor{m.cellEmb, m.roleW, m.roleB, m.geoOffW, m.geoOffB, m.geoDirW, m.geoDirB, m.geoW} {
		for i := range p.Data {
			p.Data[i] = float32(r.NormFloat64())
		}
	}
	return m
}

// The readout is the expected centres of the named and the second object under the
// role head's distributions over cells, their differences, and the answer's sign
// along the direction the direction head reads.
func TestGeoReadoutFeatures(t *testing.T) {
	m := geoModel(t)
	d := m.cfg.Dim
	// Slot states that are one-hot in three coordinates; the role head reads role k
	// from coordinate k, strongly; offsets are zero; geoW copies the features out.
	clear(m.roleB.Data)
	clear(m.roleW.Data)
	clear(m.geoOffW.Data)
	clear(m.geoOffB.Data)
	clear(m.geoW.Data)
	clear(m.geoDirW.Data)
	clear(m.geoDirB.Data)
	// The direction head reads coordinate 3 of the position after the image as
	// "left": the vector (-1, 0).
	m.geoDirW.Data[3*2] = -1
	at := make([]float32, d)
	at[3] = 1
	for k := range dataset.NumRoles {
		m.roleW.Data[k*dataset.NumRoles+k] = 40
	}
	for k := range GeoFeatures {
		m.geoW.Data[k*d+k] = 1
	}
	mid := make([]float32, ImageSlots*d)
	roleOf := map[int]dataset.Role{5: dataset.RoleNamed, 14: dataset.RoleSecond}
	for c := range ImageSlots {
		mid[c*d+int(roleOf[c])] = 1 // RoleNone (0) elsewhere
	}
	g := nn.NewGraph[float32](nil)
	feat, parts := m.geoReadout(g, nn.NewTensor(mid, ImageSlots, d), nn.NewTensor(at, 1, d))
	if parts.off.Dim(0) != ImageSlots || parts.off.Dim(1) != 2 {
		t.Fatalf("offsets of shape %v", parts.off.Shape())
	}
	if parts.dir.Data[0] != -1 || parts.dir.Data[1] != 0 {
		t.Fatalf("direction %v, want (-1, 0)", parts.dir.Data)
	}
	// Cell 5 is (1, 1), cell 14 is (2, 3): centres (-0.5, -0.5) and (0.5, 1.5); the
	// named object is left of the second, so the sign is positive ("yes").
	dx, dy := -1.0, -2.0
	want := []float64{-0.5, -0.5, 0.5, 1.5, dx, dy, math.Tanh(3 * dx), math.Tanh(3 * dy), math.Tanh(3 * -dx)}
	for k, w := range want {
		if got := float64(feat.Data[k]); math.Abs(got-w) > 1e-4 {
			t.Errorf("feature %d = %.5f, want %.5f", k, got, w)
		}
	}
	for k := GeoFeatures; k < d; k++ {
		if feat.Data[k] != 0 {
			t.Fatalf("feature row has %v at %d, beyond the readout", feat.Data[k], k)
		}
	}
}

// The batch marks every image.vqa slot for the readout, targets the offsets of the
// cells that hold an object (which give back the object's centre), and adds the
// readout only after the image; the incremental decoder computes the same.
func TestGeoReadoutBatchAndDecoder(t *testing.T) {
	m := geoModel(t)
	sc := dataset.GenerateScene(7)
	var qa dataset.QA
	for _, q := range sc.QA {
		if q.Kind == dataset.AskRelation {
			qa = q
		}
	}
	if qa.Toward == dataset.DirNone {
		t.Fatal("scene 7 has no relation question")
	}
	ex := Example{Task: ImageVQA, Image: SceneImage(&sc), Question: qa.Question, Answer: qa.Answer,
		aux: sceneAux(sc.Objects), roles: sceneRoles(sc.Objects, qa.Roles), toward: qa.Toward}
	b, err := m.buildBatch([]Example{ex, {Task: ImageCaption, Image: SceneImage(&sc), Answer: sc.Caption}})
	if err != nil {
		t.Fatal(err)
	}
	var rows, after int
	for _, gr := range b.groups {
		rows += len(gr.geoRows)
		for _, k := range gr.geoAt {
			if k > 0 {
				after++
			}
		}
	}
	if rows != ImageSlots {
		t.Fatalf("%d readout rows, want %d (one vqa example)", rows, ImageSlots)
	}
	p := m.buildPrompt(ImageVQA, ImageSlots, m.tok.Encode(ex.Question))
	if wantAfter := len(p.ids) - p.slots - ImageSlots + len(m.tok.Encode(ex.Answer)); after != wantAfter {
		t.Errorf("readout added at %d positions, want %d (those after the image)", after, wantAfter)
	}
	vx, vy := qa.Toward.Vector()
	if len(b.dirSel) != 1 || b.dirSel[0] != 0 || b.dirTargets[0] != float32(vx) || b.dirTargets[1] != float32(vy) {
		t.Errorf("direction targets %v of rows %v, want (%d, %d) of row 0", b.dirTargets, b.dirSel, vx, vy)
	}
	if len(b.geoSel) != len(sc.Objects) {
		t.Fatalf("%d offset targets for %d objects", len(b.geoSel), len(sc.Objects))
	}
	byCell := make(map[int]dataset.Object)
	for _, o := range sc.Objects {
		byCell[CellOf(o.X, o.Y)] = o
	}
	for k, c := range b.geoSel { // cells in order, the vqa example's rows first
		o, ok := byCell[c]
		if !ok {
			t.Fatalf("offset target at cell %d, which holds no object", c)
		}
		x := float64(c%PatchGrid*PatchSize) + (float64(b.geoTargets[2*k])+1)*PatchSize/2 - 0.5
		y := float64(c/PatchGrid*PatchSize) + (float64(b.geoTargets[2*k+1])+1)*PatchSize/2 - 0.5
		if math.Abs(x-float64(o.X)) > 1e-4 || math.Abs(y-float64(o.Y)) > 1e-4 {
			t.Errorf("object %d at (%d, %d): targets give (%.2f, %.2f)", k, o.X, o.Y, x, y)
		}
	}

	// One example alone: the training forward pass against the incremental decoder.
	b, err = m.buildBatch([]Example{ex})
	if err != nil {
		t.Fatal(err)
	}
	h, _, _, gp := m.forward(nn.NewGraph[float32](nil), b)
	if gp.off == nil || gp.off.Dim(0) != ImageSlots || gp.dir.Dim(0) != 1 {
		t.Fatal("forward returned no offsets for a vqa example")
	}
	sem, err := m.Encode(Input{Task: ImageVQA, Image: ex.Image})
	if err != nil {
		t.Fatal(err)
	}
	dec := m.newDecoder(1)
	dec.geoSlots = p.slots
	worst := incrementalWorst(m, dec, b, sem, h.Data)
	if worst > 1e-4 {
		t.Errorf("incremental decoder differs from forward by %.2e", worst)
	}

	// Without the readout the positions after the image change, those before do not.
	m0, err := m.Rebuild(func() Config { c := m.Config(); c.GeoReadout = false; return c }(), rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	b0, err := m0.buildBatch([]Example{ex})
	if err != nil {
		t.Fatal(err)
	}
	h0, _, _, gp0 := m0.forward(nn.NewGraph[float32](nil), b0)
	if gp0.off != nil {
		t.Error("a model without the readout returned offsets")
	}
	d, first := m.cfg.Dim, p.slots+ImageSlots
	for j := range b.T {
		same := true
		for c := range d {
			same = same && h0.Data[j*d+c] == h.Data[j*d+c]
		}
		if same != (j < first) {
			t.Errorf("position %d (first after the image %d): unchanged = %v", j, first, same)
		}
	}
}

// In a batch of several length groups every image.vqa example gets its own readout:
// each example's hidden states equal those of the example run alone; and Decode (which
// sets the readout up itself) starts its answer with the token the forward pass ranks
// first at <response>.
func TestGeoReadoutGroupsAndDecode(t *testing.T) {
	m := geoModel(t)
	var exs []Example
	for i := range 6 {
		sc := dataset.GenerateScene(uint64(100 + i))
		qa := sc.QA[(7*i)%len(sc.QA)]
		exs = append(exs, Example{Task: ImageVQA, Image: SceneImage(&sc), Question: qa.Question, Answer: qa.Answer,
			aux: sceneAux(sc.Objects), roles: sceneRoles(sc.Objects, qa.Roles), toward: qa.Toward})
		if i%2 == 0 {
			exs = append(exs, Example{Task: TextTransmit, Text: strings.Repeat("the state of our union is strong ", 1+i)})
		}
	}
	b, err := m.buildBatch(exs)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.groups) < 2 {
		t.Fatalf("%d length groups; the test needs several", len(b.groups))
	}
	h, _, _, _ := m.forward(nn.NewGraph[float32](nil), b)
	d := m.cfg.Dim
	r0 := 0
	for _, gr := range b.groups {
		for q, i := range gr.ex {
			if exs[i].Task != ImageVQA {
				continue
			}
			one, err := m.buildBatch([]Example{exs[i]})
			if err != nil {
				t.Fatal(err)
			}
			h1, _, _, _ := m.forward(nn.NewGraph[float32](nil), one)
			var worst float64
			for j := range one.T * d {
				worst = max(worst, math.Abs(float64(h.Data[(r0+q*gr.T)*d+j]-h1.Data[j])))
			}
			if worst > 1e-4 {
				t.Errorf("example %d in a group of %d: differs from running alone by %.2e", i, len(gr.ex), worst)
			}
		}
		r0 += len(gr.ex) * gr.T
	}

	ex := exs[0]
	one, err := m.buildBatch([]Example{ex})
	if err != nil {
		t.Fatal(err)
	}
	h1, _, _, _ := m.forward(nn.NewGraph[float32](nil), one)
	p := m.buildPrompt(ImageVQA, ImageSlots, m.tok.Encode(ex.Question))
	resp := len(p.ids) - 1
	want := argmax(m.logits(nil, h1.Data[resp*d:(resp+1)*d], 1))
	sem, err := m.Encode(Input{Task: ImageVQA, Image: ex.Image})
	if err != nil {
		t.Fatal(err)
	}
	for _, beam := range []int{1, 3} {
		out, err := m.Decode(sem, Instruction{Task: ImageVQA, Question: ex.Question}, DecodeOptions{Beam: beam})
		if err != nil {
			t.Fatal(err)
		}
		if beam == 1 && (len(out.Tokens) == 0 || out.Tokens[0] != want) {
			t.Errorf("greedy Decode begins %v, the forward pass ranks %d first", out.Tokens, want)
		}
	}
}
