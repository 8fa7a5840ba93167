package nn

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// paramsFixture is a small model: two matrices, a bias and a gain in scopes.
func paramsFixture() *Params[float32] {
	p := NewParams[float32]()
	blk := p.Scope("llm").Scope("block3")
	blk.Add("attn/wq", NewParam(seq32(6, 1), 2, 3))
	blk.Add("attn/bias", NewParam(seq32(3, 10), 3))
	p.Scope("kan").Add("proj/layer0/coef", NewParam(seq32(24, -5), 2, 3, 4))
	p.Add("llm/norm/gain", NewParam(seq32(3, 0.5), 3))
	return p
}

// seq32 returns start, start+1, ...: values that show any mix-up.
func seq32(n int, start float32) []float32 {
	d := make([]float32, n)
	for i := range d {
		d[i] = start + float32(i)
	}
	return d
}

func TestParamsStore(t *testing.T) {
	p := paramsFixture()
	want := []string{"llm/block3/attn/wq", "llm/block3/attn/bias", "kan/proj/layer0/coef", "llm/norm/gain"}
	if got := p.Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %q, want %q", got, want)
	}
	var order []string
	for name, ten := range p.All() {
		order = append(order, name)
		if p.Get(name) != ten {
			t.Errorf("Get(%q) is not the tensor All yields", name)
		}
	}
	if !slices.Equal(order, want) {
		t.Errorf("All() order %q, want %q", order, want)
	}
	if p.Len() != 4 || p.NumElements() != 6+3+24+3 {
		t.Errorf("Len %d NumElements %d, want 4 and 36", p.Len(), p.NumElements())
	}
	if p.Get("llm/block3/attn") != nil || p.Get("nope") != nil {
		t.Error("Get of an absent name is not nil")
	}
	blk := p.Scope("llm").Scope("block3")
	if blk.Get("attn/wq") != p.Get("llm/block3/attn/wq") || blk.Name("attn/wq") != "llm/block3/attn/wq" || blk.Params() != p {
		t.Error("Scope does not resolve relative names")
	}
	for _, ten := range p.All() {
		for i := range ten.Grad {
			ten.Grad[i] = 1
		}
	}
	p.ZeroGrad()
	for name, ten := range p.All() {
		if slices.ContainsFunc(ten.Grad, func(g float32) bool { return g != 0 }) {
			t.Errorf("%s: gradient not cleared", name)
		}
	}
}

// Every misuse of Add is a programming error and must panic.
func TestParamsAddPanics(t *testing.T) {
	p := NewParams[float64]()
	w := p.Add("a/w", NewParam[float64](nil, 2))
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"empty name", func() { p.Add("", NewParam[float64](nil, 1)) }},
		{"duplicate", func() { p.Add("a/w", NewParam[float64](nil, 1)) }},
		{"duplicate through scope", func() { p.Scope("a").Add("w", NewParam[float64](nil, 1)) }},
		{"empty segment", func() { p.Add("a//w", NewParam[float64](nil, 1)) }},
		{"leading slash", func() { p.Add("/w", NewParam[float64](nil, 1)) }},
		{"trailing slash", func() { p.Add("w/", NewParam[float64](nil, 1)) }},
		{"nil tensor", func() { p.Add("b", nil) }},
		{"same tensor twice", func() { p.Add("tied", w) }},
		{"empty scope", func() { p.Scope("") }},
		{"empty relative name", func() { p.Scope("a").Add("", NewParam[float64](nil, 1)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			c.f()
		})
	}
	if p.Len() != 1 {
		t.Errorf("failed Adds changed the store: %d entries", p.Len())
	}
	var zero Params[float32] // the zero value is usable
	if zero.Get("x") != nil || zero.Add("x", NewParam[float32](nil, 1)) != zero.Get("x") {
		t.Error("zero Params does not work")
	}
}

func TestParamsExportImport(t *testing.T) {
	src := paramsFixture()
	recs := src.Export()
	if len(recs) != src.Len() {
		t.Fatalf("%d records for %d parameters", len(recs), src.Len())
	}
	for i, name := range src.Names() {
		r, ten := recs[i], src.Get(name)
		if r.Name != name || !slices.Equal(r.Shape, ten.Shape()) || !slices.Equal(r.Data, ten.Data) {
			t.Errorf("record %d = %q %v, want %q %v with the tensor's data", i, r.Name, r.Shape, name, ten.Shape())
		}
	}
	// Records are copies: changing them leaves the store alone.
	recs[0].Data[0] = 99
	recs[0].Shape[0] = 99
	if src.Get(recs[0].Name).Data[0] == 99 || src.Get(recs[0].Name).Dim(0) == 99 {
		t.Fatal("Export aliases the store")
	}
	recs[0].Data[0], recs[0].Shape[0] = 1, 2

	dst := NewParams[float32]()
	for name, ten := range src.All() {
		dst.Add(name, NewParam[float32](nil, ten.Shape()...))
	}
	slices.Reverse(recs) // order does not matter, names do
	if err := dst.Import(recs); err != nil {
		t.Fatal(err)
	}
	for name, ten := range src.All() {
		if !slices.Equal(dst.Get(name).Data, ten.Data) {
			t.Errorf("%s: imported %v, want %v", name, dst.Get(name).Data, ten.Data)
		}
	}

	// float64 stores round through float32.
	p64 := NewParams[float64]()
	x := p64.Add("x", NewParam([]float64{1.0 / 3, -2, 1e-40}, 3))
	r64 := p64.Export()
	if want := []float32{1.0 / 3, -2, 1e-40}; !slices.Equal(r64[0].Data, want) {
		t.Errorf("float64 export %v, want %v", r64[0].Data, want)
	}
	clear(x.Data)
	if err := p64.Import(r64); err != nil || x.Data[0] != float64(float32(1.0/3)) {
		t.Errorf("float64 import: %v, %v", err, x.Data)
	}
}

