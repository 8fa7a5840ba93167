//go:build hackrf

package devices

import (
	"context"
	"fmt"

	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/hackrf"
)

// openHackRF opens a HackRF One through the libhackrf driver: "hackrf[:SERIAL][,keys]".
func openHackRF(ctx context.Context, sp radio.Spec) (radio.Device, error) {
	d, err := hackrf.OpenSpec(ctx, sp)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// listHackRF lists the attached boards; none is a note, not an error.
func listHackRF(ctx context.Context) ([]Listing, string) {
	boards, err := hackrf.List(ctx)
	if err != nil {
		return nil, fmt.Sprintf("HackRF: %v", err)
	}
	if len(boards) == 0 {
		return nil, "HackRF: no board attached (check the USB cable, and that `hackrf_info` lists it)"
	}
	var list []Listing
	for _, b := range boards {
		desc := fmt.Sprintf("%s, firmware %s, USB API %#04x", b.Board, b.Firmware, b.USBAPI)
		if b.Err != nil {
			desc = fmt.Sprintf("%s (cannot be opened: %v)", b.Board, b.Err)
		}
		spec := "hackrf"
		if b.Serial != "" {
			spec += ":" + b.Serial
		}
		list = append(list, Listing{Spec: spec, Description: desc})
	}
	return list, ""
}
