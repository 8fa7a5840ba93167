package sharing

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"slices"

	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio/sigmf"
	"github.com/m4sc/m4sc/semantic"
)

// Names of a run's recordings in RunOptions.Record (each a .sigmf-meta and
// .sigmf-data pair).
const (
	// RecordingAir is what the transmitter sent: every round's burst followed by
	// AirMargin samples of silence.
	RecordingAir = "air"
)

// RecordingUser is the name of user u's recording (0-based): "user-00", "user-01", ...
// It holds what the user's receiver captured of every round's burst.
func RecordingUser(u int) string { return fmt.Sprintf("user-%02d", u) }

// Keys of the m4sc namespace in a run's recordings.
const (
	keyRun     = "m4sc:share"         // global: the run (runRecord)
	keyRound   = "m4sc:share_round"   // the air's annotation of a round (roundRecord)
	keyCapture = "m4sc:share_capture" // a user's annotation of a round (captureRecord)
)

// Roles of a recording in its runRecord.
const (
	roleAir  = "air"
	roleUser = "user"
)

// runRecord is what every recording of a run says of the run (global keyRun); a
// user's recording adds its user. Two recordings belong to one run when their
// runRecords agree but for Role and User.
type runRecord struct {
	Role      string   `json:"role"` // roleAir or roleUser
	User      *int     `json:"user,omitempty"`
	Scenario  Scenario `json:"scenario"`
	Users     int      `json:"users"`
	Rounds    int      `json:"rounds"`
	Seed      uint64   `json:"seed"`
	Overlap   float64  `json:"overlap"`
	SNRLo     float64  `json:"snr_lo_db"`
	SNRHi     float64  `json:"snr_hi_db"`
	Channel   string   `json:"channel"` // Summary.Channel
	Devices   []string `json:"devices,omitempty"`
	Threshold float64  `json:"threshold"`
	CopyUsers int      `json:"copy_users"`
	Version   string   `json:"version,omitempty"`
}

// roundRecord is a round as the air recording's annotation of it keeps it: the
// schedule the receivers were given, the round's channel use and sharing, and each
// user's side of the round that did not go through the shared burst (its reported
// SNR, task, reference and unicast baselines). With the users' captures it is all
// Replay needs to give the round's lines as Run gave them.
type roundRecord struct {
	Round     int          `json:"round"`
	AirtimeUS float64      `json:"airtime_us"`
	Symbols   int          `json:"symbols"`
	Schedule  []Scheduled  `json:"schedule"`
	Plan      planTally    `json:"plan"`
	Users     []userRecord `json:"users"`
}

// planTally is what a round's plan shares.
type planTally struct {
	PublicVectors int `json:"public_vectors"` // public parts' vectors times their members
	Vectors       int `json:"vectors"`        // every user's vectors
	Candidates    int `json:"token_candidates"`
	Tokens        int `json:"tokens"`
	PublicParts   int `json:"public_parts"`
	Copies        int `json:"copies"` // of the public parts, summed
}

// userRecord is one user's side of a round besides the shared burst.
type userRecord struct {
	SNR              float64 `json:"snr_db"` // reported to the transmitter
	Task             string  `json:"task"`
	Want             string  `json:"want"`
	Unicast          float64 `json:"unicast"`
	UnicastAirtimeUS float64 `json:"airtime_us_unicast"`
	UnicastSymbols   int     `json:"symbols_unicast"`
	WiFi             float64 `json:"unicast_80211a"`
	WiFiRate         int     `json:"rate_mbps_80211a"`
	WiFiPartial      string  `json:"partial_80211a,omitempty"`
	WiFiAirtimeUS    float64 `json:"airtime_us_80211a"`
	WiFiSymbols      int     `json:"symbols_80211a"`
	WiFiFrames       int     `json:"frames_80211a"`
	WiFiDelivered    bool    `json:"delivered_80211a"`
}

