package metrics

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func near(a, b, tol float64) bool {
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	return math.Abs(a-b) <= tol
}

// TestSentenceBLEU checks scores counted by hand.
func TestSentenceBLEU(t *testing.T) {
	const (
		cat = "the cat sat on the mat"
		is  = "the cat is on the mat"
	)
	tests := []struct {
		name     string
		ref, hyp string
		n        int
		want     float64
	}{
		// "the cat is on the mat" against "the cat sat on the mat", both 6 words:
		// unigrams: the 2 (2 in ref), cat 1, is 0, on 1, mat 1 -> p1 = 5/6;
		// bigrams: the cat, cat is, is on, on the, the mat; ref has the cat, on the,
		// the mat -> p2 = 3/5;
		// trigrams: the cat is, cat is on, is on the, on the mat; only the last is
		// in ref -> p3 = 1/4;
		// 4-grams: the cat is on, cat is on the, is on the mat; none -> p4 = 0.
		// c = r, so BP = 1.
		{"p1", cat, is, 1, 5.0 / 6},
		{"p1 p2", cat, is, 2, math.Sqrt(5.0 / 6 * 3 / 5)},
		// 5/6 * 3/5 * 1/4 = 1/8, whose cube root is 1/2.
		{"p1 p2 p3", cat, is, 3, 0.5},
		{"no 4-gram match", cat, is, 4, 0},

		{"identical", cat, cat, 4, 1},
		{"identical 1", "hello", "hello", 1, 1},
		{"disjoint", cat, "a dog ran off", 1, 0},
		{"disjoint 4", cat, "a dog ran off", 4, 0},

		// Clipping: "the" occurs 4 times in the hypothesis but once in the
		// reference, so p1 = 1/4; c = 4 > r = 2, so BP = 1. The only bigram is
		// "the the" (3 times), not in the reference, so BLEU-2 is 0.
		{"clipping 1", "the cat", "the the the the", 1, 0.25},
		{"clipping 2", "the cat", "the the the the", 2, 0},

		// Brevity: hypothesis "the cat" is 2 words, reference 6; p1 = 2/2 and
		// p2 = 1/1, so BLEU = BP = exp(1 - 6/2) = exp(-2) for n = 1 and 2.
		{"brevity 1", cat, "the cat", 1, math.Exp(-2)},
		{"brevity 2", cat, "the cat", 2, math.Exp(-2)},
		// Shorter than n: no trigram at all, so the score is 0.
		{"shorter than n", cat, "the cat", 3, 0},

		// A longer hypothesis has no penalty: "the cat sat on the mat today",
		// p1 = 6/7, p2 = 5/6.
		{"longer", cat, cat + " today", 2, math.Sqrt(6.0 / 7 * 5 / 6)},

		{"empty hypothesis", cat, "", 1, 0},
		{"empty both", "", "", 1, 0},
		// Empty reference: the words cannot match.
		{"empty reference", "", "the cat", 1, 0},
	}
	for _, tc := range tests {
		got := SentenceBLEU(strings.Fields(tc.ref), strings.Fields(tc.hyp), tc.n)
		if !near(got, tc.want, 1e-14) {
			t.Errorf("%s: SentenceBLEU(%q, %q, %d) = %.17g, want %.17g", tc.name, tc.ref, tc.hyp, tc.n, got, tc.want)
		}
	}
}

// TestSmoothedSentenceBLEU checks Chen and Cherry's method 1 by hand.
func TestSmoothedSentenceBLEU(t *testing.T) {
	tests := []struct {
		name     string
		ref, hyp string
		n        int
		want     float64
	}{
		// p1 = 1/4 and p2 = 0/3 smoothed to 0.1/3: sqrt(1/4 * 0.1/3) = sqrt(1/120).
		{"clipping", "the cat", "the the the the", 2, math.Sqrt(1.0 / 120)},
		// From TestSentenceBLEU: 1/8 * 0.1/3 = 1/240, fourth root.
		{"no 4-gram", "the cat sat on the mat", "the cat is on the mat", 4, math.Pow(1.0/240, 0.25)},
		// Orders with matches are untouched.
		{"all match", "a b c d", "a b c d", 4, 1},
		// No trigram in a 2-word hypothesis: p3 = 0.1/1. BP = exp(1 - 6/2).
		{"short", "the cat sat on the mat", "the cat", 3, math.Exp(-2) * math.Cbrt(0.1)},
		{"empty", "a b", "", 2, 0},
	}
	for _, tc := range tests {
		got := SmoothedSentenceBLEU(strings.Fields(tc.ref), strings.Fields(tc.hyp), tc.n)
		if !near(got, tc.want, 1e-14) {
			t.Errorf("%s: got %.17g, want %.17g", tc.name, got, tc.want)
		}
	}
}

