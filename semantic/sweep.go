package semantic

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio/loopback"
	"github.com/m4sc/m4sc/semantic/metrics"
)

// HackRFChannel is SweepOptions.Channel's name for two HackRF Ones joined by a cable
// (package loopback's hackrf preset): a flat channel with both devices' impairments.
const HackRFChannel = "hackrf"

// hackrfPair gives cfg the impairments of the loopback hackrf preset for one message:
// each device's crystal error drawn from +-loopback.HackRFPPMSpread ppm (a carrier offset
// of up to about 100 kHz at 2.45 GHz and the matching sample-clock mismatch, in place of
// the sweep's drawn offset), both oscillators' phase noise, the receiver's I/Q imbalance
// and DC offset, and its 8-bit ADC with the burst's RMS at -20 dBFS.
func hackrfPair(cfg *loopback.ChannelConfig, burst []complex64, seed uint64) {
	var p float64
	n := 0
	for _, v := range burst {
		if e := float64(real(v)*real(v) + imag(v)*imag(v)); e > 0 {
			p += e
			n++
		}
	}
	if n > 0 {
		p /= float64(n)
	}
	ppm := func(s uint64) float64 {
		return (float64(s%40001)/20000 - 1) * loopback.HackRFPPMSpread
	}
	cfg.CarrierOffset = 0
	cfg.CarrierHz = loopback.DefaultFrequency
	cfg.TxPPM, cfg.RxPPM = ppm(seed>>7), ppm(seed>>29)
	cfg.PhaseNoise = 2 * loopback.HackRFPhaseNoise
	cfg.IQGain, cfg.IQPhase = loopback.HackRFIQGain, loopback.HackRFIQPhase
	cfg.DC = complex(loopback.HackRFDC, loopback.HackRFDCQ)
	cfg.Bits = loopback.HackRFBits
	if p > 0 {
		cfg.RefPower = p
		cfg.Level = -20 - 10*math.Log10(p)
	}
}

// SweepOptions configure Sweep.
type SweepOptions struct {
	Task llm.Task
	// Channel is the loopback channel between the two ends: "awgn", a tap profile
	// of package loopback ("epa", "tdl-c", ...; TDL profiles at DefaultTDLCDelaySpread),
	// or HackRFChannel, always with AWGN at each SNR and a carrier offset drawn per message within
	// +-40 kHz (about 16 ppm at 2.45 GHz), which the receiver finds and corrects.
	Channel string
	// Doppler is the maximum Doppler shift of a fading channel, Hz (EPA: 5).
	Doppler    float64
	SNRs       []float64 // dB, the project's definition (full band)
	Schemes    []Scheme
	Bandwidths []int    // symbols per vector for SchemeSemantic (default: every setting)
	Rate       phy.Rate // SchemeDigital's 802.11a rate (default 12 Mbit/s)
	N          int      // held-out items per point
	Seed       uint64
	// WiFiRates are the rates SchemeWiFi runs at (default all eight); its best rate
	// in hindsight at each SNR is a curve of its own (SweepPoint.Best). Its JPEG's
	// budget is the semantic scheme's use at the largest of Bandwidths.
	WiFiRates []phy.Rate
	// ImageFormats are SchemeWiFi's codings of images (default PNG and JPEG).
	ImageFormats []ImageFormat
	// Question picks image.vqa's question among a scene's (default: the first).
	Progress func(done, total int)
}

// SweepPoint is one point of a sweep: a scheme at one SNR over N held-out items.
type SweepPoint struct {
	Task      string `json:"task"`
	Channel   string `json:"channel"`
	Scheme    Scheme `json:"scheme"`
	Bandwidth int    `json:"bandwidth,omitempty"` // symbols per vector (semantic; 80211a JPEG: its budget's)
	RateMbps  int    `json:"rate_mbps,omitempty"` // digital, 80211a
	// Format is an 80211a image's coding (png, jpeg); Best marks the 80211a point
	// of the rate with the best metric at this SNR (ties: the shortest airtime),
	// whose channel use is that rate's.
	Format string  `json:"format,omitempty"`
	Best   bool    `json:"best,omitempty"`
	SNR    float64 `json:"snr_db"`
	N      int     `json:"n"`
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
	Lo, Hi float64 `json:"-"` // 95% interval
	// FrameLoss is the share of frames sent that the receiver did not get whole.
	FrameLoss float64 `json:"frame_loss"`
	// Channel use per item (sentence or image): complex data symbols and airtime,
	// preambles and headers included; per word for text.
	Symbols        float64 `json:"symbols"`
	AirtimeUS      float64 `json:"airtime_us"`
	SymbolsPerWord float64 `json:"symbols_per_word,omitempty"`
	// OverBudget is the share of items an 80211a JPEG could not fit into its budget
	// even at quality 1 (sent anyway, so its channel use is above the budget).
	OverBudget float64 `json:"over_budget,omitempty"`
}

