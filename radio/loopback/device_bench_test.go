package loopback

import (
	"context"
	"runtime"
	"testing"

	"github.com/m4sc/m4sc/radio"
)

// BenchmarkLoopbackDevice measures the whole path a receiver takes: transmit stream,
// air, channel, receive stream, on one core (GOMAXPROCS 1), for the preset the issue
// names (hackrf with EPA fading) and for the ideal wire.
func BenchmarkLoopbackDevice(b *testing.B) {
	for _, c := range []struct{ name, tx, rx string }{
		{"ideal", "loopback", "loopback"},
		{"hackrf", "loopback:hackrf", "loopback:hackrf"},
		{"hackrf_epa", "loopback:hackrf", "loopback:hackrf,channel=epa"},
		{"hackrf_epa_gaps", "loopback:hackrf", "loopback:hackrf,channel=epa,gaprate=10"},
	} {
		b.Run(c.name, func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			air := NewAir(1)
			open := func(s string) *Device {
				sp, _ := radio.ParseSpec(s)
				d, err := air.Open(s, sp.Arg, nil, sp.Params)
				if err != nil {
					b.Fatal(err)
				}
				return d
			}
			tx, rx := open(c.tx), open(c.rx)
			defer tx.Close()
			defer rx.Close()
			ts, err := tx.StartTX(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			defer ts.Close()
			rs, err := rx.StartRX(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			defer rs.Close()
			const chunk = 1 << 16
			in := newLoopInput(chunk)
			out := make([]complex64, chunk)
			// The transmitter stays ahead (beyond one 65536-sample gap) so the receiver
			// never waits.
			for range 4 {
				ts.Write(in.data)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				ts.Write(in.data)
				for got := 0; got < chunk; {
					n, m, err := rs.Read(out[got:])
					if err != nil {
						b.Fatal(err)
					}
					got += n
					// Lost samples still take air time: keep the transmitter ahead.
					for d := m.Dropped; d > 0; d -= chunk {
						ts.Write(in.data)
					}
				}
			}
			b.ReportMetric(float64(b.N)*chunk/b.Elapsed().Seconds()/1e6, "Msps")
		})
	}
}
