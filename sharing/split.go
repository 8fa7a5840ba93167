package sharing

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/semantic"
)

// Limits and defaults of a round.
const (
	// MaxUsers is the most users of one round: user addresses are 1 to MaxUsers and
	// group addresses GroupBase and up, both inside the header's 16 bits.
	MaxUsers = 64
	// GroupBase is the first group address; user addresses lie below it.
	GroupBase = 0x8000
	// DefaultThreshold is the RMS difference per real (the vectors have unit RMS)
	// within which two vectors count as the same: cells showing the same object in
	// related scenes differ by 0.02 to 0.16 (median and 95th percentile at 90%
	// overlap), cells showing different content by 0.5 to 1.6, empty background
	// cells of unrelated scenes by 0.23 to 0.74 (5th to 95th percentile; the
	// encoder's context reaches every cell).
	DefaultThreshold = 0.2
	// DefaultCopyUsers is the number of members that pay for each copy of a public
	// part (Options.CopyUsers): a group of 8 gets 2 copies.
	DefaultCopyUsers = 4
	// MaxCopies is the most copies of a public part.
	MaxCopies = 4
)

// ErrUsers is wrapped by errors about the set of users (their number, addresses,
// semantics).
var ErrUsers = errors.New("sharing: bad users")

// User is one receiver of a round, as the transmitter knows it.
type User struct {
	Task     llm.Task
	Question string        // image.vqa's question (the receiver's; carried along for scoring)
	SNR      float64       // dB, as the user's receiver last reported it
	Sem      llm.Semantics // what the user is to receive
}

// Options configure Split.
type Options struct {
	// Threshold is the RMS difference per real within which vectors are shared
	// (DefaultThreshold; negative: share only identical vectors).
	Threshold float64
	// Bandwidth is the symbols per vector a task needs (task-aware; default
	// semantic.DefaultBandwidth). Public parts go at the smallest need of their
	// members, and a member that needs more gets a private enhancement layer.
	Bandwidth func(llm.Task) int
	// CopyUsers sets how many copies of a public part go out: one for every
	// CopyUsers members, at least one and at most MaxCopies (DefaultCopyUsers;
	// negative: always one). The copies travel in the part's one frame, on other
	// subcarriers, and each member's receiver combines them (see Transmit).
	CopyUsers int
}

func (o Options) withDefaults() Options {
	switch {
	case o.Threshold == 0:
		o.Threshold = DefaultThreshold
	case o.Threshold < 0:
		o.Threshold = 0
	}
	if o.Bandwidth == nil {
		o.Bandwidth = semantic.DefaultBandwidth
	}
	if o.CopyUsers == 0 {
		o.CopyUsers = DefaultCopyUsers
	}
	return o
}

// copies is the number of copies of a public part of m members.
func (o Options) copies(m int) int {
	if o.CopyUsers < 0 {
		return 1
	}
	return max(1, min(MaxCopies, m/o.CopyUsers))
}

// Layer says what a part is to its users.
type Layer uint8

const (
	// LayerPublic: vectors shared by a group, sent once at the weakest member's SNR.
	LayerPublic Layer = iota
	// LayerPrivate: a user's own vectors that nobody shares.
	LayerPrivate
	// LayerEnhancement: a user's own copy of vectors also sent publicly, at the higher
	// bandwidth its task needs; it replaces the public base layer's copy.
	LayerEnhancement
)

func (l Layer) String() string {
	return [...]string{"public", "private", "enhancement"}[l]
}

// Part is one unit of transmission: some vectors for one or more users.
type Part struct {
	Layer   Layer
	Members []int // users (indices into the round's users), ascending
	// Slots are the vectors' places in each member's message: for an image, a mask
	// of its ImageSlots cells (bit c for cell c); for a text, every token (the whole
	// message, AllSlots).
	Slots   uint16
	Image   bool
	N       int       // vectors
	Vectors []float32 // [N*Dim], the slots' in ascending order (public: the members' mean)
	K       int       // symbols per vector
	Copies  int       // copies of the N*K symbols sent (public parts of many members: more than 1)
	SNRHint float64   // dB: the weakest member's SNR
	Task    llm.Task  // the first member's task (public parts serve several)
}

