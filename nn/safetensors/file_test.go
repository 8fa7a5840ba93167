package safetensors

import (
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/internal/atomicfile"
)

func TestWriteFileReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	f := File{
		Tensors:  []Tensor{{Name: "w", Dtype: BF16, Shape: []int{2}, Data: []float32{1, -2}}},
		Metadata: map[string]string{"format": "pt"},
	}
	for range 2 { // the second write replaces the first
		if err := WriteFile(path, f); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tensors) != 1 || !sameTensor(&got.Tensors[0], &f.Tensors[0]) || got.Metadata["format"] != "pt" {
		t.Fatalf("got %+v", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the file", len(entries))
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", st.Mode())
	}

	// A failed write leaves the old file and no temporary behind.
	bad := File{Tensors: []Tensor{{Name: "", Dtype: F32}}}
	if err := WriteFile(path, bad); err == nil {
		t.Fatal("no error for an invalid File")
	}
	if _, err := ReadFile(path); err != nil {
		t.Fatalf("old file damaged: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary file left behind: %v", entries)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x.safetensors"), f); err == nil {
		t.Fatal("no error for a missing directory")
	}
	if _, err := ReadFile(filepath.Join(dir, "nope")); err == nil {
		t.Fatal("no error for a missing file")
	}
	if err := os.WriteFile(filepath.Join(dir, "junk"), []byte("not a safetensors file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(filepath.Join(dir, "junk")); err == nil || !strings.Contains(err.Error(), "junk") {
		t.Fatalf("error %v does not name the file", err)
	}
}

// failAfter passes n bytes to w, then fails, or calls stop if it is not nil.
type failAfter struct {
	w    io.Writer
	n    int
	stop func()
}

var errDiskFull = errors.New("test: disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n = 0
		if f.stop != nil {
			f.stop()
		}
		return k, errDiskFull
	}
	f.n -= len(p)
	return f.w.Write(p)
}

// bigFile is a File of about 8 MiB, more than WriteFile buffers, so that a
// write of it reaches the disk in several parts.
func bigFile() File {
	return File{Tensors: []Tensor{{Name: "w", Dtype: F32, Shape: []int{1 << 21}, Data: make([]float32, 1<<21)}}}
}

// oldFile writes a small safetensors file at dir/name and returns its path and bytes.
func oldFile(t *testing.T, dir, name string) (string, []byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := WriteFile(path, File{Tensors: []Tensor{{Name: "old", Dtype: F32, Shape: []int{1}, Data: []float32{7}}}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

// checkOnly fails unless dir holds exactly one file, name, with content want.
func checkOnly(t *testing.T, dir, name string, want []byte) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{name}) {
		t.Errorf("directory holds %q, want only %q", names, name)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, name)); !slices.Equal(b, want) {
		t.Errorf("the old file was changed: %d bytes, want %d", len(b), len(want))
	}
}

// A write that fails half-way (the disk full) returns the error and leaves the
// old file as it was and nothing else.
func TestWriteFileFailsMidway(t *testing.T) {
	for _, n := range []int{0, 8, 100, 1 << 20, 3<<20 + 5} {
		dir := t.TempDir()
		path, old := oldFile(t, dir, "model.safetensors")
		err := writeFile(path, bigFile(), func(w io.Writer) io.Writer { return &failAfter{w: w, n: n} })
		if !errors.Is(err, errDiskFull) {
			t.Errorf("failing after %d bytes: error %v, want the writer's", n, err)
		}
		checkOnly(t, dir, "model.safetensors", old)
	}
}

const killEnv = "SAFETENSORS_TEST_KILL_DIR"

