package trainlog

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/m4sc/m4sc/internal/atomicfile"
)

// Header is the first line of every curve file. The columns are, in order:
// the stage name, the optimiser step, the tokens trained on so far in the
// stage, the training loss (mean cross-entropy, nats per token), the learning
// rate, the wall-clock seconds of training so far, and the validation loss
// (nats per token; empty on steps without validation).
const Header = "stage,step,tokens,loss,lr,elapsed_s,val_loss"

// headerFields is Header split at its commas.
var headerFields = strings.Split(Header, ",")

// maxFoundHeader bounds how much of an unexpected first line a HeaderError
// keeps: enough to recognise the file, not a whole binary read as one line.
const maxFoundHeader = 200

// Row is one line of a loss curve.
type Row struct {
	Stage   string        // training stage: "lm", "align", "instruct"
	Step    int64         // optimiser steps done, ≥ 0
	Tokens  int64         // tokens trained on so far in the stage, ≥ 0
	Loss    float64       // training loss, mean cross-entropy in nats per token
	LR      float64       // learning rate at this step
	Elapsed time.Duration // training wall-clock time so far, stored to the millisecond
	ValLoss float64       // validation loss in nats per token; NaN if not measured at this step
}

// HasValLoss reports whether the row holds a validation loss.
func (r Row) HasValLoss() bool { return !math.IsNaN(r.ValLoss) }

// HeaderError reports a curve file whose first line is not Header: most often
// a file of another tool, or of an older format, at the path given.
type HeaderError struct {
	Path  string // the file
	Found string // its first line (the first 200 bytes of it), "" if empty
}

func (e *HeaderError) Error() string {
	if e.Found == "" {
		return fmt.Sprintf("trainlog: %s: empty file, want header %q", e.Path, Header)
	}
	return fmt.Sprintf("trainlog: %s: header %q, want %q", e.Path, e.Found, Header)
}

// ParseError reports a malformed line in a curve file.
type ParseError struct {
	Path string // the file
	Line int    // 1-based line number
	Err  error  // what is wrong
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("trainlog: %s:%d: %v", e.Path, e.Line, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ReadCurve reads the curve file at path. An unterminated last line that does
// not parse is taken for a row being written at that moment, or one cut short
// by a crash, and is left out; every other malformed line is a *ParseError
// naming the file and line. A file whose first line is not Header is a
// *HeaderError.
func ReadCurve(path string) ([]Row, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trainlog: read curve: %w", err)
	}
	c, err := parseCurve(data, path)
	if err != nil {
		return nil, err
	}
	return c.rows, nil
}

// curveFile is a parsed curve file.
type curveFile struct {
	rows []Row
	// unterminated is set when the data did not end in a newline. The
	// writer ends every row with one, so such a last line was cut short.
	unterminated bool
	// tailKept is set when that unterminated last line parsed anyway and is
	// the last of rows.
	tailKept bool
}

// parseCurve parses the contents of a curve file; name is its path for
// errors.
func parseCurve(data []byte, name string) (curveFile, error) {
	var c curveFile
	data = bytes.TrimPrefix(data, []byte("\uFEFF")) // spreadsheets add a BOM
	if len(data) == 0 {
		return c, &HeaderError{Path: name}
	}
	body, tail := data, []byte(nil)
	if data[len(data)-1] != '\n' {
		c.unterminated = true
		i := bytes.LastIndexByte(data, '\n')
		body, tail = data[:i+1], data[i+1:]
	}
	if len(body) == 0 {
		// The header itself has no newline: a file cut short right after
		// its creation, or written by hand.
		if strings.HasPrefix(Header, strings.TrimSuffix(string(tail), "\r")) {
			return c, nil
		}
		return c, headerError(name, tail)
	}

	r := newCSVReader(body)
	rec, err := r.Read()
	if err != nil || !slices.Equal(rec, headerFields) {
		return c, headerError(name, body)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return c, csvError(name, err)
		}
		line, _ := r.FieldPos(0)
		row, err := parseRow(rec)
		if err != nil {
			return c, &ParseError{Path: name, Line: line, Err: err}
		}
		c.rows = append(c.rows, row)
	}

	if len(tail) > 0 {
		rec, err := newCSVReader(tail).Read()
		if err == nil {
			var row Row
			if row, err = parseRow(rec); err == nil {
				c.rows = append(c.rows, row)
				c.tailKept = true
			}
		}
	}
	return c, nil
}

// newCSVReader returns a reader of curve records from data.
func newCSVReader(data []byte) *csv.Reader {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // counted by parseRow, with a clearer message
	r.ReuseRecord = true
	return r
}

