package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrLocked means another process (or another Lock in this one) holds the lock
// on the path.
var ErrLocked = errors.New("atomicfile: locked by another writer")

// File is the new content of one file, invisible under the file's name until
// Commit. Exactly one of Commit and Abort must be called; Abort after Commit
// does nothing, so `defer f.Abort()` is the usual guard.
type File struct {
	f     *os.File
	path  string // the target
	named string // the temporary file's name, "" while it is unnamed
	done  bool
}

// Create starts the new content of path, with permissions perm (exactly: the
// umask does not apply, so that a replacement can keep the mode of the file it
// replaces), in a temporary file in path's directory. The file at path, if any, is
// not touched until Commit. path must not name a directory or end in a path
// separator.
func Create(path string, perm fs.FileMode) (*File, error) {
	return create(path, perm, true)
}

// create is Create; unnamed false skips the unnamed file, so that tests reach
// the named one on Linux too.
func create(path string, perm fs.FileMode, unnamed bool) (*File, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	var af *File
	if unnamed {
		if f, err := openUnnamed(dir, perm); err == nil {
			af = &File{f: f, path: path}
		}
	}
	if af == nil {
		f, err := os.CreateTemp(dir, "."+base+".tmp*")
		if err != nil {
			return nil, fmt.Errorf("atomicfile: create %s: %w", path, err)
		}
		af = &File{f: f, path: path, named: f.Name()}
	}
	// CreateTemp makes the file private (0600) and open(2) applies the umask.
	if err := af.f.Chmod(perm); err != nil {
		af.Abort()
		return nil, fmt.Errorf("atomicfile: create %s: %w", path, err)
	}
	return af, nil
}

// checkPath rejects paths that cannot name a file to replace.
func checkPath(path string) error {
	if path == "" {
		return errors.New("atomicfile: empty path")
	}
	if strings.HasSuffix(path, string(filepath.Separator)) || strings.HasSuffix(path, "/") {
		return &fs.PathError{Op: "create", Path: path, Err: errIsDir}
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return &fs.PathError{Op: "create", Path: path, Err: errIsDir}
	}
	return nil
}

var errIsDir = errors.New("is a directory")

// Path returns the file's final name.
func (f *File) Path() string { return f.path }

// Write appends b to the new content.
func (f *File) Write(b []byte) (int, error) {
	if f.done {
		return 0, fmt.Errorf("atomicfile: write %s: %w", f.path, os.ErrClosed)
	}
	return f.f.Write(b)
}

// Commit syncs the content to stable storage, closes the temporary file and
// renames it over the target, then syncs the directory so that the rename
// survives a crash. On failure the temporary file is removed and the target
// left as it was.
func (f *File) Commit() (err error) {
	if f.done {
		return fmt.Errorf("atomicfile: commit %s: %w", f.path, os.ErrClosed)
	}
	defer func() {
		if err != nil {
			f.Abort()
			err = fmt.Errorf("atomicfile: commit %s: %w", f.path, err)
		}
	}()
	if err := f.f.Sync(); err != nil {
		return err
	}
	if f.named == "" {
		// An unnamed file gets a name only now, so that a crash before
		// this point leaves nothing behind.
		name, err := linkUnnamed(f.f, f.path)
		if err != nil {
			return err
		}
		f.named = name
	}
	if err := f.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.named, f.path); err != nil {
		return err
	}
	f.done = true
	syncDir(filepath.Dir(f.path))
	return nil
}

// Abort discards the content: it closes and removes the temporary file. The
// target is not touched. Abort after Commit or Abort does nothing.
func (f *File) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	f.f.Close()
	if f.named != "" {
		if err := os.Remove(f.named); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("atomicfile: abort %s: %w", f.path, err)
		}
	}
	return nil
}

// WriteFile replaces path with data, as os.WriteFile would but so that a
// reader, or the file system after a crash, sees the old content or the new,
// never a part of either.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	return f.Commit()
}

// syncDir makes a rename in dir durable where the platform allows it. Failure
// is ignored: some systems cannot sync a directory, and the rename itself has
// already succeeded.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// Unnamed reports whether a File created in dir is unnamed until Commit, so
// that a process killed while writing it leaves nothing in dir: true on Linux
// on file systems with O_TMPFILE, false where Create falls back to a hidden
// named file.
func Unnamed(dir string) bool {
	f, err := openUnnamed(dir, 0o600)
	if err != nil {
		return false
	}
	f.Close()
	return true
}
