package sigmf

import (
	"errors"
	"path/filepath"
	"strings"
)

// File name extensions. The SigMF pair is fixed by the specification (section
// SigMF File Types); the raw ones follow hackrf_transfer and GNU Radio usage.
const (
	ExtMeta  = ".sigmf-meta" // SigMF metadata (JSON)
	ExtData  = ".sigmf-data" // SigMF dataset (samples)
	extCS8   = ".cs8"        // hackrf_transfer: int8 I,Q
	extCF32  = ".cf32"       // GNU Radio file sink, gr_complex
	extCFile = ".cfile"      // older GNU Radio name for the same
	extArch  = ".sigmf"      // SigMF archive (tar), not supported
)

// layout says where a recording's files are and how its data is encoded.
type layout struct {
	raw      bool   // no metadata file
	metaPath string // "" when raw
	dataPath string
	datatype Datatype // fixed by the extension for raw files
}

// locate maps a path to a recording's files. A .sigmf-meta or .sigmf-data path
// names the pair; .cs8, .cf32 and .cfile name raw files; any other path is taken
// as the base name of a SigMF pair, so Create("run1") makes run1.sigmf-meta and
// run1.sigmf-data.
func locate(path string) (layout, error) {
	if path == "" {
		return layout{}, errors.New("sigmf: empty path")
	}
	if strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(filepath.Separator)) {
		return layout{}, &FormatError{File: path, Msg: "ends in a path separator, so names a directory; name a recording file (such as " + path + "capture" + ExtMeta + ")"}
	}
	ext := filepath.Ext(path)
	base := path[:len(path)-len(ext)]
	// The SigMF extensions are lower case by specification; raw files come
	// from many tools, so their extensions match in any case.
	switch ext {
	case ExtMeta, ExtData:
		return layout{metaPath: base + ExtMeta, dataPath: base + ExtData}, nil
	case extArch:
		return layout{}, &UnsupportedError{File: path, Msg: "SigMF archives are not supported; extract the .sigmf-meta and .sigmf-data files from the tar archive"}
	}
	switch strings.ToLower(ext) {
	case extCS8:
		return layout{raw: true, dataPath: path, datatype: CI8}, nil
	case extCF32, extCFile:
		return layout{raw: true, dataPath: path, datatype: CF32LE}, nil
	}
	return layout{metaPath: path + ExtMeta, dataPath: path + ExtData}, nil
}

// RawDatatype reports whether path names a raw file (.cs8, .cf32, .cfile), which
// has no metadata and so no annotations or captures, and the datatype its
// extension fixes.
func RawDatatype(path string) (Datatype, bool) {
	lay, err := locate(path)
	if err != nil || !lay.raw {
		return 0, false
	}
	return lay.datatype, true
}

// Files returns the files of the recording that path names, as Open and Create
// take it: the .sigmf-meta and .sigmf-data pair of a SigMF recording (named by
// either file or by their common base name), or, for a raw .cs8, .cf32 or
// .cfile file, that file as data and "" as meta. Callers use it to ask whether
// a recording exists before writing one.
func Files(path string) (meta, data string, err error) {
	lay, err := locate(path)
	if err != nil {
		return "", "", err
	}
	return lay.metaPath, lay.dataPath, nil
}
