package sharing

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/sigmf"
	"github.com/m4sc/m4sc/semantic"
)

// ReplayOptions configure Replay.
type ReplayOptions struct {
	// Dir holds a run's recordings (RunOptions.Record): RecordingAir and
	// RecordingUser(u) for every user.
	Dir string
	// RX, when not empty, names every user's recording, one per user in user order,
	// as a file device string: "file:DIR/user-01.sigmf-meta", a capture made
	// elsewhere ("file:air-through-channel.sigmf-meta"), or hackrf_transfer's raw
	// int8 ("file:capture.cs8,rate=20M", "file:capture.iq,raw=cs8,rate=20M"). Empty:
	// Dir's user recordings.
	RX []string
	// Open opens a file device by its string (devices.Manager.Open).
	Open func(ctx context.Context, spec string) (radio.Device, error)
	// Sentences gives the text scenario's sentences, as given to the run; it is
	// called only for a run of that scenario.
	Sentences func() ([]dataset.Sentence, error)
}

// Capture says how Replay read one user's recording.
type Capture struct {
	User      int
	Recording string // the file device string
	// Foreign is true for a recording not made by Run for this user (the air passed
	// through another tool's channel, a capture by another receiver): it was
	// decoded whole and its frames put to rounds by where they lie (see Replay).
	Foreign bool
	// Offset is, for a foreign recording, the sample of it on which the air's first
	// sample fell (negative when it began later), and Frames the frames of the run
	// found in it.
	Offset int64
	Frames int
}

// MaxCaptureSamples bounds the recordings Replay reads: 2^27 samples (1 GiB in
// memory, 6.7 s at 20 Msps).
const MaxCaptureSamples = 1 << 27

// alignSlack is how far, in samples, a foreign recording's frames may lie from where
// the offset puts them: timing estimates and sample clock drift (20 ppm over 10^7
// samples is 200), well under the AirMargin of quiet between rounds.
const alignSlack = 500