// AllSlots marks a part that carries a member's whole message.
const AllSlots = 0xffff

// Plan is what Split found: the parts and, per user, the parts it needs.
type Plan struct {
	Users []User
	Parts []Part
	// Candidates counts, for text, the tokens with a match within the threshold in
	// another user's sentence: what token-level sharing could use if each user were
	// told where the shared tokens go (see the package documentation).
	Candidates, Tokens int
}

// Split finds what users have in common by the similarity of their semantic vectors
// and splits their semantics into public and private parts. Image semantics are
// compared cell by cell: at each cell the users' vectors are grouped greedily (a user
// joins the first group every member of which is within the threshold, complete
// linkage). Text semantics are compared whole (the same number of tokens, each within
// the threshold): a token shared alone would need its place in each member's sentence
// sent too (see Plan.Candidates).
//
// Groups then become public parts greedily, best saving first. A candidate is a set S
// of m users (a group found at some cell, or the common members of two such groups);
// its cells are those where S lies inside one group. Sent privately, its n cells cost
// each member n k symbols, plus a frame's preamble, SIGNAL and header (overhead, in
// data symbols) for the f members that have nothing else left; sent publicly, n k
// symbols and one frame. A candidate pays when (m-1) n k + (f-1) overhead > 0; of
// those, the one that saves the most symbols, (m-1) n k, goes public, carrying its
// members' mean vector of each cell, its cells leave those members' groups, and the
// search repeats. What is left is private. So accidental matches of a few background
// cells between unrelated scenes never pay for a frame, and a cell that eight users
// share but one does not still goes to the seven.
//
// Copies: a public part is coded for its weakest member and serves every member with
// the same symbols, where unicast would have sent each its own. Its members' saving
// pays for more copies of those symbols in the same frame, which each receiver
// combines (maximal-ratio): 10 log10(c) dB more SNR for every member, and, the copies
// being on other subcarriers, diversity against a frequency-selective fade. A part
// gets one copy for every Options.CopyUsers members, at most MaxCopies, and no more
// than fit a frame and leave it paying, (m-c) n k + (f-1) overhead > 0. With
// DefaultCopyUsers a part of 8 members costs 2 copies where unicast sends 8.
func Split(users []User, o Options) (*Plan, error) {
	if err := checkUsers(users); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	overhead, err := frameOverhead()
	if err != nil {
		return nil, err
	}
	p := &Plan{Users: users}
	dim := users[0].Sem.Dim
	image := users[0].Task.Image()
	slots := 1
	if image {
		slots = llm.ImageSlots
	}
	// groups[s] holds the groups of users (bit u for user u) that match at slot s.
	groups := make([][]uint64, slots)
	for s := range slots {
		var gs []uint64
		for u := range users {
			placed := false
			for g := range gs {
				if allMembers(gs[g], func(v int) bool { return sameSlot(users[u].Sem, users[v].Sem, s, image, o.Threshold) }) {
					gs[g] |= 1 << u
					placed = true
					break
				}
			}
			if !placed {
				gs = append(gs, 1<<u)
			}
		}
		groups[s] = gs
	}
	left := make([]uint16, len(users)) // slots each user still sends privately
	for u := range left {
		left[u] = uint16(1<<slots - 1)
		if !image {
			left[u] = AllSlots
		}
	}
	for {
		var cands []uint64
		for _, gs := range groups {
			for _, g := range gs {
				if bits.OnesCount64(g) >= 2 && !slices.Contains(cands, g) {
					cands = append(cands, g)
				}
			}
		}
		for i, n := 0, len(cands); i < n; i++ {
			for j := i + 1; j < n; j++ {
				if c := cands[i] & cands[j]; bits.OnesCount64(c) >= 2 && !slices.Contains(cands, c) {
					cands = append(cands, c)
				}
			}
		}
		best, bestSave, bestMask, bestFree := uint64(0), 0, uint16(0), 0
		for _, c := range cands {
			var mask uint16
			n := 0
			for s, gs := range groups {
				if slices.ContainsFunc(gs, func(g uint64) bool { return g&c == c }) {
					mask |= slotBit(s, image)
					n += slotLen(users[lowest(c)].Sem, image)
				}
			}
			k, f, m := math.MaxInt, 0, 0
			for u := range users {
				if c&(1<<u) != 0 {
					m++
					k = min(k, o.Bandwidth(users[u].Task))
					if left[u]&^mask == 0 {
						f++
					}
				}
			}
			// Rank by symbols saved; the frame term only decides whether a part pays, so
			// that a group of all users at most cells goes before a smaller group that
			// has every cell.
			if raw := (m - 1) * n * k; raw > bestSave && raw+(f-1)*overhead > 0 {
				best, bestSave, bestMask, bestFree = c, raw, mask, f
			}
		}
		if best == 0 {
			break
		}
		pt := Part{Layer: LayerPublic, Slots: bestMask, Image: image, SNRHint: math.Inf(1), K: math.MaxInt}
		for u := range users {
			if best&(1<<u) != 0 {
				pt.Members = append(pt.Members, u)
				pt.SNRHint = min(pt.SNRHint, users[u].SNR)
				pt.K = min(pt.K, o.Bandwidth(users[u].Task))
				left[u] &^= bestMask
			}
		}
		pt.Task = users[pt.Members[0]].Task
		for s := range groups {
			if bestMask&slotBit(s, image) == 0 {
				continue
			}
			pt.Vectors = append(pt.Vectors, meanSlot(users, pt.Members, s, image, dim)...)
			pt.N += slotLen(users[pt.Members[0]].Sem, image)
			for g := range groups[s] {
				if groups[s][g]&best == best {
					groups[s][g] &^= best
				}
			}
		}
		// Copies come out of the saving: as many as the members' number allows, fit
		// one frame and leave the part paying.
		m := len(pt.Members)
		pt.Copies = max(1, min(o.copies(m), semantic.FrameSymbols/(pt.N*pt.K)))
		for pt.Copies > 1 && (m-pt.Copies)*pt.N*pt.K+(bestFree-1)*overhead <= 0 {
			pt.Copies--
		}
		p.Parts = append(p.Parts, pt)
	}
	// Enhancements: a member whose task needs more than its public part's bandwidth
	// gets the slots again, its own vectors, at its own bandwidth and SNR.
	for _, pt := range p.Parts[:len(p.Parts)] {
		for _, m := range pt.Members {
			if k := o.Bandwidth(users[m].Task); k > pt.K {
				p.Parts = append(p.Parts, ownPart(users, m, pt.Slots, image, dim, LayerEnhancement, k))
			}
		}
	}
	for u, mask := range left {
		if mask != 0 {
			p.Parts = append(p.Parts, ownPart(users, u, mask, image, dim, LayerPrivate, o.Bandwidth(users[u].Task)))
		}
	}
	if !image {
		p.Candidates, p.Tokens = tokenCandidates(users, o.Threshold)
	}
	return p, nil
}

