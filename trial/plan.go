package trial

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/devices"
	"github.com/m4sc/m4sc/semantic"
	"go.yaml.in/yaml/v3"
)

// Limits and defaults of a plan. The docs refer to these names.
const (
	MaxPlanBytes  = 1 << 20 // a plan is typed by a person
	MaxSteps      = 200
	MaxItems      = 200 // contents of one step (a run's messages must number fewer than 256)
	MaxRepeats    = 100
	MaxRuns       = 10000 // runs of a whole plan
	DefaultRate   = 12    // Mbit/s, the digital and 80211a schemes' 802.11a rate
	DefaultSNRHnt = 15.0  // dB, the SNR the transmitter assumes when a step gives none and no loopback SNR
)

// Plan is a trial plan: the two ends, an optional calibration and the steps. Its YAML
// form is documented in the package doc; Parse reads it, and Encode writes the
// resolved plan (defaults filled in) that a trial directory keeps.
type Plan struct {
	Name string `yaml:"name"`
	// Seed seeds everything random: the held-out items a step draws, the loopback's
	// noise and fading. Default 1.
	Seed uint64 `yaml:"seed"`
	// TX and RX are device strings ("loopback:hackrf,snr=20", "hackrf:SERIAL",
	// "file:capture.sigmf-meta" for an RX that is a recording).
	TX string `yaml:"tx"`
	RX string `yaml:"rx"`
	// Frequency is the centre frequency in Hz (0: the devices' default).
	Frequency float64 `yaml:"frequency,omitempty"`
	// Calibration, when present, is run before the first step (Run) or loaded from a
	// profile (Profile), and applied to every received recording before decoding.
	Calibration *Calibration `yaml:"calibration,omitempty"`
	Steps       []Step       `yaml:"steps"`
	// Thresholds are the least figures a trial must reach (m4sc trial run --ci fails
	// below them).
	Thresholds []Threshold `yaml:"thresholds,omitempty"`
	// Soak, when present, repeats the steps for a length of wall time and watches
	// the process's memory, goroutines and open files as it goes.
	Soak *Soak `yaml:"soak,omitempty"`
	// Provenance is what ran the plan: a trial directory's plan.yaml has it; a plan
	// written by hand leaves it out (it is informational when read).
	Provenance *Provenance `yaml:"m4sc,omitempty"`
}

// Provenance names the binary and the model of a trial.
type Provenance struct {
	Version string `yaml:"version"`
	Model   string `yaml:"model_sha256"` // ModelHash of the chain: model and codec parameters
	// Role is "rx" for a directory trial rx wrote, "score" for one trial score
	// wrote from a recording (the receiving end only; neither can be resumed),
	// empty for trial run's.
	Role string `yaml:"role,omitempty"`
}

// Calibration says how a trial is calibrated: exactly one of Run and Profile.
type Calibration struct {
	Run     bool   `yaml:"run,omitempty"`     // measure the pair first (package calibration)
	Profile string `yaml:"profile,omitempty"` // a profile file, relative to the plan's directory
}

// Step is one block of traffic: one task and its contents, sent with each scheme at
// each SNR (loopback) Repeats times. Each combination is a run, with its own seed and
// recording.
type Step struct {
	Name    string   `yaml:"name"`
	Task    string   `yaml:"task"`
	Content Content  `yaml:"content"`
	Schemes []string `yaml:"schemes"` // default: semantic
	// Bandwidth is the semantic scheme's symbols per vector (4, 8 or 16; default by
	// task, semantic.DefaultBandwidth); also the 80211a JPEG's budget.
	Bandwidth int `yaml:"bandwidth"`
	// Rate is the digital and 80211a schemes' 802.11a rate in Mbit/s (DefaultRate).
	Rate int `yaml:"rate"`
	// ImageFormat is the 80211a scheme's image coding: png (default) or jpeg.
	ImageFormat string `yaml:"image_format"`
	// SNR lists loopback SNRs in dB (each a run); empty: the RX device string's own.
	SNR []float64 `yaml:"snr,omitempty"`
	// Channel is a loopback multipath profile (epa, eva, etu, tdl-a..tdl-e; default
	// none) and Doppler its maximum Doppler shift in Hz (default: the profile's).
	Channel string   `yaml:"channel,omitempty"`
	Doppler *float64 `yaml:"doppler,omitempty"`
	// TXGains and RXGains set named gain stages in dB (hardware: txvga, amp, lna, vga).
	TXGains map[string]float64 `yaml:"tx_gains,omitempty"`
	RXGains map[string]float64 `yaml:"rx_gains,omitempty"`
	// SNRHint is the SNR in dB the transmitter's codec assumes (default: the run's
	// loopback SNR, or DefaultSNRHnt).
	SNRHint *float64 `yaml:"snr_hint,omitempty"`
	Repeats int      `yaml:"repeats"` // default 1
	// Seed of the step (its contents, its runs' channels); default derived from the
	// plan's seed and the step's index.
	Seed uint64 `yaml:"seed"`
}

