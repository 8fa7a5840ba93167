package sigmf

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// BufferSize is the size in bytes of the buffers through which Reader and Writer
// move data. It is a multiple of every SampleBytes, so a full buffer always holds
// whole samples; it is also the most a killed writer can lose (see the package
// documentation).
const BufferSize = 256 << 10

// ReadOptions configures Open. The zero value reads a SigMF recording strictly.
type ReadOptions struct {
	// SampleRate (samples/s) and Frequency (centre, Hz) describe a raw .cs8,
	// .cf32 or .cfile file, which carries no metadata; Reader.Meta reports them.
	// Zero means unknown. They are ignored for SigMF recordings.
	SampleRate float64
	Frequency  float64

	// Raw, when set, reads the file at path as header-less samples of this
	// datatype whatever its name says: hackrf_transfer writes int8 I,Q (CI8) under
	// any name the user gives it, often .iq or .bin. There is then no metadata file.
	Raw Datatype

	// AllowTruncated reads a recording whose data file ends early (see
	// ErrTruncated) up to its last whole sample, drops the captures and
	// annotations that lie beyond it, and reports what it did through
	// Reader.Warnings. A core:sha512 mismatch is then a warning too, since a
	// truncated file cannot match.
	AllowTruncated bool

	// SkipChecksum skips the check of core:sha512, which reads the whole data
	// file once at Open.
	SkipChecksum bool

	// StreamChecksum checks core:sha512 while Read reads the samples, in order,
	// instead of at Open, so that the data file is read once rather than twice.
	// The Read that reaches the end then returns, in place of io.EOF, a
	// *FormatError wrapping ErrChecksum if the data does not match (under
	// AllowTruncated, a warning). A SeekSample away from the next sample to hash
	// gives the check up, and says so in Warnings.
	StreamChecksum bool
}

// A Reader reads the samples of one recording. It is not safe for concurrent use.
type Reader struct {
	f        *os.File
	dataPath string
	metaPath string
	meta     *Meta
	datatype Datatype
	size     int   // SampleBytes
	n        int64 // whole samples in the data file
	length   int64 // bytes in the data file, a partial sample included
	pos      int64 // next sample to read
	buf      []byte
	warnings []string

	// The checksum under ReadOptions.StreamChecksum: sum hashes the samples
	// before pos while it is not nil; sumErr is what the end of the data
	// returns in place of io.EOF.
	sum       hash.Hash
	want      string // core:sha512, lower case
	truncated bool
	sumErr    error
}

// Open opens the recording at path for reading. path may name the .sigmf-meta or
// the .sigmf-data file of a SigMF recording (or their common base name), or a raw
// .cs8 (int8 I,Q, scale 1/128) or .cf32/.cfile (float32 little-endian I,Q) file.
//
// Open validates the metadata (see ParseMeta), checks that the data file holds a
// whole number of samples and every capture and annotation lies within it, and
// verifies core:sha512 when present. Failures are a *FormatError (wrapping
// ErrTruncated or ErrChecksum where they apply), an *UnsupportedError, or an error
// from the file system (errors.Is(err, fs.ErrNotExist) for a missing file).
func Open(path string, opt ReadOptions) (*Reader, error) {
	return OpenContext(context.Background(), path, opt)
}

// OpenContext is Open that stops verifying core:sha512, which reads the whole
// data file, when ctx is cancelled, and then returns context.Cause(ctx).
func OpenContext(ctx context.Context, path string, opt ReadOptions) (*Reader, error) {
	lay, err := locate(path)
	if opt.Raw != 0 {
		if !opt.Raw.valid() {
			return nil, fmt.Errorf("sigmf: open %s: ReadOptions.Raw %v, want one of %s", path, opt.Raw, supportedList)
		}
		lay, err = layout{raw: true, dataPath: path, datatype: opt.Raw}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := notDirectory("open", path); err != nil {
		return nil, err
	}
	var m *Meta
	if lay.raw {
		if !(opt.SampleRate >= 0) || math.IsInf(opt.SampleRate, 0) {
			return nil, fmt.Errorf("sigmf: open %s: ReadOptions.SampleRate %v, want >= 0 samples/s", path, opt.SampleRate)
		}
		if !finite(opt.Frequency) {
			return nil, fmt.Errorf("sigmf: open %s: ReadOptions.Frequency %v, want a finite frequency in Hz", path, opt.Frequency)
		}
		m = &Meta{
			Global:   Global{Datatype: lay.datatype, Version: SpecVersion, SampleRate: opt.SampleRate},
			Captures: []Capture{{SampleStart: 0, Frequency: opt.Frequency}},
		}
	} else {
		if m, err = readMeta(lay.metaPath); err != nil {
			return nil, err
		}
	}

	f, err := openRegular(lay.dataPath)
	if err != nil {
		var fe *FormatError
		switch {
		case errors.As(err, &fe):
			return nil, err
		case !lay.raw:
			return nil, fmt.Errorf("sigmf: data file of %s: %w", lay.metaPath, err)
		}
		return nil, fmt.Errorf("sigmf: %w", err)
	}
	r := &Reader{f: f, dataPath: lay.dataPath, metaPath: lay.metaPath, meta: m, datatype: m.Global.Datatype, size: m.Global.Datatype.SampleBytes()}
	if err := r.check(ctx, lay, opt); err != nil {
		f.Close()
		return nil, err
	}
	r.buf = make([]byte, min(int64(BufferSize), max(r.n*int64(r.size), int64(r.size))))
	return r, nil
}

// openRegular opens a regular file for reading. It looks before it opens: opening
// a FIFO would block, and a device could be read without end.
func openRegular(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &FormatError{File: path, Msg: "not a regular file"}
	}
	return os.Open(path)
}

