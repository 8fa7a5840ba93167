package hackrf

import (
	"errors"
	"fmt"
	"time"
)

// ErrHang means a libhackrf call did not return within the watchdog's time. The call
// may still be running; the device it was made on must not be used again.
var ErrHang = errors.New("hackrf: call did not return")

// HangError names the call that hung.
type HangError struct {
	Op    string        // the libhackrf function
	After time.Duration // how long the watchdog waited
}

func (e *HangError) Error() string {
	return fmt.Sprintf("hackrf: %s did not return within %v (USB stalled or firmware wedged; replug the board)", e.Op, e.After)
}

// Is makes errors.Is(err, ErrHang) true.
func (e *HangError) Is(target error) bool { return target == ErrHang }

// guard runs call, which returns a libhackrf code, and waits at most timeout for it.
// When the call returns in time guard returns its code and a nil error; otherwise a
// *HangError, and the call is left running on its own goroutine (nothing can stop a
// thread blocked in C), which must therefore own everything it touches.
func guard(timeout time.Duration, op string, call func() int) (int, error) {
	done := make(chan int, 1) // buffered: a late call finishes without a reader
	go func() { done <- call() }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case code := <-done:
		return code, nil
	case <-t.C:
		return 0, &HangError{Op: op, After: timeout}
	}
}
