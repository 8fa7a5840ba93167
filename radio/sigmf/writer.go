package sigmf

import (
	"cmp"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/m4sc/m4sc/internal/atomicfile"
)

// WriteOptions configures Create. Only Datatype applies to raw files; the other
// fields go to the SigMF metadata.
type WriteOptions struct {
	// Datatype is the on-disk sample encoding; zero means DefaultDatatype. A
	// raw file's extension fixes it (.cs8: CI8; .cf32, .cfile: CF32LE), and a
	// different non-zero Datatype is an error.
	Datatype Datatype

	SampleRate float64   // core:sample_rate, samples/s; 0 = not recorded
	Frequency  float64   // core:frequency of the first capture, centre in Hz; 0 = not recorded
	Datetime   time.Time // core:datetime of sample 0; zero = not recorded

	Description string // core:description
	Author      string // core:author
	Recorder    string // core:recorder, e.g. "m4sc v0.3"
	HW          string // core:hw, e.g. "HackRF One, ANT500"

	// Extra holds further global keys, such as an application's namespace
	// ("m4sc:share"); it must not repeat the keys Global models.
	Extra map[string]any

	// Exclusive makes Create fail, with an error wrapping fs.ErrExist, when the
	// recording exists (for SigMF, either of its two files), as O_EXCL does
	// for one file. Without it the recording is replaced at Close.
	Exclusive bool
}

// ErrBusy means another Writer, in this process or another, is writing the same
// recording. Create returns it wrapped.
var ErrBusy = errors.New("sigmf: the recording is being written by another writer")

// A Writer writes one recording. Like bufio.Writer it keeps the first error it
// meets, after which Write, Flush, Annotate and AddCapture return that error. One
// of Close, which saves what can be saved, and Abort, which saves nothing, must
// be called (see the package documentation). A Writer is not safe for
// concurrent use.
type Writer struct {
	lay  layout
	lock *atomicfile.Lock
	data *atomicfile.File // the new data file, under a temporary name until Close
	out  io.Writer        // data; tests put a failing writer in between
	size int              // SampleBytes
	buf  []byte
	nbuf int // bytes waiting in buf
	hash hash.Hash
	meta Meta // the captures and annotations given so far

	samples int64 // accepted by Write
	flushed int64 // whole samples handed to out
	clipped int64
	err     error
	closed  bool
}

// Create starts the recording at path and returns a Writer for it. path names
// the .sigmf-meta or .sigmf-data file of a SigMF recording (or their common base
// name), or a raw .cs8, .cf32 or .cfile file, as for Open; it must not name a
// directory.
//
// Nothing appears under the recording's names until Close: the samples go to a
// temporary file in the same directory, and Close renames it into place and then
// writes the metadata (see the package documentation). A recording already there
// stays readable, and unchanged, until then; with WriteOptions.Exclusive, Create
// refuses it. From Create to Close or Abort the Writer holds a lock on the
// recording, and a second Create of the same recording fails with ErrBusy.
func Create(path string, opt WriteOptions) (*Writer, error) {
	lay, err := locate(path)
	if err != nil {
		return nil, err
	}
	if err := notDirectory("create", path); err != nil {
		return nil, err
	}
	dt := opt.Datatype
	switch {
	case lay.raw && dt != 0 && dt != lay.datatype:
		return nil, fmt.Errorf("sigmf: create %s: WriteOptions.Datatype %v does not match the extension, which means %v", path, dt, lay.datatype)
	case lay.raw:
		dt = lay.datatype
	case dt == 0:
		dt = DefaultDatatype
	}
	w := &Writer{
		lay:  lay,
		size: dt.SampleBytes(),
		hash: sha512.New(),
		meta: Meta{
			Global: Global{
				Datatype:    dt,
				Version:     SpecVersion,
				SampleRate:  opt.SampleRate,
				Description: opt.Description,
				Author:      opt.Author,
				Recorder:    opt.Recorder,
				HW:          opt.HW,
				Extra:       maps.Clone(opt.Extra),
			},
			Captures: []Capture{{SampleStart: 0, Frequency: opt.Frequency, Datetime: opt.Datetime}},
		},
	}
	if err := w.meta.validate(); err != nil {
		return nil, fmt.Errorf("sigmf: create %s: invalid WriteOptions: %w", path, err)
	}
	if err := marshalable(opt.Extra); err != nil {
		return nil, fmt.Errorf("sigmf: create %s: WriteOptions.Extra: %w", path, err)
	}
	// One lock per recording: the data file's name stands for the pair.
	if w.lock, err = atomicfile.TryLock(lay.dataPath); err != nil {
		if errors.Is(err, atomicfile.ErrLocked) {
			return nil, fmt.Errorf("sigmf: create %s: %w", path, ErrBusy)
		}
		return nil, fmt.Errorf("sigmf: create %s: %w", path, err)
	}
	if opt.Exclusive {
		for _, p := range []string{lay.metaPath, lay.dataPath} {
			if _, err := os.Lstat(p); p != "" && err == nil {
				w.lock.Unlock()
				return nil, fmt.Errorf("sigmf: create %s: %w", p, fs.ErrExist)
			}
		}
	}
	if w.data, err = atomicfile.Create(lay.dataPath, 0o644); err != nil {
		w.lock.Unlock()
		return nil, fmt.Errorf("sigmf: %w", err)
	}
	w.out = w.data
	w.buf = make([]byte, BufferSize)
	return w, nil
}

