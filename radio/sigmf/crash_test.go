package sigmf

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
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

// writeRecording writes x as a complete recording at path.
func writeRecording(t *testing.T, path string, opt WriteOptions, x []complex64) {
	t.Helper()
	w, err := Create(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, x)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// names lists the directory's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// Until Close, the recording at the path is the old one, whole and valid; Close
// replaces data and metadata and leaves nothing else behind.
func TestRecordingInvisibleUntilClose(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live")
	old := testSignal(CI8, 300, 4)
	writeRecording(t, path, WriteOptions{Datatype: CI8, Frequency: 100e6}, old)
	open := func() *Reader {
		t.Helper()
		r, err := Open(path, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	w, err := Create(path, WriteOptions{Datatype: CI8, Frequency: 433.92e6})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	x := testSignal(CI8, BufferSize/2+1000, 5) // more than a buffer: some reaches the file before Flush
	w.Write(x)
	w.Annotate(Annotation{SampleStart: 0, SampleCount: 1000, Label: "a"})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if r := open(); r.Len() != 300 || r.Meta().Captures[0].Frequency != 100e6 {
		t.Errorf("before Close: Len %d, meta %+v; want the old recording", r.Len(), r.Meta())
	} else {
		sameSamples(t, readAll(t, r, 100), old)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := open()
	if r.Len() != int64(len(x)) || len(r.Meta().Annotations) != 1 || r.Meta().Global.SHA512 == "" || r.Meta().Captures[0].Frequency != 433.92e6 {
		t.Errorf("after Close: Len %d, meta %+v", r.Len(), r.Meta())
	}
	sameSamples(t, readAll(t, r, 4096), x)
	if got := names(t, dir); !slices.Equal(got, []string{"live.sigmf-data", "live.sigmf-meta"}) {
		t.Errorf("directory holds %q", got)
	}
}

// Abort, and a failure to create, leave the old recording as it was and nothing
// else.
func TestAbortKeepsOldRecording(t *testing.T) {
	for _, name := range []string{"rec.sigmf-meta", "rec.cs8"} {
		dir := t.TempDir()
		path := filepath.Join(dir, name)
		old := testSignal(CI8, 100, 1)
		writeRecording(t, path, WriteOptions{}, old)
		before := names(t, dir)
		w, err := Create(path, WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(testSignal(CI8, BufferSize, 2))
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Errorf("%s: second Abort: %v", name, err)
		}
		if err := w.Close(); !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s: Close after Abort: %v", name, err)
		}
		if got := names(t, dir); !slices.Equal(got, before) {
			t.Errorf("%s: directory holds %q, want %q", name, got, before)
		}
		r, err := Open(path, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sameSamples(t, readAll(t, r, 64), old)
		r.Close()
	}
}

// Two writers of one recording: the second is refused while the first writes,
// so they cannot both succeed and leave a mixture; Exclusive refuses a recording
// that exists.
func TestCreateLockedAndExclusive(t *testing.T) {
	for _, name := range []string{"rec.sigmf-meta", "rec.sigmf-data", "rec", "rec.cf32"} {
		dir := t.TempDir()
		path := filepath.Join(dir, name)
		w, err := Create(path, WriteOptions{Exclusive: true})
		if err != nil {
			t.Fatal(err)
		}
		if w2, err := Create(path, WriteOptions{}); !errors.Is(err, ErrBusy) {
			if err == nil {
				w2.Abort()
			}
			t.Errorf("%s: second Create while the first writes: %v, want ErrBusy", name, err)
		}
		writeAll(t, w, testSignal(CF32LE, 10, 3))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if w2, err := Create(path, WriteOptions{Exclusive: true}); !errors.Is(err, fs.ErrExist) {
			if err == nil {
				w2.Abort()
			}
			t.Errorf("%s: exclusive Create of an existing recording: %v", name, err)
		}
		// Either file of a SigMF pair counts.
		if !strings.HasSuffix(name, ".cf32") {
			os.Remove(filepath.Join(dir, "rec"+ExtMeta))
			if w2, err := Create(path, WriteOptions{Exclusive: true}); !errors.Is(err, fs.ErrExist) {
				if err == nil {
					w2.Abort()
				}
				t.Errorf("%s: exclusive Create beside a lone data file: %v", name, err)
			}
		}
		w, err = Create(path, WriteOptions{})
		if err != nil {
			t.Fatalf("%s: replacing Create: %v", name, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		for _, n := range names(t, dir) {
			if strings.Contains(n, ".tmp") || strings.HasSuffix(n, ".lock") {
				t.Errorf("%s: left behind: %s", name, n)
			}
		}
	}
}

// A directory, or a path ending in a separator, is not a recording.
func TestDirectoryIsNotARecording(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{dir, dir + "/", filepath.Join(dir, "sub") + "/"} {
		if w, err := Create(p, WriteOptions{}); err == nil {
			w.Abort()
			t.Errorf("Create(%q) succeeded", p)
		} else if !strings.Contains(err.Error(), "director") {
			t.Errorf("Create(%q): %v; want it to say directory", p, err)
		}
		if _, err := Open(p, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "director") {
			t.Errorf("Open(%q): %v; want it to say directory", p, err)
		}
	}
	if got := names(t, dir); len(got) != 0 {
		t.Errorf("directory holds %q", got)
	}
}

const killEnv = "SIGMF_TEST_KILL_DIR"

// A writer killed with SIGKILL over an existing recording leaves that recording
// whole and valid, and no temporary file (on Linux, where they are unnamed); the
// next writer takes over its lock file and removes it.
func TestKilledWriter(t *testing.T) {
	if dir := os.Getenv(killEnv); dir != "" {
		killedChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "killed")
	old := testSignal(CF32LE, 1000, 12)
	writeRecording(t, path, WriteOptions{SampleRate: 1e6}, old)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriter$")
	cmd.Env = append(os.Environ(), killEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Exited() {
		t.Fatalf("child was not killed: %v\n%s", err, out)
	}
	r, err := Open(path, ReadOptions{})
	if err != nil {
		t.Fatalf("Open after kill: %v", err)
	}
	if r.Meta().Global.SampleRate != 1e6 {
		t.Errorf("meta %+v, want the old recording's", r.Meta())
	}
	sameSamples(t, readAll(t, r, 4096), old)
	r.Close()
	for _, n := range names(t, dir) {
		if strings.Contains(n, ".tmp") && runtime.GOOS == "linux" {
			t.Errorf("temporary file left behind: %s", n)
		}
	}
	writeRecording(t, path, WriteOptions{}, old[:10])
	if got := names(t, dir); !slices.Equal(got, []string{"killed.sigmf-data", "killed.sigmf-meta"}) {
		t.Errorf("after the next writer the directory holds %q", got)
	}
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
	if err := w.Flush(); err != nil { // and now the 1000 after it
		fail(err)
	}
	w.Write(make([]complex64, 500)) // stays in the buffer
	p, err := os.FindProcess(os.Getpid())
	if err != nil {
		fail(err)
	}
	p.Kill()
	select {} // wait for the signal
}

// A metadata write that fails is Close's error, and leaves no temporary file.
func TestMetaWriteFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m")
	w, err := Create(path, WriteOptions{Datatype: CI8})
	if err != nil {
		t.Fatal(err)
	}
	// A non-empty directory where the metadata goes defeats the rename.
	os.MkdirAll(filepath.Join(path+ExtMeta, "x"), 0o755)
	w.Write(make([]complex64, 10))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "metadata") {
		t.Errorf("Close: %v, want the failed metadata write", err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}
