package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // decoders for ReadImage
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

// User data replace the defaults: a corpus of one sentence per line for the text tasks,
// and a folder of images for the image tasks.

// MaxCorpusLine bounds a corpus line, in bytes; a longer line is an error naming it.
const MaxCorpusLine = 1 << 16

// ReadCorpus reads a user corpus: UTF-8 text, one sentence a line. Each line is
// normalised as the State of the Union sentences are (Normalize) and kept if it then
// has 4 to 30 words; blank lines are skipped. It returns the kept sentences and how
// many non-blank lines were dropped for their length. A line that is not valid UTF-8
// or longer than MaxCorpusLine is an error naming the file and line.
func ReadCorpus(path string) (sentences []string, dropped int, err error) {
	return readCorpus(path, Normalize)
}

// ReadCorpusCased is ReadCorpus with each letter's case kept as written
// (NormalizeCased); lower-casing its sentences gives ReadCorpus's.
func ReadCorpusCased(path string) (sentences []string, dropped int, err error) {
	return readCorpus(path, NormalizeCased)
}

func readCorpus(path string, norm func(string) string) (sentences []string, dropped int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("dataset: corpus: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), MaxCorpusLine)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if !utf8.Valid(b) {
			return nil, 0, fmt.Errorf("dataset: corpus %s:%d: not valid UTF-8", path, line)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			continue
		}
		n := norm(s)
		if w := len(strings.Fields(n)); w < DefaultMinWords || w > DefaultMaxWords {
			dropped++
			continue
		}
		sentences = append(sentences, n)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, 0, fmt.Errorf("dataset: corpus %s: a line longer than %d bytes after line %d", path, MaxCorpusLine, len(sentences)+dropped)
		}
		return nil, 0, fmt.Errorf("dataset: corpus %s: %w", path, err)
	}
	if len(sentences) == 0 {
		return nil, dropped, fmt.Errorf("dataset: corpus %s: no sentence of %d to %d words", path, DefaultMinWords, DefaultMaxWords)
	}
	return sentences, dropped, nil
}

// UserImage is one image of a user folder, scaled to the scenes' size.
type UserImage struct {
	Name   string  // file name within the folder
	Pixels []uint8 // SceneSize x SceneSize RGB, HWC, as Scene.Pixels
}

// ReadImageFolder reads every .png, .jpg and .jpeg file of dir (not its subfolders), in
// name order, and scales each to SceneSize x SceneSize RGB by area averaging (alpha is
// composited on black, the scenes' background). A file that does not decode is an
// error naming it; a folder without images is an error too.
func ReadImageFolder(dir string) ([]UserImage, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: image folder: %w", err)
	}
	var names []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.Type().IsRegular() && (ext == ".png" || ext == ".jpg" || ext == ".jpeg") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("dataset: image folder %s: no .png, .jpg or .jpeg files", dir)
	}
	out := make([]UserImage, 0, len(names))
	for _, n := range names {
		im, err := ReadImage(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		out = append(out, im)
	}
	return out, nil
}

// MaxImagePixels bounds the width times height of an image that ReadImage and
// ReadImageFolder decode, so a small file declaring a huge image cannot exhaust
// memory.
const MaxImagePixels = 1 << 26

// MaxImageBytes bounds the memory that decoding one image may take (see
// DecodedBytes), 128 MiB: every image is scaled to SceneSize x SceneSize, so
// nothing is gained from more, and a few hundred kilobytes of 16-bit PNG can
// declare 8192 x 8192 pixels of 8 bytes each, half a gigabyte (twice that while
// an interlaced one is put together). A 12-megapixel baseline JPEG takes 34 MiB.
const MaxImageBytes = 128 << 20

