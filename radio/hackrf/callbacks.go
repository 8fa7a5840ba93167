//go:build hackrf

package hackrf

// The Go ends of libhackrf's callbacks. The C trampolines in device.go call them on
// libusb's event thread (and, for the first TX buffers, inside hackrf_start_tx). They
// only move bytes between a transfer buffer and a ring, and never block: a late return
// would stall every transfer of the board.

/*
#include <stdint.h>
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

//export m4scHackrfRX
func m4scHackrfRX(h C.uintptr_t, buf *C.uint8_t, n C.int) C.int {
	s, ok := cgo.Handle(h).Value().(*rxStream)
	if !ok {
		return -1
	}
	return C.int(s.push(unsafe.Slice((*int8)(unsafe.Pointer(buf)), int(n))))
}

//export m4scHackrfTX
func m4scHackrfTX(h C.uintptr_t, buf *C.uint8_t, n C.int) C.int {
	s, ok := cgo.Handle(h).Value().(*txStream)
	if !ok {
		return -1
	}
	return C.int(s.fill(unsafe.Slice((*int8)(unsafe.Pointer(buf)), int(n))))
}

//export m4scHackrfFlush
func m4scHackrfFlush(h C.uintptr_t, success C.int) {
	s, ok := cgo.Handle(h).Value().(*txStream)
	if !ok {
		return
	}
	s.flush(success != 0)
}
