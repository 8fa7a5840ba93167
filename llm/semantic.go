package llm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/m4sc/m4sc/nn"
)

// Input is what a transmitter has for one task: a sentence for text tasks, an image
// (HWC [ImagePixels] in [0, 1]) for image tasks.
type Input struct {
	Task  Task
	Text  string
	Image []float32
}

// Semantics are the semantic vectors of one input: N vectors of Dim reals each,
// unit root-mean-square per vector before any channel. Text gives one vector per token
// of its sentence (at most Model.MaxTextTokens), an image always ImageSlots vectors.
type Semantics struct {
	Task    Task
	N, Dim  int
	Vectors []float32 // [N*Dim], vector i at [i*Dim, (i+1)*Dim)
}

// Instruction is the receiver's side of the template: the task and, for ImageVQA,
// the question.
type Instruction struct {
	Task     Task
	Question string
}

// MaxBeam is the widest beam Decode searches (DecodeOptions.Beam). Every beam keeps
// its own key/value cache of 2*Layers*MaxSeq*Dim float32 values (640 KiB for
// DefaultConfig, so 40 MiB at 64 beams), and each step ranks Beam*Beam candidates:
// memory and time grow with the width, for responses of at most MaxText tokens.
// Unbounded, a width of 100,000 grew to 24 GB before the system killed it.
const MaxBeam = 64

// DecodeOptions choose the text generation.
type DecodeOptions struct {
	// Beam is the beam width, 0 to MaxBeam; 0 or 1 decodes greedily.
	Beam int
	// MaxTokens bounds the response, 0 to Config.MaxText tokens; 0 means
	// Config.MaxText.
	MaxTokens int

	// forceLength ignores <eos> until MaxTokens (benchmarks of untrained models).
	forceLength bool
}

// Validate reports an option out of range for a model of configuration c: a beam
// wider than MaxBeam, or a response longer than c.MaxText tokens, is refused rather
// than narrowed, so a caller learns the limit.
func (o DecodeOptions) Validate(c Config) error {
	switch {
	case o.Beam < 0 || o.Beam > MaxBeam:
		return fmt.Errorf("llm: beam width %d outside 0 to %d (0 or 1: greedy)", o.Beam, MaxBeam)
	case o.MaxTokens < 0 || o.MaxTokens > c.MaxText:
		return fmt.Errorf("llm: max tokens %d outside 0 to %d, the model's max_text (0 means %d)", o.MaxTokens, c.MaxText, c.MaxText)
	}
	return nil
}

// Output is a task's result at the receiver.
type Output struct {
	Text   string    // the response of text-output tasks
	Tokens []int     // its token ids, <eos> excluded
	Image  []float32 // ImageReconstruct's image, HWC [ImagePixels] in [0, 1]
}

// TextTooLongError is the error for a text with more tokens than the model takes
// (MaxTextTokens for a text input, Config.MaxText for a question). The text is never
// cut: the caller shortens it or sends it in parts.
type TextTooLongError struct {
	What   string // what is too long, for example "text.transmit text" or "image.vqa question"
	Tokens int    // the text's tokens
	Words  int    // its words (runs of non-space characters)
	Max    int    // the most tokens taken
}

func (e *TextTooLongError) Error() string {
	// Words per token vary with the text (numbers and rare words take several
	// tokens), so the limit in words is this text's own rate applied to Max.
	return fmt.Sprintf("llm: %s of %d tokens (%d words) is too long: one message takes at most %d tokens, about %d words of this text; shorten it or send it in parts",
		e.What, e.Tokens, e.Words, e.Max, e.Max*e.Words/max(e.Tokens, 1))
}

// MaxTextTokens returns the most tokens a text input of task t may have: Config.MaxText,
// or fewer when the text encoder's MaxText+8 positions, which also hold <bos>,
// <task>, the task's word, </task>, <text> and </text>, run out first (MaxText-1 for
// text.transmit with the shipped tokenizer). It is 0 for image tasks.
func (m *Model) MaxTextTokens(t Task) int {
	if t >= numTasks || t.Image() {
		return 0
	}
	return max(min(m.cfg.MaxText, m.encPos.Dim(0)-5-len(m.taskIDs[t])), 0)
}