func lowest(c uint64) int { return bits.TrailingZeros64(c) }

// allMembers reports whether f holds for every user of the set g.
func allMembers(g uint64, f func(int) bool) bool {
	for ; g != 0; g &= g - 1 {
		if !f(bits.TrailingZeros64(g)) {
			return false
		}
	}
	return true
}

// frameOverhead is the airtime of a semantic frame's preamble, SIGNAL and m4sc
// header, in data symbols (48 per 4 us OFDM symbol).
func frameOverhead() (int, error) {
	tx, err := phy.NewTransmitter(phy.TransmitterConfig{})
	if err != nil {
		return 0, err
	}
	h := phy.SemanticHeader{Version: phy.SemanticVersion, Kind: phy.KindPublic, Length: phy.DataCarriers, Scheme: phy.SchemeAnalog}
	x, err := tx.Semantic(nil, h, make([]complex64, phy.DataCarriers))
	if err != nil {
		return 0, err
	}
	return len(x)/80*phy.DataCarriers - phy.DataCarriers, nil
}

// checkUsers refuses a round the split cannot serve.
func checkUsers(users []User) error {
	if len(users) < 1 || len(users) > MaxUsers {
		return fmt.Errorf("%w: %d users, want 1 to %d", ErrUsers, len(users), MaxUsers)
	}
	image := users[0].Task.Image()
	for i, u := range users {
		switch {
		case u.Task.Image() != image:
			return fmt.Errorf("%w: user %d's task %s and user 0's %s are of different modalities", ErrUsers, i, u.Task, users[0].Task)
		case u.Sem.Dim != users[0].Sem.Dim || u.Sem.Dim < 1:
			return fmt.Errorf("%w: user %d's vectors have %d reals, user 0's %d", ErrUsers, i, u.Sem.Dim, users[0].Sem.Dim)
		case len(u.Sem.Vectors) != u.Sem.N*u.Sem.Dim || u.Sem.N < 1:
			return fmt.Errorf("%w: user %d's semantics hold %d values for %d vectors", ErrUsers, i, len(u.Sem.Vectors), u.Sem.N)
		case image && u.Sem.N != llm.ImageSlots:
			return fmt.Errorf("%w: user %d's image has %d vectors, want %d", ErrUsers, i, u.Sem.N, llm.ImageSlots)
		case math.IsNaN(u.SNR) || math.IsInf(u.SNR, 0):
			return fmt.Errorf("%w: user %d's SNR %v", ErrUsers, i, u.SNR)
		}
	}
	return nil
}