// Replay runs the receive side of a recorded run again: it reads the run and its
// rounds from the air recording in o.Dir, finds the frames in each user's recording,
// decodes and scores each user's message of every round as Run did, and gives the
// lines (to emit) and the summary. The unicast baselines, which are not part of the
// shared burst, are the run's, from the air recording. With the run's own recordings
// and the same model the lines and summary are Run's bit for bit.
//
// A user's recording made by Run is read round by round, from the stretches its
// annotations give. Any other recording (a foreign one: the air recording passed
// through another tool's channel, a capture by another receiver of the air as it was
// sent) is decoded whole, and its frames are put to rounds by their place: every
// frame whose header matches a scheduled frame votes for the offset between the two,
// the offset most frames agree on (within alignSlack) is taken, and each frame goes
// to the round whose burst it then falls in. A scheduled frame that is not found is
// lost, as on the air.
//
// Errors about the recordings wrap ErrRecording and say which recording and what was
// wrong: missing, of another run (naming the field that differs) or of another user,
// cut short, or holding no frame of the run.
func Replay(ctx context.Context, ch *semantic.Chain, o ReplayOptions, emit func(Line) error) (*Summary, []Capture, error) {
	if o.Open == nil {
		return nil, nil, errors.New("sharing: replay: no way to open recordings")
	}
	airPath := filepath.Join(o.Dir, RecordingAir+sigmf.ExtMeta)
	bad := func(what string, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrRecording, what, fmt.Sprintf(format, a...))
	}
	if _, err := os.Stat(airPath); errors.Is(err, fs.ErrNotExist) {
		return nil, nil, bad(airPath, "no such file: a directory of m4sc share --record holds %s%s and %s%s, ... (one per user)",
			RecordingAir, sigmf.ExtMeta, RecordingUser(0), sigmf.ExtMeta)
	}
	rd, err := sigmf.OpenContext(ctx, airPath, sigmf.ReadOptions{})
	if errors.Is(err, sigmf.ErrTruncated) {
		return nil, nil, fmt.Errorf("%w: the air, cut short: %w", ErrRecording, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the air: %w", ErrRecording, err)
	}
	airLen := rd.Len()
	run, rounds, segs, err := parseAir(rd.Meta(), airLen)
	rd.Close()
	if err != nil {
		return nil, nil, bad(airPath, "%v", err)
	}
	specs := o.RX
	if len(specs) == 0 {
		for u := range run.Users {
			specs = append(specs, "file:"+filepath.Join(o.Dir, RecordingUser(u)+sigmf.ExtMeta))
		}
	}
	if len(specs) != run.Users {
		return nil, nil, fmt.Errorf("%w: %d recordings for the %d users the run had: want one per user, in user order", ErrRecording, len(specs), run.Users)
	}
	ro := RunOptions{Scenario: run.Scenario, Users: run.Users, Overlap: run.Overlap, Seed: run.Seed}
	if run.Scenario == ScenarioText {
		if o.Sentences == nil {
			return nil, nil, errors.New("sharing: replay: a run of the text scenario needs its sentences")
		}
		if ro.Sentences, err = o.Sentences(); err != nil {
			return nil, nil, err
		}
		ro.Sentences = fitSentences(ch, ro)
	}

	// Each user's frames, round by round.
	frames := make([][][]phy.Frame, run.Users)
	caps := make([]Capture, run.Users)
	for u, spec := range specs {
		what := fmt.Sprintf("user %d's recording %s", u, radio.QuoteSpec(spec))
		y, meta, err := readRecording(ctx, o.Open, spec)
		if errors.Is(err, sigmf.ErrTruncated) {
			return nil, nil, bad(what, "cut short: %v", err)
		}
		if err != nil {
			return nil, nil, bad(what, "%v", err)
		}
		caps[u] = Capture{User: u, Recording: spec}
		own := false
		if meta != nil {
			got, ok, err := parseRun(meta)
			switch {
			case err != nil:
				return nil, nil, bad(what, "%v", err)
			case !ok:
			case got.differs(&run) != "":
				return nil, nil, bad(what, "of another run than the air's: %s", got.differs(&run))
			case got.Role == roleUser && *got.User != u:
				return nil, nil, bad(what, "the recording of user %d, given for user %d", *got.User, u)
			case got.Role == roleUser:
				own = true
			}
		}
		if own {
			useg, err := parseUser(meta, &run, u, int64(len(y)))
			if err != nil {
				return nil, nil, bad(what, "%v", err)
			}
			frames[u] = make([][]phy.Frame, run.Rounds)
			for r, s := range useg {
				if frames[u][r], err = findFrames(y[s.start : s.start+s.count]); err != nil {
					return nil, nil, err
				}
			}
			continue
		}
		all, err := findFrames(y)
		if err != nil {
			return nil, nil, err
		}
		per, offset, heard := align(all, rounds, segs)
		if heard == 0 {
			return nil, nil, bad(what, "no frame of the run in its %d samples: is it a capture of this run's air (%s)?", len(y), airPath)
		}
		frames[u] = per
		caps[u].Foreign, caps[u].Offset, caps[u].Frames = true, offset, heard
	}

	sum := &Summary{Scenario: run.Scenario, Users: run.Users, Overlap: run.Overlap, Channel: run.Channel, Rounds: run.Rounds, Devices: run.Devices}
	t := newTally(sum)
	for r := range run.Rounds {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		cs, err := contents(ro, r)
		if err != nil {
			return nil, nil, err
		}
		rr := &rounds[r]
		for u, c := range cs {
			if ur := &rr.Users[u]; c.in.Task.String() != ur.Task || c.want != ur.Want {
				return nil, nil, bad(airPath, "round %d, user %d was %s with reference %q; the %s scenario at seed %d now gives %s with %q (another data set or model?)",
					r, u, ur.Task, ur.Want, run.Scenario, run.Seed, c.in.Task, c.want)
			}
		}
		t.round(rr)
		for u, c := range cs {
			res, v, err := receiveUser(ch, frames[u][r], rr.Schedule, u, c)
			if err != nil {
				return nil, nil, fmt.Errorf("sharing: replay: round %d, user %d: %w", r, u, err)
			}
			l := t.user(r, u, c, res, v, &rr.Users[u])
			if emit != nil {
				if err := emit(l); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	return t.summary(), caps, nil
}

// readRecording reads a recording whole through its file device, and its metadata
// when it is SigMF (nil for a raw file).
func readRecording(ctx context.Context, open func(context.Context, string) (radio.Device, error), spec string) ([]complex64, *sigmf.Meta, error) {
	sp, err := radio.ParseSpec(spec)
	if err != nil {
		return nil, nil, err
	}
	if sp.Driver != "file" || sp.Arg == "" {
		return nil, nil, fmt.Errorf("not a recording: replay reads recordings as file devices (file:PATH)")
	}
	_, raw := sp.Lookup("raw")
	if _, ok := sigmf.RawDatatype(sp.Arg); ok {
		raw = true
	}
	data := sp.Arg
	if !raw {
		metaPath, dataPath, err := sigmf.Files(sp.Arg)
		if err != nil {
			return nil, nil, err
		}
		for _, p := range []string{metaPath, dataPath} {
			if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
				return nil, nil, fmt.Errorf("no such file %s", p)
			}
		}
		data = dataPath
	}
	if _, err := os.Stat(data); errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("no such file %s", data)
	}
	d, err := open(ctx, spec)
	if err != nil {
		return nil, nil, err
	}
	defer d.Close()
	if rate := d.Config().SampleRate; rate != phy.SampleRate {
		return nil, nil, fmt.Errorf("made at %g samples/s; the PHY runs at %g and nothing here resamples", rate, float64(phy.SampleRate))
	}
	s, err := d.StartRX(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	y, err := radio.ReadAll(s, MaxCaptureSamples)
	if err != nil {
		return nil, nil, err
	}
	if len(y) == 0 {
		return nil, nil, errors.New("holds no samples")
	}
	if raw {
		return y, nil, nil
	}
	rd, err := sigmf.OpenContext(ctx, sp.Arg, sigmf.ReadOptions{SkipChecksum: true})
	if err != nil {
		return nil, nil, err
	}
	rd.Close()
	return y, rd.Meta(), nil
}

// align puts the frames found in a foreign recording to the air's rounds (see
// Replay): it returns each round's frames, the recording's sample on which the air's
// sample 0 fell, and how many frames it put to a round (0: none matched).
func align(frames []phy.Frame, rounds []roundRecord, segs []segment) ([][]phy.Frame, int64, int) {
	type key struct {
		kind    phy.FrameKind
		address uint16
		slots   uint16
		symbols int
	}
	at := map[key][]int64{} // where the air sent each kind of frame
	for r, rr := range rounds {
		for _, s := range rr.Schedule {
			k := key{phy.KindSemantic, s.Address, s.Slots, s.Symbols}
			if s.Layer == LayerPublic {
				k.kind = phy.KindPublic
			}
			at[k] = append(at[k], segs[r].start+int64(s.Start))
		}
	}
	var votes []int64
	for _, f := range frames {
		if f.Err != nil || f.Kind == phy.KindLegacy {
			continue
		}
		for _, p := range at[key{f.Kind, f.Header.Address, f.Header.Sequence, len(f.Symbols)}] {
			votes = append(votes, f.Start-p)
		}
	}
	per := make([][]phy.Frame, len(rounds))
	if len(votes) == 0 {
		return per, 0, 0
	}
	// The window of 2 alignSlack samples that holds the most votes; its median.
	slices.Sort(votes)
	best, bestN := 0, 0
	for i, j := 0, 0; i < len(votes); i++ {
		for votes[i]-votes[j] > 2*alignSlack {
			j++
		}
		if i-j+1 > bestN {
			best, bestN = j, i-j+1
		}
	}
	offset := votes[best+bestN/2]
	heard := 0
	for _, f := range frames {
		if f.Kind == phy.KindLegacy && f.Err == nil {
			continue
		}
		p := f.Start - offset
		r := sort.Search(len(segs), func(i int) bool { return segs[i].start+segs[i].count+alignSlack > p })
		if r < len(segs) && p >= segs[r].start-alignSlack {
			per[r] = append(per[r], f)
			if f.Err == nil {
				heard++
			}
		}
	}
	return per, offset, heard
}
