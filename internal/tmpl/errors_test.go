package tmpl

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		src, want string
	}{
		{"{{#if x}}\nno end", "t.hbs:1: {{#if}} is never closed"},
		{"a\n\n{{#if x}}{{/each}}", "t.hbs:3: {{/each}} does not close {{#if}} (line 3)"},
		{"{{/if}}", "t.hbs:1: unexpected a {{/…}} with no open block"},
		{"x\n{{else}}", "t.hbs:2: unexpected {{else}} outside a block"},
		{"{{x", "t.hbs:1: Unclosed expression"},
		{"{{! never closed", "t.hbs:1: Unclosed comment"},
		{"{{> partial}}", "t.hbs:1: partials ({{> name}}) are not supported"},
		{"{{#cfg.list}}x{{/cfg.list}}", `t.hbs:1: "cfg.list" is not a block helper`},
		{"{{#foo}}x{{/foo}}", `t.hbs:1: "foo" is not a block helper`},
		{"{{#each 0 A}}{{/each}}", "t.hbs:1: each takes 1 argument(s), got 2"},
		{"{{#each}}{{/each}}", "t.hbs:1: each takes 1 argument(s), got 0"},
		{"{{#each m as |v k|}}{{/each}}", "t.hbs:1: each fills one block parameter (the item); use @key or @index for the key"},
		{"{{#if x as |y|}}{{/if}}", "t.hbs:1: if takes no block parameters"},
		{"{{each l}}", "t.hbs:1: each is a block helper"},
		{"{{#if (each l)}}{{/if}}", "t.hbs:1: each is a block helper"},
		{"{{#toJson x}}{{/toJson}}", "t.hbs:1: toJson is not a block helper"},
		{"{{strReplace a b}}", "t.hbs:1: strReplace takes 3 argument(s), got 2"},
		{"{{strConcat}}", "t.hbs:1: strConcat takes at least 1 argument(s), got 0"},
		{"{{equal a b}}", "t.hbs:1: equal is not a Habitat helper"},
		{"{{cfg.x y}}", `t.hbs:1: "cfg.x" is not a helper`},
		{"{{foo/../bar}}", "t.hbs:1: invalid path foo/.."},
		{"{{@.}}", "t.hbs:1: invalid data variable @."},
		{"{{x @../this}}", "t.hbs:1: invalid data variable @../this"},
		{"{{x 1e}}", "t.hbs:1: bad number 1e"},
		{"{{x 1+}}", "t.hbs:1: bad number syntax"},
		{"{{{{raw}}}}{{{{/raw}}}}", "t.hbs:1: expected raw block content"},
		{"{{{{raw}}}}x{{{{/other}}}}", "t.hbs:1: {{{{/other}}}} does not close {{{{raw}}}}"},
		{strings.Repeat("{{#if x}}", maxNesting+1), "t.hbs:1: blocks and subexpressions nested more than 64 deep"},
		{"{{#if x}}" + strings.Repeat("{{else if x}}", maxNesting) + "{{/if}}", "t.hbs:1: blocks and subexpressions nested more than 64 deep"},
		{"{{x " + strings.Repeat("(y ", 100) + strings.Repeat(")", 100) + "}}", "t.hbs:1: blocks and subexpressions nested"},
	} {
		_, err := Parse("t.hbs", tc.src)
		if err == nil {
			t.Errorf("Parse(%q): no error", tc.src)
			continue
		}
		var te *Error
		if msg := err.Error(); !strings.HasPrefix(msg, tc.want) || strings.Contains(msg, "\n") || !errors.As(err, &te) {
			t.Errorf("Parse(%q):\n got %q\nwant a one-line *Error starting %q", tc.src, msg, tc.want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	d := map[string]any{"s": "str", "n": int64(1), "m": map[string]any{}, "l": []any{"a"}}
	for _, tc := range []struct {
		src  string
		data map[string]any
		want string
	}{
		{"{{#each s}}x{{/each}}", d, "t.hbs: each: cannot iterate over a string"},
		{"{{#eachAlive n}}x{{/eachAlive}}", d, "t.hbs: eachAlive: cannot iterate over a number"},
		{`{{strJoin s ","}}`, d, "t.hbs: strJoin: first argument is a string, not an array"},
		{`{{strJoin l 1}}`, d, "t.hbs: strJoin: separator is a number, not a string"},
		{`{{strReplace n "a" "b"}}`, d, "t.hbs: strReplace: argument 1 is a number"},
		{"{{toToml s}}", d, "t.hbs: toToml: argument is a string, not a table"},
		{`{{pkgPathFor "nope"}}`, d, `t.hbs: pkgPathFor: invalid package identifier "nope"`},
		{`{{pkgPathFor 1}}`, d, `t.hbs: pkgPathFor: invalid package identifier ""`},
		{"{{x}}", map[string]any{"x": make(chan int)}, "t.hbs: data at x: unsupported type chan int"},
		{"{{x}}", map[string]any{"x": map[string]any{"y": []any{func() {}}}}, "t.hbs: data at x.y.0: unsupported type func()"},
	} {
		_, err := Render("t.hbs", tc.src, tc.data)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Render(%q) error %v, want one line starting %q", tc.src, err, tc.want)
		}
	}
}

func TestCyclicDataIsAnError(t *testing.T) {
	m := map[string]any{}
	m["self"] = m
	_, err := Render("t.hbs", "{{self}}", map[string]any{"m": m})
	if err == nil || !strings.Contains(err.Error(), "nested more than 64 levels") {
		t.Fatalf("err = %v", err)
	}
}

func TestNameAndOneLineRaymondErrors(t *testing.T) {
	tp, err := Parse("hooks/run", "{{lookup}}")
	if err == nil {
		t.Fatalf("Parse accepted lookup without arguments: %v", tp)
	}
	if !strings.HasPrefix(err.Error(), "hooks/run:1: lookup takes 2") {
		t.Fatalf("err = %v", err)
	}
	tp, err = Parse("config/x", "{{x}}")
	if err != nil || tp.Name() != "config/x" {
		t.Fatalf("Parse: %v, name %q", err, tp.Name())
	}
}

func TestCyclicPointerDataIsAnError(t *testing.T) {
	m := map[string]any{}
	m["self"] = &m
	_, err := Render("t.hbs", "{{m}}", map[string]any{"m": m})
	if err == nil || !strings.Contains(err.Error(), "nested more than 64 levels") {
		t.Fatalf("err = %v", err)
	}
}
