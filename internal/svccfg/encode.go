package svccfg

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
)

// EncodeTOML writes cfg as a TOML document, for GET /config with
// Accept: application/toml and for the toToml template helper.
//
// The layout follows what Habitat's Rust toml crate prints, so toToml output
// reads the same: keys sorted, plain values before tables, strings in double
// quotes, a blank line before each [table] or [[array]] header, a header
// only for tables that hold plain values (or nothing at all), and arrays of
// tables as [[key]]. Floats print as Rust does (1.0, 0.5, 100000000000.0).
// Habitat may choose single-quoted or multi-line strings where tend always
// writes escaped double-quoted ones; both decode to the same value.
//
// A nil value in a table is left out (TOML has no null); one inside an array
// is an error, as is an integer beyond int64 or a string that is not UTF-8.
func EncodeTOML(cfg map[string]any) ([]byte, error) {
	var e tomlEncoder
	if err := e.table(cfg, nil); err != nil {
		return nil, err
	}
	return e.buf.Bytes(), nil
}

type tomlEncoder struct {
	buf bytes.Buffer
}

// table writes the body of the table at path: its plain keys, then its
// sub-tables and arrays of tables, each under its own header.
func (e *tomlEncoder) table(m map[string]any, path []string) error {
	keys := sortedKeys(m)
	for _, k := range keys {
		v := m[k]
		if v == nil || isTable(v) || isTableArray(v) {
			continue
		}
		writeKey(&e.buf, k)
		e.buf.WriteString(" = ")
		if err := e.inline(v, path, k); err != nil {
			return err
		}
		e.buf.WriteByte('\n')
	}
	for _, k := range keys {
		sub := append(path[:len(path):len(path)], k)
		switch v := toTable(m[k]); {
		case v != nil:
			if hasPlainValues(v) || len(v) == 0 {
				e.header("[", sub, "]")
			}
			if err := e.table(v, sub); err != nil {
				return err
			}
		case isTableArray(m[k]):
			for _, el := range toArray(m[k]) {
				e.header("[[", sub, "]]")
				if err := e.table(toTable(el), sub); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (e *tomlEncoder) header(open string, path []string, close string) {
	if e.buf.Len() > 0 {
		e.buf.WriteByte('\n')
	}
	e.buf.WriteString(open)
	for i, p := range path {
		if i > 0 {
			e.buf.WriteByte('.')
		}
		writeKey(&e.buf, p)
	}
	e.buf.WriteString(close)
	e.buf.WriteByte('\n')
}

// inline writes a value on the right of "key = ", where tables must be
// inline tables.
func (e *tomlEncoder) inline(v any, path []string, key string) error {
	switch v := v.(type) {
	case string:
		return writeString(&e.buf, v, path, key)
	case bool:
		e.buf.WriteString(strconv.FormatBool(v))
	case int64:
		e.buf.WriteString(strconv.FormatInt(v, 10))
	case uint64:
		if v > math.MaxInt64 {
			return encodeErr(path, key, "integer %d is beyond TOML's 64-bit signed range", v)
		}
		e.buf.WriteString(strconv.FormatUint(v, 10))
	case float64:
		e.buf.WriteString(tomlFloat(v))
	case time.Time:
		if y := v.Year(); y < 0 || y > 9999 {
			return encodeErr(path, key, "year %d does not fit a TOML datetime", y)
		}
		e.buf.WriteString(v.Format(time.RFC3339Nano))
	case toml.LocalDate, toml.LocalTime, toml.LocalDateTime:
		e.buf.WriteString(v.(fmt.Stringer).String())
	default:
		if arr := toArray(v); arr != nil {
			e.buf.WriteByte('[')
			for i, el := range arr {
				if i > 0 {
					e.buf.WriteString(", ")
				}
				if el == nil {
					return encodeErr(path, key, "null inside an array")
				}
				if err := e.inline(el, path, key); err != nil {
					return err
				}
			}
			e.buf.WriteByte(']')
			return nil
		}
		if t := toTable(v); t != nil {
			return e.inlineTable(t, append(path[:len(path):len(path)], key))
		}
		return e.inlineKind(v, path, key)
	}
	return nil
}

// inlineKind handles named and sized number, bool and string types that Go
// callers may put in a cfg (an int, a uint16 port, a type Mode string).
func (e *tomlEncoder) inlineKind(v any, path []string, key string) error {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return e.inline(rv.Int(), path, key)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return e.inline(rv.Uint(), path, key)
	case reflect.Float32, reflect.Float64:
		return e.inline(rv.Float(), path, key)
	case reflect.Bool:
		return e.inline(rv.Bool(), path, key)
	case reflect.String:
		return e.inline(rv.String(), path, key)
	}
	return encodeErr(path, key, "unsupported type %T", v)
}

func (e *tomlEncoder) inlineTable(t map[string]any, path []string) error {
	if len(t) == 0 {
		e.buf.WriteString("{}")
		return nil
	}
	e.buf.WriteString("{ ")
	first := true
	for _, k := range sortedKeys(t) {
		if t[k] == nil {
			continue
		}
		if !first {
			e.buf.WriteString(", ")
		}
		first = false
		writeKey(&e.buf, k)
		e.buf.WriteString(" = ")
		if err := e.inline(t[k], path, k); err != nil {
			return err
		}
	}
	e.buf.WriteString(" }")
	return nil
}

// tomlFloat prints a float as Rust's Display does (shortest digits that
// round-trip, never an exponent), adding ".0" to whole numbers so the value
// stays a float.
func tomlFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// writeKey writes a bare key when TOML allows one, else a quoted key.
func writeKey(buf *bytes.Buffer, k string) {
	bare := k != ""
	for i := 0; i < len(k) && bare; i++ {
		c := k[i]
		bare = 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-'
	}
	if bare {
		buf.WriteString(k)
		return
	}
	quote(buf, k)
}

func writeString(buf *bytes.Buffer, s string, path []string, key string) error {
	if !utf8.ValidString(s) {
		return encodeErr(path, key, "string is not valid UTF-8")
	}
	quote(buf, s)
	return nil
}

// quote writes a TOML basic string. TOML forbids raw control characters
// (other than tab) in one, DEL included, so those are escaped.
func quote(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			buf.WriteString(`\"`)
		case '\\':
			buf.WriteString(`\\`)
		case '\b':
			buf.WriteString(`\b`)
		case '\t':
			buf.WriteString(`\t`)
		case '\n':
			buf.WriteString(`\n`)
		case '\f':
			buf.WriteString(`\f`)
		case '\r':
			buf.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(buf, `\u%04X`, r)
			} else {
				buf.WriteRune(r)
			}
		}
	}
	buf.WriteByte('"')
}

