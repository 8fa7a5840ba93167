package config

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// convert turns a raw value from any layer into the Go type of k, then runs
// k's Check. Raw values are what the layers produce: text from the
// environment, text or int or bool or a map from flags, typed scalars and
// map[string]any from the YAML parser, and the table's own defaults.
func convert(k Key, raw any) (any, *reasonError) {
	var (
		v any
		r *reasonError
	)
	switch k.Type {
	case TypeInt:
		v, r = toInt(raw)
	case TypeFloat:
		v, r = toFloat(raw)
	case TypeString:
		v, r = toString(raw)
		if r == nil && k.Choices != nil && !slices.Contains(k.Choices, v.(string)) {
			r = reasonf(show(raw), "is not one of %s", strings.Join(k.Choices, ", "))
		}
	case TypeBool:
		v, r = toBool(raw)
	case TypeFloatMap:
		v, r = toMap(raw, toFloat)
	case TypeStringMap:
		v, r = toMap(raw, toString)
	default:
		panic(fmt.Sprintf("config: key %q has invalid type %d", k.Name, int(k.Type)))
	}
	if r != nil {
		return nil, r
	}
	if k.Check != nil {
		if err := k.Check(v); err != nil {
			return nil, reasonf(show(raw), "%s", err.Error())
		}
	}
	return v, nil
}

// show renders a raw value for an error message: text quoted, so that
// `"fast" is not a number` is unambiguous, anything else as Go prints it.
func show(raw any) string {
	switch x := raw.(type) {
	case nil:
		return ""
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprint(raw)
}

func toInt(raw any) (int64, *reasonError) {
	switch x := raw.(type) {
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, reasonf(show(raw), "is out of range")
		}
		return int64(x), nil
	case float64:
		return floatToInt(x, show(raw))
	case string:
		s := strings.TrimSpace(x)
		n, err := strconv.ParseInt(s, 0, 64)
		if err == nil {
			return n, nil
		}
		if errors.Is(err, strconv.ErrRange) {
			return 0, reasonf(show(raw), "is out of range")
		}
		// "1e6" is an integer written as a float.
		if f, ferr := strconv.ParseFloat(s, 64); ferr == nil {
			return floatToInt(f, show(raw))
		}
	}
	return 0, reasonf(show(raw), "is not an integer")
}

func floatToInt(f float64, shown string) (int64, *reasonError) {
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, reasonf(shown, "is not an integer")
	}
	// 2^63 is exactly representable; anything from it up does not fit.
	if f >= math.Exp2(63) || f < -math.Exp2(63) {
		return 0, reasonf(shown, "is out of range")
	}
	return int64(f), nil
}

func toFloat(raw any) (float64, *reasonError) {
	var f float64
	switch x := raw.(type) {
	case int:
		f = float64(x)
	case int32:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint64:
		f = float64(x)
	case float64:
		f = x
	case string:
		var err error
		f, err = strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, reasonf(show(raw), "is not a number")
		}
	default:
		return 0, reasonf(show(raw), "is not a number")
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, reasonf(show(raw), "is not a finite number")
	}
	return f, nil
}

func toString(raw any) (string, *reasonError) {
	switch x := raw.(type) {
	case string:
		return x, nil
	case int, int32, int64, uint64, bool:
		return fmt.Sprint(x), nil
	case float64:
		return formatFloat(x), nil
	}
	return "", reasonf(show(raw), "is not text")
}

func toBool(raw any) (bool, *reasonError) {
	switch x := raw.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
			return b, nil
		}
	}
	return false, reasonf(show(raw), "is not a boolean (true or false)")
}

// toMap converts a map, or its text form "name=value,name=value", entry by
// entry. Entry names are folded to lower case, as viper folds every key.
func toMap[T any](raw any, elem func(any) (T, *reasonError)) (map[string]T, *reasonError) {
	var entries map[string]any
	switch x := raw.(type) {
	case map[string]any:
		entries = x
	case map[string]string:
		entries = make(map[string]any, len(x))
		for n, v := range x {
			entries[n] = v
		}
	case map[string]float64:
		entries = make(map[string]any, len(x))
		for n, v := range x {
			entries[n] = v
		}
	case string:
		var r *reasonError
		if entries, r = parsePairs(x); r != nil {
			return nil, r
		}
	default:
		return nil, reasonf(show(raw), "is not a list of name=value pairs")
	}
	out := make(map[string]T, len(entries))
	// Sorted, so that of several bad entries the same one is always reported.
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		v := entries[name]
		lname := strings.ToLower(name)
		if r := checkEntryName(name); r != nil {
			return nil, r
		}
		if _, dup := out[lname]; dup {
			return nil, reasonf(strconv.Quote(name), "is given twice")
		}
		t, r := elem(v)
		if r != nil {
			r.entry = lname
			return nil, r
		}
		out[lname] = t
	}
	return out, nil
}

// parsePairs reads "a=1, b=x" (the form of environment variables and of
// device strings). Empty items are skipped, so "" is the empty map.
func parsePairs(s string) (map[string]any, *reasonError) {
	out := map[string]any{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, value, ok := strings.Cut(item, "=")
		if !ok {
			return nil, reasonf(strconv.Quote(item), "is not a name=value pair")
		}
		name = strings.TrimSpace(name)
		if _, dup := out[strings.ToLower(name)]; dup {
			return nil, reasonf(strconv.Quote(name), "is given twice")
		}
		out[strings.ToLower(name)] = strings.TrimSpace(value)
	}
	return out, nil
}

// checkEntryName rejects map entry names that could not round-trip through
// a device string or viper's dotted paths.
func checkEntryName(name string) *reasonError {
	if name == "" {
		return reasonf(`""`, "is not a valid entry name")
	}
	if strings.ContainsAny(name, ".=,:# \t\r\n\"'") {
		return reasonf(strconv.Quote(name), "is not a valid entry name (no dots, spaces or punctuation)")
	}
	return nil
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
