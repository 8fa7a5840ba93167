package metrics

import (
	"fmt"
	"math"
)

// MaxOrder is the longest n-gram BLEU counts here; BLEU-4 is the usual report.
const MaxOrder = 4

// SmoothingEpsilon is the count that SmoothedSentenceBLEU puts in place of zero
// matches (Chen and Cherry 2014, method 1).
const SmoothingEpsilon = 0.1

// SentenceBLEU returns BLEU-n of hyp against the single reference ref, in [0, 1].
// Tokens are compared as strings; make them with Words.
//
// Specified in Papineni et al. 2002, section 2: p_k is the modified precision of
// order k, the hypothesis's k-grams matched against the reference with each k-gram's
// matches clipped to its count in the reference, over the number of k-grams in the
// hypothesis; BLEU-n = BP exp(sum_{k=1..n} (1/n) log p_k), with brevity penalty
// BP = exp(1 - r/c) when the hypothesis length c is below the reference length r and
// 1 otherwise (section 2.2.2).
//
// There is no smoothing: if some order up to n has no match, and so also if hyp has
// fewer than n tokens, the score is 0, as the paper's formula gives (log 0). An empty
// hyp scores 0. For a score that still ranks such sentences use
// SmoothedSentenceBLEU.
//
// SentenceBLEU panics if n is outside 1..MaxOrder.
func SentenceBLEU(ref, hyp []string, n int) float64 {
	checkOrder(n)
	var c counter
	return c.count(ref, hyp).bleu(n, false)
}

// SmoothedSentenceBLEU is SentenceBLEU with smoothing method 1 of Chen and Cherry
// (WMT 2014, section 3.1): an order with no match gets precision
// SmoothingEpsilon / (number of hypothesis k-grams), so one missing order lowers the
// score instead of zeroing it. When hyp is shorter than k tokens the order has no
// k-grams at all and its precision is taken as SmoothingEpsilon / 1. An empty hyp
// still scores 0. It panics if n is outside 1..MaxOrder.
func SmoothedSentenceBLEU(ref, hyp []string, n int) float64 {
	checkOrder(n)
	var c counter
	return c.count(ref, hyp).bleu(n, true)
}

// BLEU accumulates reference-hypothesis pairs for BLEU over an evaluation set. The
// zero value is ready to use; Add reuses its scratch maps, so steady-state use does
// not allocate per sentence beyond map growth.
type BLEU struct {
	sum       ngramCounts
	sentSum   [MaxOrder]float64 // sum over sentences of sentence BLEU-(k+1)
	sentences int
	scratch   counter
}

// Add counts one hypothesis against its reference. Tokens are compared as strings;
// make them with Words.
func (b *BLEU) Add(ref, hyp []string) {
	c := b.scratch.count(ref, hyp)
	for k := range MaxOrder {
		b.sum.match[k] += c.match[k]
		b.sum.total[k] += c.total[k]
		b.sentSum[k] += c.bleu(k+1, false)
	}
	b.sum.refLen += c.refLen
	b.sum.hypLen += c.hypLen
	b.sentences++
}

// Count returns the number of pairs added.
func (b *BLEU) Count() int { return b.sentences }

// Score returns corpus BLEU-n (Papineni et al. 2002, section 2.2.2): the clipped
// matches and the k-gram counts of every order are summed over all sentences before
// the precisions are taken, and the brevity penalty uses the summed lengths. A
// sentence without a 4-gram match therefore does not zero the corpus score, unlike
// the mean of sentence scores. It is 0 when nothing was added or some order has no
// match in the whole set. Score panics if n is outside 1..MaxOrder.
func (b *BLEU) Score(n int) float64 {
	checkOrder(n)
	return b.sum.bleu(n, false)
}

// MeanSentence returns the mean over the added pairs of SentenceBLEU(ref, hyp, n),
// the figure DeepSC reports, or 0 when nothing was added. It panics if n is outside
// 1..MaxOrder.
func (b *BLEU) MeanSentence(n int) float64 {
	checkOrder(n)
	if b.sentences == 0 {
		return 0
	}
	return b.sentSum[n-1] / float64(b.sentences)
}

// Reset forgets all pairs and keeps the scratch space.
func (b *BLEU) Reset() {
	b.sum = ngramCounts{}
	b.sentSum = [MaxOrder]float64{}
	b.sentences = 0
}

func checkOrder(n int) {
	if n < 1 || n > MaxOrder {
		panic(fmt.Sprintf("metrics: BLEU order %d outside 1..%d", n, MaxOrder))
	}
}

// ngramCounts holds what BLEU needs of one pair or of a sum of pairs:
// match[k] clipped matches and total[k] hypothesis n-grams of order k+1.
type ngramCounts struct {
	match, total   [MaxOrder]int
	refLen, hypLen int
}

// bleu combines the counts of orders 1..n into BLEU-n, optionally with
// Chen and Cherry's method 1 (see SmoothedSentenceBLEU).
func (c ngramCounts) bleu(n int, smooth bool) float64 {
	if c.hypLen == 0 {
		return 0
	}
	// The geometric mean is taken in the log domain, as the paper writes it, which
	// also keeps products of small precisions from underflowing.
	var logP float64
	for k := range n {
		num, den := float64(c.match[k]), float64(c.total[k])
		if c.match[k] == 0 {
			if !smooth {
				return 0
			}
			num, den = SmoothingEpsilon, max(den, 1)
		}
		logP += math.Log(num / den)
	}
	logBP := 0.0
	if c.hypLen < c.refLen {
		logBP = 1 - float64(c.refLen)/float64(c.hypLen)
	}
	return math.Exp(logBP + logP/float64(n))
}

// ngram is a k-gram of token ids; entries past n are unused and zero.
type ngram struct {
	n   uint8
	ids [MaxOrder]int32
}

// counter holds scratch space for counting n-grams of one pair. Tokens are first
// turned into small integer ids so every n-gram, of any order, is a fixed-size map
// key and building keys allocates nothing.
type counter struct {
	vocab          map[string]int32
	refIDs, hypIDs []int32
	refN, hypN     map[ngram]int32
}

func (c *counter) count(ref, hyp []string) ngramCounts {
	if c.vocab == nil {
		c.vocab = make(map[string]int32)
		c.refN = make(map[ngram]int32)
		c.hypN = make(map[ngram]int32)
	}
	clear(c.vocab)
	clear(c.refN)
	clear(c.hypN)
	c.refIDs = c.ids(c.refIDs[:0], ref)
	c.hypIDs = c.ids(c.hypIDs[:0], hyp)
	countNgrams(c.refN, c.refIDs)
	countNgrams(c.hypN, c.hypIDs)

	out := ngramCounts{refLen: len(ref), hypLen: len(hyp)}
	for k := range MaxOrder {
		out.total[k] = max(0, len(hyp)-k)
	}
	for g, h := range c.hypN {
		// Clipping (Papineni et al., section 2.1): a k-gram matches at most as
		// often as it occurs in the reference.
		out.match[g.n-1] += int(min(h, c.refN[g]))
	}
	return out
}

func (c *counter) ids(dst []int32, toks []string) []int32 {
	for _, t := range toks {
		id, ok := c.vocab[t]
		if !ok {
			id = int32(len(c.vocab))
			c.vocab[t] = id
		}
		dst = append(dst, id)
	}
	return dst
}

func countNgrams(m map[ngram]int32, ids []int32) {
	for i := range ids {
		var g ngram
		for k := 0; k < MaxOrder && i+k < len(ids); k++ {
			g.ids[k] = ids[i+k]
			g.n = uint8(k + 1)
			m[g]++
		}
	}
}
