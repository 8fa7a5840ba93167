package sigmf

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// failingWriter passes through limit bytes, then fails; with partial it writes
// part of the failing block first, as a full disk does.
type failingWriter struct {
	w       io.Writer
	limit   int
	partial bool
}

var errInjected = errors.New("injected write failure")

func (f *failingWriter) Write(b []byte) (int, error) {
	if len(b) <= f.limit {
		f.limit -= len(b)
		return f.w.Write(b)
	}
	n := 0
	if f.partial {
		n, _ = f.w.Write(b[:f.limit+1]) // one byte into a sample
	}
	f.limit = 0
	return n, errInjected
}

// A producer fails mid-way (here its storage does): the writer keeps the first
// error, and Close still leaves a recording that opens, holding what reached the
// file, with the annotations that lie within it.
func TestWriterFailureLeavesRecording(t *testing.T) {
	for _, tt := range []struct {
		name      string
		partial   bool
		truncated bool // the file ends in a partial sample
	}{
		{"clean failure", false, false},
		{"partial write", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "fail")
			w, err := Create(path, WriteOptions{Datatype: CI16LE, SampleRate: 1e6})
			if err != nil {
				t.Fatal(err)
			}
			// Two buffers reach the file, the third fails.
			w.out = &failingWriter{w: w.out, limit: 2 * BufferSize, partial: tt.partial}
			perBuf := BufferSize / 4
			x := testSignal(CI16LE, 4*perBuf, 9)
			if err := w.Annotate(Annotation{SampleStart: 10, SampleCount: 100, Label: "early"}); err != nil {
				t.Fatal(err)
			}
			if err := w.Annotate(Annotation{SampleStart: int64(3 * perBuf), SampleCount: 100, Label: "lost"}); err != nil {
				t.Fatal(err)
			}
			n, err := w.Write(x)
			if !errors.Is(err, errInjected) || n != 3*perBuf {
				t.Fatalf("Write = %d, %v; want %d and the injected error", n, err, 3*perBuf)
			}
			// The first error sticks.
			if _, err := w.Write(x[:1]); !errors.Is(err, errInjected) {
				t.Errorf("second Write: %v", err)
			}
			if err := w.Annotate(Annotation{}); !errors.Is(err, errInjected) {
				t.Errorf("Annotate after the error: %v", err)
			}
			if err := w.Flush(); !errors.Is(err, errInjected) {
				t.Errorf("Flush after the error: %v", err)
			}
			if err := w.Close(); !errors.Is(err, errInjected) {
				t.Errorf("Close = %v, want the first error", err)
			}

			r, err := Open(path, ReadOptions{AllowTruncated: tt.truncated})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			m := r.Meta()
			if m.Global.SHA512 != "" {
				t.Error("a failed recording claims a checksum")
			}
			if len(m.Annotations) != 1 || m.Annotations[0].Label != "early" || m.Global.SampleRate != 1e6 {
				t.Errorf("meta %+v", m)
			}
			if (len(r.Warnings()) > 0) != tt.truncated {
				t.Errorf("warnings %q", r.Warnings())
			}
			sameSamples(t, readAll(t, r, 5000), x[:2*perBuf])
		})
	}
}

