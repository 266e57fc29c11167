package supcfg

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The file is walked as a yaml.Node tree rather than decoded into a struct:
// the option table stays the one description of every key, each value goes
// through the same parser as a flag, and every error can give the line.

// fileError is an error at a line of the config file.
type fileError struct {
	path string
	line int
	err  error
}

func (e *fileError) Error() string {
	if e.line == 0 {
		return fmt.Sprintf("%s: %v", e.path, e.err)
	}
	return fmt.Sprintf("%s: line %d: %v", e.path, e.line, e.err)
}

func (e *fileError) Unwrap() error { return e.err }

// yamlError drops the "yaml: " prefix of the parser's messages; they already
// carry "line N:" and the file name says it is YAML.
type yamlError struct{ err error }

func (e yamlError) Error() string { return strings.TrimPrefix(e.err.Error(), "yaml: ") }
func (e yamlError) Unwrap() error { return e.err }

// fileReader applies one config file to a Config.
type fileReader struct {
	path string
	dir  string // relative package paths in services are relative to it
	c    *Config
	opts []option
	src  sources
}

func readFile(path, pathSrc string, c *Config, opts []option, src sources) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", pathSrc, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, yamlError{err})
	}
	if len(doc.Content) == 0 {
		return nil // an empty file sets nothing
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	r := &fileReader{path: path, dir: dir, c: c, opts: opts, src: src}
	root := deref(doc.Content[0])
	if root.Tag == "!!null" {
		return nil // only comments
	}
	if root.Kind != yaml.MappingNode {
		return r.errorf(root, "want a mapping of option keys")
	}
	return r.walk(root, "")
}

func (r *fileReader) errorf(n *yaml.Node, format string, args ...any) error {
	return &fileError{path: r.path, line: n.Line, err: fmt.Errorf(format, args...)}
}

// deref follows aliases (*anchor) to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// walk applies the keys of mapping m, whose own key path is prefix.
func (r *fileReader) walk(m *yaml.Node, prefix string) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], deref(m.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			return r.errorf(k, "keys must be plain names")
		}
		key := k.Value
		if prefix != "" {
			key = prefix + "." + k.Value
		}
		if first, dup := seen[k.Value]; dup {
			return r.errorf(k, "%s: given twice (first at line %d)", key, first)
		}
		seen[k.Value] = k.Line

		if key == yamlServices {
			svcs, err := r.services(v)
			if err != nil {
				return err
			}
			r.c.Services = svcs
			continue
		}
		if o := byYAML(r.opts, key); o != nil && o.field != nil {
			if err := r.apply(o, k, v); err != nil {
				return err
			}
			continue
		}
		if r.isSection(key) {
			switch {
			case isNull(v):
				continue // "monitor:" with nothing under it
			case v.Kind != yaml.MappingNode:
				return r.errorf(v, "%s: want a mapping", key)
			}
			if err := r.walk(v, key); err != nil {
				return err
			}
			continue
		}
		msg := fmt.Sprintf("field %s not found", key)
		if s := r.suggest(prefix, k.Value); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		return r.errorf(k, "%s", msg)
	}
	return nil
}

// isSection reports whether key is a prefix of some option's key.
func (r *fileReader) isSection(key string) bool {
	for _, o := range r.opts {
		if strings.HasPrefix(o.YAML, key+".") {
			return true
		}
	}
	return false
}

// apply sets option o from value node v (k is its key node).
func (r *fileReader) apply(o *option, k, v *yaml.Node) error {
	if isNull(v) {
		return nil // "key:" with no value leaves the default
	}
	var vals []string
	switch {
	case v.Kind == yaml.ScalarNode:
		vals = []string{v.Value}
	case v.Kind == yaml.SequenceNode && o.isList():
		for _, item := range v.Content {
			item = deref(item)
			if item.Kind != yaml.ScalarNode {
				return r.errorf(item, "%s: each item must be a single value", o.YAML)
			}
			vals = append(vals, item.Value)
		}
	case o.isList():
		return r.errorf(v, "%s: want a list", o.YAML)
	default:
		return r.errorf(v, "%s: want a single value, not a list or mapping", o.YAML)
	}
	if err := o.set(r.c, vals); err != nil {
		return r.errorf(v, "%s: %w", o.YAML, err)
	}
	r.src[o.YAML] = fmt.Sprintf("%s: line %d: %s", r.path, k.Line, o.YAML)
	return nil
}

// suggest returns the known key under prefix closest to name, if one is
// close enough to be a typo.
func (r *fileReader) suggest(prefix, name string) string {
	var cands []string
	for _, o := range r.opts {
		key := o.YAML
		if prefix != "" {
			if !strings.HasPrefix(key, prefix+".") {
				continue
			}
			key = strings.TrimPrefix(key, prefix+".")
		}
		if key == "" {
			continue
		}
		cands = append(cands, strings.SplitN(key, ".", 2)[0])
	}
	sort.Strings(cands)
	return closest(name, cands)
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
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