// Content is what a step sends: exactly one of Count (that many held-out items drawn
// by the step's seed), Index (held-out items by index: test sentences, test digits,
// test scenes by seed), Texts (sentences written in the plan) and Files (text files,
// one sentence a line, or PNG/JPEG images, relative to the plan's directory).
type Content struct {
	Count int      `yaml:"count,omitempty"`
	Index []int    `yaml:"index,omitempty"`
	Texts []string `yaml:"texts,omitempty"`
	Files []string `yaml:"files,omitempty"`
}

// Threshold is a least figure: the mean metric of a task's and scheme's messages at
// one SNR (or over all runs when SNR is absent) must reach Min; MaxFrameLoss bounds
// the share of frames lost the same way.
type Threshold struct {
	Task         string   `yaml:"task"`
	Scheme       string   `yaml:"scheme"`
	SNR          *float64 `yaml:"snr,omitempty"`
	Channel      string   `yaml:"channel,omitempty"`
	Min          *float64 `yaml:"min,omitempty"`
	MaxFrameLoss *float64 `yaml:"max_frame_loss,omitempty"`
}

// Soak makes a plan a soak test: its runs repeat, cycle after cycle (each with seeds of
// its own), until Duration has passed, with silence after each burst so that frames
// fill about Duty of the air, and the process's resident memory, goroutines and open
// files are written to soak.jsonl every Stats.
type Soak struct {
	Duration time.Duration `yaml:"duration"`       // wall time, at most MaxSoak
	Duty     float64       `yaml:"duty,omitempty"` // share of received samples that are frames, (0, 1]; default 1 (no added silence)
	Stats    time.Duration `yaml:"stats"`          // how often to sample the process; DefaultSoakStats
}

// Limits and defaults of a soak.
const (
	MaxSoak          = 7 * 24 * time.Hour
	DefaultSoakStats = time.Minute
	MinSoakStats     = 100 * time.Millisecond
)

// PlanError is a plan that cannot be run: the field and the line that are wrong.
type PlanError struct {
	Line  int    // 1-based line in the plan file; 0 when unknown
	Field string // path of the field, such as steps[2].snr
	Msg   string
}

