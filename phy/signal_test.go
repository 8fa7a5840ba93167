package phy

import (
	"errors"
	"slices"
	"testing"
)

func signalBitsFromString(s string) []uint8 {
	var b []uint8
	for _, c := range s {
		if c == '0' || c == '1' {
			b = append(b, uint8(c-'0'))
		}
	}
	return b
}

func TestSignalAnnexG(t *testing.T) {
	r, _ := RateByMbps(36)
	got, err := SignalField{Rate: r, Length: 100}.AppendBits(nil)
	if err != nil {
		t.Fatal(err)
	}
	// From the test vectors' README: RATE, reserved, LENGTH LSB first, parity, tail.
	want := signalBitsFromString("1011 0 001001100000 0 000000")
	if !slices.Equal(got, want) {
		t.Fatalf("SIGNAL bits %v, want %v", got, want)
	}
	if n := r.DataSymbols(100); n != 6 {
		t.Fatalf("N_SYM = %d, want 6", n)
	}
}

func TestSignalRoundTrip(t *testing.T) {
	for _, r := range Rates() {
		for _, n := range []int{1, 2, 3, 100, 1500, 2047, 2048, 4094, MaxPSDULength} {
			f := SignalField{Rate: r, Length: n}
			bits, err := f.AppendBits(nil)
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			if len(bits) != SignalBits {
				t.Fatalf("%+v: %d bits", f, len(bits))
			}
			var ones int
			for _, b := range bits[:18] {
				ones += int(b)
			}
			if ones%2 != 0 {
				t.Fatalf("%+v: odd parity", f)
			}
			got, err := ParseSignal(bits)
			if err != nil || got != f {
				t.Fatalf("ParseSignal(AppendBits(%+v)) = %+v, %v", f, got, err)
			}
		}
	}
}

// setParity makes bit 17 the even parity of bits 0..16.
func setParity(b []uint8) []uint8 {
	var p uint8
	for _, v := range b[:17] {
		p ^= v
	}
	b[17] = p
	return b
}

func TestSignalParseErrors(t *testing.T) {
	r6, _ := RateByMbps(6)
	good, _ := SignalField{Rate: r6, Length: 1000}.AppendBits(nil)
	mod := func(f func(b []uint8) []uint8) []uint8 { return f(slices.Clone(good)) }
	for _, c := range []struct {
		name string
		bits []uint8
		is   error // sentinel, or nil to check the type with as
		as   func(error) bool
	}{
		{"parity bit", mod(func(b []uint8) []uint8 { b[17] ^= 1; return b }), ErrSignalParity, nil},
		{"length bit", mod(func(b []uint8) []uint8 { b[9] ^= 1; return b }), ErrSignalParity, nil},
		{"reserved", mod(func(b []uint8) []uint8 { b[4] = 1; return setParity(b) }), ErrSignalReserved, nil},
		{"tail", mod(func(b []uint8) []uint8 { b[23] = 1; return b }), ErrSignalTail, nil},
		{"rate 0000", mod(func(b []uint8) []uint8 { copy(b, []uint8{0, 0, 0, 0}); return setParity(b) }), nil,
			func(err error) bool { var e SignalRateError; return errors.As(err, &e) && e == 0 }},
		{"rate 1010", mod(func(b []uint8) []uint8 { copy(b, []uint8{1, 0, 1, 0}); return setParity(b) }), nil,
			func(err error) bool { var e SignalRateError; return errors.As(err, &e) && e == 0b0101 }},
		{"length 0", mod(func(b []uint8) []uint8 { clear(b[5:17]); return setParity(b) }), nil,
			func(err error) bool { var e SignalLengthError; return errors.As(err, &e) && e == 0 }},
		{"23 bits", good[:23], nil,
			func(err error) bool { var e SignalFormatError; return errors.As(err, &e) }},
		{"25 bits", append(slices.Clone(good), 0), nil,
			func(err error) bool { var e SignalFormatError; return errors.As(err, &e) }},
		{"bit value 2", mod(func(b []uint8) []uint8 { b[3] = 2; return b }), nil,
			func(err error) bool { var e SignalFormatError; return errors.As(err, &e) }},
	} {
		_, err := ParseSignal(c.bits)
		switch {
		case err == nil:
			t.Errorf("%s: accepted", c.name)
		case c.is != nil && !errors.Is(err, c.is):
			t.Errorf("%s: error %v, want %v", c.name, err, c.is)
		case c.as != nil && !c.as(err):
			t.Errorf("%s: error %v (%T) of the wrong kind", c.name, err, err)
		default:
			t.Logf("%s: %v", c.name, err)
		}
	}
}

func TestSignalEncodeErrors(t *testing.T) {
	r, _ := RateByMbps(54)
	for _, f := range []SignalField{
		{Rate: r, Length: 0},
		{Rate: r, Length: MaxPSDULength + 1},
		{Rate: r, Length: -1},
		{Rate: Rate{}, Length: 100},
		{Rate: Rate{Mbps: 54, Signal: r.Signal}, Length: 100},
	} {
		if b, err := f.AppendBits(nil); err == nil || len(b) != 0 {
			t.Errorf("AppendBits(%+v) = %v, %v; want an error and nothing appended", f, b, err)
		}
	}
}

// FuzzParseSignal: any 24 bits either fail with an error or parse to a field that
// encodes back to the same bits; nothing panics.
func FuzzParseSignal(f *testing.F) {
	for _, r := range Rates() {
		for _, n := range []int{1, 100, MaxPSDULength} {
			b, _ := SignalField{Rate: r, Length: n}.AppendBits(nil)
			var w uint32
			for i, v := range b {
				w |= uint32(v) << i
			}
			f.Add(w)
			f.Add(w ^ 1<<17)
			f.Add(w | 1<<4)
		}
	}
	f.Add(uint32(0))
	f.Add(uint32(0xffffff))
	f.Fuzz(func(t *testing.T, w uint32) {
		bits := make([]uint8, SignalBits)
		for i := range bits {
			bits[i] = uint8(w >> i & 1)
		}
		sf, err := ParseSignal(bits)
		if err != nil {
			return
		}
		again, err := sf.AppendBits(nil)
		if err != nil {
			t.Fatalf("parsed %+v from %024b but cannot encode it: %v", sf, w&0xffffff, err)
		}
		if !slices.Equal(again, bits) {
			t.Fatalf("%024b parses to %+v, which encodes to %v", w&0xffffff, sf, again)
		}
	})
}
