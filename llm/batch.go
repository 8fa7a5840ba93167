package llm

import (
	"errors"
	"fmt"
	"slices"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/nn"
)

// taskLM marks a plain language-modelling example (`m4sc train --stage lm`): the
// sequence <bos> sentence <eos>, every next token a target, no semantics.
const taskLM = numTasks

// Example is one training example.
type Example struct {
	Task     Task
	Text     string    // the sentence of a text task (or of a language-modelling example)
	Image    []float32 // an image task's input, HWC [ImagePixels] in [0, 1]
	Question string    // ImageVQA's question
	Answer   string    // the expected text output; unused by TextTransmit (the input is the answer) and ImageReconstruct
	// Target, for ImageReconstruct, is the image the decoder should draw when it is not
	// Image itself: the clean rendering of a scene whose Image was perturbed in training,
	// so the model learns to read a perturbed picture and draw the scene it shows. Nil
	// means Image.
	Target []float32

	aux *auxTarget // what the auxiliary heads should read from Image, if known
	// roles, for an image.vqa example of a generated scene, is each image cell's
	// dataset.Role in the question (the role of the object centred there, RoleNone
	// for empty cells), the role head's target (Config.RoleHead); nil if unknown.
	roles *[ImageSlots]int
	// toward is the question's direction when roles is set (dataset.QA.Toward), the
	// spatial readout's direction target.
	toward dataset.Direction
}

// LMExample returns a plain language-modelling example.
func LMExample(sentence string) Example { return Example{Task: taskLM, Text: sentence} }

// batch is a set of examples laid out for one forward pass.
type batch struct {
	B, T                  int     // examples, longest decoder sequence
	groups                []group // the decoder's layout: rows group after group
	ids, pos, idx, slot   []int   // decoder inputs, one per row of the grouped layout
	cell                  []int   // cell embedding rows, likewise (0 for none)
	hasCells              bool    // some row has a cell embedding
	respRows, respTargets []int   // decoder rows whose next token is scored, and those tokens
	// respWeights, when not nil, weighs each scored token by 1/(its example's scored
	// tokens), so every example counts equally (see Weighting).
	respWeights []float64

	nt, te     int              // text inputs and their padded length
	encIDs     []int            // [nt*te]
	encLens    []int            // [nt]
	textN      []int            // [nt] tokens (semantic vectors) of each text input
	textRows   []int            // rows of the encoder output [nt*te] that become semantic vectors
	ni         int              // images
	images     []float32        // the ni input images, HWC, one after another
	msgs       []ChannelMessage // the messages of the semantic rows, for a Channel
	reconRows  []int            // decoder rows the image decoder head reads, for reconstructed images
	reconPatch []float32        // their target patches, [len(reconRows) * PatchPixels]

	aux auxBatch // targets of the auxiliary heads
	// roleRows are the decoder rows of image slots whose role is known, roleTargets
	// their roles (only for a model with the role head).
	roleRows, roleTargets []int
	// geoSel are the rows of the spatial readout's offsets (all groups' geoRows in
	// order) whose cell holds an object, geoTargets their centres (geoOffTarget);
	// dirSel the examples of the readout (all groups' geoFirst in order) whose
	// question's direction is known, dirTargets its vector.
	geoSel, dirSel         []int
	geoTargets, dirTargets []float32

	tokens int // decoder positions that are not padding, for throughput figures
}

// patchify cuts an HWC image into ImageSlots patches of PatchPixels, row-major over the
// patch grid, each patch HWC.
func patchify(dst, img []float32) []float32 {
	for py := range PatchGrid {
		for px := range PatchGrid {
			for y := range PatchSize {
				row := ((py*PatchSize+y)*ImageSize + px*PatchSize) * ImageChannels
				dst = append(dst, img[row:row+PatchSize*ImageChannels]...)
			}
		}
	}
	return dst
}

// unpatchify is the inverse of patchify.
func unpatchify(dst, patches []float32) {
	i := 0
	for py := range PatchGrid {
		for px := range PatchGrid {
			for y := range PatchSize {
				row := ((py*PatchSize+y)*ImageSize + px*PatchSize) * ImageChannels
				copy(dst[row:row+PatchSize*ImageChannels], patches[i:i+PatchSize*ImageChannels])
				i += PatchSize * ImageChannels
			}
		}
	}
}

