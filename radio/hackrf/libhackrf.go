//go:build hackrf

package hackrf

/*
#cgo pkg-config: libhackrf
#include <stdint.h>
#include <stdlib.h>
#include <hackrf.h>

// Implemented in Go (callbacks.go); the context pointer carries a cgo.Handle.
extern int m4scHackrfRX(uintptr_t h, uint8_t *buf, int n);
extern int m4scHackrfTX(uintptr_t h, uint8_t *buf, int n);
extern void m4scHackrfFlush(uintptr_t h, int ok);

static int m4sc_rx(hackrf_transfer *t) {
	return m4scHackrfRX((uintptr_t)t->rx_ctx, t->buffer, t->valid_length);
}

// The TX callback always fills the whole buffer (zeros after the last sample).
static int m4sc_tx(hackrf_transfer *t) {
	t->valid_length = t->buffer_length;
	return m4scHackrfTX((uintptr_t)t->tx_ctx, t->buffer, t->buffer_length);
}

static void m4sc_flush(void *ctx, int ok) {
	m4scHackrfFlush((uintptr_t)ctx, ok);
}

static int m4sc_start_rx(hackrf_device *d, uintptr_t h) {
	return hackrf_start_rx(d, m4sc_rx, (void *)h);
}

static int m4sc_start_tx(hackrf_device *d, uintptr_t h) {
	return hackrf_start_tx(d, m4sc_tx, (void *)h);
}

static int m4sc_enable_tx_flush(hackrf_device *d, uintptr_t h) {
	return hackrf_enable_tx_flush(d, m4sc_flush, (void *)h);
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime/cgo"
	"sync"
	"unsafe"

	"github.com/m4sc/m4sc/radio"
)

// libusbContext guards hackrf_init, which sets up libhackrf's one libusb context for
// the whole process; it is kept until the process exits (hackrf_exit fails while any
// board is open, and the next Open would need the context again). This is the C
// library's global state, not the package's.
var libusbContext sync.Mutex

func initLibrary() error {
	libusbContext.Lock()
	defer libusbContext.Unlock()
	return cError("hackrf_init", C.hackrf_init())
}

// cError maps a libhackrf return code to an error carrying hackrf_error_name's text.
func cError(op string, code C.int) error {
	c := int(code)
	if c == codeSuccess || c == codeTrue {
		return nil
	}
	return codeError(op, c, C.GoString(C.hackrf_error_name(C.enum_hackrf_error(code))))
}

// cBoard is an open hackrf_device. Its methods are called one at a time (Device
// serialises them), each on a goroutine of the watchdog.
type cBoard struct {
	dev     *C.hackrf_device
	handles []cgo.Handle // of every stream, deleted once hackrf_close has returned
}

func (b *cBoard) identify() (Identity, int) {
	var id Identity
	var bid C.uint8_t
	if c := C.hackrf_board_id_read(b.dev, &bid); c != 0 {
		return id, int(c)
	}
	id.Board = C.GoString(C.hackrf_board_id_name(C.enum_hackrf_board_id(bid)))
	var ver [256]C.char
	if c := C.hackrf_version_string_read(b.dev, &ver[0], C.uint8_t(len(ver)-1)); c != 0 {
		return id, int(c)
	}
	id.Firmware = C.GoString(&ver[0])
	var api C.uint16_t
	if c := C.hackrf_usb_api_version_read(b.dev, &api); c != 0 {
		return id, int(c)
	}
	id.USBAPI = uint16(api)
	var ps C.read_partid_serialno_t
	if c := C.hackrf_board_partid_serialno_read(b.dev, &ps); c != 0 {
		return id, int(c)
	}
	id.Serial = fmt.Sprintf("%08x%08x%08x%08x", uint32(ps.serial_no[0]), uint32(ps.serial_no[1]), uint32(ps.serial_no[2]), uint32(ps.serial_no[3]))
	return id, codeSuccess
}

func (b *cBoard) setSampleRate(rate float64) int {
	return int(C.hackrf_set_sample_rate(b.dev, C.double(rate)))
}

func (b *cBoard) computeFilter(bw uint32) uint32 {
	return uint32(C.hackrf_compute_baseband_filter_bw(C.uint32_t(bw)))
}

func (b *cBoard) setFilter(bw uint32) int {
	return int(C.hackrf_set_baseband_filter_bandwidth(b.dev, C.uint32_t(bw)))
}

func (b *cBoard) setFreq(hz uint64) int { return int(C.hackrf_set_freq(b.dev, C.uint64_t(hz))) }
func (b *cBoard) setLNA(db uint32) int  { return int(C.hackrf_set_lna_gain(b.dev, C.uint32_t(db))) }
func (b *cBoard) setVGA(db uint32) int  { return int(C.hackrf_set_vga_gain(b.dev, C.uint32_t(db))) }
func (b *cBoard) setTXVGA(db uint32) int {
	return int(C.hackrf_set_txvga_gain(b.dev, C.uint32_t(db)))
}

func (b *cBoard) setAmp(on bool) int { return int(C.hackrf_set_amp_enable(b.dev, cbool(on))) }

func (b *cBoard) setAntenna(on bool) int {
	return int(C.hackrf_set_antenna_enable(b.dev, cbool(on)))
}

func cbool(v bool) C.uint8_t {
	if v {
		return 1
	}
	return 0
}

// handle registers a stream for the callbacks; the handle travels in the transfer's
// rx_ctx or tx_ctx.
func (b *cBoard) handle(v any) C.uintptr_t {
	h := cgo.NewHandle(v)
	b.handles = append(b.handles, h)
	return C.uintptr_t(h)
}

func (b *cBoard) startRX(s *rxStream) int { return int(C.m4sc_start_rx(b.dev, b.handle(s))) }
func (b *cBoard) stopRX() int             { return int(C.hackrf_stop_rx(b.dev)) }

func (b *cBoard) enableTXFlush(s *txStream) int {
	return int(C.m4sc_enable_tx_flush(b.dev, b.handle(s)))
}

func (b *cBoard) startTX(s *txStream) int { return int(C.m4sc_start_tx(b.dev, b.handle(s))) }
func (b *cBoard) stopTX() int             { return int(C.hackrf_stop_tx(b.dev)) }

func (b *cBoard) m0() (shortfalls, longest uint32, code int) {
	var st C.hackrf_m0_state
	if c := C.hackrf_get_m0_state(b.dev, &st); c != 0 {
		return 0, 0, int(c)
	}
	return uint32(st.num_shortfalls), uint32(st.longest_shortfall), codeSuccess
}

func (b *cBoard) isStreaming() int { return int(C.hackrf_is_streaming(b.dev)) }

func (b *cBoard) transfers() (samples, depth int) {
	return int(C.hackrf_get_transfer_buffer_size(b.dev)) / 2, int(C.hackrf_get_transfer_queue_depth(b.dev))
}

func (b *cBoard) close() int {
	code := int(C.hackrf_close(b.dev))
	if code == codeSuccess {
		// hackrf_close has joined libhackrf's transfer thread: no callback can come
		// now, so the handles can go. Otherwise they stay, so that a late callback
		// still finds its stream.
		for _, h := range b.handles {
			h.Delete()
		}
		b.handles = nil
	}
	return code
}

func (b *cBoard) errorName(code int) string { return libraryErrorName(code) }

// OpenSpec opens the board a device string names: "hackrf[:SERIAL][,key=value...]".
func OpenSpec(ctx context.Context, sp radio.Spec) (*Device, error) {
	o, err := OptionsFromSpec(sp)
	if err != nil {
		return nil, err
	}
	return open(ctx, sp.String(), o)
}

// Open opens a board (see Options.Serial) and tunes it to DefaultSampleRate and
// DefaultFrequency with the default gains. When no board answers, the error wraps
// radio.ErrNoDevice and says what to check.
func Open(ctx context.Context, opts Options) (*Device, error) {
	spec := "hackrf"
	if opts.Serial != "" {
		spec += ":" + opts.Serial
	}
	return open(ctx, spec, opts)
}

func open(ctx context.Context, spec string, opts Options) (*Device, error) {
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if err := initLibrary(); err != nil {
		// Without a libusb context no board can be seen: "no device", with the reason.
		return nil, noDevice(opts.Serial, err)
	}
	var dev *C.hackrf_device
	serial := opts.Serial
	code, err := guard(opts.Watchdog, "hackrf_open_by_serial", func() int {
		var cs *C.char // NULL opens the first board
		if serial != "" {
			cs = C.CString(serial)
			defer C.free(unsafe.Pointer(cs))
		}
		return int(C.hackrf_open_by_serial(cs, &dev))
	})
	if err == nil {
		err = cError("hackrf_open_by_serial", C.int(code))
	}
	switch {
	case errors.Is(err, radio.ErrNoDevice):
		return nil, noDevice(opts.Serial, err)
	case errors.Is(err, radio.ErrBusy):
		return nil, fmt.Errorf("hackrf: %s: the board is in use by another program: %w", spec, err)
	case err != nil && code == codeLibUSB:
		return nil, fmt.Errorf("hackrf: %s: %w; %s", spec, err, usbHelp)
	case err != nil:
		return nil, fmt.Errorf("hackrf: %s: %w", spec, err)
	}
	return newDevice(spec, opts, &cBoard{dev: dev})
}

// Board describes an attached HackRF.
type Board struct {
	Serial   string // as hackrf_info prints it; empty if the board could not be asked
	Board    string // hackrf_board_id_name, or the USB product name if the board could not be opened
	Firmware string // hackrf_version_string_read
	USBAPI   uint16 // the firmware's USB API version (0x0106 and later report shortfalls)
	Err      error  // why the board could not be opened and asked (in use, permissions)
}

// List returns the attached boards (hackrf_device_list), each opened briefly to read
// its board id and firmware version; a board another program holds open is listed
// with Err set. No board gives an empty list; an error means USB could not be searched.
func List(ctx context.Context) ([]Board, error) {
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	if err := initLibrary(); err != nil {
		return nil, fmt.Errorf("hackrf: cannot search USB for boards: %w", err)
	}
	var list *C.hackrf_device_list_t
	if _, err := guard(DefaultWatchdog, "hackrf_device_list", func() int {
		list = C.hackrf_device_list()
		return 0
	}); err != nil {
		return nil, err
	}
	if list == nil {
		return nil, fmt.Errorf("hackrf: hackrf_device_list failed (out of memory, or libusb could not list devices)")
	}
	defer C.hackrf_device_list_free(list)
	n := int(list.devicecount)
	if n == 0 {
		return nil, nil
	}
	serials := unsafe.Slice(list.serial_numbers, n)
	ids := unsafe.Slice(list.usb_board_ids, n)
	boards := make([]Board, n)
	for i := range boards {
		b := &boards[i]
		if serials[i] != nil {
			b.Serial = C.GoString(serials[i])
		}
		b.Board = C.GoString(C.hackrf_usb_board_id_name(ids[i]))
		b.Err = describeBoard(list, i, b)
		if b.Err == nil && b.Serial == "" {
			b.Err = errors.New("hackrf: the board did not give its serial number")
		}
	}
	return boards, nil
}

// describeBoard opens board i of list to read its board id, firmware and USB API.
func describeBoard(list *C.hackrf_device_list_t, i int, b *Board) error {
	var dev *C.hackrf_device
	code, err := guard(DefaultWatchdog, "hackrf_device_list_open", func() int {
		return int(C.hackrf_device_list_open(list, C.int(i), &dev))
	})
	if err == nil {
		err = cError("hackrf_device_list_open", C.int(code))
	}
	if err != nil {
		if code == codeLibUSB || code == codeBusy {
			return fmt.Errorf("%w (in use by another program, or no permission: %s)", err, usbHelp)
		}
		return err
	}
	var id C.uint8_t
	var ver [256]C.char
	var api C.uint16_t
	code, err = guard(DefaultWatchdog, "hackrf_board_id_read", func() int {
		if c := C.hackrf_board_id_read(dev, &id); c != 0 {
			return int(c)
		}
		if c := C.hackrf_version_string_read(dev, &ver[0], C.uint8_t(len(ver)-1)); c != 0 {
			return int(c)
		}
		return int(C.hackrf_usb_api_version_read(dev, &api))
	})
	if errors.Is(err, ErrHang) {
		return err // the board is left open: closing it could hang as well
	}
	if err = cError("hackrf_board_id_read", C.int(code)); err == nil {
		b.Board = C.GoString(C.hackrf_board_id_name(C.enum_hackrf_board_id(id)))
		b.Firmware = C.GoString(&ver[0])
		b.USBAPI = uint16(api)
	}
	code, cerr := guard(DefaultWatchdog, "hackrf_close", func() int { return int(C.hackrf_close(dev)) })
	if cerr == nil {
		cerr = cError("hackrf_close", C.int(code))
	}
	return errors.Join(err, cerr)
}

// libraryErrorName is hackrf_error_name, for tests that check the error table against
// the installed library.
func libraryErrorName(code int) string {
	return C.GoString(C.hackrf_error_name(C.enum_hackrf_error(code)))
}

// libraryFilter is hackrf_compute_baseband_filter_bw, for tests.
func libraryFilter(bw uint32) uint32 {
	return uint32(C.hackrf_compute_baseband_filter_bw(C.uint32_t(bw)))
}
