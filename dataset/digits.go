package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
)

// Digit image geometry: 28x28 pixels, row-major, one byte of grey each.
const (
	DigitSize   = 28
	DigitPixels = DigitSize * DigitSize
)

// The fixed digit split. The mnist package has no split of its own; this
// one is kept for the life of the project, so weights and figures stay
// comparable.
const (
	// DigitSplitSeed seeds the hash that orders the digits for the split
	// ("m4sc" in ASCII).
	DigitSplitSeed uint64 = 0x6d347363
	// DigitTestPercent of the digits (2,000 of 10,000) form the test split.
	DigitTestPercent = 20
)

// Digit is one handwritten digit.
type Digit struct {
	Label uint8 // 0..9
	// Pixels is the 28x28 image, row-major, 0 = background (white in the
	// original), 255 = full ink; intensity in [0,1] is Pixels[i]/255.
	Pixels [DigitPixels]uint8
}

// Float32 appends the pixels to dst scaled to [0,1] (value/255) and returns
// the extended slice.
func (d *Digit) Float32(dst []float32) []float32 {
	for _, p := range d.Pixels {
		dst = append(dst, float32(p)/255)
	}
	return dst
}

// ReadMNIST reads the 10,000 digits that Fetch extracted into cacheDir. The
// order is the package's: every 0 in file order, then every 1, ..., then
// every 9; a digit's index in this slice is its identity for SplitDigits.
// It returns an error wrapping ErrNotFetched when the package is not there.
func ReadMNIST(cacheDir string) ([]Digit, error) {
	return ReadMNISTDir(filepath.Join(PackageDir(cacheDir, MNISTPackage), "src", "digits"))
}

// ReadMNISTDir reads dir/0.json ... dir/9.json in the mnist package's layout:
// {"data": [...]} with 784 values in [0,1] per image, images concatenated.
// The package stores each value as a multiple of 1/255 rounded to three
// decimals, so round(v*255) recovers the original byte exactly.
func ReadMNISTDir(dir string) ([]Digit, error) {
	var out []Digit
	for label := range 10 {
		name := filepath.Join(dir, fmt.Sprintf("%d.json", label))
		b, err := os.ReadFile(name)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s missing", ErrNotFetched, name)
		}
		if err != nil {
			return nil, fmt.Errorf("dataset: mnist: %w", err)
		}
		var f struct {
			Data []float64 `json:"data"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("dataset: mnist: %s: %w", name, err)
		}
		if len(f.Data) == 0 || len(f.Data)%DigitPixels != 0 {
			return nil, fmt.Errorf("dataset: mnist: %s holds %d values, not a positive multiple of %d", name, len(f.Data), DigitPixels)
		}
		for off := 0; off < len(f.Data); off += DigitPixels {
			d := Digit{Label: uint8(label)}
			for i, v := range f.Data[off : off+DigitPixels] {
				if !(v >= 0 && v <= 1) {
					return nil, fmt.Errorf("dataset: mnist: %s: value %v at %d outside [0,1]", name, v, off+i)
				}
				d.Pixels[i] = uint8(math.Round(v * 255))
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// splitmix64 is the finaliser of Steele, Lea and Flood's SplitMix64
// (OOPSLA 2014); a pure function of its input, so the split does not depend
// on the Go version, the machine or map order.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// DigitSplitIndices splits the indices 0..n-1 into train and test, both in
// ascending order. Each index i gets the key splitmix64(DigitSplitSeed ^ i);
// the n*DigitTestPercent/100 indices with the smallest keys (ties broken by
// index) are the test split, so for n = 10,000 the split is exactly
// 8,000/2,000 and is the same on every run and machine.
func DigitSplitIndices(n int) (train, test []int) {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	key := func(i int) uint64 { return splitmix64(DigitSplitSeed ^ uint64(i)) }
	slices.SortFunc(idx, func(a, b int) int {
		ka, kb := key(a), key(b)
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return a - b
	})
	nTest := n * DigitTestPercent / 100
	test = slices.Clone(idx[:nTest])
	train = slices.Clone(idx[nTest:])
	slices.Sort(test)
	slices.Sort(train)
	return train, test
}

// SplitDigits returns the train and test digits of ds by DigitSplitIndices.
// The digits are copied.
func SplitDigits(ds []Digit) (train, test []Digit) {
	tr, te := DigitSplitIndices(len(ds))
	train = make([]Digit, len(tr))
	for j, i := range tr {
		train[j] = ds[i]
	}
	test = make([]Digit, len(te))
	for j, i := range te {
		test[j] = ds[i]
	}
	return train, test
}
