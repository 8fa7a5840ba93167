package trial

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio/sigmf"
)

// Formats of a recording Score reads.
const (
	FormatSigMF = "sigmf" // a .sigmf-meta and .sigmf-data pair, from any tool
	FormatCS8   = "cs8"   // hackrf_transfer's capture: int8 I,Q, scale 1/128, no header
	FormatCF32  = "cf32"  // GNU Radio's file sink: float32 little-endian I,Q, no header
)

// ScoreOptions describe a recording made elsewhere.
type ScoreOptions struct {
	// Format is FormatSigMF, FormatCS8 or FormatCF32; empty: from the name
	// (.sigmf-meta or .sigmf-data; .cs8 or .iq, as hackrf_transfer's captures are
	// usually named; .cf32 or .cfile).
	Format string
	// SampleRate (samples/s) and Frequency (centre, Hz) of a raw capture, which
	// does not say them. A SigMF recording says them; given as well, they must
	// agree. The rate must be the PHY's, 20 Msps: nothing resamples.
	SampleRate, Frequency float64
}

// ErrNothingHeard is Score's error when the recording holds no frame of the plan: the
// directory is written (every frame lost), but the recording is probably not of this
// plan.
var ErrNothingHeard = errors.New("trial: score: no frame of the plan's runs in the recording")

// maxCentreOffset is how far a recording's centre frequency may lie from the plan's:
// well inside what the receiver's carrier offset estimate takes (half an 802.11a
// subcarrier spacing to the coarse estimate's +-625 kHz).
const maxCentreOffset = 100e3

// Score scores a recording made elsewhere, by any receiver (hackrf_transfer, GNU
// Radio, another SDR's SigMF writer), of what m4sc trial tx sent for plan p, and
// writes the trial directory dir as Receive does: the runs told apart by the header's
// address, every frame not in the recording counted lost, each run's stretch of the
// recording kept under recordings/ so that Replay of dir reproduces results.jsonl. The
// recording is read to its end.
//
// The recording is checked before dir is made: it must exist, hold whole samples,
// have been made at 20 Msps, and for a raw capture come with its rate.
func Score(ctx context.Context, p *Plan, recording, dir string, o Options, so ScoreOptions) (*RXSummary, error) {
	if p == nil {
		return nil, errors.New("trial: score: no plan: a recording is scored against the plan it was sent with")
	}
	if p.Soak != nil {
		return nil, errSoakTwoHosts
	}
	spec, err := recordingSpec(p, recording, so)
	if err != nil {
		return nil, err
	}
	q := *p
	q.RX = spec
	sum, err := receive(ctx, &q, dir, o, RXOptions{Idle: scoreIdle}, "score")
	if err == nil && sum != nil && sum.Heard == 0 {
		err = fmt.Errorf("%w %s: is it of m4sc trial tx with this plan (same seed, model and version)?", ErrNothingHeard, recording)
	}
	return sum, err
}

// recordingSpec checks a recording and returns the file device string that plays it.
func recordingSpec(p *Plan, path string, so ScoreOptions) (string, error) {
	fail := func(format string, a ...any) (string, error) {
		return "", fmt.Errorf("trial: score: %s: %s", path, fmt.Sprintf(format, a...))
	}
	if path == "" {
		return "", errors.New("trial: score: no recording given")
	}
	if strings.ContainsAny(path, ",\n") {
		return fail("a device string cannot name a path with a comma; rename the file or link it under another name")
	}
	format := so.Format
	if format == "" {
		name := strings.ToLower(path)
		switch ext := filepath.Ext(name); {
		case ext == sigmf.ExtMeta || ext == sigmf.ExtData:
			format = FormatSigMF
		case ext == ".cs8" || ext == ".iq":
			format = FormatCS8
		case ext == ".cf32" || ext == ".cfile":
			format = FormatCF32
		default:
			return fail("cannot tell the format from the name: give it as sigmf (a .sigmf-meta/.sigmf-data pair), cs8 (hackrf_transfer's int8 I,Q) or cf32")
		}
	}
	var ropt sigmf.ReadOptions
	switch format {
	case FormatSigMF:
	case FormatCS8:
		ropt.Raw = sigmf.CI8
	case FormatCF32:
		ropt.Raw = sigmf.CF32LE
	default:
		return fail("format %q: want %s, %s or %s", format, FormatSigMF, FormatCS8, FormatCF32)
	}
	for _, v := range []struct {
		name string
		x    float64
	}{{"sample rate", so.SampleRate}, {"frequency", so.Frequency}} {
		if v.x < 0 || math.IsNaN(v.x) || math.IsInf(v.x, 0) {
			return fail("%s %g: want a positive number", v.name, v.x)
		}
	}
	raw := ropt.Raw != 0
	if raw {
		if so.SampleRate == 0 {
			return fail("a raw capture does not say its sample rate: give it (20e6, hackrf_transfer -s 20000000)")
		}
		ropt.SampleRate, ropt.Frequency = so.SampleRate, so.Frequency
	}
	ropt.SkipChecksum = true // checked as the samples are read
	rd, err := sigmf.Open(path, ropt)
	if err != nil {
		return "", fmt.Errorf("trial: score: %w", err)
	}
	meta := rd.Meta()
	n := rd.Len()
	rd.Close()
	rate, freq := meta.Global.SampleRate, 0.0
	if len(meta.Captures) > 0 {
		freq = meta.Captures[0].Frequency
	}
	if !raw {
		if so.SampleRate != 0 && so.SampleRate != rate {
			return fail("the recording says it was made at %g samples/s, not %g", rate, so.SampleRate)
		}
		if so.Frequency != 0 && freq != 0 && so.Frequency != freq {
			return fail("the recording says it is centred at %g Hz, not %g", freq, so.Frequency)
		}
	}
	if rate != phy.SampleRate {
		return fail("made at %s", wrongRate(rate))
	}
	if n == 0 {
		return fail("holds no samples")
	}
	if p.Frequency > 0 && freq > 0 && math.Abs(p.Frequency-freq) > maxCentreOffset {
		return fail("centred at %g Hz, the plan at %g Hz: the frames would lie %.0f kHz off centre, more than the receiver corrects (%.0f kHz)",
			freq, p.Frequency, math.Abs(p.Frequency-freq)/1e3, maxCentreOffset/1e3)
	}
	spec := "file:" + path
	if raw {
		spec += ",raw=" + format + ",rate=" + strconv.FormatFloat(rate, 'g', -1, 64)
		if freq > 0 {
			spec += ",freq=" + strconv.FormatFloat(freq, 'g', -1, 64)
		}
	}
	return spec, nil
}

// scoreIdle stands for "no idle limit": a recording is read to its end.
const scoreIdle = time.Duration(math.MaxInt64)
