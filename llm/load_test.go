package llm

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/nn"
	"github.com/m4sc/m4sc/nn/safetensors"
)

// modelFile returns m's weights as a safetensors file, with set applied to each
// tensor's values before writing (nil: as they are).
func modelFile(t testing.TB, m *Model, set func(name string, data []float32)) []byte {
	t.Helper()
	f := safetensors.File{Metadata: map[string]string{MetaConfig: m.cfg.marshal()}}
	for _, a := range m.params.Export() {
		data := slices.Clone(a.Data)
		if set != nil {
			set(a.Name, data)
		}
		f.Tensors = append(f.Tensors, safetensors.Tensor{Name: a.Name, Dtype: safetensors.F32, Shape: a.Shape, Data: data})
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Weights that are not finite are refused when the file is read, with an error that
// says the weights are bad and names the tensor, rather than loading and failing
// later on the NaN semantic vectors they produce.
func TestReadBadWeights(t *testing.T) {
	m := smallModel(t, ProjectorKAN)
	for _, c := range []struct {
		name   string
		tensor string
		v      float32
		want   string
	}{
		{"one NaN", "sem/out/w", float32(math.NaN()), "tensor sem/out/w holds NaN at index 3 (1 of its"},
		{"infinity", "llm/block1/mlp/w2", float32(math.Inf(1)), "tensor llm/block1/mlp/w2 holds +Inf at index 3"},
		{"all NaN", "", float32(math.NaN()), "holds NaN at index 0"},
	} {
		b := modelFile(t, m, func(name string, data []float32) {
			switch c.tensor {
			case "":
				for i := range data {
					data[i] = c.v
				}
			case name:
				data[3] = c.v
			}
		})
		_, err := ReadBytes(b, m.tok)
		if !errors.Is(err, ErrBadWeights) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad weights") {
			t.Errorf("%s: %v; want ErrBadWeights with %q", c.name, err, c.want)
		}
	}
	if _, err := ReadBytes(modelFile(t, m, nil), m.tok); err != nil {
		t.Errorf("finite weights: %v", err)
	}
}

// Read builds the model without drawing initial weights: every parameter but the
// KAN projector's (kan.New always draws) is zero until the file's values are
// imported.
func TestNewModelForReadDrawsNothing(t *testing.T) {
	tok := shippedTokenizer(t)
	cfg := DefaultConfig(tok.VocabSize())
	cfg.Dim, cfg.ImgDim, cfg.Layers, cfg.EncLayers, cfg.ImgLayers = 32, 32, 3, 1, 1
	cfg.ImgStem, cfg.RoleHead, cfg.GeoReadout = StemConv, true, true
	m, err := newModel(cfg, tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range m.params.All() {
		if strings.HasPrefix(name, "proj/kan/") {
			continue
		}
		if i := slices.IndexFunc(p.Data, func(v float32) bool { return v != 0 }); i >= 0 {
			t.Errorf("%s[%d] = %v, want 0", name, i, p.Data[i])
		}
	}
	if _, err := New(cfg, tok, nil); err == nil {
		t.Error("New with no random source accepted")
	}
}

// Loading the shipped model gives what loading gave when Read still initialised
// every tensor at random and then overwrote it: the same parameters bit for bit,
// hence the same semantic vectors, answers and reconstructed pixels.
func TestReadShippedBitIdentical(t *testing.T) {
	b, err := os.ReadFile("weights/model.safetensors")
	if err != nil {
		t.Skipf("no shipped model: %v", err)
	}
	tok := shippedTokenizer(t)
	got, err := ReadBytes(b, tok)
	if err != nil {
		t.Fatal(err)
	}
	// The former way: New from a fixed source, then Import.
	f, err := safetensors.Read(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := New(got.cfg, tok, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	var recs []nn.NamedArray
	for _, ts := range f.Tensors {
		if !strings.HasPrefix(ts.Name, safetensors.OptimizerPrefix) {
			recs = append(recs, nn.NamedArray{Name: ts.Name, Shape: ts.Shape, Data: ts.Data})
		}
	}
	if err := want.params.Import(recs); err != nil {
		t.Fatal(err)
	}
	wantP := want.params.Export()
	for i, a := range got.params.Export() {
		if a.Name != wantP[i].Name || !slices.Equal(math32bits(a.Data), math32bits(wantP[i].Data)) {
			t.Fatalf("parameter %s differs", a.Name)
		}
	}
	img := sceneImage(42)
	for _, c := range []struct {
		in  Input
		ins Instruction
	}{
		{Input{Task: TextTransmit, Text: "we the people of the united states"}, Instruction{Task: TextTransmit}},
		{Input{Task: ImageVQA, Image: img}, Instruction{Task: ImageVQA, Question: "what color is the circle?"}},
		{Input{Task: ImageReconstruct, Image: img}, Instruction{Task: ImageReconstruct}},
	} {
		sg, err := got.Encode(c.in)
		if err != nil {
			t.Fatal(err)
		}
		sw, err := want.Encode(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(math32bits(sg.Vectors), math32bits(sw.Vectors)) {
			t.Errorf("%s: semantic vectors differ", c.in.Task)
		}
		og, err := got.Decode(sg, c.ins, DecodeOptions{Beam: 2})
		if err != nil {
			t.Fatal(err)
		}
		ow, err := want.Decode(sw, c.ins, DecodeOptions{Beam: 2})
		if err != nil {
			t.Fatal(err)
		}
		if og.Text != ow.Text || !slices.Equal(math32bits(og.Image), math32bits(ow.Image)) {
			t.Errorf("%s: output %q vs %q (or the images differ)", c.in.Task, og.Text, ow.Text)
		}
	}
}

func math32bits(v []float32) []uint32 {
	out := make([]uint32, len(v))
	for i, x := range v {
		out[i] = math.Float32bits(x)
	}
	return out
}

// BenchmarkReadShipped measures loading the shipped model from memory.
func BenchmarkReadShipped(b *testing.B) {
	data, err := os.ReadFile("weights/model.safetensors")
	if err != nil {
		b.Skipf("no shipped model: %v", err)
	}
	tok := shippedTokenizer(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadBytes(data, tok); err != nil {
			b.Fatal(err)
		}
	}
}