func slotBit(s int, image bool) uint16 {
	if !image {
		return AllSlots
	}
	return 1 << s
}

// slotLen is the number of vectors in one slot.
func slotLen(sem llm.Semantics, image bool) int {
	if image {
		return 1
	}
	return sem.N
}

// slotVectors returns the values of slot s.
func slotVectors(sem llm.Semantics, s int, image bool) []float32 {
	if !image {
		return sem.Vectors
	}
	return sem.Vectors[s*sem.Dim : (s+1)*sem.Dim]
}

// sameSlot reports whether two users' slot s match: every vector within the RMS
// threshold.
func sameSlot(a, b llm.Semantics, s int, image bool, threshold float64) bool {
	if !image && a.N != b.N {
		return false
	}
	va, vb := slotVectors(a, s, image), slotVectors(b, s, image)
	for i := 0; i < len(va); i += a.Dim {
		if rmsDiff(va[i:i+a.Dim], vb[i:i+a.Dim]) > threshold {
			return false
		}
	}
	return true
}

func rmsDiff(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i] - b[i])
		s += d * d
	}
	return math.Sqrt(s / float64(len(a)))
}

// meanSlot is the members' mean of slot s.
func meanSlot(users []User, members []int, s int, image bool, dim int) []float32 {
	out := make([]float32, len(slotVectors(users[members[0]].Sem, s, image)))
	for _, m := range members {
		for i, v := range slotVectors(users[m].Sem, s, image) {
			out[i] += v / float32(len(members))
		}
	}
	return out
}

// ownPart is user u's own vectors of the slots in mask.
func ownPart(users []User, u int, mask uint16, image bool, dim int, layer Layer, k int) Part {
	pt := Part{Layer: layer, Members: []int{u}, Slots: mask, Image: image, K: k, Copies: 1, SNRHint: users[u].SNR, Task: users[u].Task}
	if !image {
		pt.N, pt.Vectors = users[u].Sem.N, users[u].Sem.Vectors
		return pt
	}
	for s := range llm.ImageSlots {
		if mask&(1<<s) != 0 {
			pt.Vectors = append(pt.Vectors, slotVectors(users[u].Sem, s, true)...)
		}
	}
	pt.N = bits.OnesCount16(mask)
	return pt
}

// tokenCandidates counts the tokens of every user that lie within the threshold of
// some token of another user's sentence.
func tokenCandidates(users []User, threshold float64) (candidates, tokens int) {
	for u := range users {
		a := users[u].Sem
		for i := range a.N {
			tokens++
			va := a.Vectors[i*a.Dim : (i+1)*a.Dim]
		search:
			for v := range users {
				if v == u {
					continue
				}
				b := users[v].Sem
				for j := range b.N {
					if rmsDiff(va, b.Vectors[j*b.Dim:(j+1)*b.Dim]) <= threshold {
						candidates++
						break search
					}
				}
			}
		}
	}
	return candidates, tokens
}
