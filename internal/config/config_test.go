package config

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// isolate gives the test an empty working directory and user configuration
// directory and removes M4SC_* variables, so that nothing of the machine's
// own configuration leaks in. It returns the working directory.
func isolate(tb testing.TB) string {
	tb.Helper()
	home := tb.TempDir()
	tb.Setenv("HOME", home)
	tb.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	clearEnv(tb)
	wd := tb.TempDir()
	tb.Chdir(wd)
	return wd
}

// clearEnv unsets the M4SC_* variables for the duration of the test.
func clearEnv(tb testing.TB) {
	tb.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, EnvPrefix) {
			tb.Setenv(name, "") // restores the variable after the test
			os.Unsetenv(name)
		}
	}
}

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// testFlags is the flag set a verb with radio flags would have, parsed
// from args.
func testFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	AddFlag(fs, "seed", "seed")
	AddFlag(fs, "log-level", "log.level")
	AddFlag(fs, "rate", "radio.rate")
	AddFlag(fs, "gain", "radio.gains")
	AddFlag(fs, "loopback", "loopback")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestKeyTable(t *testing.T) {
	envs := map[string]string{}
	for _, k := range Keys() {
		if k.Name == "" || k.Name != strings.ToLower(k.Name) || strings.Trim(k.Name, "abcdefghijklmnopqrstuvwxyz0123456789.") != "" {
			t.Errorf("key %q: names are lower-case letters, digits and dots", k.Name)
		}
		if isSection(k.Name) {
			t.Errorf("key %q is also a section", k.Name)
		}
		if other, dup := envs[k.Env()]; dup {
			t.Errorf("keys %q and %q share %s", k.Name, other, k.Env())
		}
		envs[k.Env()] = k.Name
		if k.Doc == "" || strings.Contains(k.Doc, "\n") {
			t.Errorf("key %q: doc must be one line", k.Name)
		}
		// The default must be the exact Go type of the key and pass the
		// key's own checks.
		v, r := convert(k, viperValue(k.Default))
		if r != nil {
			t.Errorf("key %q: default: %v", k.Name, r)
		} else if reflect.TypeOf(v) != reflect.TypeOf(k.Default) {
			t.Errorf("key %q: default is %T, want %T", k.Name, k.Default, v)
		}
	}
}

