package sharing

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/semantic"
	"github.com/m4sc/m4sc/semantic/metrics"
)

// Scenario names what the users of a round have.
type Scenario string

const (
	// ScenarioMulticast: one scene, many tasks. Users 0-3 of every eight ask different
	// image.vqa questions, users 4-6 caption, user 7 reconstructs.
	ScenarioMulticast Scenario = "multicast"
	// ScenarioOverlap: K related scenes (dataset.RelatedScenes at RunOptions.Overlap),
	// the tasks as for multicast.
	ScenarioOverlap Scenario = "overlap"
	// ScenarioText: K consecutive sentences of one State of the Union address (test
	// split, one address a round), every user text.transmit.
	ScenarioText Scenario = "text"
)

// ParseScenario reads a scenario name.
func ParseScenario(s string) (Scenario, error) {
	switch Scenario(s) {
	case ScenarioMulticast, ScenarioOverlap, ScenarioText:
		return Scenario(s), nil
	}
	return "", fmt.Errorf("sharing: scenario %q: want multicast, overlap or text", s)
}

// RunOptions configure Run.
type RunOptions struct {
	Scenario Scenario
	Users    int
	Overlap  float64 // ScenarioOverlap's fraction of objects in common, 0 to 1
	// SNRLo and SNRHi bound each user's SNR, dB, drawn uniformly per user and round.
	SNRLo, SNRHi float64
	// Channel is what stands between the transmitter and each user besides the noise:
	// "awgn", a loopback tap profile ("epa", ...), or a loopback device string
	// ("loopback:hackrf,channel=epa") to which each user's air, SNR and oscillator
	// error are added. Every receiver's crystal is off by a draw from +-DefaultPPM ppm
	// unless the string sets ppm.
	Channel string
	Rounds  int // rounds (scenes or addresses), each with fresh SNRs
	Seed    uint64
	Split   Options
	// Sentences are the text scenario's sentences (the test split); each round takes
	// Users consecutive sentences of one address.
	Sentences []dataset.Sentence
	// Open opens a device by its string; every round opens its transmitter and
	// receivers on an air of its own (the air key), and the unicast baselines each
	// user's pair on another.
	Open func(ctx context.Context, spec string) (radio.Device, error)
	// TX and RX name the devices explicitly (loopback strings, HackRFs; a recording
	// as a receiver would be heard again by every transmission: Replay plays them),
	// one receiver per user, in place of the loopback devices Run builds from Channel,
	// the drawn SNRs and oscillator errors: every transmission, shared or unicast,
	// goes from TX to the receivers it is for, each device opened by Open for it and
	// closed after. The SNR a user reports to the transmitter is then what its
	// receiver measured over its frames of the previous round (the first round, and a
	// round after one in which it received nothing: drawn from SNRLo:SNRHi).
	TX string
	RX []string
	// Watch, when not nil, sees the rounds as they go: every receiver's samples and
	// frames, and every user's message under each scheme (see Watcher).
	Watch Watcher
	// Record, when not empty, is a directory into which Run writes the shared bursts
	// as SigMF recordings, what the transmitter sent and what each user's receiver
	// captured, with what Replay needs to run the receivers again (see the package
	// documentation for the layout). The recordings appear when Run returns without
	// error; a run that fails leaves none.
	Record string
	// Version names the software, for the recordings' core:recorder.
	Version string
}

// DefaultPPM bounds the receivers' oscillator errors drawn by Run, ppm: 10 ppm at
// 2.45 GHz is 24.5 kHz of carrier offset, which phy's receiver finds and corrects.
const DefaultPPM = 10.0

