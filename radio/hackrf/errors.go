package hackrf

import (
	"errors"
	"fmt"

	"github.com/m4sc/m4sc/radio"
)

// libhackrf's return codes (enum hackrf_error in hackrf.h).
const (
	codeSuccess            = 0
	codeTrue               = 1
	codeInvalidParam       = -2
	codeNotFound           = -5
	codeBusy               = -6
	codeNoMem              = -11
	codeLibUSB             = -1000
	codeThread             = -1001
	codeStreamingThreadErr = -1002
	codeStreamingStopped   = -1003
	codeStreamingExit      = -1004
	codeUSBAPIVersion      = -1005
	codeNotLastDevice      = -2000
	codeOther              = -9999
)

// codeName returns the enum name of a libhackrf code and the text hackrf_error_name
// gives for it (for HACKRF_ERROR_LIBUSB the library may give libusb's own text instead).
func codeName(code int) (name, text string) {
	switch code {
	case codeSuccess:
		return "HACKRF_SUCCESS", "HACKRF_SUCCESS"
	case codeTrue:
		return "HACKRF_TRUE", "HACKRF_TRUE"
	case codeInvalidParam:
		return "HACKRF_ERROR_INVALID_PARAM", "invalid parameter(s)"
	case codeNotFound:
		return "HACKRF_ERROR_NOT_FOUND", "HackRF not found"
	case codeBusy:
		return "HACKRF_ERROR_BUSY", "HackRF busy"
	case codeNoMem:
		return "HACKRF_ERROR_NO_MEM", "insufficient memory"
	case codeLibUSB:
		return "HACKRF_ERROR_LIBUSB", "USB error"
	case codeThread:
		return "HACKRF_ERROR_THREAD", "transfer thread error"
	case codeStreamingThreadErr:
		return "HACKRF_ERROR_STREAMING_THREAD_ERR", "streaming thread encountered an error"
	case codeStreamingStopped:
		return "HACKRF_ERROR_STREAMING_STOPPED", "streaming stopped"
	case codeStreamingExit:
		return "HACKRF_ERROR_STREAMING_EXIT_CALLED", "streaming terminated"
	case codeUSBAPIVersion:
		return "HACKRF_ERROR_USB_API_VERSION", "feature not supported by installed firmware"
	case codeNotLastDevice:
		return "HACKRF_ERROR_NOT_LAST_DEVICE", "one or more HackRFs still in use"
	case codeOther:
		return "HACKRF_ERROR_OTHER", "unspecified error"
	}
	return fmt.Sprintf("HACKRF_ERROR(%d)", code), "unknown error code"
}

// Error is a failed libhackrf call.
type Error struct {
	Op     string // the libhackrf function, "hackrf_set_freq"
	Code   int    // its return code (enum hackrf_error)
	Detail string // hackrf_error_name's text at the time of the failure
}

// Name is the code's name in hackrf.h, "HACKRF_ERROR_BUSY".
func (e *Error) Name() string {
	name, _ := codeName(e.Code)
	return name
}

func (e *Error) Error() string {
	return fmt.Sprintf("hackrf: %s: %s (%s)", e.Op, e.Name(), e.Detail)
}

// Unwrap gives the radio sentinel a caller acts on: radio.ErrNoDevice for
// HACKRF_ERROR_NOT_FOUND, radio.ErrBusy for HACKRF_ERROR_BUSY, radio.ErrUnsupported for
// HACKRF_ERROR_USB_API_VERSION (the firmware is too old for the request).
func (e *Error) Unwrap() error {
	switch e.Code {
	case codeNotFound:
		return radio.ErrNoDevice
	case codeBusy:
		return radio.ErrBusy
	case codeUSBAPIVersion:
		return radio.ErrUnsupported
	}
	return nil
}

// codeError turns a libhackrf return code into an error: nil for HACKRF_SUCCESS and
// HACKRF_TRUE. detail is hackrf_error_name's text; empty takes the table's.
func codeError(op string, code int, detail string) error {
	if code == codeSuccess || code == codeTrue {
		return nil
	}
	if detail == "" {
		_, detail = codeName(code)
	}
	return &Error{Op: op, Code: code, Detail: detail}
}

// noDeviceHelp is what to check when no HackRF answers.
const noDeviceHelp = "check that the board is plugged in with a data USB cable (not a charge-only one) " +
	"and that `hackrf_info` lists it; if hackrf_info sees it only as root, install the udev rules " +
	"(Debian package libhackrf0: /lib/udev/rules.d/60-libhackrf0.rules), add yourself to the plugdev " +
	"group and replug"

// noDevice wraps err (which should already say radio.ErrNoDevice, or say why the USB
// layer could not look) in the message a person needs, keeping radio.ErrNoDevice in the
// chain.
func noDevice(serial string, err error) error {
	which := "HackRF"
	if serial != "" {
		which = fmt.Sprintf("HackRF with serial number ending in %q", serial)
	}
	if errors.Is(err, radio.ErrNoDevice) {
		return fmt.Errorf("hackrf: no %s found: %s: %w", which, noDeviceHelp, err)
	}
	return fmt.Errorf("hackrf: no %s found (%v): %s: %w", which, err, noDeviceHelp, radio.ErrNoDevice)
}

// usbHelp is added to USB errors when opening: mostly permissions.
const usbHelp = "if this says access denied, the udev rules are missing or you are not in the plugdev group " +
	"(Debian: package libhackrf0 installs /lib/udev/rules.d/60-libhackrf0.rules; replug after joining the group)"