// Before Close the recording on disk is always valid: Create writes its metadata,
// Flush brings data and metadata forward together.
func TestRecordingValidBeforeClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live")
	w, err := Create(path, WriteOptions{Datatype: CI8, Frequency: 433.92e6})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	open := func() *Reader {
		t.Helper()
		r, err := Open(path, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		return r
	}
	if r := open(); r.Len() != 0 || r.Meta().Captures[0].Frequency != 433.92e6 {
		t.Errorf("after Create: Len %d, meta %+v", r.Len(), r.Meta())
	}
	x := testSignal(CI8, 1000, 5)
	w.Write(x)
	w.Annotate(Annotation{SampleStart: 0, SampleCount: 1000, Label: "a"})
	w.Annotate(Annotation{SampleStart: 900, SampleCount: 200, Label: "not yet"})
	if r := open(); r.Len() != 0 || len(r.Meta().Annotations) != 0 {
		t.Errorf("buffered samples or annotations visible before Flush: Len %d", r.Len())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if r := open(); r.Len() != 1000 || len(r.Meta().Annotations) != 1 {
		t.Errorf("after Flush: Len %d, annotations %+v", r.Len(), r.Meta().Annotations)
	}
	w.Write(x[:100])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if r := open(); r.Len() != 1100 || len(r.Meta().Annotations) != 2 || r.Meta().Global.SHA512 == "" {
		t.Errorf("after Close: Len %d, meta %+v", r.Len(), r.Meta())
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

const killEnv = "SIGMF_TEST_KILL_DIR"

// A writer killed with SIGKILL leaves a recording that opens without error and
// holds every sample handed to the OS, as the package documentation promises.
func TestKilledWriter(t *testing.T) {
	if dir := os.Getenv(killEnv); dir != "" {
		killedChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriter$")
	cmd.Env = append(os.Environ(), killEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Exited() {
		t.Fatalf("child was not killed: %v\n%s", err, out)
	}
	r, err := Open(filepath.Join(dir, "killed"), ReadOptions{})
	if err != nil {
		t.Fatalf("Open after kill: %v", err)
	}
	defer r.Close()
	// What was flushed: one full buffer by Write, then 1000 samples by Flush.
	want := int64(BufferSize/CF32LE.SampleBytes() + 1000)
	if r.Len() != want {
		t.Errorf("Len %d, want %d", r.Len(), want)
	}
	if a := r.Meta().Annotations; len(a) != 1 || a[0].Label != "flushed" {
		t.Errorf("annotations %+v, want the one recorded by Flush", a)
	}
	x := testSignal(CF32LE, int(want), 11)
	sameSamples(t, readAll(t, r, 4096), x)
}

func killedChild(dir string) {
	fail := func(err error) {
		os.Stderr.WriteString("child: " + err.Error() + "\n")
		os.Exit(3)
	}
	w, err := Create(filepath.Join(dir, "killed"), WriteOptions{SampleRate: 20e6})
	if err != nil {
		fail(err)
	}
	perBuf := BufferSize / CF32LE.SampleBytes()
	x := testSignal(CF32LE, perBuf+1000, 11)
	if _, err := w.Write(x); err != nil { // the first buffer goes to the OS
		fail(err)
	}
	if err := w.Annotate(Annotation{SampleStart: 5, SampleCount: 10, Label: "flushed"}); err != nil {
		fail(err)
	}
	if err := w.Flush(); err != nil { // and now the 1000 after it
		fail(err)
	}
	w.Write(make([]complex64, 500)) // stays in the buffer
	w.Annotate(Annotation{SampleStart: int64(perBuf + 1000), SampleCount: 500, Label: "lost"})
	p, err := os.FindProcess(os.Getpid())
	if err != nil {
		fail(err)
	}
	p.Kill()
	select {} // wait for the signal
}

// A metadata rewrite that fails is kept as the writer's error like a data write.
func TestMetaWriteFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m")
	w, err := Create(path, WriteOptions{Datatype: CI8})
	if err != nil {
		t.Fatal(err)
	}
	// A non-empty directory where the metadata goes defeats the rename.
	os.Remove(path + ExtMeta)
	os.MkdirAll(filepath.Join(path+ExtMeta, "x"), 0o755)
	w.Write(make([]complex64, 10))
	err = w.Flush()
	if err == nil {
		t.Fatal("Flush succeeded")
	}
	if _, err2 := w.Write(make([]complex64, 1)); err2 != err {
		t.Errorf("Write after the failure: %v, want %v", err2, err)
	}
	if err2 := w.Close(); err2 != err {
		t.Errorf("Close: %v, want %v", err2, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}
