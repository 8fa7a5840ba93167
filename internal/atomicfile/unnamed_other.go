//go:build !linux

package atomicfile

import (
	"errors"
	"io/fs"
	"os"
)

var errNoUnnamed = errors.New("atomicfile: no unnamed files on this platform")

func openUnnamed(dir string, perm fs.FileMode) (*os.File, error) { return nil, errNoUnnamed }

func linkUnnamed(f *os.File, path string) (string, error) { return "", errNoUnnamed }
