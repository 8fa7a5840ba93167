package semantic

import "github.com/m4sc/m4sc/phy"

// Placement puts a message's channel symbols on the payload: n vectors of k symbols
// each, L = n*k symbols in all, payload position p on data subcarrier p mod 48 of OFDM
// symbol p / 48 (phy's order). The L positions are listed frequency first (every OFDM
// symbol's position on subcarrier 0, then on subcarrier 1, ...) and the symbols are
// read into that list symbol index by symbol index (entry j*n + i for symbol j of
// vector i). Entry r sits near subcarrier 48 r / L, so vector i's k symbols land about
// 48/k subcarriers apart, evenly across the band, and the vectors' offsets fill the
// gaps: a fade that wipes out a few adjacent subcarriers takes one symbol from many
// vectors rather than every symbol of a few, and the decoder, told each symbol's SNR,
// fills the gap from the rest. A lost run of OFDM symbols likewise takes a few
// symbols from each vector.
type Placement struct {
	n, k  int
	order []int32 // order[j*n+i] is the payload position of symbol j of vector i
}

// NewPlacement returns the placement of n vectors of k symbols (n, k >= 1).
func NewPlacement(n, k int) Placement {
	l := n * k
	p := Placement{n: n, k: k, order: make([]int32, 0, l)}
	const w = phy.DataCarriers
	ofdm := (l + w - 1) / w
	for sc := range w {
		for t := range ofdm {
			if q := t*w + sc; q < l {
				p.order = append(p.order, int32(q))
			}
		}
	}
	return p
}

// Len is the number of payload symbols, n*k.
func (p Placement) Len() int { return len(p.order) }

// Pos is the payload position of symbol j of vector i.
func (p Placement) Pos(i, j int) int { return int(p.order[j*p.n+i]) }

// Subcarrier is the index (into phy.DataSubcarriers) that symbol j of vector i uses.
func (p Placement) Subcarrier(i, j int) int { return p.Pos(i, j) % phy.DataCarriers }

// Scatter writes codec output sym (vector-major: vector i's k symbols at [i*k,
// (i+1)*k)) into payload order in dst (len L).
func (p Placement) Scatter(dst, sym []complex64) {
	for i := range p.n {
		for j := range p.k {
			dst[p.Pos(i, j)] = sym[i*p.k+j]
		}
	}
}

// Gather is Scatter's inverse for received symbols and their SNRs: payload order in,
// vector-major out.
func (p Placement) Gather(sym []complex64, snr []float32, payload []complex64, payloadSNR []float32) {
	for i := range p.n {
		for j := range p.k {
			q := p.Pos(i, j)
			sym[i*p.k+j] = payload[q]
			snr[i*p.k+j] = payloadSNR[q]
		}
	}
}