// notDirectory fails when path is a directory: a recording's base name that is a
// directory is almost certainly a mistake (an --out of "dir/" or ".").
func notDirectory(op, path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return &FormatError{File: path, Msg: fmt.Sprintf("is a directory; %s a recording by naming its file (such as %s)", op, "capture"+ExtMeta)}
	}
	return nil
}

// Write encodes the samples of src, at full scale 1.0, into the recording. For ci8
// and ci16_le each component is rounded to the nearest step (ties to even) and
// clipped to the integer range; Clipped counts the samples so affected. Samples
// reach the file BufferSize bytes at a time, or on Flush and Close. The count
// returned is of samples taken from src; when the error is a failed write, the
// last buffer of them did not reach the file. Write does not allocate.
func (w *Writer) Write(src []complex64) (int, error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	n := 0
	for n < len(src) {
		k := min(len(src)-n, (len(w.buf)-w.nbuf)/w.size)
		w.clipped += int64(encode(w.meta.Global.Datatype, w.buf[w.nbuf:w.nbuf+k*w.size], src[n:n+k]))
		w.nbuf += k * w.size
		w.samples += int64(k)
		n += k
		// Hand each full buffer to the OS at once: what the OS holds
		// survives the death of this process.
		if w.nbuf == len(w.buf) {
			if err := w.flushData(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("sigmf: write %s: %w", w.lay.dataPath, os.ErrClosed)
	}
	return nil
}

func (w *Writer) flushData() error {
	if w.err != nil {
		return w.err
	}
	if w.nbuf == 0 {
		return nil
	}
	n, err := w.out.Write(w.buf[:w.nbuf])
	if err == nil && n < w.nbuf {
		err = io.ErrShortWrite
	}
	n = max(0, min(n, w.nbuf)) // a misbehaving io.Writer must not make us panic
	w.hash.Write(w.buf[:n])
	w.flushed += int64(n / w.size)
	if err != nil {
		w.err = fmt.Errorf("sigmf: write %s: %w", w.lay.dataPath, err)
		return w.err
	}
	w.nbuf = 0
	return nil
}

// Annotate adds an annotation to the metadata. It may refer to samples not yet
// written; Flush records only annotations that lie within the samples written so
// far, and Close drops, and reports, those that never came to lie within them.
// Annotations are stored sorted by SampleStart. Raw files cannot carry annotations.
func (w *Writer) Annotate(a Annotation) error {
	if err := w.usable(); err != nil {
		return err
	}
	if w.lay.raw {
		return &UnsupportedError{File: w.lay.dataPath, Msg: "raw files carry no annotations; write a SigMF recording"}
	}
	if err := a.validate("annotation"); err != nil {
		return err
	}
	if err := marshalable(a.Extra); err != nil {
		return fmt.Errorf("sigmf: annotation Extra: %w", err)
	}
	a.Extra = maps.Clone(a.Extra) // the caller may reuse its map
	w.meta.Annotations = append(w.meta.Annotations, a)
	return nil
}

// AddCapture starts a new capture segment, for instance after retuning:
// AddCapture(Capture{SampleStart: w.Samples(), Frequency: f}). SampleStart must
// be greater than that of the previous capture; Create made the first, at 0, from
// WriteOptions. Raw files cannot carry captures.
func (w *Writer) AddCapture(c Capture) error {
	if err := w.usable(); err != nil {
		return err
	}
	if w.lay.raw {
		return &UnsupportedError{File: w.lay.dataPath, Msg: "raw files carry no capture segments; write a SigMF recording"}
	}
	if err := c.validate("capture"); err != nil {
		return err
	}
	if last := w.meta.Captures[len(w.meta.Captures)-1].SampleStart; c.SampleStart <= last {
		return &FormatError{Field: "capture core:sample_start", Msg: fmt.Sprintf("%d, want more than the previous capture's %d", c.SampleStart, last)}
	}
	if err := marshalable(c.Extra); err != nil {
		return fmt.Errorf("sigmf: capture Extra: %w", err)
	}
	c.Extra = maps.Clone(c.Extra)
	w.meta.Captures = append(w.meta.Captures, c)
	return nil
}

// marshalable finds, when they are given, the Extra values that would make the
// metadata impossible to encode at Close.
func marshalable(extra map[string]any) error {
	for k, v := range extra {
		if _, err := json.Marshal(v); err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
	}
	return nil
}

// Samples returns the number of samples accepted by Write. After an error fewer
// may have reached the file.
func (w *Writer) Samples() int64 { return w.samples }

// Clipped returns the number of samples written so far whose I or Q was clipped
// at full scale (or was NaN). It is always 0 for cf32_le.
func (w *Writer) Clipped() int64 { return w.clipped }

// Flush hands the buffered samples to the operating system. They stay in the
// temporary data file until Close.
func (w *Writer) Flush() error {
	if err := w.usable(); err != nil {
		return err
	}
	return w.flushData()
}

// Close completes the recording: it flushes the samples, syncs the data file to
// stable storage, renames it into place and then writes the .sigmf-meta, the same
// way, with every capture and annotation and with core:sha512; then it releases
// the lock. It does all of this even after a failed Write, so a failed recording
// keeps what reached the file, and its metadata then has no core:sha512, since
// the data's content is uncertain (call Abort instead to keep the old recording).
// Close returns the first error the Writer met, or reports annotations and
// captures that lay beyond the written samples and were dropped.
func (w *Writer) Close() error {
	if w.closed {
		return fmt.Errorf("sigmf: close %s: %w", w.lay.dataPath, os.ErrClosed)
	}
	w.closed = true
	defer w.lock.Unlock()
	w.flushData() // a failure is kept in w.err
	w.buf = nil
	if err := w.data.Commit(); err != nil {
		// Nothing was renamed: the old recording, if any, is intact.
		if w.err == nil {
			w.err = fmt.Errorf("sigmf: %w", err)
		}
		return w.err
	}
	if w.lay.raw {
		return w.err
	}
	dropped := len(w.meta.Captures) + len(w.meta.Annotations)
	if err := w.writeMeta(); err != nil && w.err == nil {
		w.err = err
	}
	if w.err != nil {
		return w.err
	}
	// writeMeta left in w.meta only what it wrote.
	if dropped -= len(w.meta.Captures) + len(w.meta.Annotations); dropped > 0 {
		return &FormatError{File: w.lay.metaPath, Msg: fmt.Sprintf(
			"dropped %d captures or annotations that lie beyond the %d samples written", dropped, w.flushed)}
	}
	return nil
}

// Abort discards the recording: it removes the temporary data file and releases
// the lock, leaving a recording that was at the path before Create as it was.
// Abort after Close or Abort does nothing, so a deferred Abort guards every
// early return.
func (w *Writer) Abort() error {
	if w.closed {
		return nil
	}
	w.closed = true
	w.buf = nil
	err := w.data.Abort()
	if uerr := w.lock.Unlock(); err == nil {
		err = uerr
	}
	return err
}

// writeMeta writes the .sigmf-meta atomically with the segments that lie within
// the samples written, and core:sha512 when no error has occurred; it keeps in
// w.meta only what it wrote.
func (w *Writer) writeMeta() error {
	m := Meta{Global: w.meta.Global}
	for _, c := range w.meta.Captures {
		if c.SampleStart <= w.flushed {
			m.Captures = append(m.Captures, c)
		}
	}
	// Section Annotations Array: sorted by core:sample_start.
	slices.SortStableFunc(w.meta.Annotations, func(a, b Annotation) int {
		return cmp.Compare(a.SampleStart, b.SampleStart)
	})
	for _, a := range w.meta.Annotations {
		if a.SampleStart <= w.flushed && a.SampleCount <= w.flushed-a.SampleStart {
			m.Annotations = append(m.Annotations, a)
		}
	}
	if w.err == nil {
		m.Global.SHA512 = hex.EncodeToString(w.hash.Sum(nil))
	}
	w.meta.Captures, w.meta.Annotations = m.Captures, m.Annotations
	b, err := m.encodeIndent()
	if err != nil {
		return fmt.Errorf("sigmf: %s: %w", w.lay.metaPath, err)
	}
	if err := atomicfile.WriteFile(w.lay.metaPath, b, 0o644); err != nil {
		return fmt.Errorf("sigmf: write metadata: %w", err)
	}
	return nil
}
