package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDigitSplitIndices(t *testing.T) {
	train, test := DigitSplitIndices(10000)
	if len(train) != 8000 || len(test) != 2000 {
		t.Fatalf("split %d/%d, want 8000/2000", len(train), len(test))
	}
	seen := make([]bool, 10000)
	for _, i := range slices.Concat(train, test) {
		if seen[i] {
			t.Fatalf("index %d in both splits or twice", i)
		}
		seen[i] = true
	}
	if !slices.IsSorted(train) || !slices.IsSorted(test) {
		t.Error("indices not sorted")
	}
	train2, test2 := DigitSplitIndices(10000)
	if !slices.Equal(train, train2) || !slices.Equal(test, test2) {
		t.Error("split not stable across calls")
	}
	// Pin the split: these are the first test indices for DigitSplitSeed.
	// Changing them changes every figure measured on the test digits.
	if got := fmt.Sprint(test[:8]); got != pinnedTestPrefix {
		t.Errorf("first test indices %s, want %s", got, pinnedTestPrefix)
	}
}

// pinnedTestPrefix was computed once from DigitSplitIndices(10000) when the
// split was fixed; it guards against accidental changes of the split.
const pinnedTestPrefix = "[0 7 9 20 27 35 36 38]"

func TestReadMNISTDir(t *testing.T) {
	dir := t.TempDir()
	for label := range 10 {
		vals := make([]string, 2*DigitPixels)
		for i := range vals {
			vals[i] = "0"
		}
		vals[0] = "1"
		vals[DigitPixels+1] = fmt.Sprintf("%.3f", float64(label)/255)
		body := `{"data":[` + strings.Join(vals, ",") + `]}`
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.json", label)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := ReadMNISTDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 20 {
		t.Fatalf("%d digits, want 20", len(ds))
	}
	for i, d := range ds {
		if int(d.Label) != i/2 {
			t.Errorf("digit %d label %d", i, d.Label)
		}
	}
	if ds[0].Pixels[0] != 255 || ds[9].Pixels[1] != 4 {
		t.Errorf("pixels %d %d, want 255 4", ds[0].Pixels[0], ds[9].Pixels[1])
	}
	if f := ds[0].Float32(nil); len(f) != DigitPixels || f[0] != 1 || f[1] != 0 {
		t.Errorf("Float32: len %d, %v %v", len(f), f[0], f[1])
	}
	os.WriteFile(filepath.Join(dir, "3.json"), []byte(`{"data":[0.5,2]}`), 0o644)
	if _, err := ReadMNISTDir(dir); err == nil {
		t.Error("short file accepted")
	}
	if _, err := ReadMNISTDir(filepath.Join(dir, "none")); !errors.Is(err, ErrNotFetched) {
		t.Errorf("missing dir: %v, want ErrNotFetched", err)
	}
}

func TestMNISTData(t *testing.T) {
	ds, err := ReadMNIST(testCacheDir(t))
	if errors.Is(err, ErrNotFetched) {
		t.Skipf("MNIST data not in cache (%v); run `m4sc data fetch` or `M4SC_FETCH=1 go test -run FetchLive ./dataset/`", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 10000 {
		t.Fatalf("%d digits, want 10000", len(ds))
	}
	var perLabel [10]int
	for _, d := range ds {
		if d.Label > 9 {
			t.Fatalf("label %d", d.Label)
		}
		perLabel[d.Label]++
		var ink int
		for _, p := range d.Pixels {
			ink += int(p)
		}
		if ink == 0 {
			t.Fatal("blank digit")
		}
	}
	train, test := SplitDigits(ds)
	var testLabels [10]int
	for _, d := range test {
		testLabels[d.Label]++
	}
	t.Logf("10000 digits, per label %v; split %d/%d, test per label %v", perLabel, len(train), len(test), testLabels)
	if len(train) != 8000 || len(test) != 2000 {
		t.Errorf("split %d/%d", len(train), len(test))
	}
	for l, n := range testLabels {
		// Each label is about a tenth of the test set: 2000 draws with p about
		// 0.1 have sd about 13, so 80..320 is a loose 9-sd bound.
		if n < 80 || n > 320 {
			t.Errorf("label %d has %d test digits", l, n)
		}
	}
}