func (e *PlanError) Error() string {
	switch {
	case e.Line > 0 && e.Field != "":
		return fmt.Sprintf("trial: plan line %d: %s: %s", e.Line, e.Field, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("trial: plan line %d: %s", e.Line, e.Msg)
	case e.Field != "":
		return fmt.Sprintf("trial: plan: %s: %s", e.Field, e.Msg)
	}
	return "trial: plan: " + e.Msg
}

// Parse reads a plan, fills in its defaults and checks every field; the first problem
// comes back as a *PlanError naming the field and its line.
func Parse(data []byte) (*Plan, error) {
	if len(data) > MaxPlanBytes {
		return nil, &PlanError{Msg: fmt.Sprintf("%d bytes; at most %d", len(data), MaxPlanBytes)}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if _, err := fmt.Sscanf(msg, "line %d:", &line); err == nil {
			msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
		}
		if errors.Is(err, io.EOF) {
			msg = "empty plan"
		}
		return nil, &PlanError{Line: line, Msg: msg}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &PlanError{Line: extra.Line, Msg: "more than one YAML document; a plan is one"}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	p := &Plan{}
	r := &reader{}
	r.plan(root, p)
	if r.err != nil {
		return nil, r.err
	}
	if err := p.resolve(r); err != nil {
		return nil, err
	}
	return p, nil
}

// reader walks the YAML tree keeping its first error.
type reader struct {
	err *PlanError
	// lines of fields, for errors found after decoding (resolve).
	lines map[string]int
}

func (r *reader) fail(n *yaml.Node, field, format string, a ...any) {
	if r.err == nil {
		line := 0
		if n != nil {
			line = n.Line
		}
		r.err = &PlanError{Line: line, Field: field, Msg: fmt.Sprintf(format, a...)}
	}
}

func (r *reader) mark(field string, n *yaml.Node) {
	if r.lines == nil {
		r.lines = map[string]int{}
	}
	r.lines[field] = n.Line
}

// fieldError is a PlanError at a field read earlier (its line known from mark).
func (r *reader) fieldError(field, format string, a ...any) *PlanError {
	return &PlanError{Line: r.lines[field], Field: field, Msg: fmt.Sprintf(format, a...)}
}

// mapping calls each key's function on its value, rejecting unknown and repeated keys.
func (r *reader) mapping(n *yaml.Node, path string, keys map[string]func(v *yaml.Node, field string)) {
	if r.err != nil {
		return
	}
	if n.Kind != yaml.MappingNode {
		r.fail(n, path, "want a mapping of keys to values, not %s", kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content) && r.err == nil; i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := k.Value
		if path != "" {
			field = path + "." + k.Value
		}
		f, ok := keys[k.Value]
		if !ok || k.Kind != yaml.ScalarNode {
			known := make([]string, 0, len(keys))
			for name := range keys {
				known = append(known, name)
			}
			slices.Sort(known)
			r.fail(k, field, "unknown key (known: %s)", strings.Join(known, ", "))
			return
		}
		if seen[k.Value] {
			r.fail(k, field, "given twice")
			return
		}
		seen[k.Value] = true
		r.mark(field, v)
		f(v, field)
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %s", clip(n.Value))
	case yaml.AliasNode:
		return "an alias"
	}
	return "an empty document"
}

func clip(s string) string { return radio.QuoteSpec(s) }

// scalar decodes a scalar value into dst (a *string, *int, *uint64, *float64, *bool).
func (r *reader) scalar(n *yaml.Node, field string, dst any) {
	if r.err != nil {
		return
	}
	if n.Kind != yaml.ScalarNode {
		r.fail(n, field, "want a single value, not %s", kindName(n))
		return
	}
	if err := n.Decode(dst); err != nil {
		want := map[string]string{"*string": "a string", "*int": "a whole number", "*uint64": "a non-negative whole number",
			"*float64": "a number", "*bool": "true or false", "*time.Duration": "a duration such as 90s, 10m or 1h"}[fmt.Sprintf("%T", dst)]
		r.fail(n, field, "%s is not %s", clip(n.Value), want)
		return
	}
	if f, ok := dst.(*float64); ok && (math.IsNaN(*f) || math.IsInf(*f, 0)) {
		r.fail(n, field, "%s is not a finite number", clip(n.Value))
	}
}

// list calls each for every element of a sequence (a single scalar counts as a list
// of one).
func (r *reader) list(n *yaml.Node, field string, max int, each func(v *yaml.Node, field string)) {
	if r.err != nil {
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		each(n, field+"[0]")
	case yaml.SequenceNode:
		if len(n.Content) > max {
			r.fail(n, field, "%d entries; at most %d", len(n.Content), max)
			return
		}
		for i, v := range n.Content {
			if r.err != nil {
				return
			}
			each(v, fmt.Sprintf("%s[%d]", field, i))
		}
	default:
		r.fail(n, field, "want a list, not %s", kindName(n))
	}
}

func (r *reader) gains(n *yaml.Node, field string, dst *map[string]float64) {
	if n.Kind != yaml.MappingNode {
		r.fail(n, field, "want a mapping of gain stage to dB, not %s", kindName(n))
		return
	}
	*dst = map[string]float64{}
	for i := 0; i+1 < len(n.Content) && r.err == nil; i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		if _, dup := (*dst)[name]; dup {
			r.fail(k, field+"."+name, "given twice")
			return
		}
		var g float64
		r.scalar(v, field+"."+name, &g)
		if r.err == nil && (g < -100 || g > 100) {
			r.fail(v, field+"."+name, "%g dB out of range -100..100", g)
		}
		(*dst)[name] = g
	}
}

func (r *reader) plan(n *yaml.Node, p *Plan) {
	if n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Value == "") {
		r.fail(n, "", "empty plan")
		return
	}
	steps := false
	r.mapping(n, "", map[string]func(*yaml.Node, string){
		"name":      func(v *yaml.Node, f string) { r.scalar(v, f, &p.Name) },
		"seed":      func(v *yaml.Node, f string) { r.scalar(v, f, &p.Seed) },
		"tx":        func(v *yaml.Node, f string) { r.scalar(v, f, &p.TX) },
		"rx":        func(v *yaml.Node, f string) { r.scalar(v, f, &p.RX) },
		"frequency": func(v *yaml.Node, f string) { r.scalar(v, f, &p.Frequency) },
		"calibration": func(v *yaml.Node, f string) {
			c := &Calibration{}
			p.Calibration = c
			r.mapping(v, f, map[string]func(*yaml.Node, string){
				"run":     func(v *yaml.Node, f string) { r.scalar(v, f, &c.Run) },
				"profile": func(v *yaml.Node, f string) { r.scalar(v, f, &c.Profile) },
			})
		},
		"steps": func(v *yaml.Node, f string) {
			steps = true
			if v.Kind != yaml.SequenceNode {
				r.fail(v, f, "want a list of steps, not %s", kindName(v))
				return
			}
			r.list(v, f, MaxSteps, func(v *yaml.Node, f string) {
				var s Step
				r.mark(f, v)
				r.step(v, f, &s)
				p.Steps = append(p.Steps, s)
			})
		},
		"m4sc": func(v *yaml.Node, f string) {
			pr := &Provenance{}
			p.Provenance = pr
			r.mapping(v, f, map[string]func(*yaml.Node, string){
				"version":      func(v *yaml.Node, f string) { r.scalar(v, f, &pr.Version) },
				"model_sha256": func(v *yaml.Node, f string) { r.scalar(v, f, &pr.Model) },
				"role":         func(v *yaml.Node, f string) { r.scalar(v, f, &pr.Role) },
			})
		},
		"soak": func(v *yaml.Node, f string) {
			sk := &Soak{}
			p.Soak = sk
			r.mapping(v, f, map[string]func(*yaml.Node, string){
				"duration": func(v *yaml.Node, f string) { r.scalar(v, f, &sk.Duration) },
				"duty":     func(v *yaml.Node, f string) { r.scalar(v, f, &sk.Duty) },
				"stats":    func(v *yaml.Node, f string) { r.scalar(v, f, &sk.Stats) },
			})
		},
		"thresholds": func(v *yaml.Node, f string) {
			if v.Kind != yaml.SequenceNode {
				r.fail(v, f, "want a list of thresholds, not %s", kindName(v))
				return
			}
			r.list(v, f, 1000, func(v *yaml.Node, f string) {
				var t Threshold
				r.mark(f, v)
				r.mapping(v, f, map[string]func(*yaml.Node, string){
					"task":    func(v *yaml.Node, f string) { r.scalar(v, f, &t.Task) },
					"scheme":  func(v *yaml.Node, f string) { r.scalar(v, f, &t.Scheme) },
					"channel": func(v *yaml.Node, f string) { r.scalar(v, f, &t.Channel) },
					"snr":     func(v *yaml.Node, f string) { t.SNR = new(float64); r.scalar(v, f, t.SNR) },
					"min":     func(v *yaml.Node, f string) { t.Min = new(float64); r.scalar(v, f, t.Min) },
					"max_frame_loss": func(v *yaml.Node, f string) {
						t.MaxFrameLoss = new(float64)
						r.scalar(v, f, t.MaxFrameLoss)
					},
				})
				p.Thresholds = append(p.Thresholds, t)
			})
		},
	})
	if r.err == nil && !steps {
		r.fail(n, "steps", "missing: a plan needs at least one step")
	}
}

