package phy

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const (
	modulePath = "github.com/m4sc/m4sc"
	radioPath  = modulePath + "/radio"
)

// Package phy is pure DSP: neither it nor any package of the module it imports, however
// indirectly, imports radio or a package under it, whatever the build tags. What
// drives radios with phy lives elsewhere (phy/per, radio/burst, calibration). Tests
// may use the loopback simulator's channel as a fixture: a test file is not part of
// the package.
func TestImportsNoRadio(t *testing.T) {
	seen := map[string]bool{}
	var visit func(pkg string, chain []string)
	visit = func(pkg string, chain []string) {
		if seen[pkg] {
			return
		}
		seen[pkg] = true
		dir := filepath.Join("..", filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(pkg, modulePath), "/")))
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files in %s (%v)", pkg, dir, err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				via := append(chain[:len(chain):len(chain)], p)
				if p == radioPath || strings.HasPrefix(p, radioPath+"/") {
					t.Errorf("%s imports %s (%s)", filepath.Base(name), p, strings.Join(via, " -> "))
				}
				if strings.HasPrefix(p, modulePath+"/") {
					visit(p, via)
				}
			}
		}
	}
	if _, err := os.Stat("doc.go"); err != nil {
		t.Fatalf("run from the phy directory: %v", err)
	}
	visit(modulePath+"/phy", []string{modulePath + "/phy"})
}
