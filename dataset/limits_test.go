package dataset

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// pngHeader returns a PNG of width x height whose IHDR has the given bit depth,
// colour type and interlace method (and a one-colour PLTE for colour type 3),
// followed by an IDAT of a few zero rows and IEND:
// a small file that declares a large image.
func pngHeader(width, height uint32, depth, colorType, interlace byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		b.Write(c)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, width)
	ihdr = binary.BigEndian.AppendUint32(ihdr, height)
	chunk("IHDR", append(ihdr, depth, colorType, 0, 0, interlace))
	if colorType == 3 {
		chunk("PLTE", []byte{0, 0, 0})
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 4096))
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

// jpegHeader returns the start of a JPEG up to its frame header: SOI, an APP0
// segment, and SOFn (0xc0 baseline, 0xc2 progressive) of width x height with
// components 1 (grey) or 3 (YCbCr).
func jpegHeader(sof byte, width, height uint16, components byte) []byte {
	b := []byte{0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	b = append(b, 0xff, 0xff, sof) // a fill byte before the marker
	n := 8 + 3*int(components)
	b = append(b, byte(n>>8), byte(n), 8, byte(height>>8), byte(height), byte(width>>8), byte(width), components)
	for c := range components {
		b = append(b, c+1, 0x11, 0)
	}
	return b
}

// The decoded size counts the bytes of the colour model, not only the pixels: a
// half-megabyte 16-bit PNG of 8192 x 8192 (67 million pixels, within
// MaxImagePixels) would take 512 MiB and is refused from its header, without the
// decoder allocating anything of that size.
func TestReadImageDecodedBytes(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"rgb16.png", pngHeader(8192, 8192, 16, 2, 0), "8192x8192 png (16-bit RGBA) would take 512 MiB to decode; at most 128 MiB"},
		{"gray16-interlaced.png", pngHeader(8192, 8192, 16, 0, 1), "(16-bit grey) would take 256 MiB"},
		{"rgba8.png", pngHeader(8192, 4097, 8, 6, 0), "(8-bit RGBA) would take 129 MiB"},
		{"progressive.jpg", jpegHeader(0xc2, 4000, 3000, 3), "4000x3000 jpeg (YCbCr) would take 172 MiB"},
	} {
		path := filepath.Join(dir, c.name)
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := ReadImage(path)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: %v, want an error naming it with %q", c.name, err, c.want)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
			t.Errorf("%s: %d MiB allocated before refusing", c.name, got>>20)
		}
	}
}

func TestDecodedBytes(t *testing.T) {
	for _, c := range []struct {
		name   string
		data   []byte
		format string
		model  color.Model
		w, h   int
		want   int64
	}{
		{"grey png", pngHeader(100, 10, 8, 0, 0), "png", color.GrayModel, 100, 10, 1000},
		{"grey png, interlaced", pngHeader(100, 10, 8, 0, 1), "png", color.GrayModel, 100, 10, 2000},
		{"paletted png", pngHeader(100, 10, 8, 3, 0), "png", color.Palette{color.Black}, 100, 10, 1000},
		{"16-bit grey png", pngHeader(100, 10, 16, 0, 0), "png", color.Gray16Model, 100, 10, 2000},
		{"8-bit RGBA png", pngHeader(100, 10, 8, 6, 0), "png", color.NRGBAModel, 100, 10, 4000},
		{"16-bit RGB png", pngHeader(100, 10, 16, 2, 0), "png", color.RGBA64Model, 100, 10, 8000},
		{"baseline YCbCr jpeg", jpegHeader(0xc0, 100, 10, 3), "jpeg", color.YCbCrModel, 100, 10, 3000},
		{"progressive YCbCr jpeg", jpegHeader(0xc2, 100, 10, 3), "jpeg", color.YCbCrModel, 100, 10, 15000},
		{"progressive grey jpeg", jpegHeader(0xc2, 100, 10, 1), "jpeg", color.GrayModel, 100, 10, 5000},
	} {
		got, err := DecodedBytes(bytes.NewReader(c.data), image.Config{ColorModel: c.model, Width: c.w, Height: c.h}, c.format)
		if err != nil || got != c.want {
			t.Errorf("%s: %d, %v; want %d", c.name, got, err, c.want)
		}
		// The header agrees with what the standard library reads from it.
		cfg, format, err := image.DecodeConfig(bytes.NewReader(c.data))
		if err != nil || format != c.format || cfg.Width != c.w || cfg.Height != c.h {
			t.Errorf("%s: DecodeConfig %+v %q %v", c.name, cfg, format, err)
		} else if got, err := DecodedBytes(bytes.NewReader(c.data), cfg, format); err != nil || got != c.want {
			t.Errorf("%s: with DecodeConfig's model: %d, %v; want %d", c.name, got, err, c.want)
		}
	}
	for _, bad := range [][]byte{{0xff, 0xd8, 0xff, 0xe0, 0, 1}, {0xff, 0xd8, 0x00}, {0xff, 0xd8, 0xff, 0xe0, 0, 200}} {
		if _, err := DecodedBytes(bytes.NewReader(bad), image.Config{Width: 1, Height: 1}, "jpeg"); err == nil {
			t.Errorf("truncated or malformed JPEG header % x accepted", bad)
		}
	}
}

// A directory is not an image, and says so.
func TestReadImageDirectory(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadImage(dir); err == nil || !strings.Contains(err.Error(), "a directory, not an image file") {
		t.Errorf("directory: %v", err)
	}
}
