//go:build !unix

package main

// restartForBLAS does nothing where a process cannot replace itself (exec): the
// BLAS then runs with the settings it found.
func restartForBLAS() {}
