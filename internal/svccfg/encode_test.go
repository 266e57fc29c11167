package svccfg

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pelletier/go-toml/v2"
)

func TestEncodeTOMLLayout(t *testing.T) {
	cfg := map[string]any{
		"port":  int64(6379),
		"name":  "re\"dis\\\n\x01\x7f",
		"ratio": 0.5,
		"whole": 1.0,
		"big":   1e20,
		"on":    true,
		"list":  []any{int64(1), "a", []any{}, map[string]any{"k": int64(1)}},
		"tls":   map[string]any{"cert": "/c", "opts": map[string]any{"v": int64(2)}},
		"only":  map[string]any{"sub": map[string]any{"x": int64(1)}},
		"empty": map[string]any{},
		"server": []any{
			map[string]any{"host": "a", "tags": map[string]any{"t": "1"}},
			map[string]any{"host": "b"},
		},
		"odd key": "v",
		"skipped": nil,
	}
	want := `big = 100000000000000000000.0
list = [1, "a", [], { k = 1 }]
name = "re\"dis\\\n\u0001\u007F"
"odd key" = "v"
on = true
port = 6379
ratio = 0.5
whole = 1.0

[empty]

[only.sub]
x = 1

[[server]]
host = "a"

[server.tags]
t = "1"

[[server]]
host = "b"

[tls]
cert = "/c"

[tls.opts]
v = 2
`
	got, err := EncodeTOML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, string(got)); d != "" {
		t.Fatalf("-want +got:\n%s", d)
	}
}

func TestEncodeTOMLScalars(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{math.NaN(), "nan"},
		{math.Copysign(0, -1), "-0.0"},
		{1e-7, "0.0000001"},
		{time.Date(1979, 5, 27, 7, 32, 0, 500, time.FixedZone("", -7*3600)), "1979-05-27T07:32:00.0000005-07:00"},
		{toml.LocalDate{Year: 1979, Month: 5, Day: 27}, "1979-05-27"},
		{int(3), "3"},
		{uint16(8080), "8080"},
		{float32(0.5), "0.5"},
		{[]any{map[string]string{"a": "b"}, int64(1)}, `[{ a = "b" }, 1]`},
		{[]string{"a", "b"}, `["a", "b"]`},
	} {
		got, err := EncodeTOML(map[string]any{"v": tc.v})
		if err != nil {
			t.Fatalf("%v: %v", tc.v, err)
		}
		if g := strings.TrimSuffix(strings.TrimPrefix(string(got), "v = "), "\n"); g != tc.want {
			t.Errorf("%#v encodes as %q, want %q", tc.v, g, tc.want)
		}
	}
}

func TestEncodeTOMLErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  map[string]any
		want string
	}{
		{map[string]any{"a": map[string]any{"b": uint64(math.MaxUint64)}}, "a.b: integer"},
		{map[string]any{"a": []any{int64(1), nil}}, "a: null inside an array"},
		{map[string]any{"s": "\xff"}, "s: string is not valid UTF-8"},
		{map[string]any{"c": make(chan int)}, "c: unsupported type chan int"},
		{map[string]any{"t": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "t: year 10000"},
	} {
		_, err := EncodeTOML(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// roundTrip is the property FuzzMerge checks: a merged cfg survives
// EncodeTOML and ParseTOML unchanged.
func roundTrip(t testing.TB, m map[string]any) {
	t.Helper()
	enc, err := EncodeTOML(m)
	if err != nil {
		t.Fatalf("EncodeTOML: %v\ncfg: %#v", err, m)
	}
	back, err := ParseTOML("encoded", enc)
	if err != nil {
		if len(enc) > MaxSize {
			return // floats print longer than they parse; not a round-trip failure
		}
		t.Fatalf("ParseTOML of our own output: %v\n%s", err, enc)
	}
	if d := cmp.Diff(m, back, cmpopts.EquateNaNs()); d != "" {
		t.Fatalf("round trip changed the cfg (-before +after):\n%s\nencoded:\n%s", d, enc)
	}
}

func TestEncodeTOMLRoundTrip(t *testing.T) {
	doc := `
a = 1
b = [1, 2.5, "x", [true], {c = 1979-05-27T07:32:00.123-08:00, d = 07:32:00.5, e = 1979-05-27T07:32:00}]
"key with \"quotes\"" = ''
x.y.z = 'literal \ string'
[t]
[[arr.of]]
[[arr.of]]
q = inf
[arr.of.sub]
r = -0.0
`
	m, err := ParseTOML("doc", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, m)
}
