package safetensors

import (
	"fmt"
	"strconv"
	"strings"
)

// Checkpoint layout in one safetensors file:
//   - parameters under their own names ("llm/block3/attn/wq");
//   - optimiser state under OptimizerPrefix + its name, for example
//     "optim/llm/block3/attn/wq/m" for Adam's first moment of that parameter;
//   - in "__metadata__": CheckpointVersionKey = "1", StepKey = the step in
//     decimal, and the caller's Meta entries.
//
// Metadata keys starting with ReservedPrefix belong to this package.
const (
	OptimizerPrefix      = "optim/"
	ReservedPrefix       = "m4sc."
	StepKey              = "m4sc.step"
	CheckpointVersionKey = "m4sc.checkpoint"
	checkpointVersion    = "1"
)

// Checkpoint is the state that resumes training exactly.
type Checkpoint struct {
	// Step counts the optimiser steps taken; not negative.
	Step int64
	// Params are the model parameters. Names must not start with OptimizerPrefix.
	Params []Tensor
	// Optimizer holds the optimiser's per-parameter state, named by the caller,
	// conventionally "<param>/m", "<param>/v". Stored under OptimizerPrefix.
	Optimizer []Tensor
	// Meta holds further string values (learning-rate schedule, seed, data
	// position). Keys must not start with ReservedPrefix.
	Meta map[string]string
}

// SaveCheckpoint writes c to path atomically (see WriteFile). F32 and F64
// tensors come back bit for bit.
func SaveCheckpoint(path string, c Checkpoint) error {
	if c.Step < 0 {
		return fmt.Errorf("safetensors: checkpoint step %d is negative", c.Step)
	}
	meta := make(map[string]string, len(c.Meta)+2)
	for k, v := range c.Meta {
		if strings.HasPrefix(k, ReservedPrefix) {
			return fmt.Errorf("safetensors: checkpoint metadata key %q uses the reserved prefix %q", k, ReservedPrefix)
		}
		meta[k] = v
	}
	meta[CheckpointVersionKey] = checkpointVersion
	meta[StepKey] = strconv.FormatInt(c.Step, 10)

	ts := make([]Tensor, 0, len(c.Params)+len(c.Optimizer))
	for _, t := range c.Params {
		if strings.HasPrefix(t.Name, OptimizerPrefix) {
			return fmt.Errorf("safetensors: checkpoint parameter %q uses the optimiser prefix %q", t.Name, OptimizerPrefix)
		}
		ts = append(ts, t)
	}
	for _, t := range c.Optimizer {
		if t.Name == "" {
			return &FormatError{"", "name", "empty optimiser tensor name"}
		}
		t.Name = OptimizerPrefix + t.Name
		ts = append(ts, t)
	}
	return WriteFile(path, File{Tensors: ts, Metadata: meta})
}

// LoadCheckpoint reads a file written by SaveCheckpoint. Params and Optimizer
// come back in file order (see Write), optimiser names without the prefix, and
// Meta without the reserved keys.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	f, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	if v := f.Metadata[CheckpointVersionKey]; v != checkpointVersion {
		return nil, fmt.Errorf("safetensors: %s: not a checkpoint of version %s (%s = %q)", path, checkpointVersion, CheckpointVersionKey, v)
	}
	c := &Checkpoint{Meta: make(map[string]string)}
	for k, v := range f.Metadata {
		switch {
		case k == CheckpointVersionKey:
		case k == StepKey:
			c.Step, err = strconv.ParseInt(v, 10, 64)
			if err != nil || c.Step < 0 {
				return nil, fmt.Errorf("safetensors: %s: bad %s %q", path, StepKey, v)
			}
		case strings.HasPrefix(k, ReservedPrefix):
			return nil, fmt.Errorf("safetensors: %s: unknown reserved metadata key %q", path, k)
		default:
			c.Meta[k] = v
		}
	}
	if _, ok := f.Metadata[StepKey]; !ok {
		return nil, fmt.Errorf("safetensors: %s: no %s in metadata", path, StepKey)
	}
	for _, t := range f.Tensors {
		if name, ok := strings.CutPrefix(t.Name, OptimizerPrefix); ok {
			if name == "" {
				return nil, fmt.Errorf("safetensors: %s: optimiser tensor %q has no name after the prefix", path, t.Name)
			}
			t.Name = name
			c.Optimizer = append(c.Optimizer, t)
		} else {
			c.Params = append(c.Params, t)
		}
	}
	return c, nil
}
