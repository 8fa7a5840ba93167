package safetensors

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/m4sc/m4sc/internal/atomicfile"
)

// WriteFile writes f to path atomically (package internal/atomicfile): the
// bytes go to a temporary file in path's directory, which is synced and renamed
// over path, so readers see either the old file or the complete new one, never
// a torn write, and the directory is synced after the rename where the platform
// allows it. On every error the temporary file is removed and path left as it
// was; on Linux the temporary file has no name until it is complete, so a
// process killed while writing leaves nothing behind either. The file gets mode
// 0644.
func WriteFile(path string, f File) error {
	return writeFile(path, f, nil)
}

// writeFile is WriteFile; wrap, if not nil, stands between the encoder and the
// file, so that tests can fail or kill a write half-way.
func writeFile(path string, f File, wrap func(io.Writer) io.Writer) error {
	af, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	defer af.Abort() // does nothing after Commit
	var w io.Writer = af
	if wrap != nil {
		w = wrap(w)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := Write(bw, f); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	if err := af.Commit(); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// ReadFile reads the safetensors file at path with the default ReadOptions.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	f, err := Read(fh, st.Size(), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}
