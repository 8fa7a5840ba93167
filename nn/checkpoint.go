package nn

import (
	"fmt"
	"strings"

	"github.com/m4sc/m4sc/nn/safetensors"
)

// SaveCheckpoint writes a float32 model's parameters, its Adam state and the step to
// one safetensors file (see package nn/safetensors for the layout: parameters under
// their own names, moments under "optim/<name>/m" and "optim/<name>/v", the step in the
// metadata). opt may be nil to save weights only. meta adds free-form metadata (the
// command and seed that produced the weights, for example).
func SaveCheckpoint(path string, p *Params[float32], opt *Adam[float32], meta map[string]string) error {
	c := safetensors.Checkpoint{Meta: meta}
	for _, a := range p.Export() {
		c.Params = append(c.Params, safetensors.Tensor{Name: a.Name, Dtype: safetensors.F32, Shape: a.Shape, Data: a.Data})
	}
	if opt != nil {
		st := opt.ExportState()
		c.Step = st.Step
		for _, a := range st.M {
			c.Optimizer = append(c.Optimizer, safetensors.Tensor{Name: a.Name + "/m", Dtype: safetensors.F32, Shape: a.Shape, Data: a.Data})
		}
		for _, a := range st.V {
			c.Optimizer = append(c.Optimizer, safetensors.Tensor{Name: a.Name + "/v", Dtype: safetensors.F32, Shape: a.Shape, Data: a.Data})
		}
	}
	if err := safetensors.SaveCheckpoint(path, c); err != nil {
		return fmt.Errorf("nn: save checkpoint: %w", err)
	}
	return nil
}

// LoadCheckpoint reads a file written by SaveCheckpoint into p (every parameter must
// be present with its shape) and, if opt is not nil, restores the optimiser so training
// continues exactly where it stopped. It returns the file's metadata.
func LoadCheckpoint(path string, p *Params[float32], opt *Adam[float32]) (map[string]string, error) {
	c, err := safetensors.LoadCheckpoint(path)
	if err != nil {
		return nil, fmt.Errorf("nn: load checkpoint: %w", err)
	}
	arrays := func(ts []safetensors.Tensor, suffix string) []NamedArray {
		var out []NamedArray
		for _, t := range ts {
			name, ok := strings.CutSuffix(t.Name, suffix)
			if suffix != "" && !ok {
				continue
			}
			out = append(out, NamedArray{Name: name, Shape: t.Shape, Data: t.Data})
		}
		return out
	}
	if err := p.Import(arrays(c.Params, "")); err != nil {
		return nil, fmt.Errorf("nn: load checkpoint %s: %w", path, err)
	}
	if opt != nil {
		st := AdamState{Step: c.Step, M: arrays(c.Optimizer, "/m"), V: arrays(c.Optimizer, "/v")}
		if err := opt.ImportState(p, st); err != nil {
			return nil, fmt.Errorf("nn: load checkpoint %s: optimiser: %w", path, err)
		}
	}
	return c.Meta, nil
}
