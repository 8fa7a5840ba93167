package trainlog

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadCurve feeds arbitrary bytes to the curve reader. It must not panic;
// its errors must be a *HeaderError or a *ParseError naming the file (and a
// line within the input); and the rows of an input it accepts must write and
// read back unchanged.
func FuzzReadCurve(f *testing.F) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "curve.csv"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture)
	for _, s := range []string{
		"",
		Header,
		Header + "\n",
		Header[:7],
		"\uFEFF" + Header + "\r\nlm,1,2,3,4,5.000,6\r\n",
		Header + "\nlm,1,10,2.5,0.001,1.000,\nlm,2,20,2.",
		Header + "\n\"a,\"\"b\"\"\",0,0,-0,+Inf,0.000,NaN\n",
		Header + "\nlm,9223372036854775807,1,1e308,5e-324,9223372036.854,\n",
		Header + "\nlm,1,1,1,1,9223372036.855,\n",
		Header + "\nlm,1,1,0x1p-2,1_0,1,\n",
		Header + "\nlm,1,2\n",
		Header + "\n\"lm\nx\",1,1,1,1,1,\n",
		"step,loss\n1,2\n",
	} {
		f.Add([]byte(s))
	}

	const name = "fuzz.csv"
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseCurve(data, name)
		if err != nil {
			var he *HeaderError
			var pe *ParseError
			switch {
			case errors.As(err, &he):
				if he.Path != name || len(he.Found) > maxFoundHeader {
					t.Fatalf("bad HeaderError %+v", he)
				}
			case errors.As(err, &pe):
				if pe.Path != name || pe.Line < 2 || pe.Line > bytes.Count(data, []byte("\n"))+1 {
					t.Fatalf("ParseError line %d outside the %d-line input: %v", pe.Line, bytes.Count(data, []byte("\n"))+1, err)
				}
			default:
				t.Fatalf("error of type %T: %v", err, err)
			}
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if c.tailKept && !c.unterminated {
			t.Fatal("tail kept from a terminated input")
		}

		// Write the rows as CurveWriter does and read them back.
		var buf bytes.Buffer
		buf.WriteString(Header + "\n")
		cw := csv.NewWriter(&buf)
		rec := make([]string, len(headerFields))
		for _, row := range c.rows {
			if err := checkRow(row); err != nil {
				// The reader takes what the writer refuses (a
				// stage with a line break, quoted); no round trip.
				return
			}
			record(rec, row)
			if err := cw.Write(rec); err != nil {
				t.Fatal(err)
			}
		}
		cw.Flush()
		again, err := parseCurve(buf.Bytes(), name)
		if err != nil {
			t.Fatalf("rows read from %q do not read back after writing:\n%s\n%v", data, buf.Bytes(), err)
		}
		if len(again.rows) != len(c.rows) {
			t.Fatalf("%d rows read back, want %d", len(again.rows), len(c.rows))
		}
		for i := range c.rows {
			if !sameRow(again.rows[i], c.rows[i]) {
				t.Fatalf("row %d read back as %+v, want %+v", i, again.rows[i], c.rows[i])
			}
		}
	})
}
