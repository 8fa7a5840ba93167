package tokenizer

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"unicode/utf8"
)

// MinPairCount is the fewest occurrences a pair needs to be merged; training
// stops early, with a smaller vocabulary, when no pair has this many.
const MinPairCount = 2

// Train learns a byte-level BPE tokenizer of at most vocabSize tokens from
// sentences: the specials (ids 0 to len(specials)-1, in the order given),
// the 256 bytes, then one token per merge in the order learnt.
func Train(sentences []string, vocabSize int, specials []string) (*Tokenizer, error) {
	return TrainContext(context.Background(), sentences, vocabSize, specials)
}

// TrainContext is Train, stopping with ctx's error when ctx is cancelled.
//
// Each step merges the adjacent pair of tokens that occurs most often in
// the pre-tokenized corpus, counting every distinct pre-token once per
// occurrence (Sennrich et al., 2016, algorithm 1); ties go to the pair of
// smaller ids, so training is deterministic. Pair counts are kept
// up to date incrementally and the best pair comes from a lazy max-heap.
func TrainContext(ctx context.Context, sentences []string, vocabSize int, specials []string) (*Tokenizer, error) {
	if vocabSize < len(specials)+256 {
		return nil, fmt.Errorf("tokenizer: train: vocabulary size %d is below %d, the %d special tokens and the 256 byte tokens", vocabSize, len(specials)+256, len(specials))
	}
	t := &Tokenizer{}
	specialSet := make(map[string]bool, len(specials))
	for i, s := range specials {
		switch {
		case s == "":
			return nil, fmt.Errorf("tokenizer: train: special token %d is empty", i)
		case !utf8.ValidString(s):
			return nil, fmt.Errorf("tokenizer: train: special token %q is not valid UTF-8", s)
		case specialSet[s]:
			return nil, fmt.Errorf("tokenizer: train: special token %q given twice", s)
		}
		specialSet[s] = true
		t.specials = append(t.specials, special{id: i, content: s})
		t.tokens = append(t.tokens, []byte(s))
	}
	for b := 0; b < 256; b++ {
		t.byteID[b] = int32(len(t.tokens))
		t.tokens = append(t.tokens, []byte{byte(b)})
	}

	counts := make(map[string]int)
	for _, s := range sentences {
		pretokenize(s, func(p string) { counts[p]++ })
	}
	words := make([]string, 0, len(counts))
	for w := range counts {
		words = append(words, w)
	}
	slices.Sort(words)

	tr := trainer{
		pairs:  make(map[uint64]int),
		where:  make(map[uint64]map[int32]struct{}),
		banned: make(map[uint64]bool),
	}
	for i, w := range words {
		syms := make([]int32, len(w))
		for j := 0; j < len(w); j++ {
			syms[j] = t.byteID[w[j]]
		}
		tr.words = append(tr.words, syms)
		tr.count = append(tr.count, counts[w])
		tr.add(int32(i), +1)
	}

	for len(t.tokens) < vocabSize {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("tokenizer: train: %w", err)
		}
		key, n := tr.best()
		if n < MinPairCount {
			break
		}
		a, b := int32(key>>32), int32(uint32(key))
		tok := append(slices.Clip(t.tokens[a]), t.tokens[b]...)
		if specialSet[string(tok)] {
			// A token spelling a special would make the saved file
			// ambiguous; leave this pair unmerged.
			tr.banned[key] = true
			continue
		}
		id := int32(len(t.tokens))
		t.tokens = append(t.tokens, tok)
		t.merges = append(t.merges, merge{a: a, b: b, id: id})
		tr.merge(key, a, b, id)
	}
	t.build()
	return t, nil
}

// trainer holds the corpus as distinct words of symbols with their counts,
// how often each adjacent pair occurs, and which words hold each pair (a
// superset: entries go stale as words change and are checked on use).
type trainer struct {
	words [][]int32
	count []int
	pairs map[uint64]int
	where map[uint64]map[int32]struct{}
	heap  pairHeap
	// banned pairs are never merged (their token would spell a special).
	banned map[uint64]bool
}

// add adds (sign +1) or removes (-1) word w's pairs from the counts.
func (tr *trainer) add(w int32, sign int) {
	syms := tr.words[w]
	for i := 0; i+1 < len(syms); i++ {
		k := pairKey(syms[i], syms[i+1])
		tr.pairs[k] += sign * tr.count[w]
		if sign > 0 {
			set := tr.where[k]
			if set == nil {
				set = make(map[int32]struct{})
				tr.where[k] = set
			}
			set[w] = struct{}{}
		}
		heap.Push(&tr.heap, pairCount{key: k, n: tr.pairs[k]})
	}
}

// best returns the most frequent pair, discarding stale heap entries.
func (tr *trainer) best() (uint64, int) {
	for tr.heap.Len() > 0 {
		top := heap.Pop(&tr.heap).(pairCount)
		if n, ok := tr.pairs[top.key]; ok && n == top.n && !tr.banned[top.key] {
			return top.key, n
		}
	}
	return 0, 0
}

// merge replaces every adjacent (a, b) by id in the words that hold it.
func (tr *trainer) merge(key uint64, a, b, id int32) {
	ws := make([]int32, 0, len(tr.where[key]))
	for w := range tr.where[key] {
		ws = append(ws, w)
	}
	slices.Sort(ws)
	for _, w := range ws {
		syms := tr.words[w]
		if !hasPair(syms, a, b) {
			continue
		}
		tr.add(w, -1)
		out := syms[:0]
		for i := 0; i < len(syms); i++ {
			if i+1 < len(syms) && syms[i] == a && syms[i+1] == b {
				out = append(out, id)
				i++
				continue
			}
			out = append(out, syms[i])
		}
		tr.words[w] = out
		tr.add(w, +1)
	}
	delete(tr.pairs, key)
	delete(tr.where, key)
}

func hasPair(syms []int32, a, b int32) bool {
	for i := 0; i+1 < len(syms); i++ {
		if syms[i] == a && syms[i+1] == b {
			return true
		}
	}
	return false
}

type pairCount struct {
	key uint64
	n   int
}

// pairHeap is a max-heap on count, then min on key.
type pairHeap []pairCount

func (h pairHeap) Len() int { return len(h) }
func (h pairHeap) Less(i, j int) bool {
	if h[i].n != h[j].n {
		return h[i].n > h[j].n
	}
	return h[i].key < h[j].key
}
func (h pairHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pairHeap) Push(x any)   { *h = append(*h, x.(pairCount)) }
func (h *pairHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