// Line is one user's message of a round, shared and unicast.
type Line struct {
	Round   int     `json:"round"`
	User    int     `json:"user"`
	Task    string  `json:"task"`
	SNR     float64 `json:"snr_db"` // drawn for the user
	Frames  int     `json:"frames"`
	Lost    int     `json:"frames_lost"`
	Metric  string  `json:"metric"`
	Value   float64 `json:"value"`
	Unicast float64 `json:"unicast"`
	// The user's unicast 802.11a transmission at the best rate in hindsight (see Run).
	WiFi        float64 `json:"unicast_80211a"`
	WiFiRate    int     `json:"rate_mbps_80211a"`
	WiFiPartial string  `json:"partial_80211a,omitempty"`
	Partial     string  `json:"partial,omitempty"`
	Output      string  `json:"output,omitempty"`
	Want        string  `json:"want,omitempty"`
}

// UserSummary is one user's metric over the rounds, with 95% intervals.
type UserSummary struct {
	User      int     `json:"user"`
	Task      string  `json:"task"`
	Metric    string  `json:"metric"`
	Shared    float64 `json:"shared"`
	SharedLo  float64 `json:"shared_lo95"`
	SharedHi  float64 `json:"shared_hi95"`
	Unicast   float64 `json:"unicast"`
	UnicastLo float64 `json:"unicast_lo95"`
	UnicastHi float64 `json:"unicast_hi95"`
	// Unicast 802.11a at the best rate in hindsight: the metric, the mean rate kept,
	// and the rounds in which no rate delivered every frame.
	WiFi            float64 `json:"unicast_80211a"`
	WiFiLo          float64 `json:"unicast_80211a_lo95"`
	WiFiHi          float64 `json:"unicast_80211a_hi95"`
	WiFiRate        float64 `json:"rate_mbps_80211a"`
	WiFiUndelivered int     `json:"undelivered_80211a"`
	Lost            int     `json:"frames_lost"`
}

// Summary is a run's totals: channel use with sharing, with unicast semantic
// transmission to each user (the same chain, each at its own SNR and task-aware
// bandwidth) and with unicast 802.11a to each user at the best rate in hindsight
// (semantic.SchemeWiFi: brotli text or a PNG image), and each user's metric under
// the three.
type Summary struct {
	Scenario         Scenario `json:"scenario"`
	Users            int      `json:"users"`
	Overlap          float64  `json:"overlap"`
	Channel          string   `json:"channel"`
	Rounds           int      `json:"rounds"`
	AirtimeUS        float64  `json:"airtime_us"` // mean per round, preambles and headers included
	AirtimeUSUnicast float64  `json:"airtime_us_unicast"`
	AirtimeUSWiFi    float64  `json:"airtime_us_80211a"`
	Symbols          float64  `json:"symbols"` // complex data symbols, mean per round
	SymbolsUnicast   float64  `json:"symbols_unicast"`
	SymbolsWiFi      float64  `json:"symbols_80211a"` // the DATA fields' OFDM symbols times 48
	AirtimeRatio     float64  `json:"airtime_ratio"`  // shared over unicast semantic
	SymbolRatio      float64  `json:"symbol_ratio"`
	AirtimeRatioWiFi float64  `json:"airtime_ratio_80211a"` // shared over unicast 802.11a
	SymbolRatioWiFi  float64  `json:"symbol_ratio_80211a"`
	Frames           float64  `json:"frames"` // frames per round, shared
	FramesWiFi       float64  `json:"frames_80211a"`
	PublicShare      float64  `json:"public_share"`
	PublicCopies     float64  `json:"public_copies,omitempty"`    // mean copies per public frame (Options.CopyUsers)
	TokenCandidates  float64  `json:"token_candidates,omitempty"` // text: share of tokens with a near match elsewhere
	// Devices are the explicit transmitter and receivers (RunOptions.TX, RX), if any.
	Devices []string      `json:"devices,omitempty"`
	PerUser []UserSummary `json:"per_user"`
}

// content is one user's input in a round and what a receiver should make of it.
type content struct {
	in       llm.Input
	question string
	want     string
}

