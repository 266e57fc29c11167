package tmpl

import (
	"fmt"
	"math"
	"strings"
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
		"f1": 1.0, "f2": 0.5, "f3": 1e16, "f4": 1.5e-7, "f5": 0.0001, "f6": 123456.0, "f7": math.Copysign(0, -1), "f8": 1e15, "f9": 0.00001,
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
		"f1=1.0", "f2=0.5", "f3=1e16", "f4=1.5e-7", "f5=0.0001", "f6=123456.0", "f7=-0.0", "f8=1000000000000000.0", "f9=0.00001",
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
		{"null items print empty", "{{#each nulls}}[{{this}}]{{/each}} {{#each nulls as |v|}}[{{v}}{{#if v}}t{{/if}}{{v.x}}]{{/each}}",
			map[string]any{"nulls": map[string]any{"a": nil, "b": "B"}, "v": "outer", "this": "outer"}, "[][B] [][Bt]"},
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
		{"comment", "a{{! c }}b{{!-- {{x}} --}}c", d, "abc"},
		{"escaped mustache", `\{{l}}`, d, "{{l}}"},
		{"shadowed raymond global reads data", "{{#with nested}}{{equal}}{{/with}}", map[string]any{"nested": map[string]any{"equal": "e"}}, "e"},
		{"log prints nothing", `a{{log "msg" level="warn"}}b`, d, "ab"},
	})
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

// TestLiteral: text without a mustache comes back byte for byte, whatever
// the data, as raymond would print it.
func TestLiteral(t *testing.T) {
	for _, src := range []string{"", "#!/bin/sh\nexec sleep 1\n", "a \\ b }} c { d\n\t", "{ {not a mustache} }"} {
		tp, err := Parse("lit", src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		for _, data := range []map[string]any{nil, {"cfg": map[string]any{"x": 1}}} {
			got, err := tp.Render(data)
			if err != nil || got != src {
				t.Fatalf("Render(%q) = %q, %v", src, got, err)
			}
		}
	}
}
