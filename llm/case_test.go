package llm

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/dataset"
)

// Text examples carry the sentence as written when the data are cased and
// lower-cased otherwise, drawing the same sentences either way.
func TestDataWithCase(t *testing.T) {
	d := &Data{}
	for i, s := range []string{"The Union is strong.", "We the People of the United States.", "Gate B12 opens at 5:30pm."} {
		d.Sentences[dataset.Train] = append(d.Sentences[dataset.Train], dataset.Sentence{
			Text: dataset.Normalize(s), Cased: dataset.NormalizeCased(s), Year: 1800 + 90*i, Era: dataset.Era(1800 + 90*i)})
	}
	if d.WithCase(false) != d {
		t.Fatal("WithCase(false) of lower-cased data must return them unchanged")
	}
	c := d.WithCase(true)
	if c == d || d.cased || c.WithCase(true) != c {
		t.Fatal("WithCase(true) must return a cased copy and leave the original lower-cased")
	}
	for _, task := range []Task{taskLM, TextTransmit, TextEra} {
		for i := range uint64(20) {
			lo, err := d.Sample(task, dataset.Train, rand.New(rand.NewPCG(i, 3)))
			if err != nil {
				t.Fatal(err)
			}
			up, err := c.Sample(task, dataset.Train, rand.New(rand.NewPCG(i, 3)))
			if err != nil {
				t.Fatal(err)
			}
			if up.Text == lo.Text || strings.ToLower(up.Text) != lo.Text || up.Answer != lo.Answer || up.Task != lo.Task {
				t.Fatalf("%v draw %d: cased %+v, lower-cased %+v", task, i, up, lo)
			}
		}
	}
}

// Config.Cased is kept in a model file; a file without it (every file from before)
// loads uncased, and an uncased model's metadata do not name it at all.
func TestConfigCased(t *testing.T) {
	m := smallModel(t, ProjectorMLP)
	if strings.Contains(m.cfg.marshal(), "cased") {
		t.Fatalf("uncased config %s names cased", m.cfg.marshal())
	}
	in := "Meet me at 5:30pm near Gate B12!"
	if got := m.NormalizeText(in); got != "meet me at 5:30pm near gate b12!" {
		t.Errorf("uncased NormalizeText = %q", got)
	}
	cfg := m.Config()
	cfg.Cased = true
	cm, err := m.Rebuild(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := cm.NormalizeText(in); got != "Meet me at 5:30pm near Gate B12!" {
		t.Errorf("cased NormalizeText = %q", got)
	}
	path := filepath.Join(t.TempDir(), "cased.safetensors")
	if err := cm.Save(path, nil); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path, m.tok)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Config().Cased {
		t.Error("Cased lost in the file")
	}
	old, err := parseConfig(strings.Replace(cm.cfg.marshal(), `,"cased":true`, "", 1))
	if err != nil || old.Cased {
		t.Errorf("config without cased: %+v, %v", old, err)
	}
}
