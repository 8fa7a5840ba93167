package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// flagAnnotation marks a flag with the key it sets; see BindFlag.
const flagAnnotation = "m4sc.config.key"

// Load resolves the configuration from, in increasing precedence, the key
// table's defaults, a YAML file, M4SC_* environment variables and the flags
// of flags that were bound to keys with AddFlag or BindFlag and set on the
// command line.
//
// file is the path given by --config; it must exist. When file is "", Load
// uses the first of SearchPaths that exists, or no file at all.
//
// An environment variable is the key's Key.Env name ("radio.rate" is read
// from M4SC_RADIO_RATE); an empty variable counts as unset. Map keys take the
// text form "name=value,name=value" from the environment and from flags. A
// layer that sets a map replaces the whole map of the layers below it.
//
// flags may be nil. With cobra, pass cmd.Flags() once the flags are parsed
// (in PersistentPreRunE): it holds the command's own flags and those it
// inherits.
//
// Errors: a missing or unreadable file wraps the *fs.PathError; a key the
// schema does not know is an *UnknownKeyError; a value that does not fit its
// key is a *ValueError naming the key and the layer it came from.
func Load(flags *pflag.FlagSet, file string) (*Config, error) {
	path := file
	if path == "" {
		path = findFile()
	}
	fl := &fileLayer{}
	if path != "" {
		data, err := readFile(path)
		if err != nil {
			return nil, err
		}
		if fl, err = parseFile(path, data); err != nil {
			return nil, err
		}
	}

	v := viper.New()
	for _, k := range keyTable {
		v.SetDefault(k.Name, viperValue(k.Default))
		// BindEnv fails only when given no key.
		if err := v.BindEnv(k.Name, k.Env()); err != nil {
			panic(err)
		}
	}
	if err := v.MergeConfigMap(fl.nested()); err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	setFlags, err := bindFlags(v, flags)
	if err != nil {
		return nil, err
	}

	c := &Config{
		file:       path,
		values:     make(map[string]any, len(keyTable)),
		from:       make(map[string]origin, len(keyTable)),
		entryLines: fl.entryLines,
	}
	for _, k := range keyTable {
		// The same order of layers as viper's, so that the origin we report
		// is the layer whose value v.Get returns.
		var o origin
		if name, ok := setFlags[k.Name]; ok {
			o = origin{kind: SourceFlag, detail: "--" + name}
		} else if s, ok := os.LookupEnv(k.Env()); ok && s != "" {
			o = origin{kind: SourceEnv, detail: k.Env()}
		} else if line, ok := fl.lines[k.Name]; ok {
			o = origin{kind: SourceFile, detail: path, line: line}
		}
		val, r := convert(k, v.Get(k.Name))
		if r != nil {
			if o.kind == SourceDefault {
				panic(fmt.Sprintf("config: default of %q is invalid: %v", k.Name, r))
			}
			if o.kind == SourceFile {
				// parseFile has converted file values already; this is a
				// second look at the same value, keep its entry line.
				o.line = fl.entryLine(k.Name, r.entry, o.line)
			}
			return nil, valueError(k.Name, r, o)
		}
		c.values[k.Name] = val
		c.from[k.Name] = o
	}
	c.unused = unusedEnv()
	return c, nil
}

// maxFileSize bounds what Load reads: configuration files are a few hundred
// bytes, and --config naming a recording by mistake should fail quickly.
const maxFileSize = 1 << 20

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("config: %s: larger than %d KiB, not a configuration file", path, maxFileSize>>10)
	}
	return data, nil
}

// SearchPaths lists where Load looks for a configuration file when none is
// given, first match wins: FileName in the working directory, then
// FileName in the m4sc folder of the user configuration directory
// ($XDG_CONFIG_HOME or ~/.config on Linux, see os.UserConfigDir).
func SearchPaths() []string {
	paths := []string{FileName}
	if dir, err := os.UserConfigDir(); err == nil {
		paths = append(paths, filepath.Join(dir, "m4sc", FileName))
	}
	return paths
}

