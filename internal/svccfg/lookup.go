package svccfg

import "strings"

// Lookup finds a value by dotted path ("http.port"), as a package's EXPORTS
// name them. It reports false when any step is missing or is not a table.
// A key that itself contains a dot cannot be named this way, as in Habitat.
func Lookup(cfg map[string]any, dotted string) (any, bool) {
	if dotted == "" {
		return nil, false
	}
	var cur any = cfg
	for rest := dotted; ; {
		key, tail, more := strings.Cut(rest, ".")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[key]; !ok {
			return nil, false
		}
		if !more {
			return cur, true
		}
		rest = tail
	}
}