// SplitText cuts a text input of task t into parts of at most MaxTextTokens(t) tokens
// each, between words, for a caller that sends a text too long for one message
// (Encode refuses it) as several. Words are runs of non-space characters; each part
// holds as many whole words as fit, joined by single spaces, so joining the parts
// with spaces gives strings.Join(strings.Fields(text), " "). Only a word that alone
// has more tokens than the limit is cut, between characters, into parts of one
// character at least. It returns nil for an image task or a text without words.
func (m *Model) SplitText(t Task, text string) []string {
	limit := m.MaxTextTokens(t)
	if limit == 0 {
		return nil
	}
	fits := func(s string) bool { return len(m.tok.Encode(s)) <= limit }
	var parts []string
	cur := ""
	for _, w := range strings.Fields(text) {
		if cur != "" && fits(cur+" "+w) {
			cur += " " + w
			continue
		}
		if cur != "" {
			parts = append(parts, cur)
		}
		for long := !fits(w); long; {
			// The longest prefix of whole characters that fits, one character at
			// least. The scan stops at the first prefix that does not fit, so a huge
			// word costs time in proportion to its length times the limit.
			cut, whole := 0, true
			for i := range w {
				if i > 0 && !fits(w[:i]) {
					whole = false
					break
				}
				cut = i
			}
			if whole && fits(w) {
				break
			}
			if cut == 0 {
				_, cut = utf8.DecodeRuneInString(w)
			}
			parts = append(parts, w[:cut])
			w = w[cut:]
		}
		cur = w
	}
	if cur != "" {
		parts = append(parts, cur)
	}
	return parts
}

// checkText refuses a text of more than limit tokens.
func (m *Model) checkText(what, text string, limit int) error {
	if n := len(m.tok.Encode(text)); n > limit {
		return &TextTooLongError{What: what, Tokens: n, Words: len(strings.Fields(text)), Max: limit}
	}
	return nil
}

// checkInput validates one transmitter input.
func (m *Model) checkInput(in Input) error {
	if in.Task >= numTasks {
		return fmt.Errorf("llm: unknown task %d", in.Task)
	}
	if in.Task.Image() {
		if len(in.Image) != ImagePixels {
			return fmt.Errorf("llm: %s needs an image of %d values (HWC %dx%dx%d), got %d", in.Task, ImagePixels, ImageSize, ImageSize, ImageChannels, len(in.Image))
		}
		for i, v := range in.Image {
			if !(v >= 0 && v <= 1) {
				return fmt.Errorf("llm: %s: image value %g at index %d outside [0, 1]", in.Task, v, i)
			}
		}
		return nil
	}
	if in.Text == "" { // byte-level BPE gives tokens for any non-empty text
		return fmt.Errorf("llm: %s needs a non-empty sentence", in.Task)
	}
	return m.checkText(in.Task.String()+" text", in.Text, m.MaxTextTokens(in.Task))
}

// Encode turns one input into semantic vectors (the transmitter's model). A text of
// more than MaxTextTokens tokens is refused with a *TextTooLongError, never cut. It
// is safe for concurrent use.
func (m *Model) Encode(in Input) (Semantics, error) {
	if err := m.checkInput(in); err != nil {
		return Semantics{}, err // without EncodeBatch's "input 0"
	}
	s, err := m.EncodeBatch([]Input{in})
	if err != nil {
		return Semantics{}, err
	}
	return s[0], nil
}

