package hackrf

import (
	"errors"
	"testing"

	"github.com/m4sc/m4sc/radio"
)

// Every transition of the device's mode machine, one line per step: the call, the
// error it must give (or none), and the mode after it.
func TestMachine(t *testing.T) {
	type step struct {
		op   string // begin-rx, begin-tx, end-rx, end-tx, hang, close, usable
		want error  // nil: must succeed
		mode mode
	}
	hang := &HangError{Op: "hackrf_stop_rx"}
	for _, c := range []struct {
		name  string
		steps []step
	}{
		{"receive and stop", []step{{"usable", nil, modeIdle}, {"begin-rx", nil, modeRX}, {"end-rx", nil, modeIdle}, {"begin-rx", nil, modeRX}}},
		{"transmit and stop", []step{{"begin-tx", nil, modeTX}, {"end-tx", nil, modeIdle}, {"begin-tx", nil, modeTX}}},
		{"half duplex", []step{{"begin-rx", nil, modeRX}, {"begin-tx", radio.ErrHalfDuplex, modeRX}, {"end-rx", nil, modeIdle}, {"begin-tx", nil, modeTX}, {"begin-rx", radio.ErrHalfDuplex, modeTX}}},
		{"one stream per direction", []step{{"begin-rx", nil, modeRX}, {"begin-rx", radio.ErrBusy, modeRX}, {"end-rx", nil, modeIdle}, {"begin-tx", nil, modeTX}, {"begin-tx", radio.ErrBusy, modeTX}}},
		{"configure only when idle", []step{{"begin-tx", nil, modeTX}, {"usable", radio.ErrBusy, modeTX}, {"end-tx", nil, modeIdle}, {"usable", nil, modeIdle}}},
		{"ending the other direction does nothing", []step{{"begin-rx", nil, modeRX}, {"end-tx", nil, modeRX}}},
		{"a hang wedges", []step{{"begin-rx", nil, modeRX}, {"hang", nil, modeWedged}, {"end-rx", nil, modeWedged}, {"begin-rx", ErrHang, modeWedged}, {"usable", ErrHang, modeWedged}, {"close", nil, modeClosed}}},
		{"closed is final", []step{{"close", nil, modeClosed}, {"begin-rx", radio.ErrClosed, modeClosed}, {"begin-tx", radio.ErrClosed, modeClosed}, {"usable", radio.ErrClosed, modeClosed}, {"hang", nil, modeClosed}, {"close", nil, modeClosed}}},
		{"close while streaming", []step{{"begin-tx", nil, modeTX}, {"close", nil, modeClosed}, {"end-tx", nil, modeClosed}}},
	} {
		m := machine{spec: "hackrf:test"}
		for i, s := range c.steps {
			var err error
			switch s.op {
			case "begin-rx":
				err = m.begin(radio.RX)
			case "begin-tx":
				err = m.begin(radio.TX)
			case "end-rx":
				m.end(radio.RX)
			case "end-tx":
				m.end(radio.TX)
			case "hang":
				m.hang(hang)
			case "close":
				m.close()
			case "usable":
				err = m.usable()
			}
			switch {
			case s.want == nil && err != nil:
				t.Errorf("%s: step %d %s: %v", c.name, i, s.op, err)
			case s.want != nil && !errors.Is(err, s.want):
				t.Errorf("%s: step %d %s: error %v, want %v", c.name, i, s.op, err, s.want)
			}
			if m.mode != s.mode {
				t.Errorf("%s: step %d %s: mode %s, want %s", c.name, i, s.op, m.mode, s.mode)
			}
		}
	}
}

// The refusals say what to do.
func TestMachineMessages(t *testing.T) {
	m := machine{spec: "hackrf:abc"}
	m.begin(radio.RX)
	if err := m.begin(radio.TX); err == nil || !contains(err.Error(), "hackrf:abc", "close that stream first", "half duplex") {
		t.Errorf("TX while receiving: %v", err)
	}
	m.hang(&HangError{Op: "hackrf_stop_rx"})
	if err := m.usable(); err == nil || !contains(err.Error(), "replug", "hackrf_stop_rx") {
		t.Errorf("wedged: %v", err)
	}
}
