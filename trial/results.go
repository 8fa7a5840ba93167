package trial

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/m4sc/m4sc/phy"
)

// Result is one line of results.jsonl: one input of a step as one run sent it (a long
// text may take several messages; Sequence is the first one's number). Everything in
// it follows from the plan, the model and the recording alone, so a replay writes it
// again byte for byte; wall-clock times go to timing.jsonl.
type Result struct {
	Run      int      `json:"run"`
	Step     int      `json:"step"`
	StepName string   `json:"step_name"`
	Item     int      `json:"item"` // index of the input in the step's contents
	Repeat   int      `json:"repeat"`
	Task     string   `json:"task"`
	Scheme   string   `json:"scheme"`
	SNR      *float64 `json:"snr_db,omitempty"` // the loopback SNR the run was set to
	Channel  string   `json:"channel,omitempty"`
	Sequence int      `json:"sequence"` // number of the item's first message (mod 256)
	Messages int      `json:"messages"`
	Sent     string   `json:"sent"`
	Question string   `json:"question,omitempty"`
	Want     string   `json:"want,omitempty"`
	Received string   `json:"received"`
	Partial  string   `json:"partial,omitempty"`
	Metric   string   `json:"metric"`
	Value    *float64 `json:"value"` // null when the input has no reference (an image file's caption)
	// Frames sent for the item and of those not received whole.
	Frames     int `json:"frames"`
	FramesLost int `json:"frames_lost"`
	// LostReason says why the frames lost were lost: not detected, detected
	// without a valid header, a payload that failed its check, the run not heard
	// (trial rx), or the receiver's failure (a device that stopped streaming).
	LostReason string  `json:"lost_reason,omitempty"`
	PHY        PHYView `json:"phy"`
	// Error says why the item could not be decoded at all (the receiver's model
	// failed, a device failed mid-run).
	Error string `json:"error,omitempty"`
	// Image is an image.reconstruct input's reconstruction (HWC in [0, 1]) for
	// sinks; results.jsonl does not hold it.
	Image []float32 `json:"-"`
}

// PHYView is what the PHY saw of an item's frames that arrived with a valid header:
// means over those frames.
type PHYView struct {
	Detected bool    `json:"detected"`
	Frames   int     `json:"frames_detected"`
	SNR      float64 `json:"snr_db"` // L-LTF estimate, full band
	CFO      float64 `json:"cfo_hz"`
	EVM      float64 `json:"evm_db"`
	// Subcarrier SNR (|H|^2/N0 of each data subcarrier, mean over the frames) in dB:
	// the weakest, the mean of the 48 in dB, and the strongest.
	SubcarrierMin  float64 `json:"subcarrier_snr_min_db"`
	SubcarrierMean float64 `json:"subcarrier_snr_mean_db"`
	SubcarrierMax  float64 `json:"subcarrier_snr_max_db"`
}

// round keeps d decimals, so that lines stay readable (the values are computed the same
// way on every replay either way).
func round(x float64, d int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	p := math.Pow(10, float64(d))
	return math.Round(x*p) / p
}

func db(x float64) float64 { return 10 * math.Log10(math.Max(x, 1e-12)) }

// phyView summarises frames.
func phyView(frames []*phy.Frame) PHYView {
	v := PHYView{Detected: len(frames) > 0, Frames: len(frames)}
	if len(frames) == 0 {
		return v
	}
	var sc [phy.DataCarriers]float64
	for _, f := range frames {
		v.SNR += f.SNR
		v.CFO += f.CFO
		v.EVM += f.EVM
		for k, s := range f.SubcarrierSNR {
			sc[k] += float64(s)
		}
	}
	n := float64(len(frames))
	v.SNR, v.CFO, v.EVM = round(v.SNR/n, 2), round(v.CFO/n, 0), round(v.EVM/n, 2)
	v.SubcarrierMin, v.SubcarrierMax = math.Inf(1), math.Inf(-1)
	for _, s := range sc {
		d := db(s / n)
		v.SubcarrierMin = math.Min(v.SubcarrierMin, d)
		v.SubcarrierMax = math.Max(v.SubcarrierMax, d)
		v.SubcarrierMean += d / phy.DataCarriers
	}
	v.SubcarrierMin, v.SubcarrierMean, v.SubcarrierMax = round(v.SubcarrierMin, 2), round(v.SubcarrierMean, 2), round(v.SubcarrierMax, 2)
	return v
}

// RunInfo names one run for sinks.
type RunInfo struct {
	Index  int
	Total  int
	Name   string // the recording's path in the trial directory, without extension
	Step   int
	Scheme string
	SNR    *float64
	Repeat int
}

// A Sink observes a trial as it runs: the live monitor and a second host's receiver
// plug in here. The runner calls it from its own goroutine, in order; a Sink must
// return promptly (drop what it cannot keep up with) and must not keep y or frames
// after the call.
type Sink interface {
	// RunStarted opens a run.
	RunStarted(r RunInfo)
	// Received hands over a run's received samples (20 Msps, full scale 1) and the
	// frames the PHY found in them, before the model decodes them.
	Received(r RunInfo, y []complex64, frames []phy.Frame)
	// Result is one line of results.jsonl.
	Result(res *Result)
}

// encodeResults writes results as JSON lines.
func encodeResults(res []Result) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for i := range res {
		if err := enc.Encode(&res[i]); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// ReadResults reads a results.jsonl file. A last line cut short (an interrupted write)
// is left out; end is the length of the whole lines read.
func ReadResults(path string) (res []Result, end int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	line := 0
	for {
		b, rerr := br.ReadBytes('\n')
		if len(b) == 0 || b[len(b)-1] != '\n' {
			break // end of file, or a line cut short
		}
		line++
		var r Result
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, 0, fmt.Errorf("trial: %s line %d: %w", path, line, err)
		}
		res = append(res, r)
		end += int64(len(b))
		if rerr != nil {
			break
		}
	}
	return res, end, nil
}
