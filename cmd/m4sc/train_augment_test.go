package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// An unknown --augment is refused before anything is loaded.
func TestTrainAugmentFlag(t *testing.T) {
	wd := isolate(t)
	t.Setenv("M4SC_CACHE_DIR", filepath.Join(wd, "no-cache"))
	for _, v := range []string{"heavy", "", "on"} {
		code, _, stderr := runM4sc(t, "train", "--stage", "align", "--augment", v)
		first, _, _ := strings.Cut(stderr, "\n")
		if code == 0 || !strings.Contains(first, `--augment "`+v+`": realistic or off`) {
			t.Errorf("--augment %q: exit %d, %q", v, code, first)
		}
	}
}