// TestCorpusVersusMean shows where corpus BLEU and the mean of sentence BLEU part.
func TestCorpusVersusMean(t *testing.T) {
	var b BLEU
	// Pair A: p1 = 5/6, c = r = 6 (see TestSentenceBLEU).
	b.Add(Words("the cat sat on the mat"), Words("the cat is on the mat"))
	// Pair B: p1 = 2/2, c = 2 < r = 4, BP = exp(1 - 4/2) = exp(-1).
	b.Add(Words("the dog ran away"), Words("the dog"))

	if b.Count() != 2 {
		t.Fatalf("Count = %d, want 2", b.Count())
	}
	// Mean of sentences: (5/6 + exp(-1)) / 2.
	if got, want := b.MeanSentence(1), (5.0/6+math.Exp(-1))/2; !near(got, want, 1e-14) {
		t.Errorf("MeanSentence(1) = %.17g, want %.17g", got, want)
	}
	// Corpus: matches 5 + 2 = 7 of 6 + 2 = 8 unigrams; lengths c = 8, r = 10, so
	// BP = exp(1 - 10/8) = exp(-1/4).
	if got, want := b.Score(1), 7.0/8*math.Exp(-0.25); !near(got, want, 1e-14) {
		t.Errorf("Score(1) = %.17g, want %.17g", got, want)
	}
	// Pair A has no 4-gram match and B no 4-gram, so both are 0 at n = 4.
	if got := b.MeanSentence(4); got != 0 {
		t.Errorf("MeanSentence(4) = %v, want 0", got)
	}
	// A long identical pair gives the corpus 4-gram matches, while pair A still
	// contributes a sentence score of 0 to the mean.
	b.Add(Words("one two three four five six"), Words("one two three four five six"))
	// Corpus counts, per order (A + B + C):
	//   1: 5+2+6 = 13 of 6+2+6 = 14
	//   2: 3+1+5 =  9 of 5+1+5 = 11
	//   3: 1+0+4 =  5 of 4+0+4 =  8
	//   4: 0+0+3 =  3 of 3+0+3 =  6
	// c = 14, r = 16: BP = exp(1 - 16/14).
	want := math.Exp(1-16.0/14) * math.Pow(13.0/14*9/11*5/8*3/6, 0.25)
	if got := b.Score(4); !near(got, want, 1e-14) {
		t.Errorf("Score(4) = %.17g, want %.17g", got, want)
	}
	if got, want := b.MeanSentence(4), 1.0/3; !near(got, want, 1e-14) {
		t.Errorf("MeanSentence(4) = %.17g, want %.17g", got, want)
	}

	b.Reset()
	if b.Count() != 0 || b.Score(4) != 0 || b.MeanSentence(4) != 0 {
		t.Errorf("after Reset: Count %d, Score %v, MeanSentence %v", b.Count(), b.Score(4), b.MeanSentence(4))
	}
}

