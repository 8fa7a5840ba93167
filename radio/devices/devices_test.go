package devices

import (
	"context"
	"errors"
	"io"
	"math"
	"math/cmplx"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/loopback"
	"github.com/m4sc/m4sc/radio/sigmf"
)

func transmit(t *testing.T, d radio.Device, x []complex64) {
	t.Helper()
	s, err := d.StartTX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(x); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, d radio.Device, max int) []complex64 {
	t.Helper()
	s, err := d.StartRX(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out []complex64
	buf := make([]complex64, 1000)
	for len(out) < max {
		n, _, err := s.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func signal(n int) []complex64 {
	x := make([]complex64, n)
	for i := range x {
		x[i] = complex64(cmplx.Rect(0.3, float64(i)*0.37)) * complex64(complex(1+0.5*math.Sin(float64(i)/50), 0))
	}
	return x
}

// Devices opened by one Manager on the loopback share an air.
func TestManagerLoopbackJoinsDevices(t *testing.T) {
	m := New(Options{Seed: 1})
	ctx := context.Background()
	tx, err := m.Open(ctx, "loopback")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	rx, err := m.Open(ctx, "loopback")
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	other, err := m.Open(ctx, "loopback,air=elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	x := signal(3000)
	transmit(t, tx, x)
	y := readAll(t, rx, 3000)
	for i := range x {
		if y[i] != x[i] {
			t.Fatalf("sample %d: %v, want %v", i, y[i], x[i])
		}
	}
	if z := readAll(t, other, 3000); z[100] != 0 {
		t.Errorf("a device on another air heard the transmission")
	}
}

// Configuration-file defaults apply, and the device string overrides them.
func TestManagerLoopbackDefaults(t *testing.T) {
	m := New(Options{Seed: 1, Loopback: []radio.Param{{Key: "snr", Value: "20"}, {Key: "ppm", Value: "3"}}})
	d, err := m.Open(context.Background(), "loopback,ppm=7")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p := d.(*loopback.Device).Params()
	if p.SNR != 20 || p.PPM != 7 {
		t.Errorf("snr %g ppm %g, want 20 from the configuration and 7 from the string", p.SNR, p.PPM)
	}
}

// A recording written through a file device reads back sample-exact, for every
// datatype (ci8 and ci16 after their quantisation).
func TestFileDeviceRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := New(Options{})
	x := signal(10007)
	for _, c := range []struct{ name, spec string }{
		{"cf32.sigmf-meta", ",datatype=cf32_le"},
		{"ci16.sigmf-meta", ",datatype=ci16_le"},
		{"ci8.sigmf-meta", ",datatype=ci8"},
		{"raw.cs8", ",rate=2M"},
		{"raw.cf32", ",rate=2M"},
		{"raw.cfile", ",rate=2M"},
	} {
		spec := "file:" + filepath.Join(dir, c.name) + c.spec
		// Quantise once by a first round trip, then the second must be exact.
		var ref []complex64
		for pass := 0; pass < 2; pass++ {
			in := x
			if pass == 1 {
				in = ref
			}
			d, err := m.Open(context.Background(), spec+",replace=true")
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if err := d.Configure(radio.Config{SampleRate: 2e6, Frequency: 915e6}); err != nil {
				t.Fatal(err)
			}
			transmit(t, d, in)
			d.Close()
			d, err = m.Open(context.Background(), spec)
			if err != nil {
				t.Fatalf("%s: reopen: %v", c.name, err)
			}
			y := readAll(t, d, 20000)
			d.Close()
			if len(y) != len(x) {
				t.Fatalf("%s: read %d samples, wrote %d", c.name, len(y), len(x))
			}
			if pass == 0 {
				ref = y
				for i := range y {
					if d := cmplx.Abs(complex128(y[i] - x[i])); d > 1.0/64 {
						t.Fatalf("%s: sample %d off by %g", c.name, i, d)
					}
				}
				continue
			}
			for i := range y {
				if y[i] != ref[i] {
					t.Fatalf("%s: sample %d: %v, want %v", c.name, i, y[i], ref[i])
				}
			}
		}
	}
}

func TestManagerErrors(t *testing.T) {
	m := New(Options{})
	ctx := context.Background()
	for _, c := range []struct{ spec, want string }{
		{"usrp:123", "unknown driver"},
		{"loopback,snr=loud", "snr"},
		{"file:", "needs a path"},
		{"file:x.cs8,rate=fast", "rate"},
		{"file:x.cs8,colour=1", "unknown parameter"},
		{"file:/nonexistent/dir/none.sigmf-meta,datatype=ri8", "ri8"},
	} {
		_, err := m.Open(ctx, c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.spec, err, c.want)
		}
	}
	if _, err := m.Open(ctx, "hackrf"); !errors.Is(err, radio.ErrNoDevice) {
		t.Errorf("hackrf without the build tag: %v, want ErrNoDevice", err)
	}
	// A corrupt recording is rejected at open, naming the problem.
	dir := t.TempDir()
	meta := filepath.Join(dir, "bad.sigmf-meta")
	os.WriteFile(meta, []byte(`{"global":{"core:datatype":"cf32_le","core:version":"1.2.0"},"captures":[],"annotations":[]}`), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.sigmf-data"), make([]byte, 13), 0o644)
	if _, err := m.Open(ctx, "file:"+meta); err == nil || !strings.Contains(err.Error(), "trunc") {
		t.Errorf("truncated recording: %v", err)
	}
	d, err := m.Open(ctx, "file:"+meta+",truncated=allow,rate=1M")
	if err != nil {
		t.Fatalf("truncated=allow: %v", err)
	}
	if y := readAll(t, d, 10); len(y) != 1 {
		t.Errorf("truncated=allow read %d samples, want the 1 whole one", len(y))
	}
}

func TestList(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.cs8"), make([]byte, 8), 0o644)
	list, notes := New(Options{}).List(context.Background(), dir)
	var specs []string
	for _, l := range list {
		specs = append(specs, l.Spec)
	}
	s := strings.Join(specs, " ")
	for _, want := range []string{"loopback", "loopback:hackrf", "file:" + filepath.Join(dir, "a.cs8")} {
		if !strings.Contains(s, want) {
			t.Errorf("listing %q lacks %q", s, want)
		}
	}
	if len(notes) == 0 {
		t.Errorf("no note on HackRF support in a build without it")
	}
}

// Any device string gives a device or an error, never a panic.
func FuzzOpen(f *testing.F) {
	for _, s := range []string{"loopback", "loopback:hackrf,ppm=12.5,snr=25,channel=epa", "loopback,dc=0.1+0.2i,bits=8",
		"loopback,snr=inf,gaprate=5,gaplen=10", "file:none.cs8,rate=1M", "hackrf:1", "usrp", "loopback,channel=tdl-c,ds=30,doppler=10",
		"file:a.sigmf-meta,loop=foo", "file:none.cs8,rate=1M,loop=yes", "file:none.cs8,rate=1M,truncated=yes", "file:none.cs8,rate=1M,truncated=on,loop=1",
		"file:none.cs8,rate=1M,replace=on", "file:a.sigmf-meta,replace=maybe", "loopback:hackrf,snr=" + strings.Repeat("9", 3000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := New(Options{Seed: 1})
		d, err := m.Open(context.Background(), s)
		if err != nil {
			return
		}
		defer d.Close()
		// Receive a little: keys that only fail at the channel must fail cleanly.
		if rs, err := d.StartRX(context.Background()); err == nil {
			rs.Read(make([]complex64, 64))
			rs.Close()
		}
	})
}

// Closing a file device in the middle of a transmission completes the recording, and a
// cancelled transmission leaves what was written readable.
func TestFileDeviceCloseAndCancel(t *testing.T) {
	dir := t.TempDir()
	m := New(Options{})
	x := signal(10000)
	for _, how := range []string{"close", "cancel"} {
		path := filepath.Join(dir, how+".sigmf-meta")
		d, err := m.Open(context.Background(), "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		s, err := d.StartTX(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Write(x); err != nil {
			t.Fatal(err)
		}
		if how == "close" {
			d.Close()
		} else {
			cancel()
			if _, err := s.Write(x); err == nil {
				t.Fatal("write after cancel succeeded")
			}
			d.Close()
		}
		cancel()
		r, err := m.Open(context.Background(), "file:"+path)
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		if y := readAll(t, r, 20000); len(y) != len(x) {
			t.Errorf("%s: %d samples readable, want %d", how, len(y), len(x))
		}
	}
}

// A recording's core:sha512 is verified as its samples stream, not at open: a
// damaged recording opens, plays, and its stream ends in sigmf.ErrChecksum rather
// than io.EOF; and a cancelled context stops the stream at the next Read.
func TestFileChecksumStreamed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.sigmf-meta")
	m := New(Options{})
	ctx := context.Background()
	d, err := m.Open(ctx, "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	transmit(t, d, signal(300000))
	d.Close()
	// Damage one byte of the data.
	data := filepath.Join(dir, "c.sigmf-data")
	b, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	if err := os.WriteFile(data, b, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err = m.Open(ctx, "file:"+path)
	if err != nil {
		t.Fatalf("open reads the data: %v", err)
	}
	defer d.Close()
	rctx, cancel := context.WithCancel(ctx)
	s, err := d.StartRX(rctx)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]complex64, 1<<16)
	var n int
	var end error
	for end == nil {
		k, _, err := s.Read(buf)
		n += k
		end = err
	}
	if !errors.Is(end, sigmf.ErrChecksum) || n != 300000 {
		t.Errorf("read %d samples, then %v; want 300000 and ErrChecksum", n, end)
	}
	s.Close()

	s, err = d.StartRX(rctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Read(buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, _, err := s.Read(buf); !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel: %v", err)
	}
	s.Close()
}

// The file driver's boolean keys take the words of radio.ParseBoolParam, and
// anything else is an error naming the key: loop=foo no longer means no loop.
func TestFileBooleanKeys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b.cs8")
	os.WriteFile(path, make([]byte, 8), 0o644)
	m := New(Options{})
	ctx := context.Background()
	for _, keys := range []string{"loop=true", "loop=ON", "loop=0", "truncated=allow", "truncated=reject", "truncated=true", "truncated=off,loop=1"} {
		d, err := m.Open(ctx, "file:"+path+",rate=1M,"+keys)
		if err != nil {
			t.Errorf("%s: %v", keys, err)
			continue
		}
		d.Close()
	}
	for _, c := range []struct{ keys, want string }{
		{"loop=foo", "parameter loop: \"foo\" is not a boolean"},
		{"loop=yes", "parameter loop"},
		{"truncated=yes", "parameter truncated: \"yes\", want allow or reject"},
		{"truncated=maybe", "parameter truncated"},
	} {
		if _, err := m.Open(ctx, "file:"+path+",rate=1M,"+c.keys); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.keys, err, c.want)
		}
	}
	// With loop=true the recording plays again and again.
	d, err := m.Open(ctx, "file:"+path+",rate=1M,loop=on")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if y := readAll(t, d, 10); len(y) < 10 {
		t.Errorf("loop=on read %d samples of a 4-sample recording, want it to play on", len(y))
	}
}

