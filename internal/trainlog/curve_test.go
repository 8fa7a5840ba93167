package trainlog

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sameRow compares rows field by field, NaN equal to NaN.
func sameRow(a, b Row) bool {
	eq := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
	return a.Stage == b.Stage && a.Step == b.Step && a.Tokens == b.Tokens &&
		eq(a.Loss, b.Loss) && eq(a.LR, b.LR) && a.Elapsed == b.Elapsed && eq(a.ValLoss, b.ValLoss)
}

func sameRows(t *testing.T, got, want []Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
	}
	for i := range got {
		if !sameRow(got[i], want[i]) {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// steps returns rows of stage "lm" for the given steps.
func steps(from, to int64) []Row {
	var rows []Row
	for s := from; s <= to; s++ {
		rows = append(rows, Row{
			Stage: "lm", Step: s, Tokens: s * 512, Loss: 10 / float64(s+1), LR: 3e-4,
			Elapsed: time.Duration(s) * 1500 * time.Millisecond, ValLoss: math.NaN(),
		})
	}
	return rows
}

func writeRows(t *testing.T, path string, resume int64, rows []Row) {
	t.Helper()
	w, err := OpenCurve(path, resume)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCurveRoundTrip(t *testing.T) {
	rows := []Row{
		{Stage: "lm", Step: 0, Tokens: 0, Loss: 10.373, LR: 0, Elapsed: 0, ValLoss: 10.4},
		{Stage: "lm", Step: 1, Tokens: 4096, Loss: 0.1 + 0.2, LR: 1.5e-7, Elapsed: 1234567 * time.Millisecond, ValLoss: math.NaN()},
		{Stage: "align", Step: 7, Tokens: 1 << 40, Loss: math.NaN(), LR: math.Inf(1), Elapsed: 999 * time.Millisecond, ValLoss: 1e-300},
		{Stage: "with,comma \"quoted\"", Step: math.MaxInt64, Tokens: 1, Loss: -0.5, LR: 1, Elapsed: time.Hour, ValLoss: 0},
	}
	path := filepath.Join(t.TempDir(), "curve.csv")
	writeRows(t, path, -1, rows)

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(string(data), "\n"); first != Header {
		t.Errorf("first line %q, want %q", first, Header)
	}
	got, err := ReadCurve(path)
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, got, rows)
}

func TestCurveElapsedRounding(t *testing.T) {
	path := filepath.Join(t.TempDir(), "curve.csv")
	writeRows(t, path, -1, []Row{{Stage: "lm", Elapsed: 1500*time.Microsecond + 1, ValLoss: math.NaN()}})
	got, err := ReadCurve(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * time.Millisecond; len(got) != 1 || got[0].Elapsed != want {
		t.Errorf("got %v, want one row with Elapsed %v", got, want)
	}
}

func TestCurveResume(t *testing.T) {
	tests := []struct {
		name   string
		resume int64
		want   int // rows kept of steps 1..10
	}{
		{"drop after 5", 5, 5},
		{"keep all", 10, 10},
		{"keep all, resume past end", 50, 10},
		{"drop all", -1, 0},
		{"keep only step 0 and below", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "curve.csv")
			writeRows(t, path, -1, steps(1, 10))
			next := int64(tt.want) + 1
			writeRows(t, path, tt.resume, steps(next, next+2))

			got, err := ReadCurve(path)
			if err != nil {
				t.Fatal(err)
			}
			sameRows(t, got, steps(1, next+2))

			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries, want the curve alone", len(entries))
			}
		})
	}
}

// TestCurveTornTail: a row cut short by a crash is dropped by OpenCurve and
// skipped by ReadCurve; a whole unterminated row is read.
func TestCurveTornTail(t *testing.T) {
	good := Header + "\nlm,1,10,2.5,0.001,1.000,\nlm,2,20,2.25,0.001,2.000,\n"
	tests := []struct {
		name      string
		data      string
		readRows  int // rows ReadCurve returns
		afterOpen int // rows left after OpenCurve(path, 100)
	}{
		{"terminated", good, 2, 2},
		{"torn row", good + "lm,3,30,2.", 2, 2},
		{"torn quote", good + "\"lm", 2, 2},
		{"whole row without newline", good + "lm,3,30,2.125,0.001,3.000,", 3, 2},
		{"torn header", Header[:10], 0, 0},
		{"header without newline", Header, 0, 0},
		{"empty file", "", -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "curve.csv")
			if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadCurve(path)
			switch {
			case tt.readRows < 0 && err == nil:
				t.Errorf("ReadCurve: no error, want one")
			case tt.readRows >= 0 && err != nil:
				t.Errorf("ReadCurve: %v", err)
			case tt.readRows >= 0 && len(got) != tt.readRows:
				t.Errorf("ReadCurve: %d rows, want %d", len(got), tt.readRows)
			}

			w, err := OpenCurve(path, 100)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(string(data), "\n") {
				t.Errorf("after OpenCurve the file does not end in a newline: %q", data)
			}
			got, err = ReadCurve(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.afterOpen {
				t.Errorf("after OpenCurve: %d rows, want %d", len(got), tt.afterOpen)
			}
		})
	}
}