func (r *reader) step(n *yaml.Node, path string, s *Step) {
	r.mapping(n, path, map[string]func(*yaml.Node, string){
		"name": func(v *yaml.Node, f string) { r.scalar(v, f, &s.Name) },
		"task": func(v *yaml.Node, f string) { r.scalar(v, f, &s.Task) },
		"content": func(v *yaml.Node, f string) {
			c := &s.Content
			r.mapping(v, f, map[string]func(*yaml.Node, string){
				"count": func(v *yaml.Node, f string) { r.scalar(v, f, &c.Count) },
				"index": func(v *yaml.Node, f string) {
					r.list(v, f, MaxItems, func(v *yaml.Node, f string) {
						var i int
						r.scalar(v, f, &i)
						if r.err == nil && i < 0 {
							r.fail(v, f, "index %d is negative", i)
						}
						c.Index = append(c.Index, i)
					})
				},
				"texts": func(v *yaml.Node, f string) {
					r.list(v, f, MaxItems, func(v *yaml.Node, f string) {
						var t string
						r.scalar(v, f, &t)
						c.Texts = append(c.Texts, t)
					})
				},
				"files": func(v *yaml.Node, f string) {
					r.list(v, f, MaxItems, func(v *yaml.Node, f string) {
						var t string
						r.scalar(v, f, &t)
						c.Files = append(c.Files, t)
					})
				},
			})
		},
		"schemes": func(v *yaml.Node, f string) {
			r.list(v, f, 3, func(v *yaml.Node, f string) {
				var t string
				r.scalar(v, f, &t)
				if r.err == nil {
					if _, err := semantic.ParseScheme(t); err != nil {
						r.fail(v, f, "%s: want semantic, digital or 80211a", clip(t))
					}
				}
				if slices.Contains(s.Schemes, t) {
					r.fail(v, f, "%s given twice", t)
				}
				s.Schemes = append(s.Schemes, t)
			})
		},
		"bandwidth":    func(v *yaml.Node, f string) { r.scalar(v, f, &s.Bandwidth) },
		"rate":         func(v *yaml.Node, f string) { r.scalar(v, f, &s.Rate) },
		"image_format": func(v *yaml.Node, f string) { r.scalar(v, f, &s.ImageFormat) },
		"snr": func(v *yaml.Node, f string) {
			r.list(v, f, 100, func(v *yaml.Node, f string) {
				var x float64
				r.scalar(v, f, &x)
				if r.err == nil && (x < -50 || x > 200) {
					r.fail(v, f, "%g dB out of range -50..200", x)
				}
				if slices.Contains(s.SNR, x) {
					r.fail(v, f, "%g dB given twice", x)
				}
				s.SNR = append(s.SNR, x)
			})
		},
		"channel":  func(v *yaml.Node, f string) { r.scalar(v, f, &s.Channel) },
		"doppler":  func(v *yaml.Node, f string) { s.Doppler = new(float64); r.scalar(v, f, s.Doppler) },
		"snr_hint": func(v *yaml.Node, f string) { s.SNRHint = new(float64); r.scalar(v, f, s.SNRHint) },
		"tx_gains": func(v *yaml.Node, f string) { r.gains(v, f, &s.TXGains) },
		"rx_gains": func(v *yaml.Node, f string) { r.gains(v, f, &s.RXGains) },
		"repeats":  func(v *yaml.Node, f string) { r.scalar(v, f, &s.Repeats) },
		"seed":     func(v *yaml.Node, f string) { r.scalar(v, f, &s.Seed) },
	})
}

