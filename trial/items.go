package trial

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
)

// item is one input of a step and what a receiver should make of it.
type item struct {
	in       llm.Input
	sent     string // what was sent, for results.jsonl: the text, or "scene 12", "digit 345", a file
	want     string // the reference output ("" when unknown: an image file's caption)
	question string // image.vqa's question
}

// sceneIndices is the range count draws test scenes from.
const sceneIndices = 1 << 20

// items resolves a step's contents into inputs. The held-out data set is loaded only
// when the step needs it (text tasks and image.classify by count or index).
func (r *runner) resolveItems(si int) ([]item, error) {
	s := &r.plan.Steps[si]
	task, _ := llm.ParseTask(s.Task)
	at := fmt.Sprintf("steps[%d].content", si)
	c := s.Content
	cased := r.chain.Model.Config().Cased
	if len(c.Texts) > 0 {
		var out []item
		for _, t := range c.Texts {
			out = append(out, r.textItem(task, r.chain.Model.NormalizeText(t), ""))
		}
		return out, nil
	}
	if len(c.Files) > 0 {
		return r.fileItems(task, c.Files, at)
	}
	idx := c.Index
	var size int
	var data *llm.Data
	if !task.Image() || task == llm.ImageClassify {
		if r.opts.Data == nil {
			return nil, fmt.Errorf("trial: %s: %s needs the held-out data set and none was given", at, task)
		}
		var err error
		if data, err = r.opts.Data(); err != nil {
			return nil, fmt.Errorf("trial: %s: %w", at, err)
		}
		if task == llm.ImageClassify {
			size = len(data.Digits[1])
		} else {
			size = len(data.Sentences[dataset.Test])
		}
		if size == 0 {
			return nil, fmt.Errorf("trial: %s: the held-out %s set is empty", at, task)
		}
	} else {
		size = sceneIndices
	}
	if c.Count > 0 {
		idx = drawIndices(s.Seed, c.Count, size)
	}
	var out []item
	for _, i := range idx {
		if i >= size {
			return nil, fmt.Errorf("trial: %s.index: %d beyond the held-out set's %d items", at, i, size)
		}
		switch {
		case task == llm.ImageClassify:
			dg := &data.Digits[1][i]
			out = append(out, item{in: llm.Input{Task: task, Image: llm.DigitImage(dg, 0, 0)}, sent: fmt.Sprintf("test digit %d", i), want: llm.DigitAnswer(dg.Label)})
		case task.Image():
			sc := dataset.GenerateScene(dataset.SceneTest.Seed(uint64(i)))
			it := item{in: llm.Input{Task: task, Image: llm.SceneImage(&sc)}, sent: fmt.Sprintf("test scene %d", i), want: sc.Caption}
			if task == llm.ImageVQA {
				if len(sc.QA) == 0 {
					return nil, fmt.Errorf("trial: %s: test scene %d has no question", at, i)
				}
				qa := sc.QA[mix(s.Seed, uint64(i))%uint64(len(sc.QA))]
				it.question, it.want = qa.Question, qa.Answer
			}
			out = append(out, it)
		default:
			sn := data.Sentences[dataset.Test][i]
			it := r.textItem(task, sn.TextCase(cased), "")
			if task == llm.TextEra {
				it.want = dataset.EraName(sn.Era)
			}
			out = append(out, it)
		}
	}
	return out, nil
}

func (r *runner) textItem(task llm.Task, text, name string) item {
	it := item{in: llm.Input{Task: task, Text: text}, sent: text}
	if task == llm.TextTransmit {
		it.want = text
	}
	if name != "" {
		it.sent = name + ": " + text
	}
	return it
}

// fileItems reads text files (a sentence a line) and images (PNG, JPEG), relative to
// the plan's directory.
func (r *runner) fileItems(task llm.Task, files []string, at string) ([]item, error) {
	var out []item
	for i, name := range files {
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(r.opts.PlanDir, path)
		}
		field := fmt.Sprintf("%s.files[%d]", at, i)
		if task.Image() {
			if task == llm.ImageVQA {
				return nil, fmt.Errorf("trial: %s: image.vqa needs a scene's question; give test scenes by count or index", field)
			}
			im, err := dataset.ReadImage(path)
			if err != nil {
				return nil, fmt.Errorf("trial: %s: %w", field, err)
			}
			px := make([]float32, len(im.Pixels))
			for j, p := range im.Pixels {
				px[j] = float32(p) / 255
			}
			out = append(out, item{in: llm.Input{Task: task, Image: px}, sent: name})
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("trial: %s: %w", field, err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		line := 0
		for sc.Scan() {
			line++
			t := r.chain.Model.NormalizeText(sc.Text())
			if strings.TrimSpace(t) == "" {
				continue
			}
			if len(out) >= MaxItems {
				f.Close()
				return nil, fmt.Errorf("trial: %s: more than %d sentences", field, MaxItems)
			}
			out = append(out, r.textItem(task, t, fmt.Sprintf("%s:%d", name, line)))
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("trial: %s: %w", field, err)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("trial: %s: the files hold no sentence", at)
	}
	return out, nil
}

// drawIndices returns n distinct indices below size in the order a seeded generator
// draws them.
func drawIndices(seed uint64, n, size int) []int {
	rng := rand.New(rand.NewPCG(seed, 0x7472))
	n = min(n, size)
	seen := map[int]bool{}
	out := make([]int, 0, n)
	for len(out) < n {
		i := rng.IntN(size)
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	return out
}
