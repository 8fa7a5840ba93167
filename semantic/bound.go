package semantic

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/m4sc/m4sc/llm"
)

// BoundLevel is the metric (BLEU-1) at which a text sweep's curve is compared with its
// bound: the lowest SNR where the curve reaches it, less the bound's SNR, is its gap.
const BoundLevel = 0.9

// SweepBound is the capacity bound of a text.transmit sweep at one semantic bandwidth.
// The language model's cross-entropy on the swept sentences gives the information a
// word carries, BitsPerWord; at SymbolsPerWord complex symbols a word, no code can
// deliver it below the SNR where SymbolsPerWord log2(1 + SNR) = BitsPerWord (Shannon's
// capacity of the AWGN channel per complex symbol).
type SweepBound struct {
	Bandwidth      int     `json:"bandwidth"`
	SymbolsPerWord float64 `json:"symbols_per_word"`
	BitsPerWord    float64 `json:"bits_per_word"`
	SNR            float64 `json:"snr_db"`
	// Reach is the lowest SNR at which the curve reaches BoundLevel, interpolated
	// linearly between swept points (NaN if it never does); Gap is Reach - SNR.
	Reach float64 `json:"reach_db"`
	Gap   float64 `json:"gap_db"`
}

// TextBounds returns the bound of every semantic curve of a text.transmit sweep, from
// the model's perplexity on the sentences the sweep sent (the same draw as Sweep's).
// It returns nil for other tasks.
func TextBounds(m *llm.Model, d *llm.Data, o SweepOptions, points []SweepPoint) ([]SweepBound, error) {
	if o.Task != llm.TextTransmit {
		return nil, nil
	}
	items, err := sweepItems(d, o, m.Config().Cased)
	if err != nil {
		return nil, err
	}
	texts := make([]string, len(items))
	words := 0
	for i, it := range items {
		texts[i] = it.in.Text
		words += it.words
	}
	if words == 0 {
		return nil, fmt.Errorf("semantic: bound: the sweep's sentences have no words")
	}
	ppl, tokens, err := m.Perplexity(texts)
	if err != nil {
		return nil, fmt.Errorf("semantic: bound: %w", err)
	}
	bits := math.Log2(ppl) * float64(tokens) / float64(words)
	var out []SweepBound
	for _, k := range sweptBandwidths(points) {
		var curve []SweepPoint
		for _, p := range points {
			if p.Scheme == SchemeSemantic && p.Bandwidth == k {
				curve = append(curve, p)
			}
		}
		spw := curve[0].SymbolsPerWord
		if !(spw > 0) {
			continue
		}
		b := SweepBound{Bandwidth: k, SymbolsPerWord: spw, BitsPerWord: bits,
			SNR: 10 * math.Log10(math.Exp2(bits/spw)-1), Reach: reach(curve, BoundLevel)}
		b.Gap = b.Reach - b.SNR
		out = append(out, b)
	}
	return out, nil
}

// sweptBandwidths lists the semantic bandwidths of points in increasing order.
func sweptBandwidths(points []SweepPoint) []int {
	var ks []int
	for _, p := range points {
		if p.Scheme == SchemeSemantic && !slices.Contains(ks, p.Bandwidth) {
			ks = append(ks, p.Bandwidth)
		}
	}
	slices.Sort(ks)
	return ks
}

// reach is the lowest SNR at which a curve reaches level, interpolated between the
// points around the first crossing from below (NaN if no point reaches it; the first
// point's SNR if it starts there).
func reach(curve []SweepPoint, level float64) float64 {
	c := slices.Clone(curve)
	slices.SortFunc(c, func(a, b SweepPoint) int { return cmp.Compare(a.SNR, b.SNR) })
	for i, p := range c {
		if p.Value < level {
			continue
		}
		if i == 0 {
			return p.SNR
		}
		q := c[i-1]
		return q.SNR + (level-q.Value)/(p.Value-q.Value)*(p.SNR-q.SNR)
	}
	return math.NaN()
}

// BoundsMarkdown describes the bounds as a markdown table with the gap of each curve.
func BoundsMarkdown(bounds []SweepBound) string {
	if len(bounds) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The bound: the model's cross-entropy on these sentences is %.2f bits per word; at k complex symbols per word no code delivers them below the SNR where k log2(1 + SNR) = %.2f. Gap: the lowest SNR at which the curve reaches BLEU-1 %.2f (interpolated), less the bound.\n\n", bounds[0].BitsPerWord, bounds[0].BitsPerWord, BoundLevel)
	fmt.Fprintf(&b, "| curve | symbols per word | bound (dB) | reaches BLEU-1 %.2f at (dB) | gap (dB) |\n| --- | --- | --- | --- | --- |\n", BoundLevel)
	for _, x := range bounds {
		r, g := "never", "-"
		if !math.IsNaN(x.Reach) {
			r, g = fmt.Sprintf("%.1f", x.Reach), fmt.Sprintf("%.1f", x.Gap)
		}
		fmt.Fprintf(&b, "| semantic k=%d | %.1f | %.1f | %s | %s |\n", x.Bandwidth, x.SymbolsPerWord, x.SNR, r, g)
	}
	return b.String()
}
