package tmpl

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// genTemplate draws template source made of the pieces plans are made of:
// text with blanks and line breaks, values, if/unless/each blocks with
// {{else}}, comments and raw blocks, nested a few deep, with "~" only
// when tilde is set.
func genTemplate(t *rapid.T, depth int, tilde bool) string {
	var b strings.Builder
	n := rapid.IntRange(0, 4).Draw(t, "pieces")
	for range n {
		kinds := 4
		if depth < 3 {
			kinds = 5
		}
		switch rapid.IntRange(0, kinds-1).Draw(t, "kind") {
		case 0:
			b.WriteString(rapid.SampledFrom([]string{"a", " ", "\n", "  ", "\t", "x y", "\n\n", "# c\n", "k = v\n"}).Draw(t, "text"))
		case 1:
			b.WriteString(rapid.SampledFrom([]string{"{{cfg.port}}", "{{cfg.loglevel}}", "{{this}}", "{{sys.ip}}"}).Draw(t, "value"))
		case 2:
			b.WriteString(rapid.SampledFrom([]string{"{{! note }}", "{{!-- {{x}} --}}"}).Draw(t, "comment"))
		case 3:
			b.WriteString("{{{{raw}}}}" + rapid.SampledFrom([]string{"r", "\n", " {{x}} \n"}).Draw(t, "raw") + "{{{{/raw}}}}")
		case 4:
			name := rapid.SampledFrom([]string{"if", "unless", "each"}).Draw(t, "block")
			arg := "cfg.bind"
			if name != "each" {
				arg = rapid.SampledFrom([]string{"cfg.tls.enabled", "cfg.nope"}).Draw(t, "cond")
			}
			b.WriteString(tag(t, tilde, "#"+name+" "+arg))
			b.WriteString(genTemplate(t, depth+1, tilde))
			if rapid.Bool().Draw(t, "else") {
				b.WriteString(tag(t, tilde, "else"))
				b.WriteString(genTemplate(t, depth+1, tilde))
			}
			b.WriteString(tag(t, tilde, "/"+name))
		}
	}
	return b.String()
}

func tag(t *rapid.T, tilde bool, inner string) string {
	l, r := "{{", "}}"
	if tilde && rapid.Bool().Draw(t, "~{{") {
		l = "{{~"
	}
	if tilde && rapid.Bool().Draw(t, "~}}") {
		r = "~}}"
	}
	return l + inner + r
}

// TestDialectSwitchProperty is FuzzDialectSwitch over templates built
// from real pieces: without "~" and without a tag alone on its line, the
// two dialects render the same; with them, both still parse.
func TestDialectSwitchProperty(t *testing.T) {
	data := goldenData(t)
	compared := 0
	rapid.Check(t, func(t *rapid.T) {
		tilde := rapid.Bool().Draw(t, "tilde")
		src := genTemplate(t, 0, tilde)
		h1, err1 := ParseWith("p.hbs", src, Habitat1)
		hb, err2 := ParseWith("p.hbs", src, Handlebars)
		if err1 != nil || err2 != nil {
			t.Fatalf("ParseWith(%q): habitat1 %v, handlebars %v", src, err1, err2)
		}
		out1, err1 := h1.Render(data)
		out2, err2 := hb.Render(data)
		if err1 != nil || err2 != nil {
			t.Fatalf("Render(%q): habitat1 %v, handlebars %v", src, err1, err2)
		}
		if tilde || aloneTag(src) {
			return
		}
		compared++
		if out1 != out2 {
			t.Fatalf("Render(%q):\nhabitat1   %q\nhandlebars %q", src, out1, out2)
		}
	})
	if compared < 10 {
		t.Fatalf("only %d templates qualified for the comparison", compared)
	}
}
