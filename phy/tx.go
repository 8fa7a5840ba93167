package phy

import (
	"fmt"
	"slices"
)

// TransmitterConfig configures a Transmitter. The zero value is the standard
// transmitter of clause 17.
type TransmitterConfig struct {
	// Windowing joins the packet's fields; the zero value is WindowingStandard, which
	// reproduces the standard's worked example sample for sample.
	Windowing Windowing
}

// Transmitter builds IEEE 802.11a packets (clause 17.3): PLCP preamble, SIGNAL, DATA.
// It is a plan with its buffers allocated by NewTransmitter, so Packet allocates
// nothing beyond growing dst. It is not safe for concurrent use.
type Transmitter struct {
	cfg   TransmitterConfig
	rates []Rate // Rates(), kept to validate without allocating
	mod   *OFDMModulator
	scr   Scrambler
	enc   [Rate34 + 1]*ConvEncoder
	il    [QAM64 + 1]*Interleaver
	mp    [QAM64 + 1]*Mapper

	// Per-symbol work buffers, sized for 64-QAM.
	dbits [6 * DataCarriers * 3 / 4]uint8 // N_DBPS bits of DATA, at most 216
	coded [6 * DataCarriers]uint8         // N_CBPS coded bits
	ibits [6 * DataCarriers]uint8         // the same, interleaved
	pts   [DataCarriers]complex64
	hbits [SemanticHeaderSymbols * headerBitsPerSymbol]uint8 // m4sc header bits with tail and pad
	// The scrambling sequence of the current packet from its first bit on: one period
	// of 127 and then enough to cover a symbol starting anywhere in it.
	scrSeq [127 + 6*DataCarriers*3/4]uint8
}

// NewTransmitter returns a transmitter for cfg.
func NewTransmitter(cfg TransmitterConfig) (*Transmitter, error) {
	mod, err := NewOFDMModulator(cfg.Windowing)
	if err != nil {
		return nil, fmt.Errorf("phy: new transmitter: %w", err)
	}
	t := &Transmitter{cfg: cfg, rates: Rates(), mod: mod}
	for c := Rate12; c <= Rate34; c++ {
		if t.enc[c], err = NewConvEncoder(c); err != nil {
			return nil, err
		}
	}
	for m := BPSK; m <= QAM64; m++ {
		if t.il[m], err = NewInterleaver(m); err != nil {
			return nil, err
		}
		if t.mp[m], err = NewMapper(m); err != nil {
			return nil, err
		}
	}
	t.Reset()
	return t, nil
}

// Reset clears the state left by an interrupted packet. Packet calls it itself, so a
// caller never needs to.
func (t *Transmitter) Reset() {
	t.mod.Reset()
	t.scr.Reset(0)
	for _, e := range t.enc[Rate12:] {
		e.Reset()
	}
}

// CheckPacket reports whether Packet accepts its arguments: rate one of Rates(), a
// PSDU of 1..MaxPSDULength octets (clause 17.3.4.3), and a scrambler state of 1..127
// (clause 17.3.5.5 asks for a non-zero state; zero would leave the data unscrambled).
func CheckPacket(psduLen int, rate Rate, scramblerInit uint8) error {
	return checkPacket(Rates(), psduLen, rate, scramblerInit)
}

func checkPacket(rates []Rate, psduLen int, rate Rate, scramblerInit uint8) error {
	if err := (SignalField{Rate: rate, Length: psduLen}).validate(rates); err != nil {
		return fmt.Errorf("phy: packet: %w", err)
	}
	if scramblerInit == 0 || scramblerInit > ScramblerStateMask {
		return fmt.Errorf("phy: packet: scrambler initial state %#x outside 1..0x7f", scramblerInit)
	}
	return nil
}

// PacketLen returns the number of samples Packet appends for a PSDU of psduLen octets
// at rate: PreambleLen + SymbolLen*(1 + N_SYM), plus one for the last field's window
// tail with WindowingStandard.
func (t *Transmitter) PacketLen(psduLen int, rate Rate) int {
	n := PreambleLen + SymbolLen*(1+rate.DataSymbols(psduLen))
	if t.cfg.Windowing == WindowingStandard {
		n++
	}
	return n
}