// ReadImage reads one PNG or JPEG file (the format is recognised from its content,
// not its name) and scales it to SceneSize x SceneSize RGB as ReadImageFolder does.
// The image's Name is the file's base name. A file that does not open or decode, or
// whose header declares more than MaxImagePixels pixels or more than MaxImageBytes
// decoded bytes, is an error naming it; the limits are checked on the header, before
// anything is decoded.
func ReadImage(path string) (UserImage, error) {
	f, err := os.Open(path)
	if err != nil {
		return UserImage{}, fmt.Errorf("dataset: image: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return UserImage{}, fmt.Errorf("dataset: image %s: a directory, not an image file", path)
	}
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		return UserImage{}, fmt.Errorf("dataset: image %s: %w", path, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxImagePixels/cfg.Height {
		return UserImage{}, fmt.Errorf("dataset: image %s: %dx%d pixels; at most %d in all", path, cfg.Width, cfg.Height, MaxImagePixels)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return UserImage{}, fmt.Errorf("dataset: image %s: %w", path, err)
	}
	need, err := DecodedBytes(f, cfg, format)
	if err != nil {
		return UserImage{}, fmt.Errorf("dataset: image %s: %w", path, err)
	}
	if need > MaxImageBytes {
		return UserImage{}, fmt.Errorf("dataset: image %s: %dx%d %s (%s) would take %d MiB to decode; at most %d MiB (dataset.MaxImageBytes)",
			path, cfg.Width, cfg.Height, format, modelName(cfg.ColorModel), (need+1<<20-1)>>20, MaxImageBytes>>20)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return UserImage{}, fmt.Errorf("dataset: image %s: %w", path, err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return UserImage{}, fmt.Errorf("dataset: image %s: %w", path, err)
	}
	return UserImage{Name: filepath.Base(path), Pixels: scaleRGB(img, SceneSize)}, nil
}

// DecodedBytes returns how many bytes the standard library's decoder allocates for
// the image whose header is cfg (image.DecodeConfig) and whose file r is, read from
// its start: width*height times the bytes per pixel of the colour model it decodes
// into (1 grey or paletted, 2 16-bit grey, 3 YCbCr, counted as 4:4:4 whatever the
// subsampling, 4 8-bit RGBA or CMYK, 8 16-bit RGBA, 8 for any other model). An
// interlaced PNG counts twice (its passes are decoded apart, then copied into the
// image); a progressive JPEG adds a 4-byte coefficient per sample, which the decoder
// keeps until the last scan. Only the header is read from r.
func DecodedBytes(r io.Reader, cfg image.Config, format string) (int64, error) {
	per := int64(8)
	switch cfg.ColorModel {
	case color.GrayModel, color.AlphaModel:
		per = 1
	case color.Gray16Model, color.Alpha16Model:
		per = 2
	case color.YCbCrModel:
		per = 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.NYCbCrAModel:
		per = 4
	case color.RGBA64Model, color.NRGBA64Model:
		per = 8
	default:
		if _, ok := cfg.ColorModel.(color.Palette); ok {
			per = 1
		}
	}
	n := int64(cfg.Width) * int64(cfg.Height) * per
	switch format {
	case "png":
		interlaced, err := pngInterlaced(r)
		if err != nil {
			return 0, err
		}
		if interlaced {
			n *= 2
		}
	case "jpeg":
		progressive, err := jpegProgressive(r)
		if err != nil {
			return 0, err
		}
		if progressive {
			samples := min(per, 4) // one coefficient per sample of every component
			n += int64(cfg.Width) * int64(cfg.Height) * samples * 4
		}
	}
	return n, nil
}

// pngInterlaced reads a PNG's signature and IHDR chunk and reports its interlace
// method (PNG specification, 11.2.2: the chunk's 13th data byte, 1 for Adam7).
func pngInterlaced(r io.Reader) (bool, error) {
	var b [8 + 8 + 13]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return false, fmt.Errorf("png header: %w", err)
	}
	if string(b[12:16]) != "IHDR" {
		return false, errors.New("png header: IHDR is not the first chunk")
	}
	return b[28] != 0, nil
}

// jpegProgressive reads a JPEG's marker segments up to its frame header and reports
// whether that is SOF2, progressive DCT (ITU-T T.81, table B.1; SOF6, SOF10 and SOF14
// are progressive too, and the standard library does not decode them).
func jpegProgressive(r io.Reader) (bool, error) {
	br := bufio.NewReader(r)
	var soi [2]byte
	if _, err := io.ReadFull(br, soi[:]); err != nil || soi != [2]byte{0xff, 0xd8} {
		return false, errors.New("jpeg header: no start of image")
	}
	for {
		c, err := br.ReadByte()
		if err != nil {
			return false, fmt.Errorf("jpeg header: %w", err)
		}
		if c != 0xff {
			return false, fmt.Errorf("jpeg header: byte %#02x where a marker should be", c)
		}
		marker, err := br.ReadByte()
		for err == nil && marker == 0xff { // fill bytes (B.1.1.2)
			marker, err = br.ReadByte()
		}
		if err != nil {
			return false, fmt.Errorf("jpeg header: %w", err)
		}
		switch {
		case marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc:
			return marker == 0xc2 || marker == 0xc6 || marker == 0xca || marker == 0xce, nil
		case marker == 0x01 || marker >= 0xd0 && marker <= 0xd8: // no length follows
			continue
		}
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return false, fmt.Errorf("jpeg header: %w", err)
		}
		n := int(l[0])<<8 | int(l[1])
		if n < 2 {
			return false, fmt.Errorf("jpeg header: segment length %d", n)
		}
		if _, err := br.Discard(n - 2); err != nil {
			return false, fmt.Errorf("jpeg header: %w", err)
		}
	}
}

// modelName names a colour model for messages.
func modelName(m color.Model) string {
	switch m {
	case color.GrayModel:
		return "8-bit grey"
	case color.Gray16Model:
		return "16-bit grey"
	case color.YCbCrModel:
		return "YCbCr"
	case color.CMYKModel:
		return "CMYK"
	case color.RGBAModel, color.NRGBAModel:
		return "8-bit RGBA"
	case color.RGBA64Model, color.NRGBA64Model:
		return "16-bit RGBA"
	}
	if _, ok := m.(color.Palette); ok {
		return "paletted"
	}
	return fmt.Sprintf("%T", m)
}

// scaleRGB averages img over a size x size grid of equal areas.
func scaleRGB(img image.Image, size int) []uint8 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	px := make([]uint8, size*size*3)
	if w == 0 || h == 0 {
		return px
	}
	for y := 0; y < size; y++ {
		y0, y1 := b.Min.Y+y*h/size, b.Min.Y+max((y+1)*h/size, y*h/size+1)
		for x := 0; x < size; x++ {
			x0, x1 := b.Min.X+x*w/size, b.Min.X+max((x+1)*w/size, x*w/size+1)
			var r, g, bl, n uint64
			for yy := y0; yy < min(y1, b.Max.Y); yy++ {
				for xx := x0; xx < min(x1, b.Max.X); xx++ {
					c := color.NRGBAModel.Convert(img.At(xx, yy)).(color.NRGBA)
					a := uint64(c.A)
					r += uint64(c.R) * a / 255
					g += uint64(c.G) * a / 255
					bl += uint64(c.B) * a / 255
					n++
				}
			}
			if n > 0 {
				i := (y*size + x) * 3
				px[i], px[i+1], px[i+2] = uint8(r/n), uint8(g/n), uint8(bl/n)
			}
		}
	}
	return px
}
