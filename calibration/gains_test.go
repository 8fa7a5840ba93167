package calibration

import (
	"context"
	"math"
	"testing"

	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/devices"
)

func deviceInfo(t *testing.T, spec string) radio.Info {
	t.Helper()
	d, err := devices.New(devices.Options{}).Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	return d.Info()
}

// allTotals lists every total the plan's discrete stages can make, by brute force.
func allTotals(g gainPlan) []float64 {
	totals := []float64{0}
	for _, s := range g.stages {
		var next []float64
		for _, t := range totals {
			for _, v := range stageValues(s.Range) {
				next = append(next, t+v)
			}
		}
		totals = next
	}
	return totals
}

// settings spreads a total over the stages: as close as any combination can come
// (checked against all of them), every stage on its grid, the amplifier off when the
// total can be reached without it, the defaults when the total is theirs.
func TestGainSettings(t *testing.T) {
	for _, spec := range []string{"loopback:hackrf"} {
		in := deviceInfo(t, spec)
		for _, dir := range []radio.Direction{radio.RX, radio.TX} {
			g := newGainPlan(in, dir)
			all := allTotals(g)
			for total := g.lo - 5; total <= g.hi+5; total += 0.7 {
				m := g.settings(total)
				got := g.total(m)
				best := math.Inf(1)
				for _, a := range all {
					best = math.Min(best, math.Abs(a-total))
				}
				if math.Abs(math.Abs(got-total)-best) > 1e-9 {
					t.Errorf("%s %s total %.1f: %v sums to %g, %g away; a combination comes %g close", spec, dir, total, m, got, math.Abs(got-total), best)
				}
				for _, s := range g.stages {
					if !s.Range.Contains(m[s.Name]) {
						t.Errorf("%s total %.1f: %s = %g off its range %s", spec, total, s.Name, m[s.Name], s.Range)
					}
				}
			}
			def := map[string]float64{}
			for _, s := range g.stages {
				def[s.Name] = s.Default
			}
			if m := g.settings(g.total(def)); !sameGains(m, def) {
				t.Errorf("%s %s: the defaults' total gives %v, want %v", spec, dir, m, def)
			}
		}
	}
	rx := newGainPlan(deviceInfo(t, "loopback:hackrf"), radio.RX)
	if m := rx.settings(100); m["amp"] != 0 || m["lna"]+m["vga"] != 100 {
		t.Errorf("hackrf RX 100 dB: %v, want the amplifier off", m)
	}
	if m := rx.settings(110); m["amp"] != 14 {
		t.Errorf("hackrf RX 110 dB: %v, want the amplifier on", m)
	}
	if m := rx.settings(44); m["lna"] != 24 || m["vga"] != 20 {
		t.Errorf("hackrf RX 44 dB: %v, want the LNA raised first (lna 24, vga 20)", m)
	}
	plain := newGainPlan(deviceInfo(t, "loopback"), radio.RX)
	if m := plain.settings(12.3); m["rx"] != 12.5 {
		t.Errorf("plain loopback 12.3 dB: %v, want 12.5 (0.5 dB steps)", m)
	}
	if m := plain.settings(-100); m["rx"] != -60 {
		t.Errorf("plain loopback -100 dB: %v, want the minimum", m)
	}
	if m := (gainPlan{}).settings(10); len(m) != 0 {
		t.Errorf("no stages: %v", m)
	}
}

func sameGains(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// The sweep's choices: the lowest transmit gain within 0.5 dB of the best EVM; the
// best EVM within the headroom range, else the level nearest the target; never a
// clipped point.
func TestPick(t *testing.T) {
	tx := []SweepPoint{
		{TXGain: 0, EVMDB: -10},
		{TXGain: 10, EVMDB: -25.8},
		{TXGain: 20, EVMDB: -26.2},
		{TXGain: 30, EVMDB: -27, Clipped: 3},
		{TXGain: 40, EVMDB: 0}, // nothing demodulated
	}
	if c := pickTX(tx); c != 1 {
		t.Errorf("pickTX chose %d, want 1", c)
	}
	rx := []SweepPoint{
		{LevelDBFS: -26, EVMDB: -24},
		{LevelDBFS: -19, EVMDB: -25.9},
		{LevelDBFS: -17, EVMDB: -26.2},
		{LevelDBFS: -15.5, EVMDB: -26.3},
		{LevelDBFS: -12, EVMDB: -28},
		{LevelDBFS: -10, EVMDB: -30, Clipped: 1},
	}
	if c := pickRX(rx, -18); c != 2 {
		t.Errorf("pickRX chose %d, want 2 (within 0.3 dB of the best in range, nearest -18 dBFS)", c)
	}
	if c := pickRX([]SweepPoint{{LevelDBFS: -30, EVMDB: -20}, {LevelDBFS: -24, EVMDB: -22}, {LevelDBFS: -8, EVMDB: -25, Clipped: 9}}, -18); c != 1 {
		t.Errorf("nothing in range: chose %d, want 1", c)
	}
	if c := pickRX([]SweepPoint{{Clipped: 1, EVMDB: -20}}, -18); c != -1 {
		t.Errorf("only clipped points: chose %d", c)
	}
}