// headerError returns a *HeaderError quoting the first line of data.
func headerError(name string, data []byte) *HeaderError {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > maxFoundHeader {
		line = line[:maxFoundHeader]
	}
	return &HeaderError{Path: name, Found: string(line)}
}

// csvError turns an error of encoding/csv into a *ParseError.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{Path: name, Line: pe.Line, Err: pe.Err}
	}
	return fmt.Errorf("trainlog: %s: %w", name, err)
}

// parseRow converts the fields of one record, in the order of Header.
func parseRow(rec []string) (Row, error) {
	if len(rec) != len(headerFields) {
		return Row{}, fmt.Errorf("%d fields, want %d (%s)", len(rec), len(headerFields), Header)
	}
	var (
		row Row
		err error
	)
	row.Stage = rec[0]
	if row.Step, err = parseCount(rec[1], "step"); err != nil {
		return Row{}, err
	}
	if row.Tokens, err = parseCount(rec[2], "tokens"); err != nil {
		return Row{}, err
	}
	if row.Loss, err = parseFloat(rec[3], "loss"); err != nil {
		return Row{}, err
	}
	if row.LR, err = parseFloat(rec[4], "lr"); err != nil {
		return Row{}, err
	}
	if row.Elapsed, err = parseSeconds(rec[5]); err != nil {
		return Row{}, err
	}
	row.ValLoss = math.NaN()
	if rec[6] != "" {
		if row.ValLoss, err = parseFloat(rec[6], "val_loss"); err != nil {
			return Row{}, err
		}
	}
	return row, nil
}

func parseCount(s, column string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not an integer", column, s)
	}
	if n < 0 {
		return 0, fmt.Errorf("%s %d is negative", column, n)
	}
	return n, nil
}

// parseFloat accepts what strconv.FormatFloat writes, NaN and Inf included:
// a diverged run logs them, and the curve should say so.
func parseFloat(s, column string) (float64, error) {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// ParseFloat returns ±Inf with a range error for "1e999"; an
		// overflowing number in a loss column is still not a number we
		// wrote, so it is rejected with the rest.
		return 0, fmt.Errorf("%s %q is not a number", column, s)
	}
	return x, nil
}

// maxSeconds is the largest elapsed_s that fits a time.Duration in whole
// milliseconds.
const maxSeconds = float64(math.MaxInt64/int64(time.Millisecond)) / 1000

// parseSeconds reads elapsed_s, rounding to the millisecond as formatSeconds
// writes it.
func parseSeconds(s string) (time.Duration, error) {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) {
		return 0, fmt.Errorf("elapsed_s %q is not a number", s)
	}
	if x < 0 || x > maxSeconds {
		return 0, fmt.Errorf("elapsed_s %s is out of range [0, %.0f]", s, maxSeconds)
	}
	return time.Duration(math.Round(x*1000)) * time.Millisecond, nil
}

// formatSeconds writes d in seconds with three decimals, the resolution the
// file keeps.
func formatSeconds(d time.Duration) string {
	// Integer arithmetic: a float64 division would be exact only by luck.
	ms := int64(d.Round(time.Millisecond) / time.Millisecond)
	frac := strconv.FormatInt(ms%1000+1000, 10)[1:] // zero-padded to 3 digits
	return strconv.FormatInt(ms/1000, 10) + "." + frac
}

// formatFloat writes the shortest decimal that reads back as x exactly.
func formatFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// record fills rec (of len(headerFields)) with the fields of row.
func record(rec []string, row Row) {
	rec[0] = row.Stage
	rec[1] = strconv.FormatInt(row.Step, 10)
	rec[2] = strconv.FormatInt(row.Tokens, 10)
	rec[3] = formatFloat(row.Loss)
	rec[4] = formatFloat(row.LR)
	rec[5] = formatSeconds(row.Elapsed)
	rec[6] = ""
	if row.HasValLoss() {
		rec[6] = formatFloat(row.ValLoss)
	}
}

// checkRow rejects rows that would not read back as written.
func checkRow(row Row) error {
	switch {
	case strings.ContainsAny(row.Stage, "\r\n"):
		return fmt.Errorf("stage %q holds a line break", row.Stage)
	case row.Step < 0:
		return fmt.Errorf("step %d is negative", row.Step)
	case row.Tokens < 0:
		return fmt.Errorf("tokens %d is negative", row.Tokens)
	case row.Elapsed < 0:
		return fmt.Errorf("elapsed %v is negative", row.Elapsed)
	}
	return nil
}

