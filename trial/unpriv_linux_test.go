package trial

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nobody is the user and group a root test process drops to.
const nobody = 65534

// runUnprivileged runs the calling test again in a child process as user nobody, for
// a test that needs file permissions to hold and a process that they do not stop
// (root). It reports whether it did; false (not root, already the child, or the
// switch of user refused) leaves the test to skip.
func runUnprivileged(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 || os.Getenv("M4SC_TEST_UNPRIVILEGED") != "" {
		return false
	}
	exe, err := os.Executable()
	if err != nil {
		return false
	}
	dir, err := os.MkdirTemp("", "m4sc-unprivileged-")
	if err != nil {
		return false
	}
	defer os.RemoveAll(dir)
	if os.Chown(dir, nobody, nobody) != nil || os.Chmod(dir, 0o755) != nil {
		return false
	}
	bin := filepath.Join(dir, "trial.test")
	if err := copyFile(bin, exe); err != nil {
		t.Logf("copying the test binary: %v", err)
		return false
	}
	cmd := exec.Command(bin, "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "M4SC_TEST_UNPRIVILEGED=1", "TMPDIR="+dir, "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		t.Fatalf("as user nobody: %v\n%s", err, out)
	case err != nil:
		t.Logf("cannot run as user nobody: %v", err)
		return false
	case !strings.Contains(string(out), "--- PASS: "+t.Name()):
		t.Fatalf("as user nobody, the test did not pass:\n%s", out)
	}
	t.Logf("run again as user nobody, where chmod holds: passed")
	return true
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
