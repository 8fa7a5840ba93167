package sigmf

import "testing"

// Files names the files Create writes and Open reads, for every way of naming
// a recording.
func TestFiles(t *testing.T) {
	for _, c := range []struct{ path, meta, data string }{
		{"a.sigmf-meta", "a.sigmf-meta", "a.sigmf-data"},
		{"d/a.sigmf-data", "d/a.sigmf-meta", "d/a.sigmf-data"},
		{"run1", "run1.sigmf-meta", "run1.sigmf-data"},
		{"run.1", "run.1.sigmf-meta", "run.1.sigmf-data"},
		{"x.cs8", "", "x.cs8"},
		{"x.CF32", "", "x.CF32"},
		{"x.cfile", "", "x.cfile"},
	} {
		meta, data, err := Files(c.path)
		if err != nil || meta != c.meta || data != c.data {
			t.Errorf("Files(%q) = %q, %q, %v; want %q, %q", c.path, meta, data, err, c.meta, c.data)
		}
	}
	for _, p := range []string{"", "dir/", "x.sigmf"} {
		if _, _, err := Files(p); err == nil {
			t.Errorf("Files(%q): no error", p)
		}
	}
}
