package tmpl

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// maxDataDepth bounds how deeply render data may nest. Real data is a
// handful of levels; the bound turns a cyclic map (possible in Go, not in
// TOML or JSON) into an error instead of endless recursion.
const maxDataDepth = 64

// normalizeRoot turns data into the few types templates and helpers deal
// with, mirroring what Habitat's data looks like once it has gone through
// serde_json:
//
//	map[string]any, []any, string, bool, int64, float64, nil
//
// plus uint64 for integers above int64's range. All Go integer kinds become
// int64; float32 becomes the float64 with the same shortest decimal form;
// NaN and ±Inf become nil (serde_json has no such numbers); time.Time
// becomes an RFC 3339 string and go-toml's local date/time types their TOML
// text; json.Number becomes int64 or float64. Anything else (structs,
// typed maps and slices, pointers, JSON or text marshalers) goes through
// encoding/json, the Go counterpart of Habitat's serde step.
//
// The caller's data is never modified: a map or slice that needs a change
// is copied, and one that is already in normal form is shared, read-only,
// which spares most of the copying for cfg straight from svccfg.
func normalizeRoot(data map[string]any) (map[string]any, error) {
	n, _, err := normalizeMap(data, 1)
	return n, err
}

// normalize returns v in normal form and whether that differs from v (so
// the container holding v must be copied).
func normalize(v any, depth int) (any, bool, error) {
	if depth > maxDataDepth {
		return nil, false, fmt.Errorf("nested more than %d levels (a cycle?)", maxDataDepth)
	}
	// Unchanged values are returned as the original interface v: boxing
	// them again would allocate.
	switch x := v.(type) {
	case nil, string, bool, int64:
		return v, false, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, true, nil
		}
		return v, false, nil
	case int:
		return int64(x), true, nil
	case int32:
		return int64(x), true, nil
	case uint64:
		return normUint(x), true, nil
	case float32:
		return normFloat32(x), true, nil
	case map[string]any:
		if x == nil {
			return map[string]any{}, true, nil
		}
		n, changed, err := normalizeMap(x, depth)
		if !changed {
			return v, false, err
		}
		return n, true, err
	case []any:
		if x == nil {
			return []any{}, true, nil
		}
		n, changed, err := normalizeSlice(x, depth)
		if !changed {
			return v, false, err
		}
		return n, true, err
	case time.Time:
		return x.Format(time.RFC3339Nano), true, nil
	case toml.LocalDate:
		return x.String(), true, nil
	case toml.LocalTime:
		return x.String(), true, nil
	case toml.LocalDateTime:
		return x.String(), true, nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true, nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, false, fmt.Errorf("number %q: %w", x.String(), err)
		}
		return normFloat(f), true, nil
	}
	n, err := normalizeReflect(v, depth)
	return n, true, err
}

// normalizeMap copies m only once a value in it needs to change.
func normalizeMap(m map[string]any, depth int) (map[string]any, bool, error) {
	var out map[string]any
	for k, e := range m {
		n, changed, err := normalize(e, depth+1)
		if err != nil {
			return nil, false, pathErr(k, err)
		}
		if changed {
			if out == nil {
				out = maps.Clone(m)
			}
			out[k] = n
		}
	}
	if out == nil {
		return m, false, nil
	}
	return out, true, nil
}

func normalizeSlice(s []any, depth int) ([]any, bool, error) {
	var out []any
	for i, e := range s {
		n, changed, err := normalize(e, depth+1)
		if err != nil {
			return nil, false, pathErr(strconv.Itoa(i), err)
		}
		if changed {
			if out == nil {
				out = slices.Clone(s)
			}
			out[i] = n
		}
	}
	if out == nil {
		return s, false, nil
	}
	return out, true, nil
}

// normal is normalize for callers that only want the value.
func normal(v any) (any, error) {
	n, _, err := normalize(v, 0)
	return n, err
}

func normalizeReflect(v any, depth int) (any, error) {
	rv := reflect.ValueOf(v)
	t := rv.Type()
	if t.Implements(reflect.TypeFor[json.Marshaler]()) || t.Implements(reflect.TypeFor[encoding.TextMarshaler]()) {
		return viaJSON(v, depth)
	}
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		n, _, err := normalize(rv.Elem().Interface(), depth)
		return n, err
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return normUint(rv.Uint()), nil
	case reflect.Float32:
		return normFloat32(float32(rv.Float())), nil
	case reflect.Float64:
		return normFloat(rv.Float()), nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return viaJSON(v, depth)
		}
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			n, _, err := normalize(it.Value().Interface(), depth+1)
			if err != nil {
				return nil, pathErr(it.Key().String(), err)
			}
			m[it.Key().String()] = n
		}
		return m, nil
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return viaJSON(v, depth) // []byte: base64, as encoding/json writes it
		}
		s := make([]any, rv.Len())
		for i := range s {
			n, _, err := normalize(rv.Index(i).Interface(), depth+1)
			if err != nil {
				return nil, pathErr(strconv.Itoa(i), err)
			}
			s[i] = n
		}
		return s, nil
	case reflect.Struct:
		return viaJSON(v, depth)
	}
	return nil, fmt.Errorf("unsupported type %T", v)
}

// viaJSON turns a value into data the way encoding/json sees it.
func viaJSON(v any, depth int) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%T: %w", v, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("%T: %w", v, err)
	}
	n, _, err := normalize(out, depth)
	return n, err
}

func normFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}

// normFloat32 keeps what a float32 means to a reader: float32(0.1) becomes
// 0.1, not 0.10000000149011612.
func normFloat32(f float32) any {
	g, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	return normFloat(g)
}

func normUint(u uint64) any {
	if u <= math.MaxInt64 {
		return int64(u)
	}
	return u
}

// pathErr prefixes an error with the key it happened under, building a
// dotted path as the recursion unwinds.
func pathErr(key string, err error) error {
	if pe, ok := err.(*dataPathError); ok {
		pe.path = key + "." + pe.path
		return pe
	}
	return &dataPathError{path: key, err: err}
}

type dataPathError struct {
	path string
	err  error
}

func (e *dataPathError) Error() string { return "data at " + e.path + ": " + e.err.Error() }
func (e *dataPathError) Unwrap() error { return e.err }