func TestPrecedence(t *testing.T) {
	tests := []struct {
		name   string
		file   string            // content of ./m4sc.yaml, none if empty
		env    map[string]string // set with t.Setenv
		args   []string          // parsed by testFlags
		key    string
		want   any
		kind   SourceKind
		detail string
	}{
		{name: "default", key: "radio.rate", want: 20e6, kind: SourceDefault},
		{name: "file over default", file: "radio:\n  rate: 10e6\n", key: "radio.rate",
			want: 10e6, kind: SourceFile, detail: "m4sc.yaml"},
		{name: "env over file", file: "radio:\n  rate: 10e6\n", env: map[string]string{"M4SC_RADIO_RATE": "5e6"},
			key: "radio.rate", want: 5e6, kind: SourceEnv, detail: "M4SC_RADIO_RATE"},
		{name: "flag over env", file: "radio:\n  rate: 10e6\n", env: map[string]string{"M4SC_RADIO_RATE": "5e6"},
			args: []string{"--rate", "1e6"}, key: "radio.rate", want: 1e6, kind: SourceFlag, detail: "--rate"},
		{name: "flag over file", file: "seed: 5\n", args: []string{"--seed=9"},
			key: "seed", want: int64(9), kind: SourceFlag, detail: "--seed"},
		{name: "flag equal to the default still wins", file: "seed: 5\n", args: []string{"--seed=1"},
			key: "seed", want: int64(1), kind: SourceFlag, detail: "--seed"},
		{name: "flag not given is no layer", file: "seed: 5\n", env: map[string]string{"M4SC_SEED": "6"},
			key: "seed", want: int64(6), kind: SourceEnv, detail: "M4SC_SEED"},
		{name: "empty env is unset", file: "seed: 5\n", env: map[string]string{"M4SC_SEED": ""},
			key: "seed", want: int64(5), kind: SourceFile, detail: "m4sc.yaml"},
		{name: "env int in hex", env: map[string]string{"M4SC_SEED": "0x10"},
			key: "seed", want: int64(16), kind: SourceEnv, detail: "M4SC_SEED"},
		{name: "env int written as float", env: map[string]string{"M4SC_SEED": "1e6"},
			key: "seed", want: int64(1000000), kind: SourceEnv, detail: "M4SC_SEED"},
		{name: "env enum", env: map[string]string{"M4SC_LOG_LEVEL": "debug"},
			key: "log.level", want: "debug", kind: SourceEnv, detail: "M4SC_LOG_LEVEL"},
		{name: "quoted number in file", file: "radio:\n  freq: \"915e6\"\n",
			key: "radio.freq", want: 915e6, kind: SourceFile, detail: "m4sc.yaml"},
		{name: "integer for a float", file: "radio:\n  bandwidth: 5000000\n",
			key: "radio.bandwidth", want: 5e6, kind: SourceFile, detail: "m4sc.yaml"},
		{name: "flat dotted key", file: "radio.rate: 2e6\n",
			key: "radio.rate", want: 2e6, kind: SourceFile, detail: "m4sc.yaml"},
		{name: "null value is unset", file: "radio:\n  rate:\nlog:\n",
			key: "radio.rate", want: 20e6, kind: SourceDefault},
		{name: "text keeps its literal form", file: "radio:\n  device: 0x10\n",
			key: "radio.device", want: "0x10", kind: SourceFile, detail: "m4sc.yaml"},
		{name: "map from file", file: "radio:\n  gains: {lna: 16, VGA: 20.5}\n",
			key: "radio.gains", want: map[string]float64{"lna": 16, "vga": 20.5}, kind: SourceFile, detail: "m4sc.yaml"},
		{name: "map in text form in file", file: "radio:\n  gains: lna=16, vga=20\n",
			key: "radio.gains", want: map[string]float64{"lna": 16, "vga": 20}, kind: SourceFile, detail: "m4sc.yaml"},
		{name: "env map replaces file map", file: "radio:\n  gains: {lna: 16, vga: 20}\n",
			env: map[string]string{"M4SC_RADIO_GAINS": "amp=14"},
			key: "radio.gains", want: map[string]float64{"amp": 14}, kind: SourceEnv, detail: "M4SC_RADIO_GAINS"},
		{name: "flag map replaces env map", args: []string{"--gain", "lna=30", "--gain", "vga=2"},
			env: map[string]string{"M4SC_RADIO_GAINS": "amp=14"},
			key: "radio.gains", want: map[string]float64{"lna": 30, "vga": 2}, kind: SourceFlag, detail: "--gain"},
		{name: "loopback values as written", file: "loopback:\n  snr: 25\n  ppm: 12.5\n  channel: epa\n  cfo: 0x10\n",
			key: "loopback", want: map[string]string{"snr": "25", "ppm": "12.5", "channel": "epa", "cfo": "0x10"},
			kind: SourceFile, detail: "m4sc.yaml"},
		{name: "loopback from env", env: map[string]string{"M4SC_LOOPBACK": "snr=10, channel=eva"},
			key: "loopback", want: map[string]string{"snr": "10", "channel": "eva"}, kind: SourceEnv, detail: "M4SC_LOOPBACK"},
		{name: "empty map default", key: "loopback", want: map[string]string{}, kind: SourceDefault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			if tt.file != "" {
				writeFile(t, FileName, tt.file)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := Load(testFlags(t, tt.args...), "")
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Value(tt.key); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s = %#v, want %#v", tt.key, got, tt.want)
			}
			if kind, detail := c.Source(tt.key); kind != tt.kind || detail != tt.detail {
				t.Errorf("Source(%s) = %v %q, want %v %q", tt.key, kind, detail, tt.kind, tt.detail)
			}
		})
	}
}

