package sharing

import (
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
)

// A Watcher sees a Run as it goes; a live display (m4sc share --serve) plugs in here.
// Run calls it from several goroutines at once (every receiver reads in its own), so
// its methods must be safe for concurrent use and return at once, dropping what they
// cannot keep up with: the round never waits for a display. None may keep y or frames
// after it returns.
type Watcher interface {
	// Round is called as round r (0-based) of total begins.
	Round(r, total int)
	// Samples is a buffer of samples (20 Msps, full scale 1) as a receiver reads it.
	Samples(y []complex64)
	// Frames are the frames one receiver found in one transmission.
	Frames(frames []phy.Frame)
	// Decoded is one user's message of a round as one scheme delivered it.
	Decoded(d Decoded)
}

// The schemes a Decoded names.
const (
	SchemeShared  = "shared"         // the round's burst, public and private parts
	SchemeUnicast = "unicast"        // the user's own semantic transmission
	SchemeWiFi    = "unicast 80211a" // the user's content by 802.11a at the best rate
)

// Decoded is one user's message of a round under one scheme.
type Decoded struct {
	Round, User int
	Task        llm.Task
	Scheme      string    // SchemeShared, SchemeUnicast or SchemeWiFi
	SNR         float64   // dB, the user's
	Question    string    // image.vqa's
	Want        string    // the reference output ("" for image.reconstruct)
	Text        string    // what the user's receiver made of it
	Image       []float32 // image.reconstruct's output, HWC in [0, 1]
	Metric      string    // semantic.MetricName of the task
	Value       float64
	Frames      int // frames meant for the user
	Lost        int // of those, not received
	Partial     string
}