// findFile returns the first search path that exists. A path that exists
// but cannot be read is still returned, so that Load reports why rather
// than silently ignoring the user's file.
func findFile() string {
	for _, p := range SearchPaths() {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// AddFlag defines a flag on fs for key, with the key's type, its default and
// its Doc as usage, and binds it to the key (see BindFlag). It panics if the
// key is not in the table. Map keys get a name=value,... flag. For a
// shorthand, define the flag with fs.XxxP and call BindFlag instead.
func AddFlag(fs *pflag.FlagSet, name, key string) *pflag.Flag {
	k, ok := Lookup(key)
	if !ok {
		panic(fmt.Sprintf("config: AddFlag(%q): no key %q in the schema", name, key))
	}
	usage := fmt.Sprintf("%s [%s]", k.Doc, k.Name)
	if k.Choices != nil {
		usage = fmt.Sprintf("%s: %s [%s]", k.Doc, k.TypeName(), k.Name)
	}
	switch k.Type {
	case TypeInt:
		fs.Int64(name, k.Default.(int64), usage)
	case TypeFloat:
		fs.Float64(name, k.Default.(float64), usage)
	case TypeString:
		fs.String(name, k.Default.(string), usage)
	case TypeBool:
		fs.Bool(name, k.Default.(bool), usage)
	case TypeFloatMap, TypeStringMap:
		def := map[string]string{}
		for n, v := range viperValue(k.Default).(map[string]any) {
			def[n], _ = toString(v)
		}
		fs.StringToString(name, def, usage+" (name=value,...)")
	}
	f := fs.Lookup(name)
	BindFlag(f, key)
	return f
}

// BindFlag makes flag f set key when it is given on the command line. The
// flag's text must convert to the key's type; Load reports it otherwise.
// Use it for flags AddFlag cannot make (a shorthand, a custom pflag.Value).
func BindFlag(f *pflag.Flag, key string) {
	if _, ok := Lookup(key); !ok {
		panic(fmt.Sprintf("config: BindFlag(--%s): no key %q in the schema", f.Name, key))
	}
	if f.Annotations == nil {
		f.Annotations = map[string][]string{}
	}
	f.Annotations[flagAnnotation] = []string{key}
}

// bindFlags binds the flags carrying a key annotation to v and returns, for
// each key set on the command line, the name of the flag that set it.
func bindFlags(v *viper.Viper, flags *pflag.FlagSet) (map[string]string, error) {
	set := map[string]string{}
	if flags == nil {
		return set, nil
	}
	var err error
	bound := map[string]*pflag.Flag{}
	flags.VisitAll(func(f *pflag.Flag) {
		keys := f.Annotations[flagAnnotation]
		if len(keys) != 1 || err != nil {
			return
		}
		key := keys[0]
		if !f.Changed {
			if bound[key] == nil {
				bound[key] = f
			}
			return
		}
		if other, ok := set[key]; ok {
			err = fmt.Errorf("config: %s: set by both --%s and --%s", key, other, f.Name)
			return
		}
		set[key] = f.Name
		bound[key] = f
	})
	if err != nil {
		return nil, err
	}
	for key, f := range bound {
		if err := v.BindPFlag(key, f); err != nil {
			return nil, fmt.Errorf("config: bind --%s: %w", f.Name, err)
		}
	}
	return set, nil
}

// unusedEnv lists the M4SC_* variables that are no key's Env.
func unusedEnv() []string {
	var unused []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		if !slices.ContainsFunc(keyTable[:], func(k Key) bool { return k.Env() == name }) {
			unused = append(unused, name)
		}
	}
	slices.Sort(unused)
	return unused
}

// viperValue converts a key's Go value into the shape viper stores: maps as
// map[string]any.
func viperValue(v any) any {
	switch m := v.(type) {
	case map[string]float64:
		out := make(map[string]any, len(m))
		for n, x := range m {
			out[n] = x
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(m))
		for n, x := range m {
			out[n] = x
		}
		return out
	}
	return v
}