// MetricName is the figure a task is scored by in a sweep and in package sharing.
func MetricName(t llm.Task) string {
	switch t {
	case llm.TextTransmit:
		return "BLEU-1"
	case llm.ImageCaption:
		return "BLEU-4"
	case llm.ImageReconstruct:
		return "PSNR (dB)"
	}
	return "accuracy"
}

// sweepItem is one held-out input and what a receiver should make of it.
type sweepItem struct {
	in       llm.Input
	question string
	want     string
	words    int
}

// sweepItems draws o.N held-out inputs; text as a cased model reads it when cased.
func sweepItems(d *llm.Data, o SweepOptions, cased bool) ([]sweepItem, error) {
	var items []sweepItem
	switch o.Task {
	case llm.TextTransmit, llm.TextEra:
		test := d.Sentences[dataset.Test]
		if len(test) == 0 {
			return nil, fmt.Errorf("semantic: sweep: no test sentences")
		}
		for i := range o.N {
			s := test[i*len(test)/o.N]
			text := s.TextCase(cased)
			want := text
			if o.Task == llm.TextEra {
				want = dataset.EraName(s.Era)
			}
			items = append(items, sweepItem{in: llm.Input{Task: o.Task, Text: text}, want: want, words: len(strings.Fields(text))})
		}
	case llm.ImageClassify:
		test := d.Digits[1]
		if len(test) == 0 {
			return nil, fmt.Errorf("semantic: sweep: no test digits")
		}
		for i := range o.N {
			dg := &test[i*len(test)/o.N]
			items = append(items, sweepItem{in: llm.Input{Task: o.Task, Image: llm.DigitImage(dg, 0, 0)}, want: llm.DigitAnswer(dg.Label)})
		}
	default:
		for i := range o.N {
			sc := dataset.GenerateScene(dataset.SceneTest.Seed(uint64(i)))
			it := sweepItem{in: llm.Input{Task: o.Task, Image: llm.SceneImage(&sc)}, want: sc.Caption}
			if o.Task == llm.ImageVQA {
				if len(sc.QA) == 0 {
					continue
				}
				qa := sc.QA[int(o.Seed+uint64(i))%len(sc.QA)]
				it.question, it.want = qa.Question, qa.Answer
			}
			items = append(items, it)
		}
	}
	return items, nil
}

