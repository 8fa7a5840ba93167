package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fileLayer is the content of a configuration file, checked against the
// schema and converted to the keys' Go types.
type fileLayer struct {
	values     map[string]any // key name -> value of the key's Go type
	lines      map[string]int // key name -> line of the key
	entryLines map[string]int // "key.entry" of map keys -> line of the entry
}

// entryLine is the line of entry in map key, or def if unknown.
func (fl *fileLayer) entryLine(key, entry string, def int) int {
	if l, ok := fl.entryLines[key+"."+entry]; ok && entry != "" {
		return l
	}
	return def
}

// nested returns the values as the nested maps viper expects from a file.
func (fl *fileLayer) nested() map[string]any {
	root := map[string]any{}
	for name, v := range fl.values {
		parts := strings.Split(name, ".")
		m := root
		for _, p := range parts[:len(parts)-1] {
			sub, ok := m[p].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[p] = sub
			}
			m = sub
		}
		m[parts[len(parts)-1]] = viperValue(v)
	}
	return root
}

// fileParser walks the YAML node tree. It reads the tree rather than
// decoding into a map so that it has line numbers for its errors, sees
// duplicate keys, and keeps the literal text of values meant as strings
// ("0x10" stays "0x10", not 16).
type fileParser struct {
	path string
	fl   *fileLayer
	seen map[string]int // dotted name -> line, for duplicates and sections
}

// parseFile checks data, the content of the file at path, against the
// schema. Every error it returns names path.
func parseFile(path string, data []byte) (*fileLayer, error) {
	p := &fileParser{
		path: path,
		fl:   &fileLayer{values: map[string]any{}, lines: map[string]int{}, entryLines: map[string]int{}},
		seen: map[string]int{},
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) { // empty file, or comments only
			return p.fl, nil
		}
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, fmt.Errorf("config: %s: %w", path, err)
	default:
		return nil, fmt.Errorf("config: %s:%d: more than one YAML document", path, next.Line)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return p.fl, nil
		}
		root = root.Content[0]
	}
	root = deref(root)
	if isNull(root) {
		return p.fl, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config: %s:%d: the file must be a mapping of keys, found %s", path, root.Line, kindName(root))
	}
	if err := p.walk(root, ""); err != nil {
		return nil, err
	}
	return p.fl, nil
}

// walk reads the keys of mapping m, whose dotted prefix is prefix.
func (p *fileParser) walk(m *yaml.Node, prefix string) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		kn, vn := deref(m.Content[i]), deref(m.Content[i+1])
		if kn.Kind != yaml.ScalarNode {
			return fmt.Errorf("config: %s:%d: a key must be a name, found %s", p.path, kn.Line, kindName(kn))
		}
		name := kn.Value
		if prefix != "" {
			name = prefix + "." + name
		}
		if first, dup := p.seen[name]; dup {
			return fmt.Errorf("config: %s:%d: key %q given twice (first on line %d)", p.path, kn.Line, name, first)
		}
		p.seen[name] = kn.Line

		if k, ok := Lookup(name); ok {
			if isNull(vn) { // "rate:" with nothing: not set
				continue
			}
			if err := p.value(k, kn, vn); err != nil {
				return err
			}
			continue
		}
		if isSection(name) {
			if isNull(vn) { // "radio:" whose keys are all commented out
				continue
			}
			if vn.Kind != yaml.MappingNode {
				return &ValueError{Key: name, Value: literal(vn),
					Reason: fmt.Sprintf("is not a section of keys (%s)", strings.Join(sectionKeys(name), ", ")),
					Source: SourceFile, Detail: p.path, Line: kn.Line}
			}
			if err := p.walk(vn, name); err != nil {
				return err
			}
			continue
		}
		return &UnknownKeyError{File: p.path, Line: kn.Line, Key: name, Suggest: suggest(name)}
	}
	return nil
}