// EncodeBatch encodes several inputs in one pass (faster than one at a time).
func (m *Model) EncodeBatch(ins []Input) ([]Semantics, error) {
	exs := make([]Example, len(ins))
	for i, in := range ins {
		if err := m.checkInput(in); err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		exs[i] = Example{Task: in.Task, Text: in.Text, Image: in.Image, Question: "?", Answer: "?"}
	}
	b, err := m.buildBatch(exs)
	if err != nil {
		return nil, err
	}
	g := nn.NewGraph[float32](rand.New(rand.NewPCG(0, 0)))
	S := m.cfg.SemDim
	out := make([]Semantics, len(ins))
	if b.nt > 0 {
		h := m.encodeText(g, b.encIDs, b.encLens, b.nt, b.te)
		s := m.semantics(g, g.Gather(h, b.textRows))
		row, k := 0, 0
		for i, in := range ins {
			if in.Task.Image() {
				continue
			}
			n := b.textN[k]
			k++
			out[i] = Semantics{Task: in.Task, N: n, Dim: S, Vectors: append([]float32(nil), s.Data[row*S:(row+n)*S]...)}
			row += n
		}
	}
	if b.ni > 0 {
		g.Reset()
		x := m.encodeImages(g, b.images, b.ni)
		s := m.semantics(g, x)
		k := 0
		for i, in := range ins {
			if !in.Task.Image() {
				continue
			}
			out[i] = Semantics{Task: in.Task, N: ImageSlots, Dim: S, Vectors: append([]float32(nil), s.Data[k*ImageSlots*S:(k+1)*ImageSlots*S]...)}
			k++
		}
	}
	return out, nil
}

// decoder runs the language model incrementally with a key/value cache for B
// sequences of equal length.
type decoder struct {
	m      *Model
	g      *graph
	B, n   int
	caches []layerCache
	hidden []float32
	// geoSlots is the position of the first image slot of an image.vqa prompt when the
	// model has the spatial readout (Config.GeoReadout), else -1; geo is the readout
	// [Dim], computed when the prompt passes RoleLayer and added there to every later
	// position.
	geoSlots int
	geo      []float32
	geoMid   []float32 // the slots' states after RoleLayer blocks, until geo is computed
}

func (m *Model) newDecoder(B int) *decoder {
	d := &decoder{m: m, g: nn.NewGraph[float32](rand.New(rand.NewPCG(0, 0))), B: B, geoSlots: -1}
	size := B * m.cfg.MaxSeq * m.cfg.Dim // heads * head dim = Dim
	for range m.blocks {
		d.caches = append(d.caches, layerCache{k: make([]float32, size), v: make([]float32, size)})
	}
	return d
}

// run feeds input embeddings x [B, T, Dim] at positions [n, n+T) and returns the final
// hidden states [B*T*Dim] (valid until the next run).
func (d *decoder) run(x []float32, T int) []float32 {
	m := d.m
	d.g.Reset()
	h := nn.NewTensor(x, d.B, T, m.cfg.Dim)
	for i := range m.blocks {
		if i == RoleLayer && d.geoSlots >= 0 {
			h = d.addGeo(h, T)
		}
		h = m.blocks[i].forward(d.g, h, m.cfg.Heads, true, nil, &d.caches[i], d.n, m.cfg.MaxSeq)
	}
	h = d.g.LayerNorm(h, m.lnfG, m.lnfB, nn.DefaultNormEps)
	d.n += T
	d.hidden = append(d.hidden[:0], h.Data...)
	return d.hidden
}

// addGeo adds the spatial readout to the positions of h [B, T, Dim] (positions
// [n, n+T)) that follow the image. Sequence 0's image slot rows are gathered as they
// pass, in one call or over several, and the readout is computed when the first
// position after them arrives (before anything is added to it).
func (d *decoder) addGeo(h *tensor, T int) *tensor {
	m, dim := d.m, d.m.cfg.Dim
	first := d.geoSlots + ImageSlots // first position after the slots
	if d.geo == nil {
		if d.geoMid == nil {
			d.geoMid = make([]float32, ImageSlots*dim)
		}
		for t := range T {
			if c := d.n + t - d.geoSlots; c >= 0 && c < ImageSlots {
				copy(d.geoMid[c*dim:(c+1)*dim], h.Data[t*dim:(t+1)*dim])
			}
		}
		if t := first - d.n; t >= 0 && t < T {
			at := nn.NewTensor(append([]float32(nil), h.Data[t*dim:(t+1)*dim]...), 1, dim)
			feat, _ := m.geoReadout(d.g, nn.NewTensor(d.geoMid, ImageSlots, dim), at)
			d.geo = append([]float32(nil), feat.Data...)
		}
	}
	if d.geo == nil || d.n+T <= first {
		return h
	}
	out := append([]float32(nil), h.Data...)
	for b := range d.B {
		for t := max(0, first-d.n); t < T; t++ {
			row := out[(b*T+t)*dim : (b*T+t+1)*dim]
			for k, v := range d.geo {
				row[k] += v
			}
		}
	}
	return nn.NewTensor(out, d.B, T, dim)
}

