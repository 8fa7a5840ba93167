package semantic

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/semantic/metrics"
)

func TestCompressText(t *testing.T) {
	for _, s := range []string{
		"we the people of the united states in order to form a more perfect union",
		"Ünïcödé — “quoted” text, 2001.",
		strings.Repeat("the state of the union is strong ", 200),
		"a",
	} {
		c := CompressText(nil, s)
		got, err := DecompressText(c)
		if err != nil || got != s {
			t.Errorf("%.30q: round trip gave %.30q, %v", s, got, err)
		}
		if len(s) > 200 && len(c) >= len(s)/10 {
			t.Errorf("%.30q: %d octets compressed to %d", s, len(s), len(c))
		}
	}
	// Damaged data: what came before the damage, and an error; never a panic.
	c := CompressText(nil, strings.Repeat("abc def ", 100))
	if _, err := DecompressText(c[:len(c)/2]); err == nil {
		t.Error("truncated data decoded without an error")
	}
	if _, err := DecompressText([]byte{0xff, 0x00, 0x13}); err == nil {
		t.Error("garbage decoded without an error")
	}
}

// The JPEG is the highest quality whose payload fits its budget, and decodes to
// something close to the input.
func TestJPEGFitsBudget(t *testing.T) {
	sc := dataset.GenerateScene(dataset.SceneTest.Seed(3))
	v := llm.SceneImage(&sc)
	for _, budget := range []int{NoBudget, 0, 40, 80, 128, 300, 600} {
		data, q, fits, err := EncodeImage(v, ImageJPEG, budget)
		if err != nil {
			t.Fatal(err)
		}
		if budget >= 0 && fits != (len(data) <= budget) {
			t.Errorf("budget %d: %d octets, fits=%v", budget, len(data), fits)
		}
		switch budget {
		case NoBudget:
			if q != 100 || !fits {
				t.Errorf("no budget: quality %d, fits=%v; want 100, true", q, fits)
			}
		case 0:
			if q != 1 || fits {
				t.Errorf("budget of 0 octets: quality %d, fits=%v; want 1, false", q, fits)
			}
		}
		if budget >= 0 && fits && q < 100 {
			// Every higher quality is over the budget.
			for q2 := q + 1; q2 <= 100; q2++ {
				d2, err := encodeJPEG(PixelImage(v), q2)
				if err != nil {
					t.Fatal(err)
				}
				if len(d2) <= budget {
					t.Errorf("budget %d: quality %d chosen, %d fits too (%d octets)", budget, q, q2, len(d2))
					break
				}
			}
		}
		got, err := DecodeImage(ImageJPEG, data)
		if err != nil {
			t.Fatalf("budget %d, quality %d: %v", budget, q, err)
		}
		p, err := metrics.PSNR(v, got, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("budget %d: quality %d, %d octets, fits %v, PSNR %.1f dB", budget, q, len(data), fits, p)
		if q >= 50 && p < 25 {
			t.Errorf("quality %d: PSNR %.1f dB", q, p)
		}
	}
	// PNG is lossless.
	data, _, _, err := EncodeImage(v, ImagePNG, NoBudget)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeImage(ImagePNG, data)
	if err != nil || !slices.Equal(got, v) {
		t.Errorf("PNG round trip: %v", err)
	}
	// The budget rule: octets the DATA field carries in the budget's OFDM symbols.
	r54, _ := phy.RateByMbps(54)
	if n := BudgetOctets(256, r54); n != 128 || r54.DataSymbols(n+phy.FCSLen)*phy.DataCarriers > 256 || r54.DataSymbols(n+1+phy.FCSLen)*phy.DataCarriers <= 256 {
		t.Errorf("BudgetOctets(256, 54 Mbit/s) = %d", n)
	}
	for _, bad := range [][]byte{nil, {0}, {101, 1, 2}, {50, 0xff, 0xd9}} {
		if _, err := DecodeImage(ImageJPEG, bad); err == nil {
			t.Errorf("DecodeImage(% x) gave no error", bad)
		}
	}
}

// A frame of WiFiFrameOctets at each rate is a valid m4sc frame; one octet more is
// not.
func TestWiFiFrameOctets(t *testing.T) {
	tx, err := phy.NewTransmitter(phy.TransmitterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range phy.Rates() {
		for _, extra := range []int{0, 1} {
			n := WiFiFrameOctets(r) + phy.FCSLen + extra
			h := phy.SemanticHeader{Version: phy.SemanticVersion, Kind: phy.KindSemantic, Address: 1, Sequence: 0, Length: uint16(n), Scheme: phy.SchemeFor(r)}
			_, err := tx.SemanticDigital(nil, h, make([]byte, n), 0x5d)
			if (err == nil) != (extra == 0) {
				t.Errorf("%d Mbit/s, %d octets: %v", r.Mbps, n, err)
			}
		}
	}
}

// wifiChain is a chain of the shipped model and an untrained codec (SchemeWiFi does
// not use the codec).
func wifiChain(t *testing.T) *Chain {
	m := shippedModel(t)
	c, err := NewCodec(CodecConfig{Hidden: 4}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := NewChain(m, c)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// Every task round-trips through the loopback at 30 dB with the output of the
// model on the input itself (PNG, or JPEG for its own decoded image).
func TestChainWiFi(t *testing.T) {
	ch := wifiChain(t)
	m := ch.Model
	sc := dataset.GenerateScene(dataset.SceneTest.Seed(5))
	scene := llm.SceneImage(&sc)
	text := "we the people of the united states in order to form a more perfect union"
	cases := []struct {
		task     llm.Task
		mbps     int
		format   ImageFormat
		question string
	}{
		{llm.TextTransmit, 6, "", ""},
		{llm.TextTransmit, 54, "", ""},
		{llm.TextEra, 24, "", ""},
		{llm.ImageCaption, 12, ImagePNG, ""},
		{llm.ImageCaption, 36, ImageJPEG, ""},
		{llm.ImageVQA, 18, ImagePNG, sc.QA[0].Question},
		{llm.ImageClassify, 48, ImagePNG, ""},
		{llm.ImageReconstruct, 9, ImagePNG, ""},
		{llm.ImageReconstruct, 54, ImageJPEG, ""},
	}
	for i, tc := range cases {
		rate, _ := phy.RateByMbps(tc.mbps)
		in := llm.Input{Task: tc.task, Text: text, Image: scene}
		if tc.task.Image() {
			in.Text = ""
		} else {
			in.Image = nil
		}
		b, err := ch.Send(in, SendOptions{Scheme: SchemeWiFi, Rate: rate, Image: tc.format, SymbolBudget: 6000})
		if err != nil {
			t.Fatalf("%s: %v", tc.task, err)
		}
		got, err := ch.Receive(overAir(t, b.Samples, 30, "", uint64(i+1)), ReceiveOptions{Question: tc.question})
		if err != nil {
			t.Fatalf("%s: %v", tc.task, err)
		}
		if len(got) != 1 || got[0].Lost != 0 || got[0].Scheme != SchemeWiFi || got[0].RateMbps != tc.mbps {
			t.Fatalf("%s: received %+v", tc.task, got)
		}
		r := got[0]
		// What the receiver should have: the model on the decoded source.
		want := in
		if tc.format == ImageJPEG {
			data, _, _, err := EncodeImage(scene, ImageJPEG, BudgetOctets(6000, rate))
			if err != nil {
				t.Fatal(err)
			}
			if want.Image, err = DecodeImage(ImageJPEG, data); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s at %d Mbit/s, %s (%d octets): %d frames, %d symbols, %.0f us: %q", tc.task, tc.mbps, b.Format, b.SourceOctets, b.Frames, b.DataSymbols, b.AirtimeUS, r.Text)
		switch tc.task {
		case llm.TextTransmit:
			if r.Text != text {
				t.Errorf("received %q, sent %q", r.Text, text)
			}
		case llm.ImageReconstruct:
			if !slices.Equal(r.Image, want.Image) {
				t.Errorf("%s: the received image differs from the decoded source", tc.format)
			}
		default:
			sem, err := m.Encode(want)
			if err != nil {
				t.Fatal(err)
			}
			clean, err := m.Decode(sem, llm.Instruction{Task: tc.task, Question: tc.question}, llm.DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Text != clean.Text {
				t.Errorf("%s: received %q, the model on the source says %q", tc.task, r.Text, clean.Text)
			}
		}
	}
}

// A frame lost or failing its FCS loses what it carried: an empty text, the text
// before the gap, a grey image; each marked, none a crash.
func TestChainWiFiLost(t *testing.T) {
	ch := wifiChain(t)
	rate, _ := phy.RateByMbps(54)
	// Random words compress badly: a text of two frames.
	rng := rand.New(rand.NewPCG(2, 2))
	var words []string
	for len(strings.Join(words, " ")) < 9000 {
		w := make([]byte, 3+rng.IntN(6))
		for i := range w {
			w[i] = byte('a' + rng.IntN(26))
		}
		words = append(words, string(w))
	}
	text := strings.Join(words, " ")
	b, err := ch.Send(llm.Input{Task: llm.TextTransmit, Text: text}, SendOptions{Scheme: SchemeWiFi, Rate: rate})
	if err != nil {
		t.Fatal(err)
	}
	if b.Frames != 2 {
		t.Fatalf("%d octets in %d frames, want 2", b.SourceOctets, b.Frames)
	}
	frames := overAir(t, b.Samples, 30, "", 9)
	if len(frames) != 2 {
		t.Fatalf("%d frames found", len(frames))
	}
	// The second frame lost: the text before the gap.
	got, err := ch.Receive(frames[:1], ReceiveOptions{})
	if err != nil || len(got) != 1 {
		t.Fatalf("%+v, %v", got, err)
	}
	if r := got[0]; r.Lost != 1 || r.Partial == "" || r.Text == "" || !strings.HasPrefix(text, r.Text) {
		t.Errorf("second frame lost: lost %d, partial %q, %d of %d characters, a prefix: %v", r.Lost, r.Partial, len(r.Text), len(text), strings.HasPrefix(text, r.Text))
	}
	// The first frame's FCS failed: nothing.
	bad := slices.Clone(frames)
	bad[0].PSDU = slices.Clone(bad[0].PSDU)
	bad[0].PSDU[7] ^= 1
	got, err = ch.Receive(bad, ReceiveOptions{})
	if err != nil || len(got) != 1 {
		t.Fatalf("%+v, %v", got, err)
	}
	if r := got[0]; r.Lost != 1 || r.Partial == "" || r.Text != "" {
		t.Errorf("first frame failed its FCS: lost %d, partial %q, text %.20q", r.Lost, r.Partial, r.Text)
	}
	// An image whose frame failed: mid-grey, and the tasks run on it.
	sc := dataset.GenerateScene(dataset.SceneTest.Seed(1))
	for _, task := range []llm.Task{llm.ImageReconstruct, llm.ImageCaption} {
		b, err := ch.Send(llm.Input{Task: task, Image: llm.SceneImage(&sc)}, SendOptions{Scheme: SchemeWiFi, Rate: rate})
		if err != nil {
			t.Fatal(err)
		}
		frames := overAir(t, b.Samples, 30, "", 4)
		if len(frames) != 1 {
			t.Fatalf("%d frames found", len(frames))
		}
		frames[0].PSDU[len(frames[0].PSDU)-1] ^= 0x80
		got, err := ch.Receive(frames, ReceiveOptions{})
		if err != nil || len(got) != 1 {
			t.Fatalf("%+v, %v", got, err)
		}
		r := got[0]
		if r.Lost != 1 || r.Partial == "" {
			t.Errorf("%s: lost %d, partial %q", task, r.Lost, r.Partial)
		}
		if task == llm.ImageReconstruct && !slices.Equal(r.Image, GreyImage()) {
			t.Errorf("%s: the lost image is not mid-grey", task)
		}
		t.Logf("%s with its frame lost: %q (%s)", task, r.Text, r.Partial)
	}
}

// The best 80211a rate at an SNR is the one of the best metric, ties going to the
// shorter airtime, per image format; the table names it.
func TestBestRates(t *testing.T) {
	pts := []SweepPoint{
		{Scheme: SchemeSemantic, Bandwidth: 16, Value: 1},
		{Scheme: SchemeWiFi, RateMbps: 6, Value: 0.9, AirtimeUS: 100},
		{Scheme: SchemeWiFi, RateMbps: 12, Value: 0.9, AirtimeUS: 60},
		{Scheme: SchemeWiFi, RateMbps: 24, Value: 0.5, AirtimeUS: 40},
		{Scheme: SchemeWiFi, RateMbps: 6, Format: "jpeg", Value: 0.2, AirtimeUS: 100},
		{Scheme: SchemeWiFi, RateMbps: 54, Format: "jpeg", Value: 0.3, AirtimeUS: 30},
	}
	best := bestRates(pts)
	if len(best) != 2 || !best[0].Best || best[0].RateMbps != 12 || best[1].RateMbps != 54 || best[1].Format != "jpeg" {
		t.Fatalf("best %+v", best)
	}
	if l := best[0].label(); l != "80211a best" {
		t.Errorf("label %q", l)
	}
	if l := best[1].label(); l != "80211a jpeg best" {
		t.Errorf("label %q", l)
	}
	md := SweepMarkdown(append(pts, best...))
	if !strings.Contains(md, "| 80211a best |") || !strings.Contains(md, "0.900 [0.000, 0.000] at 12 Mbit/s") || !strings.Contains(md, "80211a 24 Mbit/s") {
		t.Errorf("table:\n%s", md)
	}
}
