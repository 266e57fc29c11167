package svccfg

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"
)

func equalValue(a, b any) bool { return cmp.Equal(a, b, cmpopts.EquateNaNs()) }

func TestMerge(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layers []map[string]any
		want   map[string]any
	}{
		{"none", nil, map[string]any{}},
		{"nil layers", []map[string]any{nil, {"a": int64(1)}, nil}, map[string]any{"a": int64(1)}},
		{"later scalar wins", []map[string]any{{"a": int64(1)}, {"a": int64(2)}}, map[string]any{"a": int64(2)}},
		{"tables merge", []map[string]any{
			{"t": map[string]any{"x": int64(1), "y": int64(1)}},
			{"t": map[string]any{"y": int64(2), "z": int64(2)}},
		}, map[string]any{"t": map[string]any{"x": int64(1), "y": int64(2), "z": int64(2)}}},
		{"arrays replace", []map[string]any{{"a": []any{int64(1), int64(2)}}, {"a": []any{int64(3)}}},
			map[string]any{"a": []any{int64(3)}}},
		{"scalar replaces table", []map[string]any{{"a": map[string]any{"x": int64(1)}}, {"a": "s"}},
			map[string]any{"a": "s"}},
		{"table replaces scalar", []map[string]any{{"a": "s"}, {"a": map[string]any{"x": int64(1)}}},
			map[string]any{"a": map[string]any{"x": int64(1)}}},
		{"empty table merges to nothing new", []map[string]any{{"t": map[string]any{"x": int64(1)}}, {"t": map[string]any{}}},
			map[string]any{"t": map[string]any{"x": int64(1)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, Merge(tc.layers...)); d != "" {
				t.Fatalf("-want +got:\n%s", d)
			}
		})
	}
}

// nest builds {k:{k:...{leaf}}} with depth tables above leaf.
func nest(depth int, leaf map[string]any) map[string]any {
	m := leaf
	for range depth {
		m = map[string]any{"k": m}
	}
	return m
}

func TestMergeDepthLimit(t *testing.T) {
	// The document is depth 0. Tables down to depth 30 merge key by key ...
	got := Merge(nest(30, map[string]any{"a": int64(1)}), nest(30, map[string]any{"b": int64(2)}))
	if d := cmp.Diff(nest(30, map[string]any{"a": int64(1), "b": int64(2)}), got); d != "" {
		t.Fatalf("depth 30: -want +got:\n%s", d)
	}
	// ... deeper ones are replaced whole by the later layer.
	got = Merge(nest(31, map[string]any{"a": int64(1)}), nest(31, map[string]any{"b": int64(2)}))
	if d := cmp.Diff(nest(31, map[string]any{"b": int64(2)}), got); d != "" {
		t.Fatalf("depth 31: -want +got:\n%s", d)
	}
}

// TestMergeNotAssociativeAcrossTypes pins down the one case where grouping
// matters (see Merge's doc), so nobody "fixes" the property test by
// loosening its generator without noticing.
func TestMergeNotAssociativeAcrossTypes(t *testing.T) {
	a := map[string]any{"x": map[string]any{"p": int64(1)}}
	b := map[string]any{"x": int64(5)}
	c := map[string]any{"x": map[string]any{"q": int64(2)}}
	left, right := Merge(Merge(a, b), c), Merge(a, Merge(b, c))
	if cmp.Equal(left, right) {
		t.Fatal("expected the groupings to differ when a key changes type")
	}
	if d := cmp.Diff(left, Merge(a, b, c)); d != "" {
		t.Fatalf("Merge(a,b,c) is not the left grouping: %s", d)
	}
}

// schema fixes which keys are tables, so generated layers agree on types as
// real config layers over one default.toml do. A nil entry is a leaf.
type schema map[string]schema

var keyNames = []string{"a", "b", "port", "tls", "x-y", "with space", ""}

func genSchema(t *rapid.T, depth int) schema {
	s := schema{}
	for _, k := range rapid.SliceOfNDistinct(rapid.SampledFrom(keyNames), 0, 4, rapid.ID[string]).Draw(t, "keys") {
		if depth < 4 && rapid.Bool().Draw(t, "table") {
			s[k] = genSchema(t, depth+1)
		} else {
			s[k] = nil
		}
	}
	return s
}