// resolve fills in defaults and checks what single values cannot: ranges, device
// strings, and fields that go together.
func (p *Plan) resolve(r *reader) error {
	fe := r.fieldError
	if p.Seed == 0 {
		p.Seed = 1
	}
	if p.TX == "" {
		return fe("tx", "missing: a transmitter device string (loopback, hackrf:SERIAL)")
	}
	if p.RX == "" {
		return fe("rx", "missing: a receiver device string (loopback, hackrf:SERIAL, file:RECORDING)")
	}
	check := devices.New(devices.Options{})
	for _, d := range []struct{ field, spec string }{{"tx", p.TX}, {"rx", p.RX}} {
		if err := check.Check(d.spec); err != nil {
			return fe(d.field, "%v", err)
		}
	}
	rxLoop := isLoopback(p.RX)
	if p.Frequency < 0 || p.Frequency > 7.25e9 {
		return fe("frequency", "%g Hz out of range 0..7.25e9", p.Frequency)
	}
	if c := p.Calibration; c != nil {
		if c.Run == (c.Profile != "") {
			return fe("calibration", "give exactly one of run: true and profile: FILE")
		}
	}
	runs := 0
	for i := range p.Steps {
		s := &p.Steps[i]
		at := fmt.Sprintf("steps[%d]", i)
		if s.Name == "" {
			s.Name = fmt.Sprintf("step%d", i+1)
		}
		if strings.ContainsAny(s.Name, "/\\\x00") || s.Name == "." || s.Name == ".." || len(s.Name) > 64 {
			return fe(at+".name", "%s: a name of at most 64 characters without slashes", clip(s.Name))
		}
		for j := range i {
			if p.Steps[j].Name == s.Name {
				return fe(at+".name", "%s is also the name of steps[%d]", clip(s.Name), j)
			}
		}
		if s.Task == "" {
			return fe(at, "task missing (tasks: %s)", taskNames())
		}
		task, err := llm.ParseTask(s.Task)
		if err != nil {
			return fe(at+".task", "%s is not a task (tasks: %s)", clip(s.Task), taskNames())
		}
		if err := s.Content.check(task, fe, at+".content"); err != nil {
			return err
		}
		if len(s.Schemes) == 0 {
			s.Schemes = []string{string(semantic.SchemeSemantic)}
		}
		if s.Bandwidth == 0 {
			s.Bandwidth = semantic.DefaultBandwidth(task)
		}
		if !slices.Contains(semantic.Bandwidths[:], s.Bandwidth) {
			return fe(at+".bandwidth", "%d: the codec has %v symbols per vector", s.Bandwidth, semantic.Bandwidths)
		}
		if s.Rate == 0 {
			s.Rate = DefaultRate
		}
		if _, err := phy.RateByMbps(s.Rate); err != nil {
			return fe(at+".rate", "%d Mbit/s: want 6, 9, 12, 18, 24, 36, 48 or 54", s.Rate)
		}
		if s.ImageFormat == "" {
			s.ImageFormat = string(semantic.ImagePNG)
		}
		if _, err := semantic.ParseImageFormat(s.ImageFormat); err != nil {
			return fe(at+".image_format", "%s: want png or jpeg", clip(s.ImageFormat))
		}
		if !rxLoop {
			for _, k := range []string{"snr", "channel", "doppler"} {
				if _, ok := r.lines[at+"."+k]; ok {
					return fe(at+"."+k, "only a loopback receiver takes %s; rx is %s", k, clip(p.RX))
				}
			}
		}
		if s.Channel != "" {
			if err := check.Check("loopback,channel=" + s.Channel); err != nil || strings.ContainsAny(s.Channel, ",:") {
				return fe(at+".channel", "%s: want none, epa, eva, etu or tdl-a .. tdl-e", clip(s.Channel))
			}
		}
		if s.Doppler != nil && (*s.Doppler < 0 || *s.Doppler > 10000) {
			return fe(at+".doppler", "%g Hz out of range 0..10000", *s.Doppler)
		}
		if s.SNRHint != nil && math.Abs(*s.SNRHint) > 100 {
			return fe(at+".snr_hint", "%g dB out of range -100..100", *s.SNRHint)
		}
		if s.Repeats == 0 {
			s.Repeats = 1
		}
		if s.Repeats < 1 || s.Repeats > MaxRepeats {
			return fe(at+".repeats", "%d: want 1 to %d", s.Repeats, MaxRepeats)
		}
		if s.Seed == 0 {
			s.Seed = mix(p.Seed, uint64(i)+1)
		}
		runs += max(1, len(s.SNR)) * len(s.Schemes) * s.Repeats
		if runs > MaxRuns {
			return fe(at, "the plan has more than %d runs", MaxRuns)
		}
	}
	if err := p.Soak.resolve(fe); err != nil {
		return err
	}
	for i := range p.Thresholds {
		t := &p.Thresholds[i]
		at := fmt.Sprintf("thresholds[%d]", i)
		if _, err := llm.ParseTask(t.Task); err != nil {
			return fe(at+".task", "%s is not a task (tasks: %s)", clip(t.Task), taskNames())
		}
		if _, err := semantic.ParseScheme(t.Scheme); err != nil {
			return fe(at+".scheme", "%s: want semantic, digital or 80211a", clip(t.Scheme))
		}
		if t.Min == nil && t.MaxFrameLoss == nil {
			return fe(at, "give min, max_frame_loss or both")
		}
		if t.MaxFrameLoss != nil && (*t.MaxFrameLoss < 0 || *t.MaxFrameLoss > 1) {
			return fe(at+".max_frame_loss", "%g: want a share from 0 to 1", *t.MaxFrameLoss)
		}
	}
	return nil
}