// textTokens tokenizes a text input of task t, cut to MaxTextTokens(t), what the text
// encoder's MaxText+8 positions hold once encoderInput has framed it with 5 special
// tokens and the task's word. Only training examples are ever cut here (a few of the
// State of the Union's longest sentences, as the shipped model was trained):
// Encode refuses longer texts before (checkInput).
func (m *Model) textTokens(t Task, s string) []int {
	ids := m.tok.Encode(s)
	if limit := m.MaxTextTokens(t % numTasks); len(ids) > limit {
		ids = ids[:limit]
	}
	return ids
}

// encoderInput frames a text input for the text encoder:
// <bos><task>word</task><text> tokens </text>; first is the index of the first text token.
func (m *Model) encoderInput(t Task, toks []int) (ids []int, first int) {
	ids = append(ids, m.sp.bos, m.sp.task)
	ids = append(ids, m.taskIDs[t]...)
	ids = append(ids, m.sp.taskEnd, m.sp.text)
	first = len(ids)
	ids = append(ids, toks...)
	return append(ids, m.sp.textEnd), first
}

// prompt is the decoder input of one example up to and including <response> (and,
// for image.reconstruct in layout 1, its cell queries): token ids (the pad id at
// semantic slots and queries), semantic slot numbers (-1 elsewhere), index embedding
// rows (0 for none) and cell embedding rows (1+cell at image slots and queries in
// layout 1, 0 elsewhere).
type prompt struct {
	ids, slot, idx, cell []int
	slots                int // first position of the semantic slots
	recon                int // first of the 16 positions the image decoder head reads (image.reconstruct), else -1
}

// buildPrompt lays out the model's instruction layout (Config.Layout, PromptLayout).
func (m *Model) buildPrompt(t Task, nSlots int, question []int) prompt {
	p := prompt{recon: -1}
	layout := m.cfg.Layout
	add := func(id, slot, idx, cell int) {
		p.ids = append(p.ids, id)
		p.slot = append(p.slot, slot)
		p.idx = append(p.idx, idx)
		p.cell = append(p.cell, cell)
	}
	addQuestion := func() {
		if t.NeedsQuestion() {
			add(m.sp.text, -1, 0, 0)
			for _, id := range question {
				add(id, -1, 0, 0)
			}
			add(m.sp.textEnd, -1, 0, 0)
		}
	}
	add(m.sp.bos, -1, 0, 0)
	add(m.sp.task, -1, 0, 0)
	for _, id := range m.taskIDs[t] {
		add(id, -1, 0, 0)
	}
	add(m.sp.taskEnd, -1, 0, 0)
	if layout >= 1 {
		addQuestion()
	}
	open, close := m.sp.text, m.sp.textEnd
	if t.Image() {
		open, close = m.sp.image, m.sp.imageEnd
	}
	add(open, -1, 0, 0)
	p.slots = len(p.ids)
	for i := range nSlots {
		idx, cell := 0, 0
		if !t.Image() {
			// Text slot i shares an index embedding with response position i,
			// which predicts token i: the decoder finds "its" slot by matching.
			idx = 1 + i
		} else if layout >= 1 {
			cell = 1 + i
		}
		add(m.sp.pad, i, idx, cell)
	}
	add(close, -1, 0, 0)
	if layout == 0 {
		addQuestion()
		if t == ImageReconstruct {
			p.recon = p.slots
		}
	}
	add(m.sp.response, m.respSlot(t, 0, nSlots), 1, 0)
	if layout >= 1 && t == ImageReconstruct {
		p.recon = len(p.ids)
		for i := range ImageSlots {
			add(m.sp.pad, -1, 0, 1+i)
		}
	}
	return p
}

