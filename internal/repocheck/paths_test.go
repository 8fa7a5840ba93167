package repocheck

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// checkFilePath reports whether path may appear in a Go module zip. It follows
// golang.org/x/mod/module.CheckFilePath (module/module.go: checkPath with kind
// filePath, checkElem, fileNameOK, badWindowsNames), which this module does not
// require; a copy of its rules keeps go.mod as it is:
//
//   - valid UTF-8, not empty, no "//", no trailing '/';
//   - every element non-empty, not made of dots only, not ending in a dot;
//   - element characters: ASCII letters, digits and !#$%&()+,-.=@[]^_{}~ and space,
//     or a Unicode letter;
//   - the element up to its first dot is none of Windows's reserved device names
//     CON, PRN, AUX, NUL, COM1-COM9, LPT1-LPT9, in any case ("aux.go", "Nul.txt").
func checkFilePath(path string) error {
	switch {
	case !utf8.ValidString(path):
		return errors.New("invalid UTF-8")
	case path == "":
		return errors.New("empty string")
	case strings.Contains(path, "//"):
		return errors.New("double slash")
	case strings.HasSuffix(path, "/"):
		return errors.New("trailing slash")
	}
	for _, elem := range strings.Split(path, "/") {
		if err := checkElem(elem); err != nil {
			return fmt.Errorf("element %q: %w", elem, err)
		}
	}
	return nil
}

// badWindowsNames are the device names Windows reserves whatever the extension
// (https://learn.microsoft.com/windows/win32/fileio/naming-a-file).
var badWindowsNames = []string{
	"CON", "PRN", "AUX", "NUL",
	"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
	"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
}

func checkElem(elem string) error {
	switch {
	case elem == "":
		return errors.New("empty path element")
	case strings.Count(elem, ".") == len(elem):
		return errors.New("made of dots only")
	case strings.HasSuffix(elem, "."):
		return errors.New("trailing dot")
	}
	for _, r := range elem {
		if !fileNameOK(r) {
			return fmt.Errorf("invalid character %q", r)
		}
	}
	short, _, _ := strings.Cut(elem, ".")
	for _, bad := range badWindowsNames {
		if strings.EqualFold(bad, short) {
			return fmt.Errorf("%q is a reserved file name on Windows", short)
		}
	}
	return nil
}

// fileNameOK is x/mod's set: shell specials " ' * < > ? ` | and the separators
// / : \ are out.
func fileNameOK(r rune) bool {
	if r < utf8.RuneSelf {
		const allowed = "!#$%&()+,-.=@[]^_{}~ "
		return '0' <= r && r <= '9' || 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || strings.ContainsRune(allowed, r)
	}
	return unicode.IsLetter(r)
}

// The rules themselves, one line per case, including the name that started this
// test (llm/aux.go).
func TestCheckFilePath(t *testing.T) {
	for _, c := range []struct {
		path string
		ok   bool
	}{
		{"llm/heads.go", true},
		{"llm/weights/model.safetensors", true},
		{".ci/run", true},
		{"dir with space/a+b=c_(1).txt", true},
		{"café/ünïcode.go", true},
		{"consent/console.go", true}, // only whole names before the first dot are reserved
		{"com10.go", true},
		{"llm/aux.go", false},
		{"AUX", false},
		{"x/Nul.tar.gz", false},
		{"com1.txt", false},
		{"lpt9/a.go", false},
		{"prn.md", false},
		{"con", false},
		{"", false},
		{"a//b", false},
		{"a/", false},
		{"a/./b", false},
		{"a/../b", false},
		{"...", false},
		{"name.", false},
		{"what?.go", false},
		{"a:b", false},
		{`a\b`, false},
		{"a*b", false},
		{"quote\"d", false},
		{"tab\there", false},
		{"\xff.go", false},
		{"emoji\U0001F600.go", false},
	} {
		if err := checkFilePath(c.path); (err == nil) != c.ok {
			t.Errorf("checkFilePath(%q) = %v, want ok %v", c.path, err, c.ok)
		}
	}
}

// trackedFiles returns every path git tracks in the repository holding this
// directory, or skips the test when git or the repository is not there (a module
// zip, a tarball).
func trackedFiles(t *testing.T) []string {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not on PATH")
	}
	out, err := exec.Command(git, "ls-files", "-z", "--full-name", ":/").Output()
	if err != nil {
		t.Skipf("not in a git work tree: %v", err)
	}
	var paths []string
	for _, p := range bytes.Split(out, []byte{0}) {
		if len(p) > 0 {
			paths = append(paths, string(p))
		}
	}
	if len(paths) == 0 {
		t.Skip("git tracks no files here")
	}
	return paths
}

// Every tracked path can go into a module zip: it passes CheckFilePath's rules, and
// no two paths differ only in case (the zip check also refuses those, and they
// collide on case-insensitive file systems).
func TestFilePaths(t *testing.T) {
	paths := trackedFiles(t)
	folded := make(map[string]string, len(paths))
	for _, p := range paths {
		if err := checkFilePath(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		// Directories collide too: compare every prefix.
		for i := 0; i <= len(p); i++ {
			if i < len(p) && p[i] != '/' {
				continue
			}
			prefix := p[:i]
			key := strings.ToLower(prefix)
			if other, ok := folded[key]; ok && other != prefix {
				t.Errorf("%s and %s differ only in case", other, prefix)
			}
			folded[key] = prefix
		}
	}
	t.Logf("%d tracked paths checked", len(paths))
}
