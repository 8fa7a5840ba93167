package sharing

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/llm/weights"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio/devices"
	"github.com/m4sc/m4sc/semantic"
	semweights "github.com/m4sc/m4sc/semantic/weights"
)

func shippedChain(t testing.TB) *semantic.Chain {
	t.Helper()
	m, err := weights.Model()
	if err != nil {
		t.Skipf("no shipped model: %v", err)
	}
	c, err := semweights.Codec()
	if err != nil {
		t.Skipf("no shipped codec: %v", err)
	}
	ch, err := semantic.NewChain(m, c)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// sceneUsers encodes related scenes for k users, every task of the multicast mix.
func sceneUsers(t testing.TB, ch *semantic.Chain, seed uint64, k int, overlap float64) ([]User, []dataset.Scene) {
	t.Helper()
	scenes, err := dataset.RelatedScenes(seed, k, overlap)
	if err != nil {
		t.Fatal(err)
	}
	tasks := []llm.Task{llm.ImageVQA, llm.ImageCaption, llm.ImageReconstruct}
	users := make([]User, k)
	for u := range users {
		task := tasks[u%len(tasks)]
		sem, err := ch.Model.Encode(llm.Input{Task: task, Image: llm.SceneImage(&scenes[u])})
		if err != nil {
			t.Fatal(err)
		}
		users[u] = User{Task: task, SNR: float64(5 + u), Sem: sem}
		if task == llm.ImageVQA {
			users[u].Question = scenes[u].QA[0].Question
		}
	}
	return users, scenes
}

func publicParts(p *Plan) int {
	n := 0
	for _, pt := range p.Parts {
		if pt.Layer == LayerPublic {
			n++
		}
	}
	return n
}

// At 0% overlap the split finds nothing to share: sharing costs nothing over unicast.
func TestSplitNothingAtZeroOverlap(t *testing.T) {
	ch := shippedChain(t)
	for seed := range uint64(10) {
		users, _ := sceneUsers(t, ch, dataset.SceneTest.Seed(seed), 8, 0)
		p, err := Split(users, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if n := publicParts(p); n != 0 {
			t.Errorf("seed %d: %d public parts at 0%% overlap", seed, n)
		}
		if len(p.Parts) != len(users) {
			t.Errorf("seed %d: %d parts for %d users", seed, len(p.Parts), len(users))
		}
	}
}

// Identical contents share everything: one public part of every slot for all users,
// and no private part (every task here needs the same bandwidth).
func TestSplitIdenticalSharesAll(t *testing.T) {
	ch := shippedChain(t)
	users, _ := sceneUsers(t, ch, 3, 6, 1)
	text, err := ch.Model.Encode(llm.Input{Task: llm.TextTransmit, Text: "the state of our union is strong"})
	if err != nil {
		t.Fatal(err)
	}
	texts := []User{{Task: llm.TextTransmit, SNR: 3, Sem: text}, {Task: llm.TextTransmit, SNR: 9, Sem: text}, {Task: llm.TextTransmit, SNR: 1, Sem: text}}
	for _, us := range [][]User{users, texts} {
		p, err := Split(us, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Parts) != 1 || p.Parts[0].Layer != LayerPublic || len(p.Parts[0].Members) != len(us) || p.Parts[0].Slots != AllSlots {
			t.Fatalf("%s: parts %s", us[0].Task, describeParts(p))
		}
		weakest := slices.MinFunc(us, func(a, b User) int { return int(a.SNR - b.SNR) }).SNR
		if p.Parts[0].SNRHint != weakest {
			t.Errorf("public part coded for %v dB, weakest member %v", p.Parts[0].SNRHint, weakest)
		}
	}
}

// A member whose task needs a higher bandwidth than its group gets an enhancement
// layer of the same slots.
func TestSplitEnhancement(t *testing.T) {
	ch := shippedChain(t)
	users, _ := sceneUsers(t, ch, 3, 3, 1) // vqa, caption, reconstruct
	need := func(t llm.Task) int {
		if t == llm.ImageReconstruct {
			return 16
		}
		return 4
	}
	p, err := Split(users, Options{Bandwidth: need})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Parts) != 2 || p.Parts[0].K != 4 || p.Parts[1].Layer != LayerEnhancement || p.Parts[1].K != 16 || p.Parts[1].Members[0] != 2 {
		t.Fatalf("parts %s", describeParts(p))
	}
}

func describeParts(p *Plan) string {
	var s []string
	for _, pt := range p.Parts {
		s = append(s, fmt.Sprintf("%s %v slots %#x n=%d k=%d", pt.Layer, pt.Members, pt.Slots, pt.N, pt.K))
	}
	return strings.Join(s, "; ")
}

// splitAndSend splits users' semantics and transmits the plan.
func splitAndSend(t testing.TB, ch *semantic.Chain, users []User) (*Plan, *Burst) {
	t.Helper()
	p, err := Split(users, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Transmit(ch.Codec, p)
	if err != nil {
		t.Fatal(err)
	}
	return p, b
}

// cleanFrames returns the frames phy's receiver finds in a burst's samples.
func cleanFrames(t testing.TB, x []complex64) []phy.Frame {
	t.Helper()
	r, err := phy.NewReceiver(phy.ReceiverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return r.Flush(r.Receive(nil, append(append(make([]complex64, 300), x...), make([]complex64, 300)...)))
}

// A receiver keeps only frames to its own address and its groups': never another
// user's private frame, even one carrying the same cells.
func TestReceiverIgnoresOthersPrivate(t *testing.T) {
	ch := shippedChain(t)
	users, _ := sceneUsers(t, ch, dataset.SceneTest.Seed(5), 6, 0.5)
	_, b := splitAndSend(t, ch, users)
	frames := cleanFrames(t, b.Samples)
	if len(frames) != len(b.Schedule) {
		t.Fatalf("%d frames found, %d sent", len(frames), len(b.Schedule))
	}
	for u := range users {
		ins := llm.Instruction{Task: users[u].Task, Question: users[u].Question}
		r, err := Receive(ch, frames, b.Schedule, u, ins)
		if err != nil {
			t.Fatal(err)
		}
		var own []uint16
		for _, s := range b.Frames(u) {
			own = append(own, s.Address)
		}
		for _, a := range r.Used {
			if !slices.Contains(own, a) || a < GroupBase && a != UserAddress(u) {
				t.Errorf("user %d used a frame to %#x (its own: %#x)", u, a, own)
			}
		}
		if r.Lost != 0 || r.Partial != "" {
			t.Errorf("user %d: %d lost, %q on a clean channel", u, r.Lost, r.Partial)
		}
		// Every other user's private frame rewritten to carry this user's slots
		// changes nothing.
		forged := slices.Clone(frames)
		for i := range forged {
			if a := forged[i].Header.Address; a < GroupBase && a != UserAddress(u) {
				forged[i].Header.Sequence = AllSlots
			}
		}
		r2, err := Receive(ch, forged, b.Schedule, u, ins)
		if err != nil {
			t.Fatal(err)
		}
		if r2.Text != r.Text || !slices.Equal(r2.Image, r.Image) || !slices.Equal(r2.Used, r.Used) {
			t.Errorf("user %d: another user's frames changed its output", u)
		}
	}
}

// A lost public frame: the receiver decodes what it has, the lost cells from no
// symbols, and says so.
func TestLostPublicFrame(t *testing.T) {
	ch := shippedChain(t)
	users, _ := sceneUsers(t, ch, dataset.SceneTest.Seed(2), 6, 0.75)
	p, b := splitAndSend(t, ch, users)
	if b.Schedule[0].Layer != LayerPublic {
		t.Fatalf("first frame is %s: %s", b.Schedule[0].Layer, describeParts(p))
	}
	frames := cleanFrames(t, b.Samples)[1:] // the first public frame lost
	for _, u := range b.Schedule[0].Members {
		r, err := Receive(ch, frames, b.Schedule, u, llm.Instruction{Task: users[u].Task, Question: users[u].Question})
		if err != nil {
			t.Fatal(err)
		}
		if r.Lost != 1 || !strings.Contains(r.Partial, "public") {
			t.Errorf("user %d: lost %d, partial %q", u, r.Lost, r.Partial)
		}
		if r.Text == "" && r.Image == nil {
			t.Errorf("user %d decoded nothing", u)
		}
	}
}

func TestBadInput(t *testing.T) {
	ch := shippedChain(t)
	users, _ := sceneUsers(t, ch, 1, 2, 1)
	text, _ := ch.Model.Encode(llm.Input{Task: llm.TextTransmit, Text: "hello"})
	for _, tc := range []struct {
		users []User
		want  string
	}{
		{nil, "0 users"},
		{make([]User, MaxUsers+1), "65 users"},
		{append(slices.Clone(users), User{Task: llm.TextTransmit, Sem: text}), "modalities"},
	} {
		if _, err := Split(tc.users, Options{}); err == nil || !errors.Is(err, ErrUsers) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Split: %v, want %q", err, tc.want)
		}
	}
	mgr := devices.New(devices.Options{Seed: 1})
	for _, tc := range []struct {
		o    RunOptions
		want string
	}{
		{RunOptions{Scenario: ScenarioMulticast, Users: 0, Rounds: 1}, "0 users"},
		{RunOptions{Scenario: ScenarioMulticast, Users: MaxUsers + 1, Rounds: 1}, "65 users"},
		{RunOptions{Scenario: ScenarioOverlap, Users: 4, Rounds: 1, Overlap: 1.5}, "overlap 1.5"},
		{RunOptions{Scenario: ScenarioOverlap, Users: 4, Rounds: 1, SNRLo: 10, SNRHi: 0}, "SNR range"},
		{RunOptions{Scenario: "unicast", Users: 4, Rounds: 1}, "scenario"},
	} {
		tc.o.Open = mgr.Open
		if _, err := Run(context.Background(), ch, tc.o, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%+v): %v, want %q", tc.o, err, tc.want)
		}
	}
	if _, err := OverAir(context.Background(), nil, nil, nil); err == nil {
		t.Error("OverAir with no devices")
	}
}

// countWatch counts what a Watcher is shown.
type countWatch struct {
	mu                      sync.Mutex
	rounds, samples, frames int
	decoded                 map[string]int // by user and scheme
}

func (w *countWatch) Round(r, total int) { w.mu.Lock(); w.rounds++; w.mu.Unlock() }
func (w *countWatch) Samples(y []complex64) {
	w.mu.Lock()
	w.samples += len(y)
	w.mu.Unlock()
}
func (w *countWatch) Frames(f []phy.Frame) { w.mu.Lock(); w.frames += len(f); w.mu.Unlock() }
func (w *countWatch) Decoded(d Decoded) {
	w.mu.Lock()
	w.decoded[fmt.Sprintf("%d %s", d.User, d.Scheme)]++
	w.mu.Unlock()
}

// A round over loopback receivers: K receivers on one air, each through its own
// channel, decode their tasks from samples; a Watcher sees the samples, the frames
// and every user's message under each scheme.
func TestRunOverLoopback(t *testing.T) {
	ch := shippedChain(t)
	mgr := devices.New(devices.Options{Seed: 1})
	var lines []Line
	w := &countWatch{decoded: map[string]int{}}
	s, err := Run(context.Background(), ch, RunOptions{Scenario: ScenarioMulticast, Users: 8, SNRLo: 10, SNRHi: 15, Channel: "epa", Rounds: 1, Open: mgr.Open, Watch: w},
		func(l Line) error { lines = append(lines, l); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 8 || s.Frames != 1 || s.AirtimeRatio > 0.2 {
		t.Fatalf("%d lines, %v frames, airtime ratio %v", len(lines), s.Frames, s.AirtimeRatio)
	}
	for _, l := range lines {
		if l.Lost != 0 {
			t.Errorf("user %d lost %d frames at %v dB", l.User, l.Lost, l.SNR)
		}
		// 802.11a at 10 to 15 dB over EPA: some rate (6 Mbit/s needs about 5 dB)
		// delivers, and nothing is partial.
		if _, err := phy.RateByMbps(l.WiFiRate); err != nil || l.WiFiPartial != "" {
			t.Errorf("user %d: 802.11a at %d Mbit/s: %q", l.User, l.WiFiRate, l.WiFiPartial)
		}
	}
	if s.AirtimeUSWiFi <= 0 || s.SymbolsWiFi <= 0 || s.FramesWiFi < 8 {
		t.Errorf("802.11a: %v us, %v symbols, %v frames", s.AirtimeUSWiFi, s.SymbolsWiFi, s.FramesWiFi)
	}
	for _, u := range s.PerUser {
		if u.WiFiUndelivered != 0 {
			t.Errorf("user %d: 802.11a undelivered in %d rounds", u.User, u.WiFiUndelivered)
		}
	}
	if w.rounds != 1 || w.samples == 0 || w.frames < 8+8+8 || len(w.decoded) != 8*3 {
		t.Errorf("watcher saw %d rounds, %d samples, %d frames, messages %v", w.rounds, w.samples, w.frames, w.decoded)
	}
	for u := range 8 {
		for _, sc := range []string{SchemeShared, SchemeUnicast, SchemeWiFi} {
			if n := w.decoded[fmt.Sprintf("%d %s", u, sc)]; n != 1 {
				t.Errorf("user %d, %s: %d messages shown", u, sc, n)
			}
		}
	}
	t.Logf("airtime per round: shared %.1f us, unicast semantic %.1f us, unicast 802.11a %.1f us", s.AirtimeUS, s.AirtimeUSUnicast, s.AirtimeUSWiFi)
}

// BenchmarkRound32 times one K = 32 round of the overlap scenario: encode, split,
// frame, 32 loopback channels (EPA), 32 receivers from samples, decode every task.
func BenchmarkRound32(b *testing.B) {
	ch := shippedChain(b)
	mgr := devices.New(devices.Options{Seed: 1})
	scenes, err := dataset.RelatedScenes(9, 32, 0.9)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		ins := make([]llm.Input, len(scenes))
		for u := range scenes {
			ins[u] = llm.Input{Task: []llm.Task{llm.ImageVQA, llm.ImageCaption, llm.ImageReconstruct}[u%3], Image: llm.SceneImage(&scenes[u])}
		}
		sems, err := ch.Model.EncodeBatch(ins)
		if err != nil {
			b.Fatal(err)
		}
		users := make([]User, len(sems))
		specs := make([]string, len(sems))
		for u := range users {
			users[u] = User{Task: ins[u].Task, SNR: 10, Sem: sems[u], Question: scenes[u].QA[0].Question}
			specs[u] = userSpec("epa", "bench", 10, 1)
		}
		p, err := Split(users, Options{})
		if err != nil {
			b.Fatal(err)
		}
		bu, err := Transmit(ch.Codec, p)
		if err != nil {
			b.Fatal(err)
		}
		frames, _, err := overSpecs(context.Background(), mgr.Open, nil, "loopback,air=bench", specs, bu.Samples)
		if err != nil {
			b.Fatal(err)
		}
		for u := range users {
			if _, err := Receive(ch, frames[u], bu.Schedule, u, llm.Instruction{Task: users[u].Task, Question: users[u].Question}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func TestSplitDevices(t *testing.T) {
	for _, tc := range []struct {
		list string
		want []string
		err  string
	}{
		{"loopback", []string{"loopback"}, ""},
		{"loopback,snr=3,loopback:hackrf,snr=12, channel=epa,hackrf:457863c8,file:rx.sigmf-meta", []string{"loopback,snr=3", "loopback:hackrf,snr=12,channel=epa", "hackrf:457863c8", "file:rx.sigmf-meta"}, ""},
		{"loopback,,loopback", nil, "empty item"},
		{"", nil, "empty item"},
		{"snr=3,loopback", nil, `device 1 of the list: radio: device "snr=3"`},
		{"loopback,Loop Back", nil, `device 2 of the list: radio: device "Loop Back"`},
		{"loopback,snr=3,snr=4", nil, "snr given twice"},
	} {
		got, err := SplitDevices(tc.list)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("SplitDevices(%q) = %q, %v; want an error with %q", tc.list, got, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("SplitDevices(%q) = %q, %v; want %q", tc.list, got, err, tc.want)
		}
	}
}

// Explicit devices: a mismatched list is named before anything is sent, and a run
// with loopback device strings goes from the transmitter to each receiver, each user
// reporting the SNR its receiver measured in the round before.
func TestRunExplicitDevices(t *testing.T) {
	ch := shippedChain(t)
	mgr := devices.New(devices.Options{Seed: 1})
	base := RunOptions{Scenario: ScenarioMulticast, Users: 2, SNRLo: 10, SNRHi: 10, Rounds: 2, Open: mgr.Open}
	for _, tc := range []struct {
		tx   string
		rx   []string
		want string
	}{
		{"", []string{"loopback"}, "1 receiving devices but no transmitter"},
		{"loopback", []string{"loopback,snr=5"}, "1 receiving devices for 2 users"},
		{"loopback", []string{"loopback,snr=5", "loopback,snr=6", "loopback"}, "3 receiving devices for 2 users"},
		{"loopback", []string{"loopback,snr=5,channel=epa", "loopback,channel=epa, snr=5"}, "receiver 2, \"loopback,channel=epa, snr=5\", is receiver 1 again"},
		{"loopback", []string{"loopback,snr=5", "loopback,SNR=5"}, "receiver 2: radio: device \"loopback,SNR=5\""},
		{"Loopback", []string{"loopback,snr=5", "loopback,snr=6"}, "transmitter: radio: device \"Loopback\""},
		{"loopback", []string{"loopback,snr=5", "nosuchradio"}, "receiver nosuchradio"},
	} {
		o := base
		o.TX, o.RX = tc.tx, tc.rx
		_, err := Run(context.Background(), ch, o, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, ErrDevices) == slices.Contains(tc.rx, "nosuchradio") {
			t.Errorf("Run(tx %q, rx %q): %v, want %q", tc.tx, tc.rx, err, tc.want)
		}
	}
	o := base
	snrs := []float64{8, 20}
	o.TX = "loopback,air=explicit"
	o.RX = []string{"loopback,air=explicit,snr=8,ppm=-5", "loopback,air=explicit,snr=20,ppm=5,pn=100"}
	var lines []Line
	s, err := Run(context.Background(), ch, o, func(l Line) error { lines = append(lines, l); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if s.Channel != "devices" || len(s.Devices) != 3 || len(lines) != 4 {
		t.Fatalf("channel %q, devices %q, %d lines", s.Channel, s.Devices, len(lines))
	}
	for _, l := range lines {
		if l.Lost != 0 {
			t.Errorf("round %d user %d lost %d frames", l.Round, l.User, l.Lost)
		}
		// Round 0 reports the drawn 10 dB; round 1 what the receiver measured: the
		// device's SNR within the estimate's error (2 dB is several of its standard
		// deviations from two long training symbols).
		want := 10.0
		if l.Round == 1 {
			want = snrs[l.User]
		}
		if math.Abs(l.SNR-want) > 2 {
			t.Errorf("round %d user %d reported %.2f dB, want %v +-2", l.Round, l.User, l.SNR, want)
		}
	}
}
