package trial

import (
	"bytes"
	_ "embed"
)

//go:embed testdata/ci.yaml
var ciPlan []byte

// CIPlan returns the plan of m4sc trial run --ci: every task, the three schemes, a few
// loopback SNRs and a fading channel, with thresholds, sized to run in well under 90
// seconds on two cores.
func CIPlan() []byte { return bytes.Clone(ciPlan) }

// Runs returns how many runs a plan has.
func Runs(p *Plan) int { return len(p.runs()) }
