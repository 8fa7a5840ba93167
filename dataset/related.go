package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Related scenes: views of one scene that share some of its objects.
const (
	// RelatedObjects is the number of objects every related scene is drawn with
	// (fewer only when the canvas has no room for a fresh one, as in scenePlace).
	RelatedObjects = MaxObjects
	// MaxRelatedScenes bounds the number of scenes of one group.
	MaxRelatedScenes = 1024
	// relatedStream separates the related-scene generator's PCG stream.
	relatedStream = 0x2e1a7ed5ce7e5
)

// RelatedScenes draws k scenes that have a fraction overlap (0 to 1) of their objects
// in common: a base layout of RelatedObjects objects is drawn from seed, and scene i
// keeps c_i of them, identical in shape, colour, size and position, and draws the
// rest fresh where they fit. The c_i are floor(overlap*RelatedObjects) or one more,
// so that their mean over the k scenes is overlap*RelatedObjects as nearly as k
// allows (the first scenes get the extra object); every scene keeps a prefix of one
// seeded order of the base objects, so two scenes have min(c_i, c_j) objects in
// common. A fresh object never equals an object of another scene of the group. So
// overlap 1 gives k scenes with the same objects (the same pixels), overlap 0 scenes
// with none in common. Captions and questions are those of GenerateScene for each
// scene's objects; every scene's Seed is seed. The same arguments give the same
// scenes on every platform.
func RelatedScenes(seed uint64, k int, overlap float64) ([]Scene, error) {
	if k < 1 || k > MaxRelatedScenes {
		return nil, fmt.Errorf("dataset: related scenes: k = %d, want 1 to %d", k, MaxRelatedScenes)
	}
	if !(overlap >= 0 && overlap <= 1) {
		return nil, fmt.Errorf("dataset: related scenes: overlap %v, want a fraction from 0 to 1", overlap)
	}
	rng := rand.New(rand.NewPCG(seed, relatedStream))
	base := placeN(rng, RelatedObjects, nil)
	rng.Shuffle(len(base), func(i, j int) { base[i], base[j] = base[j], base[i] })
	want := overlap * float64(len(base))
	lo := int(math.Floor(want + 1e-9))
	extra := int(math.Round((want - float64(lo)) * float64(k)))
	var taken []Object // every object of the group so far
	taken = append(taken, base...)
	scenes := make([]Scene, k)
	for i := range scenes {
		c := min(lo, len(base))
		if i < extra {
			c = min(c+1, len(base))
		}
		objs := append([]Object(nil), base[:c]...)
		objs = placeFresh(rng, objs, RelatedObjects-c, taken)
		taken = append(taken, objs[c:]...)
		sort.Slice(objs, func(a, b int) bool { return objs[a].X < objs[b].X })
		s := Scene{Seed: seed, Objects: objs, Pixels: make([]uint8, ScenePixels)}
		sceneRender(s.Pixels, objs)
		s.Caption = sceneCaption(objs)
		s.QA = sceneQuestions(rng, objs)
		scenes[i] = s
	}
	return scenes, nil
}

// CommonObjects counts the objects two scenes have in common (equal shape, colour,
// size and position).
func CommonObjects(a, b *Scene) int {
	n := 0
	for _, o := range a.Objects {
		for _, p := range b.Objects {
			if o == p {
				n++
				break
			}
		}
	}
	return n
}

// placeN draws n objects with random attributes and places them as scenePlace does,
// around the objects already in fixed.
func placeN(rng *rand.Rand, n int, fixed []Object) []Object {
	objs := make([]Object, n)
	for i := range objs {
		objs[i] = randomObject(rng)
	}
	placed := 0
	for layout := 0; layout < maxLayoutTries && placed < n; layout++ {
		for placed = 0; placed < n; placed++ {
			if !placeOne(rng, &objs[placed], append(fixed[:len(fixed):len(fixed)], objs[:placed]...)) {
				break
			}
		}
	}
	return objs[:placed]
}

// placeFresh adds n fresh objects to objs where they fit, each different from every
// object in taken; an object that finds no place is left out.
func placeFresh(rng *rand.Rand, objs []Object, n int, taken []Object) []Object {
	for range n {
		for try := 0; try < maxLayoutTries; try++ {
			o := randomObject(rng)
			if placeOne(rng, &o, objs) && !containsObject(taken, o) {
				objs = append(objs, o)
				break
			}
		}
	}
	return objs
}

func randomObject(rng *rand.Rand) Object {
	return Object{Shape: Shape(rng.IntN(int(numShapes))), Color: Color(rng.IntN(int(numColors))), Size: Size(rng.IntN(int(numSizes)))}
}

// placeOne draws a position for o that fits among objs, in at most maxPlaceTries.
func placeOne(rng *rand.Rand, o *Object, objs []Object) bool {
	r := o.Size.Radius()
	for range maxPlaceTries {
		o.X = r + rng.IntN(SceneSize-2*r)
		o.Y = r + rng.IntN(SceneSize-2*r)
		if sceneFits(*o, objs) {
			return true
		}
	}
	return false
}

func containsObject(objs []Object, o Object) bool {
	for _, p := range objs {
		if p == o {
			return true
		}
	}
	return false
}
