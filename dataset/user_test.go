package dataset

import (
	"image"
	"image/color"
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
