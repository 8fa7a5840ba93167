package phy

import "fmt"

// Modulation of the data subcarriers.
type Modulation int

const (
	BPSK Modulation = iota + 1
	QPSK
	QAM16
	QAM64
)

func (m Modulation) String() string {
	switch m {
	case BPSK:
		return "BPSK"
	case QPSK:
		return "QPSK"
	case QAM16:
		return "16-QAM"
	case QAM64:
		return "64-QAM"
	}
	return fmt.Sprintf("Modulation(%d)", int(m))
}

// BitsPerSymbol is N_BPSC, coded bits per subcarrier.
func (m Modulation) BitsPerSymbol() int {
	switch m {
	case BPSK:
		return 1
	case QPSK:
		return 2
	case QAM16:
		return 4
	case QAM64:
		return 6
	}
	return 0
}

// CodeRate is the convolutional code's rate after puncturing.
type CodeRate int

const (
	Rate12 CodeRate = iota + 1 // 1/2
	Rate23                     // 2/3
	Rate34                     // 3/4
)

func (c CodeRate) String() string {
	switch c {
	case Rate12:
		return "1/2"
	case Rate23:
		return "2/3"
	case Rate34:
		return "3/4"
	}
	return fmt.Sprintf("CodeRate(%d)", int(c))
}

// Rate is one of the eight 802.11a data rates (clause 17.3.2.3, Table 17-4).
type Rate struct {
	Mbps       int        // 6, 9, 12, 18, 24, 36, 48, 54
	Modulation Modulation //
	Code       CodeRate   //
	NBPSC      int        // coded bits per subcarrier
	NCBPS      int        // coded bits per OFDM symbol
	NDBPS      int        // data bits per OFDM symbol
	Signal     uint8      // R1..R4 of the SIGNAL field, R1 in bit 0 (Table 17-6)
}

// Rates lists the eight rates in increasing order.
func Rates() []Rate {
	t := rateTable()
	return t[:]
}

// rateTable is Table 17-4 as an array value, so lookups need no heap.
func rateTable() [8]Rate {
	return [8]Rate{
		{6, BPSK, Rate12, 1, 48, 24, 0b1011},
		{9, BPSK, Rate34, 1, 48, 36, 0b1111},
		{12, QPSK, Rate12, 2, 96, 48, 0b1010},
		{18, QPSK, Rate34, 2, 96, 72, 0b1110},
		{24, QAM16, Rate12, 4, 192, 96, 0b1001},
		{36, QAM16, Rate34, 4, 192, 144, 0b1101},
		{48, QAM64, Rate23, 6, 288, 192, 0b1000},
		{54, QAM64, Rate34, 6, 288, 216, 0b1100},
	}
}

// RateByMbps finds a rate by its speed in Mbit/s.
func RateByMbps(mbps int) (Rate, error) {
	for _, r := range rateTable() {
		if r.Mbps == mbps {
			return r, nil
		}
	}
	return Rate{}, fmt.Errorf("phy: no 802.11a rate of %d Mbit/s (6, 9, 12, 18, 24, 36, 48, 54)", mbps)
}

// RateBySignal finds a rate from the SIGNAL field's four RATE bits (R1 in bit 0).
func RateBySignal(bits uint8) (Rate, bool) {
	for _, r := range rateTable() {
		if r.Signal == bits {
			return r, true
		}
	}
	return Rate{}, false
}

// Numerology of clause 17.3.2.4, at 20 Msps.
const (
	SampleRate   = 20e6
	FFTSize      = 64
	CPLen        = 16
	SymbolLen    = FFTSize + CPLen // 80 samples, 4 us
	DataCarriers = 48
	STFLen       = 160 // 10 short symbols, 8 us
	LTFLen       = 160 // 32-sample guard and two long symbols, 8 us
	PreambleLen  = STFLen + LTFLen
	ServiceBits  = 16
	TailBits     = 6
)