// value converts the value vn of key k, whose name is node kn.
func (p *fileParser) value(k Key, kn, vn *yaml.Node) error {
	o := origin{kind: SourceFile, detail: p.path, line: kn.Line}
	var raw any
	switch {
	case k.Type.isMap() && vn.Kind == yaml.MappingNode:
		entries := map[string]any{}
		for i := 0; i+1 < len(vn.Content); i += 2 {
			en, ev := deref(vn.Content[i]), deref(vn.Content[i+1])
			if en.Kind != yaml.ScalarNode {
				return fmt.Errorf("config: %s:%d: %s: an entry name must be text, found %s", p.path, en.Line, k.Name, kindName(en))
			}
			lname := strings.ToLower(en.Value)
			if first, dup := p.fl.entryLines[k.Name+"."+lname]; dup {
				return fmt.Errorf("config: %s:%d: %s: entry %q given twice (first on line %d)", p.path, en.Line, k.Name, en.Value, first)
			}
			p.fl.entryLines[k.Name+"."+lname] = en.Line
			eo := o
			eo.line = en.Line
			if ev.Kind != yaml.ScalarNode {
				return valueError(k.Name, &reasonError{entry: lname, reason: "is a " + kindName(ev) + ", not a single value"}, eo)
			}
			if isNull(ev) {
				return valueError(k.Name, &reasonError{entry: lname, reason: "has no value"}, eo)
			}
			elem := TypeFloat
			if k.Type == TypeStringMap {
				elem = TypeString
			}
			entries[en.Value] = scalar(elem, ev)
		}
		raw = entries
	case vn.Kind == yaml.ScalarNode:
		// A map key may also be written in its text form, "lna=16,vga=20".
		raw = scalar(k.Type, vn)
		if k.Type.isMap() {
			raw = vn.Value
		}
	default:
		return valueError(k.Name, reasonf("", "is a %s, expected %s", kindName(vn), k.TypeName()), o)
	}
	v, r := convert(k, raw)
	if r != nil {
		if r.entry != "" {
			o.line = p.fl.entryLine(k.Name, r.entry, o.line)
		}
		return valueError(k.Name, r, o)
	}
	p.fl.values[k.Name] = v
	p.fl.lines[k.Name] = kn.Line
	return nil
}

// scalar returns the raw value of a scalar node for a value of type t. Text
// keys take the literal text, whatever YAML would have made of it; others
// take YAML's reading (int, float, bool, or text that convert then parses).
func scalar(t Type, n *yaml.Node) any {
	if t == TypeString || t == TypeStringMap {
		return n.Value
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return n.Value
	}
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64, uint64, float64, bool, string:
		return x
	}
	// Timestamps, binary and anything else: keep the text, which convert
	// will reject with a readable message.
	return n.Value
}

// deref follows aliases ("*anchor") to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	// yaml rejects an anchor that contains itself, so this ends; the bound
	// is a second guard.
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// literal renders a node for an error message.
func literal(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return show(n.Value)
	}
	return ""
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "single value"
	case yaml.AliasNode:
		return "alias"
	case yaml.DocumentNode:
		return "document"
	}
	return "node"
}

// suggest returns the key or section closest to an unknown name: the same
// name in other case, the same last part in another section ("rate" for
// "radio.rate"), or a name at most two edits away.
func suggest(name string) string {
	var names []string
	for _, k := range keyTable {
		names = append(names, k.Name)
		parts := strings.Split(k.Name, ".")
		for i := 1; i < len(parts); i++ {
			names = append(names, strings.Join(parts[:i], "."))
		}
	}
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return n
		}
	}
	last := name[strings.LastIndex(name, ".")+1:]
	for _, k := range keyTable {
		if k.Name[strings.LastIndex(k.Name, ".")+1:] == last {
			return k.Name
		}
	}
	best, bestDist := "", 3
	for _, n := range names {
		if d := editDistance(strings.ToLower(name), n); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes. Names
// longer than a key could be are not worth comparing.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return len(a) + len(b)
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
