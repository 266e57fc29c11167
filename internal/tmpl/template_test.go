package tmpl

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pelletier/go-toml/v2"
)

type renderCase struct {
	name string
	src  string
	data map[string]any
	want string
}

func runRenderCases(t *testing.T, cases []renderCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Render("t.hbs", tc.src, tc.data)
			if err != nil {
				t.Fatalf("Render(%q): %v", tc.src, err)
			}
			if got != tc.want {
				t.Fatalf("Render(%q)\n got %q\nwant %q", tc.src, got, tc.want)
			}
		})
	}
}

func TestNoHTMLEscaping(t *testing.T) {
	d := map[string]any{"s": `a<b>&c"'`, "l": []any{"<x>"}, "m": map[string]any{"k": "&amp;"}}
	runRenderCases(t, []renderCase{
		{"mustache", "{{s}}", d, `a<b>&c"'`},
		{"triple", "{{{s}}}", d, `a<b>&c"'`},
		{"ampersand", "{{& s}}", d, `a<b>&c"'`},
		{"strip", "x {{~s~}} y", d, `xa<b>&c"'y`},
		{"array", "{{l}}", d, "[<x>]"},
		{"each", "{{#each l}}{{this}}{{/each}}", d, "<x>"},
		{"with", "{{#with m}}{{k}}{{/with}}", d, "&amp;"},
		{"helper", `{{strConcat s "<>"}}`, d, `a<b>&c"'<>`},
		{"upper", "{{toUppercase s}}", d, `A<B>&C"'`},
		{"lookup", `{{lookup m "k"}}`, d, "&amp;"},
		{"json", "{{toJson s}}", d, `"a<b>&c\"'"`},
		{"literal names a field", `{{"a b"}}`, map[string]any{"a b": "<v>"}, "<v>"},
		{"raw block", "{{{{raw}}}}<{{s}}>{{{{/raw}}}}", d, "<{{s}}>"},
	})
}

func TestScalarFormatting(t *testing.T) {
	d := map[string]any{
		"i": int64(42), "n": -7, "u": uint64(math.MaxUint64), "u8": uint8(8),
		"f1": 1.0, "f2": 0.5, "f3": 1e16, "f4": 1.5e-7, "f5": 0.0001, "f6": 123456.0, "f7": -0.0, "f8": 1e15, "f9": 0.00001,
		"f32": float32(0.1), "nan": math.NaN(), "inf": math.Inf(1),
		"t": true, "f": false, "null": nil, "empty": "",
		"time":  time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC),
		"zoned": time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600)),
		"ld":    toml.LocalDate{Year: 2024, Month: 1, Day: 2},
		"ltime": toml.LocalTime{Hour: 3, Minute: 4, Second: 5, Nanosecond: 500000000, Precision: 1},
		"ldt":   toml.LocalDateTime{LocalDate: toml.LocalDate{Year: 2024, Month: 1, Day: 2}, LocalTime: toml.LocalTime{Hour: 3}},
		"list":  []any{int64(1), 2.0, "x", nil, []any{true}, map[string]any{}},
		"obj":   map[string]any{"a": 1},
	}
	var b strings.Builder
	want := []string{
		"i=42", "n=-7", "u=18446744073709551615", "u8=8",
		"f1=1.0", "f2=0.5", "f3=1e16", "f4=1.5e-7", "f5=0.0001", "f6=123456.0", "f7=0.0", "f8=1000000000000000.0", "f9=0.00001",
		"f32=0.1", "nan=", "inf=",
		"t=true", "f=false", "null=", "empty=", "missing=",
		"time=2024-01-02T03:04:05.0000006Z", "zoned=2024-01-02T03:04:05+01:00",
		"ld=2024-01-02", "ltime=03:04:05.5", "ldt=2024-01-02T03:00:00",
		"list=[1, 2.0, x, , [true], [object]]", "obj=[object]",
	}
	for _, w := range want {
		k, _, _ := strings.Cut(w, "=")
		fmt.Fprintf(&b, "%s={{%s}}\n", k, k)
	}
	got, err := Render("t.hbs", b.String(), d)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(strings.Join(want, "\n")+"\n", got); d != "" {
		t.Fatalf("-want +got:\n%s", d)
	}
}

