package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/internal/atomicfile"
	"github.com/m4sc/m4sc/radio/sigmf"
)

// Every verb that writes a file refuses to replace one that exists unless it
// is given --force, and writes under a lock, so that two runs writing the same
// output cannot both succeed. Files appear whole or not at all (package
// atomicfile; sigmf.Create for recordings).

// addForceFlag defines --force on cmd.
func addForceFlag(cmd *cobra.Command, force *bool) {
	cmd.Flags().BoolVar(force, "force", false, "replace the output file if it exists")
}

// checkOutput fails early, before any long work, when path cannot be written
// as an output: a directory, a path ending in a separator, or (unless force) a
// file that exists. For a SigMF recording either of its two files counts.
// flag names the flag that gave path, for the message.
func checkOutput(flag, path string, force bool) error {
	if path == "" {
		return usageErrorf("%s: a file to write is required", flag)
	}
	if strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(filepath.Separator)) {
		return usageErrorf("%s %s: names a directory; name a file to write", flag, path)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usageErrorf("%s %s: is a directory; name a file to write", flag, path)
	}
	if force {
		return nil
	}
	for _, p := range recordingFiles(path) {
		if _, err := os.Lstat(p); err == nil {
			return existsError(flag, p)
		}
	}
	return nil
}

// recordingFiles lists the files that writing path creates: the pair of a
// SigMF recording, or path itself.
func recordingFiles(path string) []string {
	ext := filepath.Ext(path)
	switch ext {
	case sigmf.ExtMeta, sigmf.ExtData:
		base := strings.TrimSuffix(path, ext)
		return []string{base + sigmf.ExtMeta, base + sigmf.ExtData}
	}
	return []string{path}
}

func existsError(flag, path string) error {
	return fmt.Errorf("%s: %s exists; add --force to replace it", flag, path)
}

// outputError explains in the command line's terms why an output could not be
// created: it exists (sigmf.Create with Exclusive, writeOutput), or another
// process is writing it.
func outputError(flag, path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s: %s exists; add --force to replace it", flag, path)
	case errors.Is(err, sigmf.ErrBusy), errors.Is(err, atomicfile.ErrLocked):
		return &restatedError{fmt.Sprintf("%s: %s is being written by another process", flag, path), err}
	}
	return err
}

// restatedError says what err says in the command line's terms; errors.Is and
// errors.As still see err.
type restatedError struct {
	msg string
	err error
}

func (e *restatedError) Error() string { return e.msg }
func (e *restatedError) Unwrap() error { return e.err }

// writeOutput writes a file through write, under the output's lock, replacing
// an existing one only with force. The file appears only once write has
// succeeded.
func writeOutput(flag, path string, force bool, write func(io.Writer) error) error {
	if err := checkOutput(flag, path, true); err != nil {
		return err
	}
	lock, err := atomicfile.TryLock(path)
	if err != nil {
		return outputError(flag, path, err)
	}
	defer lock.Unlock()
	if _, err := os.Lstat(path); err == nil && !force {
		return existsError(flag, path)
	}
	f, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}
