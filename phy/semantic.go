package phy

import (
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
)

// The semantic frame (m4sc's own, not 802.11a) reuses the legacy preamble and a valid
// 6 Mbit/s SIGNAL whose LENGTH makes a standard receiver defer for the frame's whole
// duration, then carries:
//
//   - an m4sc header: SemanticHeaderBits bits, rate-1/2 convolutional code with its own
//     tail, every coded bit sent twice on subcarriers the interleaver puts far apart
//     (12 data bits per symbol, 3 dB more energy per bit than SIGNAL and frequency
//     diversity, so the longer header decodes at least as reliably as SIGNAL), on
//     SemanticHeaderSymbols OFDM symbols modulated in QBPSK (BPSK turned by 90 degrees,
//     as 802.11n marks its HT-SIG): a receiver tells the frame from a legacy one by
//     which axis the symbol after SIGNAL uses, while a legacy receiver sees a 6 Mbit/s
//     frame whose FCS fails and defers for its duration;
//   - a payload: either analog complex symbols given by the caller, power-normalised,
//     48 to an OFDM symbol on the data subcarriers (SchemeAnalog), or octets through the
//     802.11a DATA chain at one of its rates (a digital scheme, for quantised semantics).
//
// Pilots keep their place and polarity sequence on every symbol: header symbols use
// p_1..p_8, payload symbols go on from p_9.

// FrameKind says what a frame carries.
type FrameKind uint8

const (
	KindLegacy   FrameKind = iota // an 802.11a frame (no m4sc header)
	KindSemantic                  // analog or digital semantic payload for one user
	KindPublic                    // semantic payload shared by a group (multi-user broadcast)
	KindControl                   // m4sc control (calibration, acknowledgements)
)

// Payload schemes of the header's Scheme field.
const (
	// SchemeAnalog: the payload is analog complex symbols.
	SchemeAnalog uint8 = 0
	// A digital scheme is the index (1..8) of an 802.11a rate in Rates(), plus 1.
)

// SemanticHeader is the m4sc header. Widths in bits: Version 4, Kind 4, Address 16,
// Task 8, Sequence 16, Length 16, Scheme 8, then a CRC-16 over them.
type SemanticHeader struct {
	Version  uint8     // SemanticVersion
	Kind     FrameKind //
	Address  uint16    // user or group address
	Task     uint8     // task code (text, caption, VQA, ...), defined by package semantic
	Sequence uint16    //
	Length   uint16    // complex payload symbols (analog) or octets (digital)
	Scheme   uint8     // SchemeAnalog or 1 + index of an 802.11a rate
}

// Header layout and sizes.
const (
	SemanticVersion       = 1
	semanticFieldBits     = 4 + 4 + 16 + 8 + 16 + 16 + 8
	semanticCRCBits       = 16
	SemanticHeaderBits    = semanticFieldBits + semanticCRCBits // 88 data bits
	SemanticHeaderSymbols = 8                                   // (88 + 6 tail, padded to 96) / 12 per symbol
	headerBitsPerSymbol   = 12                                  // 24 coded bits, each sent twice
)

// Header errors.
var (
	ErrHeaderCRC     = errors.New("phy: m4sc header CRC mismatch")
	ErrHeaderVersion = errors.New("phy: m4sc header of an unknown version")
)

// HeaderFieldError names a header field whose value is not allowed.
type HeaderFieldError struct {
	Field string
	Value int
}

func (e *HeaderFieldError) Error() string {
	return fmt.Sprintf("phy: m4sc header: %s %d not allowed", e.Field, e.Value)
}

// DigitalRate returns the 802.11a rate of a digital scheme.
func (h SemanticHeader) DigitalRate() (Rate, bool) {
	t := rateTable()
	if h.Scheme == SchemeAnalog || int(h.Scheme) > len(t) {
		return Rate{}, false
	}
	return t[h.Scheme-1], true
}

// SchemeFor returns the header scheme that carries a payload at rate.
func SchemeFor(rate Rate) uint8 {
	for i, r := range rateTable() {
		if r.Mbps == rate.Mbps {
			return uint8(i + 1)
		}
	}
	return SchemeAnalog
}

