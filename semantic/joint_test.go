package semantic

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/llm"
)

// Two steps of joint training through the JointChannel move the codec's parameters
// and the model's trainable ones, and leave the frozen ones exactly as they were.
func TestJointTraining(t *testing.T) {
	m := shippedModel(t)
	dir := os.Getenv("M4SC_CACHE_DIR")
	if dir == "" {
		home, err := os.UserCacheDir()
		if err != nil {
			t.Skip(err)
		}
		dir = home + "/m4sc"
	}
	data, err := llm.LoadData(dir)
	if err != nil {
		t.Skipf("data not fetched (m4sc data fetch): %v", err)
	}
	c, err := NewCodec(CodecConfig{Hidden: 8}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	jc, err := NewJointChannel(c, JointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	trainable := func(name string) bool { return strings.HasPrefix(name, "sem/") }
	snap := func(names []string, get func(string) []float32) map[string][]float32 {
		out := map[string][]float32{}
		for _, n := range names {
			out[n] = slices.Clone(get(n))
		}
		return out
	}
	codecNames := c.Params().Names()
	before := snap(codecNames, func(n string) []float32 { return c.Params().Get(n).Data })
	modelNames := m.Params().Names()
	modelBefore := snap(modelNames, func(n string) []float32 { return m.Params().Get(n).Data })
	err = llm.Train(context.Background(), m, data, llm.TrainOptions{Stage: llm.StageInstruct, Seed: 1, Steps: 2, Batch: 8, LR: 1e-3,
		Channel: jc, Trainable: trainable})
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, n := range codecNames {
		if !slices.Equal(before[n], c.Params().Get(n).Data) {
			moved++
		}
	}
	if moved == 0 {
		t.Error("no codec parameter moved")
	}
	var changed, frozenChanged []string
	for _, n := range modelNames {
		if slices.Equal(modelBefore[n], m.Params().Get(n).Data) {
			continue
		}
		changed = append(changed, n)
		if !trainable(n) {
			frozenChanged = append(frozenChanged, n)
		}
	}
	t.Logf("codec tensors moved: %d of %d; model tensors changed: %v", moved, len(codecNames), changed)
	if len(changed) == 0 {
		t.Error("no trainable model parameter moved")
	}
	if len(frozenChanged) > 0 {
		t.Errorf("frozen parameters changed: %v", frozenChanged)
	}
}
