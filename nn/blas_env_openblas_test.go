//go:build openblas

package nn

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestStartEnv: OPENBLAS_NUM_THREADS=1 is asked for only when the variable is unset.
func TestStartEnv(t *testing.T) {
	t.Setenv("OPENBLAS_NUM_THREADS", "3")
	if env := StartEnv(); env != nil {
		t.Errorf("StartEnv with OPENBLAS_NUM_THREADS=3 set = %q, want nil", env)
	}
	os.Unsetenv("OPENBLAS_NUM_THREADS") // t.Setenv restores the value it found
	if env := StartEnv(); !slices.Equal(env, []string{"OPENBLAS_NUM_THREADS=1"}) {
		t.Errorf("StartEnv with OPENBLAS_NUM_THREADS unset = %q, want [OPENBLAS_NUM_THREADS=1]", env)
	}
}

// TestAdviceL2: an OPENBLAS_L2_SIZE below the cache Linux reports is named, one at
// or above it is not, and a value that is not a number is ignored.
func TestAdviceL2(t *testing.T) {
	have := l2KiB()
	if have == 0 {
		t.Skip("no level-2 cache size under /sys on this machine")
	}
	count := func() int {
		n := 0
		for _, a := range Advice() {
			if strings.Contains(a, "OPENBLAS_L2_SIZE") {
				n++
			}
		}
		return n
	}
	t.Setenv("OPENBLAS_L2_SIZE", "1")
	if count() != 1 {
		t.Errorf("OPENBLAS_L2_SIZE=1 with a %d KiB cache: not named in %q", have, Advice())
	}
	for _, v := range []string{"1048576", "big", ""} {
		t.Setenv("OPENBLAS_L2_SIZE", v)
		if count() != 0 {
			t.Errorf("OPENBLAS_L2_SIZE=%q with a %d KiB cache: named in %q", v, have, Advice())
		}
	}
}