// contents draws a round's users' inputs.
func contents(o RunOptions, round int) ([]content, error) {
	cs := make([]content, o.Users)
	switch o.Scenario {
	case ScenarioMulticast, ScenarioOverlap:
		var scenes []dataset.Scene
		if o.Scenario == ScenarioMulticast {
			sc := dataset.GenerateScene(dataset.SceneTest.Seed(o.Seed + uint64(round)))
			for range o.Users {
				scenes = append(scenes, sc)
			}
		} else {
			var err error
			if scenes, err = dataset.RelatedScenes(dataset.SceneTest.Seed(o.Seed+uint64(round)), o.Users, o.Overlap); err != nil {
				return nil, err
			}
		}
		for u := range cs {
			sc := &scenes[u]
			c := content{in: llm.Input{Image: llm.SceneImage(sc)}, want: sc.Caption}
			switch u % 8 {
			case 0, 1, 2, 3:
				c.in.Task = llm.ImageVQA
				qa := sc.QA[(round*7+u)%len(sc.QA)]
				c.question, c.want = qa.Question, qa.Answer
			case 4, 5, 6:
				c.in.Task = llm.ImageCaption
			default:
				c.in.Task = llm.ImageReconstruct
			}
			cs[u] = c
		}
	case ScenarioText:
		var years []int
		by := map[int][]dataset.Sentence{}
		for _, s := range o.Sentences {
			if len(by[s.Year]) == 0 {
				years = append(years, s.Year)
			}
			by[s.Year] = append(by[s.Year], s)
		}
		slices.Sort(years)
		var addr []dataset.Sentence
		for i := range years {
			if a := by[years[(round+i)%len(years)]]; len(a) >= o.Users {
				addr = a
				break
			}
		}
		if addr == nil {
			return nil, fmt.Errorf("sharing: no address has %d sentences", o.Users)
		}
		start := (round * 37) % (len(addr) - o.Users + 1)
		for u := range cs {
			s := addr[start+u].Text
			cs[u] = content{in: llm.Input{Task: llm.TextTransmit, Text: s}, want: s}
		}
	default:
		return nil, fmt.Errorf("sharing: scenario %q: want multicast, overlap or text", o.Scenario)
	}
	return cs, nil
}

// score is a task's metric of an output (semantic.Score).
func score(c content, text string, image []float32) (float64, error) {
	return semantic.Score(c.in.Task, c.want, c.in.Image, text, image)
}

// userSpec is the device string of a user's receiver on air.
func userSpec(channel, air string, snr, ppm float64) string {
	base := "loopback"
	switch {
	case strings.HasPrefix(channel, "loopback"):
		base = channel
	case channel != "" && channel != "awgn":
		base = "loopback,channel=" + channel
	}
	s := fmt.Sprintf("%s,air=%s,snr=%.2f", base, air, snr)
	if !strings.Contains(channel, "ppm=") {
		s += fmt.Sprintf(",ppm=%.3f", ppm)
	}
	return s
}

