// Package repocheck holds checks of the repository itself rather than of any
// package's code: its tests walk the files that git tracks. It has no API.
//
// The Go module proxy builds a zip of the module and refuses it when any file path
// fails golang.org/x/mod/module.CheckFilePath (for example a file named aux.go,
// reserved on Windows), and `go get` of the module then fails. TestFilePaths applies
// the same rules to every tracked path, so such a name fails in CI instead.
package repocheck
