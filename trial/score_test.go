package trial

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/radio/sigmf"
)

// foreignPlan is what trial tx sent while another tool recorded.
const foreignPlan = `name: foreign
seed: 9
tx: hackrf:0000000000000000457863c82a2a3f1f
rx: hackrf:000000000000000066a062dc2227359f
frequency: 2.45e9
steps:
  - name: text
    task: text.transmit
    content: {texts: ["the state of our union is strong", "we will not tire, we will not falter, and we will not fail"]}
    schemes: [semantic, digital, 80211a]
`

// foreignAir is our own transmitter's output for plan p as another receiver would
// have heard it: a stretch of noise before it (the recording started first), a
// carrier offset of 12 kHz (two crystals) and noise 30 dB under the frames.
func foreignAir(t *testing.T, p *Plan, o Options) []complex64 {
	t.Helper()
	air := filepath.Join(t.TempDir(), "air.cf32")
	if err := Transmit(context.Background(), p, o, TXOptions{Air: air}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(air)
	if err != nil {
		t.Fatal(err)
	}
	const lead = 30000
	rng := rand.New(rand.NewPCG(1, 2))
	sigma := math.Sqrt(52.0 / 4096 / 2 * math.Pow(10, -30.0/10)) // per component, 30 dB under the frames' power
	y := make([]complex64, lead+len(b)/8)
	for i := range y {
		var x complex128
		if k := i - lead; k >= 0 {
			re := math.Float32frombits(binary.LittleEndian.Uint32(b[8*k:]))
			im := math.Float32frombits(binary.LittleEndian.Uint32(b[8*k+4:]))
			x = complex(float64(re), float64(im)) * cmplx.Rect(1, 2*math.Pi*12e3*float64(i)/20e6)
		}
		y[i] = complex64(x + complex(sigma*rng.NormFloat64(), sigma*rng.NormFloat64()))
	}
	return y
}

// toCS8 stores samples as hackrf_transfer does: interleaved int8 I,Q, v = round(128x)
// clipped to -128..127, no header.
func toCS8(y []complex64) []byte {
	q := func(x float32) byte {
		return byte(int8(max(-128, min(127, math.RoundToEven(float64(x)*128)))))
	}
	out := make([]byte, 0, 2*len(y))
	for _, v := range y {
		out = append(out, q(real(v)), q(imag(v)))
	}
	return out
}

// writeSigMF writes y as the SigMF recording at path, as another tool would.
func writeSigMF(t *testing.T, path string, o sigmf.WriteOptions, y []complex64) {
	t.Helper()
	w, err := sigmf.Create(path, o)
	if err == nil {
		_, err = w.Write(y)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestScoreForeign: a capture of trial tx made by another tool, as hackrf_transfer
// stores it (int8 I,Q under a .iq name, no metadata; rate and frequency given) or as
// a SigMF pair of another recorder (ci16_le, no m4sc annotation), is scored against
// the plan: every run heard, no frame lost, the digital and 802.11a texts exact, the
// semantic ones close; a replay of the directory reproduces it. Bad input is refused
// with the reason, before any directory is made.
func TestScoreForeign(t *testing.T) {
	ch := testChain(t)
	p := parsePlan(t, foreignPlan)
	o := Options{Chain: ch, Version: "test"}
	y := foreignAir(t, p, o)
	in := t.TempDir()

	capture := filepath.Join(in, "capture.iq")
	if err := os.WriteFile(capture, toCS8(y), 0o644); err != nil {
		t.Fatal(err)
	}
	meta := filepath.Join(in, "other.sigmf-meta")
	writeSigMF(t, meta, sigmf.WriteOptions{Datatype: sigmf.CI16LE, SampleRate: 20e6, Frequency: 2.45e9, Recorder: "gr-sigmf"}, y)

	for _, c := range []struct {
		name, path string
		so         ScoreOptions
	}{
		{"hackrf_transfer", capture, ScoreOptions{SampleRate: 20e6, Frequency: 2.45e9}},
		{"sigmf", meta, ScoreOptions{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "scored")
			sum, err := Score(context.Background(), p, c.path, dir, o, c.so)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Heard != 3 || sum.Runs != 3 || sum.FramesLost != 0 || sum.Frames != 6 {
				t.Errorf("summary %+v", sum)
			}
			res, _, err := ReadResults(filepath.Join(dir, ResultsFile))
			if err != nil || len(res) != 6 {
				t.Fatalf("%d results, %v", len(res), err)
			}
			for _, r := range res {
				// At 30 dB the 802.11a rate's bits arrive whole; the semantic
				// codec at 16 symbols per vector gives BLEU-1 near 1 from 10 dB on
				// (semantic/RESULTS.md), so 0.8 leaves room for a word.
				want := 0.8
				if r.Scheme != "semantic" {
					want = 1
				}
				if r.FramesLost != 0 || r.Value == nil || *r.Value < want || r.LostReason != "" || r.Error != "" {
					t.Errorf("run %d item %d (%s): lost %d, value %v, received %q, reason %q %q", r.Run, r.Item, r.Scheme, r.FramesLost, r.Value, r.Received, r.LostReason, r.Error)
				}
			}
			rp, err := ReadPlan(dir)
			if err != nil || rp.Provenance.Role != "score" || !strings.HasPrefix(rp.RX, "file:"+c.path) {
				t.Errorf("plan.yaml: %+v, %v", rp, err)
			}
			if err := Resume(context.Background(), dir, o); err == nil {
				t.Error("a scored directory resumed")
			}
			if cmp, err := Replay(context.Background(), dir, "", o); err != nil || !cmp.Identical {
				t.Errorf("replay: %+v, %v", cmp, err)
			}
		})
	}

	odd := filepath.Join(in, "odd.iq")
	if err := os.WriteFile(odd, append(toCS8(y[:1000]), 7), 0o644); err != nil {
		t.Fatal(err)
	}
	slow := filepath.Join(in, "slow.sigmf-meta")
	writeSigMF(t, slow, sigmf.WriteOptions{Datatype: sigmf.CI8, SampleRate: 10e6}, y[:1000])
	other := filepath.Join(in, "capture.bin")
	if err := os.WriteFile(other, toCS8(y[:1000]), 0o644); err != nil {
		t.Fatal(err)
	}
	soak := parsePlan(t, foreignPlan+"soak: {duration: 1m}\n")
	for _, c := range []struct {
		name string
		p    *Plan
		path string
		so   ScoreOptions
		want []string
	}{
		{"odd bytes", p, odd, ScoreOptions{SampleRate: 20e6}, []string{"odd.iq", "2001 bytes is not a whole number of 2-byte ci8 samples"}},
		{"wrong rate", p, capture, ScoreOptions{SampleRate: 10e6}, []string{"capture.iq", "made at 1e+07 samples/s", "20 Msps"}},
		{"no rate", p, capture, ScoreOptions{}, []string{"capture.iq", "does not say its sample rate"}},
		{"sigmf at 10 Msps", p, slow, ScoreOptions{}, []string{"slow.sigmf-meta", "made at 1e+07 samples/s"}},
		{"sigmf rate disagrees", p, meta, ScoreOptions{SampleRate: 10e6}, []string{"says it was made at 2e+07 samples/s, not 1e+07"}},
		{"unknown name", p, other, ScoreOptions{SampleRate: 20e6}, []string{"capture.bin", "cannot tell the format", "cs8"}},
		{"unknown format", p, other, ScoreOptions{Format: "cu8", SampleRate: 20e6}, []string{"format \"cu8\""}},
		{"off centre", p, capture, ScoreOptions{SampleRate: 20e6, Frequency: 2.46e9}, []string{"centred at 2.46e+09 Hz, the plan at 2.45e+09 Hz"}},
		{"missing", p, filepath.Join(in, "none.iq"), ScoreOptions{SampleRate: 20e6}, []string{"none.iq", "no such file"}},
		{"no plan", nil, capture, ScoreOptions{SampleRate: 20e6}, []string{"no plan"}},
		{"soak plan", soak, capture, ScoreOptions{SampleRate: 20e6}, []string{"soak plan"}},
	} {
		dir := filepath.Join(t.TempDir(), "bad")
		_, err := Score(context.Background(), c.p, c.path, dir, o, c.so)
		for _, s := range c.want {
			if err == nil || !strings.Contains(err.Error(), s) {
				t.Errorf("%s: %v; want %q in it", c.name, err, s)
			}
		}
		if _, serr := os.Stat(dir); serr == nil {
			t.Errorf("%s: the directory was made", c.name)
		}
	}

	// A capture with nothing of the plan in it (the noise before trial tx began):
	// the directory says every frame lost, and the error says what that suggests.
	quiet := filepath.Join(in, "quiet.cs8")
	if err := os.WriteFile(quiet, toCS8(y[:25000]), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "quiet")
	sum, err := Score(context.Background(), p, quiet, dir, o, ScoreOptions{SampleRate: 20e6})
	if !errors.Is(err, ErrNothingHeard) || sum == nil || sum.Heard != 0 || sum.FramesLost != sum.Frames || !strings.Contains(err.Error(), "quiet.cs8") {
		t.Errorf("a capture of nothing: %+v, %v", sum, err)
	}
	if res, _, err := ReadResults(filepath.Join(dir, ResultsFile)); err != nil || len(res) != 6 || res[0].LostReason != "1 not received: run not heard" {
		t.Errorf("results of a capture of nothing: %v, %+v", err, res)
	}
}
