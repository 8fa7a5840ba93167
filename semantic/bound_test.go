package semantic

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
)

// reach interpolates the first crossing of the level; a curve that never gets there
// has none, one that starts above it reaches it at its first SNR.
func TestReach(t *testing.T) {
	c := []SweepPoint{{SNR: 10, Value: 0.95}, {SNR: 0, Value: 0.5}, {SNR: 5, Value: 0.85}}
	if got := reach(c, 0.9); math.Abs(got-7.5) > 1e-9 {
		t.Errorf("reach = %v, want 7.5", got)
	}
	if got := reach(c, 0.99); !math.IsNaN(got) {
		t.Errorf("reach of an unreached level = %v", got)
	}
	if got := reach(c, 0.4); got != 0 {
		t.Errorf("reach below the first point = %v, want 0", got)
	}
}

// A sweep through the whole chain on the hackrf channel (both devices' crystal errors,
// phase noise, I/Q imbalance, DC offset, 8-bit ADC): at 30 dB the digital scheme
// delivers every sentence exactly, the bound is finite and the points say what they
// measured.
func TestSweepHackRF(t *testing.T) {
	m := shippedModel(t)
	ch, err := NewChain(m, shippedCodec(t))
	if err != nil {
		t.Fatal(err)
	}
	d := &llm.Data{}
	for _, s := range []string{"we the people of the united states", "the state of our union is strong", "we will build a stronger economy for every family"} {
		d.Sentences[dataset.Test] = append(d.Sentences[dataset.Test], dataset.Sentence{Text: s, Split: dataset.Test})
	}
	o := SweepOptions{Task: llm.TextTransmit, Channel: HackRFChannel, SNRs: []float64{30}, Schemes: []Scheme{SchemeDigital, SchemeSemantic},
		Bandwidths: []int{16}, Rate: phy.Rates()[2], N: 3, Seed: 5}
	points, err := Sweep(context.Background(), ch, d, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 2 {
		t.Fatalf("%d points, want 2: %+v", len(points), points)
	}
	for _, p := range points {
		if p.Channel != HackRFChannel || p.N != 3 || p.FrameLoss != 0 || p.Value < 0.99 {
			t.Errorf("%s: %+v", p.label(), p)
		}
	}
	bounds, err := TextBounds(m, d, o, points)
	if err != nil || len(bounds) != 1 || math.IsNaN(bounds[0].SNR) || bounds[0].BitsPerWord <= 0 {
		t.Errorf("bounds %+v, %v", bounds, err)
	}
}

// An 80211a JPEG that cannot fit its budget even at quality 1 is sent anyway, and the
// sweep says so: every item over budget at 64 symbols (6 Mbit/s), none in PNG.
func TestSweepOverBudget(t *testing.T) {
	m := shippedModel(t)
	ch, err := NewChain(m, shippedCodec(t))
	if err != nil {
		t.Fatal(err)
	}
	o := SweepOptions{Task: llm.ImageReconstruct, SNRs: []float64{30}, Schemes: []Scheme{SchemeWiFi}, Bandwidths: []int{4},
		WiFiRates: []phy.Rate{phy.Rates()[0]}, ImageFormats: []ImageFormat{ImageJPEG, ImagePNG}, N: 2, Seed: 3}
	points, err := Sweep(context.Background(), ch, &llm.Data{}, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range points {
		want := 0.0
		if p.Format == string(ImageJPEG) {
			want = 1
		}
		if p.OverBudget != want {
			t.Errorf("%s: over budget %v, want %v", p.label(), p.OverBudget, want)
		}
	}
	if md := SweepMarkdown(points); !strings.Contains(md, "100% over budget") {
		t.Errorf("the table does not flag the JPEG over budget:\n%s", md)
	}
}
