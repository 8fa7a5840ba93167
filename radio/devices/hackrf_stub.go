//go:build !hackrf

package devices

import (
	"context"
	"fmt"

	"github.com/m4sc/m4sc/radio"
)

const hackrfRebuild = "HackRF support is not built yet (the libhackrf driver, build tag hackrf, is planned); use loopback:hackrf to simulate a pair"

func openHackRF(ctx context.Context, sp radio.Spec) (radio.Device, error) {
	return nil, fmt.Errorf("devices: %s: %s: %w", sp.String(), hackrfRebuild, radio.ErrNoDevice)
}

func listHackRF(ctx context.Context) ([]Listing, string) {
	return nil, hackrfRebuild
}
