// Package config is the single configuration schema of m4sc and its loader.
//
// Every setting the command line understands is one row of the key table in
// keys.go: a dotted name ("radio.rate"), a type, a default (a named constant
// such as DefaultRate), and a one-line description. Nothing else declares
// settings, so the YAML file, the M4SC_* environment variables, the flags and
// the output of "m4sc config print" cannot disagree about what exists.
//
// Values are resolved in four layers, each overriding the one before:
//
//	default < file (m4sc.yaml) < environment (M4SC_RADIO_RATE) < flag (--rate)
//
// Load resolves all layers once, checks every value against its key's type and
// returns an immutable *Config; Config.Source says which layer supplied a key.
// Unknown keys in a file are errors, so a typo cannot silently fall back to a
// default.
//
// The package is for programs (cmd/m4sc). Libraries such as radio or phy take
// their own parameter structs and never import config; the command fills those
// structs from a *Config.
//
// Main entry points: Load, AddFlag, Keys, Config.WriteYAML.
package config
