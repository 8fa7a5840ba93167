// Package dataset provides m4sc's corpora and images: State of the Union sentences,
// handwritten digits and generated scenes with captions and questions.
//
// Not built yet: this file holds the place in the layout (issue 5).
package dataset