// Sweep sends N held-out items of a task through the whole chain at every SNR and
// scheme: Send, the loopback channel on the samples, phy's receiver finding frames in
// them, Receive, and scores what comes out. Items and channel draws depend only on the
// seed, so a sweep repeats exactly.
func Sweep(ctx context.Context, ch *Chain, d *llm.Data, o SweepOptions) ([]SweepPoint, error) {
	if o.N < 1 || len(o.SNRs) == 0 || len(o.Schemes) == 0 {
		return nil, fmt.Errorf("semantic: sweep needs n >= 1 (%d), SNRs and schemes", o.N)
	}
	if o.Bandwidths == nil {
		o.Bandwidths = Bandwidths[:]
	}
	if o.Rate.Mbps == 0 {
		o.Rate, _ = phy.RateByMbps(12)
	}
	if o.WiFiRates == nil {
		o.WiFiRates = phy.Rates()
	}
	formats := []ImageFormat{""}
	if o.Task.Image() {
		formats = o.ImageFormats
		if formats == nil {
			formats = []ImageFormat{ImagePNG, ImageJPEG}
		}
	}
	var paths []loopback.Path
	if o.Channel != "" && o.Channel != "awgn" && o.Channel != HackRFChannel {
		p, err := loopback.LookupProfile(o.Channel)
		if err != nil {
			return nil, err
		}
		if paths, err = p.Paths(DefaultTDLCDelaySpread); err != nil {
			return nil, err
		}
	}
	items, err := sweepItems(d, o, ch.Model.Config().Cased)
	if err != nil {
		return nil, err
	}
	type config struct {
		scheme Scheme
		k      int
		rate   phy.Rate
		format ImageFormat
	}
	var configs []config
	for _, s := range o.Schemes {
		switch s {
		case SchemeSemantic:
			for _, k := range o.Bandwidths {
				configs = append(configs, config{scheme: s, k: k})
			}
		case SchemeDigital:
			configs = append(configs, config{scheme: s, rate: o.Rate})
		case SchemeWiFi:
			// A JPEG's budget: the semantic scheme's use at the largest bandwidth.
			k := DefaultBandwidth(o.Task)
			if len(o.Bandwidths) > 0 {
				k = slices.Max(o.Bandwidths)
			}
			for _, f := range formats {
				for _, r := range o.WiFiRates {
					configs = append(configs, config{scheme: s, k: k, rate: r, format: f})
				}
			}
		}
	}
	// Each item's burst is the same at every SNR: send once per configuration.
	bursts := make([][]*Burst, len(configs))
	for c, cf := range configs {
		for _, it := range items {
			b, err := ch.Send(it.in, SendOptions{Scheme: cf.scheme, Bandwidth: max(cf.k, Bandwidths[0]), SNRHint: 10, Rate: cf.rate, Image: cf.format})
			if err != nil {
				return nil, err
			}
			bursts[c] = append(bursts[c], b)
		}
	}
	total, done := len(configs)*len(o.SNRs)*len(items), 0
	var points []SweepPoint
	for _, snr := range o.SNRs {
		first := len(points)
		for c, cf := range configs {
			var acc metrics.Accuracy
			var scores []float64
			var frames, lost, words int
			var symbols, air float64
			over := 0
			for i, it := range items {
				if err := ctx.Err(); err != nil {
					return points, err
				}
				b := bursts[c][i]
				if b.Note != "" {
					over++
				}
				seed := o.Seed ^ uint64(i)<<20 ^ uint64(math.Float64bits(snr))
				cfg := loopback.ChannelConfig{SampleRate: phy.SampleRate, AWGN: true, SNR: snr, Paths: paths, Doppler: o.Doppler,
					CarrierOffset: float64(int64(seed%80001)) - 40000, Seed: seed | 1}
				if o.Channel == HackRFChannel {
					hackrfPair(&cfg, b.Samples, seed)
				}
				got, err := ch.OverChannel(b, cfg, ReceiveOptions{Question: it.question})
				if err != nil {
					return nil, err
				}
				frames += b.Frames
				symbols += float64(b.DataSymbols)
				air += b.AirtimeUS
				words += it.words
				var text string
				var image []float32
				rcvFrames := 0
				for _, r := range got {
					text = strings.TrimSpace(text + " " + r.Text)
					image = r.Image
					rcvFrames += r.Frames - r.Lost
				}
				lost += b.Frames - rcvFrames
				v, err := Score(o.Task, it.want, it.in.Image, text, image)
				if err != nil {
					return nil, err
				}
				switch o.Task {
				case llm.TextTransmit, llm.ImageCaption, llm.ImageReconstruct:
					scores = append(scores, v)
				default:
					acc.Add(v == 1)
				}
				done++
				if o.Progress != nil {
					o.Progress(done, total)
				}
			}
			n := len(items)
			pt := SweepPoint{Task: o.Task.String(), Channel: channelName(o.Channel), Scheme: cf.scheme, Bandwidth: cf.k, SNR: snr, N: n,
				Metric: MetricName(o.Task), FrameLoss: float64(lost) / float64(max(frames, 1)),
				Symbols: symbols / float64(n), AirtimeUS: air / float64(n), OverBudget: float64(over) / float64(n)}
			if cf.scheme != SchemeSemantic {
				pt.RateMbps, pt.Format, pt.Bandwidth = cf.rate.Mbps, string(cf.format), 0
			}
			if cf.format == ImageJPEG {
				pt.Bandwidth = cf.k // the budget's
			}
			if words > 0 {
				pt.SymbolsPerWord = symbols / float64(words)
			}
			if scores != nil {
				pt.Value, pt.Lo, pt.Hi = metrics.MeanInterval(scores)
			} else {
				pt.Value = acc.Rate()
				pt.Lo, pt.Hi = acc.WilsonInterval(1.96)
			}
			points = append(points, pt)
		}
		points = append(points, bestRates(points[first:])...)
	}
	return points, nil
}

// bestRates returns, for each image format, the 80211a point of points (one SNR) with
// the best metric, ties going to the shortest airtime, marked Best.
func bestRates(points []SweepPoint) []SweepPoint {
	var best []SweepPoint
	for _, p := range points {
		if p.Scheme != SchemeWiFi {
			continue
		}
		i := slices.IndexFunc(best, func(b SweepPoint) bool { return b.Format == p.Format })
		switch {
		case i < 0:
			best = append(best, p)
		case p.Value > best[i].Value || p.Value == best[i].Value && p.AirtimeUS < best[i].AirtimeUS:
			best[i] = p
		}
	}
	for i := range best {
		best[i].Best = true
	}
	return best
}

func channelName(c string) string {
	if c == "" {
		return "awgn"
	}
	return c
}

