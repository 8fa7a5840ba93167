package sharing

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/m4sc/m4sc/radio"
)

// ErrDevices is wrapped by errors about explicitly given devices (RunOptions.TX and
// RX): their number, a receiver named twice, a string that does not parse.
var ErrDevices = errors.New("sharing: bad devices")

// SplitDevices splits a comma-separated list of device strings, such as
// "loopback,snr=3,loopback,snr=12,hackrf:0000000000000000457863c82a2a3f1f". A
// device string has commas of its own (driver[:argument][,key=value...]), so an
// item with '=' is a parameter of the device before it and any other item starts a
// new device. Each device string is checked by radio.ParseSpec; the error names
// the one that does not parse, by its place in the list.
func SplitDevices(list string) ([]string, error) {
	var out []string
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
			return nil, fmt.Errorf("%w: list %s: an empty item", ErrDevices, radio.QuoteSpec(list))
		case strings.Contains(item, "=") && len(out) > 0:
			out[len(out)-1] += "," + item
		default:
			out = append(out, item)
		}
	}
	for i, s := range out {
		if _, err := radio.ParseSpec(s); err != nil {
			return nil, fmt.Errorf("%w: device %d of the list: %v", ErrDevices, i+1, err)
		}
	}
	return out, nil
}

// CheckDevices checks explicitly given devices (RunOptions.TX and RX) for a round of
// users: a transmitter and one receiver per user, each a device string that parses,
// no receiver named twice (one device cannot be two users; loopback receivers with
// equal impairments differ by seed=). No transmitter and no receivers is fine: Run
// builds loopback devices. Whether the drivers exist is the opener's business.
func CheckDevices(tx string, rx []string, users int) error {
	if tx == "" {
		if len(rx) > 0 {
			return fmt.Errorf("%w: %d receiving devices but no transmitter", ErrDevices, len(rx))
		}
		return nil
	}
	if _, err := radio.ParseSpec(tx); err != nil {
		return fmt.Errorf("%w: transmitter: %v", ErrDevices, err)
	}
	if len(rx) != users {
		return fmt.Errorf("%w: %d receiving devices for %d users: want one per user", ErrDevices, len(rx), users)
	}
	var seen []string
	for i, s := range rx {
		sp, err := radio.ParseSpec(s)
		if err != nil {
			return fmt.Errorf("%w: receiver %d: %v", ErrDevices, i+1, err)
		}
		key := canonicalSpec(sp)
		if j := slices.Index(seen, key); j >= 0 {
			return fmt.Errorf("%w: receiver %d, %s, is receiver %d again: one device per user (loopback receivers alike differ by seed=)", ErrDevices, i+1, radio.QuoteSpec(s), j+1)
		}
		seen = append(seen, key)
	}
	return nil
}

// canonicalSpec writes a device string with its parameters sorted, so that one
// device written two ways compares equal.
func canonicalSpec(sp radio.Spec) string {
	ps := slices.Clone(sp.Params)
	slices.SortFunc(ps, func(a, b radio.Param) int { return strings.Compare(a.Key, b.Key) })
	sp.Params = ps
	return sp.String()
}