// CurveWriter appends rows to a curve file. Each row reaches the operating
// system as soon as Append returns, so killing the process (kill -9) loses no
// row that Append accepted; a crash of the machine may lose the rows since
// the last Close. A CurveWriter keeps its first error and is not safe for
// concurrent use.
type CurveWriter struct {
	path string
	f    *os.File
	cw   *csv.Writer
	rec  []string
	err  error
}

// errClosed is the error of a CurveWriter after Close.
var errClosed = fmt.Errorf("trainlog: curve writer: %w", os.ErrClosed)

// OpenCurve opens the curve file at path for appending, creating it with
// Header if it does not exist or is empty.
//
// resumeStep is the step of the checkpoint a run resumes from: rows with a
// larger step were written after that checkpoint, will be trained again, and
// are dropped so that the curve holds no step twice. Pass -1 to start a curve
// afresh. Rows are dropped by rewriting the file to a temporary file beside it
// and renaming that over it, so a crash leaves either the old curve or the
// new one. An unterminated last line, which only an interrupted write leaves,
// is dropped the same way.
//
// A file whose first line is not Header is a *HeaderError and is left as it
// is; so is a file with a malformed row (*ParseError).
func OpenCurve(path string, resumeStep int64) (*CurveWriter, error) {
	var (
		rows    []Row
		rewrite bool
		mode    fs.FileMode = 0o644
	)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		rewrite = true
	case err != nil:
		return nil, fmt.Errorf("trainlog: open curve: %w", err)
	case len(data) == 0:
		rewrite = true
	default:
		c, err := parseCurve(data, path)
		if err != nil {
			return nil, err
		}
		rows = c.rows
		if c.tailKept {
			rows = rows[:len(rows)-1]
		}
		rewrite = c.unterminated
		kept := rows[:0]
		for _, row := range rows {
			if row.Step <= resumeStep {
				kept = append(kept, row)
			}
		}
		rewrite = rewrite || len(kept) != len(rows)
		rows = kept
		if info, err := os.Stat(path); err == nil {
			mode = info.Mode().Perm()
		}
	}
	if rewrite {
		if err := writeCurveAtomic(path, rows, mode); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("trainlog: open curve: %w", err)
	}
	return &CurveWriter{path: path, f: f, cw: csv.NewWriter(f), rec: make([]string, len(headerFields))}, nil
}

// writeCurveAtomic replaces the file at path by Header and rows.
func writeCurveAtomic(path string, rows []Row, mode fs.FileMode) error {
	var buf bytes.Buffer
	buf.WriteString(Header + "\n")
	cw := csv.NewWriter(&buf)
	rec := make([]string, len(headerFields))
	for _, row := range rows {
		record(rec, row)
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("trainlog: rewrite curve %s: %w", path, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("trainlog: rewrite curve %s: %w", path, err)
	}
	if err := writeFileAtomic(path, buf.Bytes(), mode); err != nil {
		return fmt.Errorf("trainlog: rewrite curve: %w", err)
	}
	return nil
}

// writeFileAtomic writes data to path so that readers see the old contents or
// the new, never a part, and a write killed midway leaves no temporary file
// (see package atomicfile).
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	return atomicfile.WriteFile(path, data, mode)
}

// Append writes row at the end of the curve and hands it to the operating
// system. Rows are written as given; a Stage with a line break, or a negative
// Step, Tokens or Elapsed, is an error.
func (w *CurveWriter) Append(row Row) error {
	if w.err != nil {
		return w.err
	}
	if err := checkRow(row); err != nil {
		return fmt.Errorf("trainlog: append to %s: %w", w.path, err)
	}
	record(w.rec, row)
	if err := w.cw.Write(w.rec); err != nil {
		w.err = fmt.Errorf("trainlog: append to %s: %w", w.path, err)
		return w.err
	}
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		w.err = fmt.Errorf("trainlog: append to %s: %w", w.path, err)
		return w.err
	}
	return nil
}

// Close syncs the file to disk and closes it. It returns the first error of
// the writer; later calls to Append and Close return an error wrapping
// os.ErrClosed.
func (w *CurveWriter) Close() error {
	if w.f == nil {
		return errClosed
	}
	err := w.err
	w.cw.Flush()
	if e := w.cw.Error(); err == nil && e != nil {
		err = fmt.Errorf("trainlog: close %s: %w", w.path, e)
	}
	if e := w.f.Sync(); err == nil && e != nil {
		err = fmt.Errorf("trainlog: close %s: %w", w.path, e)
	}
	if e := w.f.Close(); err == nil && e != nil {
		err = fmt.Errorf("trainlog: close %s: %w", w.path, e)
	}
	w.f, w.err = nil, errClosed
	return err
}
