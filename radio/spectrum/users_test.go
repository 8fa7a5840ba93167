package spectrum

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// The tones of calibration, the demo and the hardware tests are measured here and
// nowhere else: each of them imports this package, and none brings an FFT of its own
// (package phy's 64-point FFT, which calibration uses on OFDM symbols, is not one).
func TestOneToneEstimator(t *testing.T) {
	const self = "github.com/m4sc/m4sc/radio/spectrum"
	fft := []string{"gonum.org/v1/gonum/dsp/fourier", "github.com/mjibson/go-dsp/fft", "github.com/argusdusty/gofft"}
	for _, users := range []string{"../../calibration/*.go", "../../cmd/m4sc/demo*.go", "../../hwtests/*.go"} {
		files, err := filepath.Glob(users)
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no files (%v)", users, err)
		}
		uses := false
		for _, name := range files {
			f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if slices.Contains(fft, p) {
					t.Errorf("%s imports %s: measure tones with %s", name, p, self)
				}
				uses = uses || p == self
			}
		}
		if !uses {
			t.Errorf("%s: none of the files imports %s", users, self)
		}
	}
}