// Run runs o.Rounds rounds: each draws the users' contents and SNRs, encodes, splits,
// transmits the shared burst once to o.Users receivers on one air, and decodes each
// user's task from its receiver's samples; then it sends each user its own unicast
// semantic transmission over a channel like its own and decodes that, and the
// user's content by unicast 802.11a (semantic.SchemeWiFi) at the best rate in
// hindsight for the user's channel: the rates tried from 54 Mbit/s down, each over
// a fresh realisation of a channel like the user's, the first that delivers every
// frame kept (the highest rate that delivers, the shortest airtime of those), the
// 6 Mbit/s attempt when none does. emit receives each user's line of each round.
func Run(ctx context.Context, ch *semantic.Chain, o RunOptions, emit func(Line) error) (*Summary, error) {
	if o.Users < 1 || o.Users > MaxUsers {
		return nil, fmt.Errorf("sharing: %d users: want 1 to %d", o.Users, MaxUsers)
	}
	if o.Rounds < 1 {
		return nil, fmt.Errorf("sharing: %d rounds: want at least 1", o.Rounds)
	}
	if !(o.Overlap >= 0 && o.Overlap <= 1) {
		return nil, fmt.Errorf("sharing: overlap %v: want a fraction from 0 to 1", o.Overlap)
	}
	if !(o.SNRLo <= o.SNRHi) || math.IsInf(o.SNRLo, 0) || math.IsInf(o.SNRHi, 0) {
		return nil, fmt.Errorf("sharing: SNR range %v:%v: want finite LO <= HI", o.SNRLo, o.SNRHi)
	}
	if o.Open == nil {
		return nil, fmt.Errorf("sharing: no way to open devices")
	}
	if _, err := ParseScenario(string(o.Scenario)); err != nil {
		return nil, err
	}
	if err := CheckDevices(o.TX, o.RX, o.Users); err != nil {
		return nil, err
	}
	explicit := o.TX != ""
	need := o.Split.withDefaults().Bandwidth
	o.Sentences = fitSentences(ch, o)
	rng := rand.New(rand.NewPCG(o.Seed, 0x5a4e))
	sum := &Summary{Scenario: o.Scenario, Users: o.Users, Overlap: o.Overlap, Channel: o.Channel, Rounds: o.Rounds}
	if explicit {
		sum.Channel = "devices"
		sum.Devices = append([]string{o.TX}, o.RX...)
	}
	t := newTally(sum)
	var rec *recorder
	if o.Record != "" {
		var err error
		if rec, err = newRecorder(o, sum); err != nil {
			return nil, err
		}
		defer rec.abort()
	}
	// measured is, with explicit devices, the SNR each user's receiver measured over
	// its frames of the previous round (NaN: none yet).
	measured := make([]float64, o.Users)
	for u := range measured {
		measured[u] = math.NaN()
	}
	// link gives the transmitter's and user u's receiver's device strings for a
	// transmission on air.
	link := func(u int, air string, snr, ppm float64) (string, string) {
		if explicit {
			return o.TX, o.RX[u]
		}
		return "loopback,air=" + air, userSpec(o.Channel, air, snr, ppm)
	}
	for round := range o.Rounds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cs, err := contents(o, round)
		if err != nil {
			return nil, err
		}
		if o.Watch != nil {
			o.Watch.Round(round, o.Rounds)
		}
		ins := make([]llm.Input, len(cs))
		for u, c := range cs {
			ins[u] = c.in
		}
		sems, err := ch.Model.EncodeBatch(ins)
		if err != nil {
			return nil, err
		}
		users := make([]User, o.Users)
		ppm := make([]float64, o.Users)
		for u, c := range cs {
			users[u] = User{Task: c.in.Task, Question: c.question, SNR: o.SNRLo + rng.Float64()*(o.SNRHi-o.SNRLo), Sem: sems[u]}
			ppm[u] = (2*rng.Float64() - 1) * DefaultPPM
			if explicit && !math.IsNaN(measured[u]) {
				users[u].SNR = measured[u]
			}
		}
		plan, err := Split(users, o.Split)
		if err != nil {
			return nil, err
		}
		rr := &roundRecord{Round: round, Plan: tallyPlan(plan, users)}
		b, err := Transmit(ch.Codec, plan)
		if err != nil {
			return nil, err
		}
		air := fmt.Sprintf("share-%d-%d", o.Seed, round)
		specs := make([]string, o.Users)
		var txSpec string
		for u := range users {
			txSpec, specs[u] = link(u, air, users[u].SNR, ppm[u])
		}
		frames, ys, err := overSpecs(ctx, o.Open, o.Watch, txSpec, specs, b.Samples)
		if err != nil {
			return nil, err
		}
		rr.AirtimeUS, rr.Symbols, rr.Schedule = b.AirtimeUS, b.DataSymbols, b.Schedule
		t.round(rr)
		for u, c := range cs {
			r, v, err := receiveUser(ch, frames[u], b.Schedule, u, c)
			if err != nil {
				return nil, err
			}
			if explicit {
				measured[u] = math.NaN()
				if r.Lost < r.Frames {
					measured[u] = r.SNR
				}
			}
			// Unicast: the user's own task-aware transmission at its own SNR, over a
			// channel like its own.
			ub, err := ch.Send(c.in, semantic.SendOptions{Bandwidth: need(c.in.Task), SNRHint: users[u].SNR, Address: UserAddress(u)})
			if err != nil {
				return nil, err
			}
			utx, urx := link(u, fmt.Sprintf("unicast-%d-%d-%d", o.Seed, round, u), users[u].SNR, ppm[u])
			uf, _, err := overSpecs(ctx, o.Open, o.Watch, utx, []string{urx}, ub.Samples)
			if err != nil {
				return nil, err
			}
			got, err := ch.Receive(uf[0], semantic.ReceiveOptions{Question: c.question, Address: UserAddress(u)})
			if err != nil {
				return nil, err
			}
			uo := joinReceived(got, ub.Frames)
			uv, err := score(c, uo.text, uo.image)
			if err != nil {
				return nil, err
			}
			w, err := wifiBest(ctx, ch, o.Open, o.Watch, c, u, func(rate int) (string, string) {
				return link(u, fmt.Sprintf("wifi-%d-%d-%d-%d", o.Seed, round, u, rate), users[u].SNR, ppm[u])
			})
			if err != nil {
				return nil, err
			}
			ur := userRecord{SNR: users[u].SNR, Task: c.in.Task.String(), Want: c.want,
				Unicast: uv, UnicastAirtimeUS: ub.AirtimeUS, UnicastSymbols: ub.DataSymbols,
				WiFi: w.value, WiFiRate: w.rateMbps, WiFiPartial: w.partial, WiFiAirtimeUS: w.airtimeUS, WiFiSymbols: w.symbols,
				WiFiFrames: w.sent, WiFiDelivered: w.delivered}
			rr.Users = append(rr.Users, ur)
			l := t.user(round, u, c, r, v, &ur)
			if o.Watch != nil {
				d := Decoded{Round: round, User: u, Task: c.in.Task, SNR: l.SNR, Question: c.question, Want: l.Want, Metric: l.Metric}
				for _, m := range []struct {
					scheme string
					o      received
					value  float64
				}{
					{SchemeShared, received{text: r.Text, image: r.Image, frames: r.Frames, lost: r.Lost, partial: r.Partial}, v},
					{SchemeUnicast, uo, uv},
					{SchemeWiFi, w.received, w.value},
				} {
					d.Scheme, d.Text, d.Image, d.Frames, d.Lost, d.Partial, d.Value = m.scheme, m.o.text, m.o.image, m.o.frames, m.o.lost, m.o.partial, m.value
					o.Watch.Decoded(d)
				}
			}
			if emit != nil {
				if err := emit(l); err != nil {
					return nil, err
				}
			}
		}
		if rec != nil {
			if err := rec.round(rr, b.Samples, ys, specs); err != nil {
				return nil, err
			}
		}
	}
	if rec != nil {
		if err := rec.close(); err != nil {
			return nil, err
		}
	}
	return t.summary(), nil
}