// Bad records are rejected with the parameter's name, and a failed Import changes
// nothing.
func TestParamsImportErrors(t *testing.T) {
	good := paramsFixture().Export()
	edit := func(f func(r []NamedArray) []NamedArray) []NamedArray {
		r := make([]NamedArray, len(good))
		for i, g := range good {
			r[i] = NamedArray{Name: g.Name, Shape: slices.Clone(g.Shape), Data: slices.Clone(g.Data)}
			for j := range r[i].Data {
				r[i].Data[j] += 1000 // would show if a failed Import wrote anything
			}
		}
		return f(r)
	}
	for _, c := range []struct {
		name   string
		recs   []NamedArray
		is     error
		naming string
	}{
		{"wrong shape", edit(func(r []NamedArray) []NamedArray { r[0].Shape = []int{3, 2}; return r }), nil, "llm/block3/attn/wq"},
		{"wrong rank", edit(func(r []NamedArray) []NamedArray { r[2].Shape = []int{24}; return r }), nil, "kan/proj/layer0/coef"},
		{"unknown", edit(func(r []NamedArray) []NamedArray { r[1].Name = "llm/block3/attn/bias2"; return r }), ErrUnknownParam, "llm/block3/attn/bias2"},
		{"missing", edit(func(r []NamedArray) []NamedArray { return r[:3] }), ErrMissingParam, "llm/norm/gain"},
		{"duplicate", edit(func(r []NamedArray) []NamedArray { return append(r, r[3]) }), nil, "llm/norm/gain"},
		{"short data", edit(func(r []NamedArray) []NamedArray { r[3].Data = r[3].Data[:2]; return r }), nil, "llm/norm/gain"},
		{"empty", nil, ErrMissingParam, "llm/block3/attn/wq"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := paramsFixture()
			before := p.Export()
			err := p.Import(c.recs)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.naming) {
				t.Errorf("error %q does not name %q", err, c.naming)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %q is not %q", err, c.is)
			}
			var se *ShapeError
			if strings.HasPrefix(c.name, "wrong") && (!errors.As(err, &se) || se.Name != c.naming) {
				t.Errorf("error %q is not a *ShapeError for %q", err, c.naming)
			}
			after := p.Export()
			for i := range before {
				if !slices.Equal(before[i].Data, after[i].Data) {
					t.Errorf("failed Import changed %s", before[i].Name)
				}
			}
		})
	}
}

// FuzzParamsImport feeds records of arbitrary names, shapes and lengths to Import and
// ImportState: they must return errors, never panic, and a nil error must mean the
// values arrived.
func FuzzParamsImport(f *testing.F) {
	f.Add("w", uint8(2), uint8(3), uint8(6), int64(3), float32(1))
	f.Add("b", uint8(3), uint8(0), uint8(3), int64(0), float32(-1))
	f.Add("w", uint8(3), uint8(2), uint8(6), int64(-1), float32(0))
	f.Add("x", uint8(1), uint8(1), uint8(1), int64(1), float32(math.NaN()))
	f.Fuzz(func(t *testing.T, name string, d0, d1, n uint8, step int64, val float32) {
		p := NewParams[float32]()
		p.Add("w", NewParam[float32](nil, 2, 3))
		p.Add("b", NewParam[float32](nil, 3))
		shape := []int{int(d0)}
		if d1 != 0 {
			shape = append(shape, int(d1))
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = val
		}
		recs := []NamedArray{{Name: name, Shape: shape, Data: data}}
		other := NamedArray{Name: "b", Shape: []int{3}, Data: []float32{val, val, val}}
		if name != "b" {
			recs = append(recs, other)
		}
		if err := p.Import(recs); err == nil {
			for _, r := range recs {
				if got := p.Get(r.Name).Data; !slices.Equal(got, r.Data) && !math.IsNaN(float64(val)) {
					t.Fatalf("Import returned nil but %s = %v, want %v", r.Name, got, r.Data)
				}
			}
		}
		a, err := NewAdam[float32](AdamConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.ImportState(p, AdamState{Step: step, M: recs, V: recs}); err == nil {
			a.Step(p)
		}
	})
}