// A process killed while it writes a checkpoint leaves the old file and nothing
// else (where temporary files are unnamed: Linux).
func TestKilledWriteLeavesNoLitter(t *testing.T) {
	if dir := os.Getenv(killEnv); dir != "" {
		kill := func() {
			p, _ := os.FindProcess(os.Getpid())
			p.Kill()
			select {}
		}
		writeFile(filepath.Join(dir, "model.safetensors"), bigFile(), func(w io.Writer) io.Writer {
			return &failAfter{w: w, n: 3 << 20, stop: kill}
		})
		os.Exit(3) // not reached
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	if !atomicfile.Unnamed(dir) {
		t.Skip("no unnamed temporary files here: a killed writer leaves its hidden .tmp file")
	}
	_, old := oldFile(t, dir, "model.safetensors")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriteLeavesNoLitter$")
	cmd.Env = append(os.Environ(), killEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Exited() {
		t.Fatalf("child was not killed: %v\n%s", err, out)
	}
	checkOnly(t, dir, "model.safetensors", old)
}

func TestCheckpointRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	nan := math.Float32frombits(0x7fa00001)
	c := Checkpoint{
		Step: 123456789012,
		Params: []Tensor{
			{Name: "llm/block0/attn/wq", Dtype: F32, Shape: []int{2, 2}, Data: []float32{1, float32(math.Copysign(0, -1)), nan, 0x1p-140}},
			{Name: "llm/emb", Dtype: F64, Shape: []int{3}, Data64: []float64{math.Pi, -1e-310, math.Inf(-1)}},
		},
		Optimizer: []Tensor{
			{Name: "llm/block0/attn/wq/m", Dtype: F32, Shape: []int{2, 2}, Data: []float32{0.1, 0.2, 0.3, 0.4}},
			{Name: "llm/block0/attn/wq/v", Dtype: F32, Shape: []int{2, 2}, Data: []float32{1e-8, 2e-8, 3e-8, 4e-8}},
			{Name: "llm/emb/m", Dtype: F64, Shape: []int{3}, Data64: []float64{1, 2, 3}},
		},
		Meta: map[string]string{"lr": "3e-4", "seed": "42", "data/position": "1234"},
	}
	if err := SaveCheckpoint(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Step != c.Step || len(got.Meta) != len(c.Meta) {
		t.Fatalf("step %d meta %v", got.Step, got.Meta)
	}
	for k, v := range c.Meta {
		if got.Meta[k] != v {
			t.Errorf("Meta[%q] = %q, want %q", k, got.Meta[k], v)
		}
	}
	check := func(kind string, want, have []Tensor) {
		if len(have) != len(want) {
			t.Fatalf("%s: %d tensors, want %d", kind, len(have), len(want))
		}
		h := File{Tensors: have}
		for i := range want {
			g, ok := h.Lookup(want[i].Name)
			if !ok || !sameTensor(g, &want[i]) {
				t.Errorf("%s %q: got %+v, want %+v", kind, want[i].Name, g, want[i])
			}
		}
	}
	check("param", c.Params, got.Params)
	check("optimiser", c.Optimizer, got.Optimizer)

	// The optimiser state is visible to plain safetensors readers under its prefix.
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Lookup("optim/llm/block0/attn/wq/v"); !ok || f.Metadata[StepKey] != "123456789012" {
		t.Fatalf("layout: %v", f.Metadata)
	}
}

func TestCheckpointErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.safetensors")
	one := []Tensor{{Name: "w", Dtype: F32, Shape: []int{1}, Data: []float32{1}}}
	bad := []struct {
		name string
		c    Checkpoint
	}{
		{"negative step", Checkpoint{Step: -1}},
		{"reserved meta key", Checkpoint{Meta: map[string]string{"m4sc.lr": "1"}}},
		{"param with optimiser prefix", Checkpoint{Params: []Tensor{{Name: "optim/w", Dtype: F32, Shape: []int{1}, Data: []float32{1}}}}},
		{"empty optimiser name", Checkpoint{Optimizer: []Tensor{{Name: "", Dtype: F32, Shape: []int{1}, Data: []float32{1}}}}},
		{"bad tensor", Checkpoint{Params: []Tensor{{Name: "w", Dtype: F32, Shape: []int{2}, Data: []float32{1}}}}},
		{"duplicate param", Checkpoint{Params: append(one, one...)}},
	}
	for _, tc := range bad {
		if err := SaveCheckpoint(path, tc.c); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	// Files that are not checkpoints, or damaged ones, do not load.
	notCkpt := []File{
		{Tensors: one},
		{Metadata: map[string]string{CheckpointVersionKey: "2", StepKey: "1"}},
		{Metadata: map[string]string{CheckpointVersionKey: "1"}},
		{Metadata: map[string]string{CheckpointVersionKey: "1", StepKey: "-5"}},
		{Metadata: map[string]string{CheckpointVersionKey: "1", StepKey: "x"}},
		{Metadata: map[string]string{CheckpointVersionKey: "1", StepKey: "1", "m4sc.future": ""}},
		{Metadata: map[string]string{CheckpointVersionKey: "1", StepKey: "1"},
			Tensors: []Tensor{{Name: "optim/", Dtype: F32, Shape: []int{1}, Data: []float32{1}}}},
	}
	for i, f := range notCkpt {
		if err := WriteFile(path, f); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCheckpoint(path); err == nil {
			t.Errorf("case %d: loaded", i)
		}
	}
}
