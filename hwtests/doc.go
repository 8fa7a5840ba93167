// Package hwtests holds the tests that need real radios (build tag hwtest); each skips
// with a message when its devices are absent.
//
// Not built yet: this file holds the place in the layout (issue 6).
package hwtests
