package semantic

import (
	"math"
	"testing"
)

// reach interpolates the first crossing of the level; a curve that never gets there
// has none, one that starts above it reaches it at its first SNR.
func TestReach(t *testing.T) {
	c := []SweepPoint{{SNR: 10, Value: 0.95}, {SNR: 0, Value: 0.5}, {SNR: 5, Value: 0.85}}
	if got := reach(c, 0.9); math.Abs(got-7.5) > 1e-9 {
		t.Errorf("reach = %v, want 7.5", got)
	}
	if got := reach(c, 0.99); !math.IsNaN(got) {
		t.Errorf("reach of an unreached level = %v", got)
	}
	if got := reach(c, 0.4); got != 0 {
		t.Errorf("reach below the first point = %v, want 0", got)
	}
}