// captureRecord is a user's recording's annotation of a round.
type captureRecord struct {
	Round  int    `json:"round"`
	User   int    `json:"user"`
	Device string `json:"device"` // the receiver's device string
}

// recorder writes a run's recordings as Run goes.
type recorder struct {
	air   *sigmf.Writer
	users []*sigmf.Writer
	quiet []complex64 // AirMargin zeros
}

// newRecorder creates the recordings of a run in o.Record.
func newRecorder(o RunOptions, sum *Summary) (*recorder, error) {
	if err := os.MkdirAll(o.Record, 0o755); err != nil {
		return nil, fmt.Errorf("sharing: record: %w", err)
	}
	run := runRecord{Role: roleAir, Scenario: o.Scenario, Users: o.Users, Rounds: o.Rounds, Seed: o.Seed, Overlap: o.Overlap,
		SNRLo: o.SNRLo, SNRHi: o.SNRHi, Channel: sum.Channel, Devices: sum.Devices, Threshold: o.Split.Threshold,
		CopyUsers: o.Split.CopyUsers, Version: o.Version}
	rec := &recorder{quiet: make([]complex64, AirMargin)}
	create := func(name, desc string, run runRecord) (*sigmf.Writer, error) {
		path := filepath.Join(o.Record, name+sigmf.ExtMeta)
		w, err := sigmf.Create(path, sigmf.WriteOptions{Datatype: sigmf.CF32LE, SampleRate: phy.SampleRate,
			Recorder: "m4sc share " + o.Version, Description: desc, Extra: map[string]any{keyRun: run}})
		if err != nil {
			return nil, fmt.Errorf("sharing: record: %w", err)
		}
		return w, nil
	}
	var err error
	what := fmt.Sprintf("m4sc share, %s scenario, %d users, %d rounds, seed %d", o.Scenario, o.Users, o.Rounds, o.Seed)
	if rec.air, err = create(RecordingAir, "what the transmitter sent: "+what, run); err != nil {
		return nil, err
	}
	for u := range o.Users {
		ru := run
		ru.Role, ru.User = roleUser, &u
		w, err := create(RecordingUser(u), fmt.Sprintf("what user %d's receiver captured: %s", u, what), ru)
		if err != nil {
			rec.abort()
			return nil, err
		}
		rec.users = append(rec.users, w)
	}
	return rec, nil
}

// round appends a round: the burst sent (tx) and each user's capture of it (ys, each
// len(tx)+AirMargin samples, captured on the receivers named by specs).
func (rec *recorder) round(rr *roundRecord, tx []complex64, ys [][]complex64, specs []string) error {
	start := rec.air.Samples()
	n := len(tx) + AirMargin
	for u, y := range ys {
		if len(y) != n {
			return fmt.Errorf("sharing: record: user %d captured %d samples of round %d, want %d", u, len(y), rr.Round, n)
		}
	}
	if err := rec.air.Annotate(sigmf.Annotation{SampleStart: start, SampleCount: int64(len(tx)), Label: fmt.Sprintf("round %d", rr.Round),
		Extra: map[string]any{keyRound: *rr}}); err != nil {
		return fmt.Errorf("sharing: record: %w", err)
	}
	if _, err := rec.air.Write(tx); err != nil {
		return fmt.Errorf("sharing: record: %w", err)
	}
	if _, err := rec.air.Write(rec.quiet); err != nil {
		return fmt.Errorf("sharing: record: %w", err)
	}
	for u, w := range rec.users {
		c := captureRecord{Round: rr.Round, User: u, Device: specs[u]}
		if err := w.Annotate(sigmf.Annotation{SampleStart: start, SampleCount: int64(n), Label: fmt.Sprintf("round %d, user %d", rr.Round, u),
			Extra: map[string]any{keyCapture: c}}); err != nil {
			return fmt.Errorf("sharing: record: %w", err)
		}
		if _, err := w.Write(ys[u]); err != nil {
			return fmt.Errorf("sharing: record: %w", err)
		}
	}
	return nil
}

