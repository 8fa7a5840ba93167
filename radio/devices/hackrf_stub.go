//go:build !hackrf

package devices

import (
	"context"
	"fmt"

	"github.com/m4sc/m4sc/radio"
)

// hackrfRebuild says how to get the driver: it needs libhackrf and cgo, so the default
// build leaves it out.
const hackrfRebuild = "this build has no HackRF driver: install libhackrf-dev and pkg-config " +
	"(Debian: apt-get install libhackrf-dev pkg-config) and rebuild with -tags hackrf " +
	"(go build -tags hackrf ./cmd/m4sc); use loopback:hackrf to simulate a pair"

func openHackRF(ctx context.Context, sp radio.Spec) (radio.Device, error) {
	return nil, fmt.Errorf("devices: %s: %s: %w", radio.ClipSpec(sp.String()), hackrfRebuild, radio.ErrNoDevice)
}

func listHackRF(ctx context.Context) ([]Listing, string) {
	return nil, "HackRF: " + hackrfRebuild
}
