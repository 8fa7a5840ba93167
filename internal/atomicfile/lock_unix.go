//go:build unix

package atomicfile

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// tryLock takes an exclusive flock(2) on the lock file name without waiting.
// The lock file may be unlinked by the holder's Unlock between our open and
// our flock, so after locking it checks that the name still leads to the file
// it locked, and starts again otherwise.
func tryLock(name string) (*os.File, error) {
	for range 100 {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, ErrLocked
			}
			return nil, err
		}
		held, err1 := f.Stat()
		named, err2 := os.Stat(name)
		if err1 == nil && err2 == nil && os.SameFile(held, named) {
			return f, nil
		}
		f.Close() // a file the previous holder has already unlinked
	}
	return nil, fmt.Errorf("lock file %s keeps changing", name)
}

// unlock removes the lock file while still holding the lock, so that a waiting
// tryLock sees it gone, then releases it.
func unlock(f *os.File, name string) error {
	err := os.Remove(name)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