func TestOtherKeysKeepTheirSources(t *testing.T) {
	isolate(t)
	writeFile(t, FileName, "radio:\n  freq: 915e6\n")
	t.Setenv("M4SC_RADIO_RATE", "10e6")
	c, err := Load(testFlags(t, "--seed", "3"), "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]SourceKind{"seed": SourceFlag, "radio.rate": SourceEnv, "radio.freq": SourceFile}
	for _, k := range Keys() {
		kind, _ := c.Source(k.Name)
		if kind != want[k.Name] { // absent means SourceDefault
			t.Errorf("Source(%s) = %v, want %v", k.Name, kind, want[k.Name])
		}
	}
	if c.Seed() != 3 || c.Rate() != 10e6 || c.Freq() != 915e6 || c.LogLevel().String() != "INFO" {
		t.Errorf("accessors: seed %d rate %g freq %g level %v", c.Seed(), c.Rate(), c.Freq(), c.LogLevel())
	}
}

func TestFileSearch(t *testing.T) {
	t.Run("working directory first", func(t *testing.T) {
		isolate(t)
		writeFile(t, FileName, "seed: 2\n")
		writeFile(t, filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "m4sc", FileName), "seed: 3\n")
		c := mustLoad(t, "")
		if c.File() != FileName || c.Seed() != 2 {
			t.Errorf("File() = %q, seed %d; want %q, 2", c.File(), c.Seed(), FileName)
		}
	})
	t.Run("user configuration directory", func(t *testing.T) {
		isolate(t)
		path := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "m4sc", FileName)
		writeFile(t, path, "seed: 3\n")
		c := mustLoad(t, "")
		if c.File() != path || c.Seed() != 3 {
			t.Errorf("File() = %q, seed %d; want %q, 3", c.File(), c.Seed(), path)
		}
		if kind, detail := c.Source("seed"); kind != SourceFile || detail != path {
			t.Errorf("Source(seed) = %v %q", kind, detail)
		}
	})
	t.Run("no file is fine", func(t *testing.T) {
		isolate(t)
		c := mustLoad(t, "")
		if c.File() != "" {
			t.Errorf("File() = %q, want none", c.File())
		}
		if !reflect.DeepEqual(c.values, Defaults().values) {
			t.Errorf("values %v, want the defaults", c.values)
		}
	})
	t.Run("explicit file wins", func(t *testing.T) {
		wd := isolate(t)
		writeFile(t, FileName, "seed: 2\n")
		path := filepath.Join(wd, "other.yaml")
		writeFile(t, path, "seed: 4\n")
		c := mustLoad(t, path)
		if c.File() != path || c.Seed() != 4 {
			t.Errorf("File() = %q, seed %d; want %q, 4", c.File(), c.Seed(), path)
		}
	})
	t.Run("size limit", func(t *testing.T) {
		isolate(t)
		writeFile(t, "big.yaml", "# "+strings.Repeat("x", maxFileSize)+"\n")
		if _, err := Load(nil, "big.yaml"); err == nil || !strings.Contains(err.Error(), "big.yaml") {
			t.Errorf("Load(big.yaml) = %v, want a size error naming the file", err)
		}
	})
	t.Run("explicit file must exist", func(t *testing.T) {
		isolate(t)
		writeFile(t, FileName, "seed: 2\n")
		_, err := Load(nil, "missing.yaml")
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing.yaml") {
			t.Errorf("Load(missing.yaml) = %v, want a not-exist error naming the file", err)
		}
	})
}

func mustLoad(t *testing.T, file string) *Config {
	t.Helper()
	c, err := Load(nil, file)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUnknownKey(t *testing.T) {
	tests := []struct {
		file    string
		key     string
		line    int
		suggest string
	}{
		{"radio:\n  rate: 10e6\n  frq: 915e6\n", "radio.frq", 3, "radio.freq"},
		{"rate: 1e6\n", "rate", 1, "radio.rate"},
		{"raido:\n  rate: 1e6\n", "raido", 1, "radio"},
		{"Seed: 4\n", "Seed", 1, "seed"},
		{"log:\n  colour: true\n", "log.colour", 2, ""},
		{"<<: {seed: 1}\n", "<<", 1, ""},
		{"radio:\n  gains:\n    lna: 1\n  gain:\n    vga: 2\n", "radio.gain", 4, "radio.gains"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			isolate(t)
			writeFile(t, FileName, tt.file)
			_, err := Load(nil, "")
			var ue *UnknownKeyError
			if !errors.As(err, &ue) {
				t.Fatalf("Load = %v, want *UnknownKeyError", err)
			}
			if ue.Key != tt.key || ue.Line != tt.line || ue.Suggest != tt.suggest || ue.File != FileName {
				t.Errorf("got %+v, want key %q line %d suggest %q", *ue, tt.key, tt.line, tt.suggest)
			}
			if msg := err.Error(); !strings.Contains(msg, FileName) || !strings.Contains(msg, `"`+tt.key+`"`) {
				t.Errorf("message %q does not name the file and the key", msg)
			}
		})
	}
}

