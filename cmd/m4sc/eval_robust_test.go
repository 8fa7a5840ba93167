package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// --n goes with --robust only, and --robust with clean, greedy decoding of the test
// scenes.
func TestEvalRobustUsage(t *testing.T) {
	wd := isolate(t)
	t.Setenv("M4SC_CACHE_DIR", filepath.Join(wd, "no-cache"))
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--n", "5"}, "--n 5: a positive count of scenes and digits, with --robust"},
		{[]string{"--robust", "--n", "-1"}, "--n -1"},
		{[]string{"--robust", "--sigma", "0.1"}, "--robust scores clean semantics"},
		{[]string{"--robust", "--fresh"}, "--robust scores clean semantics"},
	} {
		code, stdout, stderr := runM4sc(t, append([]string{"eval"}, tt.args...)...)
		if first, _, _ := strings.Cut(stderr, "\n"); code != 1 || stdout != "" || !strings.Contains(first, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", tt.args, code, stdout, first, tt.want)
		}
	}
}
