package config

import (
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
)

// SourceKind names the layer a value came from.
type SourceKind int

const (
	SourceDefault SourceKind = iota // the Default of the key table
	SourceFile                      // the configuration file; detail is its path
	SourceEnv                       // an environment variable; detail is its name
	SourceFlag                      // a command-line flag; detail is "--name"
)

func (s SourceKind) String() string {
	switch s {
	case SourceDefault:
		return "default"
	case SourceFile:
		return "file"
	case SourceEnv:
		return "env"
	case SourceFlag:
		return "flag"
	}
	return fmt.Sprintf("SourceKind(%d)", int(s))
}

// origin is where one effective value came from.
type origin struct {
	kind   SourceKind
	detail string // path, variable or "--flag"; empty for defaults
	line   int    // line in the file, for SourceFile; 0 if unknown
}

// describe is the "(from ...)" part of error messages.
func (o origin) describe() string {
	switch o.kind {
	case SourceFile:
		if o.line > 0 {
			return fmt.Sprintf("%s:%d", o.detail, o.line)
		}
		return o.detail
	case SourceDefault:
		return "default"
	}
	return o.kind.String() + " " + o.detail
}

// Config is a resolved configuration: one value for every key of the schema,
// with the layer it came from. It is immutable and safe for concurrent use.
//
// The typed getters take a key name from the table and panic when the name is
// unknown or of another type, since that is a mistake in the calling code,
// never in the user's input (Load has already checked the input).
type Config struct {
	file       string            // configuration file read, "" if none
	values     map[string]any    // key name -> value of the key's Go type
	from       map[string]origin // key name -> layer
	entryLines map[string]int    // "key.entry" of map keys from the file -> line of the entry
	unused     []string          // M4SC_* variables that name no key
}

// Defaults returns the configuration made of the table's defaults alone, as
// Load would return it with no file, environment or flags.
func Defaults() *Config {
	c := &Config{values: map[string]any{}, from: map[string]origin{}}
	for _, k := range keyTable {
		c.values[k.Name] = cloneValue(k.Default)
		c.from[k.Name] = origin{kind: SourceDefault}
	}
	return c
}

// File is the path of the configuration file that was read, or "" when no
// file was given and none was found.
func (c *Config) File() string { return c.file }

// Source tells where the effective value of key came from, and the detail
// that locates it: the file path, the environment variable name, or the flag
// as "--name". Detail is empty for defaults.
func (c *Config) Source(key string) (kind SourceKind, detail string) {
	c.mustKey(key)
	o := c.from[key]
	return o.kind, o.detail
}

// Reject returns the error for a value of key that Load accepted but the program
// cannot use: a device string naming no driver, a gain stage that no device has.
// Load checks types and ranges that the schema knows; what a value means to the
// rest of the program is checked by the program, which reports it with Reject so
// that the message has the same form as Load's. The *ValueError names the key
// (with ".entry" for an entry of a map key, when entry is not ""), says where the
// value came from (for the file, the line of the entry) and gives reason, which
// should quote the value if it helps: `"abc" is not a finite number`.
func (c *Config) Reject(key, entry, reason string) *ValueError {
	c.mustKey(key)
	o := c.from[key]
	if entry != "" {
		if l, ok := c.entryLines[key+"."+strings.ToLower(entry)]; ok && o.kind == SourceFile {
			o.line = l
		}
		key += "." + entry
	}
	return &ValueError{Key: key, Reason: reason, Source: o.kind, Detail: o.detail, Line: o.line}
}

// UnusedEnv lists the M4SC_* environment variables that match no key, sorted;
// the command line may warn about them as likely typos. They are not errors
// because other tools (hardware tests) have their own M4SC_* variables.
func (c *Config) UnusedEnv() []string { return append([]string(nil), c.unused...) }

// Value returns the value of key as stored: int64, float64, string, bool,
// map[string]float64 or map[string]string according to its Type. Maps are
// copies.
func (c *Config) Value(key string) any {
	c.mustKey(key)
	return cloneValue(c.values[key])
}

