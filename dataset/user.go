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
		n := Normalize(s)
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

// ReadImage reads one PNG or JPEG file (the format is recognised from its content,
// not its name) and scales it to SceneSize x SceneSize RGB as ReadImageFolder does.
// The image's Name is the file's base name. A file that does not open or decode, or
// that is larger than MaxImagePixels, is an error naming it.
func ReadImage(path string) (UserImage, error) {
	f, err := os.Open(path)
	if err != nil {
		return UserImage{}, fmt.Errorf("dataset: image: %w", err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return UserImage{}, fmt.Errorf("dataset: image %s: %w", path, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxImagePixels/cfg.Height {
		return UserImage{}, fmt.Errorf("dataset: image %s: %dx%d pixels; at most %d in all", path, cfg.Width, cfg.Height, MaxImagePixels)
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
