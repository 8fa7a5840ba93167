package dataset

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadCorpus(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.txt")
	text := "The first sentence has enough words in it.\n\nToo short.\n" +
		strings.Repeat("word ", 40) + "\nAnother Sentence, With Capitals And Commas!\n"
	os.WriteFile(p, []byte(text), 0o644)
	s, dropped, err := ReadCorpus(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || dropped != 2 || s[0] != Normalize("The first sentence has enough words in it.") {
		t.Errorf("sentences %q, dropped %d", s, dropped)
	}
	c, dropped, err := ReadCorpusCased(p)
	if err != nil || len(c) != 2 || dropped != 2 || c[1] != "Another Sentence, With Capitals And Commas!" || strings.ToLower(c[0]) != s[0] {
		t.Errorf("cased sentences %q, dropped %d, err %v", c, dropped, err)
	}
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("a valid line of several words here\n\xff\xfe broken bytes line here\n"), 0o644)
	if _, _, err := ReadCorpus(bad); err == nil || !strings.Contains(err.Error(), "bad.txt:2") {
		t.Errorf("invalid UTF-8: %v", err)
	}
	long := filepath.Join(dir, "long.txt")
	os.WriteFile(long, []byte(strings.Repeat("x", MaxCorpusLine+10)), 0o644)
	if _, _, err := ReadCorpus(long); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("long line: %v", err)
	}
	if _, _, err := ReadCorpus(filepath.Join(dir, "missing.txt")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestReadImageFolder(t *testing.T) {
	dir := t.TempDir()
	// A 64x64 image: left half red, right half opaque blue.
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			c := color.NRGBA{255, 0, 0, 255}
			if x >= 32 {
				c = color.NRGBA{0, 0, 255, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	f, _ := os.Create(filepath.Join(dir, "b.png"))
	png.Encode(f, img)
	f.Close()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o644)
	ims, err := ReadImageFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ims) != 1 || len(ims[0].Pixels) != SceneSize*SceneSize*3 {
		t.Fatalf("%d images", len(ims))
	}
	px := ims[0].Pixels
	if px[0] != 255 || px[2] != 0 {
		t.Errorf("top-left pixel %v, want red", px[:3])
	}
	last := (SceneSize*SceneSize - 1) * 3
	if px[last] != 0 || px[last+2] != 255 {
		t.Errorf("bottom-right pixel %v, want blue", px[last:last+3])
	}
	os.WriteFile(filepath.Join(dir, "broken.png"), []byte("not a png"), 0o644)
	if _, err := ReadImageFolder(dir); err == nil || !strings.Contains(err.Error(), "broken.png") {
		t.Errorf("broken image: %v", err)
	}
	if _, err := ReadImageFolder(t.TempDir()); err == nil {
		t.Error("empty folder accepted")
	}
}

func FuzzReadCorpus(f *testing.F) {
	f.Add([]byte("one sentence with five words\nand another one right here too\n"))
	f.Add([]byte("\xff\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "c.txt")
		os.WriteFile(p, b, 0o644)
		s, _, err := ReadCorpus(p)
		if err != nil {
			return
		}
		for _, x := range s {
			if w := len(strings.Fields(x)); w < DefaultMinWords || w > DefaultMaxWords {
				t.Fatalf("sentence of %d words: %q", w, x)
			}
		}
	})
}

func TestReadImage(t *testing.T) {
	dir := t.TempDir()
	// A scene written as PNG comes back pixel for pixel: same size, opaque.
	sc := GenerateScene(5)
	scenePath := filepath.Join(dir, "scene.png")
	f, err := os.Create(scenePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, sc.Image()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	im, err := ReadImage(scenePath)
	if err != nil {
		t.Fatal(err)
	}
	if im.Name != "scene.png" || string(im.Pixels) != string(sc.Pixels) {
		t.Errorf("scene PNG read back as %q with other pixels", im.Name)
	}

	// A larger JPEG of one colour is scaled down to that colour, within JPEG's
	// rounding; the name does not decide the format.
	big := image.NewRGBA(image.Rect(0, 0, 80, 48))
	for i := 0; i < len(big.Pix); i += 4 {
		copy(big.Pix[i:], []uint8{200, 40, 90, 255})
	}
	jpgPath := filepath.Join(dir, "photo.data")
	f, _ = os.Create(jpgPath)
	if err := jpeg.Encode(f, big, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	im, err = ReadImage(jpgPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Pixels) != ScenePixels {
		t.Fatalf("%d values, want %d", len(im.Pixels), ScenePixels)
	}
	for i, want := range []int{200, 40, 90} {
		if d := int(im.Pixels[i]) - want; d < -4 || d > 4 {
			t.Errorf("channel %d: %d, want %d ± 4", i, im.Pixels[i], want)
		}
	}

	// A PNG header declaring 100000 x 100000 pixels is refused before decoding.
	var hdr bytes.Buffer
	hdr.WriteString("\x89PNG\r\n\x1a\n")
	chunk := []byte("IHDR")
	chunk = binary.BigEndian.AppendUint32(chunk, 100000)
	chunk = binary.BigEndian.AppendUint32(chunk, 100000)
	chunk = append(chunk, 8, 2, 0, 0, 0)
	binary.Write(&hdr, binary.BigEndian, uint32(len(chunk)-4))
	hdr.Write(chunk)
	binary.Write(&hdr, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	hugePath := filepath.Join(dir, "huge.png")
	os.WriteFile(hugePath, hdr.Bytes(), 0o644)
	if _, err := ReadImage(hugePath); err == nil || !strings.Contains(err.Error(), "100000x100000") {
		t.Errorf("huge image: %v", err)
	}

	textPath := filepath.Join(dir, "notes.png")
	os.WriteFile(textPath, []byte("not an image"), 0o644)
	for _, p := range []string{textPath, filepath.Join(dir, "missing.png")} {
		if _, err := ReadImage(p); err == nil || !strings.Contains(err.Error(), filepath.Base(p)) {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// ReadImage never panics on a file's content; what it accepts is a scene-sized
// image.
func FuzzReadImage(f *testing.F) {
	var b bytes.Buffer
	sc := GenerateScene(1)
	png.Encode(&b, sc.Image())
	f.Add(b.Bytes())
	b.Reset()
	jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 5, 3)), nil)
	f.Add(b.Bytes())
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte{})
	path := filepath.Join(f.TempDir(), "in.img")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		im, err := ReadImage(path)
		if err == nil && len(im.Pixels) != ScenePixels {
			t.Errorf("%d values, want %d", len(im.Pixels), ScenePixels)
		}
	})
}
