// Package doccheck holds checks of package documentation rather than of code: its
// tests read the doc comments of the packages they name. It has no API.
//
// A package's doc comment says what the package is, what it is not and where to start;
// measured results belong in a results document next to the commands that reproduce
// them, not in the doc comment; and a reader of the code has no issue tracker at hand,
// so docs and comments do not refer to "the issue".
package doccheck