// fitSentences is the text scenario's sentences that fit one message (a longer one
// would be sent as several); o.Sentences as they are for the other scenarios.
func fitSentences(ch *semantic.Chain, o RunOptions) []dataset.Sentence {
	if o.Scenario != ScenarioText {
		return o.Sentences
	}
	return slices.DeleteFunc(slices.Clone(o.Sentences), func(s dataset.Sentence) bool {
		return len(ch.Model.SplitText(llm.TextTransmit, s.Text)) != 1
	})
}

// receiveUser decodes user u's message of a round from the frames its receiver found
// (Receive) and scores it.
func receiveUser(ch *semantic.Chain, frames []phy.Frame, schedule []Scheduled, u int, c content) (Result, float64, error) {
	r, err := Receive(ch, frames, schedule, u, llm.Instruction{Task: c.in.Task, Question: c.question})
	if err != nil {
		return r, 0, err
	}
	v, err := score(c, r.Text, r.Image)
	return r, v, err
}

// tallyPlan counts what a round's plan shares, for the summary.
func tallyPlan(p *Plan, users []User) planTally {
	var t planTally
	for _, pt := range p.Parts {
		if pt.Layer == LayerPublic {
			t.PublicVectors += pt.N * len(pt.Members)
			t.PublicParts++
			t.Copies += pt.Copies
		}
	}
	for _, u := range users {
		t.Vectors += u.Sem.N
	}
	t.Candidates, t.Tokens = p.Candidates, p.Tokens
	return t
}