// broadcast copies sequence 0 of a one-sequence decoder into every sequence of d. The
// spatial readout comes along: every sequence shares the one prompt.
func (d *decoder) broadcast(src *decoder) {
	per := d.m.cfg.MaxSeq * d.m.cfg.Dim
	for l := range d.caches {
		for b := range d.B {
			copy(d.caches[l].k[b*per:(b+1)*per], src.caches[l].k[:per])
			copy(d.caches[l].v[b*per:(b+1)*per], src.caches[l].v[:per])
		}
	}
	d.n = src.n
	d.geoSlots, d.geo = src.geoSlots, src.geo
	d.geoMid = append([]float32(nil), src.geoMid...)
}

// reorder makes sequence b continue sequence parent[b].
func (d *decoder) reorder(parent []int) {
	per := d.m.cfg.MaxSeq * d.m.cfg.Dim
	tmp := make([]float32, d.B*per)
	for l := range d.caches {
		for _, kv := range [][]float32{d.caches[l].k, d.caches[l].v} {
			copy(tmp, kv)
			for b, p := range parent {
				copy(kv[b*per:(b+1)*per], tmp[p*per:(p+1)*per])
			}
		}
	}
}

// embed writes the input embedding of token id (or, when slot is not nil, of that
// semantic slot) at position pos with index row idx into dst [Dim].
func (m *Model) embed(dst []float32, id, pos, idx, cell int, slot []float32) {
	d := m.cfg.Dim
	te, pe, ie := m.tokEmb.Data[id*d:(id+1)*d], m.posEmb.Data[pos*d:(pos+1)*d], m.idxEmb.Data[idx*d:(idx+1)*d]
	for i := range dst[:d] {
		dst[i] = te[i] + pe[i] + ie[i]
	}
	if cell > 0 {
		for i, v := range m.cellEmb.Data[(cell-1)*d : cell*d] {
			dst[i] += v
		}
	}
	if slot != nil {
		for i := range dst[:d] {
			dst[i] += slot[i]
		}
	}
}

// logits computes h [rows, Dim] x tokEmb^T into dst [rows, Vocab].
func (m *Model) logits(dst, h []float32, rows int) []float32 {
	d, V := m.cfg.Dim, m.cfg.Vocab
	dst = append(dst[:0], make([]float32, rows*V)...)
	nn.Sgemm(false, true, rows, V, d, 1, h, d, m.tokEmb.Data, d, 0, dst, V)
	return dst
}