// Check finds what Open would refuse in a device string, without opening it.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	m := New(Options{Loopback: []radio.Param{{Key: "snr", Value: "20"}}})
	for _, s := range []string{"loopback", "loopback:hackrf,ppm=3,channel=epa", "file:" + filepath.Join(dir, "none.cs8") + ",rate=2M,loop=on",
		"hackrf", "hackrf:3f1f,antenna_power=off,rxbuf=1M"} {
		if err := m.Check(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, c := range []struct{ spec, want string }{
		{"usrp:1", "unknown driver"},
		{"loopback,snr=abc", "parameter snr"},
		{"loopback:nosuch", "unknown preset"},
		{"file:", "needs a path"},
		{"file:x.cs8,loop=foo", "parameter loop"},
		{"file:x.cs8,colour=1", "unknown parameter"},
		{"hackrf:xyz", "serial"},
		{"hackrf,rxbuf=1", "rxbuf"},
		{"loopback,", "empty parameter"},
	} {
		if err := m.Check(c.spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.spec, err, c.want)
		}
		if _, err := m.Open(context.Background(), c.spec); err == nil {
			t.Errorf("%s: Check refuses what Open accepts", c.spec)
		}
	}
	bad := New(Options{Loopback: []radio.Param{{Key: "snr", Value: "loud"}}})
	if err := bad.Check("loopback"); err == nil || !strings.Contains(err.Error(), "configuration") {
		t.Errorf("bad defaults: %v", err)
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("Check made files: %v", es)
	}
}

// GainStages lists the stages of every loopback preset, with the devices that
// have them, as their Infos give them.
func TestGainStages(t *testing.T) {
	m := New(Options{})
	have := map[string]radio.GainInfo{}
	for _, s := range []string{"loopback", "loopback:hackrf"} {
		d, err := m.Open(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range d.Info().Gains {
			have[g.Name] = g
		}
		d.Close()
	}
	stages := GainStages()
	if len(stages) != len(have) {
		t.Errorf("%d stages, the devices have %d", len(stages), len(have))
	}
	for _, s := range stages {
		if g, ok := have[s.Name]; !ok || g.Range != s.Range || len(s.Devices) == 0 {
			t.Errorf("stage %+v; the device has %+v", s, g)
		}
	}
}