// label names a point's curve.
func (p SweepPoint) label() string {
	switch p.Scheme {
	case SchemeDigital:
		return fmt.Sprintf("digital %d Mbit/s", p.RateMbps)
	case SchemeWiFi:
		l := strings.TrimSpace("80211a " + p.Format)
		if p.Best {
			return l + " best"
		}
		return fmt.Sprintf("%s %d Mbit/s", l, p.RateMbps)
	}
	return fmt.Sprintf("semantic k=%d", p.Bandwidth)
}

// WriteSweepCSV writes points as CSV with a header.
func WriteSweepCSV(w io.Writer, points []SweepPoint) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"task", "channel", "scheme", "bandwidth", "rate_mbps", "snr_db", "n", "metric", "value", "lo95", "hi95", "frame_loss", "symbols", "airtime_us", "symbols_per_word", "format", "best", "over_budget"})
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
	for _, p := range points {
		cw.Write([]string{p.Task, p.Channel, string(p.Scheme), strconv.Itoa(p.Bandwidth), strconv.Itoa(p.RateMbps), f(p.SNR), strconv.Itoa(p.N),
			p.Metric, f(p.Value), f(p.Lo), f(p.Hi), f(p.FrameLoss), f(p.Symbols), f(p.AirtimeUS), f(p.SymbolsPerWord), p.Format, strconv.FormatBool(p.Best), f(p.OverBudget)})
	}
	cw.Flush()
	return cw.Error()
}

// SweepMarkdown renders points as a table: one row per SNR, one column per curve.
func SweepMarkdown(points []SweepPoint) string {
	var labels []string
	var snrs []float64
	val := map[string]map[float64]SweepPoint{}
	for _, p := range points {
		l := p.label()
		if val[l] == nil {
			val[l] = map[float64]SweepPoint{}
			labels = append(labels, l)
		}
		val[l][p.SNR] = p
		if !slices.Contains(snrs, p.SNR) {
			snrs = append(snrs, p.SNR)
		}
	}
	if len(points) == 0 {
		return ""
	}
	var b strings.Builder
	p0 := points[0]
	fmt.Fprintf(&b, "%s over %s, %s of %d held-out items per point (95%% interval); channel use per item:", p0.Task, p0.Channel, p0.Metric, p0.N)
	for _, l := range labels {
		if strings.HasSuffix(l, " best") {
			continue // that of the rate named in each cell
		}
		for _, s := range snrs {
			if p, ok := val[l][s]; ok {
				fmt.Fprintf(&b, " %s %.0f symbols, %.0f us", l, p.Symbols, p.AirtimeUS)
				if p.SymbolsPerWord > 0 {
					fmt.Fprintf(&b, " (%.1f per word)", p.SymbolsPerWord)
				}
				b.WriteString(";")
				break
			}
		}
	}
	b.WriteString("\n\n| SNR (dB) |")
	for _, l := range labels {
		fmt.Fprintf(&b, " %s |", l)
	}
	b.WriteString("\n| --- |")
	for range labels {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, s := range snrs {
		fmt.Fprintf(&b, "| %g |", s)
		for _, l := range labels {
			p, ok := val[l][s]
			if !ok {
				b.WriteString(" |")
				continue
			}
			fmt.Fprintf(&b, " %.3f [%.3f, %.3f]", p.Value, p.Lo, p.Hi)
			if p.Best {
				fmt.Fprintf(&b, " at %d Mbit/s", p.RateMbps)
			}
			if p.FrameLoss > 0 {
				fmt.Fprintf(&b, ", %.0f%% frames lost", 100*p.FrameLoss)
			}
			if p.OverBudget > 0 {
				fmt.Fprintf(&b, ", %.0f%% over budget", 100*p.OverBudget)
			}
			b.WriteString(" |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// OverChannel passes a burst's samples through a loopback channel (cfg; its sample
// rate is set to phy's), finds the frames in what comes out with phy's receiver and
// decodes them: the whole air interface in one call, for sweeps and demonstrations.
func (c *Chain) OverChannel(b *Burst, cfg loopback.ChannelConfig, o ReceiveOptions) ([]Received, error) {
	cfg.SampleRate = phy.SampleRate
	chn, err := loopback.NewChannel(cfg)
	if err != nil {
		return nil, err
	}
	const lead = 300
	y := make([]complex64, len(b.Samples)+2*lead)
	chn.Process(y, &loopback.SliceInput{Start: lead, Data: b.Samples})
	rcv, err := phy.NewReceiver(phy.ReceiverConfig{})
	if err != nil {
		return nil, err
	}
	return c.Receive(rcv.Flush(rcv.Receive(nil, y)), o)
}
