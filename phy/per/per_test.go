package per

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/devices"
)

// A short PER run through the simulated HackRF pair at a comfortable SNR loses no
// frame at any rate; the full tables come from `m4sc phy per` (phy/RESULTS.md).
func TestRunOverLoopbackHackRF(t *testing.T) {
	for _, rate := range phy.Rates() {
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
		res, err := Run(context.Background(), tx, rx, Config{Rate: rate, PSDULen: 1000, Frames: 20, Seed: 1}, nil)
		tx.Close()
		rx.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%2d Mbit/s at %d dB: %+v", rate.Mbps, snr, res)
		if res.OK != res.Sent || res.False != 0 || res.Detected != res.Sent {
			t.Errorf("%d Mbit/s: %d of %d frames decoded, %d detected, %d false", rate.Mbps, res.OK, res.Sent, res.Detected, res.False)
		}
	}
}

// With a receiving device per frame (PerFrame), every frame meets its own device and
// is scored against itself.
func TestRunPerFrame(t *testing.T) {
	ctx := context.Background()
	m := devices.New(devices.Options{Seed: 5})
	tx, err := m.Open(ctx, "loopback:hackrf")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	opened := 0
	rate, _ := phy.RateByMbps(24)
	cfg := Config{Rate: rate, PSDULen: 200, Frames: 12, Seed: 2, Lead: 2500, PerFrame: func(i int) (radio.Device, error) {
		opened++
		return m.Open(ctx, fmt.Sprintf("loopback:hackrf,snr=30,seed=%d,offset=2000", i+1))
	}}
	res, err := Run(ctx, tx, nil, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if opened != cfg.Frames || res.OK != cfg.Frames || res.False != 0 || res.PER != 0 || math.IsNaN(res.EVM) {
		t.Errorf("%d devices opened, %+v", opened, res)
	}
}

// Every invalid configuration is refused.
func TestRunRefusesBadConfig(t *testing.T) {
	rate, _ := phy.RateByMbps(6)
	for _, c := range []Config{
		{Rate: rate, PSDULen: 7, Frames: 1},
		{Rate: rate, PSDULen: phy.MaxPSDULength + 1, Frames: 1},
		{Rate: rate, PSDULen: 100, Frames: 0},
		{Rate: rate, PSDULen: 100, Frames: 1, Gap: -1},
		{Rate: rate, PSDULen: 100, Frames: 1, Lead: -1},
	} {
		if _, err := Run(context.Background(), nil, nil, c, nil); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
