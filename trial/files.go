package trial

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/m4sc/m4sc/radio"
)

// WriteError is a file of the trial directory that could not be written: the disk is
// full, the directory is not writable, or the file system failed. The trial stops
// there; what was written before stays as it was (results.jsonl holds whole runs
// only), so once the cause is fixed Resume continues it.
type WriteError struct {
	Path string // the file (or directory) that could not be written
	Err  error
}

func (e *WriteError) Error() string {
	err := e.Err
	// The path is said once, here.
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == e.Path {
		err = pe.Err
	}
	msg := fmt.Sprintf("trial: cannot write %s: %v", e.Path, err)
	if hint := writeHint(e.Err); hint != "" {
		msg += " (" + hint + ")"
	}
	return msg
}

func (e *WriteError) Unwrap() error { return e.Err }

// writeHint says in words what an error of the file system means for a trial.
func writeHint(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "the disk is full: free some space, then resume the trial"
	case errors.Is(err, syscall.EROFS):
		return "the file system is read-only"
	case errors.Is(err, fs.ErrPermission):
		return "no permission to write there: choose another directory or change its permissions"
	}
	return ""
}

// writeErr wraps err as a *WriteError of path, unless it is one already.
func writeErr(path string, err error) error {
	var we *WriteError
	if err == nil || errors.As(err, &we) {
		return err
	}
	return &WriteError{Path: path, Err: err}
}

// hooks are seams for the tests: nil in normal use.
type hooks struct {
	// writer is put in front of every journal file (results.jsonl, timing.jsonl,
	// soak.jsonl) as it is opened, to make writes fail as a full disk would.
	writer func(path string, w io.Writer) io.Writer
	// rx wraps each receiver as it is opened, below the stall watchdog.
	rx func(radio.Device) radio.Device
	// now is a soak's clock (time.Now when nil), so a test can run a soak of a fixed
	// number of cycles however fast the machine is.
	now func() time.Time
}

// journal is a file of the trial directory that grows one record at a time
// (results.jsonl, timing.jsonl, soak.jsonl). A record reaches the disk whole
// (written and synced) or not at all: a write that fails is cut off again, so a
// reader never meets half a record left by a full disk.
type journal struct {
	path string
	f    *os.File
	w    io.Writer
	end  int64 // length of the whole records
}

// openJournal opens path for writing records from offset on (offset < 0: from the
// end of what it holds), creating it if it does not exist.
func openJournal(path string, offset int64, h hooks) (*journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, writeErr(path, err)
	}
	whence := io.SeekStart
	if offset < 0 {
		offset, whence = 0, io.SeekEnd
	}
	end, err := f.Seek(offset, whence)
	if err != nil {
		f.Close()
		return nil, writeErr(path, err)
	}
	j := &journal{path: path, f: f, w: f, end: end}
	if h.writer != nil {
		j.w = h.writer(path, f)
	}
	return j, nil
}

// append writes one record (whole lines) and syncs it.
func (j *journal) append(b []byte) error {
	if j.f == nil {
		return writeErr(j.path, os.ErrClosed)
	}
	n, err := j.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err == nil {
		err = j.f.Sync()
	}
	if err != nil {
		// Take back what part of the record got through.
		if terr := j.f.Truncate(j.end); terr == nil {
			j.f.Seek(j.end, io.SeekStart)
		}
		return writeErr(j.path, err)
	}
	j.end += int64(len(b))
	return nil
}

// close closes the file; it is safe to call more than once.
func (j *journal) close() error {
	if j == nil || j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return writeErr(j.path, err)
}
