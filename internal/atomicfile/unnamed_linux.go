package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// openUnnamed opens an unnamed regular file in dir (open(2), O_TMPFILE). It
// fails where the file system does not support it, or where /proc, which
// linkUnnamed needs, is not mounted.
func openUnnamed(dir string, perm fs.FileMode) (*os.File, error) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return nil, err
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), filepath.Join(dir, "(unnamed)")), nil
}

// linkUnnamed gives the unnamed file f a hidden name beside path and returns
// it. linkat(2) cannot replace a file, so the name is a fresh one, renamed
// over path by the caller.
func linkUnnamed(f *os.File, path string) (string, error) {
	dir, base := filepath.Split(path)
	src := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	for range 100 {
		name := filepath.Join(dir, fmt.Sprintf(".%s.tmp%d", base, rand.Uint32()))
		err := unix.Linkat(unix.AT_FDCWD, src, unix.AT_FDCWD, name, unix.AT_SYMLINK_FOLLOW)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, unix.EEXIST) {
			return "", &fs.PathError{Op: "link", Path: name, Err: err}
		}
	}
	return "", fmt.Errorf("no free temporary name beside %s", path)
}
