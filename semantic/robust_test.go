package semantic

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/dataset"
)

// EvaluateRobust scores every condition on the same scenes and questions, digits
// only where the condition changes them, repeatably; its clean column is Evaluate's
// clean caption figure; the table has a column per condition.
func TestEvaluateRobustTiny(t *testing.T) {
	m, d := tinyModel(t), tinyData()
	o := RobustOptions{Scenes: 3, Seed: 4, Workers: 2}
	r, err := EvaluateRobust(context.Background(), m, d, o)
	if err != nil {
		t.Fatal(err)
	}
	conds := RobustConditions()
	if len(r.Rows) != len(conds) {
		t.Fatalf("%d rows, want %d", len(r.Rows), len(conds))
	}
	wantQ := 0
	for i := range 3 {
		wantQ += len(robustQuestions(i, dataset.GenerateScene(dataset.SceneTest.Seed(uint64(i))).QA))
	}
	for i, row := range r.Rows {
		name := row.Condition.Name
		if name != conds[i].Name {
			t.Errorf("row %d is %q, want %q", i, name, conds[i].Name)
		}
		checkRate(t, name+" caption", row.CaptionExact, 3)
		checkRate(t, name+" vqa", row.VQA, wantQ)
		pixel := map[string]bool{"clean": true, "background": true, "noise": true, "blur": true, "jpeg": true, "all": true}[name]
		if (row.Classify != nil) != pixel {
			t.Errorf("%s: digits scored %v, want %v", name, row.Classify != nil, pixel)
		} else if pixel {
			checkRate(t, name+" classify", *row.Classify, len(d.Digits[1]))
		}
	}
	again, err := EvaluateRobust(context.Background(), m, d, o)
	if err != nil || !reflect.DeepEqual(again, r) {
		t.Errorf("a second run differs (err %v)", err)
	}
	full, err := Evaluate(context.Background(), m, d, EvalOptions{Scenes: 3, Sentences: 1, Digits: 1})
	if err != nil {
		t.Fatal(err)
	}
	if c := r.Rows[0]; c.CaptionExact != full.Scenes.CaptionExact || c.CaptionBLEU4 != full.Scenes.CaptionBLEU4 {
		t.Errorf("clean captions %+v %v, Evaluate's %+v %v", c.CaptionExact, c.CaptionBLEU4, full.Scenes.CaptionExact, full.Scenes.CaptionBLEU4)
	}
	md := r.Markdown()
	for _, want := range []string{"| task | metric | n | clean | background |", "| other renderer |", "| image.vqa | accuracy: count | 3 |", "| image.classify | accuracy | 5 |", "–"} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := EvaluateRobust(ctx, m, d, o); err == nil {
		t.Error("a cancelled evaluation returned no error")
	}
}

// robustQuestions asks one question of every kind a scene has, and over the scenes
// rotates through each kind's questions.
func TestRobustQuestions(t *testing.T) {
	sc := dataset.GenerateScene(dataset.SceneTest.Seed(7))
	var kinds [dataset.NumQuestionKinds]int
	for _, q := range sc.QA {
		kinds[q.Kind]++
	}
	seen := map[string]bool{}
	for i := range 10 {
		var got [dataset.NumQuestionKinds]int
		for _, q := range robustQuestions(i, sc.QA) {
			got[q.Kind]++
			seen[q.Question] = true
		}
		for k := range kinds {
			if want := min(kinds[k], RobustQuestionsPerKind); got[k] != want {
				t.Fatalf("rotation %d asks %d questions of kind %v, want %d", i, got[k], dataset.QuestionKind(k), want)
			}
		}
	}
	if kinds[dataset.AskCount] > 1 && len(seen) <= int(dataset.NumQuestionKinds) {
		t.Errorf("10 rotations asked only %d distinct questions", len(seen))
	}
}
