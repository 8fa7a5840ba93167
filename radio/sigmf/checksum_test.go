package sigmf

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corrupt flips one bit of the data file at byte off.
func corrupt(t *testing.T, dataPath string, off int64) {
	t.Helper()
	f, err := os.OpenFile(dataPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// readToEnd reads r to its end and returns the samples and the error that ended
// the reading.
func readToEnd(r *Reader, chunk int) ([]complex64, error) {
	var out []complex64
	buf := make([]complex64, chunk)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out, err
		}
	}
}

// StreamChecksum verifies core:sha512 as the samples are read: the end of a good
// recording is io.EOF, that of a damaged one ErrChecksum, and the data file is
// not read at Open.
func TestStreamChecksum(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s")
	x := testSignal(CI16LE, 3*BufferSize/4+17, 8)
	writeRecording(t, path, WriteOptions{Datatype: CI16LE}, x)
	for _, chunk := range []int{1000, len(x) + 1} {
		r, err := Open(path, ReadOptions{StreamChecksum: true})
		if err != nil {
			t.Fatal(err)
		}
		got, err := readToEnd(r, chunk)
		if err != io.EOF {
			t.Errorf("good recording, chunk %d: reading ended with %v", chunk, err)
		}
		sameSamples(t, got, x)
		r.Close()
	}

	corrupt(t, path+ExtData, 2*BufferSize/3)
	if _, err := Open(path, ReadOptions{}); !errors.Is(err, ErrChecksum) {
		t.Errorf("Open of the damaged recording: %v, want ErrChecksum", err)
	}
	r, err := Open(path, ReadOptions{StreamChecksum: true})
	if err != nil {
		t.Fatalf("Open with StreamChecksum read the data: %v", err)
	}
	got, err := readToEnd(r, 1000)
	if !errors.Is(err, ErrChecksum) || len(got) != len(x) {
		t.Errorf("damaged recording: %d samples, then %v; want all and ErrChecksum", len(got), err)
	}
	if _, err := r.Read(make([]complex64, 1)); !errors.Is(err, ErrChecksum) {
		t.Errorf("Read after the end: %v, want ErrChecksum again", err)
	}
	r.Close()

	// Out of order, the check is given up, and Warnings says so.
	r, err = Open(path, ReadOptions{StreamChecksum: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SeekSample(10); err != nil {
		t.Fatal(err)
	}
	if _, err := readToEnd(r, 1000); err != io.EOF {
		t.Errorf("after a seek: reading ended with %v", err)
	}
	if w := r.Warnings(); len(w) != 1 || !strings.Contains(w[0], "not checked") {
		t.Errorf("warnings %q", w)
	}
	r.Close()
}

// A partial sample at the end counts in the checksum, streamed or not.
func TestStreamChecksumTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t")
	x := testSignal(CI8, 100, 3)
	writeRecording(t, path, WriteOptions{Datatype: CI8}, x)
	appendBytes(t, path+ExtData, []byte{7})
	r, err := Open(path, ReadOptions{StreamChecksum: true, AllowTruncated: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readToEnd(r, 30); err != io.EOF {
		t.Errorf("reading ended with %v", err)
	}
	if w := r.Warnings(); len(w) != 2 || !strings.Contains(w[1], "core:sha512 does not match") {
		t.Errorf("warnings %q", w)
	}
	r.Close()
}

// Verifying at Open stops when the context is cancelled.
func TestOpenContextCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c")
	writeRecording(t, path, WriteOptions{Datatype: CI8}, testSignal(CI8, 3*BufferSize, 2))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := OpenContext(ctx, path, ReadOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("OpenContext with a cancelled context: %v", err)
	}
	r, err := OpenContext(ctx, path, ReadOptions{SkipChecksum: true})
	if err != nil {
		t.Errorf("without a checksum to verify the context does not matter: %v", err)
	} else {
		r.Close()
	}
}