func genLeaf(t *rapid.T, depth int) any {
	switch rapid.IntRange(0, 5).Draw(t, "kind") {
	case 0:
		return rapid.Int64().Draw(t, "int")
	case 1:
		return rapid.Float64().Draw(t, "float")
	case 2:
		return rapid.String().Draw(t, "string")
	case 3:
		return rapid.Bool().Draw(t, "bool")
	case 4:
		if depth > 2 {
			return "deep"
		}
		n := rapid.IntRange(0, 3).Draw(t, "len")
		arr := make([]any, n)
		for i := range arr {
			arr[i] = genLeaf(t, depth+1)
		}
		return arr
	default:
		// A table inside an array is a leaf for merging: arrays replace.
		if depth > 2 {
			return int64(0)
		}
		return map[string]any{"in-array": genLeaf(t, depth+1)}
	}
}

// genLayer draws a layer that follows s: each key is present or not, and
// is a table exactly where s says so.
func genLayer(t *rapid.T, s schema) map[string]any {
	m := map[string]any{}
	for _, k := range sortedSchemaKeys(s) {
		if !rapid.Bool().Draw(t, "present") {
			continue
		}
		if s[k] == nil {
			m[k] = genLeaf(t, 0)
		} else {
			m[k] = genLayer(t, s[k])
		}
	}
	return m
}

// genAnyLayer draws a layer with no schema: keys may change type between
// layers.
func genAnyLayer(t *rapid.T) map[string]any {
	return genLayer(t, genSchema(t, 0))
}

func sortedSchemaKeys(s schema) []string {
	m := make(map[string]any, len(s))
	for k := range s {
		m[k] = nil
	}
	return sortedKeys(m)
}

func TestMergeProperties(t *testing.T) {
	t.Run("associative when layers agree on tables", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			s := genSchema(t, 0)
			a, b, c := genLayer(t, s), genLayer(t, s), genLayer(t, s)
			left, right := Merge(Merge(a, b), c), Merge(a, Merge(b, c))
			if d := cmp.Diff(left, right, cmpopts.EquateNaNs()); d != "" {
				t.Fatalf("(a+b)+c != a+(b+c):\n%s", d)
			}
			if d := cmp.Diff(left, Merge(a, b, c), cmpopts.EquateNaNs()); d != "" {
				t.Fatalf("Merge(a,b,c) != (a+b)+c:\n%s", d)
			}
		})
	})
	t.Run("empty layer is an identity", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			a := genAnyLayer(t)
			for i, got := range []map[string]any{Merge(a, map[string]any{}), Merge(map[string]any{}, a), Merge(a), Merge(nil, a, nil)} {
				if d := cmp.Diff(a, got, cmpopts.EquateNaNs()); d != "" {
					t.Fatalf("form %d:\n%s", i, d)
				}
			}
		})
	})
	t.Run("the last layer's leaves always win", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			layers := rapid.SliceOfN(rapid.Custom(genAnyLayer), 1, 4).Draw(t, "layers")
			merged := Merge(layers...)
			checkLeavesWin(t, layers[len(layers)-1], merged, "")
		})
	})
	t.Run("inputs are never mutated or aliased", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			layers := rapid.SliceOfN(rapid.Custom(genAnyLayer), 0, 4).Draw(t, "layers")
			before := make([]map[string]any, len(layers))
			for i, l := range layers {
				before[i] = deepCopy(l, 0).(map[string]any)
			}
			merged := Merge(layers...)
			if d := cmp.Diff(before, layers, cmpopts.EquateNaNs()); d != "" {
				t.Fatalf("Merge changed its inputs:\n%s", d)
			}
			scribble(merged)
			if d := cmp.Diff(before, layers, cmpopts.EquateNaNs()); d != "" {
				t.Fatalf("changing the result changed the inputs:\n%s", d)
			}
		})
	})
}

func checkLeavesWin(t *rapid.T, last, merged map[string]any, path string) {
	for k, v := range last {
		p := path + "/" + k
		got, ok := merged[k]
		if !ok {
			t.Fatalf("%s missing from the merge", p)
		}
		if sub, isTable := v.(map[string]any); isTable {
			gotSub, ok := got.(map[string]any)
			if !ok {
				t.Fatalf("%s: last layer has a table, merge has %T", p, got)
			}
			checkLeavesWin(t, sub, gotSub, p)
			continue
		}
		if !equalValue(v, got) {
			t.Fatalf("%s = %v, want the last layer's %v", p, got, v)
		}
	}
}

// scribble overwrites every value reachable from v.
func scribble(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			scribble(e)
			v[k] = "scribbled"
		}
		v["new key"] = true
	case []any:
		for i, e := range v {
			scribble(e)
			v[i] = "scribbled"
		}
	}
}