// respSlot is the semantic slot whose vector is added to the input of response
// position j (j = 0 at <response>), or -1. For text.transmit, position j predicts token
// j and so receives slot j: the decoder reads the token's semantics where it emits it
// (as a DeepSC decoder does through its alignment), and its causal context corrects
// what noise has blurred. Other tasks' responses are not aligned with their slots.
func (m *Model) respSlot(t Task, j, nSlots int) int {
	if t == TextTransmit && j < nSlots {
		return j
	}
	return -1
}

// respIdx is the index-embedding row of response position j (j = 0 at <response>).
func (m *Model) respIdx(j int) int { return min(1+j, m.cfg.MaxText) }

// buildBatch lays out examples for one forward pass.
func (m *Model) buildBatch(exs []Example) (*batch, error) {
	if len(exs) == 0 {
		return nil, errors.New("llm: a batch needs at least one example")
	}
	b := &batch{B: len(exs)}
	type seq struct{ ids, slot, idx, cell, tgt []int }
	seqs := make([]seq, len(exs))
	var textSem, imgSem []int         // example index of each semantic row, text rows then image rows
	textSlot := make([]int, len(exs)) // first semantic row of each text example
	imgIndex := make([]int, len(exs))
	var encSeqs [][]int
	var encFirst []int
	recon := make([]int, len(exs)) // first position the image decoder head reads, image.reconstruct only
	slots := make([]int, len(exs)) // first image slot position, image tasks only
	for i, ex := range exs {
		if ex.Task > taskLM {
			return nil, fmt.Errorf("llm: example %d: unknown task %d", i, ex.Task)
		}
		if ex.Task == taskLM {
			toks := m.tok.Encode(ex.Text)
			if len(toks) > m.cfg.MaxSeq-2 {
				toks = toks[:m.cfg.MaxSeq-2]
			}
			ids := append(append([]int{m.sp.bos}, toks...), m.sp.eos)
			s := seq{ids: ids[:len(ids)-1], tgt: ids[1:]}
			s.slot = make([]int, len(s.ids))
			s.idx = make([]int, len(s.ids))
			s.cell = make([]int, len(s.ids))
			for j := range s.slot {
				s.slot[j] = -1
			}
			seqs[i] = s
			continue
		}
		var nSlots int
		var answer []int
		if ex.Task.Image() {
			if len(ex.Image) != ImagePixels {
				return nil, fmt.Errorf("llm: example %d (%s): image of %d values, want %d (HWC %dx%dx%d)", i, ex.Task, len(ex.Image), ImagePixels, ImageSize, ImageSize, ImageChannels)
			}
			if ex.Target != nil && len(ex.Target) != ImagePixels {
				return nil, fmt.Errorf("llm: example %d (%s): reconstruction target of %d values, want %d", i, ex.Task, len(ex.Target), ImagePixels)
			}
			nSlots = ImageSlots
			imgIndex[i] = b.ni
			b.ni++
			b.images = append(b.images, ex.Image...)
		} else {
			toks := m.textTokens(ex.Task, ex.Text)
			if len(toks) == 0 {
				return nil, fmt.Errorf("llm: example %d (%s): empty text", i, ex.Task)
			}
			enc, first := m.encoderInput(ex.Task, toks)
			encSeqs = append(encSeqs, enc)
			encFirst = append(encFirst, first)
			textSlot[i] = len(textSem)
			for range toks {
				textSem = append(textSem, i)
			}
			nSlots = len(toks)
			b.textN = append(b.textN, nSlots)
			if ex.Task == TextTransmit {
				answer = toks
			}
		}
		if ex.Task != TextTransmit && ex.Task.TextOutput() {
			answer = m.tok.Encode(ex.Answer)
			if len(answer) > m.cfg.MaxText-1 {
				answer = answer[:m.cfg.MaxText-1]
			}
		}
		var question []int
		if ex.Task.NeedsQuestion() {
			question = m.tok.Encode(ex.Question)
		}
		p := m.buildPrompt(ex.Task, nSlots, question)
		s := seq{ids: p.ids, slot: p.slot, idx: p.idx, cell: p.cell}
		s.tgt = make([]int, len(s.ids))
		for j := range s.tgt {
			s.tgt[j] = nn.IgnoreIndex
		}
		if ex.Task.TextOutput() {
			s.tgt[len(s.tgt)-1] = first(answer, m.sp.eos)
			for j, id := range answer {
				s.ids = append(s.ids, id)
				s.slot = append(s.slot, m.respSlot(ex.Task, j+1, nSlots))
				s.idx = append(s.idx, m.respIdx(j+1))
				s.cell = append(s.cell, 0)
				next := m.sp.eos
				if j+1 < len(answer) {
					next = answer[j+1]
				}
				s.tgt = append(s.tgt, next)
			}
		}
		if len(s.ids) > m.cfg.MaxSeq {
			return nil, fmt.Errorf("llm: example %d (%s): %d decoder positions exceed max_seq %d", i, ex.Task, len(s.ids), m.cfg.MaxSeq)
		}
		seqs[i] = s
		if ex.Task == ImageReconstruct {
			recon[i] = p.recon
		}
		slots[i] = p.slots
	}
	for i := range exs {
		if exs[i].Task.Image() {
			for range ImageSlots {
				imgSem = append(imgSem, i)
			}
			if exs[i].aux != nil {
				b.aux.add(exs[i].aux, len(textSem)+imgIndex[i]*ImageSlots)
			}
		}
	}
	// Decoder layout: the examples, sorted by length, in groups each padded only to
	// its own longest sequence (lengthGroups); rows are numbered group after group.
	lens := make([]int, len(seqs))
	for i, s := range seqs {
		lens[i] = len(s.ids)
		b.T = max(b.T, lens[i])
	}
	b.groups = lengthGroups(lens, maxGroups)
	rows := 0
	for _, gr := range b.groups {
		rows += len(gr.ex) * gr.T
	}
	// Semantic rows: text rows first, then image rows; a slot refers to row+1 of the
	// slot table (row 0 is zeros).
	nText := len(textSem)
	b.ids = make([]int, rows)
	b.pos = make([]int, rows)
	b.idx = make([]int, rows)
	b.slot = make([]int, rows)
	b.cell = make([]int, rows)
	r0 := 0
	geoN := 0 // spatial readout rows so far
	for k := range b.groups {
		gr := &b.groups[k]
		g0 := r0
		if m.geoW != nil {
			gr.geoAt = make([]int, len(gr.ex)*gr.T)
		}
		for _, i := range gr.ex {
			s := seqs[i]
			if m.geoW != nil && exs[i].Task == ImageVQA {
				for c := range ImageSlots {
					gr.geoRows = append(gr.geoRows, r0-g0+slots[i]+c)
					if a := exs[i].aux; a != nil && a.cells && a.cell[0][c] == 1 {
						pos := a.cell[4][c]
						x, y := geoOffTarget(pos%PatchSize, pos/PatchSize)
						b.geoSel = append(b.geoSel, geoN)
						b.geoTargets = append(b.geoTargets, x, y)
					}
					geoN++
				}
				if exs[i].roles != nil { // a generated scene's question: its direction is known
					vx, vy := exs[i].toward.Vector()
					b.dirSel = append(b.dirSel, geoN/ImageSlots-1)
					b.dirTargets = append(b.dirTargets, float32(vx), float32(vy))
				}
				gr.geoFirst = append(gr.geoFirst, r0-g0+slots[i]+ImageSlots)
				for j := slots[i] + ImageSlots; j < len(s.ids); j++ {
					gr.geoAt[r0-g0+j] = len(gr.geoRows) / ImageSlots
				}
			}
			if exs[i].Task == ImageReconstruct {
				want := exs[i].Image
				if exs[i].Target != nil {
					want = exs[i].Target
				}
				b.reconPatch = patchify(b.reconPatch, want) // in reconRows' order
			}
			for j := range gr.T {
				r := r0 + j
				b.pos[r] = j
				if j >= len(s.ids) {
					b.ids[r] = m.sp.pad
					continue
				}
				b.tokens++
				b.ids[r] = s.ids[j]
				b.idx[r] = s.idx[j]
				b.cell[r] = s.cell[j]
				b.hasCells = b.hasCells || s.cell[j] > 0
				if exs[i].Task == ImageReconstruct && j >= recon[i] && j < recon[i]+ImageSlots {
					b.reconRows = append(b.reconRows, r) // cell order, like reconPatch
				}
				if roles := exs[i].roles; roles != nil && m.roleW != nil && j >= slots[i] && j < slots[i]+ImageSlots {
					b.roleRows = append(b.roleRows, r)
					b.roleTargets = append(b.roleTargets, roles[j-slots[i]])
				}
				if sl := s.slot[j]; sl >= 0 {
					if exs[i].Task.Image() {
						b.slot[r] = 1 + nText + imgIndex[i]*ImageSlots + sl
					} else {
						b.slot[r] = 1 + textSlot[i] + sl
					}
				}
				if s.tgt[j] != nn.IgnoreIndex {
					b.respRows = append(b.respRows, r)
					b.respTargets = append(b.respTargets, s.tgt[j])
				}
			}
			r0 += gr.T
			if m.weighting == PerExample {
				n := len(b.respRows) - len(b.respWeights)
				for range n {
					b.respWeights = append(b.respWeights, 1/float64(n))
				}
			}
		}
	}
	// Text encoder inputs.
	b.nt = len(encSeqs)
	for _, e := range encSeqs {
		b.te = max(b.te, len(e))
	}
	b.encIDs = make([]int, b.nt*b.te)
	b.encLens = make([]int, b.nt)
	for k, e := range encSeqs {
		for j := range b.te {
			if j < len(e) {
				b.encIDs[k*b.te+j] = e[j]
			} else {
				b.encIDs[k*b.te+j] = m.sp.pad
			}
		}
		b.encLens[k] = len(e)
		n := len(e) - encFirst[k] - 1
		for j := range n {
			b.textRows = append(b.textRows, k*b.te+encFirst[k]+j)
		}
	}
	for k, i := range textSemFirst(textSem) {
		b.msgs = append(b.msgs, ChannelMessage{Task: exs[i].Task, Rows: b.textN[k]})
	}
	for j := 0; j < len(imgSem); j += ImageSlots {
		b.msgs = append(b.msgs, ChannelMessage{Task: exs[imgSem[j]].Task, Rows: ImageSlots})
	}
	return b, nil
}

