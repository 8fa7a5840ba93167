//go:build !hackrf

package hackrf_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/devices"
)

// Without the driver, "hackrf:SERIAL" says how to rebuild with it.
func TestDevicesWithoutDriver(t *testing.T) {
	m := devices.New(devices.Options{})
	_, err := m.Open(context.Background(), "hackrf:3f1f")
	if !errors.Is(err, radio.ErrNoDevice) || !strings.Contains(err.Error(), "-tags hackrf") || !strings.Contains(err.Error(), "libhackrf-dev") {
		t.Errorf("%v, want ErrNoDevice saying to rebuild with -tags hackrf", err)
	}
	_, notes := m.List(context.Background(), t.TempDir())
	if !strings.Contains(strings.Join(notes, "\n"), "-tags hackrf") {
		t.Errorf("notes %q do not say how to get HackRF support", notes)
	}
}