// payloadSymbols is the number of OFDM symbols the payload takes.
func (h SemanticHeader) payloadSymbols() int {
	if r, ok := h.DigitalRate(); ok {
		return r.DataSymbols(int(h.Length))
	}
	return (int(h.Length) + DataCarriers - 1) / DataCarriers
}

func (h SemanticHeader) validate() error {
	switch {
	case h.Version != SemanticVersion:
		return &HeaderFieldError{"version", int(h.Version)}
	case h.Kind == KindLegacy || h.Kind > KindControl:
		return &HeaderFieldError{"kind", int(h.Kind)}
	case h.Scheme > 8:
		return &HeaderFieldError{"scheme", int(h.Scheme)}
	case h.Length == 0:
		return &HeaderFieldError{"length", 0}
	}
	if r, ok := h.DigitalRate(); ok && int(h.Length) > MaxPSDULength {
		return &HeaderFieldError{"length", int(h.Length)}
	} else if ok && r.DataSymbols(int(h.Length))+SemanticHeaderSymbols > maxSemanticSymbols {
		return &HeaderFieldError{"length", int(h.Length)}
	}
	if h.payloadSymbols()+SemanticHeaderSymbols > maxSemanticSymbols {
		return &HeaderFieldError{"length", int(h.Length)}
	}
	return nil
}

// maxSemanticSymbols is the longest frame a legacy SIGNAL can cover: LENGTH 4095 at 6
// Mbit/s spans 1365 symbols.
const maxSemanticSymbols = 1365

// appendHeaderBits appends the header's 88 bits, fields LSB first, then the CRC-16.
func (h SemanticHeader) appendBits(dst []uint8) []uint8 {
	start := len(dst)
	put := func(v uint64, n int) {
		for i := 0; i < n; i++ {
			dst = append(dst, uint8(v>>i&1))
		}
	}
	put(uint64(h.Version), 4)
	put(uint64(h.Kind), 4)
	put(uint64(h.Address), 16)
	put(uint64(h.Task), 8)
	put(uint64(h.Sequence), 16)
	put(uint64(h.Length), 16)
	put(uint64(h.Scheme), 8)
	put(uint64(headerCRC(dst[start:])), 16)
	return dst
}

// headerCRC is CRC-16 taken as the low 16 bits of CRC-32 (IEEE) over the field bits
// packed LSB first: every error pattern of up to three bits in 72 is caught.
func headerCRC(bits []uint8) uint16 {
	var b [semanticFieldBits / 8]byte
	for i, v := range bits[:semanticFieldBits] {
		b[i/8] |= v << (i % 8)
	}
	return uint16(crc32.ChecksumIEEE(b[:]))
}

// ParseSemanticHeader reads the 88 decoded header bits.
func ParseSemanticHeader(bits []uint8) (SemanticHeader, error) {
	if len(bits) != SemanticHeaderBits {
		return SemanticHeader{}, fmt.Errorf("phy: m4sc header: %d bits, want %d", len(bits), SemanticHeaderBits)
	}
	for _, b := range bits {
		if b > 1 {
			return SemanticHeader{}, fmt.Errorf("phy: m4sc header: bit value %d", b)
		}
	}
	pos := 0
	get := func(n int) uint64 {
		var v uint64
		for i := 0; i < n; i++ {
			v |= uint64(bits[pos+i]) << i
		}
		pos += n
		return v
	}
	h := SemanticHeader{Version: uint8(get(4)), Kind: FrameKind(get(4)), Address: uint16(get(16)), Task: uint8(get(8)),
		Sequence: uint16(get(16)), Length: uint16(get(16)), Scheme: uint8(get(8))}
	if crc := uint16(get(16)); crc != headerCRC(bits) {
		return h, ErrHeaderCRC
	}
	if h.Version != SemanticVersion {
		return h, ErrHeaderVersion
	}
	return h, h.validate()
}

// SemanticFrameLen is the number of samples Semantic appends for h.
func (t *Transmitter) SemanticFrameLen(h SemanticHeader) int {
	n := PreambleLen + SymbolLen*(1+SemanticHeaderSymbols+h.payloadSymbols())
	if t.cfg.Windowing == WindowingStandard {
		n++
	}
	return n
}