func TestFormatFloat(t *testing.T) {
	// Expected strings are serde_json's (ryu) output for the same f64.
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{1, "1.0"}, {-1, "-1.0"}, {0.1, "0.1"}, {1.5, "1.5"}, {100, "100.0"},
		{1e15, "1000000000000000.0"}, {9007199254740993, "9007199254740992.0"},
		{1e16, "1e16"}, {1.2345e16, "1.2345e16"}, {1e21, "1e21"}, {-2.5e300, "-2.5e300"},
		{0.001, "0.001"}, {0.0001, "0.0001"}, {0.00001, "0.00001"}, {0.000001, "1e-6"}, {1.25e-6, "1.25e-6"},
		{5e-324, "5e-324"}, {math.MaxFloat64, "1.7976931348623157e308"}, {123.456, "123.456"},
		{0.30000000000000004, "0.30000000000000004"},
	} {
		if got := formatFloat(tc.f); got != tc.want {
			t.Errorf("formatFloat(%v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestBlocks(t *testing.T) {
	d := map[string]any{
		"m":     map[string]any{"c": int64(3), "a": int64(1), "b": int64(2)},
		"l":     []any{"x", "y", "z"},
		"empty": []any{},
		"zero":  int64(0), "fzero": 0.0, "one": int64(1), "str": "s",
		"nested": map[string]any{"inner": []any{map[string]any{"v": "i1"}, map[string]any{"v": "i2"}}, "name": "outer"},
		"cfg":    map[string]any{"port": int64(80)},
	}
	runRenderCases(t, []renderCase{
		{"each map sorted", "{{#each m}}{{@key}}={{this}};{{/each}}", d, "a=1;b=2;c=3;"},
		{"each map index first last", "{{#each m}}{{@index}}{{#if @first}}F{{/if}}{{#if @last}}L{{/if}} {{/each}}", d, "0F 1 2L "},
		{"each array", "{{#each l}}{{@index}}:{{this}}{{#unless @last}},{{/unless}}{{/each}}", d, "0:x,1:y,2:z"},
		{"each block param", "{{#each l as |it|}}{{it}}{{/each}}", d, "xyz"},
		{"each else", "{{#each empty}}x{{else}}none{{/each}}", d, "none"},
		{"each missing", "{{#each nope}}x{{else}}none{{/each}}", d, "none"},
		{"each parent path", "{{#each l}}{{../cfg.port}}{{/each}}", d, "808080"},
		{"each root", "{{#each l}}{{@root.cfg.port}}{{/each}}", d, "808080"},
		{"nested each keys", "{{#each m}}{{#each ../l}}{{@key}}{{/each}}|{{/each}}", d, "|||"},
		{"nested loops", "{{#each nested.inner}}{{v}}@{{../nested.name}} {{/each}}", d, "i1@outer i2@outer "},
		{"if else if", "{{#if zero}}a{{else if one}}b{{else}}c{{/if}}", d, "b"},
		{"if float zero", "{{#if fzero}}t{{else}}f{{/if}}", d, "f"},
		{"if includeZero", "{{#if zero includeZero=true}}t{{else}}f{{/if}}", d, "t"},
		{"if empty list", "{{#if empty}}t{{else}}f{{/if}}", d, "f"},
		{"if empty map", "{{#if nested.missing}}t{{else}}f{{/if}}", d, "f"},
		{"unless", "{{#unless str}}t{{else}}f{{/unless}}", d, "f"},
		{"inverse section", "{{^if zero}}no{{/if}}", d, "no"},
		{"with", "{{#with cfg}}{{port}}{{/with}}", d, "80"},
		{"with block param", "{{#with cfg as |c|}}{{c.port}}{{/with}}", d, "80"},
		{"with else", "{{#with nope}}x{{else}}none{{/with}}", d, "none"},
		{"index path", "{{l.[1]}} {{l.[2]}}", d, "y z"},
		{"lookup", `{{lookup m "b"}} {{lookup l 2}} {{#each l}}{{lookup ../l @index}}{{/each}}`, d, "2 z xyz"},
		{"lookup subexpression", `{{#each (lookup nested "inner")}}{{v}}{{/each}}`, d, "i1i2"},
		{"whitespace control", "a  {{~#if one~}}  b  {{~/if~}}  c", d, "abc"},
		{"standalone lines", "x\n{{#each l}}\n- {{this}}\n{{/each}}\ny", d, "x\n- x\n- y\n- z\ny"},
		{"comment", "a{{! c }}b{{!-- {{x}} --}}c", d, "abc"},
		{"escaped mustache", `\{{l}}`, d, "{{l}}"},
		{"shadowed raymond global reads data", "{{#with nested}}{{equal}}{{/with}}", map[string]any{"nested": map[string]any{"equal": "e"}}, "e"},
		{"log prints nothing", `a{{log "msg" level="warn"}}b`, d, "ab"},
	})
}

func TestLogicHelpers(t *testing.T) {
	d := map[string]any{"i": int64(1), "f": 1.0, "s": "b", "l": []any{int64(1)}, "m": map[string]any{"a": "x"}, "z": int64(0)}
	runRenderCases(t, []renderCase{
		{"eq numeric", "{{eq i f}} {{eq i 1}} {{eq f 1.5}} {{ne i 2}}", d, "true true false true"},
		{"eq strings and deep", `{{eq s "b"}} {{eq l l}} {{eq m m}} {{eq missing missing}} {{eq s 1}}`, d, "true true true true false"},
		{"ordering", `{{gt i 0}} {{gte i 1}} {{lt s "c"}} {{lte f 0.5}} {{gt s 1}}`, d, "true true true false false"},
		{"bool logic", "{{and i s}} {{and i z}} {{or z s}} {{or z missing}} {{not z}} {{not l}}", d, "true false true false true false"},
		{"len", `{{len l}} {{len m}} {{len s}} {{len "héllo"}} {{len i}}`, d, "1 1 1 6 0"},
		{"in if", `{{#if (and (gt i 0) (eq s "b"))}}yes{{/if}}`, d, "yes"},
	})
}

func TestHabitatHelpers(t *testing.T) {
	d := map[string]any{
		"pkg": map[string]any{
			"origin": "core", "name": "app", "version": "1.0", "release": "20240101",
			"path": "/r/pkgs/core/app/1.0/20240101",
			"deps": []any{
				map[string]any{"origin": "core", "name": "glibc", "version": "2.36", "release": "1"},
				map[string]any{"origin": "core", "name": "busybox", "version": "1.0", "release": "2", "path": "/custom/bb"},
				map[string]any{"origin": "core", "name": "busybox", "version": "2.0", "release": "3"},
			},
		},
		"members": []any{
			map[string]any{"id": "a", "alive": false, "ip": "1"},
			map[string]any{"id": "b", "alive": true, "ip": "2"},
			map[string]any{"id": "c", "alive": "true", "ip": "3"},
			map[string]any{"id": "d", "alive": true, "ip": "4"},
			"not a member",
		},
		"dead":   []any{map[string]any{"alive": false}},
		"single": map[string]any{"alive": true, "x": int64(1)},
		"list":   []any{"a", int64(1), 2.5, true, nil, []any{"n", int64(2)}, map[string]any{"skip": true}},
		"s":      `C:\dir "q"`,
		"bs":     `\`,
		"cfg":    map[string]any{"port": int64(80), "on": true, "t": map[string]any{"k": "v"}},
	}
	runRenderCases(t, []renderCase{
		{"eachAlive", "{{#eachAlive members}}{{@index}}{{id}}{{#if @first}}F{{/if}}{{#if @last}}L{{/if}} {{/eachAlive}}", d, "0bF 1dL "},
		{"eachAlive block param", "{{#eachAlive members as |m|}}{{m.ip}}{{/eachAlive}}", d, "24"},
		{"eachAlive none alive renders nothing", "{{#eachAlive dead}}x{{else}}else{{/eachAlive}}", d, ""},
		{"eachAlive falsy renders else", "{{#eachAlive missing}}x{{else}}else{{/eachAlive}}", d, "else"},
		{"eachAlive object", "{{#eachAlive single}}{{@key}}={{this}} {{/eachAlive}}", d, "alive=true x=1 "},
		{"pkgPathFor derived", `{{pkgPathFor "core/glibc"}}`, d, "/r/pkgs/core/glibc/2.36/1"},
		{"pkgPathFor own path, first match", `{{pkgPathFor "core/busybox"}}`, d, "/custom/bb"},
		{"pkgPathFor version", `{{pkgPathFor "core/busybox/2.0"}}`, d, "/r/pkgs/core/busybox/2.0/3"},
		{"pkgPathFor full ident", `{{pkgPathFor "core/busybox/2.0/3"}}`, d, "/r/pkgs/core/busybox/2.0/3"},
		{"pkgPathFor no match", `{{pkgPathFor "core/nope"}}|{{pkgPathFor "core/busybox/9"}}`, d, "|"},
		{"pkgPathFor in block", `{{#each list}}{{/each}}{{#with cfg}}{{pkgPathFor "core/glibc"}}{{/with}}`, d, "/r/pkgs/core/glibc/2.36/1"},
		{"strConcat", `{{strConcat "a" cfg.port cfg.on missing list s}}`, d, `a80truenull[a,1,2.5,true,null,[n,2],{skip:true}]C:\dir "q"`},
		{"strConcat skips objects", `{{strConcat "a" cfg.t "b"}}`, d, "ab"},
		{"strJoin", `{{strJoin list ", "}}`, d, "a, 1, 2.5, true, null, [n,2]"},
		{"strReplace", `{{strReplace s bs "/"}} {{strReplace "aaa" "" "-"}}`, d, `C:/dir "q" -a-a-a-`},
		{"case", `{{toUppercase "héllo"}} {{toLowercase "ÀB"}} {{toUppercase cfg.port}} {{toLowercase missing}}`, d, "HÉLLO àb 80 "},
		{"toJson", "{{toJson cfg}}", d, "{\n  \"on\": true,\n  \"port\": 80,\n  \"t\": {\n    \"k\": \"v\"\n  }\n}"},
		{"toJson scalars", `{{toJson 1}} {{toJson "a\b"}} {{toJson missing}} {{toJson list}}`, d,
			"1 \"a\\\\b\" null [\n  \"a\",\n  1,\n  2.5,\n  true,\n  null,\n  [\n    \"n\",\n    2\n  ],\n  {\n    \"skip\": true\n  }\n]"},
		{"json alias", "{{json cfg.t}}", d, "{\n  \"k\": \"v\"\n}"},
		{"toToml", "{{toToml cfg}}", d, "on = true\nport = 80\n\n[t]\nk = \"v\"\n"},
		{"toml alias", "{{toml cfg.t}}", d, "k = \"v\"\n"},
		{"toYaml", "{{toYaml cfg}}", d, "on: true\nport: 80\nt:\n  k: v\n"},
	})
}

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
		{"{{x 1e}}", "t.hbs:1: bad number 1e"},
		{"{{x 1+}}", "t.hbs:1: bad number syntax"},
		{"{{{{raw}}}}{{{{/raw}}}}", "t.hbs:1: expected raw block content"},
		{"{{{{raw}}}}x{{{{/other}}}}", "t.hbs:1: {{{{/other}}}} does not close {{{{raw}}}}"},
		{strings.Repeat("{{#if x}}", maxNesting+1), "t.hbs:1: blocks and subexpressions nested more than 64 deep"},
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

func TestOutputLimit(t *testing.T) {
	big := make([]any, 1024)
	for i := range big {
		big[i] = strings.Repeat("x", 64)
	}
	d := map[string]any{"big": big}
	// 1024 × 1024 × 64 bytes = 64 MiB if it were allowed to finish.
	_, err := Render("t.hbs", "{{#each big}}{{#each ../big}}{{this}}{{/each}}{{/each}}", d)
	if !errors.Is(err, ErrOutputTooLarge) || !strings.HasPrefix(err.Error(), "t.hbs: ") {
		t.Fatalf("err = %v, want ErrOutputTooLarge", err)
	}
	// Literal text inside a loop counts as well.
	_, err = Render("t.hbs", "{{#each big}}{{#each ../big}}"+strings.Repeat("y", 300)+"{{/each}}{{/each}}", d)
	if !errors.Is(err, ErrOutputTooLarge) {
		t.Fatalf("content-only loop: err = %v, want ErrOutputTooLarge", err)
	}
	_, err = Render("t.hbs", `{{strReplace (strConcat big big big big) "" (strConcat big big big big)}}`, d)
	if !errors.Is(err, ErrOutputTooLarge) {
		t.Fatalf("strReplace blow-up: err = %v, want ErrOutputTooLarge", err)
	}
	// Just under the limit is fine.
	out, err := Render("t.hbs", "{{#each big}}{{#each ../big}}{{this}}{{/each}}{{/each}}", map[string]any{"big": big[:500]})
	if err != nil || len(out) != 500*500*64 {
		t.Fatalf("%d bytes, %v", len(out), err)
	}
}

func TestWorkLimit(t *testing.T) {
	big := make([]any, 256)
	for i := range big {
		big[i] = int64(i)
	}
	_, err := Render("t.hbs", "{{#each big}}{{#each ../big}}{{#each ../../big}}{{/each}}{{/each}}{{/each}}", map[string]any{"big": big})
	if !errors.Is(err, ErrTooMuchWork) {
		t.Fatalf("err = %v, want ErrTooMuchWork", err)
	}
}

func TestDataNotMutated(t *testing.T) {
	data := map[string]any{"cfg": map[string]any{"m": map[string]any{"b": 1, "a": 2.5}, "l": []any{int32(1), "x"}, "t": time.Unix(0, 0).UTC()}}
	before := fmt.Sprintf("%#v", data)
	if _, err := Render("t.hbs", "{{#each cfg.m}}{{this}}{{/each}}{{cfg.l}}{{toJson cfg}}{{cfg.t}}", data); err != nil {
		t.Fatal(err)
	}
	if after := fmt.Sprintf("%#v", data); after != before {
		t.Fatalf("data changed:\n%s\n%s", before, after)
	}
}

type member struct {
	ID    string `json:"member_id"`
	Alive bool   `json:"alive"`
	Port  uint16 `json:"port"`
	Skip  string `json:"-"`
}

type mode string

func TestGoValuesInData(t *testing.T) {
	d := map[string]any{
		"members": []member{{"a", true, 80, "x"}, {"b", false, 81, "y"}},
		"ptr":     &member{ID: "p", Alive: true},
		"nilptr":  (*member)(nil),
		"mode":    mode("leader"),
		"ports":   map[string]int{"http": 80},
		"bytes":   []byte("hi"),
	}
	runRenderCases(t, []renderCase{
		{"structs through json tags", "{{#eachAlive members}}{{member_id}}:{{port}}{{Skip}}{{/eachAlive}}", d, "a:80"},
		{"pointer", "{{ptr.member_id}}{{nilptr}}", d, "p"},
		{"named string", "{{mode}} {{eq mode \"leader\"}}", d, "leader true"},
		{"typed map", "{{ports.http}}", d, "80"},
		{"bytes as base64", "{{bytes}}", d, "aGk="},
	})
}

func TestConcurrentRender(t *testing.T) {
	tp, err := Parse("t.hbs", "{{#each cfg}}{{@key}}={{this}};{{/each}}{{#eachAlive m}}{{id}}{{/eachAlive}}{{toJson cfg}}")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				d := map[string]any{"cfg": map[string]any{"g": int64(g), "i": int64(i)}, "m": []any{map[string]any{"alive": true, "id": "x"}}}
				want := fmt.Sprintf("g=%d;i=%d;x{\n  \"g\": %d,\n  \"i\": %d\n}", g, i, g, i)
				got, err := tp.Render(d)
				if err != nil || got != want {
					errs <- fmt.Errorf("got %q, %v; want %q", got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
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
