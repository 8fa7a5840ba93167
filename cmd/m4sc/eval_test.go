package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/semantic"
)

func TestEvalUsage(t *testing.T) {
	wd := isolate(t)
	t.Setenv("M4SC_CACHE_DIR", filepath.Join(wd, "no-cache"))
	w := tinyWeights(t, wd)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--clean", "--sigma", "0.1"}, "--clean means no noise; it cannot go with --sigma 0.1"},
		{[]string{"--sigma", "-1"}, "--sigma -1"},
		{[]string{"--sigma", "NaN"}, "--sigma NaN"},
		{[]string{"--scenes", "-1"}, "must not be negative"},
		{[]string{"--beam", "-1"}, "--beam -1"},
		{[]string{"--weights", filepath.Join(wd, "missing.safetensors")}, "missing.safetensors"},
		{[]string{"--weights", w}, "run m4sc data fetch first"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runM4sc(t, append([]string{"eval"}, tt.args...)...)
		if first, _, _ := strings.Cut(stderr, "\n"); code != 1 || stdout != "" || !strings.Contains(first, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", tt.args, code, stdout, first, tt.want)
		}
	}
}

// eval on a few real test inputs prints the table, or the report as JSON.
func TestEvalTiny(t *testing.T) {
	cache := realCache(t)
	wd := isolate(t)
	t.Setenv("M4SC_CACHE_DIR", cache)
	w := tinyWeights(t, wd)
	small := []string{"eval", "--weights", w, "--sentences", "3", "--scenes", "2", "--digits", "3"}
	code, stdout, stderr := runM4sc(t, append(small, "--clean")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"clean semantics (sigma 0)", "| task | metric | value | n | 95% CI |",
		"| text.transmit | exact match |", "| image.classify | accuracy | ", "| image.reconstruct | SSIM |"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "eval image.vqa: 2/2 in ") {
		t.Errorf("progress on stderr:\n%s", stderr)
	}
	code, stdout, stderr = runM4sc(t, append(small, "--sigma", "0.3", "--fresh", "--json", "--seed", "5")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r semantic.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if r.Sigma != 0.3 || r.Seed != 5 || r.Transmit.Sentences != 3 || r.Classify.Total != 3 || r.Scenes.Scenes != 2 ||
		r.Fresh == nil || r.Fresh.FirstIndex != semantic.FreshSceneIndex(5) {
		t.Errorf("report %+v", r)
	}
}