// textSemFirst returns the example of each text input in row order: textSem holds
// one entry per semantic row, runs of the same example.
func textSemFirst(textSem []int) []int {
	var out []int
	for r, i := range textSem {
		if r == 0 || textSem[r-1] != i {
			out = append(out, i)
		}
	}
	return out
}

func first(ids []int, fallback int) int {
	if len(ids) > 0 {
		return ids[0]
	}
	return fallback
}

// zeroRowFirst returns rows [V, d] below a row of zeros, [1+V, d]: a table that
// Gather reads with 0 for "add nothing" and 1+i for row i.
func zeroRowFirst(g *graph, rows *tensor) *tensor {
	return g.Concat(0, nn.NewTensor(make([]float32, rows.Dim(1)), 1, rows.Dim(1)), rows)
}

// RoleLayer is the number of decoder blocks after which the role head reads the image
// slots: half the default depth, leaving two blocks to use what it names.
const RoleLayer = 2

// forward runs the whole model on a batch: transmitter encoders, semantic head,
// the training channel if any, receiver decoder. It returns the decoder's final hidden states
// [rows of the grouped layout, Dim], the clean semantic vectors [rows, SemDim] (text
// rows, then ImageSlots rows per image; nil when the batch has no semantic input), and
// the hidden states [len(b.roleRows), Dim] the role head reads, after RoleLayer blocks
// (nil when there are none), and the spatial readout's trained parts in the numbering
// of b.geoSel and b.dirSel (nil without image.vqa examples or Config.GeoReadout).
func (m *Model) forward(g *graph, b *batch) (h, sem, roles *tensor, gp geo) {
	d := m.cfg.Dim
	var parts []*tensor
	if b.nt > 0 {
		h := m.encodeText(g, b.encIDs, b.encLens, b.nt, b.te)
		parts = append(parts, g.Gather(h, b.textRows))
	}
	if b.ni > 0 {
		parts = append(parts, m.encodeImages(g, b.images, b.ni))
	}
	x := g.Add(g.Gather(m.tokEmb, b.ids), g.Gather(m.posEmb, b.pos))
	x = g.Add(x, g.Gather(m.idxEmb, b.idx))
	if b.hasCells {
		table := zeroRowFirst(g, m.cellEmb)
		x = g.Add(x, g.Gather(table, b.cell))
	}
	if len(parts) > 0 {
		lm := parts[0]
		if len(parts) > 1 {
			lm = g.Concat(0, parts...)
		}
		s := m.semantics(g, lm)
		sem = s
		if m.channel != nil {
			s = m.channel.Transmit(g, s, b.msgs)
		}
		e := m.slotEmbeddings(g, s)
		table := zeroRowFirst(g, e)
		x = g.Add(x, g.Gather(table, b.slot))
	}
	// Each length group runs through the blocks on its own [examples, T] grid.
	outs := make([]*tensor, len(b.groups))
	var mids []*tensor       // after RoleLayer blocks, per group, when the role head reads
	var offs, dirs []*tensor // the spatial readout's trained parts, per group that has one
	r0 := 0
	for k, gr := range b.groups {
		n := len(gr.ex) * gr.T
		xg := x
		if len(b.groups) > 1 {
			xg = g.Slice(x, 0, r0, r0+n)
		}
		xg = g.Reshape(xg, len(gr.ex), gr.T, d)
		for i := range m.blocks {
			if i == RoleLayer && len(b.roleRows) > 0 {
				mids = append(mids, g.Reshape(xg, n, d))
			}
			if i == RoleLayer && len(gr.geoRows) > 0 {
				flat := g.Reshape(xg, n, d)
				feat, parts := m.geoReadout(g, g.Gather(flat, gr.geoRows), g.Gather(flat, gr.geoFirst))
				offs = append(offs, parts.off)
				dirs = append(dirs, parts.dir)
				table := zeroRowFirst(g, feat)
				xg = g.Add(xg, g.Gather(table, gr.geoAt, len(gr.ex), gr.T))
			}
			xg = m.blocks[i].forward(g, xg, m.cfg.Heads, true, nil, nil, 0, 0)
		}
		outs[k] = g.Reshape(xg, n, d)
		r0 += n
	}
	x = outs[0]
	if len(outs) > 1 {
		x = g.Concat(0, outs...)
	}
	if len(mids) > 0 {
		mid := mids[0]
		if len(mids) > 1 {
			mid = g.Concat(0, mids...)
		}
		roles = g.Gather(mid, b.roleRows)
	}
	if len(offs) > 0 {
		gp.off, gp.dir = offs[0], dirs[0]
		if len(offs) > 1 {
			gp.off, gp.dir = g.Concat(0, offs...), g.Concat(0, dirs...)
		}
	}
	x = g.LayerNorm(x, m.lnfG, m.lnfB, nn.DefaultNormEps)
	return x, sem, roles, gp
}

