package sharing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio/devices"
	"github.com/m4sc/m4sc/radio/sigmf"
)

// recordRun runs a small recorded run into dir and returns its lines and summary as
// JSON, one value a line.
func recordRun(t *testing.T, dir string, seed uint64) []byte {
	t.Helper()
	ch := shippedChain(t)
	mgr := devices.New(devices.Options{Seed: 1})
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	s, err := Run(context.Background(), ch, RunOptions{Scenario: ScenarioMulticast, Users: 3, SNRLo: 8, SNRHi: 14, Channel: "epa", Rounds: 2,
		Seed: seed, Open: mgr.Open, Record: dir, Version: "test"}, func(l Line) error { return enc.Encode(l) })
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// replayRun replays dir and returns its lines and summary as recordRun does.
func replayRun(t *testing.T, o ReplayOptions) ([]byte, []Capture, error) {
	t.Helper()
	ch := shippedChain(t)
	if o.Open == nil {
		o.Open = devices.New(devices.Options{}).Open
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	s, caps, err := Replay(context.Background(), ch, o, func(l Line) error { return enc.Encode(l) })
	if err != nil {
		return nil, nil, err
	}
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), caps, nil
}

// A recorded run holds the air and one recording per user, each saying its run and
// user; replaying the recordings gives the run's lines and summary byte for byte.
func TestRecordReplay(t *testing.T) {
	dir := t.TempDir()
	want := recordRun(t, dir, 11)
	for _, name := range []string{RecordingAir, RecordingUser(0), RecordingUser(1), RecordingUser(2)} {
		rd, err := sigmf.Open(filepath.Join(dir, name+sigmf.ExtMeta), sigmf.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		run, ok, err := parseRun(rd.Meta())
		rd.Close()
		if !ok || err != nil || run.Seed != 11 || run.Users != 3 || run.Rounds != 2 || run.Scenario != ScenarioMulticast || run.Channel != "epa" ||
			run.Version != "test" || (name == RecordingAir) != (run.User == nil) || rd.Meta().Global.Recorder != "m4sc share test" {
			t.Errorf("%s: run %+v, %v, %v", name, run, ok, err)
		}
		if name == RecordingUser(2) && *run.User != 2 {
			t.Errorf("%s says user %d", name, *run.User)
		}
	}
	got, caps, err := replayRun(t, ReplayOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("replay differs from the run:\n got %s\nwant %s", got, want)
	}
	for _, c := range caps {
		if c.Foreign {
			t.Errorf("user %d's own recording read as foreign", c.User)
		}
	}
}

// A foreign capture, the air delayed by 777 samples, with white noise at 25 dB added
// and quantised to int8 as hackrf_transfer writes it (raw .cs8), is aligned to the
// air and decoded: every frame found, the offset right, the user's output that of
// its own recording (at 25 dB against the run's 8 to 14 dB).
func TestReplayForeignCapture(t *testing.T) {
	dir := t.TempDir()
	want := recordRun(t, dir, 12)
	rd, err := sigmf.Open(filepath.Join(dir, RecordingAir+sigmf.ExtMeta), sigmf.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	air := make([]complex64, rd.Len())
	if n, err := rd.Read(air); err != nil || n != len(air) {
		t.Fatal(n, err)
	}
	rd.Close()
	const delay = 777
	var peak, power float64
	for _, v := range air {
		p := float64(real(v)*real(v) + imag(v)*imag(v))
		peak = max(peak, p)
	}
	on := 0
	for _, v := range air {
		if p := float64(real(v)*real(v) + imag(v)*imag(v)); p > peak/100 {
			power += p
			on++
		}
	}
	power /= float64(on)
	g := float32(0.5 / math.Sqrt(peak)) // peaks at half of int8's full scale
	rng := rand.New(rand.NewPCG(3, 4))
	// Noise power 25 dB under the burst's mean power, half of it per component.
	sigma := g * float32(math.Sqrt(power/math.Pow(10, 2.5)/2))
	y := make([]complex64, delay+len(air)+delay)
	for i := range y {
		var x complex64
		if j := i - delay; j >= 0 && j < len(air) {
			x = air[j] * complex(g, 0)
		}
		y[i] = x + complex(sigma*float32(rng.NormFloat64()), sigma*float32(rng.NormFloat64()))
	}
	capPath := filepath.Join(t.TempDir(), "capture.cs8")
	w, err := sigmf.Create(capPath, sigmf.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(y); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rx := []string{"file:" + filepath.Join(dir, RecordingUser(0)+sigmf.ExtMeta), "file:" + capPath + ",rate=20M", "file:" + filepath.Join(dir, RecordingUser(2)+sigmf.ExtMeta)}
	got, caps, err := replayRun(t, ReplayOptions{Dir: dir, RX: rx})
	if err != nil {
		t.Fatal(err)
	}
	c := caps[1]
	if !c.Foreign || c.Offset < delay-8 || c.Offset > delay+8 || c.Frames < 2 {
		t.Errorf("capture of the air: %+v, want foreign, offset %d", c, delay)
	}
	var lines, orig []Line
	for _, b := range [][]byte{got, want} {
		var ls []Line
		for _, s := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var l Line
			if err := json.Unmarshal([]byte(s), &l); err != nil {
				t.Fatal(err)
			}
			if l.Task != "" {
				ls = append(ls, l)
			}
		}
		if lines == nil {
			lines = ls
		} else {
			orig = ls
		}
	}
	if len(lines) != 6 || len(orig) != 6 {
		t.Fatalf("%d and %d lines", len(lines), len(orig))
	}
	for i, l := range lines {
		o := orig[i]
		if l.User != 1 {
			if l != o {
				t.Errorf("user %d, whose recording is its own: %+v, the run had %+v", l.User, l, o)
			}
			continue
		}
		if l.Lost != 0 || l.Output != o.Output || l.Unicast != o.Unicast || l.SNR != o.SNR {
			t.Errorf("round %d, user 1 from the capture: %+v; its own recording gave %+v", l.Round, l, o)
		}
	}
}

// Recordings that are missing, of another run or user, cut short, too few or too
// many, or hold nothing of the run are refused with an error naming what is wrong.
func TestReplayErrors(t *testing.T) {
	dir := t.TempDir()
	recordRun(t, dir, 13)
	other := t.TempDir()
	recordRun(t, other, 14)
	user := func(d string, u int) string { return "file:" + filepath.Join(d, RecordingUser(u)+sigmf.ExtMeta) }
	// A cut copy of user 1's recording, and a recording of noise alone.
	cut := t.TempDir()
	for _, ext := range []string{sigmf.ExtMeta, sigmf.ExtData} {
		b, err := os.ReadFile(filepath.Join(dir, RecordingUser(1)+ext))
		if err != nil {
			t.Fatal(err)
		}
		if ext == sigmf.ExtData {
			b = b[:len(b)-8*1000]
		}
		if err := os.WriteFile(filepath.Join(cut, RecordingUser(1)+ext), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	noise := filepath.Join(t.TempDir(), "noise.cs8")
	if err := os.WriteFile(noise, bytes.Repeat([]byte{3, 253, 1, 0}, 20000), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		o    ReplayOptions
		want string
	}{
		{"no air", ReplayOptions{Dir: t.TempDir()}, "air.sigmf-meta: no such file"},
		{"too few", ReplayOptions{Dir: dir, RX: []string{user(dir, 0), user(dir, 1)}}, "2 recordings for the 3 users"},
		{"too many", ReplayOptions{Dir: dir, RX: []string{user(dir, 0), user(dir, 1), user(dir, 2), user(dir, 2)}}, "4 recordings for the 3 users"},
		{"missing", ReplayOptions{Dir: dir, RX: []string{user(dir, 0), user(t.TempDir(), 1), user(dir, 2)}}, "user 1's recording \"file:"},
		{"another seed", ReplayOptions{Dir: dir, RX: []string{user(dir, 0), user(other, 1), user(dir, 2)}}, "of another run than the air's: seed 14, not 13"},
		{"another user", ReplayOptions{Dir: dir, RX: []string{user(dir, 0), user(dir, 2), user(dir, 2)}}, "the recording of user 2, given for user 1"},
		{"the air for another run", ReplayOptions{Dir: dir, RX: []string{user(dir, 0), "file:" + filepath.Join(other, RecordingAir+sigmf.ExtMeta), user(dir, 2)}}, "seed 14, not 13"},
		{"cut short", ReplayOptions{Dir: dir, RX: []string{user(dir, 0), user(cut, 1), user(dir, 2)}}, "cut short: devices: "},
		{"nothing of the run", ReplayOptions{Dir: dir, RX: []string{user(dir, 0), "file:" + noise + ",rate=20M", user(dir, 2)}}, "no frame of the run"},
		{"not a file", ReplayOptions{Dir: dir, RX: []string{user(dir, 0), "loopback", user(dir, 2)}}, "not a recording"},
		{"wrong rate", ReplayOptions{Dir: dir, RX: []string{user(dir, 0), "file:" + noise + ",rate=10M", user(dir, 2)}}, "made at 1e+07 samples/s"},
	} {
		_, _, err := replayRun(t, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrRecording) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if _, _, err := replayRun(t, ReplayOptions{Dir: dir, RX: []string{user(dir, 0), user(t.TempDir(), 1), user(dir, 2)}}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing recording: %v", err)
	}
}

// fuzzMeta is the metadata of a small air recording, for the fuzz seeds.
func fuzzMeta(t testing.TB, k int) []byte {
	u := 0
	run := runRecord{Role: roleAir, Scenario: ScenarioMulticast, Users: k, Rounds: 1, Seed: 1, Channel: "awgn"}
	rr := roundRecord{Round: 0, AirtimeUS: 76, Symbols: 256, Plan: planTally{PublicVectors: 16 * k, Vectors: 16 * k, PublicParts: 1, Copies: 1},
		Schedule: []Scheduled{{Address: GroupBase, Layer: LayerPublic, Members: []int{0}, Slots: AllSlots, N: 16, K: 16, Copies: 1, Symbols: 256}}}
	for range k {
		rr.Users = append(rr.Users, userRecord{SNR: 10, Task: "image.vqa", Want: "red", Unicast: 1, WiFi: 1, WiFiRate: 54, WiFiDelivered: true})
	}
	for i := 1; i < k; i++ {
		rr.Schedule[0].Members = append(rr.Schedule[0].Members, i)
	}
	m := sigmf.Meta{Global: sigmf.Global{Datatype: sigmf.CF32LE, SampleRate: phy.SampleRate, Extra: map[string]any{keyRun: run}},
		Annotations: []sigmf.Annotation{{SampleStart: 0, SampleCount: 1600, Extra: map[string]any{keyRound: rr}}}}
	if k == 2 {
		ru := run
		ru.Role, ru.User = roleUser, &u
		m.Global.Extra[keyRun] = ru
		m.Annotations = append(m.Annotations, sigmf.Annotation{SampleStart: 0, SampleCount: 5600, Extra: map[string]any{keyCapture: captureRecord{User: 0}}})
	}
	var b bytes.Buffer
	if err := m.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The m4sc keys of a recording's metadata are outside input: any metadata is read
// without a panic, and what is accepted is what Replay relies on (every round once,
// within the recording; schedules that Receive can take; frames put to rounds).
func FuzzParseRecording(f *testing.F) {
	f.Add(fuzzMeta(f, 1), int64(5600), int64(100))
	f.Add(fuzzMeta(f, 2), int64(5600), int64(-40))
	f.Add(fuzzMeta(f, 3), int64(1000), int64(0))
	f.Add([]byte(`{"global":{"core:datatype":"cf32_le","core:version":"1.2.0","m4sc:share":{"role":"air","users":1,"rounds":1,"scenario":"text"}},"annotations":[{"core:sample_start":0,"core:sample_count":1,"m4sc:share_round":{"round":0,"schedule":[{"members":[0],"k":8,"n":1,"copies":1,"symbols":8,"slots":65535}],"users":[{"task":"text.transmit"}],"airtime_us":1}}]}`), int64(10), int64(3))
	f.Fuzz(func(t *testing.T, data []byte, n, shift int64) {
		m, err := sigmf.ParseMeta(data)
		if err != nil || n < 0 {
			return
		}
		run, rounds, segs, err := parseAir(m, n)
		if err == nil {
			if len(rounds) != run.Rounds || len(segs) != run.Rounds {
				t.Fatalf("%d rounds, %d segments for a run of %d", len(rounds), len(segs), run.Rounds)
			}
			var frames []phy.Frame
			for r, rr := range rounds {
				if rr.Round != r || segs[r].start < 0 || segs[r].start+segs[r].count > n {
					t.Fatalf("round %d: %+v at %+v of %d", r, rr, segs[r], n)
				}
				for _, s := range rr.Schedule {
					if s.check(run.Users) != nil {
						t.Fatalf("accepted %+v", s)
					}
					kind := phy.KindSemantic
					if s.Layer == LayerPublic {
						kind = phy.KindPublic
					}
					frames = append(frames, phy.Frame{Start: segs[r].start + int64(s.Start) + shift, Kind: kind,
						Header: phy.SemanticHeader{Address: s.Address, Sequence: s.Slots}, Symbols: make([]complex64, s.Symbols)})
				}
			}
			per, _, heard := align(frames, rounds, segs)
			if len(per) != len(rounds) || heard > len(frames) {
				t.Fatalf("align: %d rounds, %d of %d frames", len(per), heard, len(frames))
			}
		}
		if r, ok, err := parseRun(m); ok && err == nil && r.Role == roleUser {
			segs, err := parseUser(m, &r, *r.User, n)
			if err == nil {
				for _, s := range segs {
					if s.start < 0 || s.count < 1 || s.start+s.count > n {
						t.Fatalf("capture %+v of %d samples", s, n)
					}
				}
			}
		}
	})
}