func TestCurveHeaderMismatch(t *testing.T) {
	tests := []struct{ name, data, found string }{
		{"other columns", "step,loss\n1,2\n", "step,loss"},
		{"old format", "stage,step,tokens,loss,lr,elapsed_s\n", "stage,step,tokens,loss,lr,elapsed_s"},
		{"CRLF", "a,b\r\nc,d\r\n", "a,b"},
		{"not CSV", "\"unclosed\n", "\"unclosed"},
		{"no newline", "hello", "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "curve.csv")
			if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, op := range []struct {
				name string
				run  func() error
			}{
				{"ReadCurve", func() error { _, err := ReadCurve(path); return err }},
				{"OpenCurve", func() error {
					w, err := OpenCurve(path, 0)
					if err == nil {
						w.Close()
					}
					return err
				}},
			} {
				err := op.run()
				var he *HeaderError
				if !errors.As(err, &he) {
					t.Fatalf("%s: error %v, want a *HeaderError", op.name, err)
				}
				if he.Path != path || he.Found != tt.found {
					t.Errorf("%s: HeaderError{%q, %q}, want {%q, %q}", op.name, he.Path, he.Found, path, tt.found)
				}
				if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "header") {
					t.Errorf("%s: message %q does not name the file and the header", op.name, msg)
				}
			}
			if data, _ := os.ReadFile(path); string(data) != tt.data {
				t.Errorf("OpenCurve changed a file it refused: %q", data)
			}
		})
	}
}

func TestCurveMalformedRow(t *testing.T) {
	ok := "lm,1,10,2.5,0.001,1.000,\n"
	tests := []struct {
		name string
		bad  string
		want string // in the message
	}{
		{"too few fields", "lm,2,20\n", "3 fields, want 7"},
		{"too many fields", "lm,2,20,1,1,1,1,1\n", "8 fields, want 7"},
		{"step not integer", "lm,2.5,20,1,1,1,\n", `step "2.5"`},
		{"negative step", "lm,-2,20,1,1,1,\n", "step -2 is negative"},
		{"negative tokens", "lm,2,-20,1,1,1,\n", "tokens -20 is negative"},
		{"loss not number", "lm,2,20,low,1,1,\n", `loss "low"`},
		{"loss overflows", "lm,2,20,1e999,1,1,\n", `loss "1e999"`},
		{"lr empty", "lm,2,20,1,,1,\n", `lr ""`},
		{"elapsed negative", "lm,2,20,1,1,-1,\n", "elapsed_s -1 is out of range"},
		{"elapsed NaN", "lm,2,20,1,1,NaN,\n", `elapsed_s "NaN"`},
		{"val_loss not number", "lm,2,20,1,1,1,x\n", `val_loss "x"`},
		{"bare quote", "l\"m,2,20,1,1,1,\n", "quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "curve.csv")
			// The bad row is on line 4, before a good one, so it is not a
			// torn tail.
			data := Header + "\n" + ok + ok + tt.bad + ok
			if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadCurve(path)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a *ParseError", err)
			}
			if pe.Line != 4 {
				t.Errorf("line %d, want 4", pe.Line)
			}
			msg := err.Error()
			if !strings.Contains(msg, path+":4: ") || !strings.Contains(msg, tt.want) {
				t.Errorf("message %q, want %q and %q", msg, path+":4: ", tt.want)
			}
			if _, err := OpenCurve(path, 100); !errors.As(err, &pe) {
				t.Errorf("OpenCurve: error %v, want a *ParseError", err)
			}
		})
	}
}

func TestCurveFixture(t *testing.T) {
	got, err := ReadCurve(filepath.Join("testdata", "curve.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{"lm", 0, 0, 10.4, 0, 0, 10.41},
		{"lm", 100, 51200, 6.25, 3e-4, 61250 * time.Millisecond, math.NaN()},
		{"lm", 200, 102400, 4.125, 3e-4, 122500 * time.Millisecond, 4.2},
		{"align", 0, 0, 3.5, 1e-5, 0, math.NaN()},
		{"align", 50, 12800, math.NaN(), 1e-5, 30125 * time.Millisecond, 3.4},
	}
	sameRows(t, got, want)
}

func TestCurveWriterErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "curve.csv")
	w, err := OpenCurve(path, -1)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Row{
		{Stage: "l\nm"},
		{Stage: "lm", Step: -1},
		{Stage: "lm", Tokens: -1},
		{Stage: "lm", Elapsed: -time.Second},
	} {
		if err := w.Append(bad); err == nil {
			t.Errorf("Append(%+v): no error", bad)
		}
	}
	// A rejected row does not poison the writer.
	if err := w.Append(Row{Stage: "lm", ValLoss: math.NaN()}); err != nil {
		t.Errorf("Append after a rejected row: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(Row{Stage: "lm"}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Append after Close: %v, want os.ErrClosed", err)
	}
	if err := w.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Close: %v, want os.ErrClosed", err)
	}
	if _, err := ReadCurve(filepath.Join(t.TempDir(), "missing.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadCurve of a missing file: %v, want os.ErrNotExist", err)
	}
	if _, err := OpenCurve(filepath.Join(t.TempDir(), "no", "dir", "curve.csv"), 0); err == nil {
		t.Errorf("OpenCurve in a missing directory: no error")
	}
}

// TestCurveKeepsMode: rewriting on resume keeps the file's permissions.
func TestCurveKeepsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "curve.csv")
	writeRows(t, path, -1, steps(1, 4))
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	writeRows(t, path, 2, nil)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o640 {
		t.Errorf("mode %v after rewrite, want 0640", info.Mode().Perm())
	}
}

func BenchmarkAppend(b *testing.B) {
	path := filepath.Join(b.TempDir(), "curve.csv")
	w, err := OpenCurve(path, -1)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	row := steps(1, 1)[0]
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		row.Step = int64(i)
		if err := w.Append(row); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
