package tmpl

import "strings"

// closeUpSigils accepts blanks between a tag's {{ (and its ~) and the #,
// / or ^ that makes it a block tag: {{ #if x }}, {{~ /if}}. Habitat's
// renderer (handlebars-rust, whose grammar lets blanks and line breaks
// stand between any two parts of a tag) always took them, and real plans
// use them (core/postgresql's postgresql.conf and reconfigure hook);
// raymond, like handlebars.js, reads "{{ #" as a mustache and fails.
//
// The blanks move after the sigil, where raymond skips them: the source
// keeps its length and its line breaks, so line numbers stay right. Text
// inside raw blocks ({{{{raw}}}}…{{{{/raw}}}}) and escaped \{{ are left
// alone.
func closeUpSigils(src string) string {
	if !strings.Contains(src, "{{") {
		return src
	}
	var b []byte // nil until something changes
	for i := 0; i < len(src); {
		j := strings.Index(src[i:], "{{")
		if j < 0 {
			break
		}
		i += j
		if strings.HasPrefix(src[i:], "{{{{") {
			if strings.HasPrefix(src[i:], "{{{{/") {
				i += 5
				continue
			}
			// A raw block: its content is text up to {{{{/.
			end := strings.Index(src[i+4:], "{{{{/")
			if end < 0 {
				break
			}
			i += 4 + end
			continue
		}
		if i > 0 && src[i-1] == '\\' {
			i += 2
			continue
		}
		k := i + 2
		b1 := k
		for k < len(src) && isBlank(src[k]) {
			k++
		}
		e1 := k
		tilde := k < len(src) && src[k] == '~'
		if tilde {
			k++
		}
		b2 := k
		for k < len(src) && isBlank(src[k]) {
			k++
		}
		e2 := k
		if k >= len(src) || !strings.ContainsRune("#/^", rune(src[k])) || e1 == b1 && e2 == b2 {
			i += 2
			continue
		}
		if b == nil {
			b = []byte(src)
		}
		// "{{" blanks ["~" blanks] sigil  ->  "{{" ["~"] sigil blanks blanks
		n := i + 2
		if tilde {
			b[n] = '~'
			n++
		}
		b[n] = src[k]
		n++
		n += copy(b[n:], src[b1:e1])
		copy(b[n:], src[b2:e2])
		i = k + 1
	}
	if b == nil {
		return src
	}
	return string(b)
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