// Int returns the value of a TypeInt key.
func (c *Config) Int(key string) int64 { return get[int64](c, key, TypeInt) }

// Float returns the value of a TypeFloat key.
func (c *Config) Float(key string) float64 { return get[float64](c, key, TypeFloat) }

// String returns the value of a TypeString key.
func (c *Config) String(key string) string { return get[string](c, key, TypeString) }

// Bool returns the value of a TypeBool key.
func (c *Config) Bool(key string) bool { return get[bool](c, key, TypeBool) }

// FloatMap returns a copy of the value of a TypeFloatMap key; never nil.
func (c *Config) FloatMap(key string) map[string]float64 {
	return maps.Clone(get[map[string]float64](c, key, TypeFloatMap))
}

// StringMap returns a copy of the value of a TypeStringMap key; never nil.
func (c *Config) StringMap(key string) map[string]string {
	return maps.Clone(get[map[string]string](c, key, TypeStringMap))
}

func get[T any](c *Config, key string, t Type) T {
	k := c.mustKey(key)
	if k.Type != t {
		panic(fmt.Sprintf("config: key %q is %s, not %s", key, k.Type, t))
	}
	return c.values[key].(T)
}

func (c *Config) mustKey(key string) Key {
	k, ok := Lookup(key)
	if !ok {
		panic(fmt.Sprintf("config: no key %q in the schema", key))
	}
	return k
}

// Accessors for the keys every command uses. They only read the table's
// keys; new keys need no accessor, the typed getters above serve them.

// Seed is the seed of every random choice in a run (key "seed").
func (c *Config) Seed() int64 { return c.Int("seed") }

// LogLevel is the least severe level to log (key "log.level").
func (c *Config) LogLevel() slog.Level {
	var l slog.Level
	// Load admitted only the four names slog knows, so this cannot fail.
	if err := l.UnmarshalText([]byte(c.String("log.level"))); err != nil {
		panic("config: " + err.Error())
	}
	return l
}

// LogFormat is "text" or "json" (key "log.format").
func (c *Config) LogFormat() string { return c.String("log.format") }

// Device is the device string of commands that use one radio (key
// "radio.device").
func (c *Config) Device() string { return c.String("radio.device") }

// TxDevice is the device string of the transmit side: "radio.tx", or
// "radio.device" when that is empty.
func (c *Config) TxDevice() string { return c.orDevice("radio.tx") }

// RxDevice is the device string of the receive side: "radio.rx", or
// "radio.device" when that is empty.
func (c *Config) RxDevice() string { return c.orDevice("radio.rx") }

func (c *Config) orDevice(key string) string {
	if s := c.String(key); s != "" {
		return s
	}
	return c.Device()
}

// Rate is the sample rate in samples/s (key "radio.rate").
func (c *Config) Rate() float64 { return c.Float("radio.rate") }

// Freq is the centre frequency in Hz (key "radio.freq").
func (c *Config) Freq() float64 { return c.Float("radio.freq") }

// Bandwidth is the baseband filter bandwidth in Hz, 0 for automatic (key
// "radio.bandwidth").
func (c *Config) Bandwidth() float64 { return c.Float("radio.bandwidth") }

// Gains maps gain stage names to dB (key "radio.gains").
func (c *Config) Gains() map[string]float64 { return c.FloatMap("radio.gains") }

// Loopback holds the default loopback impairments, keyed as in a device
// string (key "loopback"). A device string's own parameters override them.
func (c *Config) Loopback() map[string]string { return c.StringMap("loopback") }

// CacheDir is the folder for downloaded data: "cache.dir", or the OS user
// cache folder followed by "m4sc" when that is empty. The folder may not
// exist yet.
func (c *Config) CacheDir() (string, error) {
	if d := c.String("cache.dir"); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("config: cache.dir is empty and %w", err)
	}
	return filepath.Join(base, "m4sc"), nil
}

func cloneValue(v any) any {
	switch m := v.(type) {
	case map[string]float64:
		return maps.Clone(m)
	case map[string]string:
		return maps.Clone(m)
	}
	return v
}
