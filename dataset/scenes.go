package dataset

import (
	"image"
	"image/color"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Scene geometry. A scene is SceneSize x SceneSize RGB pixels on a black background.
const (
	// SceneSize is the width and height of a rendered scene, in pixels.
	SceneSize = 32
	// SceneChannels is the number of colour channels (R, G, B).
	SceneChannels = 3
	// ScenePixels is the length of Scene.Pixels: SceneSize*SceneSize*SceneChannels bytes.
	ScenePixels = SceneSize * SceneSize * SceneChannels
	// MaxObjects is the largest number of objects in a scene; the smallest is one.
	MaxObjects = 4
	// MinColumnGap is the least horizontal distance, in pixels, between the centres of
	// any two objects, so "left of" is never decided by a single pixel.
	MinColumnGap = 3
	// MinRowGap is the least vertical distance, in pixels, between two centres for an
	// above/below question to be asked about them.
	MinRowGap = 3
	// maxPlaceTries and maxLayoutTries bound the rejection sampler; see scenePlace.
	maxPlaceTries  = 50
	maxLayoutTries = 100
)

// Shape is the form of a scene object.
type Shape uint8

// The three shapes.
const (
	Square Shape = iota
	Circle
	Triangle
	numShapes
)

// NumShapes, NumColors and NumSizes count the values of Shape, Color and Size.
const (
	NumShapes = int(numShapes)
	NumColors = int(numColors)
	NumSizes  = int(numSizes)
)

var shapeNames = [numShapes]string{"square", "circle", "triangle"}

// String returns the shape's name as used in captions and answers.
func (s Shape) String() string {
	if s < numShapes {
		return shapeNames[s]
	}
	return "shape(" + strconv.Itoa(int(s)) + ")"
}

// Color is the colour of a scene object.
type Color uint8

// The eight colours. None of them is black, the background.
const (
	Red Color = iota
	Green
	Blue
	Yellow
	Cyan
	Magenta
	White
	Gray
	numColors
)

var colorNames = [numColors]string{"red", "green", "blue", "yellow", "cyan", "magenta", "white", "gray"}

// colorRGB holds values chosen to be far apart in RGB so a 32x32 model can tell them
// apart from a single pixel: every pair differs by at least 127 in some channel.
var colorRGB = [numColors][3]uint8{
	{255, 0, 0},
	{0, 255, 0},
	{0, 0, 255},
	{255, 255, 0},
	{0, 255, 255},
	{255, 0, 255},
	{255, 255, 255},
	{128, 128, 128},
}

// String returns the colour's name as used in captions and answers.
func (c Color) String() string {
	if c < numColors {
		return colorNames[c]
	}
	return "color(" + strconv.Itoa(int(c)) + ")"
}

// RGB returns the colour's 8-bit red, green and blue values.
func (c Color) RGB() (r, g, b uint8) {
	if c >= numColors {
		return 0, 0, 0
	}
	v := colorRGB[c]
	return v[0], v[1], v[2]
}

// Size is the size class of a scene object.
type Size uint8

// The two sizes.
const (
	Small Size = iota
	Large
	numSizes
)

var sizeNames = [numSizes]string{"small", "large"}

// sizeRadius is the half-extent in pixels: an object covers at most the
// (2r+1)x(2r+1) square around its centre.
var sizeRadius = [numSizes]int{3, 5}

// String returns the size's name as used in captions and answers.
func (s Size) String() string {
	if s < numSizes {
		return sizeNames[s]
	}
	return "size(" + strconv.Itoa(int(s)) + ")"
}

// Radius returns the half-extent of an object of this size, in pixels.
func (s Size) Radius() int {
	if s < numSizes {
		return sizeRadius[s]
	}
	return 0
}

// Object is one shape in a scene. X grows to the right and Y grows downwards, both in
// pixels from the top-left corner; (X, Y) is the centre pixel, which is always painted.
type Object struct {
	Shape Shape
	Color Color
	Size  Size
	X, Y  int
}

// Phrase returns "size colour shape", for example "large red circle".
func (o Object) Phrase() string {
	return o.Size.String() + " " + o.Color.String() + " " + o.Shape.String()
}

// QuestionKind says what a question asks about.
type QuestionKind uint8

// The question kinds.
const (
	AskColor QuestionKind = iota
	AskShape
	AskSize
	AskCount
	AskExist
	AskRelation
	// NumQuestionKinds is the number of question kinds.
	NumQuestionKinds = int(AskRelation) + 1
)

var kindNames = [...]string{"color", "shape", "size", "count", "exist", "relation"}

func (k QuestionKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// QA is a question about a scene with its single correct answer, a word of
// AnswerVocabulary.
type QA struct {
	Kind     QuestionKind
	Question string
	Answer   string
	// Roles says which of the scene's objects (Scene.Objects, by index) the question
	// is about: RoleNamed for the object an attribute question describes, for every
	// object a count or existence question counts, and for the first object a
	// relation names; RoleSecond for the object a relation compares it with; RoleNone
	// for the rest. Training can supervise with it where a model attends (package llm).
	Roles [MaxObjects]Role
	// Toward is a relation question's direction, DirNone for other kinds: the answer
	// is yes exactly when the named object lies that way of the second one.
	Toward Direction
}

// Direction is the way a relation question looks (QA.Toward).
type Direction uint8

// The directions, DirNone for questions that are not relations.
const (
	DirNone Direction = iota
	DirLeft
	DirRight
	DirAbove
	DirBelow
)

// Vector is the unit step of the direction in image coordinates (x right, y down),
// (0, 0) for DirNone: a relation's answer is yes exactly when this vector's dot
// product with (named centre - second centre) is positive.
func (d Direction) Vector() (dx, dy int) {
	switch d {
	case DirLeft:
		return -1, 0
	case DirRight:
		return 1, 0
	case DirAbove:
		return 0, -1
	case DirBelow:
		return 0, 1
	}
	return 0, 0
}

// Role is an object's part in a question (QA.Roles).
type Role uint8

// The roles.
const (
	RoleNone Role = iota
	RoleNamed
	RoleSecond
	// NumRoles is the number of roles.
	NumRoles = int(RoleSecond) + 1
)

// Scene is one generated scene.
type Scene struct {
	// Seed is the seed GenerateScene was called with.
	Seed uint64
	// Objects are sorted left to right by X (centres are at least MinColumnGap apart
	// horizontally, so the order is strict); the caption lists them in this order.
	Objects []Object
	// Pixels is the rendered image, 8-bit RGB in HWC order:
	// Pixels[(y*SceneSize+x)*3+c], length ScenePixels.
	Pixels []uint8
	// Caption lists every object left to right, joined by " left of ":
	// "a large red circle left of a small blue square".
	Caption string
	// QA holds every question the templates produce whose answer is unambiguous for
	// this scene, in a deterministic order.
	QA []QA
}

// AnswerVocabulary returns the closed set of answers: colour names, shape names,
// sizes, the counts "0" to "4", "yes" and "no".
func AnswerVocabulary() []string {
	v := make([]string, 0, int(numColors)+int(numShapes)+int(numSizes)+MaxObjects+3)
	v = append(v, colorNames[:]...)
	v = append(v, shapeNames[:]...)
	v = append(v, sizeNames[:]...)
	for i := 0; i <= MaxObjects; i++ {
		v = append(v, strconv.Itoa(i))
	}
	return append(v, "yes", "no")
}

// SceneSplit names a disjoint range of scene seeds.
type SceneSplit uint8

// The scene splits. Training seeds have bit 63 clear and test seeds have it set, so no
// seed belongs to both.
const (
	SceneTrain SceneSplit = iota
	SceneTest
)

const sceneTestBit = uint64(1) << 63

// Seed returns the index-th seed of the split. Only the low 63 bits of index are used,
// so the split holds 2^63 distinct seeds.
func (s SceneSplit) Seed(index uint64) uint64 {
	index &^= sceneTestBit
	if s == SceneTest {
		return index | sceneTestBit
	}
	return index
}

// SceneSplitOf returns the split a seed belongs to.
func SceneSplitOf(seed uint64) SceneSplit {
	if seed&sceneTestBit != 0 {
		return SceneTest
	}
	return SceneTrain
}

func (s SceneSplit) String() string {
	if s == SceneTest {
		return "test"
	}
	return "train"
}

// sceneStream separates the scene generator's PCG stream from other users of the same
// seed.
const sceneStream = 0x5ce7e5ce7e5ce7e5

// GenerateScene returns the scene for seed. The same seed always gives the same scene,
// byte for byte, on every platform.
func GenerateScene(seed uint64) Scene {
	rng := rand.New(rand.NewPCG(seed, sceneStream))
	objs := scenePlace(rng)
	s := Scene{
		Seed:    seed,
		Objects: objs,
		Pixels:  make([]uint8, ScenePixels),
	}
	sceneRender(s.Pixels, objs)
	s.Caption = sceneCaption(objs)
	s.QA = sceneQuestions(rng, objs)
	return s
}

// scenePlace draws the number of objects, their attributes and positions by rejection
// sampling: a position is kept when its bounding square leaves at least one background
// pixel between it and every earlier object, and its centre is at least MinColumnGap
// from every earlier centre horizontally. Four large objects fit on the canvas, but
// earlier placements can leave no room for a later one, so when an object finds no
// place in maxPlaceTries draws the whole layout is drawn again, up to maxLayoutTries
// times; only then does the scene keep the objects already placed (measured by
// TestScenePlacementShortfall).
func scenePlace(rng *rand.Rand) []Object {
	objs := placeN(rng, 1+rng.IntN(MaxObjects), nil)
	sort.Slice(objs, func(i, j int) bool { return objs[i].X < objs[j].X })
	return objs
}

func sceneFits(o Object, objs []Object) bool {
	for _, p := range objs {
		dx, dy := sceneAbs(o.X-p.X), sceneAbs(o.Y-p.Y)
		if dx < MinColumnGap {
			return false
		}
		gap := o.Size.Radius() + p.Size.Radius() + 2
		if dx < gap && dy < gap {
			return false
		}
	}
	return true
}

func sceneAbs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// covers reports whether the object paints pixel (x, y).
func (o Object) covers(x, y int) bool {
	r := o.Size.Radius()
	dx, dy := x-o.X, y-o.Y
	if sceneAbs(dx) > r || sceneAbs(dy) > r {
		return false
	}
	switch o.Shape {
	case Square:
		return true
	case Circle:
		// r*r+r rounds the disc so its rim is not a lone pixel at each pole.
		return dx*dx+dy*dy <= r*r+r
	case Triangle:
		// Apex up at row -r, base 2r+1 wide at row +r; half-width grows by one
		// pixel every two rows.
		return 2*sceneAbs(dx) <= dy+r
	}
	return false
}

func sceneRender(dst []uint8, objs []Object) {
	for _, o := range objs {
		r := o.Size.Radius()
		cr, cg, cb := o.Color.RGB()
		for y := o.Y - r; y <= o.Y+r; y++ {
			for x := o.X - r; x <= o.X+r; x++ {
				if x < 0 || y < 0 || x >= SceneSize || y >= SceneSize || !o.covers(x, y) {
					continue
				}
				i := (y*SceneSize + x) * SceneChannels
				dst[i], dst[i+1], dst[i+2] = cr, cg, cb
			}
		}
	}
}

func sceneCaption(objs []Object) string {
	var b strings.Builder
	for i, o := range objs {
		if i > 0 {
			b.WriteString(" left of ")
		}
		b.WriteString("a ")
		b.WriteString(o.Phrase())
	}
	return b.String()
}

// Attribute masks for referring expressions.
const (
	useShape = 1 << iota
	useColor
	useSize
)

// refOrder lists attribute sets from least to most specific, so the shortest unique
// description of an object is found first.
var refOrder = [...]int{
	useShape, useColor, useSize,
	useColor | useShape, useSize | useShape, useSize | useColor,
	useSize | useColor | useShape,
}

func sceneMatches(o, p Object, mask int) bool {
	return (mask&useShape == 0 || o.Shape == p.Shape) &&
		(mask&useColor == 0 || o.Color == p.Color) &&
		(mask&useSize == 0 || o.Size == p.Size)
}

func sceneDescribe(o Object, mask int) string {
	var parts []string
	if mask&useSize != 0 {
		parts = append(parts, o.Size.String())
	}
	if mask&useColor != 0 {
		parts = append(parts, o.Color.String())
	}
	if mask&useShape != 0 {
		parts = append(parts, o.Shape.String())
	} else {
		parts = append(parts, "object")
	}
	return strings.Join(parts, " ")
}

// sceneRef returns the shortest description of objs[i], using only attributes in allowed,
// that matches no other object; ok is false when there is none.
func sceneRef(objs []Object, i, allowed int) (string, bool) {
	for _, mask := range refOrder {
		if mask&^allowed != 0 {
			continue
		}
		n := 0
		for _, p := range objs {
			if sceneMatches(objs[i], p, mask) {
				n++
			}
		}
		if n == 1 {
			return sceneDescribe(objs[i], mask), true
		}
	}
	return "", false
}

func sceneCountWhere(objs []Object, f func(Object) bool) int {
	n := 0
	for _, o := range objs {
		if f(o) {
			n++
		}
	}
	return n
}

func sceneYesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// sceneQuestions builds every template question with a unique answer, in this order:
// attribute questions per object (left to right), counts, existence, relations per
// pair. The rng picks the absent colours and combinations asked about and which way
// round relation questions are phrased, so their answers are yes or no with equal
// probability.
func sceneQuestions(rng *rand.Rand, objs []Object) []QA {
	var qs []QA
	seen := make(map[string]bool)
	// add records a question; named are the objects it is about (RoleNamed), second
	// the object a relation compares with (RoleSecond), or -1.
	add := func(k QuestionKind, q, a string, named func(Object) bool, second int) *QA {
		if seen[q] {
			return nil
		}
		seen[q] = true
		qa := QA{Kind: k, Question: q, Answer: a}
		for j, o := range objs {
			if named(o) {
				qa.Roles[j] = RoleNamed
			}
		}
		if second >= 0 {
			qa.Roles[second] = RoleSecond
		}
		qs = append(qs, qa)
		return &qs[len(qs)-1]
	}
	just := func(i int) func(Object) bool {
		return func(o Object) bool { return o == objs[i] }
	}
	// relate adds a relation question and records its direction.
	relate := func(q, a string, first, second int, dir Direction) {
		if r := add(AskRelation, q, a, just(first), second); r != nil {
			r.Toward = dir
		}
	}
	for i, o := range objs {
		if d, ok := sceneRef(objs, i, useShape|useSize); ok {
			add(AskColor, "what color is the "+d+"?", o.Color.String(), just(i), -1)
		}
		if d, ok := sceneRef(objs, i, useColor|useSize); ok {
			add(AskShape, "what shape is the "+d+"?", o.Shape.String(), just(i), -1)
		}
		if d, ok := sceneRef(objs, i, useColor|useShape); ok {
			add(AskSize, "what size is the "+d+"?", o.Size.String(), just(i), -1)
		}
	}

	add(AskCount, "how many objects are there?", strconv.Itoa(len(objs)), func(Object) bool { return true }, -1)
	for s := Shape(0); s < numShapes; s++ {
		is := func(o Object) bool { return o.Shape == s }
		add(AskCount, "how many "+s.String()+"s are there?", strconv.Itoa(sceneCountWhere(objs, is)), is, -1)
	}
	for z := Size(0); z < numSizes; z++ {
		is := func(o Object) bool { return o.Size == z }
		add(AskCount, "how many "+z.String()+" objects are there?", strconv.Itoa(sceneCountWhere(objs, is)), is, -1)
	}
	var present [numColors]bool
	for _, o := range objs {
		present[o.Color] = true
	}
	absent := Color(rng.IntN(int(numColors)))
	for c := Color(0); c < numColors; c++ {
		if present[c] || c == absent {
			is := func(o Object) bool { return o.Color == c }
			add(AskCount, "how many "+c.String()+" objects are there?", strconv.Itoa(sceneCountWhere(objs, is)), is, -1)
		}
	}

	for _, o := range objs {
		is := func(p Object) bool { return p.Color == o.Color && p.Shape == o.Shape }
		add(AskExist, "is there a "+o.Color.String()+" "+o.Shape.String()+"?", "yes", is, -1)
	}
	c, s := Color(rng.IntN(int(numColors))), Shape(rng.IntN(int(numShapes)))
	isCS := func(o Object) bool { return o.Color == c && o.Shape == s }
	add(AskExist, "is there a "+c.String()+" "+s.String()+"?", sceneYesNo(sceneCountWhere(objs, isCS) > 0), isCS, -1)
	z, s := Size(rng.IntN(int(numSizes))), Shape(rng.IntN(int(numShapes)))
	isZS := func(o Object) bool { return o.Size == z && o.Shape == s }
	add(AskExist, "is there a "+z.String()+" "+s.String()+"?", sceneYesNo(sceneCountWhere(objs, isZS) > 0), isZS, -1)

	all := useShape | useColor | useSize
	for i := range objs {
		for j := i + 1; j < len(objs); j++ {
			di, oki := sceneRef(objs, i, all)
			dj, okj := sceneRef(objs, j, all)
			if !oki || !okj {
				continue
			}
			ia, ib, da, db := i, j, di, dj
			if rng.IntN(2) == 1 {
				ia, ib, da, db = j, i, dj, di
			}
			a, b := objs[ia], objs[ib]
			if rng.IntN(2) == 0 {
				relate("is the "+da+" left of the "+db+"?", sceneYesNo(a.X < b.X), ia, ib, DirLeft)
			} else {
				relate("is the "+da+" right of the "+db+"?", sceneYesNo(a.X > b.X), ia, ib, DirRight)
			}
			if sceneAbs(a.Y-b.Y) >= MinRowGap {
				if rng.IntN(2) == 0 {
					relate("is the "+da+" above the "+db+"?", sceneYesNo(a.Y < b.Y), ia, ib, DirAbove)
				} else {
					relate("is the "+da+" below the "+db+"?", sceneYesNo(a.Y > b.Y), ia, ib, DirBelow)
				}
			}
		}
	}
	return qs
}

// Image returns the scene as an image.RGBA that shares nothing with s.Pixels.
func (s *Scene) Image() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, SceneSize, SceneSize))
	for y := 0; y < SceneSize; y++ {
		for x := 0; x < SceneSize; x++ {
			i := (y*SceneSize + x) * SceneChannels
			img.SetRGBA(x, y, color.RGBA{s.Pixels[i], s.Pixels[i+1], s.Pixels[i+2], 255})
		}
	}
	return img
}

// CHW appends the image to dst as float32 in CHW order, shape [3, 32, 32], each value
// the 8-bit channel divided by 255 (so in [0, 1]), and returns the extended slice.
// dst may be nil; with enough capacity CHW does not allocate.
func (s *Scene) CHW(dst []float32) []float32 {
	const plane = SceneSize * SceneSize
	n := len(dst)
	dst = append(dst, make([]float32, ScenePixels)...)
	out := dst[n:]
	for p := 0; p < plane; p++ {
		for c := 0; c < SceneChannels; c++ {
			out[c*plane+p] = float32(s.Pixels[p*SceneChannels+c]) / 255
		}
	}
	return dst
}
