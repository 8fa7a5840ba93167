package config

import (
	"fmt"
	"strings"
)

// Defaults of the keys in the table below. The table and the documentation
// refer to these names, so a default is written down exactly once.
const (
	DefaultSeed      = 1          // seed
	DefaultLogLevel  = "info"     // log.level
	DefaultLogFormat = "text"     // log.format
	DefaultDevice    = "loopback" // radio.device
	DefaultRate      = 20e6       // radio.rate, samples/s: the 802.11a numerology
	DefaultFreq      = 2.45e9     // radio.freq, Hz: middle of the 2.4 GHz ISM band
	DefaultBandwidth = 0          // radio.bandwidth, Hz: 0 lets the device choose
	DefaultCacheDir  = ""         // cache.dir: "" means the OS user cache directory + "/m4sc"
)

const (
	// EnvPrefix starts the name of every environment variable Load reads.
	EnvPrefix = "M4SC_"
	// FileName is the configuration file Load looks for when none is given.
	FileName = "m4sc.yaml"
)

// Type is the type of a configuration value. It fixes the Go type a key's
// value has inside a Config and how text from the environment or a flag is
// parsed.
type Type int

const (
	TypeInt       Type = iota + 1 // int64; text accepts Go integer syntax (12, 0x1f)
	TypeFloat                     // float64, finite; text accepts 2.45e9
	TypeString                    // string, optionally restricted to Key.Choices
	TypeBool                      // bool; text accepts strconv.ParseBool forms
	TypeFloatMap                  // map[string]float64; text form "a=1,b=2.5"
	TypeStringMap                 // map[string]string; text form "a=x,b=2"
)

func (t Type) String() string {
	switch t {
	case TypeInt:
		return "int"
	case TypeFloat:
		return "float"
	case TypeString:
		return "string"
	case TypeBool:
		return "bool"
	case TypeFloatMap:
		return "map[string]float"
	case TypeStringMap:
		return "map[string]string"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// isMap reports whether keys of type t hold a map whose entries are chosen by
// the user rather than by the schema.
func (t Type) isMap() bool { return t == TypeFloatMap || t == TypeStringMap }

// Key describes one configuration setting.
type Key struct {
	// Name is the dotted path of the key in the YAML file, lower case:
	// "radio.rate" is written as "radio:" then "  rate:".
	Name string
	// Type of the value; Default must hold the matching Go type.
	Type Type
	// Default value: int64, float64, string, bool, map[string]float64 or
	// map[string]string according to Type.
	Default any
	// Choices, when not nil, lists the only values a TypeString key accepts.
	Choices []string
	// Doc is a one-line description, with units where the value has one.
	Doc string
	// Check, when not nil, rejects values of the right type that are still
	// unusable (a negative sample rate). It returns the reason, phrased to
	// follow the value: "must be > 0".
	Check func(v any) error
}

// Env is the environment variable that sets the key: EnvPrefix followed by
// the name in upper case with dots replaced by underscores.
func (k Key) Env() string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(k.Name, ".", "_"))
}

// TypeName describes the type for people: the choices of an enumerated
// string ("debug|info|warn|error"), otherwise Type.String.
func (k Key) TypeName() string {
	if k.Choices != nil {
		return strings.Join(k.Choices, "|")
	}
	return k.Type.String()
}

// keyTable is the configuration schema. To add a setting, add a row here
// (and, if it has a non-trivial default, a Default constant above); loading,
// environment variables, flags, validation and "m4sc config print" follow.
// The table is never modified at run time.
var keyTable = [...]Key{
	{Name: "seed", Type: TypeInt, Default: int64(DefaultSeed),
		Doc: "seed of every random choice in a run"},
	{Name: "log.level", Type: TypeString, Default: DefaultLogLevel,
		Choices: []string{"debug", "info", "warn", "error"},
		Doc:     "least severe log record printed"},
	{Name: "log.format", Type: TypeString, Default: DefaultLogFormat,
		Choices: []string{"text", "json"},
		Doc:     "log record format on stderr"},
	{Name: "radio.device", Type: TypeString, Default: DefaultDevice,
		Doc: "device string of commands that use one radio"},
	{Name: "radio.tx", Type: TypeString, Default: "",
		Doc: "device string of the transmit side (empty = radio.device)"},
	{Name: "radio.rx", Type: TypeString, Default: "",
		Doc: "device string of the receive side (empty = radio.device)"},
	{Name: "radio.rate", Type: TypeFloat, Default: float64(DefaultRate), Check: positive,
		Doc: "sample rate, samples/s"},
	{Name: "radio.freq", Type: TypeFloat, Default: float64(DefaultFreq), Check: positive,
		Doc: "centre frequency, Hz"},
	{Name: "radio.bandwidth", Type: TypeFloat, Default: float64(DefaultBandwidth), Check: nonNegative,
		Doc: "analogue baseband filter bandwidth, Hz (0 = chosen by the device)"},
	{Name: "radio.gains", Type: TypeFloatMap, Default: map[string]float64{},
		Doc: "gain stages by name, dB (e.g. lna: 16, vga: 20)"},
	{Name: "loopback", Type: TypeStringMap, Default: map[string]string{},
		Doc: "default impairments of loopback devices, keys as in a device string (snr, ppm, channel...)"},
	{Name: "cache.dir", Type: TypeString, Default: DefaultCacheDir,
		Doc: "folder for downloaded data sets (empty = OS user cache folder/m4sc)"},
}

// Keys returns the schema, in the order "m4sc config print" shows it. The
// slice is a copy; changing it changes nothing.
func Keys() []Key {
	ks := make([]Key, len(keyTable))
	copy(ks, keyTable[:])
	return ks
}

// Lookup returns the key with the given dotted name.
func Lookup(name string) (Key, bool) {
	for _, k := range keyTable {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// isSection reports whether name is a proper prefix of some key ("radio" for
// "radio.rate"), i.e. a YAML mapping that groups keys.
func isSection(name string) bool {
	for _, k := range keyTable {
		if strings.HasPrefix(k.Name, name+".") {
			return true
		}
	}
	return false
}

// sectionKeys lists the keys directly or indirectly inside a section.
func sectionKeys(section string) []string {
	var names []string
	for _, k := range keyTable {
		if strings.HasPrefix(k.Name, section+".") {
			names = append(names, k.Name)
		}
	}
	return names
}

func positive(v any) error {
	if f, ok := v.(float64); ok && f <= 0 {
		return fmt.Errorf("must be > 0")
	}
	return nil
}

func nonNegative(v any) error {
	if f, ok := v.(float64); ok && f < 0 {
		return fmt.Errorf("must be >= 0")
	}
	return nil
}