// Decode turns semantic vectors (possibly distorted by a channel) plus the receiver's
// instruction into the task's output. It is safe for concurrent use.
func (m *Model) Decode(s Semantics, ins Instruction, o DecodeOptions) (Output, error) {
	if ins.Task >= numTasks {
		return Output{}, fmt.Errorf("llm: unknown task %d", ins.Task)
	}
	if err := o.Validate(m.cfg); err != nil {
		return Output{}, err
	}
	if s.Dim != m.cfg.SemDim || s.N < 1 || len(s.Vectors) != s.N*s.Dim {
		return Output{}, fmt.Errorf("llm: semantics of %d vectors x %d (%d values); the model takes vectors of %d", s.N, s.Dim, len(s.Vectors), m.cfg.SemDim)
	}
	if ins.Task.Image() && s.N != ImageSlots {
		return Output{}, fmt.Errorf("llm: %s needs %d image vectors, got %d", ins.Task, ImageSlots, s.N)
	}
	if !ins.Task.Image() && s.N > m.cfg.MaxText {
		return Output{}, fmt.Errorf("llm: %s takes at most %d text vectors, got %d", ins.Task, m.cfg.MaxText, s.N)
	}
	for i, v := range s.Vectors {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return Output{}, fmt.Errorf("llm: semantic value %d is %v", i, v)
		}
	}
	if ins.Task.NeedsQuestion() && ins.Question == "" {
		return Output{}, fmt.Errorf("llm: %s needs a question", ins.Task)
	}
	var question []int
	if ins.Task.NeedsQuestion() {
		question = m.tok.Encode(ins.Question)
		if len(question) > m.cfg.MaxText {
			return Output{}, &TextTooLongError{What: ins.Task.String() + " question", Tokens: len(question), Words: len(strings.Fields(ins.Question)), Max: m.cfg.MaxText}
		}
	}
	d := m.cfg.Dim
	// Slot embeddings e = s W_in + b.
	e := make([]float32, s.N*d)
	for i := range s.N {
		copy(e[i*d:(i+1)*d], m.semInB.Data)
	}
	nn.Sgemm(false, false, s.N, d, s.Dim, 1, s.Vectors, s.Dim, m.semIn.Data, d, 1, e, d)
	p := m.buildPrompt(ins.Task, s.N, question)
	T := len(p.ids)
	x := make([]float32, T*d)
	for j := range T {
		var slot []float32
		if p.slot[j] >= 0 {
			slot = e[p.slot[j]*d : (p.slot[j]+1)*d]
		}
		m.embed(x[j*d:(j+1)*d], p.ids[j], j, p.idx[j], p.cell[j], slot)
	}
	pre := m.newDecoder(1)
	if ins.Task == ImageVQA && m.geoW != nil {
		pre.geoSlots = p.slots
	}
	h := pre.run(x, T)
	if ins.Task == ImageReconstruct {
		g := nn.NewGraph[float32](rand.New(rand.NewPCG(0, 0)))
		rows := make([]float32, 0, ImageSlots*d)
		for i := range ImageSlots {
			j := p.recon + i
			rows = append(rows, h[j*d:(j+1)*d]...)
		}
		patches := m.reconstruct(g, nn.NewTensor(rows, ImageSlots, d))
		img := make([]float32, ImagePixels)
		unpatchify(img, patches.Data)
		return Output{Image: img}, nil
	}
	maxTok := o.MaxTokens
	if maxTok == 0 {
		maxTok = m.cfg.MaxText
	}
	maxTok = min(maxTok, m.cfg.MaxSeq-T)
	if ins.Task == TextTransmit {
		// The receiver knows how many vectors arrived: one per token of the sentence.
		maxTok = min(maxTok, s.N)
	}
	last := append([]float32(nil), h[(T-1)*d:]...)
	slotAt := func(j int) []float32 {
		if k := m.respSlot(ins.Task, j, s.N); k >= 0 {
			return e[k*d : (k+1)*d]
		}
		return nil
	}
	var ids []int
	if o.Beam <= 1 {
		ids = m.greedy(pre, last, T, maxTok, o.forceLength, slotAt)
	} else {
		ids = m.beam(pre, last, T, maxTok, o.Beam, slotAt)
	}
	text, err := m.tok.Decode(ids)
	if err != nil {
		return Output{}, err
	}
	return Output{Text: text, Tokens: ids}, nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// greedy decodes by taking the most probable token at each step; slotAt(j) is the
// slot embedding added at response position j (nil for none).
func (m *Model) greedy(dec *decoder, last []float32, T, maxTok int, force bool, slotAt func(int) []float32) []int {
	d := m.cfg.Dim
	x := make([]float32, d)
	var ids []int
	var lg []float32
	for j := range maxTok {
		lg = m.logits(lg, last, 1)
		if force {
			lg[m.sp.eos] = float32(math.Inf(-1))
		}
		id := argmax(lg)
		if id == m.sp.eos {
			break
		}
		ids = append(ids, id)
		if j+1 == maxTok {
			break
		}
		m.embed(x, id, T+j, m.respIdx(j+1), 0, slotAt(j+1))
		last = dec.run(x, 1)
	}
	return ids
}

// logSoftmax replaces v by its log-probabilities.
func logSoftmax(v []float32) {
	mx := v[argmax(v)]
	var sum float64
	for _, x := range v {
		sum += math.Exp(float64(x - mx))
	}
	l := float32(math.Log(sum)) + mx
	for i := range v {
		v[i] -= l
	}
}

