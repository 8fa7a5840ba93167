//go:build !unix

package atomicfile

import (
	"errors"
	"io/fs"
	"os"
)

// tryLock creates the lock file exclusively. Without flock(2) a lock file left
// by a killed process stays until it is removed by hand.
func tryLock(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, ErrLocked
	}
	return f, err
}

func unlock(f *os.File, name string) error {
	f.Close()
	return os.Remove(name)
}
