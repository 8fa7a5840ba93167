package hackrf

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/m4sc/m4sc/radio"
)

func contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// Every libhackrf code maps to its hackrf.h name and hackrf_error_name's text, and the
// codes a caller acts on unwrap to the radio sentinels.
func TestErrorMapping(t *testing.T) {
	for _, c := range []struct {
		code     int
		name     string
		text     string
		sentinel error
	}{
		{-2, "HACKRF_ERROR_INVALID_PARAM", "invalid parameter(s)", nil},
		{-5, "HACKRF_ERROR_NOT_FOUND", "HackRF not found", radio.ErrNoDevice},
		{-6, "HACKRF_ERROR_BUSY", "HackRF busy", radio.ErrBusy},
		{-11, "HACKRF_ERROR_NO_MEM", "insufficient memory", nil},
		{-1000, "HACKRF_ERROR_LIBUSB", "USB error", nil},
		{-1001, "HACKRF_ERROR_THREAD", "transfer thread error", nil},
		{-1002, "HACKRF_ERROR_STREAMING_THREAD_ERR", "streaming thread encountered an error", nil},
		{-1003, "HACKRF_ERROR_STREAMING_STOPPED", "streaming stopped", nil},
		{-1004, "HACKRF_ERROR_STREAMING_EXIT_CALLED", "streaming terminated", nil},
		{-1005, "HACKRF_ERROR_USB_API_VERSION", "feature not supported by installed firmware", radio.ErrUnsupported},
		{-2000, "HACKRF_ERROR_NOT_LAST_DEVICE", "one or more HackRFs still in use", nil},
		{-9999, "HACKRF_ERROR_OTHER", "unspecified error", nil},
		{-7, "HACKRF_ERROR(-7)", "unknown error code", nil},
	} {
		err := codeError("hackrf_set_freq", c.code, "")
		var he *Error
		if !errors.As(err, &he) {
			t.Fatalf("code %d: %v is not an *Error", c.code, err)
		}
		if he.Name() != c.name || he.Detail != c.text || he.Code != c.code || he.Op != "hackrf_set_freq" {
			t.Errorf("code %d: %+v (name %s), want %s %q", c.code, he, he.Name(), c.name, c.text)
		}
		if want := fmt.Sprintf("hackrf: hackrf_set_freq: %s (%s)", c.name, c.text); err.Error() != want {
			t.Errorf("code %d: %q, want %q", c.code, err.Error(), want)
		}
		for _, s := range []error{radio.ErrNoDevice, radio.ErrBusy, radio.ErrUnsupported} {
			if errors.Is(err, s) != (s == c.sentinel) {
				t.Errorf("code %d: errors.Is(%v) = %v", c.code, s, !(s == c.sentinel))
			}
		}
	}
	for _, ok := range []int{0, 1} {
		if err := codeError("hackrf_open", ok, ""); err != nil {
			t.Errorf("code %d: %v, want nil", ok, err)
		}
	}
	// The library's own text wins where it says more (libusb's reason).
	err := codeError("hackrf_open_by_serial", -1000, "Access denied (insufficient permissions)")
	if !strings.Contains(err.Error(), "HACKRF_ERROR_LIBUSB (Access denied") {
		t.Errorf("libusb detail lost: %v", err)
	}
}

// "No device" wraps radio.ErrNoDevice and tells a person what to check, whether the
// library said not found or could not look at all.
func TestNoDevice(t *testing.T) {
	for _, c := range []struct {
		serial string
		cause  error
	}{
		{"", codeError("hackrf_open_by_serial", codeNotFound, "")},
		{"457863c82a2a3f1f", codeError("hackrf_open_by_serial", codeNotFound, "")},
		{"", codeError("hackrf_init", codeLibUSB, "Other error")},
	} {
		err := noDevice(c.serial, c.cause)
		if !errors.Is(err, radio.ErrNoDevice) {
			t.Errorf("%v: not ErrNoDevice", err)
		}
		if !errors.Is(err, c.cause) && c.cause.(*Error).Code == codeNotFound {
			t.Errorf("%v: the library's error is lost", err)
		}
		msg := err.Error()
		if !contains(msg, "USB cable", "hackrf_info", "udev", "plugdev", c.serial) {
			t.Errorf("message lacks advice: %s", msg)
		}
		if c.cause.(*Error).Code == codeLibUSB && !strings.Contains(msg, "HACKRF_ERROR_LIBUSB") {
			t.Errorf("message hides why libusb could not look: %s", msg)
		}
	}
}

// The watchdog returns a call's code, or turns a call that does not return into a
// HangError naming it, without waiting for it.
func TestGuard(t *testing.T) {
	code, err := guard(time.Second, "hackrf_set_freq", func() int { return -6 })
	if code != -6 || err != nil {
		t.Errorf("quick call: %d %v", code, err)
	}
	release := make(chan struct{})
	defer close(release)
	start := time.Now()
	_, err = guard(50*time.Millisecond, "hackrf_stop_rx", func() int { <-release; return 0 })
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("guard waited %v for a hung call", el)
	}
	var he *HangError
	if !errors.As(err, &he) || he.Op != "hackrf_stop_rx" || !errors.Is(err, ErrHang) {
		t.Fatalf("hung call: %v, want a HangError for hackrf_stop_rx", err)
	}
	if !contains(err.Error(), "hackrf_stop_rx", "did not return", "replug") {
		t.Errorf("message: %v", err)
	}
}