// resolve fills in a soak's defaults and checks its fields (s may be nil).
func (s *Soak) resolve(fe func(string, string, ...any) *PlanError) error {
	if s == nil {
		return nil
	}
	if s.Duration < time.Second || s.Duration > MaxSoak {
		return fe("soak.duration", "%v: want a duration from 1s to %v", s.Duration, MaxSoak)
	}
	if s.Duty == 0 {
		s.Duty = 1
	}
	if !(s.Duty > 0 && s.Duty <= 1) {
		return fe("soak.duty", "%g: want a share of the air above 0 and at most 1", s.Duty)
	}
	if s.Stats == 0 {
		s.Stats = min(DefaultSoakStats, s.Duration)
	}
	if s.Stats < MinSoakStats || s.Stats > s.Duration {
		return fe("soak.stats", "%v: want from %v to the soak's duration (%v)", s.Stats, MinSoakStats, s.Duration)
	}
	return nil
}

// SetSoakDuration makes p a soak of duration d (m4sc trial run --duration): a plan
// without a soak block gets one with the defaults; one with a soak keeps its duty, and
// its stats interval as far as d allows.
func (p *Plan) SetSoakDuration(d time.Duration) error {
	s := Soak{Duration: d}
	if p.Soak != nil {
		s = *p.Soak
		s.Duration = d
		s.Stats = min(s.Stats, d)
	}
	// A reader of no file: its errors name the field, without a line.
	if err := s.resolve((&reader{}).fieldError); err != nil {
		return err
	}
	p.Soak = &s
	return nil
}