func readMeta(path string) (*Meta, error) {
	f, err := openRegular(path)
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, fmt.Errorf("sigmf: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxMetaSize+1))
	if err != nil {
		return nil, fmt.Errorf("sigmf: read %s: %w", path, err)
	}
	if len(b) > MaxMetaSize {
		return nil, &FormatError{File: path, Msg: fmt.Sprintf("larger than MaxMetaSize (%d bytes)", MaxMetaSize)}
	}
	m, err := parseMeta(b)
	if err != nil {
		return nil, withFile(err, path)
	}
	return m, nil
}

// check sets r.n and validates the metadata against the data file.
func (r *Reader) check(ctx context.Context, lay layout, opt ReadOptions) error {
	st, err := r.f.Stat()
	if err != nil {
		return fmt.Errorf("sigmf: %w", err)
	}
	length := st.Size()
	r.length = length
	size := int64(r.size)
	r.n = length / size
	truncated := false
	if extra := length % size; extra != 0 {
		if !opt.AllowTruncated {
			return &FormatError{File: r.dataPath, Err: ErrTruncated, Msg: fmt.Sprintf(
				"truncated recording: %d bytes is not a whole number of %d-byte %v samples, %s extra; reading up to the last whole sample (%d samples) is possible: add ,truncated=allow to the device string (ReadOptions.AllowTruncated in Go)",
				length, size, r.datatype, plural(extra, "byte"), r.n)}
		}
		truncated = true
		r.warnf("%s: ignored the last %s, a partial %v sample", r.dataPath, plural(extra, "byte"), r.datatype)
	}
	if lay.raw {
		return nil
	}

	// Segments must lie within the data. The specification asks applications
	// to ignore captures that refer to samples that do not exist (section SigMF
	// Application Compliance); this package refuses them by default because
	// they mostly betray a data file cut short, and drops them, with a warning,
	// under AllowTruncated.
	caps := r.meta.Captures[:0]
	for i, c := range r.meta.Captures {
		if c.SampleStart > r.n {
			msg := fmt.Sprintf("%d is beyond the end of the data file (%d samples)", c.SampleStart, r.n)
			if !opt.AllowTruncated {
				return &FormatError{File: lay.metaPath, Field: fmt.Sprintf("captures[%d] core:sample_start", i), Msg: msg, Err: ErrTruncated}
			}
			truncated = true
			r.warnf("%s: dropped captures[%d]: core:sample_start %s", lay.metaPath, i, msg)
			continue
		}
		caps = append(caps, c)
	}
	r.meta.Captures = slices.Clip(caps)
	if len(caps) == 0 {
		r.meta.Captures = nil // as ParseMeta leaves an empty array
	}
	anns := r.meta.Annotations[:0]
	for i, a := range r.meta.Annotations {
		var key, msg string
		switch {
		case a.SampleStart > r.n:
			key = "core:sample_start"
			msg = fmt.Sprintf("%d is beyond the end of the data file (%d samples)", a.SampleStart, r.n)
		case a.SampleCount > r.n-a.SampleStart: // written so it cannot overflow
			key = "core:sample_count"
			msg = fmt.Sprintf("%d samples from %d reach past the end of the data file (%d samples)", a.SampleCount, a.SampleStart, r.n)
		}
		if key != "" {
			ctx := fmt.Sprintf("annotations[%d]", i)
			if !opt.AllowTruncated {
				return &FormatError{File: lay.metaPath, Field: field(ctx, key), Msg: msg, Err: ErrTruncated}
			}
			truncated = true
			r.warnf("%s: dropped %s: %s %s", lay.metaPath, ctx, key, msg)
			continue
		}
		anns = append(anns, a)
	}
	r.meta.Annotations = slices.Clip(anns)
	if len(anns) == 0 {
		r.meta.Annotations = nil
	}

	want := strings.ToLower(r.meta.Global.SHA512)
	switch {
	case want == "" || opt.SkipChecksum:
	case opt.StreamChecksum:
		r.sum, r.want, r.truncated = sha512.New(), want, truncated
	default:
		h := sha512.New()
		if err := r.hashRange(ctx, h, 0, length); err != nil {
			return err
		}
		if err := r.compareSum(h, want, truncated); err != nil {
			return err
		}
	}
	return nil
}

// hashRange feeds bytes [from, to) of the data file to h, a buffer at a time,
// and stops early when ctx is cancelled.
func (r *Reader) hashRange(ctx context.Context, h hash.Hash, from, to int64) error {
	buf := make([]byte, min(BufferSize, max(to-from, 0)))
	for off := from; off < to; {
		if err := context.Cause(ctx); err != nil {
			return fmt.Errorf("sigmf: verifying core:sha512 of %s: %w", r.dataPath, err)
		}
		b := buf[:min(int64(len(buf)), to-off)]
		if _, err := r.f.ReadAt(b, off); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF // the file shrank after Open
			}
			return fmt.Errorf("sigmf: read %s: %w", r.dataPath, err)
		}
		h.Write(b)
		off += int64(len(b))
	}
	return nil
}

