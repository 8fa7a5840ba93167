package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/m4sc/m4sc/internal/config"
)

// isolate runs the test in an empty directory with no user configuration
// and no M4SC_* variables.
func isolate(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, config.EnvPrefix) {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	wd := t.TempDir()
	t.Chdir(wd)
	return wd
}

// runM4sc runs the command line in process and returns its exit status,
// stdout and stderr.
func runM4sc(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestConfigPrintSources(t *testing.T) {
	isolate(t)
	if err := os.WriteFile(config.FileName, []byte("radio:\n  freq: 915e6\n  gains: {lna: 16}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("M4SC_RADIO_RATE", "10e6")
	code, out, errOut := runM4sc(t, "--seed", "7", "config", "print")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, line := range []string{
		"seed: 7 # flag --seed\n",
		"  rate: 1e+07 # env M4SC_RADIO_RATE\n",
		"  freq: 9.15e+08 # file m4sc.yaml\n",
		"  gains: # file m4sc.yaml\n    lna: 16\n",
		"  level: info # default\n",
		"loopback: {} # default\n",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
	// Every key is printed with a source.
	for _, k := range config.Keys() {
		leaf := k.Name[strings.LastIndex(k.Name, ".")+1:]
		if !strings.Contains(out, leaf+":") {
			t.Errorf("key %s missing from the output", k.Name)
		}
	}
}

func TestConfigPrintFlagAfterVerb(t *testing.T) {
	isolate(t)
	// Persistent flags may follow the verb, and --log-level is validated
	// like any other value.
	code, out, _ := runM4sc(t, "config", "print", "--log-level", "debug")
	if code != 0 || !strings.Contains(out, "  level: debug # flag --log-level\n") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

func TestConfigPrintKeys(t *testing.T) {
	isolate(t)
	code, out, _ := runM4sc(t, "config", "print", "--keys")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, k := range config.Keys() {
		if !strings.Contains(out, k.Name) || !strings.Contains(out, k.Doc) || !strings.Contains(out, k.Env()) {
			t.Errorf("--keys lacks %s, its doc or its variable:\n%s", k.Name, out)
		}
	}
}

func TestConfigPath(t *testing.T) {
	wd := isolate(t)
	code, out, _ := runM4sc(t, "config", "path")
	if code != 0 || !strings.HasPrefix(out, "none (looked for m4sc.yaml, ") {
		t.Errorf("no file: exit %d, output %q", code, out)
	}
	if err := os.WriteFile(config.FileName, []byte("seed: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ = runM4sc(t, "config", "path"); code != 0 || out != "m4sc.yaml\n" {
		t.Errorf("file in working directory: exit %d, output %q", code, out)
	}
	other := filepath.Join(wd, "other.yaml")
	if err := os.WriteFile(other, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ = runM4sc(t, "--config", other, "config", "path"); code != 0 || out != other+"\n" {
		t.Errorf("--config: exit %d, output %q", code, out)
	}
}

func TestVersion(t *testing.T) {
	isolate(t)
	// A broken configuration must not stop "version".
	if err := os.WriteFile(config.FileName, []byte("radio: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runM4sc(t, "version")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.HasPrefix(out, "m4sc ") || !strings.Contains(out, runtime.GOOS+"/"+runtime.GOARCH) {
		t.Errorf("version output %q", out)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name  string
		file  string // ./m4sc.yaml
		env   map[string]string
		args  []string
		want  string // first line of stderr
		usage bool   // whether the usage follows
	}{
		{name: "unknown flag", args: []string{"config", "print", "--bogus"},
			want: "m4sc: unknown flag: --bogus", usage: true},
		{name: "bad flag value", args: []string{"--seed", "x", "config", "print"},
			want: `m4sc: invalid argument "x" for "--seed" flag: strconv.ParseInt: parsing "x": invalid syntax`, usage: true},
		{name: "extra argument", args: []string{"config", "print", "extra"},
			want: `m4sc: unknown command "extra" for "m4sc config print"`, usage: true},
		{name: "unknown verb", args: []string{"bogus"},
			want: `m4sc: unknown command "bogus" for "m4sc"`, usage: true},
		{name: "bad env value", env: map[string]string{"M4SC_RADIO_RATE": "fast"}, args: []string{"config", "print"},
			want: `m4sc: config: radio.rate: "fast" is not a number (from env M4SC_RADIO_RATE)`},
		{name: "bad enum flag", args: []string{"config", "print", "--log-level", "loud"},
			want: `m4sc: config: log.level: "loud" is not one of debug, info, warn, error (from flag --log-level)`},
		{name: "unknown key", file: "radio:\n  frq: 1\n", args: []string{"config", "print"},
			want: `m4sc: config: m4sc.yaml:2: unknown key "radio.frq" (did you mean "radio.freq"?)`},
		{name: "missing --config", args: []string{"--config", "missing.yaml", "config", "print"},
			want: "m4sc: config: open missing.yaml: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			if tt.file != "" {
				if err := os.WriteFile(config.FileName, []byte(tt.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, out, errOut := runM4sc(t, tt.args...)
			if code != 1 || out != "" {
				t.Errorf("exit %d, stdout %q; want 1 and nothing", code, out)
			}
			first, rest, _ := strings.Cut(errOut, "\n")
			if first != tt.want {
				t.Errorf("stderr first line\n got %s\nwant %s", first, tt.want)
			}
			if strings.Count(errOut, "m4sc: ") != 1 {
				t.Errorf("error printed more than once:\n%s", errOut)
			}
			if hasUsage := strings.Contains(rest, "Usage:"); hasUsage != tt.usage {
				t.Errorf("usage shown: %v, want %v:\n%s", hasUsage, tt.usage, errOut)
			}
		})
	}
}

func TestUsageErrorFromVerb(t *testing.T) {
	isolate(t)
	var stdout, stderr bytes.Buffer
	a := &app{stderr: &stderr}
	root := newRootCmd(a)
	root.AddCommand(&cobra.Command{
		Use: "copy",
		RunE: func(*cobra.Command, []string) error {
			a.Config() // loaded by the time RunE runs
			return usageErrorf("--from and --to are the same device")
		},
	})
	code := execute(context.Background(), a, root, []string{"copy"}, &stdout, &stderr)
	if code != 1 || !strings.HasPrefix(stderr.String(), "m4sc: --from and --to are the same device\n\nUsage:\n  m4sc copy") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

func TestLogFormat(t *testing.T) {
	isolate(t)
	// An M4SC_* variable that is no key draws a warning, here in JSON.
	t.Setenv("M4SC_RADIO_RAT", "1")
	code, _, errOut := runM4sc(t, "--log-format", "json", "config", "path")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	var rec struct {
		Level string `json:"level"`
		Name  string `json:"name"`
	}
	if err := json.Unmarshal([]byte(errOut), &rec); err != nil || rec.Level != "WARN" || rec.Name != "M4SC_RADIO_RAT" {
		t.Errorf("stderr %q: %+v, %v", errOut, rec, err)
	}
	// The level filters it out.
	if _, _, errOut = runM4sc(t, "--log-level", "error", "config", "path"); errOut != "" {
		t.Errorf("stderr at level error: %q", errOut)
	}
}
