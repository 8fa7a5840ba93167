package sigmf

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// seedMetas are valid and broken metadata for both fuzz targets.
func seedMetas() []string {
	seeds := []string{
		fullMeta,
		`{"global": {"core:datatype": "cf32_le", "core:version": "1.2.0", "core:sha512": "` +
			"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e" +
			`"}, "captures": [], "annotations": []}`,
		`{"global": {"core:datatype": "ci8", "core:version": "1.0.0", "core:sample_rate": 1}, "captures": [{"core:sample_start": 0}], "annotations": [{"core:sample_start": 0, "core:sample_count": 1}]}`,
		`{"global": {"core:datatype": "ci16_le", "core:version": "1.2.0"}, "captures": [{"core:sample_start": 1, "core:datetime": "2024-02-29T23:59:59.5-01:30"}], "x": null}`,
		`{"global":{"core:datatype":"ci8","core:version":"1.2.0","a:b":[{"c":[1e-400,-0,true,null]}]}}`,
	}
	for _, tc := range metaErrors {
		seeds = append(seeds, tc.meta)
	}
	for _, tc := range openErrors {
		seeds = append(seeds, tc.meta)
	}
	return seeds
}

// FuzzParseMeta: ParseMeta never panics, and whatever it accepts encodes and
// parses back to equal metadata and identical bytes.
func FuzzParseMeta(f *testing.F) {
	for _, s := range seedMetas() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMeta(data)
		if err != nil {
			var fe *FormatError
			var ue *UnsupportedError
			if !errors.As(err, &fe) && !errors.As(err, &ue) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		roundTrip(t, m)
	})
}

// FuzzOpen: Open and Read never panic on any metadata and data, strict or with
// AllowTruncated; what opens reads exactly Len samples, and its metadata (after
// any segments were dropped) survives a round trip.
func FuzzOpen(f *testing.F) {
	for i, s := range seedMetas() {
		f.Add([]byte(s), []byte("0123456789abcdefghi"[:i%20]), uint8(i%4))
	}
	// core:sha512 of no data: matching the empty data file, and not a whole sample.
	f.Add([]byte(seedMetas()[1]), []byte{}, uint8(0))
	f.Add([]byte(seedMetas()[1]), []byte{1, 2, 3, 4, 5, 6, 7, 8}, uint8(0))
	f.Add([]byte{}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(1))
	f.Add([]byte{}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(2))
	exts := []string{ExtMeta, extCS8, extCF32, ExtData}
	f.Fuzz(func(t *testing.T, meta, data []byte, kind uint8) {
		dir := t.TempDir()
		base := filepath.Join(dir, "f")
		ext := exts[int(kind)%len(exts)]
		dataPath := base + ExtData
		if ext == extCS8 || ext == extCF32 {
			dataPath = base + ext
		} else if err := os.WriteFile(base+ExtMeta, meta, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dataPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, allow := range []bool{false, true} {
			r, err := Open(base+ext, ReadOptions{AllowTruncated: allow, SampleRate: 1e6})
			// The checksum checked while reading agrees with the one checked at Open.
			if rs, serr := Open(base+ext, ReadOptions{AllowTruncated: allow, SampleRate: 1e6, StreamChecksum: true}); serr != nil {
				if err == nil {
					t.Fatalf("Open succeeds, Open with StreamChecksum fails: %v", serr)
				}
			} else {
				_, end := readToEnd(rs, 5)
				rs.Close()
				switch {
				case err == nil && end != io.EOF:
					t.Fatalf("Open succeeds, streamed reading ends with %v", end)
				case errors.Is(err, ErrChecksum) && !errors.Is(end, ErrChecksum):
					t.Fatalf("Open: %v; streamed reading ends with %v", err, end)
				case err != nil && !errors.Is(err, ErrChecksum):
					t.Fatalf("Open: %v, yet Open with StreamChecksum succeeds", err)
				}
			}
			if err != nil {
				continue
			}
			buf := make([]complex64, 3)
			var n int64
			for {
				k, err := r.Read(buf)
				n += int64(k)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
			}
			if n != r.Len() || r.Len()*int64(r.Meta().Global.Datatype.SampleBytes()) > int64(len(data)) {
				t.Fatalf("read %d samples, Len %d, data %d bytes", n, r.Len(), len(data))
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			roundTrip(t, r.Meta())
		}
	})
}