// compareSum checks the hash of the whole data file against core:sha512: a
// mismatch is an error, or a warning when the data is known to be truncated.
func (r *Reader) compareSum(h hash.Hash, want string, truncated bool) error {
	got := hex.EncodeToString(h.Sum(nil))
	if got == want {
		return nil
	}
	msg := fmt.Sprintf("the data file hashes to %s...; the metadata records %s...", got[:16], want[:min(16, len(want))])
	if !truncated {
		return &FormatError{File: r.metaPath, Field: "global core:sha512", Msg: msg, Err: ErrChecksum}
	}
	r.warnf("%s: global core:sha512 does not match the truncated data: %s", r.metaPath, msg)
	return nil
}

// endSum completes a streamed checksum once every sample has been read: it
// hashes the partial sample after them, if any, and compares.
func (r *Reader) endSum() {
	h := r.sum
	r.sum = nil
	if err := r.hashRange(context.Background(), h, r.n*int64(r.size), r.length); err != nil {
		r.sumErr = err
		return
	}
	r.sumErr = r.compareSum(h, r.want, r.truncated)
}

func (r *Reader) warnf(format string, args ...any) {
	r.warnings = append(r.warnings, fmt.Sprintf(format, args...))
}

// Read reads up to len(dst) samples into dst at full scale 1.0 (see the package
// documentation) and returns how many it read. It returns io.EOF, and 0, once all
// samples have been read. Read does not allocate.
func (r *Reader) Read(dst []complex64) (int, error) {
	if r.f == nil {
		return 0, fmt.Errorf("sigmf: read %s: %w", r.dataPath, os.ErrClosed)
	}
	if r.pos >= r.n {
		if r.sum != nil {
			r.endSum()
		}
		if len(dst) == 0 {
			return 0, nil
		}
		if r.sumErr != nil {
			return 0, r.sumErr
		}
		return 0, io.EOF
	}
	total := 0
	for total < len(dst) && r.pos < r.n {
		k := min(int64(len(dst)-total), int64(len(r.buf)/r.size), r.n-r.pos)
		b := r.buf[:k*int64(r.size)]
		if _, err := io.ReadFull(r.f, b); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF // the file shrank after Open
			}
			return total, fmt.Errorf("sigmf: read %s: %w", r.dataPath, err)
		}
		if r.sum != nil {
			r.sum.Write(b)
		}
		decode(r.datatype, dst[total:total+int(k)], b)
		total += int(k)
		r.pos += k
	}
	return total, nil
}

// SeekSample sets the sample that the next Read returns, from 0 to Len. (It is not
// io.Seeker: positions count samples, not bytes.)
func (r *Reader) SeekSample(sample int64) error {
	if r.f == nil {
		return fmt.Errorf("sigmf: seek %s: %w", r.dataPath, os.ErrClosed)
	}
	if sample < 0 || sample > r.n {
		return fmt.Errorf("sigmf: seek %s: sample %d outside 0..%d", r.dataPath, sample, r.n)
	}
	if _, err := r.f.Seek(sample*int64(r.size), io.SeekStart); err != nil {
		return fmt.Errorf("sigmf: seek %s: %w", r.dataPath, err)
	}
	if r.sum != nil && sample != r.pos {
		r.sum = nil
		r.warnf("%s: global core:sha512 not checked: the samples were not read in order", r.metaPath)
	}
	r.pos = sample
	return nil
}

// Len returns the number of samples in the recording.
func (r *Reader) Len() int64 { return r.n }

// Meta returns the recording's metadata; for a raw file, what ReadOptions gave.
// With AllowTruncated, segments beyond the data are already dropped. The Reader
// does not use it after Open, so the caller may modify it, for instance to write
// a new recording.
func (r *Reader) Meta() *Meta { return r.meta }

// Warnings returns what Open tolerated under ReadOptions.AllowTruncated, one
// sentence each, or nil.
func (r *Reader) Warnings() []string { return r.warnings }

// Close closes the data file.
func (r *Reader) Close() error {
	if r.f == nil {
		return fmt.Errorf("sigmf: close %s: %w", r.dataPath, os.ErrClosed)
	}
	err := r.f.Close()
	r.f = nil
	if err != nil {
		return fmt.Errorf("sigmf: close %s: %w", r.dataPath, err)
	}
	return nil
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
