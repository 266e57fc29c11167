package tmpl

import (
	"strings"
	"testing"

	"github.com/mailgun/raymond/v2/lexer"
)

// TestDialects renders templates whose block tags, {{else}}, comments and
// raw blocks stand alone on their lines in both dialects. Habitat1 keeps
// every line break that is not next to a "~" (handlebars-rust 0.28, the
// Habitat 1.x Supervisor); Handlebars drops a standalone tag's line.
func TestDialects(t *testing.T) {
	d := map[string]any{"l": []any{"x", "y"}, "t": true, "f": false}
	for _, tc := range []struct {
		name, src, habitat1, handlebars string
	}{
		{"issue 12: directive after a comment",
			"# bind 127.0.0.1 ::1\n{{~#if l}}\nbind {{#each l}}{{this}} {{/each}}\n{{~/if}}\nport 1",
			"# bind 127.0.0.1 ::1\nbind x y \nport 1",
			"# bind 127.0.0.1 ::1bind x y port 1"},
		{"block alone on its lines", "a\n{{#if t}}\nb\n{{/if}}\nc", "a\n\nb\n\nc", "a\nb\nc"},
		{"indented block", "a\n  {{#if t}}\n  b\n  {{/if}}\nc", "a\n  \n  b\n  \nc", "a\n  b\nc"},
		{"each", "a\n{{#each l}}\n- {{this}}\n{{/each}}\nc", "a\n\n- x\n\n- y\n\nc", "a\n- x\n- y\nc"},
		{"else", "{{#if f}}\nyes\n{{else}}\nno\n{{/if}}\n", "\nno\n\n", "no\n"},
		{"else if", "{{#if f}}\na\n{{else if t}}\nb\n{{/if}}\n", "\nb\n\n", "b\n"},
		{"inverse section", "{{^if f}}\nno\n{{/if}}\n", "\nno\n\n", "no\n"},
		{"comment", "a\n{{! note }}\nb", "a\n\nb", "a\nb"},
		{"dashed comment", "a\n  {{!-- {{x}} --}}  \nb", "a\n    \nb", "a\nb"},
		{"raw block", "a\n{{{{raw}}}}\n{{x}}\n{{{{/raw}}}}\nb", "a\n\n{{x}}\n\nb", "a\n{{x}}\nb"},
		{"right tilde on the opening tag", "a\n{{#if t~}}\n  b\n{{/if}}\nc", "a\nb\n\nc", "a\nb\nc"},
		{"left tilde on the closing tag", "a\n{{#if t}}\nb\n{{~/if}}\nc", "a\n\nb\nc", "a\nbc"},
		{"tilde on both sides", "a  {{~#if t~}}  b  {{~/if~}}  c", "abc", "abc"},
		{"else with tildes", "{{#if f}}\nyes\n{{~else~}}\nno\n{{/if}}", "no\n", "no\n"},
		{"tag inside a line", "a {{#if t}}b{{/if}} c\n", "a b c\n", "a b c\n"},
		{"mustache alone on its line", "a\n{{l.[0]}}\nb", "a\nx\nb", "a\nx\nb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, dc := range []struct {
				d    Dialect
				want string
			}{{Habitat1, tc.habitat1}, {Handlebars, tc.handlebars}} {
				tp, err := ParseWith("t.hbs", tc.src, dc.d)
				if err != nil {
					t.Fatalf("%s: %v", dc.d, err)
				}
				got, err := tp.Render(d)
				if err != nil {
					t.Fatalf("%s: %v", dc.d, err)
				}
				if got != dc.want {
					t.Errorf("%s: Render(%q)\n got %q\nwant %q", dc.d, tc.src, got, dc.want)
				}
			}
		})
	}
}

// TestDefaultDialect: Parse and Render, which packages use unless they
// name a dialect, follow Habitat 1.x.
func TestDefaultDialect(t *testing.T) {
	got, err := Render("t.hbs", "a\n{{#if t}}\nb\n{{/if}}\n", map[string]any{"t": true})
	if err != nil || got != "a\n\nb\n\n" {
		t.Fatalf("Render = %q, %v; want the Habitat 1.x output %q", got, err, "a\n\nb\n\n")
	}
}

// TestDialectLines: the comments the Habitat1 dialect adds hold no line
// break, so errors still name the author's line.
func TestDialectLines(t *testing.T) {
	src := "{{#if a}}\n{{! c }}\n{{else}}\n{{/if}}\n{{#each x}}\n{{/with}}\n"
	for _, d := range []Dialect{Habitat1, Handlebars} {
		_, err := ParseWith("t.hbs", src, d)
		if err == nil || !strings.HasPrefix(err.Error(), "t.hbs:6: ") {
			t.Errorf("%s: ParseWith = %v; want an error at t.hbs:6", d, err)
		}
	}
}

func TestLookupDialect(t *testing.T) {
	for _, d := range []Dialect{Habitat1, Handlebars} {
		if got, err := LookupDialect(d.String()); err != nil || got != d {
			t.Errorf("LookupDialect(%q) = %v, %v", d.String(), got, err)
		}
	}
	_, err := LookupDialect("handlebars4")
	if err == nil || err.Error() != `unknown template dialect "handlebars4": expected habitat1 or handlebars` {
		t.Fatalf("LookupDialect(handlebars4) error = %v", err)
	}
}

