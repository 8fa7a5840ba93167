package hackrf

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// fakeBoard imitates libhackrf on a HackRF for the tests: a receiving board delivers
// numbered samples (see stamp) in transfers from its own goroutine, as libusb's thread
// does; a transmitting board fills its queue of transfers from the TX callback before
// it starts (as hackrf_start_tx does), sends one transfer per period, refills it from
// the callback, and after the callback's non-zero return sends the flush and calls the
// flush callback. It records every call.
type fakeBoard struct {
	per, depth int           // samples per transfer, transfers in flight
	period     time.Duration // one transfer's time on the air

	mu        sync.Mutex
	calls     []string
	id        Identity
	fail      map[string]int // method name -> code to return
	hang      map[string]bool
	noFlush   bool
	m0Count   uint32
	streaming bool
	stop      chan struct{} // ends the streaming goroutine
	stopped   chan struct{} // closed when it has ended
	rxNext    uint64        // counter of the next received sample
	txData    []int8        // everything sent, padding included
	flushFn   *txStream
	release   chan struct{} // unblocks hung calls at the end of a test
}

func newFakeBoard() *fakeBoard {
	return &fakeBoard{
		per: 1024, depth: 4, period: 200 * time.Microsecond,
		id:      Identity{Board: "HackRF One", Firmware: "2024.02.1", USBAPI: 0x0108, Serial: "0000000000000000457863c82a2a3f1f"},
		fail:    map[string]int{},
		hang:    map[string]bool{},
		release: make(chan struct{}),
	}
}

// record notes a call and returns the code the test wants for it (0 by default); a
// method marked to hang blocks until the test ends.
func (f *fakeBoard) record(name string, args ...any) int {
	f.mu.Lock()
	call := name
	if len(args) > 0 {
		call += fmt.Sprint(args...)
	}
	f.calls = append(f.calls, call)
	code, hang := f.fail[name], f.hang[name]
	f.mu.Unlock()
	if hang {
		<-f.release
	}
	return code
}

// callLog returns the calls so far, joined by spaces.
func (f *fakeBoard) callLog() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, " ")
}

func (f *fakeBoard) identify() (Identity, int) { return f.id, f.record("identify") }
func (f *fakeBoard) setSampleRate(rate float64) int {
	return f.record("rate", rate)
}
func (f *fakeBoard) computeFilter(bw uint32) uint32 { return bw }
func (f *fakeBoard) setFilter(bw uint32) int        { return f.record("filter", bw) }
func (f *fakeBoard) setFreq(hz uint64) int          { return f.record("freq", hz) }
func (f *fakeBoard) setLNA(db uint32) int           { return f.record("lna", db) }
func (f *fakeBoard) setVGA(db uint32) int           { return f.record("vga", db) }
func (f *fakeBoard) setTXVGA(db uint32) int         { return f.record("txvga", db) }
func (f *fakeBoard) setAmp(on bool) int             { return f.record("amp", " ", on) }
func (f *fakeBoard) setAntenna(on bool) int         { return f.record("antenna", " ", on) }
func (f *fakeBoard) transfers() (int, int)          { return f.per, f.depth }
func (f *fakeBoard) errorName(code int) string      { _, t := codeName(code); return t }

func (f *fakeBoard) m0() (uint32, uint32, int) {
	code := f.record("m0")
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m0Count, 4096, code
}

func (f *fakeBoard) isStreaming() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.streaming {
		return codeTrue
	}
	return codeStreamingStopped
}

func (f *fakeBoard) startRX(s *rxStream) int {
	if code := f.record("startRX"); code != 0 {
		return code
	}
	f.mu.Lock()
	f.streaming = true
	f.stop, f.stopped = make(chan struct{}), make(chan struct{})
	stop, stopped := f.stop, f.stopped
	f.mu.Unlock()
	go func() {
		defer close(stopped)
		buf := make([]int8, 2*f.per)
		t := time.NewTicker(f.period)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			f.mu.Lock()
			stamp(buf, f.rxNext)
			f.rxNext += uint64(f.per)
			f.mu.Unlock()
			if s.push(buf) != 0 {
				f.mu.Lock()
				f.streaming = false // libhackrf does not resubmit the transfer
				f.mu.Unlock()
				<-stop
				return
			}
		}
	}()
	return 0
}

// die imitates a failed USB transfer: streaming stops without any callback.
func (f *fakeBoard) die() {
	f.mu.Lock()
	stop := f.stop
	f.stop = nil
	f.streaming = false
	f.mu.Unlock()
	if stop != nil {
		close(stop)
	}
}

func (f *fakeBoard) halt() int {
	f.mu.Lock()
	stop, stopped := f.stop, f.stopped
	f.stop = nil
	f.streaming = false
	f.mu.Unlock()
	if stop != nil {
		close(stop)
	}
	if stopped != nil {
		<-stopped // as cancel_transfers waits for every transfer to finish
	}
	return 0
}

func (f *fakeBoard) stopRX() int {
	if code := f.record("stopRX"); code != 0 {
		return code
	}
	return f.halt()
}

func (f *fakeBoard) enableTXFlush(s *txStream) int {
	f.mu.Lock()
	f.flushFn = s
	f.mu.Unlock()
	return f.record("flushOn")
}

func (f *fakeBoard) startTX(s *txStream) int {
	if code := f.record("startTX"); code != 0 {
		return code
	}
	// Fill every transfer before submitting any, on the caller's thread.
	var queue [][]int8
	ending := false
	for i := 0; i < f.depth; i++ {
		b := make([]int8, 2*f.per)
		if s.fill(b) != 0 {
			ending = true
			break
		}
		queue = append(queue, b)
	}
	f.mu.Lock()
	f.streaming = !ending
	f.stop, f.stopped = make(chan struct{}), make(chan struct{})
	stop, stopped := f.stop, f.stopped
	f.mu.Unlock()
	go func() {
		defer close(stopped)
		t := time.NewTicker(f.period)
		defer t.Stop()
		for len(queue) > 0 {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			b := queue[0]
			queue = queue[1:]
			f.mu.Lock()
			f.txData = append(f.txData, b...)
			f.mu.Unlock()
			if !ending {
				if s.fill(b) == 0 {
					queue = append(queue, b)
				} else {
					ending = true
					f.mu.Lock()
					f.streaming = false
					f.mu.Unlock()
				}
			}
		}
		f.mu.Lock()
		fs, noFlush := f.flushFn, f.noFlush
		f.calls = append(f.calls, "flushed")
		f.mu.Unlock()
		if fs != nil && !noFlush {
			fs.flush(true)
		}
		<-stop
	}()
	return 0
}

func (f *fakeBoard) stopTX() int {
	if code := f.record("stopTX"); code != 0 {
		return code
	}
	return f.halt()
}

func (f *fakeBoard) close() int {
	code := f.record("close")
	f.halt()
	return code
}

// sent returns the samples the board has sent so far.
func (f *fakeBoard) sent() []int8 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int8(nil), f.txData...)
}
