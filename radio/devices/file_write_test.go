package devices

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/sigmf"
)

// writeRecording writes n samples through a file device opened with spec, at
// rate samples/s.
func writeRecording(t *testing.T, m *Manager, spec string, rate float64, n int) {
	t.Helper()
	d, err := m.Open(context.Background(), spec)
	if err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	defer d.Close()
	if err := d.Configure(radio.Config{SampleRate: rate, Frequency: 915e6}); err != nil {
		t.Fatal(err)
	}
	transmit(t, d, signal(n))
}

// A file device's transmit stream creates its recording exclusively: one that
// exists, or that appeared after the device was opened (the check-then-create
// race), is left alone and StartTX fails with fs.ErrExist; with replace=true it
// is replaced. Each row is one way of naming a recording.
func TestFileDeviceExclusive(t *testing.T) {
	for _, c := range []struct {
		name  string // as given to the device
		read  string // the file whose content must survive
		extra string // keys a raw file needs
	}{
		{"a.sigmf-meta", "a.sigmf-data", ""},
		{"b.sigmf-data", "b.sigmf-meta", ""},
		{"c", "c.sigmf-meta", ""},
		{"d.cs8", "d.cs8", ",rate=1M"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			m := New(Options{})
			spec := "file:" + filepath.Join(dir, c.name) + c.extra
			late, err := m.Open(context.Background(), spec) // before the recording exists
			if err != nil {
				t.Fatal(err)
			}
			defer late.Close()
			writeRecording(t, m, spec, 1e6, 1000)
			keep := filepath.Join(dir, c.read)
			before, err := os.ReadFile(keep)
			if err != nil {
				t.Fatal(err)
			}

			d, err := m.Open(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for i, dev := range []radio.Device{d, late} {
				_, err := dev.StartTX(context.Background())
				if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "replace=true") {
					t.Errorf("device %d: StartTX over an existing recording: %v, want fs.ErrExist and a hint", i, err)
				}
			}
			if after, _ := os.ReadFile(keep); string(after) != string(before) {
				t.Errorf("%s was changed", c.read)
			}
			if _, err := d.StartRX(context.Background()); err != nil {
				t.Errorf("the refused StartTX left the device busy: %v", err)
			}

			writeRecording(t, m, spec+",replace=true", 1e6, 500)
			r, err := m.Open(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if y := readAll(t, r, 2000); len(y) != 500 {
				t.Errorf("after replace=true: %d samples, want 500", len(y))
			}
		})
	}
}

// A file device with replace=true does not read the recording it replaces:
// damaged metadata or another sample rate do not stop it, and its tuning comes
// from its keys, not from the old recording.
func TestFileDeviceReplaceDoesNotRead(t *testing.T) {
	dir := t.TempDir()
	m := New(Options{})
	ctx := context.Background()
	base := filepath.Join(dir, "x")
	writeRecording(t, m, "file:"+base+".sigmf-meta", 10e6, 1000) // another rate
	d, err := m.Open(ctx, "file:"+base+".sigmf-meta,replace=true")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Config().SampleRate; got != DefaultFileRate {
		t.Errorf("replace=true over a 10 Msps recording: tuned to %g samples/s, want %g", got, float64(DefaultFileRate))
	}
	d.Close()

	for _, damage := range []string{"{bad", ""} {
		if err := os.WriteFile(base+".sigmf-meta", []byte(damage), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Open(ctx, "file:"+base+".sigmf-meta"); err == nil {
			t.Fatalf("meta %q: opened for reading", damage)
		}
		writeRecording(t, m, "file:"+base+".sigmf-meta,replace=true,rate=2M", 2e6, 700)
		r, err := sigmf.Open(base+".sigmf-meta", sigmf.ReadOptions{})
		if err != nil {
			t.Fatalf("meta %q: the replacement: %v", damage, err)
		}
		if r.Len() != 700 || r.Meta().Global.SampleRate != 2e6 {
			t.Errorf("meta %q: the replacement holds %d samples at %g samples/s, want 700 at 2e6", damage, r.Len(), r.Meta().Global.SampleRate)
		}
		r.Close()
	}
}

// replace takes the words of radio.ParseBoolParam, like the other boolean keys.
func TestFileReplaceKey(t *testing.T) {
	m := New(Options{})
	path := filepath.Join(t.TempDir(), "k.sigmf-meta")
	for _, v := range []string{"true", "ON", "1", "false", "off", "0"} {
		if err := m.Check("file:" + path + ",replace=" + v); err != nil {
			t.Errorf("replace=%s: %v", v, err)
		}
	}
	for _, v := range []string{"yes", "foo", "2"} {
		err := m.Check("file:" + path + ",replace=" + v)
		if err == nil || !strings.Contains(err.Error(), "parameter replace") {
			t.Errorf("replace=%s: %v, want an error naming the key", v, err)
		}
	}
}