// FuzzDialectSwitch: the dialect switch changes nothing in a template that
// has no "~" and no tag a line could be dropped for (a block tag, {{else}},
// a comment or a raw block tag alone on its line), and never changes
// whether a template parses.
func FuzzDialectSwitch(f *testing.F) {
	data := goldenData(f)
	for _, s := range []string{
		"a\n{{#if cfg.tls.enabled}}x{{/if}}\n",
		"{{#each cfg.bind}}{{this}} {{/each}}\nport {{cfg.port}}\n",
		"a {{! c }} b\n{{#if x}}y{{else}}z{{/if}} \n",
		"a\n{{#if cfg.port}}\nb\n{{/if}}\n",
		"{{{{raw}}}} {{x}} {{{{/raw}}}}\n",
		"# c\n{{~#if cfg.bind}}\nb\n{{~/if}}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		h1, err1 := ParseWith("f.hbs", src, Habitat1)
		hb, err2 := ParseWith("f.hbs", src, Handlebars)
		if (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() {
			t.Fatalf("ParseWith(%q): habitat1 %v, handlebars %v", src, err1, err2)
		}
		if err1 != nil || strings.Contains(src, "~") || aloneTag(src) {
			return
		}
		h1.lim = limits{output: 1 << 20, steps: 100_000}
		hb.lim = h1.lim
		out1, err1 := h1.Render(data)
		out2, err2 := hb.Render(data)
		if out1 != out2 || (err1 == nil) != (err2 == nil) {
			t.Fatalf("Render(%q):\nhabitat1   %q, %v\nhandlebars %q, %v", src, out1, err1, out2, err2)
		}
	})
}

// aloneTag reports whether src has a tag the standalone rule applies to
// (block open, close, else, inverse, comment, raw block tags) with
// nothing but blanks between it and the line's start and end (or the next
// tag). It reads
// the source, not raymond's tree, so it does not share the code under
// test.
func aloneTag(src string) bool {
	toks := lex(src)
	for i, t := range toks {
		end := -1
		switch t.Kind {
		case lexer.TokenInverse, lexer.TokenComment:
			end = t.Pos + len(t.Val)
		case lexer.TokenOpenBlock, lexer.TokenOpenEndBlock, lexer.TokenOpenInverse,
			lexer.TokenOpenInverseChain, lexer.TokenOpenRawBlock, lexer.TokenOpenEndRawBlock:
			for _, c := range toks[i+1:] {
				if c.Kind == lexer.TokenClose || c.Kind == lexer.TokenCloseRawBlock {
					end = c.Pos + len(c.Val)
					break
				}
			}
		default:
			continue
		}
		if end < 0 {
			return true // unclosed: let it count
		}
		before := src[:t.Pos]
		if nl := strings.LastIndexByte(before, '\n'); nl >= 0 {
			before = before[nl+1:]
		}
		after := src[end:]
		if nl := strings.IndexByte(after, '\n'); nl >= 0 {
			after = after[:nl]
		}
		// raymond also takes blanks up to the next tag as the end of the
		// line for a tag at the top level (parser/whitespace.go tests
		// handlebars.js' "no next sibling" the other way round), so
		// "{{! c }} {{x}}" at the start of a template drops its blank.
		if open := strings.Index(after, "{{"); open >= 0 {
			after = after[:open]
		}
		if strings.Trim(before, " \t\r\f\v") == "" && strings.Trim(after, " \t\r\f\v") == "" {
			return true
		}
	}
	return false
}

// TestBlanksBeforeSigils: Habitat's renderer took blanks between {{, ~
// and #, / or ^, as core/postgresql's templates use them; so does tend,
// in both dialects, without moving any line.
func TestBlanksBeforeSigils(t *testing.T) {
	d := map[string]any{"t": true, "f": false, "l": []any{"x"}}
	for _, tc := range []struct{ src, want string }{
		{"{{ #if t }}yes{{ /if }}", "yes"},
		{"a {{~ #unless f }} b {{~ /unless}} c", "a b c"},
		{"{{ ~ #if f}}y{{ ^ }}n{{ ~/if}}", "n"},
		{"{{\n#each l}}{{this}}{{\n/each}}", "x"},
		{"{{{{raw}}}}{{ #if t}}{{{{/raw}}}}", "{{ #if t}}"},
		{`\{{ #if t}}`, "{{ #if t}}"},
		{"{{ l.[0] }}", "x"},
	} {
		for _, dl := range []Dialect{Habitat1, Handlebars} {
			tp, err := ParseWith("t.hbs", tc.src, dl)
			if err != nil {
				t.Errorf("%s: ParseWith(%q): %v", dl, tc.src, err)
				continue
			}
			if got, err := tp.Render(d); err != nil || got != tc.want {
				t.Errorf("%s: Render(%q) = %q, %v; want %q", dl, tc.src, got, err, tc.want)
			}
		}
	}
	_, err := Parse("t.hbs", "a\n\n{{ #if t}}\n{{ /each}}")
	if err == nil || !strings.HasPrefix(err.Error(), "t.hbs:4: ") {
		t.Errorf("Parse error = %v; want it at t.hbs:4", err)
	}
}

// FuzzCloseUpSigils: the rewrite keeps the source's length and line
// breaks (so error lines stay right) and is done after one pass.
func FuzzCloseUpSigils(f *testing.F) {
	for _, s := range []string{"{{ #if x}}", "{{~ \n/if}}", "{{{{raw}}}}{{ #x}}{{{{/raw}}}}", `\{{ #x}}`, "{{ ~ ^ }}", "{{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		got := closeUpSigils(src)
		if len(got) != len(src) || strings.Count(got, "\n") != strings.Count(src, "\n") {
			t.Fatalf("closeUpSigils(%q) = %q: length or lines changed", src, got)
		}
		if again := closeUpSigils(got); again != got {
			t.Fatalf("closeUpSigils(%q) = %q, then %q", src, got, again)
		}
	})
}