// tally adds up a run's rounds into its lines and summary, the same way whether the
// rounds run (Run) or are read back from recordings (Replay).
type tally struct {
	sum                       *Summary
	shared, unicast, wifi     [][]float64
	wifiRate                  []float64
	undelivered, lost         []int
	tasks                     []llm.Task
	publicVecs, allVecs       float64
	cand, toks, parts, copies float64
}

func newTally(sum *Summary) *tally {
	k := sum.Users
	return &tally{sum: sum, shared: make([][]float64, k), unicast: make([][]float64, k), wifi: make([][]float64, k),
		wifiRate: make([]float64, k), undelivered: make([]int, k), lost: make([]int, k), tasks: make([]llm.Task, k)}
}

// round adds a round's channel use and sharing.
func (t *tally) round(rr *roundRecord) {
	t.sum.AirtimeUS += rr.AirtimeUS
	t.sum.Symbols += float64(rr.Symbols)
	t.sum.Frames += float64(len(rr.Schedule))
	p := rr.Plan
	t.publicVecs += float64(p.PublicVectors)
	t.allVecs += float64(p.Vectors)
	t.cand += float64(p.Candidates)
	t.toks += float64(p.Tokens)
	t.parts += float64(p.PublicParts)
	t.copies += float64(p.Copies)
}

// user adds user u's message of a round: what its receiver made of the shared burst
// (r, scored v) and its unicast baselines (ur); it returns the user's line.
func (t *tally) user(round, u int, c content, r Result, v float64, ur *userRecord) Line {
	s := t.sum
	s.AirtimeUSUnicast += ur.UnicastAirtimeUS
	s.SymbolsUnicast += float64(ur.UnicastSymbols)
	s.AirtimeUSWiFi += ur.WiFiAirtimeUS
	s.SymbolsWiFi += float64(ur.WiFiSymbols)
	s.FramesWiFi += float64(ur.WiFiFrames)
	t.tasks[u] = c.in.Task
	t.shared[u] = append(t.shared[u], v)
	t.unicast[u] = append(t.unicast[u], ur.Unicast)
	t.wifi[u] = append(t.wifi[u], ur.WiFi)
	t.wifiRate[u] += float64(ur.WiFiRate)
	if !ur.WiFiDelivered {
		t.undelivered[u]++
	}
	t.lost[u] += r.Lost
	out := r.Text
	if c.in.Task == llm.ImageReconstruct {
		out = ""
	}
	l := Line{Round: round, User: u, Task: c.in.Task.String(), SNR: math.Round(ur.SNR*100) / 100, Frames: r.Frames, Lost: r.Lost,
		Metric: semantic.MetricName(c.in.Task), Value: v, Unicast: ur.Unicast, WiFi: ur.WiFi, WiFiRate: ur.WiFiRate, WiFiPartial: ur.WiFiPartial,
		Partial: r.Partial, Output: out}
	if c.in.Task != llm.ImageReconstruct {
		l.Want = c.want
	}
	return l
}

