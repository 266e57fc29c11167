package spec

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tomlString renders a string value as Habitat 1.6's TOML writer (toml 0.8,
// toml_edit 0.22) does, so a spec file tend writes is byte for byte the
// one Habitat would: in double quotes; in single quotes (literal, nothing
// escaped) when it holds '"' or '\' and a literal can hold it; in triple
// quotes when it spans lines; escapes only where a literal cannot be used.
func tomlString(v string) string {
	if plain(v) {
		return `"` + v + `"`
	}
	return styled(v)
}

// styled is tomlString of a string that is not plain.
func styled(v string) string {
	multi := strings.ContainsRune(v, '\n')
	if literalFits(v) {
		switch {
		case multi:
			return "'''\n" + v + "'''"
		case strings.ContainsRune(v, '\''):
			return "'''" + v + "'''"
		default:
			return "'" + v + "'"
		}
	}
	var b strings.Builder
	if multi {
		b.WriteString("\"\"\"\n")
	} else {
		b.WriteByte('"')
	}
	for _, r := range v {
		switch r {
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			if multi {
				b.WriteByte('\n')
			} else {
				b.WriteString(`\n`)
			}
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		default:
			if r <= 0x1f || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	if multi {
		b.WriteString(`"""`)
	} else {
		b.WriteByte('"')
	}
	return b.String()
}

// literalFits reports whether toml_edit writes v as a literal string: it
// prefers one when v holds '"' or '\' (nothing to escape), and can use
// one when v has no control character but tab and newline, no run of
// three single quotes, and does not end in one.
func literalFits(v string) bool {
	if !strings.ContainsAny(v, "\"\\") || strings.Contains(v, "'''") || strings.HasSuffix(v, "'") {
		return false
	}
	for _, r := range v {
		if (r <= 0x1f && r != '\t' && r != '\n') || r == 0x7f {
			return false
		}
	}
	return true
}

// plain reports whether v is written as it is between double quotes:
// valid UTF-8 with nothing to escape and nothing a literal is preferred
// for.
func plain(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == '"' || c == '\\' || c == 0x7f {
			return false
		}
	}
	return utf8.ValidString(v)
}