func TestBadValues(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		args []string
		want string // the whole message
	}{
		{name: "text for a float", file: "radio:\n  rate: fast\n",
			want: `config: radio.rate: "fast" is not a number (from m4sc.yaml:2)`},
		{name: "text for a float from env", env: map[string]string{"M4SC_RADIO_RATE": "fast"},
			want: `config: radio.rate: "fast" is not a number (from env M4SC_RADIO_RATE)`},
		{name: "bad enum from flag", args: []string{"--log-level", "loud"},
			want: `config: log.level: "loud" is not one of debug, info, warn, error (from flag --log-level)`},
		{name: "bad enum from file", file: "log:\n  format: xml\n",
			want: `config: log.format: "xml" is not one of text, json (from m4sc.yaml:2)`},
		{name: "fraction for an int", file: "seed: 1.5\n",
			want: `config: seed: 1.5 is not an integer (from m4sc.yaml:1)`},
		{name: "text for an int", file: "seed: abc\n",
			want: `config: seed: "abc" is not an integer (from m4sc.yaml:1)`},
		{name: "date for an int", file: "seed: 2001-12-14\n",
			want: `config: seed: "2001-12-14" is not an integer (from m4sc.yaml:1)`},
		{name: "bool for a float", file: "radio:\n  freq: true\n",
			want: `config: radio.freq: true is not a number (from m4sc.yaml:2)`},
		{name: "int too large", file: "seed: 99999999999999999999\n",
			want: `config: seed: 1e+20 is out of range (from m4sc.yaml:1)`},
		{name: "int too large from env", env: map[string]string{"M4SC_SEED": "99999999999999999999"},
			want: `config: seed: "99999999999999999999" is out of range (from env M4SC_SEED)`},
		{name: "infinite float", file: "radio:\n  rate: .inf\n",
			want: `config: radio.rate: +Inf is not a finite number (from m4sc.yaml:2)`},
		{name: "check rejects", file: "radio:\n  rate: -1\n",
			want: `config: radio.rate: -1 must be > 0 (from m4sc.yaml:2)`},
		{name: "check rejects flag", args: []string{"--rate=0"},
			want: `config: radio.rate: "0" must be > 0 (from flag --rate)`},
		{name: "list for a float", file: "radio:\n  rate: [1, 2]\n",
			want: `config: radio.rate: is a list, expected float (from m4sc.yaml:2)`},
		{name: "mapping for an int", file: "seed: {a: 1}\n",
			want: `config: seed: is a mapping, expected int (from m4sc.yaml:1)`},
		{name: "value for a section", file: "radio: hackrf\n",
			want: `config: radio: "hackrf" is not a section of keys (radio.device, radio.tx, radio.rx, radio.rate, radio.freq, radio.bandwidth, radio.gains) (from m4sc.yaml:1)`},
		{name: "bad map entry", file: "radio:\n  gains:\n    lna: 16\n    vga: high\n",
			want: `config: radio.gains.vga: "high" is not a number (from m4sc.yaml:4)`},
		{name: "bad map entry from env", env: map[string]string{"M4SC_RADIO_GAINS": "lna=x"},
			want: `config: radio.gains.lna: "x" is not a number (from env M4SC_RADIO_GAINS)`},
		{name: "not a pair", env: map[string]string{"M4SC_RADIO_GAINS": "lna"},
			want: `config: radio.gains: "lna" is not a name=value pair (from env M4SC_RADIO_GAINS)`},
		{name: "bad entry name", file: "loopback:\n  a.b: 1\n",
			want: `config: loopback: "a.b" is not a valid entry name (no dots, spaces or punctuation) (from m4sc.yaml:1)`},
		{name: "entry without value", file: "loopback:\n  snr:\n",
			want: `config: loopback.snr: has no value (from m4sc.yaml:2)`},
		{name: "list as entry", file: "loopback:\n  snr: [1]\n",
			want: `config: loopback.snr: is a list, not a single value (from m4sc.yaml:2)`},
		{name: "duplicate key", file: "seed: 1\nseed: 2\n",
			want: `config: m4sc.yaml:2: key "seed" given twice (first on line 1)`},
		{name: "duplicate entry", file: "radio:\n  gains:\n    lna: 1\n    LNA: 2\n",
			want: `config: m4sc.yaml:4: radio.gains: entry "LNA" given twice (first on line 3)`},
		{name: "two documents", file: "seed: 1\n---\nseed: 2\n",
			want: `config: m4sc.yaml:2: more than one YAML document`},
		{name: "list file", file: "- seed\n",
			want: `config: m4sc.yaml:1: the file must be a mapping of keys, found list`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			if tt.file != "" {
				writeFile(t, FileName, tt.file)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := Load(testFlags(t, tt.args...), "")
			if err == nil || err.Error() != tt.want {
				t.Errorf("Load error\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestValueErrorFields(t *testing.T) {
	isolate(t)
	t.Setenv("M4SC_RADIO_RATE", "fast")
	_, err := Load(nil, "")
	var ve *ValueError
	if !errors.As(err, &ve) {
		t.Fatalf("Load = %v, want *ValueError", err)
	}
	want := ValueError{Key: "radio.rate", Value: `"fast"`, Reason: "is not a number", Source: SourceEnv, Detail: "M4SC_RADIO_RATE"}
	if *ve != want {
		t.Errorf("got %+v, want %+v", *ve, want)
	}
}

func TestTwoFlagsForOneKey(t *testing.T) {
	isolate(t)
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	AddFlag(fs, "rate", "radio.rate")
	AddFlag(fs, "samplerate", "radio.rate")
	if err := fs.Parse([]string{"--rate=1e6", "--samplerate=2e6"}); err != nil {
		t.Fatal(err)
	}
	_, err := Load(fs, "")
	if err == nil || !strings.Contains(err.Error(), "--rate") || !strings.Contains(err.Error(), "--samplerate") {
		t.Errorf("Load = %v, want an error naming both flags", err)
	}
}

func TestBindFlagShorthand(t *testing.T) {
	isolate(t)
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.StringP("device", "d", "", "device string")
	BindFlag(fs.Lookup("device"), "radio.device")
	if err := fs.Parse([]string{"-d", "hackrf"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(fs, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Device() != "hackrf" || c.TxDevice() != "hackrf" || c.RxDevice() != "hackrf" {
		t.Errorf("devices %q %q %q, want hackrf", c.Device(), c.TxDevice(), c.RxDevice())
	}
	if kind, detail := c.Source("radio.device"); kind != SourceFlag || detail != "--device" {
		t.Errorf("Source = %v %q", kind, detail)
	}
}

func TestFixtures(t *testing.T) {
	testdata := testdataDir(t)
	isolate(t)
	c := mustLoad(t, filepath.Join(testdata, "full.yaml"))
	for _, k := range Keys() {
		if kind, _ := c.Source(k.Name); kind != SourceFile {
			t.Errorf("full.yaml does not set %s", k.Name)
		}
	}
	if c.TxDevice() == c.Device() || c.RxDevice() == c.Device() {
		t.Errorf("tx %q rx %q should differ from %q", c.TxDevice(), c.RxDevice(), c.Device())
	}
	if d, err := c.CacheDir(); err != nil || d != "/var/cache/m4sc" {
		t.Errorf("CacheDir() = %q, %v", d, err)
	}

	c = mustLoad(t, filepath.Join(testdata, "anchors.yaml"))
	if c.TxDevice() != "loopback:snr=10" || c.Gains()["lna"] != 8 {
		t.Errorf("aliases: tx %q gains %v", c.TxDevice(), c.Gains())
	}

	_, err := Load(nil, filepath.Join(testdata, "typo.yaml"))
	var ue *UnknownKeyError
	if !errors.As(err, &ue) || ue.Key != "radio.frq" {
		t.Errorf("typo.yaml: %v", err)
	}
}

// testdataDir is the absolute path of testdata; call it before isolate,
// which changes the working directory.
func testdataDir(tb testing.TB) string {
	tb.Helper()
	dir, err := filepath.Abs("testdata")
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

func TestCacheDirDefault(t *testing.T) {
	isolate(t)
	t.Setenv("XDG_CACHE_HOME", "/tmp/cachehome")
	d, err := mustLoad(t, "").CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if d != filepath.Join(base, "m4sc") {
		t.Errorf("CacheDir() = %q, want %q", d, filepath.Join(base, "m4sc"))
	}
}

func TestUnusedEnv(t *testing.T) {
	isolate(t)
	t.Setenv("M4SC_RADIO_RAT", "1")
	t.Setenv("M4SC_SEED", "2")
	if got := mustLoad(t, "").UnusedEnv(); !slices.Equal(got, []string{"M4SC_RADIO_RAT"}) {
		t.Errorf("UnusedEnv() = %v", got)
	}
}

func TestGetterMisuse(t *testing.T) {
	c := Defaults()
	for name, f := range map[string]func(){
		"unknown key": func() { c.String("radio.colour") },
		"wrong type":  func() { c.Float("seed") },
		"source":      func() { c.Source("nope") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestMapsAreCopies(t *testing.T) {
	isolate(t)
	writeFile(t, FileName, "radio:\n  gains: {lna: 1}\n")
	c := mustLoad(t, "")
	c.Gains()["lna"] = 99
	if c.Gains()["lna"] != 1 {
		t.Error("changing the result of Gains changed the Config")
	}
}

// TestWriteYAMLRoundTrip checks that "m4sc config print" output is a
// configuration file that gives back the same values.
func TestWriteYAMLRoundTrip(t *testing.T) {
	wd := isolate(t)
	writeFile(t, FileName, "radio:\n  freq: 915e6\n  device: \"0x10\"\n  gains: {lna: 16}\nloopback: {snr: 25, channel: epa, note: 'a: b # c', flag: \"true\", empty: \"\"}\n")
	t.Setenv("M4SC_RADIO_RATE", "10e6")
	c, err := Load(testFlags(t, "--seed", "-7"), "")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.WriteYAML(&buf, true); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, line := range []string{
		"seed: -7 # flag --seed\n",
		"  rate: 1e+07 # env M4SC_RADIO_RATE\n",
		"  freq: 9.15e+08 # file m4sc.yaml\n",
		"  level: info # default\n",
		"  gains: # file m4sc.yaml\n    lna: 16\n",
		"  snr: 25\n",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}

	printed := filepath.Join(wd, "printed.yaml")
	writeFile(t, printed, out)
	t.Setenv("M4SC_RADIO_RATE", "")
	again, err := Load(nil, printed)
	if err != nil {
		t.Fatalf("reloading the output: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(again.values, c.values) {
		t.Errorf("round trip changed values\n got %v\nwant %v", again.values, c.values)
	}
}

// Reject places a program's objection at the key, the map entry and the layer,
// with the entry's own line in the file.
func TestReject(t *testing.T) {
	isolate(t)
	writeFile(t, FileName, "radio:\n  device: usrp\n  gains:\n    vga: 2\n    LNA: 1000\nloopback: {snr: abc}\n")
	c := mustLoad(t, "")
	for _, tc := range []struct {
		key, entry, want string
	}{
		{"radio.device", "", `config: radio.device: "usrp" names no driver (from m4sc.yaml:2)`},
		{"radio.gains", "lna", "config: radio.gains.lna: 1000 out of range (from m4sc.yaml:5)"},
		{"loopback", "snr", `config: loopback.snr: "abc" is not a number (from m4sc.yaml:6)`},
		{"radio.rate", "", "config: radio.rate: no (from default)"},
	} {
		var reason string
		_, reason, _ = strings.Cut(tc.want, tc.key+dotted(tc.entry)+": ")
		reason, _, _ = strings.Cut(reason, " (from")
		err := c.Reject(tc.key, tc.entry, reason)
		if err.Error() != tc.want {
			t.Errorf("got  %s\nwant %s", err, tc.want)
		}
	}
	t.Setenv("M4SC_LOOPBACK", "snr=abc")
	c, err := Load(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Reject("loopback", "snr", "bad").Error(); got != "config: loopback.snr: bad (from env M4SC_LOOPBACK)" {
		t.Errorf("from the environment: %s", got)
	}
}

func dotted(entry string) string {
	if entry == "" {
		return ""
	}
	return "." + entry
}
