package calibration

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/m4sc/m4sc/internal/atomicfile"
)

const saveEnv = "CALIBRATION_TEST_SAVE" // "error DIR" or "kill DIR": the child's part

// A Save that fails half-way, here at the file size limit (RLIMIT_FSIZE) as at
// a full disk, reports it and leaves the old profile as it was and nothing
// else; so does a process killed half-way through a Save (SIGXFSZ at its
// default action), where temporary files are unnamed.
func TestProfileSaveFailsMidway(t *testing.T) {
	if mode, dir, ok := strings.Cut(os.Getenv(saveEnv), " "); ok {
		saveChild(mode, dir)
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	for _, mode := range []string{"error", "kill"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			if mode == "kill" && !atomicfile.Unnamed(dir) {
				t.Skip("no unnamed temporary files here: a killed writer leaves its hidden .tmp file")
			}
			path := filepath.Join(dir, "p.yaml")
			if err := testProfile(-7.25, 0.2, 1.5, 0.015-0.008i).Save(path); err != nil {
				t.Fatal(err)
			}
			old, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(old) <= saveLimit {
				t.Fatalf("a profile of %d bytes does not reach the limit", len(old))
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestProfileSaveFailsMidway$")
			cmd.Env = append(os.Environ(), saveEnv+"="+mode+" "+dir)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			switch {
			case mode == "error" && err != nil:
				t.Fatalf("child: %v\n%s", err, out)
			case mode == "kill" && (!errors.As(err, &ee) || ee.Exited()):
				t.Fatalf("child was not killed: %v\n%s", err, out)
			}
			es, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range es {
				names = append(names, e.Name())
			}
			if !slices.Equal(names, []string{"p.yaml"}) {
				t.Errorf("directory holds %q, want only p.yaml", names)
			}
			if b, _ := os.ReadFile(path); !slices.Equal(b, old) {
				t.Errorf("the old profile was changed:\n%s", b)
			}
		})
	}
}

// saveLimit is the child's file size limit, bytes: less than a profile.
const saveLimit = 64

// saveChild saves a profile in dir with files limited to saveLimit bytes. In
// mode error, writes beyond the limit fail with EFBIG (the Go runtime ignores
// SIGXFSZ) and Save must say so; in mode kill, SIGXFSZ gets its default action
// back, so the kernel kills the process at the write that crosses the limit.
func saveChild(mode, dir string) {
	lim := syscall.Rlimit{Cur: saveLimit, Max: saveLimit}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		os.Exit(3)
	}
	if mode == "kill" {
		// rt_sigaction(SIGXFSZ, {SIG_DFL}): a zero struct sigaction is SIG_DFL
		// on every architecture, whatever the order of its fields.
		var act [4]uint64
		if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGXFSZ),
			uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0); e != 0 {
			os.Exit(5)
		}
	}
	err := testProfile(3, 0.1, 0.5, 0.01i).Save(filepath.Join(dir, "p.yaml"))
	if !errors.Is(err, syscall.EFBIG) {
		os.Stderr.WriteString("Save did not fail with EFBIG\n")
		os.Exit(4)
	}
	os.Exit(0)
}
