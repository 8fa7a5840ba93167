package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// Both kinds of temporary file: unnamed (Linux) and named.
var kinds = []struct {
	name    string
	unnamed bool
}{{"unnamed", true}, {"named", false}}

func TestCommitReplaces(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) { testCommitReplaces(t, k.unnamed) })
	}
}

func testCommitReplaces(t *testing.T, unnamed bool) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := create(path, 0o644, unnamed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("new content")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("before Commit the file reads %q", b)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new content" {
		t.Errorf("after Commit the file reads %q", b)
	}
	if st, _ := os.Stat(path); st.Mode().Perm()&0o044 == 0 {
		t.Errorf("mode %v: the permissions asked for were not given", st.Mode())
	}
	if got := entries(t, dir); !slices.Equal(got, []string{"f.txt"}) {
		t.Errorf("directory holds %q", got)
	}
	if err := f.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if err := f.Commit(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Commit: %v", err)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) { testAbortLeavesNothing(t, k.unnamed) })
	}
}

func testAbortLeavesNothing(t *testing.T, unnamed bool) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	f, err := create(path, 0o644, unnamed)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x"))
	if err := f.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Errorf("directory holds %q after Abort", got)
	}
	if _, err := f.Write([]byte("y")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Abort: %v", err)
	}
}

func TestCreateRefusesDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{dir, dir + "/", filepath.Join(dir, "sub") + string(filepath.Separator), ""} {
		if f, err := Create(p, 0o644); err == nil {
			f.Abort()
			t.Errorf("Create(%q) succeeded", p)
		}
		if l, err := TryLock(p); err == nil {
			l.Unlock()
			t.Errorf("TryLock(%q) succeeded", p)
		}
	}
	if f, err := Create(filepath.Join(dir, "missing", "f"), 0o644); err == nil || !errors.Is(err, fs.ErrNotExist) {
		if f != nil {
			f.Abort()
		}
		t.Errorf("Create in a missing directory: %v", err)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w")
	for _, s := range []string{"one", "two"} {
		if err := WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != s {
			t.Errorf("reads %q, want %q", b, s)
		}
	}
	if got := entries(t, dir); !slices.Equal(got, []string{"w"}) {
		t.Errorf("directory holds %q", got)
	}
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rec")
	l, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(path); !errors.Is(err, ErrLocked) {
		t.Errorf("second TryLock: %v, want ErrLocked", err)
	}
	other, err := TryLock(filepath.Join(dir, "other"))
	if err != nil {
		t.Errorf("a lock on another path: %v", err)
	} else {
		other.Unlock()
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(); err != nil {
		t.Errorf("second Unlock: %v", err)
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Errorf("directory holds %q after Unlock", got)
	}
	// A lock file left by a killed process holds no lock.
	if err := os.WriteFile(LockName(path), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err = TryLock(path)
	if err != nil {
		t.Fatalf("TryLock over a stale lock file: %v", err)
	}
	l.Unlock()
	if got := entries(t, dir); len(got) != 0 {
		t.Errorf("directory holds %q after Unlock", got)
	}
}

const killEnv = "ATOMICFILE_TEST_KILL_DIR"

// A writer killed before Commit leaves the old file and nothing else: no
// temporary file, whatever it had written (on Linux, where temporary files are
// unnamed).
func TestKilledWriterLeavesNoLitter(t *testing.T) {
	if dir := os.Getenv(killEnv); dir != "" {
		f, err := Create(filepath.Join(dir, "ckpt"), 0o644)
		if err != nil {
			os.Exit(3)
		}
		f.Write(make([]byte, 1<<20))
		p, _ := os.FindProcess(os.Getpid())
		p.Kill()
		select {}
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ckpt"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !Unnamed(dir) {
		t.Skip("no unnamed temporary files here: a killed writer leaves its .tmp file")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterLeavesNoLitter$")
	cmd.Env = append(os.Environ(), killEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Exited() {
		t.Fatalf("child was not killed: %v\n%s", err, out)
	}
	if got := entries(t, dir); !slices.Equal(got, []string{"ckpt"}) {
		t.Errorf("directory holds %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "ckpt")); string(b) != "old" {
		t.Errorf("the old file reads %q", b)
	}
}
