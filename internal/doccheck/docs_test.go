package doccheck

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the module's root, from this package's directory.
const root = "../.."

// packageDoc returns the doc comment of the package in dir (relative to the module
// root).
func packageDoc(t *testing.T, dir string) string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, filepath.Join(root, dir), func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 {
		t.Fatalf("%s: %d packages", dir, len(pkgs))
	}
	var doc string
	for _, p := range pkgs {
		for _, f := range p.Files {
			if f.Doc != nil {
				doc += f.Doc.Text()
			}
		}
	}
	if doc == "" {
		t.Fatalf("%s: no package doc comment", dir)
	}
	return doc
}

// issueRef is a reference to an issue of the tracker: "the issue", "issue 4", "the
// issue's".
var issueRef = regexp.MustCompile(`(?i)\bthe issue\b|\bissue \d`)

// Each package says what it is not, and neither its docs nor its comments (test files
// included) refer to an issue a reader of the code does not have.
func TestPackageDocs(t *testing.T) {
	for _, dir := range []string{"phy", "phy/per", "radio/burst", "radio/spectrum", "calibration", "dataset"} {
		doc := packageDoc(t, dir)
		if !strings.Contains(doc, "is not") && !strings.Contains(doc, "What it is not") {
			t.Errorf("%s: the package doc does not say what the package is not", dir)
		}
		if dir == "dataset" {
			// Only dataset's doc comment is checked here; its code is others' to keep.
			if issueRef.MatchString(doc) {
				t.Errorf("dataset: the package doc refers to an issue")
			}
			continue
		}
		all, _ := filepath.Glob(filepath.Join(root, dir, "*.go"))
		for _, name := range all {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(b), "\n") {
				if c := strings.Index(line, "//"); c >= 0 && issueRef.MatchString(line[c:]) {
					t.Errorf("%s:%d refers to an issue: %s", name, i+1, strings.TrimSpace(line))
				}
			}
		}
	}
}

// phy's doc is a description, not a lab notebook: no result tables, a few dozen lines;
// the tables live in phy/RESULTS.md with the commands that reproduce them, and the README
// links there.
func TestPhyResultsOutOfTheDoc(t *testing.T) {
	doc := packageDoc(t, "phy")
	if n := strings.Count(doc, "\n"); n > 60 {
		t.Errorf("phy's package doc has %d lines; keep it to what the package is (results go to phy/RESULTS.md)", n)
	}
	if strings.Contains(doc, "PER of ") || regexp.MustCompile(`\d\.\d{4}\s+\d\.\d{4}`).MatchString(doc) {
		t.Error("phy's package doc holds a result table; move it to phy/RESULTS.md")
	}
	if !strings.Contains(doc, "phy/RESULTS.md") {
		t.Error("phy's package doc does not point to phy/RESULTS.md")
	}
	b, err := os.ReadFile(filepath.Join(root, "phy/RESULTS.md"))
	if err != nil {
		t.Fatal(err)
	}
	res := string(b)
	for _, want := range []string{
		"m4sc phy per --snr 0:24:1 --frames 1000",
		"--rx loopback:hackrf,ppm=-40.816,channel=tdl-c,ds=100,doppler=5",
		"--rx loopback:hackrf,ppm=-40.816,channel=epa",
		"-bench '^BenchmarkReceiver24Mbps$'",
		"bench/ofdm_peer.sh",
		"bench/viterbi_peer.sh",
	} {
		if !strings.Contains(res, want) {
			t.Errorf("phy/RESULTS.md lacks the command %q", want)
		}
	}
	if n := strings.Count(res, "PER of 1000-octet PSDUs, 1000 frames per point"); n != 3 {
		t.Errorf("phy/RESULTS.md holds %d PER tables, want 3 (AWGN, TDL-C, EPA)", n)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "(phy/RESULTS.md)") {
		t.Error("README.md does not link phy/RESULTS.md")
	}
}
