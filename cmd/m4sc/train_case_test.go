package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/nn/safetensors"
)

// A resumed lm stage takes its case from the checkpoint (train --cased applies to
// new runs only); a missing or foreign checkpoint gives none.
func TestCheckpointConfig(t *testing.T) {
	dir := t.TempDir()
	for _, cased := range []bool{false, true} {
		cfg := llm.DefaultConfig(4096)
		cfg.Cased = cased
		b, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "lm.ckpt")
		if err := safetensors.SaveCheckpoint(path, safetensors.Checkpoint{Step: 3, Meta: map[string]string{llm.MetaConfig: string(b)}}); err != nil {
			t.Fatal(err)
		}
		if got, ok := checkpointConfig(path); !ok || got.Cased != cased {
			t.Errorf("checkpoint of cased=%t read as %t, %t", cased, got.Cased, ok)
		}
	}
	if _, ok := checkpointConfig(filepath.Join(dir, "none.ckpt")); ok {
		t.Error("a missing checkpoint gave a configuration")
	}
}