func TestBLEUOrderPanics(t *testing.T) {
	var b BLEU
	calls := map[string]func(){
		"SentenceBLEU 0":         func() { SentenceBLEU(nil, nil, 0) },
		"SentenceBLEU 5":         func() { SentenceBLEU(nil, nil, MaxOrder+1) },
		"SmoothedSentenceBLEU 0": func() { SmoothedSentenceBLEU(nil, nil, 0) },
		"Score -1":               func() { b.Score(-1) },
		"MeanSentence 5":         func() { b.MeanSentence(5) },
	}
	for name, f := range calls {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}

// slowCounts counts one pair the plain way: each distinct hypothesis n-gram,
// written as a string, is counted by scanning both sentences.
func slowCounts(ref, hyp []string, k int) (match, total int) {
	grams := func(s []string) []string {
		var g []string
		for i := 0; i+k <= len(s); i++ {
			g = append(g, strings.Join(s[i:i+k], "\x00"))
		}
		return g
	}
	occurrences := func(list []string, g string) int {
		n := 0
		for _, x := range list {
			if x == g {
				n++
			}
		}
		return n
	}
	hg, rg := grams(hyp), grams(ref)
	for i, g := range hg {
		if occurrences(hg[:i], g) > 0 {
			continue // counted at its first occurrence
		}
		match += min(occurrences(hg, g), occurrences(rg, g))
	}
	return match, len(hg)
}

// slowBLEU is BLEU-n from summed counts as a product of precisions.
func slowBLEU(match, total []int, r, c, n int, smooth bool) float64 {
	if c == 0 {
		return 0
	}
	prod := 1.0
	for k := 0; k < n; k++ {
		p := float64(match[k]) / float64(total[k])
		if match[k] == 0 {
			if !smooth {
				return 0
			}
			p = 0.1 / math.Max(1, float64(total[k]))
		}
		prod *= p
	}
	bp := 1.0
	if c <= r {
		bp = math.Exp(1 - float64(r)/float64(c))
	}
	return bp * math.Pow(prod, 1/float64(n))
}

// TestBLEUAgainstSlow compares sentence, smoothed and corpus BLEU with slowCounts
// and slowBLEU on random sentences over a small vocabulary, so that n-grams repeat
// and match often.
func TestBLEUAgainstSlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := []string{"the", "a", "cat", "dog", "sat", "on", "mat", "."}
	sentence := func() []string {
		s := make([]string, rng.IntN(14))
		for i := range s {
			s[i] = vocab[rng.IntN(len(vocab))]
		}
		return s
	}
	var b BLEU
	sumMatch, sumTotal := make([]int, MaxOrder), make([]int, MaxOrder)
	var mean [MaxOrder]float64
	r, c := 0, 0
	const pairs = 400
	for range pairs {
		ref, hyp := sentence(), sentence()
		if rng.IntN(4) == 0 {
			hyp = append([]string(nil), ref...) // identical or near-identical
			if len(hyp) > 0 && rng.IntN(2) == 0 {
				hyp[rng.IntN(len(hyp))] = vocab[rng.IntN(len(vocab))]
			}
		}
		match, total := make([]int, MaxOrder), make([]int, MaxOrder)
		for k := range MaxOrder {
			match[k], total[k] = slowCounts(ref, hyp, k+1)
			sumMatch[k] += match[k]
			sumTotal[k] += total[k]
		}
		r += len(ref)
		c += len(hyp)
		for n := 1; n <= MaxOrder; n++ {
			want := slowBLEU(match, total, len(ref), len(hyp), n, false)
			if got := SentenceBLEU(ref, hyp, n); !near(got, want, 1e-12) {
				t.Fatalf("SentenceBLEU(%q, %q, %d) = %.17g, slow %.17g", ref, hyp, n, got, want)
			}
			want = slowBLEU(match, total, len(ref), len(hyp), n, true)
			if got := SmoothedSentenceBLEU(ref, hyp, n); !near(got, want, 1e-12) {
				t.Fatalf("SmoothedSentenceBLEU(%q, %q, %d) = %.17g, slow %.17g", ref, hyp, n, got, want)
			}
			mean[n-1] += slowBLEU(match, total, len(ref), len(hyp), n, false) / pairs
		}
		b.Add(ref, hyp)
	}
	for n := 1; n <= MaxOrder; n++ {
		want := slowBLEU(sumMatch, sumTotal, r, c, n, false)
		if got := b.Score(n); !near(got, want, 1e-12) || want == 0 {
			t.Errorf("Score(%d) = %.17g, slow %.17g", n, got, want)
		}
		if got := b.MeanSentence(n); !near(got, mean[n-1], 1e-12) {
			t.Errorf("MeanSentence(%d) = %.17g, slow %.17g", n, got, mean[n-1])
		}
	}
}

// TestBLEUAllocs checks that the accumulator reuses its scratch space.
func TestBLEUAllocs(t *testing.T) {
	ref := Words("the cat sat on the mat in the sun and the dog sat on the rug")
	hyp := Words("a cat sat on a mat in the sun and the dog lay on the rug")
	var b BLEU
	b.Add(ref, hyp)
	if n := testing.AllocsPerRun(100, func() { b.Add(ref, hyp) }); n != 0 {
		t.Errorf("BLEU.Add allocates %v times per call", n)
	}
}
