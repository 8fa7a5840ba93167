package llm

import (
	"bytes"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/llm/tokenizer"
	"github.com/m4sc/m4sc/nn/safetensors"
)

// Save then Load gives a model with the same configuration and bit-identical weights.
func TestSaveLoadRoundTrip(t *testing.T) {
	m := smallModel(t, ProjectorKAN)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path, map[string]string{"seed": "5"}); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path, m.tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Config() != m.Config() || got.Meta()["seed"] != "5" {
		t.Fatalf("config %+v meta %v", got.Config(), got.Meta())
	}
	want := m.params.Export()
	for i, a := range got.params.Export() {
		if a.Name != want[i].Name || len(a.Data) != len(want[i].Data) {
			t.Fatalf("parameter %d: %s vs %s", i, a.Name, want[i].Name)
		}
		for j := range a.Data {
			if a.Data[j] != want[i].Data[j] {
				t.Fatalf("%s[%d] = %v, want %v", a.Name, j, a.Data[j], want[i].Data[j])
			}
		}
	}
}

// Files that are not m4sc models, or whose configuration disagrees with their tensors,
// are refused with an error that says why.
func TestReadRejects(t *testing.T) {
	m := smallModel(t, ProjectorMLP)
	var good bytes.Buffer
	f := safetensors.File{Metadata: map[string]string{MetaConfig: m.cfg.marshal()}}
	for _, a := range m.params.Export() {
		f.Tensors = append(f.Tensors, safetensors.Tensor{Name: a.Name, Dtype: safetensors.F32, Shape: a.Shape, Data: a.Data})
	}
	if err := safetensors.Write(&good, f); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBytes(good.Bytes(), m.tok); err != nil {
		t.Fatalf("good file: %v", err)
	}
	big := m.cfg
	big.Layers = 60
	roleL0 := m.cfg // the role head needs the slots after the question
	roleL0.RoleHead, roleL0.Layout = true, 0
	roleShallow := m.cfg // and a block after RoleLayer
	roleShallow.RoleHead, roleShallow.Layers = true, RoleLayer
	drop := f
	drop.Tensors = f.Tensors[:len(f.Tensors)-1]
	for _, c := range []struct {
		name string
		f    safetensors.File
		want string
	}{
		{"no config", safetensors.File{Tensors: f.Tensors}, "not an m4sc model"},
		{"bad json", safetensors.File{Tensors: f.Tensors, Metadata: map[string]string{MetaConfig: "{"}}, "metadata"},
		{"too big for its tensors", safetensors.File{Tensors: f.Tensors, Metadata: map[string]string{MetaConfig: big.marshal()}}, "needs at least"},
		{"missing tensor", drop, "missing"},
		{"role head in layout 0", safetensors.File{Tensors: f.Tensors, Metadata: map[string]string{MetaConfig: roleL0.marshal()}}, "role_head needs layout"},
		{"role head too shallow", safetensors.File{Tensors: f.Tensors, Metadata: map[string]string{MetaConfig: roleShallow.marshal()}}, "role_head needs"},
	} {
		var buf bytes.Buffer
		if err := safetensors.Write(&buf, c.f); err != nil {
			t.Fatal(err)
		}
		_, err := ReadBytes(buf.Bytes(), m.tok)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// FuzzReadModel feeds arbitrary bytes to the model reader: it must return a model or
// an error, never panic or allocate without bound.
func FuzzReadModel(f *testing.F) {
	tok := shippedTokenizer(f)
	cfg := DefaultConfig(tok.VocabSize())
	cfg.Dim, cfg.ImgDim, cfg.Layers, cfg.EncLayers, cfg.ImgLayers, cfg.SemDim = 8, 8, 1, 1, 1, 2
	cfg.MaxText, cfg.MaxSeq = 4, 24
	m, err := New(cfg, tok, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	sf := safetensors.File{Metadata: map[string]string{MetaConfig: m.cfg.marshal()}}
	for _, a := range m.params.Export() {
		sf.Tensors = append(sf.Tensors, safetensors.Tensor{Name: a.Name, Dtype: safetensors.F32, Shape: a.Shape, Data: a.Data})
	}
	if err := safetensors.Write(&buf, sf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(modelFile(f, m, func(name string, data []float32) {
		if name == "sem/in/w" {
			data[0] = float32(math.NaN())
		}
	}))
	f.Add([]byte{})
	f.Add([]byte("\x08\x00\x00\x00\x00\x00\x00\x00{}      "))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadBytes(b, tok)
		if err != nil {
			return
		}
		if m.Config().Validate() != nil {
			t.Fatalf("accepted an invalid configuration %+v", m.Config())
		}
		for name, p := range m.params.All() {
			for _, v := range p.Data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("accepted %v in %s", v, name)
				}
			}
		}
	})
}

// The ablation's model keeps every weight but the projector, and its MLP projector has
// the KAN projector's parameter count to within one hidden unit.
func TestWithProjector(t *testing.T) {
	m := smallModel(t, ProjectorKAN)
	a, err := m.WithProjector(ProjectorMLP, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	kanN, mlpN := m.ProjectorParams(), a.ProjectorParams()
	perUnit := m.cfg.ImgDim + 1 + m.cfg.Dim
	t.Logf("projector parameters: KAN %d, MLP %d", kanN, mlpN)
	if d := kanN - mlpN; d > perUnit || -d > perUnit {
		t.Errorf("KAN %d vs MLP %d parameters: more than one hidden unit (%d) apart", kanN, mlpN, perUnit)
	}
	for name, p := range m.params.All() {
		if strings.HasPrefix(name, "proj/") {
			continue
		}
		q := a.params.Get(name)
		if q == nil {
			t.Fatalf("%s missing", name)
		}
		for i := range p.Data {
			if p.Data[i] != q.Data[i] {
				t.Fatalf("%s changed", name)
			}
		}
	}
}

// A weights file carries its tokenizer: read back with another tokenizer, or with
// none, it still decodes with the one it was trained with.
func TestSaveLoadKeepsTokenizer(t *testing.T) {
	own, err := tokenizer.Train([]string{"Meet me at Gate B12", "the Union is strong", "We the People"}, 300, tokenizer.DefaultSpecials)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig(own.VocabSize())
	cfg.Dim, cfg.ImgDim, cfg.Layers, cfg.EncLayers, cfg.ImgLayers, cfg.KANGrid = 16, 16, 1, 1, 1, 3
	m, err := New(cfg, own, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path, nil); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []*tokenizer.Tokenizer{nil, shippedTokenizer(t)} {
		got, err := Load(path, tok)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := got.Tokenizer().Encode("Meet me at Gate B12"), own.Encode("Meet me at Gate B12"); !slices.Equal(a, b) {
			t.Errorf("read with %v: tokens %v, want the file's %v", tok != nil, a, b)
		}
	}
}