// ReconWeight scales the reconstruction loss (mean squared error of pixels in [0, 1])
// against the token cross-entropy.
const ReconWeight = 10

// Weighting says how the cross-entropy of a batch averages its scored tokens.
type Weighting uint8

const (
	// PerToken averages over every scored token of the batch: an example weighs as
	// much as its response is long (StageLM, StageAlign, perplexity).
	PerToken Weighting = iota
	// PerExample averages within each example, then over examples, so a one-word
	// answer (image.vqa, image.classify) counts as much as a sentence (StageInstruct).
	PerExample
)

// Losses are the parts of one batch's loss.
type Losses struct {
	Text  float64 // mean cross-entropy of the scored tokens, nats, averaged as the Weighting says
	Recon float64 // mean squared pixel error of reconstructed images
	Aux   float64 // summed cross-entropies of the auxiliary heads (heads.go), nats, plus the spatial readout's squared errors
	Total float64 // Text + ReconWeight*Recon + AuxWeight*Aux, what is minimised
}

// loss returns the training loss of a batch and its parts.
func (m *Model) loss(g *graph, b *batch) (*tensor, Losses) {
	h, sem, roleH, gp := m.forward(g, b)
	var terms []*tensor
	var l Losses
	if len(b.respRows) > 0 {
		logits := g.MatMulT(g.Gather(h, b.respRows), m.tokEmb)
		ce := g.CrossEntropy(logits, b.respTargets, nn.CrossEntropyOptions{Weights: b.respWeights})
		l.Text = float64(ce.Data[0])
		terms = append(terms, ce)
	}
	if len(b.reconRows) > 0 {
		pred := m.reconstruct(g, g.Gather(h, b.reconRows))
		mse := g.MSE(pred, nn.NewTensor(b.reconPatch, len(b.reconRows), PatchPixels))
		l.Recon = float64(mse.Data[0])
		terms = append(terms, g.Scale(mse, ReconWeight))
	}
	if a := m.auxLoss(g, sem, &b.aux); a != nil {
		l.Aux = float64(a.Data[0])
		terms = append(terms, g.Scale(a, AuxWeight))
	}
	if roleH != nil {
		ce := m.roleLoss(g, roleH, b.roleTargets)
		l.Aux += float64(ce.Data[0])
		terms = append(terms, g.Scale(ce, AuxWeight))
	}
	if gp.off != nil {
		if mse := m.geoLoss(g, gp, b.geoSel, b.geoTargets, b.dirSel, b.dirTargets); mse != nil {
			l.Aux += float64(mse.Data[0])
			terms = append(terms, g.Scale(mse, AuxWeight))
		}
	}
	total := terms[0]
	for _, t := range terms[1:] {
		total = g.Add(total, t)
	}
	l.Total = float64(total.Data[0])
	return total, l
}

