//go:build unix

package main

import (
	"os"
	"syscall"

	"github.com/m4sc/m4sc/nn"
)

// restartForBLAS starts this program again, with the same arguments and open files,
// when the BLAS library needs settings in its environment at load time that it did
// not have (nn.StartEnv: OpenBLAS's thread count). It returns only
// when there is nothing to do or the restart failed; then the program runs on as it
// is, which is correct, only slower. The pure-Go build never restarts.
func restartForBLAS() {
	env := nn.StartEnv()
	if len(env) == 0 {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	_ = syscall.Exec(exe, os.Args, append(os.Environ(), env...))
}
