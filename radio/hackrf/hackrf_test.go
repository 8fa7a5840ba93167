//go:build hackrf

package hackrf

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/radio"
)

// The error table agrees with the installed libhackrf's hackrf_error_name.
func TestErrorNamesMatchLibrary(t *testing.T) {
	for _, code := range []int{codeSuccess, codeTrue, codeInvalidParam, codeNotFound, codeBusy, codeNoMem,
		codeThread, codeStreamingThreadErr, codeStreamingStopped, codeStreamingExit, codeUSBAPIVersion,
		codeNotLastDevice, codeOther} {
		_, text := codeName(code)
		if got := libraryErrorName(code); got != text {
			t.Errorf("code %d: libhackrf says %q, the table %q", code, got, text)
		}
	}
}

// Every filter of Info.Bandwidths is one libhackrf knows: hackrf_compute_baseband_filter_bw
// leaves it unchanged.
func TestBandwidthsMatchLibrary(t *testing.T) {
	for _, bw := range Bandwidths() {
		if got := libraryFilter(uint32(bw)); float64(got) != bw {
			t.Errorf("%g Hz: libhackrf makes it %d", bw, got)
		}
	}
}

// With no board attached (as in CI), opening fails with radio.ErrNoDevice and advice,
// and does not panic, with or without a serial number.
func TestOpenNoDevice(t *testing.T) {
	boards, err := List(context.Background())
	if len(boards) > 0 {
		t.Skipf("a HackRF is attached (%+v): this test needs none", boards)
	}
	t.Logf("List: %v", err)
	for _, serial := range []string{"", "0000000000000000457863c82a2a3f1f"} {
		d, err := Open(context.Background(), Options{Serial: serial})
		if d != nil {
			d.Close()
			t.Fatalf("serial %q: opened a device that is not there", serial)
		}
		if !errors.Is(err, radio.ErrNoDevice) {
			t.Fatalf("serial %q: %v, want ErrNoDevice", serial, err)
		}
		for _, want := range []string{"hackrf_info", "USB cable", "udev", serial} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("serial %q: message %q lacks %q", serial, err, want)
			}
		}
	}
	sp, _ := radio.ParseSpec("hackrf:3f1f,antenna_power=on")
	if _, err := OpenSpec(context.Background(), sp); !errors.Is(err, radio.ErrNoDevice) {
		t.Errorf("OpenSpec: %v, want ErrNoDevice", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Open(ctx, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled open: %v", err)
	}
}
