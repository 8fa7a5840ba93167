package phy

import (
	"context"
	"fmt"
	"testing"

	"github.com/m4sc/m4sc/radio/devices"
)

// A short PER run through the simulated HackRF pair at a comfortable SNR loses no
// frame at any rate; the full tables come from `m4sc phy per`.
func TestPEROverLoopbackHackRF(t *testing.T) {
	for _, rate := range Rates() {
		m := devices.New(devices.Options{Seed: 5})
		snr := 30
		tx, err := m.Open(context.Background(), "loopback:hackrf")
		if err != nil {
			t.Fatal(err)
		}
		rx, err := m.Open(context.Background(), fmt.Sprintf("loopback:hackrf,snr=%d", snr))
		if err != nil {
			t.Fatal(err)
		}
		res, err := RunPER(context.Background(), tx, rx, PERConfig{Rate: rate, PSDULen: 1000, Frames: 20, Seed: 1}, nil)
		tx.Close()
		rx.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%2d Mbit/s at %d dB: %+v", rate.Mbps, snr, res)
		if res.OK != res.Sent || res.False != 0 {
			t.Errorf("%d Mbit/s: %d of %d frames decoded, %d false", rate.Mbps, res.OK, res.Sent, res.False)
		}
	}
}
