package config

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// WriteYAML writes the configuration as a YAML file that Load accepts and
// that reproduces every value, keys in table order. With sources, each key
// carries a trailing comment saying where its value came from: "# default",
// "# file m4sc.yaml", "# env M4SC_RADIO_RATE" or "# flag --seed".
func (c *Config) WriteYAML(w io.Writer, sources bool) error {
	root := &yaml.Node{Kind: yaml.MappingNode}
	sections := map[string]*yaml.Node{"": root}
	for _, k := range keyTable {
		parent := root
		parts := strings.Split(k.Name, ".")
		for i := range len(parts) - 1 {
			path := strings.Join(parts[:i+1], ".")
			sec, ok := sections[path]
			if !ok {
				sec = &yaml.Node{Kind: yaml.MappingNode}
				parent.Content = append(parent.Content, textNode(parts[i]), sec)
				sections[path] = sec
			}
			parent = sec
		}
		kn, vn := textNode(parts[len(parts)-1]), valueNode(c.values[k.Name])
		if sources {
			comment := "# " + c.sourceText(k.Name)
			// A comment after a block mapping's key, since the value starts
			// on the next line.
			if vn.Kind == yaml.MappingNode && len(vn.Content) > 0 {
				kn.LineComment = comment
			} else {
				vn.LineComment = comment
			}
		}
		parent.Content = append(parent.Content, kn, vn)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return fmt.Errorf("config: write YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("config: write YAML: %w", err)
	}
	return nil
}

// sourceText is "default", "file PATH", "env NAME" or "flag --NAME".
func (c *Config) sourceText(key string) string {
	kind, detail := c.Source(key)
	if detail == "" {
		return kind.String()
	}
	return kind.String() + " " + detail
}

func textNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// plainNode is a scalar written without quotes or tag, read back by YAML
// as a number or boolean.
func plainNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Value: s}
}

func valueNode(v any) *yaml.Node {
	switch x := v.(type) {
	case int64:
		return plainNode(strconv.FormatInt(x, 10))
	case float64:
		return plainNode(formatFloat(x))
	case bool:
		return plainNode(strconv.FormatBool(x))
	case string:
		return textNode(x)
	case map[string]float64:
		m := mapNode(len(x))
		for _, n := range slices.Sorted(maps.Keys(x)) {
			m.Content = append(m.Content, textNode(n), plainNode(formatFloat(x[n])))
		}
		return m
	case map[string]string:
		m := mapNode(len(x))
		for _, n := range slices.Sorted(maps.Keys(x)) {
			vn := textNode(x[n])
			if isNumberText(x[n]) { // snr: 25 rather than snr: "25"
				vn = plainNode(x[n])
			}
			m.Content = append(m.Content, textNode(n), vn)
		}
		return m
	}
	panic(fmt.Sprintf("config: no YAML form for %T", v))
}

// mapNode is a mapping, written {} when empty so that the key still shows.
func mapNode(n int) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	if n == 0 {
		m.Style = yaml.FlowStyle
	}
	return m
}

// isNumberText reports whether s is a decimal number that YAML reads as a
// number when written plain, so that it needs no quotes.
func isNumberText(s string) bool {
	if s == "" || strings.Trim(s, "0123456789.eE+-") != "" {
		return false
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}
