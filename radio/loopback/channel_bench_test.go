package loopback

import (
	"math/rand/v2"
	"testing"
)

// noiseInput is an endless Gaussian-like transmitted signal, prepared once.
type loopInput struct{ data []complex64 }

func (l *loopInput) Samples(dst []complex64, start int64) {
	n := int64(len(l.data))
	for len(dst) > 0 {
		k := copy(dst, l.data[(start%n+n)%n:])
		dst = dst[k:]
		start += int64(k)
	}
}

func newLoopInput(n int) loopInput {
	r := rand.New(rand.NewPCG(1, 2))
	d := make([]complex64, n)
	for i := range d {
		d[i] = complex(float32(r.NormFloat64()*0.08), float32(r.NormFloat64()*0.08))
	}
	return loopInput{d}
}

func benchChannel(b *testing.B, cfg ChannelConfig) {
	cfg.SampleRate = 20e6
	c, err := NewChannel(cfg)
	if err != nil {
		b.Fatal(err)
	}
	in := newLoopInput(1 << 16)
	buf := make([]complex64, 8192)
	b.ReportAllocs()
	for b.Loop() {
		c.Process(buf, &in)
	}
	b.ReportMetric(float64(b.N)*float64(len(buf))/b.Elapsed().Seconds()/1e6, "Msps")
}

func epaPaths(b testing.TB) []Path {
	p, err := LookupProfile("epa")
	if err != nil {
		b.Fatal(err)
	}
	paths, err := p.Paths(0)
	if err != nil {
		b.Fatal(err)
	}
	return paths
}

func BenchmarkChannel(b *testing.B) {
	cases := []struct {
		name string
		cfg  ChannelConfig
	}{
		{"ideal", ChannelConfig{}},
		{"awgn", ChannelConfig{AWGN: true, SNR: 20}},
		{"epa", ChannelConfig{Paths: epaPaths(b), Doppler: 5}},
		{"ppm", ChannelConfig{TxPPM: 10, RxPPM: -5, CarrierHz: 2.45e9}},
		{"phasenoise", ChannelConfig{PhaseNoise: 100}},
		{"iq_dc", ChannelConfig{IQGain: 0.2, IQPhase: 1.5, DC: 0.01 + 0.005i}},
		{"quantise", ChannelConfig{Bits: 8}},
		{"hackrf_epa", ChannelConfig{AWGN: true, SNR: 30, Paths: epaPaths(b), Doppler: 5, TxPPM: 10, RxPPM: -5, CarrierHz: 2.45e9,
			PhaseNoise: 2, IQGain: 0.2, IQPhase: 1.5, DC: 0.01 + 0.005i, Bits: 8}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) { benchChannel(b, c.cfg) })
	}
}