func (c *Content) check(task llm.Task, fe func(string, string, ...any) *PlanError, at string) error {
	kinds := 0
	for _, set := range []bool{c.Count != 0, len(c.Index) > 0, len(c.Texts) > 0, len(c.Files) > 0} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return fe(at, "give exactly one of count, index, texts and files")
	}
	if c.Count < 0 || c.Count > MaxItems {
		return fe(at+".count", "%d: want 1 to %d", c.Count, MaxItems)
	}
	if len(c.Texts) > 0 && task.Image() {
		return fe(at+".texts", "%s takes images: use count, index or files", task)
	}
	for i, t := range c.Texts {
		if len(strings.Fields(t)) == 0 {
			return fe(fmt.Sprintf("%s.texts[%d]", at, i), "the text has no words")
		}
	}
	for i, f := range c.Files {
		if f == "" {
			return fe(fmt.Sprintf("%s.files[%d]", at, i), "empty file name")
		}
	}
	return nil
}

func taskNames() string {
	var s []string
	for _, t := range llm.Tasks() {
		s = append(s, t.String())
	}
	return strings.Join(s, ", ")
}

func isLoopback(spec string) bool {
	sp, err := radio.ParseSpec(spec)
	return err == nil && sp.Driver == "loopback"
}

// Encode writes the plan as YAML, defaults filled in.
func (p *Plan) Encode() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// mix derives a seed from two numbers (splitmix64's finaliser).
func mix(a, b uint64) uint64 {
	z := a ^ (b * 0x9e3779b97f4a7c15)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
