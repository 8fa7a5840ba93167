//go:build !hackrf

package devices

import (
	"context"
	"fmt"

	"github.com/m4sc/m4sc/radio"
)

const hackrfRebuild = "HackRF support is not in this build: install libhackrf-dev and rebuild with `go build -tags hackrf ./cmd/m4sc`"

func openHackRF(ctx context.Context, sp radio.Spec) (radio.Device, error) {
	return nil, fmt.Errorf("devices: %s: %s: %w", sp.String(), hackrfRebuild, radio.ErrNoDevice)
}

func listHackRF(ctx context.Context) ([]Listing, string) {
	return nil, hackrfRebuild
}