// close completes the recordings; the first error is returned, and the recordings
// not yet closed are then discarded.
func (rec *recorder) close() error {
	for _, w := range append([]*sigmf.Writer{rec.air}, rec.users...) {
		if err := w.Close(); err != nil {
			rec.abort()
			return fmt.Errorf("sharing: record: %w", err)
		}
	}
	return nil
}

// abort discards the recordings not closed.
func (rec *recorder) abort() {
	for _, w := range append([]*sigmf.Writer{rec.air}, rec.users...) {
		if w != nil {
			w.Abort()
		}
	}
}

// ErrRecording is wrapped by every error about a recording given to Replay: missing,
// of another run or user, damaged, or holding nothing of the run.
var ErrRecording = errors.New("sharing: bad recording")

// extension decodes the value of an m4sc key of a recording's metadata (as package
// sigmf read it: json.Number for numbers) into dst.
func extension(v any, dst any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

// parseRun reads a recording's runRecord; ok is false when the recording has none (it
// was not made by Run).
func parseRun(m *sigmf.Meta) (run runRecord, ok bool, err error) {
	v, ok := m.Global.Extra[keyRun]
	if !ok {
		return run, false, nil
	}
	if err := extension(v, &run); err != nil {
		return run, true, fmt.Errorf("global %s: %v", keyRun, err)
	}
	if err := run.check(); err != nil {
		return run, true, fmt.Errorf("global %s: %v", keyRun, err)
	}
	return run, true, nil
}

// check checks what Replay relies on.
func (r *runRecord) check() error {
	switch {
	case r.Role != roleAir && r.Role != roleUser:
		return fmt.Errorf("role %q: want %q or %q", r.Role, roleAir, roleUser)
	case r.Role == roleUser && (r.User == nil || *r.User < 0 || *r.User >= r.Users):
		return fmt.Errorf("a user's recording without a user from 0 to %d", r.Users-1)
	case r.Role == roleAir && r.User != nil:
		return fmt.Errorf("the air's recording names user %d", *r.User)
	case r.Users < 1 || r.Users > MaxUsers:
		return fmt.Errorf("%d users: want 1 to %d", r.Users, MaxUsers)
	case r.Rounds < 1 || r.Rounds > MaxRecordedRounds:
		return fmt.Errorf("%d rounds: want 1 to %d", r.Rounds, MaxRecordedRounds)
	case !(r.Overlap >= 0 && r.Overlap <= 1):
		return fmt.Errorf("overlap %v: want 0 to 1", r.Overlap)
	}
	if _, err := ParseScenario(string(r.Scenario)); err != nil {
		return err
	}
	return nil
}

// differs names the first field in which two recordings' runs differ ("" when they
// are of one run).
func (r *runRecord) differs(o *runRecord) string {
	type f struct {
		name string
		a, b any
	}
	for _, x := range []f{
		{"scenario", r.Scenario, o.Scenario}, {"seed", r.Seed, o.Seed}, {"users", r.Users, o.Users},
		{"rounds", r.Rounds, o.Rounds}, {"overlap", r.Overlap, o.Overlap}, {"snr", fmt.Sprint(r.SNRLo, ":", r.SNRHi), fmt.Sprint(o.SNRLo, ":", o.SNRHi)},
		{"channel", r.Channel, o.Channel}, {"devices", fmt.Sprint(r.Devices), fmt.Sprint(o.Devices)}, {"threshold", r.Threshold, o.Threshold},
		{"copy_users", r.CopyUsers, o.CopyUsers},
	} {
		if x.a != x.b {
			return fmt.Sprintf("%s %v, not %v", x.name, x.a, x.b)
		}
	}
	return ""
}

// MaxRecordedRounds bounds the rounds of a recorded run that Replay reads.
const MaxRecordedRounds = 1 << 16

// segment is a stretch of a recording, in samples.
type segment struct{ start, count int64 }

// parseAir reads the air recording's metadata: the run, and each round with its stretch
// of the recording (n samples long), in round order.
func parseAir(m *sigmf.Meta, n int64) (runRecord, []roundRecord, []segment, error) {
	run, ok, err := parseRun(m)
	switch {
	case err != nil:
		return run, nil, nil, err
	case !ok:
		return run, nil, nil, fmt.Errorf("no global %s: not a recording of m4sc share --record", keyRun)
	case run.Role != roleAir:
		return run, nil, nil, fmt.Errorf("the recording of user %d, not of the air", *run.User)
	}
	rounds := make([]roundRecord, run.Rounds)
	segs, err := roundSegments(m, keyRound, run.Rounds, n, "annotation", func(i int, a sigmf.Annotation, v any) (int, error) {
		var rr roundRecord
		if err := extension(v, &rr); err != nil {
			return 0, fmt.Errorf("annotations[%d] %s: %v", i, keyRound, err)
		}
		if err := rr.check(run.Users); err != nil {
			return 0, fmt.Errorf("annotations[%d] (round %d): %v", i, rr.Round, err)
		}
		for _, s := range rr.Schedule {
			if int64(s.Start) >= a.SampleCount {
				return 0, fmt.Errorf("annotations[%d] (round %d): a frame starts at %d, after the burst's %d samples", i, rr.Round, s.Start, a.SampleCount)
			}
		}
		if rr.Round >= 0 && rr.Round < run.Rounds {
			rounds[rr.Round] = rr
		}
		return rr.Round, nil
	})
	if err != nil {
		return run, nil, nil, err
	}
	for r := 1; r < run.Rounds; r++ {
		if segs[r].start < segs[r-1].start+segs[r-1].count {
			return run, nil, nil, fmt.Errorf("round %d starts at sample %d, inside round %d", r, segs[r].start, r-1)
		}
	}
	return run, rounds, segs, nil
}

// roundSegments reads the annotations of a recording (n samples long) that carry key,
// one for each of a run's rounds: read decodes and checks annotation i (its errors
// are returned as they are) and says its round. Each round must come once, with a
// stretch inside the recording; what names the annotations when one is missing.
func roundSegments(m *sigmf.Meta, key string, rounds int, n int64, what string, read func(i int, a sigmf.Annotation, v any) (int, error)) ([]segment, error) {
	segs := make([]segment, rounds)
	seen := make([]bool, rounds)
	for i, a := range m.Annotations {
		v, ok := a.Extra[key]
		if !ok {
			continue
		}
		r, err := read(i, a, v)
		switch {
		case err != nil:
			return nil, err
		case r < 0 || r >= rounds:
			return nil, fmt.Errorf("annotations[%d]: round %d of a run of %d", i, r, rounds)
		case seen[r]:
			return nil, fmt.Errorf("annotations[%d]: round %d again", i, r)
		case a.SampleCount < 1 || a.SampleStart < 0 || a.SampleStart > n || a.SampleCount > n-a.SampleStart:
			return nil, fmt.Errorf("annotations[%d] (round %d): samples %d+%d outside the recording's %d", i, r, a.SampleStart, a.SampleCount, n)
		}
		seen[r], segs[r] = true, segment{a.SampleStart, a.SampleCount}
	}
	if i := slices.Index(seen, false); i >= 0 {
		return nil, fmt.Errorf("no %s of round %d of %d: the recording was cut short or edited", what, i, rounds)
	}
	return segs, nil
}

// check checks a round's record for a run of k users: what Receive and the summary
// rely on.
func (rr *roundRecord) check(k int) error {
	if len(rr.Users) != k {
		return fmt.Errorf("%d users, the run's %d", len(rr.Users), k)
	}
	if len(rr.Schedule) == 0 || len(rr.Schedule) > 16*MaxUsers {
		return fmt.Errorf("%d frames scheduled", len(rr.Schedule))
	}
	if !finite(rr.AirtimeUS) || rr.AirtimeUS <= 0 || rr.Symbols < 0 {
		return fmt.Errorf("airtime %v us, %d symbols", rr.AirtimeUS, rr.Symbols)
	}
	p := rr.Plan
	for _, n := range []int{p.PublicVectors, p.Vectors, p.Candidates, p.Tokens, p.PublicParts, p.Copies} {
		if n < 0 || n > 1<<20 {
			return fmt.Errorf("plan counts %+v", p)
		}
	}
	has := make([]bool, k)
	for j, s := range rr.Schedule {
		if err := s.check(k); err != nil {
			return fmt.Errorf("schedule[%d]: %v", j, err)
		}
		for _, m := range s.Members {
			has[m] = true
		}
	}
	for u, ur := range rr.Users {
		if !has[u] {
			return fmt.Errorf("user %d has no frame in the schedule", u)
		}
		if _, err := llm.ParseTask(ur.Task); err != nil {
			return fmt.Errorf("user %d: %v", u, err)
		}
		for _, x := range []float64{ur.SNR, ur.Unicast, ur.UnicastAirtimeUS, ur.WiFi, ur.WiFiAirtimeUS} {
			if !finite(x) {
				return fmt.Errorf("user %d: a figure %v", u, x)
			}
		}
		for _, n := range []int{ur.UnicastSymbols, ur.WiFiRate, ur.WiFiSymbols, ur.WiFiFrames} {
			if n < 0 || n > 1<<30 {
				return fmt.Errorf("user %d: a count %d", u, n)
			}
		}
	}
	return nil
}

// check checks a scheduled frame for a round of k users.
func (s *Scheduled) check(k int) error {
	switch {
	case s.Layer > LayerEnhancement:
		return fmt.Errorf("layer %d", s.Layer)
	case len(s.Members) == 0 || len(s.Members) > k:
		return fmt.Errorf("%d members in a round of %d users", len(s.Members), k)
	case !slices.Contains(semantic.Bandwidths[:], s.K):
		return fmt.Errorf("bandwidth %d: want one of %v", s.K, semantic.Bandwidths)
	case s.Copies < 1 || s.Copies > MaxCopies:
		return fmt.Errorf("%d copies: want 1 to %d", s.Copies, MaxCopies)
	case s.N < 1 || s.N*s.K*s.Copies > semantic.FrameSymbols:
		return fmt.Errorf("%d vectors of %d symbols in %d copies: more than a frame's %d", s.N, s.K, s.Copies, semantic.FrameSymbols)
	case s.Symbols != s.N*s.K*s.Copies:
		return fmt.Errorf("%d symbols, not copies times vectors times bandwidth (%d)", s.Symbols, s.N*s.K*s.Copies)
	case s.Slots != AllSlots && bits.OnesCount16(s.Slots) != s.N:
		return fmt.Errorf("%d vectors for %d cells", s.N, bits.OnesCount16(s.Slots))
	case s.Start < 0 || !finite(s.SNRHint):
		return fmt.Errorf("start %d, SNR hint %v", s.Start, s.SNRHint)
	}
	for i, m := range s.Members {
		if m < 0 || m >= k || slices.Contains(s.Members[:i], m) {
			return fmt.Errorf("members %v of %d users", s.Members, k)
		}
	}
	return nil
}

// parseUser reads the captures of user's recording made by Run (n samples long), of
// a run of run.Rounds rounds: each round's stretch, in round order.
func parseUser(m *sigmf.Meta, run *runRecord, user int, n int64) ([]segment, error) {
	return roundSegments(m, keyCapture, run.Rounds, n, "capture", func(i int, _ sigmf.Annotation, v any) (int, error) {
		var c captureRecord
		if err := extension(v, &c); err != nil {
			return 0, fmt.Errorf("annotations[%d] %s: %v", i, keyCapture, err)
		}
		if c.User != user {
			return 0, fmt.Errorf("annotations[%d]: a capture of user %d in user %d's recording", i, c.User, user)
		}
		return c.Round, nil
	})
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
