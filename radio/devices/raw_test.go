package devices

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileDeviceRaw: raw=cs8 plays an hackrf_transfer capture of any name (int8 I,Q,
// scale 1/128) at the rate and frequency the device string gives; a bad raw value is
// refused by Check and Open alike.
func TestFileDeviceRaw(t *testing.T) {
	path := filepath.Join(t.TempDir(), "capture.iq")
	if err := os.WriteFile(path, []byte{64, -64 & 0xff, 0x80, 127, 0, 1}, 0o644); err != nil {
		t.Fatal(err)
	}
	m := New(Options{})
	d, err := m.Open(context.Background(), "file:"+path+",raw=cs8,rate=20M,freq=2.45G")
	if err != nil {
		t.Fatal(err)
	}
	if c := d.Config(); c.SampleRate != 20e6 || c.Frequency != 2.45e9 {
		t.Errorf("config %+v", c)
	}
	y := readAll(t, d, 10)
	d.Close()
	want := []complex64{complex(0.5, -0.5), complex(-1, 127.0/128), complex(0, 1.0/128)}
	if len(y) != len(want) {
		t.Fatalf("read %v", y)
	}
	for i := range y {
		if y[i] != want[i] {
			t.Errorf("sample %d: %v, want %v", i, y[i], want[i])
		}
	}
	for _, spec := range []string{"file:" + path + ",raw=cu8", "file:" + path + ",raw="} {
		if err := m.Check(spec); err == nil || !strings.Contains(err.Error(), "raw") {
			t.Errorf("Check(%s): %v", spec, err)
		}
		if _, err := m.Open(context.Background(), spec); err == nil {
			t.Errorf("Open(%s) succeeded", spec)
		}
	}
}