// Semantic appends a semantic frame with analog payload symbols (h.Scheme must be
// SchemeAnalog and h.Length must equal len(symbols)). The symbols are scaled to unit
// mean power, the constellations' power, so the frame keeps the standard's level; a
// last partial OFDM symbol is filled with zeros.
func (t *Transmitter) Semantic(dst []complex64, h SemanticHeader, symbols []complex64) ([]complex64, error) {
	if h.Scheme != SchemeAnalog || int(h.Length) != len(symbols) {
		return dst, fmt.Errorf("phy: Semantic: header says scheme %d and %d symbols, got %d analog symbols", h.Scheme, h.Length, len(symbols))
	}
	if err := h.validate(); err != nil {
		return dst, err
	}
	var p float64
	for _, v := range symbols {
		p += float64(real(v)*real(v) + imag(v)*imag(v))
	}
	scale := float32(1)
	if p > 0 {
		scale = float32(math.Sqrt(float64(len(symbols)) / p))
	}
	dst = t.semanticStart(dst, h)
	nsym := h.payloadSymbols()
	for s := 0; s < nsym; s++ {
		pts := t.pts[:0]
		for i := 0; i < DataCarriers; i++ {
			j := s*DataCarriers + i
			if j < len(symbols) {
				pts = append(pts, symbols[j]*complex(scale, 0))
			} else {
				pts = append(pts, 0)
			}
		}
		dst = t.mod.AppendSymbol(dst, pts, 1+SemanticHeaderSymbols+s)
	}
	return t.mod.Flush(dst), nil
}

// SemanticDigital appends a semantic frame whose payload is octets through the 802.11a
// DATA chain at the rate of h.Scheme (h.Length must equal len(data)).
func (t *Transmitter) SemanticDigital(dst []complex64, h SemanticHeader, data []byte, scramblerInit uint8) ([]complex64, error) {
	rate, ok := h.DigitalRate()
	if !ok || int(h.Length) != len(data) {
		return dst, fmt.Errorf("phy: SemanticDigital: header says scheme %d and %d octets, got %d octets", h.Scheme, h.Length, len(data))
	}
	if err := h.validate(); err != nil {
		return dst, err
	}
	if scramblerInit == 0 || scramblerInit > ScramblerStateMask {
		return dst, fmt.Errorf("phy: SemanticDigital: scrambler state %d outside 1..127", scramblerInit)
	}
	dst = t.semanticStart(dst, h)
	dst = t.appendData(dst, data, rate, scramblerInit, 1+SemanticHeaderSymbols)
	return t.mod.Flush(dst), nil
}

// semanticStart appends the preamble, the covering legacy SIGNAL and the header.
func (t *Transmitter) semanticStart(dst []complex64, h SemanticHeader) []complex64 {
	dst = slices.Grow(dst, t.SemanticFrameLen(h))
	t.Reset()
	dst = t.mod.AppendPreamble(dst)
	total := SemanticHeaderSymbols + h.payloadSymbols()
	six := rateTable()[0]
	// The largest LENGTH whose 6 Mbit/s frame spans exactly total symbols.
	dst = t.appendSignal(dst, SignalField{Rate: six, Length: (24*total - ServiceBits - TailBits) / 8})
	bits := h.appendBits(t.hbits[:0])
	for range TailBits + 2 { // tail, then pad to 96
		bits = append(bits, 0)
	}
	enc := t.enc[Rate12]
	enc.Reset()
	const n = headerBitsPerSymbol
	for s := 0; s < SemanticHeaderSymbols; s++ {
		coded := enc.Append(t.coded[:0], bits[s*n:(s+1)*n])
		coded = append(coded, coded...) // each coded bit twice
		ib := t.il[BPSK].Interleave(t.ibits[:0], coded)
		pts := t.mp[BPSK].Append(t.pts[:0], ib)
		for i := range pts {
			pts[i] *= complex(0, 1) // QBPSK
		}
		dst = t.mod.AppendSymbol(dst, pts, 1+s)
	}
	return dst
}