// beam runs beam search of width k on the sum of log-probabilities. Scores only fall
// as a sequence grows, so the search stops once no live beam can beat the best
// finished sequence.
func (m *Model) beam(pre *decoder, last []float32, T, maxTok, k int, slotAt func(int) []float32) []int {
	d, V := m.cfg.Dim, m.cfg.Vocab
	type hyp struct {
		ids   []int
		score float64
	}
	live := []hyp{{}}
	var best *hyp
	dec := m.newDecoder(k)
	dec.broadcast(pre)
	h := make([]float32, k*d)
	for b := range k {
		copy(h[b*d:(b+1)*d], last)
	}
	var lg []float32
	x := make([]float32, k*d)
	for j := 0; j < maxTok && len(live) > 0; j++ {
		lg = m.logits(lg, h, k)
		type cand struct {
			parent, id int
			score      float64
		}
		var cands []cand
		for b := range live {
			row := lg[b*V : (b+1)*V]
			logSoftmax(row)
			// The k best continuations of each beam suffice for the k best overall.
			top := topK(row, k)
			for _, id := range top {
				cands = append(cands, cand{b, id, live[b].score + float64(row[id])})
			}
		}
		sort.SliceStable(cands, func(a, c int) bool { return cands[a].score > cands[c].score })
		var next []hyp
		var parents []int
		for _, c := range cands {
			if len(next) == k {
				break
			}
			ids := append(append([]int(nil), live[c.parent].ids...), c.id)
			if c.id == m.sp.eos || j+1 == maxTok {
				if c.id == m.sp.eos {
					ids = ids[:len(ids)-1]
				}
				if best == nil || c.score > best.score {
					best = &hyp{ids, c.score}
				}
				continue
			}
			next = append(next, hyp{ids, c.score})
			parents = append(parents, c.parent)
		}
		if len(next) == 0 || (best != nil && next[0].score <= best.score) {
			break
		}
		for len(parents) < k { // keep the batch full; padding beams are ignored
			parents = append(parents, parents[0])
		}
		dec.reorder(parents)
		for b := range k {
			id := next[min(b, len(next)-1)].ids
			m.embed(x[b*d:(b+1)*d], id[len(id)-1], T+j, m.respIdx(j+1), 0, slotAt(j+1))
		}
		live = next
		h = append(h[:0], dec.run(x, 1)...)
	}
	if best == nil {
		return nil
	}
	return best.ids
}

// Perplexity returns the language model's perplexity on sentences (the exponential
// of the mean cross-entropy per token, <eos> included, as in `m4sc train --stage lm`)
// and the number of tokens scored. Sentences are scored in batches of 64; one longer
// than Config.MaxSeq-2 tokens is a *TextTooLongError.
func (m *Model) Perplexity(sentences []string) (ppl float64, tokens int, err error) {
	g := nn.NewGraph[float32](rand.New(rand.NewPCG(0, 0)))
	var nll float64
	for i := 0; i < len(sentences); i += 64 {
		exs := make([]Example, 0, 64)
		for _, s := range sentences[i:min(i+64, len(sentences))] {
			// <bos> and <eos> take two of the decoder's positions.
			if err := m.checkText("sentence", s, m.cfg.MaxSeq-2); err != nil {
				return 0, 0, err
			}
			exs = append(exs, LMExample(s))
		}
		b, err := m.buildBatch(exs)
		if err != nil {
			return 0, 0, err
		}
		g.Reset()
		_, l := m.loss(g, b)
		nll += l.Text * float64(len(b.respRows))
		tokens += len(b.respRows)
	}
	if tokens == 0 {
		return 0, 0, fmt.Errorf("llm: perplexity of no tokens")
	}
	return math.Exp(nll / float64(tokens)), tokens, nil
}

// topK returns the indices of the k largest values of v, largest first (the lower
// index first among equal values), by insertion into a k-long list.
func topK(v []float32, k int) []int {
	top := make([]int, 0, k)
	for id, x := range v {
		if len(top) == k && x <= v[top[k-1]] {
			continue
		}
		j := len(top)
		if j < k {
			top = append(top, id)
		} else {
			j = k - 1
		}
		for j > 0 && x > v[top[j-1]] {
			top[j] = top[j-1]
			j--
		}
		top[j] = id
	}
	return top
}