// Packet appends one complete packet carrying psdu at rate and returns the extended
// slice: complex baseband at 20 Msps with the standard's amplitude (no scaling; an
// OFDM symbol's mean power is 52/4096). scramblerInit is the scrambler's initial state
// (see Scrambler; the standard's example uses 0b1011101). The packet is, in order
// (clause 17.3.2.1, Figure 17-4): the short and long training fields (clause 17.3.3),
// SIGNAL (clause 17.3.4, BPSK rate 1/2, pilots p_0), and the DATA symbols (clause
// 17.3.5, pilots p_1, p_2, ...).
//
// Packet panics if CheckPacket rejects its arguments: check them first when they come
// from outside the program.
func (t *Transmitter) Packet(dst []complex64, psdu []byte, rate Rate, scramblerInit uint8) []complex64 {
	if err := checkPacket(t.rates, len(psdu), rate, scramblerInit); err != nil {
		panic(err)
	}
	dst = slices.Grow(dst, t.PacketLen(len(psdu), rate))
	t.Reset()
	dst = t.mod.AppendPreamble(dst)
	dst = t.appendSignal(dst, SignalField{Rate: rate, Length: len(psdu)})
	dst = t.appendData(dst, psdu, rate, scramblerInit, 1)
	return t.mod.Flush(dst)
}

// appendSignal appends the SIGNAL symbol of f (clause 17.3.4): its 24 bits coded at rate
// 1/2 from the zero state, interleaved and mapped as BPSK, not scrambled, pilots p_0.
func (t *Transmitter) appendSignal(dst []complex64, f SignalField) []complex64 {
	bits := f.appendBits(t.dbits[:0]) // Packet has validated f
	enc := t.enc[Rate12]
	enc.Reset()
	coded := enc.Append(t.coded[:0], bits)
	ib := t.il[BPSK].Interleave(t.ibits[:0], coded)
	pts := t.mp[BPSK].Append(t.pts[:0], ib)
	return t.mod.AppendSymbol(dst, pts, 0)
}

// appendData appends the DATA field (clause 17.3.5): SERVICE (16 zero bits), the PSDU
// least significant bit of each octet first, six tail bits and zero pad bits to fill
// N_SYM symbols; all scrambled from scramblerInit except the tail bits, which are
// forced to zero after scrambling (clause 17.3.5.3) so that the code terminates; then
// coded, punctured, interleaved and mapped one OFDM symbol at a time.
func (t *Transmitter) appendData(dst []complex64, psdu []byte, rate Rate, scramblerInit uint8, first int) []complex64 {
	nsym := rate.DataSymbols(len(psdu))
	t.scr.Reset(scramblerInit)
	for i := range t.scrSeq {
		t.scrSeq[i] = t.scr.Next()
	}
	enc := t.enc[rate.Code]
	enc.Reset()
	il, mp := t.il[rate.Modulation], t.mp[rate.Modulation]
	tail := ServiceBits + 8*len(psdu) // position of the first tail bit
	pos := 0
	for s := range nsym {
		db := t.dbits[:rate.NDBPS]
		t.dataBits(db, pos, psdu, tail)
		pos += len(db)
		coded := enc.Append(t.coded[:0], db)
		ib := il.Interleave(t.ibits[:0], coded)
		pts := mp.Append(t.pts[:0], ib)
		dst = t.mod.AppendSymbol(dst, pts, first+s)
	}
	return dst
}

// dataBits fills db with the scrambled DATA bits from position pos on (clauses
// 17.3.5.2 to 17.3.5.5); tail is the position of the first tail bit. The scrambling
// sequence comes from t.scrSeq, which appendData fills for the packet.
func (t *Transmitter) dataBits(db []uint8, pos int, psdu []byte, tail int) {
	end := pos + len(db)
	i := 0
	for ; i < len(db) && pos+i < ServiceBits; i++ {
		db[i] = 0
	}
	for p := pos + i; p < min(end, tail); p = pos + i {
		q := p - ServiceBits
		o := psdu[q>>3]
		if q&7 == 0 && p+8 <= min(end, tail) {
			b := (*[8]uint8)(db[i : i+8])
			b[0], b[1], b[2], b[3] = o&1, o>>1&1, o>>2&1, o>>3&1
			b[4], b[5], b[6], b[7] = o>>4&1, o>>5&1, o>>6&1, o>>7
			i += 8
			continue
		}
		db[i] = o >> (q & 7) & 1
		i++
	}
	clear(db[i:])
	// Scramble: the sequence has period 127, and scrSeq holds it from the packet's
	// initial state, long enough that a symbol never wraps.
	seq := t.scrSeq[pos%127:]
	seq = seq[:len(db)]
	for k := range db {
		db[k] ^= seq[k]
	}
	// Tail bits are zero after scrambling (clause 17.3.5.3).
	for p := max(pos, tail); p < min(end, tail+TailBits); p++ {
		db[p-pos] = 0
	}
}
