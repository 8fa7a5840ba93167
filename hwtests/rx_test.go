//go:build hwtest && hackrf

package hwtests

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/burst"
	"github.com/m4sc/m4sc/radio/hackrf"
	"github.com/m4sc/m4sc/radio/spectrum"
)

// The receiver's noise floor with nothing transmitted, at the default gains and at the
// top of the LNA: not dead (the ADC toggles), not flooded (the floor sits well below
// full scale), no clipping, and more gain raises it. The strongest spur is reported:
// it tells whether M4SC_HWTEST_FREQ sits on a busy channel.
func TestNoiseFloor(t *testing.T) {
	b := needRX(t)
	var floors []float64
	for _, g := range []map[string]float64{{"lna": 16, "vga": 20}, {"lna": 40, "vga": 20}} {
		b.tune(t, b.rx, g)
		y := b.receive(t, nil, int(0.1*benchRate), 1<<20)
		p, dc := power(y)
		clipped, zero := 0, 0
		for _, v := range y {
			if math.Abs(float64(real(v))) >= 127.0/128 || math.Abs(float64(imag(v))) >= 127.0/128 {
				clipped++
			}
			if v == 0 {
				zero++
			}
		}
		sp := spectrum.NewPeriodogram(y[:1<<18], dc, benchRate)
		fl := sp.NoisePerBin()
		k, _ := sp.Peak(0, benchRate/2*0.9, 50e3)
		spurF, spurP := sp.Freq(k), sp.Power(k)
		t.Logf("lna %g vga %g: noise %.1f dBFS (DC %.3f%+.3fi removed), %.1f dB per bin; strongest spur %.1f dB above the floor at %+.3f MHz; %d clipped, %d zero of %d",
			g["lna"], g["vga"], dBFS(p), real(dc), imag(dc), dBFS(fl), dBFS(spurP/fl), spurF/1e6, clipped, zero, len(y))
		switch {
		case zero > len(y)/2:
			t.Errorf("lna %g vga %g: %d of %d samples are exactly zero: the ADC is not running", g["lna"], g["vga"], zero, len(y))
		case dBFS(p) > -20:
			// More than a tenth of full scale with nothing sent: an interferer or an
			// oscillation, not noise.
			t.Errorf("lna %g vga %g: noise floor %.1f dBFS, want below -20 dBFS with nothing transmitted", g["lna"], g["vga"], dBFS(p))
		case clipped > len(y)/1000:
			t.Errorf("lna %g vga %g: %d of %d samples at full scale", g["lna"], g["vga"], clipped, len(y))
		}
		floors = append(floors, dBFS(p))
	}
	// 24 dB more LNA gain must lift the floor by a good part of it (less where the
	// ADC's own noise dominates at low gain). The simulator's noise does not follow the
	// gains, so a dry run on it skips this check.
	if rise := floors[1] - floors[0]; rise < 6 && b.rx.Info().Driver == "hackrf" {
		t.Errorf("raising the LNA from 16 to 40 dB lifted the noise floor by %.1f dB, want at least 6", rise)
	}
}

// 20 Msps for 60 s (M4SC_HWTEST_SECONDS) on the receiving board, with the transmitting
// board, if named, sending at the same rate for the same time: no sample may be lost
// on either side, and every loss would be counted (host ring overruns, firmware
// shortfalls, gaps seen by Read, transmit underruns).
func TestStream20Msps(t *testing.T) {
	b := needRX(t)
	seconds := parseSeconds(t)
	total := int64(seconds * benchRate)

	tx := b.optional(t, envTX, "transmitting")
	// With a transmitter, a tone of total samples as one burst; the receiver reads on
	// for half a second beyond total, since the transmitter starts after it (burst.Run's
	// order) and the burst must go out whole.
	var src burst.Source
	n := total
	if tx != nil {
		chunk := toneChunk(1e6, 0.25)
		var sent int64
		src = burst.Func(func(dst []complex64) []complex64 {
			k := min(int64(len(chunk)), total-sent)
			sent += k
			return append(dst, chunk[:k]...)
		})
		n += int64(0.5 * benchRate)
	}
	var got, gaps, lost int64
	var elapsed time.Duration
	start := time.Now()
	_, err := burst.Run(context.Background(), tx, b.rx, src, n, burst.Config{Chunk: 1 << 17}, func(y []complex64, meta radio.RXMeta) error {
		if meta.Dropped > 0 {
			gaps++
			lost += meta.Dropped
		}
		if got < total && got+int64(len(y)) >= total {
			elapsed = time.Since(start)
		}
		got += int64(len(y))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got = min(got, total)
	st := b.rx.Stats()
	t.Logf("received %d samples in %v (%.3f Msps); Read saw %d gaps, %d samples lost; stats %+v", got, elapsed.Round(time.Millisecond), float64(got)/elapsed.Seconds()/1e6, gaps, lost, st)
	if h, ok := b.rx.(*hackrf.Device); ok {
		c := h.Counters()
		t.Logf("receiver: %+v", c)
		if !c.FirmwareCounters {
			t.Logf("the receiving board's firmware does not report shortfalls: losses inside the board cannot be counted")
		}
		// The board's clock against the host's: within its crystal tolerance, plus the
		// time to start the stream and fill the first transfers.
		if want := seconds; math.Abs(elapsed.Seconds()-want) > 0.5+want*1e-3 {
			t.Errorf("%d samples took %v: a 20 Msps stream should take %.1f s", got, elapsed, want)
		}
	}
	if gaps != 0 || lost != 0 || st.Overruns != 0 || st.Dropped != 0 {
		t.Errorf("samples lost at 20 Msps: %d gaps (%d samples) seen by Read, stats %+v", gaps, lost, st)
	}
	if tx != nil {
		tst := tx.Stats()
		t.Logf("transmitter: stats %+v", tst)
		if h, ok := tx.(*hackrf.Device); ok {
			t.Logf("transmitter: %+v", h.Counters())
		}
		if tst.Underruns != 0 {
			t.Errorf("transmit underruns at 20 Msps: %d", tst.Underruns)
		}
		if tst.TXSamples < uint64(total) {
			t.Errorf("sent %d samples, want %d", tst.TXSamples, total)
		}
	} else {
		t.Logf("%s not set or not attached: the transmit half of this test did not run", envTX)
	}
}