// group is one length group of a batch's decoder layout: its examples (indices into
// the batch) and the length they are padded to.
type group struct {
	ex []int
	T  int
	// geoRows are the group's image.vqa slot rows (Config.GeoReadout), ImageSlots per
	// example in cell order, numbered within the group, and geoFirst each example's
	// first row after its image; geoAt gives each of the group's rows 1+k when it is
	// a position (not padding) after the image of the k-th of those examples, which
	// receives the k-th spatial readout, and 0 elsewhere.
	geoRows, geoFirst, geoAt []int
}

// A batch's examples are laid out in at most maxGroups length groups, each of which
// costs groupCost padded positions more (the price of one more pass through the
// blocks). Padding every example to the batch's longest, as one group, wasted about a
// third of the decoder's work in StageInstruct, where a 30-word sentence to transmit
// (some 70 positions) shares the batch with 18-position digit prompts. The causal
// decoder gives every real position the same result either way; only the float
// rounding of the summed gradients differs.
const (
	maxGroups = 4
	groupCost = 128
)

// lengthGroups splits sequences of the given lengths into at most k groups of
// consecutive lengths (sorted by length, then index), choosing by dynamic programming
// the split that minimises the padded positions plus groupCost per group.
func lengthGroups(lens []int, k int) []group {
	n := len(lens)
	if n == 0 {
		return nil
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return lens[a] - lens[b] })
	k = min(k, n)
	const inf = int(^uint(0) >> 2)
	// best[c][j]: least cost of the first j sorted sequences in c groups; cut[c][j]
	// where its last group begins.
	best := make([][]int, k+1)
	cut := make([][]int, k+1)
	for c := range best {
		best[c] = make([]int, n+1)
		cut[c] = make([]int, n+1)
		for j := range best[c] {
			best[c][j] = inf
		}
	}
	best[0][0] = 0
	for c := 1; c <= k; c++ {
		for j := c; j <= n; j++ {
			for i := c - 1; i < j; i++ {
				if best[c-1][i] == inf {
					continue
				}
				if v := best[c-1][i] + (j-i)*lens[order[j-1]] + groupCost; v < best[c][j] {
					best[c][j], cut[c][j] = v, i
				}
			}
		}
	}
	c := 1
	for cc := 2; cc <= k; cc++ {
		if best[cc][n] < best[c][n] {
			c = cc
		}
	}
	gs := make([]group, c)
	for j := n; c > 0; c-- {
		i := cut[c][j]
		gs[c-1] = group{ex: order[i:j], T: lens[order[j-1]]}
		j = i
	}
	return gs
}
