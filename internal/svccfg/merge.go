package svccfg

// maxMergeDepth is Habitat's TOML_MAX_MERGE_DEPTH: tables nested deeper than
// this (the document itself is depth 0) are not merged key by key. Habitat fails the merge there; tend lets
// the later layer's table replace the earlier one, which is what "later
// wins" means for any other value, so a pathological document cannot stop a
// service from starting.
const maxMergeDepth = 30

// maxCopyDepth only guards against a cyclic map handed in by Go code (TOML
// cannot express one): past it values are shared instead of copied, rather
// than recursing until the stack overflows.
const maxCopyDepth = 10_000

// Merge deep-merges layers, later wins. Where two layers both hold a table
// under a key the tables merge recursively; any other value (scalar, array,
// datetime, or a table meeting a non-table) is replaced by the later one.
// nil layers are skipped. The result is a new map sharing no map or slice
// with the inputs, which are never modified.
//
// Merge is associative when the layers agree on which keys are tables, as
// config layers over one default.toml do. When they disagree it is not: with
// a={x:{p:1}}, b={x:5}, c={x:{q:2}}, Merge(Merge(a,b),c) is {x:{q:2}} but
// Merge(a,Merge(b,c)) is {x:{p:1,q:2}}, because b's scalar erased a's table
// only in the first grouping. Merge(a, b, c) is always the left grouping.
func Merge(layers ...map[string]any) map[string]any {
	size := 0
	for _, l := range layers {
		size = max(size, len(l))
	}
	out := make(map[string]any, size)
	for _, l := range layers {
		mergeInto(out, l, 0)
	}
	return out
}

// mergeInto merges src into dst, which sits at depth (the document is 0).
// Every map reachable from dst was made by Merge, so changing it in place
// never touches a caller's map.
func mergeInto(dst, src map[string]any, depth int) {
	for k, sv := range src {
		if sm, ok := sv.(map[string]any); ok && depth < maxMergeDepth {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeInto(dm, sm, depth+1)
				continue
			}
		}
		dst[k] = deepCopy(sv, 0)
	}
}

// deepCopy copies tables and arrays; every other value Merge meets is
// immutable (numbers, strings, bools, time values), so it is shared.
func deepCopy(v any, depth int) any {
	if depth > maxCopyDepth {
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e, depth+1)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = deepCopy(e, depth+1)
		}
		return s
	default:
		return v
	}
}
