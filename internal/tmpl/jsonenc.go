package tmpl

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// appendJSON writes normalised data as serde_json does: keys sorted (a
// BTreeMap), floats as formatFloat, and in pretty mode serde's
// PrettyFormatter layout (two-space indent, "key": value, empty containers
// as {} and []). encoding/json differs in ways that show in rendered files
// (1.0 printed as 1, <>& escaped), hence this small encoder.
func appendJSON(b []byte, v any, pretty bool, indent int) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendJSONString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case float64:
		if s := formatFloat(v); s != "" {
			return append(b, s...)
		}
		return append(b, "null"...)
	case []any:
		if len(v) == 0 {
			return append(b, "[]"...)
		}
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = newline(b, pretty, indent+1)
			b = appendJSON(b, e, pretty, indent+1)
		}
		b = newline(b, pretty, indent)
		return append(b, ']')
	case map[string]any:
		if len(v) == 0 {
			return append(b, "{}"...)
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = newline(b, pretty, indent+1)
			b = appendJSONString(b, k)
			b = append(b, ':')
			if pretty {
				b = append(b, ' ')
			}
			b = appendJSON(b, v[k], pretty, indent+1)
		}
		b = newline(b, pretty, indent)
		return append(b, '}')
	default:
		n, err := normal(v)
		if err != nil {
			return append(b, "null"...)
		}
		return appendJSON(b, n, pretty, indent)
	}
}

func newline(b []byte, pretty bool, indent int) []byte {
	if !pretty {
		return b
	}
	b = append(b, '\n')
	for range indent {
		b = append(b, "  "...)
	}
	return b
}

// appendJSONString escapes as serde_json: quote, backslash and control
// characters only (\b \f \n \r \t by name, others as \u00XX), everything
// else, HTML characters and non-ASCII included, as is.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			b = utf8.AppendRune(b, r) // invalid bytes become U+FFFD: the output stays valid JSON
			i += size
			continue
		}
		switch c {
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		}
		i++
	}
	return append(b, '"')
}

// compactJSONBare is how Habitat's strConcat and strJoin print a non-string
// value: serde_json's compact text with every double quote removed.
func compactJSONBare(v any) string {
	return strings.ReplaceAll(string(appendJSON(nil, v, false, 0)), `"`, "")
}
