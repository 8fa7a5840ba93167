package phy

import (
	"errors"
	"fmt"
)

// SIGNAL field layout (clause 17.3.4, Figure 17-5), bit positions in transmit order.
const (
	SignalBits      = 24   // RATE(4) reserved(1) LENGTH(12) parity(1) tail(6)
	MaxPSDULength   = 4095 // largest LENGTH, octets
	signalLengthPos = 5
	signalParityPos = 17
	signalTailPos   = 18
)

// Errors of ParseSignal that carry no value. Test for them with errors.Is.
var (
	// ErrSignalParity: the even parity over bits 0..17 fails (clause 17.3.4.4).
	ErrSignalParity = errors.New("phy: SIGNAL parity check failed")
	// ErrSignalReserved: the reserved bit 4 is not 0 (clause 17.3.4.3).
	ErrSignalReserved = errors.New("phy: SIGNAL reserved bit is set")
	// ErrSignalTail: one of the six tail bits is not 0 (clause 17.3.4.5).
	ErrSignalTail = errors.New("phy: SIGNAL tail bits are not zero")
)

// SignalRateError is returned by ParseSignal when the four RATE bits (R1 in bit 0) name
// none of the eight rates of Table 17-6.
type SignalRateError uint8

func (e SignalRateError) Error() string {
	return fmt.Sprintf("phy: SIGNAL RATE bits R1..R4 %04b name no rate", reverse4(uint8(e)))
}

// SignalLengthError is returned when a SIGNAL field's LENGTH is outside 1..MaxPSDULength.
type SignalLengthError int

func (e SignalLengthError) Error() string {
	return fmt.Sprintf("phy: SIGNAL LENGTH %d outside 1..%d", int(e), MaxPSDULength)
}

// SignalFormatError is returned by ParseSignal for input that is not SignalBits bits.
type SignalFormatError string

func (e SignalFormatError) Error() string { return "phy: SIGNAL input: " + string(e) }

// reverse4 writes R1..R4 (R1 in bit 0) as R1 first when printed as a binary number.
func reverse4(r uint8) uint8 { return r&1<<3 | r&2<<1 | r&4>>1 | r&8>>3 }

// SignalField is the content of the SIGNAL field (clause 17.3.4): the rate of the DATA
// field and the PSDU length in octets.
type SignalField struct {
	Rate   Rate
	Length int // octets, 1..MaxPSDULength
}

// validate checks that f can be sent; rates is Rates(), passed in so that a caller
// on a hot path can keep its own copy.
func (f SignalField) validate(rates []Rate) error {
	known := false
	for _, r := range rates {
		known = known || r == f.Rate
	}
	if !known {
		return fmt.Errorf("phy: SIGNAL: %+v is not one of the eight rates", f.Rate)
	}
	if f.Length < 1 || f.Length > MaxPSDULength {
		return SignalLengthError(f.Length)
	}
	return nil
}

// AppendBits appends the 24 SIGNAL bits in transmit order (clause 17.3.4, Figure 17-5):
// RATE R1..R4, the reserved 0, LENGTH least significant bit first, even parity over the
// first 17 bits, six zero tail bits. It fails if the rate is not one of Rates() or
// LENGTH is outside 1..MaxPSDULength.
func (f SignalField) AppendBits(dst []uint8) ([]uint8, error) {
	if err := f.validate(Rates()); err != nil {
		return dst, err
	}
	return f.appendBits(dst), nil
}

// appendBits is AppendBits for a field already validated.
func (f SignalField) appendBits(dst []uint8) []uint8 {
	var w uint32 = uint32(f.Rate.Signal&0xf) | uint32(f.Length)<<signalLengthPos
	var parity uint32
	for i := range signalParityPos {
		parity ^= w >> i & 1
	}
	w |= parity << signalParityPos
	for i := range SignalBits {
		dst = append(dst, uint8(w>>i&1))
	}
	return dst
}

// ParseSignal reads the 24 decoded SIGNAL bits (transmit order, each 0 or 1) and checks
// them in this order: the parity (ErrSignalParity), the reserved bit (ErrSignalReserved),
// the tail (ErrSignalTail), the RATE code (SignalRateError), LENGTH 1..4095
// (SignalLengthError) (clause 17.3.4). Input of the wrong length or with values other
// than 0 and 1 gives a SignalFormatError. Any field it accepts encodes back to the same
// bits.
func ParseSignal(bits []uint8) (SignalField, error) {
	if len(bits) != SignalBits {
		return SignalField{}, SignalFormatError(fmt.Sprintf("%d bits, want %d", len(bits), SignalBits))
	}
	var w, parity uint32
	for i, b := range bits {
		if b > 1 {
			return SignalField{}, SignalFormatError(fmt.Sprintf("bit %d is %d, not 0 or 1", i, b))
		}
		w |= uint32(b) << i
		if i <= signalParityPos {
			parity ^= uint32(b)
		}
	}
	if parity != 0 {
		return SignalField{}, ErrSignalParity
	}
	if w>>4&1 != 0 {
		return SignalField{}, ErrSignalReserved
	}
	if w>>signalTailPos != 0 {
		return SignalField{}, ErrSignalTail
	}
	code := uint8(w & 0xf)
	r, ok := RateBySignal(code)
	if !ok {
		return SignalField{}, SignalRateError(code)
	}
	n := int(w >> signalLengthPos & MaxPSDULength)
	if n < 1 {
		return SignalField{}, SignalLengthError(n)
	}
	return SignalField{Rate: r, Length: n}, nil
}

// DataSymbols returns N_SYM, the number of OFDM symbols of a DATA field carrying a PSDU
// of length octets at rate r: ceil((16 + 8*length + 6) / N_DBPS) (clause 17.3.5.4,
// equation 17-11). It returns 0 for a rate with N_DBPS 0.
func (r Rate) DataSymbols(length int) int {
	if r.NDBPS <= 0 {
		return 0
	}
	return (ServiceBits + 8*length + TailBits + r.NDBPS - 1) / r.NDBPS
}
