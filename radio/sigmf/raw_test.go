package sigmf

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenRaw: ReadOptions.Raw reads a file of any name as header-less samples (an
// hackrf_transfer capture named .iq), with the rate and frequency the caller gives;
// an odd number of int8 values is a truncated recording; an unknown datatype fails.
func TestOpenRaw(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "capture.iq")
	if err := os.WriteFile(path, []byte{0x80, 0x7f, 0, 64}, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, ReadOptions{Raw: CI8, SampleRate: 20e6, Frequency: 2.45e9})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]complex64, 4)
	n, _ := r.Read(got)
	r.Close()
	if n != 2 || got[0] != complex(-1, 127.0/128) || got[1] != complex(0, 0.5) {
		t.Errorf("read %d samples %v", n, got[:n])
	}
	if m := r.Meta(); m.Global.SampleRate != 20e6 || m.Captures[0].Frequency != 2.45e9 || m.Global.Datatype != CI8 {
		t.Errorf("meta %+v", m)
	}
	if _, err := Open(path, ReadOptions{}); err == nil {
		t.Error("a .iq file without Raw opened as something")
	}
	odd := filepath.Join(dir, "odd.iq")
	if err := os.WriteFile(odd, []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(odd, ReadOptions{Raw: CI8}); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "odd.iq") {
		t.Errorf("odd byte count: %v", err)
	}
	if _, err := Open(path, ReadOptions{Raw: Datatype(9)}); err == nil {
		t.Error("Raw of an unknown datatype opened")
	}
}

// FuzzOpenRaw: any bytes under any name read as raw samples of any datatype give
// either every whole sample, each as its datatype's scale makes it, or, for a partial
// sample at the end, a *FormatError wrapping ErrTruncated (and with AllowTruncated the
// whole samples before it); never a panic.
func FuzzOpenRaw(f *testing.F) {
	f.Add([]byte{}, uint8(0), false)
	f.Add([]byte{0x80, 0x7f, 0, 64}, uint8(0), false)
	f.Add([]byte{1, 2, 3}, uint8(0), true)
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(2), false)
	f.Add([]byte{0xff, 0xff, 0xc0, 0x7f, 0, 0, 0x80, 0x7f}, uint8(2), false) // NaN and +Inf
	f.Fuzz(func(t *testing.T, data []byte, kind uint8, allow bool) {
		dt := []Datatype{CI8, CI16LE, CF32LE}[int(kind)%3]
		path := filepath.Join(t.TempDir(), "capture.iq")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path, ReadOptions{Raw: dt, SampleRate: 20e6, AllowTruncated: allow})
		size := dt.SampleBytes()
		if len(data)%size != 0 && !allow {
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, ErrTruncated) {
				t.Fatalf("%d bytes of %v: %v", len(data), dt, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%d bytes of %v: %v", len(data), dt, err)
		}
		defer r.Close()
		want := len(data) / size
		if r.Len() != int64(want) {
			t.Fatalf("Len %d, want %d", r.Len(), want)
		}
		buf := make([]complex64, 7)
		got := 0
		for {
			n, err := r.Read(buf)
			for i := range n {
				k := (got + i) * size
				if dt == CI8 && buf[i] != complex(float32(int8(data[k]))/128, float32(int8(data[k+1]))/128) {
					t.Fatalf("sample %d: %v from % x", got+i, buf[i], data[k:k+2])
				}
			}
			got += n
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
		}
		if got != want {
			t.Fatalf("read %d samples, want %d", got, want)
		}
	})
}
