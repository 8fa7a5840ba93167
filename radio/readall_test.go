package radio

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// sliceStream plays samples in reads of at most step, then ends with end.
type sliceStream struct {
	x    []complex64
	step int
	end  error
}

func (s *sliceStream) Read(dst []complex64) (int, RXMeta, error) {
	n := copy(dst[:min(len(dst), s.step)], s.x)
	s.x = s.x[n:]
	if len(s.x) == 0 {
		return n, RXMeta{}, s.end
	}
	return n, RXMeta{}, nil
}

func (s *sliceStream) Close() error { return nil }

// ReadAll returns every sample up to io.EOF, refuses more than its bound and passes
// another error on.
func TestReadAll(t *testing.T) {
	x := make([]complex64, 200000)
	for i := range x {
		x[i] = complex(float32(i), -float32(i))
	}
	got, err := ReadAll(&sliceStream{x: x, step: 70000, end: io.EOF}, 0)
	if err != nil || len(got) != len(x) || got[len(x)-1] != x[len(x)-1] || got[123456] != x[123456] {
		t.Fatalf("read %d samples, %v", len(got), err)
	}
	if _, err := ReadAll(&sliceStream{x: x, step: 70000, end: io.EOF}, 199999); err == nil || !strings.Contains(err.Error(), "more than 199999 samples") {
		t.Errorf("over the bound: %v", err)
	}
	if got, err := ReadAll(&sliceStream{x: x, step: 70000, end: io.EOF}, len(x)); err != nil || len(got) != len(x) {
		t.Errorf("at the bound: %d samples, %v", len(got), err)
	}
	broken := errors.New("device gone")
	if _, err := ReadAll(&sliceStream{x: x, step: 70000, end: broken}, 0); !errors.Is(err, broken) {
		t.Errorf("failing stream: %v", err)
	}
}
