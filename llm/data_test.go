package llm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/m4sc/m4sc/dataset"
)

// TestPickQuestion checks both ways of drawing a scene's question: unweighted it is
// the uniform draw training has always made (the same random numbers, so runs made
// before KindWeights existed are reproduced), and weighted the kinds come in the
// weights' proportions among the kinds a scene has.
func TestPickQuestion(t *testing.T) {
	sc0 := dataset.GenerateScene(dataset.SceneTrain.Seed(0))
	for i := range uint64(50) {
		sc := dataset.GenerateScene(dataset.SceneTrain.Seed(i))
		a, b := rand.New(rand.NewPCG(i, 1)), rand.New(rand.NewPCG(i, 1))
		if got, want := pickQuestion(sc.QA, nil, a), sc.QA[b.IntN(len(sc.QA))]; got != want {
			t.Fatalf("scene %d: unweighted draw %q, want the uniform draw %q", i, got.Question, want.Question)
		}
		if a.Uint64() != b.Uint64() {
			t.Fatalf("scene %d: unweighted draw consumed a different amount of randomness", i)
		}
	}

	if got, want := pickQuestion(sc0.QA, &QuestionWeights{}, rand.New(rand.NewPCG(1, 2))), sc0.QA[rand.New(rand.NewPCG(1, 2)).IntN(len(sc0.QA))]; got != want {
		t.Fatalf("all-zero weights drew %q, want the uniform draw %q", got.Question, want.Question)
	}
	qw := &QuestionWeights{dataset.AskRelation: 3, dataset.AskCount: 1}
	rng := rand.New(rand.NewPCG(9, 9))
	var n, rel, count int
	for i := range uint64(4000) {
		sc := dataset.GenerateScene(dataset.SceneTrain.Seed(i))
		hasRel := false
		for _, q := range sc.QA {
			hasRel = hasRel || q.Kind == dataset.AskRelation
		}
		q := pickQuestion(sc.QA, qw, rng)
		switch q.Kind {
		case dataset.AskRelation:
			rel++
		case dataset.AskCount:
			count++
		default:
			t.Fatalf("scene %d: drew a %s question with weight 0", i, q.Kind)
		}
		if !hasRel && q.Kind != dataset.AskCount {
			t.Fatalf("scene %d has no relation question but drew %s", i, q.Kind)
		}
		if hasRel {
			n++
		} else {
			count-- // scenes without relations always give a count: leave them out
		}
	}
	// Among scenes with relation questions, P(relation) = 3/4.
	if p := float64(rel) / float64(n); math.Abs(p-0.75) > 0.03 || n < 1000 {
		t.Errorf("relation share %.3f over %d scenes with relations, want 0.75", p, n)
	}
	if rel+count != n {
		t.Errorf("%d relation + %d count draws among %d scenes with relations", rel, count, n)
	}
}
