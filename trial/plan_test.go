package trial

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

const goodPlan = `name: lab
seed: 7
tx: loopback:hackrf
rx: loopback:hackrf
steps:
  - name: text
    task: text.transmit
    content: {texts: ["the state of the union is strong"]}
    schemes: [semantic, digital, 80211a]
    snr: [5, 20]
    channel: epa
    doppler: 5
  - task: image.caption
    content: {index: [0, 3]}
    bandwidth: 8
    rate: 24
    image_format: jpeg
    repeats: 2
thresholds:
  - {task: image.caption, scheme: semantic, min: 0.5}
`

func TestParseGood(t *testing.T) {
	p, err := Parse([]byte(goodPlan))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Runs(p), 2*3+2; got != want {
		t.Errorf("%d runs, want %d", got, want)
	}
	s := p.Steps[1]
	if s.Name != "step2" || s.Schemes[0] != "semantic" || s.Repeats != 2 || s.Seed == 0 || s.Rate != 24 {
		t.Errorf("defaults not filled in: %+v", s)
	}
	// The resolved plan reads back as itself.
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse(b)
	if err != nil {
		t.Fatalf("resolved plan: %v\n%s", err, b)
	}
	if !reflect.DeepEqual(p, q) {
		t.Errorf("round trip changed the plan:\n%+v\n%+v", p, q)
	}
}

func TestParseExample(t *testing.T) {
	b, err := os.ReadFile("../examples/trial-loopback.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(b); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(CIPlan()); err != nil {
		t.Fatalf("CI plan: %v", err)
	}
}

// TestParseErrors: each bad plan fails with a PlanError naming the field and line.
func TestParseErrors(t *testing.T) {
	base := "tx: loopback\nrx: loopback\nsteps:\n  - task: image.caption\n    content: {count: 1}\n"
	for _, c := range []struct {
		name, plan, field string
		line              int
		msg               string
	}{
		{"empty", "", "", 0, "empty plan"},
		{"not a mapping", "- a\n- b\n", "", 1, "mapping"},
		{"syntax", "tx: [loopback\n", "", 0, ""},
		{"unknown key", base + "colour: red\n", "colour", 6, "unknown key"},
		{"no steps", "tx: loopback\nrx: loopback\n", "steps", 1, "at least one step"},
		{"no tx", "rx: loopback\nsteps:\n  - task: image.caption\n    content: {count: 1}\n", "tx", 0, "missing"},
		{"bad device", strings.Replace(base, "rx: loopback", "rx: loopback,snr=abc", 1), "rx", 2, "snr"},
		{"bad task", strings.Replace(base, "image.caption", "image.colour", 1), "steps[0].task", 4, "not a task"},
		{"bad scheme", base + "    schemes: [semantic, morse]\n", "steps[0].schemes[1]", 6, "morse"},
		{"twice", base + "    schemes: [semantic, semantic]\n", "steps[0].schemes[1]", 6, "twice"},
		{"snr not number", base + "    snr: [5, loud]\n", "steps[0].snr[1]", 6, "not a number"},
		{"snr range", base + "    snr: [500]\n", "steps[0].snr[0]", 6, "out of range"},
		{"snr on hardware", strings.Replace(base, "rx: loopback", "rx: hackrf:1234", 1) + "    snr: [5]\n", "steps[0].snr", 6, "only a loopback"},
		{"bandwidth", base + "    bandwidth: 5\n", "steps[0].bandwidth", 6, "symbols per vector"},
		{"rate", base + "    rate: 13\n", "steps[0].rate", 6, "Mbit/s"},
		{"repeats", base + "    repeats: -1\n", "steps[0].repeats", 6, "want 1"},
		{"channel", base + "    channel: mars\n", "steps[0].channel", 6, "epa"},
		{"two contents", strings.Replace(base, "{count: 1}", "{count: 1, index: [2]}", 1), "steps[0].content", 5, "exactly one"},
		{"negative index", strings.Replace(base, "{count: 1}", "{index: [-2]}", 1), "steps[0].content.index[0]", 5, "negative"},
		{"texts for images", strings.Replace(base, "{count: 1}", "{texts: [hello]}", 1), "steps[0].content.texts", 5, "images"},
		{"gain", base + "    tx_gains: {txvga: 500}\n", "steps[0].tx_gains.txvga", 6, "out of range"},
		{"calibration", base + "calibration: {}\n", "calibration", 6, "exactly one"},
		{"threshold", base + "thresholds:\n  - {task: image.caption, scheme: semantic}\n", "thresholds[0]", 7, "min"},
		{"seed", "seed: -3\n" + base, "seed", 1, "non-negative"},
		{"duplicate name", base + "    name: a\n  - task: image.caption\n    name: a\n    content: {count: 1}\n", "steps[1].name", 8, "also the name"},
		{"two documents", base + "---\nname: x\n", "", 6, "one"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.plan))
			var pe *PlanError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a *PlanError", err)
			}
			if pe.Field != c.field || (c.line > 0 && pe.Line != c.line) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("got %q (field %q, line %d), want field %q, line %d, %q", err, pe.Field, pe.Line, c.field, c.line, c.msg)
			}
		})
	}
}

// FuzzParse: no plan panics, and a plan that parses encodes to one that parses the
// same way.
func FuzzParse(f *testing.F) {
	f.Add([]byte(goodPlan))
	f.Add(CIPlan())
	f.Add([]byte("tx: loopback\nrx: loopback\nsteps: [{task: text.era, content: {count: 1}}]\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("steps: !!binary AAAA\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			var pe *PlanError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *PlanError", err)
			}
			return
		}
		enc, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse(enc)
		if err != nil {
			t.Fatalf("resolved plan does not parse: %v\n%s", err, enc)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip changed the plan")
		}
	})
}
