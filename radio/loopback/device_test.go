package loopback

import (
	"context"
	"errors"
	"math"
	"math/cmplx"
	"strings"
	"testing"
	"time"

	"github.com/m4sc/m4sc/radio"
)

func openPair(t *testing.T, air *Air, txSpec, rxSpec string) (*Device, *Device) {
	t.Helper()
	open := func(s string) *Device {
		sp, err := radio.ParseSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		d, err := air.Open(s, sp.Arg, nil, sp.Params)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	return open(txSpec), open(rxSpec)
}

func tone(n int, f, amp float64) []complex64 {
	x := make([]complex64, n)
	for i := range x {
		x[i] = complex64(cmplx.Rect(amp, 2*math.Pi*f*float64(i)))
	}
	return x
}

func send(t *testing.T, d *Device, x []complex64) {
	t.Helper()
	s, err := d.StartTX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(x); err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func receive(t *testing.T, d *Device, n int) ([]complex64, radio.RXMeta) {
	t.Helper()
	s, err := d.StartRX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	y := make([]complex64, n)
	got := 0
	var first radio.RXMeta
	for got < n {
		k, m, err := s.Read(y[got:])
		if err != nil {
			t.Fatal(err)
		}
		if got == 0 {
			first = m
		}
		got += k
	}
	return y, first
}

// An ideal loopback delivers exactly what was sent, from the burst's first sample.
func TestLoopbackIdealWire(t *testing.T) {
	air := NewAir(1)
	tx, rx := openPair(t, air, "loopback", "loopback")
	x := tone(5000, 0.01, 0.3)
	send(t, tx, x)
	y, meta := receive(t, rx, 6000)
	if meta.Time != 0 || meta.Dropped != 0 {
		t.Fatalf("meta %+v, want time 0 and nothing dropped", meta)
	}
	for i := range y {
		want := complex64(0)
		if i < len(x) {
			want = x[i]
		}
		if y[i] != want {
			t.Fatalf("sample %d: got %v want %v", i, y[i], want)
		}
	}
}

// Reads cut differently give the same samples, and equal seeds the same run.
func TestLoopbackDeterministic(t *testing.T) {
	run := func(chunks []int) []complex64 {
		air := NewAir(7)
		tx, rx := openPair(t, air, "loopback", "loopback:hackrf,channel=epa,gaprate=0")
		x := tone(30000, 0.05, 0.1)
		send(t, tx, x)
		s, err := rx.StartRX(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var out []complex64
		for _, c := range chunks {
			buf := make([]complex64, c)
			n, _, err := s.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, buf[:n]...)
		}
		return out
	}
	a := run([]int{50000})
	b := run([]int{1, 7, 4096, 333, 10000, 35563})
	if len(a) != len(b) {
		t.Fatalf("lengths %d %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("sample %d differs: %v vs %v", i, a[i], b[i])
		}
	}
}

func TestLoopbackHalfDuplex(t *testing.T) {
	air := NewAir(1)
	d, _ := openPair(t, air, "loopback:hackrf", "loopback")
	s, err := d.StartRX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := d.StartTX(context.Background()); !errors.Is(err, radio.ErrHalfDuplex) {
		t.Fatalf("StartTX while receiving: %v, want ErrHalfDuplex", err)
	}
}

// Lost buffers: gaps of the set length arrive at the set rate, show in the timestamps
// and are counted.
func TestLoopbackGaps(t *testing.T) {
	air := NewAir(3)
	// 200 gaps per second at 1 Msps: one every 5000 samples on average.
	_, rx := openPair(t, air, "loopback", "loopback,gaprate=200,gaplen=100")
	if err := rx.Configure(radio.Config{SampleRate: 1e6, Frequency: 1e9}); err != nil {
		t.Fatal(err)
	}
	s, err := rx.StartRX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf := make([]complex64, 4096)
	var next, delivered, gaps int64
	for delivered < 2_000_000 {
		n, m, err := s.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if m.Time != next+m.Dropped {
			t.Fatalf("timestamp %d, want %d + %d dropped", m.Time, next, m.Dropped)
		}
		if m.Dropped > 0 {
			if m.Dropped%100 != 0 {
				t.Fatalf("dropped %d, not a whole number of 100-sample gaps", m.Dropped)
			}
			gaps += m.Dropped / 100
		}
		next = m.Time + int64(n)
		delivered += int64(n)
	}
	st := rx.Stats()
	if uint64(gaps) != st.Overruns || st.Dropped != uint64(gaps*100) {
		t.Errorf("stats %+v disagree with %d gaps seen", st, gaps)
	}
	// 2 s of samples at 200 per second: Poisson mean 400, sd 20; allow 5 sd.
	if math.Abs(float64(gaps)-400) > 100 {
		t.Errorf("%d gaps in 2 s, want about 400", gaps)
	}
}

// The random start offset is uniform on [0, offset] and shows as idle noise before the
// burst; the noise floor matches the set SNR without any transmission.
func TestLoopbackStartOffsetAndIdleNoise(t *testing.T) {
	const maxOff = 5000
	var offs []int
	for seed := uint64(1); seed <= 200; seed++ {
		air := NewAir(seed)
		tx, rx := openPair(t, air, "loopback", "loopback,offset=5000")
		x := make([]complex64, 64)
		for i := range x {
			x[i] = 0.5
		}
		send(t, tx, x)
		y, _ := receive(t, rx, maxOff+100)
		off := -1
		for i, v := range y {
			if v != 0 {
				off = i
				break
			}
		}
		if off < 0 || off > maxOff {
			t.Fatalf("seed %d: burst at %d, want within [0, %d]", seed, off, maxOff)
		}
		offs = append(offs, off)
	}
	mean := 0.0
	for _, o := range offs {
		mean += float64(o) / float64(len(offs))
	}
	// Uniform on [0, 5000]: mean 2500, sd of the mean 1443/sqrt(200) = 102.
	if math.Abs(mean-2500) > 400 {
		t.Errorf("mean offset %.0f, want about 2500", mean)
	}

	air := NewAir(9)
	_, rx := openPair(t, air, "loopback", "loopback,snr=20")
	y, _ := receive(t, rx, 1<<18)
	want := DefaultRefPower / 100
	if got := power(y); math.Abs(got/want-1) > 0.02 {
		t.Errorf("idle noise power %.4e, want %.4e (reference power at 20 dB SNR)", got, want)
	}
}

// Several receivers on one air each hear the transmitter through their own channel.
func TestLoopbackAirJoinsReceivers(t *testing.T) {
	m := NewAir(5)
	open := func(s string) *Device {
		sp, _ := radio.ParseSpec(s)
		d, err := m.Open(s, sp.Arg, nil, sp.Params)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	tx := open("loopback")
	clean := open("loopback")
	noisy := open("loopback,snr=10")
	shifted := open("loopback,ppm=10")
	x := tone(20000, 0.01, 0.1127)
	send(t, tx, x)
	yc, _ := receive(t, clean, 20000)
	yn, _ := receive(t, noisy, 20000)
	ys, _ := receive(t, shifted, 20000)
	for i := range yc {
		if yc[i] != x[i] {
			t.Fatalf("clean receiver: sample %d differs", i)
		}
	}
	var e []complex64
	for i := range yn {
		e = append(e, yn[i]-x[i])
	}
	if snr := 10 * math.Log10(power(x)/power(e)); math.Abs(snr-10) > 0.2 {
		t.Errorf("noisy receiver: SNR %.2f dB, want 10", snr)
	}
	// Receiver crystal +10 ppm at 2.45 GHz: the tone moves by -24.5 kHz.
	got := toneFreq(ys[100:19000], 20e6) - toneFreq(x[100:19000], 20e6)
	if math.Abs(got+24500) > 5 {
		t.Errorf("ppm receiver: tone moved by %.1f Hz, want -24500", got)
	}
}

// The hackrf preset's gains move the received level dB for dB, until the ADC clips.
func TestLoopbackHackRFGainsMoveLevel(t *testing.T) {
	level := func(lna float64) (float64, int) {
		air := NewAir(2)
		tx, rx := openPair(t, air, "loopback:hackrf,ppm=0", "loopback:hackrf,ppm=0,offset=0,snr=inf,dc=0,iqgain=0,iqphase=0")
		if err := rx.Configure(radio.Config{SampleRate: 20e6, Frequency: 2.45e9, Gains: map[string]float64{"lna": lna}}); err != nil {
			t.Fatal(err)
		}
		send(t, tx, tone(40000, 0.013, math.Sqrt(DefaultRefPower)))
		y, _ := receive(t, rx, 40000)
		clip := 0
		for _, v := range y {
			if real(v) >= 127.0/128 || real(v) <= -1 {
				clip++
			}
		}
		return 10 * math.Log10(power(y)), clip
	}
	l16, c16 := level(16)
	l24, _ := level(24)
	if c16 != 0 || math.Abs(l16-10*math.Log10(DefaultRefPower)) > 0.1 {
		t.Errorf("default gains: level %.2f dBFS with %d clipped, want %.2f and none", l16, c16, 10*math.Log10(DefaultRefPower))
	}
	if math.Abs(l24-l16-8) > 0.1 {
		t.Errorf("lna 16 -> 24 dB moved the level by %.2f dB, want 8", l24-l16)
	}
	if _, c40 := level(40); c40 == 0 {
		t.Errorf("lna 40 dB (+24 dB, tone at +5 dBFS): no clipping")
	}
}

// A receiver tuned away from the transmitter by more than half its sample rate hears
// only noise; tuned closer, the offset shows as a frequency shift.
func TestLoopbackTuning(t *testing.T) {
	for _, c := range []struct {
		off    float64
		heard  bool
		freqHz float64
	}{{1e6, true, -1e6}, {-3e6, true, 3e6}, {15e6, false, 0}} {
		air := NewAir(1)
		tx, rx := openPair(t, air, "loopback", "loopback")
		if err := rx.Configure(radio.Config{SampleRate: 20e6, Frequency: DefaultFrequency + c.off}); err != nil {
			t.Fatal(err)
		}
		x := make([]complex64, 10000)
		for i := range x {
			x[i] = 0.1
		}
		send(t, tx, x)
		y, _ := receive(t, rx, 10000)
		p := power(y[100:9000])
		if !c.heard {
			if p != 0 {
				t.Errorf("offset %g: heard power %g outside the band", c.off, p)
			}
			continue
		}
		if f := toneFreq(y[100:9000], 20e6); math.Abs(f-c.freqHz) > 1 {
			t.Errorf("offset %g: tone at %.1f Hz, want %g", c.off, f, c.freqHz)
		}
	}
}

// A receiver waiting on an open burst that never continues gives up after the
// underrun timeout, hears silence, and the transmitter's next samples follow the gap.
func TestLoopbackUnderrun(t *testing.T) {
	air := NewAir(1)
	air.UnderrunTimeout = 20 * 1e6 // 20 ms
	tx, rx := openPair(t, air, "loopback", "loopback")
	s, err := tx.StartTX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	first := tone(1000, 0.01, 0.1)
	s.Write(first)
	y, _ := receive(t, rx, 3000)
	for i := 1000; i < 3000; i++ {
		if y[i] != 0 {
			t.Fatalf("sample %d after the written part: %v, want silence", i, y[i])
		}
	}
	s.Write(first)
	s.Close()
	if tx.Stats().Underruns != 1 {
		t.Errorf("underruns %d, want 1", tx.Stats().Underruns)
	}
	// The receiver had heard silence up to the end of the block it last computed
	// (outBlock samples at most past what it delivered): the burst resumes there.
	y2, _ := receive(t, rx, 1000)
	k := 0
	for k < outBlock && y2[k] == 0 {
		k++
	}
	if y2[k] != first[0] || y2[k+500] != first[500] {
		t.Errorf("burst did not resume after the gap: %v at %d", y2[k], k)
	}
}

// A receiver that never reads while the transmitter sends more than the backlog loses
// the oldest samples and says so.
func TestLoopbackOverrun(t *testing.T) {
	air := NewAir(1)
	air.MaxBacklog = 10000
	tx, rx := openPair(t, air, "loopback", "loopback")
	send(t, tx, tone(50000, 0.01, 0.1))
	s, err := rx.StartRX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf := make([]complex64, 1000)
	_, m, err := s.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if m.Dropped < 40000 || rx.Stats().Overruns != 1 {
		t.Errorf("meta %+v stats %+v: want about 40000 dropped in one overrun", m, rx.Stats())
	}
}

// Bad device strings and configurations fail with the field named.
func TestLoopbackBadInput(t *testing.T) {
	air := NewAir(1)
	for _, c := range []struct{ spec, want string }{
		{"loopback:hackrf2", "unknown preset"},
		{"loopback,snr=abc", "snr"},
		{"loopback,snr=500", "snr"},
		{"loopback,channel=tdl-z", "channel"},
		{"loopback,ppm=1e9", "ppm"},
		{"loopback,bits=-1", "bits"},
		{"loopback,dc=1+5i", "dc"},
		{"loopback,colour=red", "unknown parameter"},
		{"loopback,ds=0", "ds"},
	} {
		sp, err := radio.ParseSpec(c.spec)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		_, err = air.Open(c.spec, sp.Arg, nil, sp.Params)
		if err == nil || !contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %q", c.spec, err, c.want)
		}
	}
	_, rx := openPair(t, air, "loopback", "loopback:hackrf")
	for _, cfg := range []radio.Config{
		{SampleRate: 30e6, Frequency: 2.4e9},
		{SampleRate: 10e6, Frequency: 7e9},
		{SampleRate: 10e6, Frequency: 2.4e9, Gains: map[string]float64{"lna": 12}},
		{SampleRate: 10e6, Frequency: 2.4e9, Gains: map[string]float64{"pga": 12}},
		{SampleRate: 10e6, Frequency: 2.4e9, Bandwidth: 4e6},
	} {
		err := rx.Configure(cfg)
		var ce *radio.ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%+v: error %v, want a ConfigError", cfg, err)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// A half-duplex device that transmits and then receives hears the air from its
// present on; while it transmitted it neither heard nor held the air's samples.
func TestLoopbackTurnaround(t *testing.T) {
	air := NewAir(4)
	a, b := openPair(t, air, "loopback:hackrf,offset=0,snr=inf", "loopback:hackrf,offset=0,snr=inf")
	x := tone(4000, 0.02, 0.1)
	send(t, a, x)
	ya, _ := receive(t, b, 4000)
	// a listens again from when its receive stream starts, so it starts before b answers.
	s, err := a.StartRX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	send(t, b, x)
	yb := make([]complex64, 4000)
	if _, _, err := s.Read(yb); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if power(ya[100:3900]) < 0.005 || power(yb[100:3900]) < 0.005 {
		t.Errorf("ping-pong: powers %.4f and %.4f, want about 0.01 each", power(ya[100:3900]), power(yb[100:3900]))
	}
	air.mu.Lock()
	n := len(air.buf)
	air.mu.Unlock()
	if n > 20000 {
		t.Errorf("air holds %d samples after both read everything", n)
	}
}

// Cancelling the context ends a Read that waits for the transmitter, promptly.
func TestLoopbackCancel(t *testing.T) {
	air := NewAir(1)
	air.UnderrunTimeout = time.Hour
	tx, rx := openPair(t, air, "loopback", "loopback")
	ts, err := tx.StartTX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	ts.Write(make([]complex64, 100))
	ctx, cancel := context.WithCancelCause(context.Background())
	rs, err := rx.StartRX(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	stop := errors.New("operator stopped the run")
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel(stop)
	}()
	start := time.Now()
	_, _, err = rs.Read(make([]complex64, 10000))
	if !errors.Is(err, stop) {
		t.Fatalf("Read after cancel: %v, want the cause", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Read took %v to notice the cancellation", d)
	}
	if _, err := ts.Write(make([]complex64, 10)); err != nil {
		t.Errorf("the transmitter's own context was not cancelled: %v", err)
	}
}

// The transmitter's gain raises the signal above a fixed noise floor.
func TestLoopbackTxGainRaisesSNR(t *testing.T) {
	snrAt := func(txGain float64) (snr, noise float64) {
		air := NewAir(1)
		tx, rx := openPair(t, air, "loopback", "loopback,snr=20")
		if err := tx.Configure(radio.Config{SampleRate: 20e6, Frequency: DefaultFrequency, Gains: map[string]float64{"tx": txGain}}); err != nil {
			t.Fatal(err)
		}
		x := tone(1<<16, 0.01, math.Sqrt(DefaultRefPower))
		s, _ := rx.StartRX(context.Background())
		defer s.Close()
		idle := make([]complex64, 1<<15)
		s.Read(idle)
		ts, _ := tx.StartTX(context.Background())
		ts.Write(x)
		ts.Close()
		y := make([]complex64, len(x))
		s.Read(y)
		g := math.Pow(10, txGain/20)
		var e []complex64
		for i := range y {
			e = append(e, y[i]-x[i]*complex(float32(g), 0))
		}
		return 10 * math.Log10(power(x)*g*g/power(e)), power(idle)
	}
	s0, n0 := snrAt(0)
	s20, n20 := snrAt(20)
	if math.Abs(s0-20) > 0.2 || math.Abs(s20-40) > 0.2 {
		t.Errorf("SNR %.2f dB at tx gain 0 and %.2f at +20, want 20 and 40", s0, s20)
	}
	if math.Abs(n20/n0-1) > 0.05 {
		t.Errorf("noise floor moved with the transmitter's gain: %.3g -> %.3g", n0, n20)
	}
}

// A closed device's stream can neither transmit nor end another device's burst.
func TestLoopbackStaleTransmitStream(t *testing.T) {
	air := NewAir(1)
	a, b := openPair(t, air, "loopback", "loopback")
	sa, _ := a.StartTX(context.Background())
	a.Close()
	if _, err := sa.Write(make([]complex64, 10)); !errors.Is(err, radio.ErrClosed) {
		t.Errorf("write on a closed device's stream: %v, want ErrClosed", err)
	}
	sb, err := b.StartTX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	sa.Close()
	c, _ := openPair(t, air, "loopback", "loopback")
	if _, err := c.StartTX(context.Background()); !errors.Is(err, radio.ErrBusy) {
		t.Errorf("third transmitter during b's burst: %v, want ErrBusy", err)
	}
}

// A receiver's clock runs on while it transmits: its next buffer's timestamp jumps by
// the samples it missed.
func TestLoopbackTurnaroundTimestamps(t *testing.T) {
	air := NewAir(1)
	a, b := openPair(t, air, "loopback", "loopback")
	_, m := receive(t, a, 1000)
	if m.Time != 0 {
		t.Fatalf("first buffer at %d", m.Time)
	}
	send(t, a, make([]complex64, 50000))
	receive(t, b, 60000) // the air moves on to about 60000
	s, _ := a.StartRX(context.Background())
	defer s.Close()
	_, m, err := s.Read(make([]complex64, 100))
	if err != nil {
		t.Fatal(err)
	}
	if m.Time < 59000 || m.Dropped != m.Time-1000 {
		t.Errorf("after the turnaround: %+v, want the time near 60000 and the missed samples dropped", m)
	}
}

// Gaps keep coming after an overrun moved the receiver.
func TestLoopbackGapsAfterOverrun(t *testing.T) {
	air := NewAir(1)
	air.MaxBacklog = 5000
	tx, rx := openPair(t, air, "loopback", "loopback,gaprate=1000,gaplen=10")
	if err := rx.Configure(radio.Config{SampleRate: 1e6, Frequency: DefaultFrequency}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Configure(radio.Config{SampleRate: 1e6, Frequency: DefaultFrequency}); err != nil {
		t.Fatal(err)
	}
	send(t, tx, make([]complex64, 200000)) // overruns the receiver
	s, _ := rx.StartRX(context.Background())
	defer s.Close()
	buf := make([]complex64, 4096)
	for got := 0; got < 1_000_000; {
		n, _, err := s.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got += n
	}
	// 1 s at 1000 gaps per second: about 1000 (Poisson sd 32), plus the overrun.
	if o := rx.Stats().Overruns; o < 800 {
		t.Errorf("%d overruns in 1 s, want about 1000 gaps", o)
	}
}

// Keys that cannot work together at the tuned rate are refused when opening or
// configuring, naming the problem, never at the first Read.
func TestLoopbackImpossibleCombinations(t *testing.T) {
	air := NewAir(1)
	for _, spec := range []string{"loopback:hackrf,channel=tdl-e,ds=10000", "loopback,pn=300000"} {
		sp, _ := radio.ParseSpec(spec)
		if _, err := air.Open(spec, sp.Arg, nil, sp.Params); err == nil {
			t.Errorf("%s: opened", spec)
		}
	}
	_, rx := openPair(t, air, "loopback", "loopback,pn=30000")
	err := rx.Configure(radio.Config{SampleRate: 2e6, Frequency: DefaultFrequency})
	if err == nil || !strings.Contains(err.Error(), "phase noise") {
		t.Errorf("pn 30 kHz at 2 Msps: %v, want an error about phase noise", err)
	}
}

// The transmitter's converter clips at full scale, and the hackrf preset rounds to 8 bits.
func TestLoopbackTransmitDAC(t *testing.T) {
	air := NewAir(1)
	tx, rx := openPair(t, air, "loopback:hackrf,ppm=0,pn=0", "loopback,offset=0")
	send(t, tx, []complex64{2 - 3i, 0.3 + 0.1i})
	y, _ := receive(t, rx, 2)
	if y[0] != complex(127.0/128, -1) || y[1] != complex(float32(38.0/128), float32(13.0/128)) {
		t.Errorf("DAC output %v, want clipped and 8-bit values", y)
	}
}

// Receive gains changed between streams take effect at the next stream.
func TestLoopbackGainChangeBetweenStreams(t *testing.T) {
	air := NewAir(2)
	tx, rx := openPair(t, air, "loopback:hackrf,ppm=0,pn=0", "loopback:hackrf,ppm=0,pn=0,offset=0,snr=inf,dc=0,iqgain=0,iqphase=0")
	var levels []float64
	for _, lna := range []float64{16, 24, 32} {
		if err := rx.Configure(radio.Config{SampleRate: 20e6, Frequency: DefaultFrequency, Gains: map[string]float64{"lna": lna}}); err != nil {
			t.Fatal(err)
		}
		s, _ := rx.StartRX(context.Background())
		send(t, tx, tone(20000, 0.013, math.Sqrt(DefaultRefPower)))
		y := make([]complex64, 40000)
		s.Read(y)
		s.Close()
		var p float64
		n := 0
		for _, v := range y {
			if v != 0 {
				p += float64(real(v)*real(v) + imag(v)*imag(v))
				n++
			}
		}
		levels = append(levels, 10*math.Log10(p/float64(n)))
	}
	if math.Abs(levels[1]-levels[0]-8) > 0.3 || math.Abs(levels[2]-levels[1]-8) > 0.3 {
		t.Errorf("levels %v dBFS at lna 16, 24, 32: want steps of 8 dB", levels)
	}
}