func encodeErr(path []string, key, format string, args ...any) error {
	p := ""
	for _, s := range append(path[:len(path):len(path)], key) {
		if p != "" {
			p += "."
		}
		p += s
	}
	return fmt.Errorf("encode TOML: %s: %s", p, fmt.Sprintf(format, args...))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func hasPlainValues(m map[string]any) bool {
	for _, v := range m {
		if v != nil && !isTable(v) && !isTableArray(v) {
			return true
		}
	}
	return false
}

func isTable(v any) bool { return toTable(v) != nil }

// isTableArray reports a non-empty array whose elements are all tables:
// the values TOML writes as [[key]] sections.
func isTableArray(v any) bool {
	arr := toArray(v)
	if len(arr) == 0 {
		return false
	}
	for _, el := range arr {
		if !isTable(el) {
			return false
		}
	}
	return true
}

// toTable accepts map[string]any and, for callers that build cfg in Go, any
// map keyed by strings; it returns nil for anything else.
func toTable(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		if m == nil {
			return map[string]any{}
		}
		return m
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil
	}
	m := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		m[it.Key().String()] = it.Value().Interface()
	}
	return m
}

// toArray accepts []any and any other slice or array type; nil otherwise.
func toArray(v any) []any {
	if a, ok := v.([]any); ok {
		if a == nil {
			return []any{}
		}
		return a
	}
	rv := reflect.ValueOf(v)
	if k := rv.Kind(); k != reflect.Slice && k != reflect.Array {
		return nil
	}
	if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
		return nil // []byte is not an array of numbers to anyone writing config
	}
	a := make([]any, rv.Len())
	for i := range a {
		a[i] = rv.Index(i).Interface()
	}
	return a
}
