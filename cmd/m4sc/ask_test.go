package main

import (
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/llm/weights"
)

// tinyWeights writes a small randomly initialised model into dir and returns its
// path. Its answers are nonsense; the tests check the plumbing.
func tinyWeights(t *testing.T, dir string) string {
	t.Helper()
	tok, err := weights.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	cfg := llm.DefaultConfig(tok.VocabSize())
	cfg.Dim, cfg.ImgDim, cfg.Layers, cfg.EncLayers, cfg.ImgLayers = 32, 32, 2, 1, 1
	cfg.MaxText, cfg.MaxSeq = 16, 48
	m, err := llm.New(cfg, tok, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tiny.safetensors")
	if err := m.Save(path, map[string]string{"command": "test"}); err != nil {
		t.Fatal(err)
	}
	return path
}

// lines splits output into its lines, which must end with a newline.
func lines(t *testing.T, out string) []string {
	t.Helper()
	if !strings.HasSuffix(out, "\n") {
		t.Fatalf("output does not end a line: %q", out)
	}
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

func TestAskEveryTask(t *testing.T) {
	wd := isolate(t)
	w := tinyWeights(t, wd)
	for _, task := range llm.Tasks() {
		t.Run(task.String(), func(t *testing.T) {
			args := []string{"ask", "--task", task.String(), "--weights", w, "--explain"}
			if task.Image() {
				args = append(args, "--scene", "42")
			} else {
				args = append(args, "--text", "The Union is strong.")
			}
			if task.NeedsQuestion() {
				args = append(args, "--question", "What color is the circle?")
			}
			out := filepath.Join(wd, task.String()+".png")
			if task == llm.ImageReconstruct {
				args = append(args, "--out", out)
			}
			code, stdout, stderr := runM4sc(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			ls := lines(t, stdout)
			if len(ls) != 4 || !strings.HasPrefix(ls[0], "input: ") || !strings.HasPrefix(ls[1], "semantics: ") ||
				!strings.HasPrefix(ls[2], "template: <bos><task>") {
				t.Fatalf("output:\n%s", stdout)
			}
			if task.Image() && !strings.Contains(ls[1], "16 vectors of 32 reals") {
				t.Errorf("image semantics: %s", ls[1])
			}
			if task.NeedsQuestion() && !strings.Contains(ls[2], "<text>what color is the circle?</text>") {
				t.Errorf("vqa template: %s", ls[2])
			}
			if task != llm.ImageReconstruct {
				return
			}
			if !strings.HasPrefix(ls[3], out+" (PSNR ") || !strings.HasSuffix(ls[3], " dB)") {
				t.Errorf("last line %q", ls[3])
			}
			checkPNG(t, out)
		})
	}
	// A text longer than the model takes is refused, not cut (TestAskLongText).
	long := strings.Repeat("the state of our union is strong and growing stronger. ", 20)
	if code, stdout, stderr := runM4sc(t, "ask", "--task", "text.transmit", "--weights", w, "--text", long); code != 1 || stdout != "" || !strings.Contains(stderr, "is too long") {
		t.Errorf("long text: exit %d, %s%s", code, stdout, stderr)
	}
}

// A text input keeps its case only for a cased model (llm.Config.Cased, the shipped
// kind); a model trained lower-cased gets it lower-cased as it was trained.
func TestAskTextCase(t *testing.T) {
	wd := isolate(t)
	w := tinyWeights(t, wd)
	tok, err := weights.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	m, err := llm.Load(w, tok)
	if err != nil {
		t.Fatal(err)
	}
	cfg := m.Config()
	cfg.Cased = true
	cm, err := m.Rebuild(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	cw := filepath.Join(wd, "cased.safetensors")
	if err := cm.Save(cw, nil); err != nil {
		t.Fatal(err)
	}
	const in = "Meet me at Gate B12."
	for _, tc := range []struct{ weights, want string }{
		{w, `input: text "meet me at gate b12."`},
		{cw, `input: text "Meet me at Gate B12."`},
	} {
		for _, extra := range [][]string{nil, {"--channel", "loopback:hackrf,snr=30"}} {
			code, stdout, stderr := runM4sc(t, append([]string{"ask", "--task", "text.transmit", "--weights", tc.weights, "--text", in}, extra...)...)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", extra, code, stderr)
			}
			if ls := lines(t, stdout); ls[0] != tc.want {
				t.Errorf("%s %v: first line %q, want %q", filepath.Base(tc.weights), extra, ls[0], tc.want)
			}
		}
	}
}

// checkPNG decodes path and checks that it is a 32x32 image.
func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != dataset.SceneSize || b.Dy() != dataset.SceneSize {
		t.Errorf("%s is %v", path, b)
	}
}

// A scene written by data scene is read back by ask --image as the same input
// as ask --scene, so both give the same answer.
func TestDataSceneThenAsk(t *testing.T) {
	wd := isolate(t)
	w := tinyWeights(t, wd)
	code, stdout, stderr := runM4sc(t, "data", "scene", "--seed", "42", "--out", "s.png")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sc := dataset.GenerateScene(42)
	for _, want := range []string{"s.png: scene 42 (train split), 32x32 RGB\n", "caption: " + sc.Caption + "\n",
		sc.QA[0].Question, "try: m4sc ask --task image.vqa --image s.png --question"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("data scene output lacks %q:\n%s", want, stdout)
		}
	}
	checkPNG(t, "s.png")
	last := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runM4sc(t, append([]string{"ask", "--weights", w, "--task", "image.caption"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		ls := lines(t, stdout)
		return ls[len(ls)-1]
	}
	if a, b := last("--image", "s.png"), last("--scene", "42"); a != b {
		t.Errorf("--image s.png answers %q, --scene 42 %q", a, b)
	}
	// The configuration's --seed is not the scene's.
	if code, _, stderr := runM4sc(t, "data", "scene", "--out", "t.png"); code == 0 || !strings.Contains(stderr, `"seed" not set`) {
		t.Errorf("no --seed: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runM4sc(t, "data", "scene", "--seed", "1", "--out", "t.jpg"); code == 0 || !strings.Contains(stderr, ".png") {
		t.Errorf("--out t.jpg: exit %d, %s", code, stderr)
	}
}

func TestAskErrors(t *testing.T) {
	wd := isolate(t)
	w := tinyWeights(t, wd)
	t.Setenv("M4SC_CACHE_DIR", filepath.Join(wd, "no-cache"))
	os.WriteFile("notes.png", []byte("not an image"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{}, "--task is required (tasks: text.transmit, text.era, image.caption, image.vqa, image.classify, image.reconstruct)"},
		{[]string{"--task", "image.count"}, `--task "image.count" is not a task (tasks: text.transmit,`},
		{[]string{"--task", "text.era"}, "text.era needs --text"},
		{[]string{"--task", "text.era", "--text", "..."}, `--text "..." has no words`},
		{[]string{"--task", "text.transmit", "--text", "hello there", "--scene", "1"}, "--scene is for image tasks; text.transmit takes --text"},
		{[]string{"--task", "image.caption"}, "image.caption needs one of --image, --scene or --digit"},
		{[]string{"--task", "image.caption", "--scene", "1", "--digit", "2"}, "image.caption takes one image; --scene and --digit were all given"},
		{[]string{"--task", "image.caption", "--scene", "1", "--text", "a cat"}, "--text is for text tasks"},
		{[]string{"--task", "image.vqa", "--scene", "1"}, "image.vqa needs --question"},
		{[]string{"--task", "image.vqa", "--scene", "1", "--question", "what", "color?"}, `unknown command "color?" for "m4sc ask"`},
		{[]string{"--task", "image.caption", "--scene", "1", "--question", "why?"}, "--question is for image.vqa, not image.caption"},
		{[]string{"--task", "image.caption", "--scene", "1", "--out", "x.png"}, "--out is for image.reconstruct, not image.caption"},
		{[]string{"--task", "image.reconstruct", "--scene", "1", "--out", "x.jpg"}, `--out "x.jpg": image.reconstruct writes PNG`},
		{[]string{"--task", "image.caption", "--scene", "1", "--beam", "-2"}, "--beam -2"},
		{[]string{"--task", "image.caption", "--image", "missing.png"}, "missing.png: no such file"},
		{[]string{"--task", "image.caption", "--image", "notes.png"}, "image notes.png: image: unknown format"},
		{[]string{"--task", "image.classify", "--digit", "3"}, "run m4sc data fetch first"},
		{[]string{"--task", "image.caption", "--scene", "1", "--weights", "missing.safetensors"}, "missing.safetensors"},
		{[]string{"--task", "image.caption", "--scene", "1", "--weights", "notes.png"}, "notes.png"},
	}
	for _, tt := range tests {
		args := append([]string{"ask"}, tt.args...)
		if !strings.Contains(strings.Join(tt.args, " "), "--weights") {
			args = append(args, "--weights", w)
		}
		code, stdout, stderr := runM4sc(t, args...)
		first, _, _ := strings.Cut(stderr, "\n")
		if code != 1 || stdout != "" || !strings.Contains(first, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want an error with %q", tt.args, code, stdout, first, tt.want)
		}
	}
}

// Without --weights the embedded model is used; a build without one says how to
// name a weights file.
func TestAskEmbeddedModel(t *testing.T) {
	isolate(t)
	if weights.HasModel() {
		t.Skip("this build embeds a model")
	}
	for _, verb := range [][]string{{"ask", "--task", "image.caption", "--scene", "1"}, {"eval"}} {
		code, _, stderr := runM4sc(t, verb...)
		if code != 1 || !strings.Contains(stderr, "no trained model embedded") || !strings.Contains(stderr, "--weights FILE") {
			t.Errorf("%v: exit %d, %s", verb, code, stderr)
		}
	}
}

// realCache returns the data cache that the user's m4sc would read, found before
// isolate hides the user's environment, or skips the test when the digits and
// the State of the Union are not there.
func realCache(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("M4SC_CACHE_DIR")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			t.Skipf("no user cache folder: %v", err)
		}
		dir = filepath.Join(base, "m4sc")
	}
	if _, err := dataset.ReadMNIST(dir); err != nil {
		t.Skipf("data not fetched (m4sc data fetch): %v", err)
	}
	if _, err := dataset.ReadSOTU(dir); err != nil {
		t.Skipf("data not fetched (m4sc data fetch): %v", err)
	}
	return dir
}

func TestAskDigit(t *testing.T) {
	cache := realCache(t)
	wd := isolate(t)
	t.Setenv("M4SC_CACHE_DIR", cache)
	w := tinyWeights(t, wd)
	code, stdout, stderr := runM4sc(t, "ask", "--weights", w, "--task", "image.classify", "--digit", "1999")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if ls := lines(t, stdout); len(ls) != 3 || !strings.HasPrefix(ls[0], "input: test digit 1999 (labelled ") {
		t.Errorf("output:\n%s", stdout)
	}
	code, _, stderr = runM4sc(t, "ask", "--weights", w, "--task", "image.classify", "--digit", "2000")
	if code != 1 || !strings.Contains(stderr, "--digit 2000: the test split has digits 0 to 1999") {
		t.Errorf("--digit 2000: exit %d, %s", code, stderr)
	}
}
