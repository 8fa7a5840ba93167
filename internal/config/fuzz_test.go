package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzLoadYAML feeds arbitrary bytes to Load as the configuration file.
// Load must not panic; its errors must name the file; and a file it accepts
// must print (WriteYAML) as a file that loads back to the same values.
func FuzzLoadYAML(f *testing.F) {
	testdata := testdataDir(f)
	for _, name := range []string{"full.yaml", "anchors.yaml", "typo.yaml"} {
		data, err := os.ReadFile(filepath.Join(testdata, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"# comments only\n",
		"~\n",
		"seed: 7\n",
		"seed: 0x7fffffffffffffff\nradio: {rate: 1e300, freq: 5, bandwidth: 0}\n",
		"radio:\n  rate: fast\n",
		"radio:\n  gains: lna=16,vga=20\n",
		"radio:\n  gains: {LNA: 1, lna: 2}\n",
		"loopback: {snr: 25, ppm: 12.5, channel: epa, x: \"a: b\"}\n",
		"loopback: {\"\": 1}\n",
		"log: {level: debug, format: json}\ncache: {dir: /tmp/x}\n",
		"a: &a [*a]\n",
		"x: &x {seed: 1}\n<<: *x\n",
		"seed: !!binary aGVsbG8=\n",
		"seed: 1\n---\n",
		"? [a]\n: 1\n",
		"radio:\n  device: \"\\t\\u00e9\\x01\"\n",
		"\xff\xfe",
		// Right types, values only the program can judge (cmd/m4sc's
		// FuzzConfigFile checks them): Load accepts them.
		"loopback: {snr: abc}\n",
		"radio:\n  gains:\n    lna: 1000\n",
		"radio:\n  gains:\n    bogus: 5\n",
		"radio:\n  device: usrp\n",
	} {
		f.Add([]byte(s))
	}

	// Only the environment: the fuzzing engine needs the working directory
	// of the test, and an explicit path skips the file search anyway.
	clearEnv(f)
	dir := f.TempDir()
	path := filepath.Join(dir, "fuzz.yaml")
	printed := filepath.Join(dir, "printed.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(nil, path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := c.WriteYAML(&buf, true); err != nil {
			t.Fatalf("WriteYAML: %v", err)
		}
		if err := os.WriteFile(printed, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		again, err := Load(nil, printed)
		if err != nil {
			t.Fatalf("printed configuration does not load: %v\n%s", err, buf.Bytes())
		}
		if !reflect.DeepEqual(again.values, c.values) {
			t.Fatalf("round trip changed values\n got %v\nwant %v\n%s", again.values, c.values, buf.Bytes())
		}
	})
}
