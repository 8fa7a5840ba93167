package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// A Lock is held on a path by one writer at a time.
type Lock struct {
	f    *os.File
	name string // the lock file
	path string // the path it protects
}

// LockName is the lock file that protects path: ".NAME.lock" in path's
// directory.
func LockName(path string) string {
	dir, base := filepath.Split(path)
	return filepath.Join(dir, "."+base+".lock")
}

// TryLock takes the lock on path, or fails at once with an error wrapping
// ErrLocked if another writer holds it. The file at path itself is neither
// needed nor touched. Unlock releases the lock.
func TryLock(path string) (*Lock, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	name := LockName(path)
	f, err := tryLock(name)
	if err != nil {
		return nil, fmt.Errorf("atomicfile: lock %s: %w", path, err)
	}
	return &Lock{f: f, name: name, path: path}, nil
}

// Unlock removes the lock file and releases the lock. Unlock on a released
// Lock does nothing.
func (l *Lock) Unlock() error {
	if l.f == nil {
		return nil
	}
	err := unlock(l.f, l.name)
	l.f = nil
	if err != nil {
		return fmt.Errorf("atomicfile: unlock %s: %w", l.path, err)
	}
	return nil
}