// summary ends the run: means per round and each user's intervals.
func (t *tally) summary() *Summary {
	sum := t.sum
	n := float64(sum.Rounds)
	sum.AirtimeUS /= n
	sum.AirtimeUSUnicast /= n
	sum.AirtimeUSWiFi /= n
	sum.Symbols /= n
	sum.SymbolsUnicast /= n
	sum.SymbolsWiFi /= n
	sum.Frames /= n
	sum.FramesWiFi /= n
	sum.AirtimeRatio = sum.AirtimeUS / sum.AirtimeUSUnicast
	sum.SymbolRatio = sum.Symbols / sum.SymbolsUnicast
	sum.AirtimeRatioWiFi = sum.AirtimeUS / sum.AirtimeUSWiFi
	sum.SymbolRatioWiFi = sum.Symbols / sum.SymbolsWiFi
	sum.PublicShare = t.publicVecs / t.allVecs
	if t.parts > 0 {
		sum.PublicCopies = t.copies / t.parts
	}
	if t.toks > 0 {
		sum.TokenCandidates = t.cand / t.toks
	}
	for u := range sum.Users {
		us := UserSummary{User: u, Task: t.tasks[u].String(), Metric: semantic.MetricName(t.tasks[u]), Lost: t.lost[u]}
		us.Shared, us.SharedLo, us.SharedHi = interval(t.shared[u], t.tasks[u])
		us.Unicast, us.UnicastLo, us.UnicastHi = interval(t.unicast[u], t.tasks[u])
		us.WiFi, us.WiFiLo, us.WiFiHi = interval(t.wifi[u], t.tasks[u])
		us.WiFiRate, us.WiFiUndelivered = t.wifiRate[u]/n, t.undelivered[u]
		sum.PerUser = append(sum.PerUser, us)
	}
	return sum
}

// interval is the mean of v with its 95% interval: Wilson's for an accuracy, the
// normal one for a mean score.
func interval(v []float64, t llm.Task) (mean, lo, hi float64) {
	if semantic.MetricName(t) != "accuracy" {
		return metrics.MeanInterval(v)
	}
	var a metrics.Accuracy
	for _, x := range v {
		a.Add(x == 1)
	}
	lo, hi = a.WilsonInterval(1.96)
	return a.Rate(), lo, hi
}

// received is what a unicast receiver made of a user's message.
type received struct {
	text         string
	image        []float32
	frames, lost int
	partial      string
}

// joinReceived is one user's message, sent in n frames, from what Chain.Receive found
// at its address.
func joinReceived(got []semantic.Received, n int) received {
	var r received
	for _, g := range got {
		r.text = strings.TrimSpace(r.text + " " + g.Text)
		r.image = g.Image
		r.frames += g.Frames
		r.lost += g.Lost
		r.partial = g.Partial
	}
	if len(got) == 0 {
		r.frames, r.lost, r.partial = n, n, "no frame received"
	}
	return r
}

// overSpecs opens a transmitter and receivers by their device strings, sends samples
// and returns the frames each receiver found (shown to w, when not nil) and the
// samples it captured; it closes the devices.
func overSpecs(ctx context.Context, open func(context.Context, string) (radio.Device, error), w Watcher, txSpec string, rxSpecs []string, samples []complex64) ([][]phy.Frame, [][]complex64, error) {
	var ds []radio.Device
	defer func() {
		for _, d := range ds {
			d.Close()
		}
	}()
	// Receivers first: a loopback device hears the air from when it is opened.
	for _, s := range rxSpecs {
		d, err := open(ctx, s)
		if err != nil {
			return nil, nil, fmt.Errorf("sharing: receiver %s: %w", s, err)
		}
		ds = append(ds, d)
	}
	tx, err := open(ctx, txSpec)
	if err != nil {
		return nil, nil, fmt.Errorf("sharing: transmitter %s: %w", txSpec, err)
	}
	ds = append(ds, tx)
	return overAir(ctx, tx, ds[:len(rxSpecs)], samples, w)
}
