package hackrf

import (
	"fmt"

	"github.com/m4sc/m4sc/radio"
)

// mode is what a device is doing. The board is half duplex, so a stream of one
// direction excludes the other:
//
//	idle --StartRX--> rx --stream closed--> idle
//	idle --StartTX--> tx --stream closed--> idle
//	rx, tx, idle --a libhackrf call hangs--> wedged
//	any --Close--> closed
//
// Only idle accepts Configure and a new stream. wedged refuses everything but Close:
// a call is still stuck in libhackrf, and the handle cannot be trusted again.
type mode int

const (
	modeIdle mode = iota
	modeRX
	modeTX
	modeWedged
	modeClosed
)

func (m mode) String() string {
	switch m {
	case modeIdle:
		return "idle"
	case modeRX:
		return "receiving"
	case modeTX:
		return "transmitting"
	case modeWedged:
		return "wedged"
	case modeClosed:
		return "closed"
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

// machine holds a device's mode. It has no lock of its own: the device calls it under
// its control mutex.
type machine struct {
	spec  string // device string, for messages
	mode  mode
	wedge error // the hang that wedged the device
}

// usable returns nil when the device may be configured or start a stream.
func (m *machine) usable() error {
	switch m.mode {
	case modeIdle:
		return nil
	case modeClosed:
		return fmt.Errorf("hackrf: %s: %w", m.spec, radio.ErrClosed)
	case modeWedged:
		return fmt.Errorf("hackrf: %s: unusable since an earlier call hung (replug the board and reopen it): %w", m.spec, m.wedge)
	}
	return fmt.Errorf("hackrf: %s: %s; close that stream first: %w", m.spec, m.mode, radio.ErrBusy)
}

// begin moves from idle to the direction's streaming mode.
func (m *machine) begin(dir radio.Direction) error {
	want := modeRX
	if dir == radio.TX {
		want = modeTX
	}
	switch {
	case m.mode == want:
		return fmt.Errorf("hackrf: %s: already %s: %w", m.spec, m.mode, radio.ErrBusy)
	case m.mode == modeRX || m.mode == modeTX:
		return fmt.Errorf("hackrf: %s: cannot start %s while %s (close that stream first): %w", m.spec, dir, m.mode, radio.ErrHalfDuplex)
	}
	if err := m.usable(); err != nil {
		return err
	}
	m.mode = want
	return nil
}

// end returns from the direction's streaming mode to idle; it leaves wedged and closed
// alone, and does nothing for a direction that is not streaming.
func (m *machine) end(dir radio.Direction) {
	if (dir == radio.RX && m.mode == modeRX) || (dir == radio.TX && m.mode == modeTX) {
		m.mode = modeIdle
	}
}

// hang records that a call did not return; only Close remains possible.
func (m *machine) hang(err error) {
	if m.mode != modeClosed {
		m.mode = modeWedged
		m.wedge = err
	}
}

// close moves to closed and returns the mode it left.
func (m *machine) close() mode {
	prev := m.mode
	m.mode = modeClosed
	return prev
}
