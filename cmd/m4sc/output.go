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
// file that exists. For a SigMF recording either of its two files counts, and
// a bare base name X (no extension) may name one (X.sigmf-meta and
// X.sigmf-data, as sigmf.Create takes it): since checkOutput does not know
// whether the verb writes a recording, X and both files of the pair count.
// flag names the flag that gave path, for the message.
func checkOutput(flag, path string, force bool) error {
	if err := checkWritable(flag, path); err != nil || force {
		return err
	}
	return checkAbsent(flag, outputFiles(path))
}

// checkRecordingOutput is checkOutput for a verb that writes a recording with
// sigmf.Create: the files that count are those sigmf.Create writes for path
// (sigmf.Files), which for a path with another extension (run.v2) are
// run.v2.sigmf-meta and run.v2.sigmf-data.
func checkRecordingOutput(flag, path string, force bool) error {
	if err := checkWritable(flag, path); err != nil {
		return err
	}
	meta, data, err := sigmf.Files(path)
	if err != nil {
		return usageErrorf("%s %s: %v", flag, path, err)
	}
	if force {
		return nil
	}
	return checkAbsent(flag, []string{meta, data})
}

// checkWritable fails when path names no file that could be written.
func checkWritable(flag, path string) error {
	if path == "" {
		return usageErrorf("%s: a file to write is required", flag)
	}
	if strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(filepath.Separator)) {
		return usageErrorf("%s %s: names a directory; name a file to write", flag, path)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usageErrorf("%s %s: is a directory; name a file to write", flag, path)
	}
	return nil
}

// checkAbsent fails, naming the first, when any of files ("" skipped) exists.
func checkAbsent(flag string, files []string) error {
	for _, p := range files {
		if _, err := os.Lstat(p); p != "" && err == nil {
			return existsError(flag, p)
		}
	}
	return nil
}

// outputFiles lists the files that writing path may create: the pair of a
// SigMF recording named by either file; path and the pair for a bare base
// name; otherwise path itself.
func outputFiles(path string) []string {
	ext := filepath.Ext(path)
	switch ext {
	case sigmf.ExtMeta, sigmf.ExtData:
		base := strings.TrimSuffix(path, ext)
		return []string{base + sigmf.ExtMeta, base + sigmf.ExtData}
	case "":
		return []string{path, path + sigmf.ExtMeta, path + sigmf.ExtData}
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
