package llm

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A negative checkpoint interval is an error, not quietly the default.
func TestTrainRejectsNegativeCheckpointEvery(t *testing.T) {
	m := smallModel(t, ProjectorKAN)
	err := Train(context.Background(), m, &Data{}, TrainOptions{Stage: StageLM, Steps: 1, Batch: 1, LR: 1e-3, CheckpointEvery: -time.Second})
	if err == nil || !strings.Contains(err.Error(), "checkpoint interval -1s is negative") {
		t.Errorf("got %v", err)
	}
}
