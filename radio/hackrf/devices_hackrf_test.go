//go:build hackrf

package hackrf_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/devices"
	"github.com/m4sc/m4sc/radio/hackrf"
)

// With the driver built in, "hackrf:SERIAL" reaches it through package devices: with
// no board attached (CI) the answer is the driver's ErrNoDevice with advice, and the
// listing has no board but a note.
func TestDevicesOpenThroughDriver(t *testing.T) {
	if boards, _ := hackrf.List(context.Background()); len(boards) > 0 {
		t.Skipf("a HackRF is attached (%+v): this test needs none", boards)
	}
	m := devices.New(devices.Options{})
	for _, spec := range []string{"hackrf", "hackrf:0000000000000000457863c82a2a3f1f", "hackrf:3f1f,antenna_power=on,rxbuf=16M"} {
		d, err := m.Open(context.Background(), spec)
		if d != nil {
			t.Fatalf("%s: opened a board that is not there", spec)
		}
		if !errors.Is(err, radio.ErrNoDevice) || !strings.Contains(err.Error(), "hackrf_info") || strings.Contains(err.Error(), "-tags hackrf") {
			t.Errorf("%s: %v, want the driver's ErrNoDevice", spec, err)
		}
	}
	// Keys are the driver's, checked before any USB access.
	if _, err := m.Open(context.Background(), "hackrf,bias=on"); err == nil || !strings.Contains(err.Error(), "antenna_power") {
		t.Errorf("unknown key: %v", err)
	}
	list, notes := m.List(context.Background(), t.TempDir())
	for _, l := range list {
		if strings.HasPrefix(l.Spec, "hackrf") {
			t.Errorf("listed %+v with no board attached", l)
		}
	}
	if !strings.Contains(strings.Join(notes, "\n"), "HackRF") {
		t.Errorf("no note about HackRF in %q", notes)
	}
	t.Logf("notes: %q", notes)
}
