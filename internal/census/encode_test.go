package census

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/httpgw/gwtest"
	"github.com/tend-sh/tend/internal/rumor"
)

// reference is what /census served before EncodeJSON: encoding/json of
// JSON(), HTML characters unescaped (api.Doc).
func reference(t testing.TB, c *Census) ([]byte, error) {
	t.Helper()
	return api.NewDoc(c.JSON).JSON()
}

// sameAsEncodingJSON fails t unless EncodeJSON gives the reference's bytes,
// or fails where it fails.
func sameAsEncodingJSON(t testing.TB, c *Census) []byte {
	t.Helper()
	want, werr := reference(t, c)
	got, err := c.EncodeJSON()
	if (err != nil) != (werr != nil) {
		t.Fatalf("EncodeJSON error %v, encoding/json error %v", err, werr)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("EncodeJSON differs from encoding/json at byte %d:\n got  …%s\n want …%s", i, tail(got, i), tail(want, i))
	}
	return got
}

func tail(b []byte, i int) []byte {
	from := max(0, i-60)
	return b[from:min(len(b), i+60)]
}

// oddStrings are strings whose JSON encoding is not themselves.
var oddStrings = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnl\nret\rbs\bff\f",
	"\x00\x01\x1f\x7f", "é ü 日本 🎉", "line\u2028para\u2029", "bad \xff\xfe utf8 \xe2\x82", "\u00a0\ufeff",
}

// odd is a ring whose every string field, cfg value and number is one
// encoding/json treats specially: escapes, unicode, HTML characters,
// invalid UTF-8, floats in both notations, the largest integers, empty and
// nil maps and lists, TOML dates; with both elections and a rolling target.
func odd() Input {
	var in Input
	in.LocalID = "local<&>\u2028"
	for i, s := range oddStrings {
		id := fmt.Sprintf("m%d%s", i, s)
		in.Members = append(in.Members, Member{ID: id, Health: []string{"alive", "suspect", "confirmed", "left"}[i%4], Address: s, Port: 9000 + i, Permanent: i%2 == 0, Incarnation: uint64(i)})
		cfg := map[string]any{
			"s": s, s: int64(i), "big": int64(math.MaxInt64), "neg": int64(math.MinInt64), "u": uint64(math.MaxUint64), "int": 7,
			"floats":  []any{0.0, math.Copysign(0, -1), 1e-7, 1e-6, 123456.789, 1e20, 1e21, -2.5e-300, math.MaxFloat64, 5e-324, float32(1.5)},
			"nested":  map[string]any{"empty": map[string]any{}, "nilmap": map[string]any(nil), "nillist": []any(nil), "list": []any{}, s: []any{s, true, nil}},
			"bytes":   []byte("<&>"),
			"strings": []string{s, "x"},
		}
		pkg := []string{"core/redis/1.0.0/20240101000000", "", "redis", "core/redis", "core/redis/", "a/b/c/d/e", s + "/" + s}[i%7]
		sg := []string{"redis.default", "web.prod@acme", "x.y"}[i%3]
		in.Rumors = append(in.Rumors, rumor.Rumor{Kind: rumor.KindService, Service: &rumor.Service{
			MemberID: id, ServiceGroup: sg, Package: pkg, Incarnation: uint64(i),
			Cfg: cfg, Sys: rumor.Sys{IP: s, Hostname: s, GossipIP: s, HTTPGatewayIP: s, HTTPGatewayPort: i, CtlGatewayIP: s, CtlGatewayPort: -i},
		}})
		in.Rumors = append(in.Rumors, fileR(sg, fmt.Sprintf("f%d", i), uint64(i), s))
	}
	up := elR("web.prod@acme", "m1"+oddStrings[1], 2, rumor.Finished)
	up.Kind = rumor.KindElectionUpdate
	in.Rumors = append(in.Rumors,
		elR("redis.default", "m0", 3, rumor.Finished), elR("x.y", "m2", 1, rumor.Running), up,
		rumor.Rumor{Kind: rumor.KindUpdate, Update: &rumor.Update{ServiceGroup: "web.prod@acme", Package: "core/redis/1.0.0/20240101000000", Incarnation: math.MaxUint64, FromID: "m1"}},
		rumor.Rumor{Kind: rumor.KindUpdate, Update: &rumor.Update{ServiceGroup: "redis.default", Package: "redis", Incarnation: 9, FromID: "m1"}},
		cfgR("redis.default", 4, "s = \"<&>\\u2028\\t\"\nwhen = 1979-05-27T07:32:00Z\nday = 1979-05-27\nt = 07:32:00\nf = 1e-9\nbig = 1e300\n[a.b]\nc = [1, 2.5, \"x\"]\n[[arr]]\nx = 1\n[[arr]]\ny = \"é\"\n"),
		cfgR("x.y", 1, ""),
	)
	return in
}

// TestEncodeJSONIsEncodingJSON: /census written by hand is, byte for byte,
// what encoding/json made of the census's maps, for the test rings, a
// ring of odd strings and numbers, and rings of 100 and 200 members; and
// it still validates against Habitat's schema.
func TestEncodeJSONIsEncodingJSON(t *testing.T) {
	v := gwtest.MustValidator(t)
	cases := inputs()
	cases["odd"] = odd()
	cases["200 members"] = bigRing(200, 0)
	cases["100 members with configs"] = bigRing(100, 10)
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			got := sameAsEncodingJSON(t, Build(in))
			if name == "odd" { // fractional top-level cfg values: see TestTopLevelFloat
				return
			}
			if err := v.Validate(gwtest.Census, got); err != nil {
				t.Errorf("schema: %v", err)
			}
		})
	}
}

// TestEncodeJSONFailsLikeEncodingJSON: a value encoding/json refuses (a
// non-finite float the cleaning let through, a channel) fails the hand
// encoder too, so the gateway answers 500 as before.
func TestEncodeJSONFailsLikeEncodingJSON(t *testing.T) {
	for name, v := range map[string]any{"float32 inf": float32(math.Inf(1)), "chan": make(chan int)} {
		t.Run(name, func(t *testing.T) {
			in := Input{LocalID: "m1", Members: []Member{mem("m1", "alive")}, Rumors: []rumor.Rumor{svcR("m1", "a.b", 1, map[string]any{"x": v})}}
			c := Build(in)
			c.groups["a.b"].members[0].cfg["y"] = math.NaN() // past cleanCfg
			if _, err := c.EncodeJSON(); err == nil {
				t.Error("EncodeJSON encoded what encoding/json refuses")
			}
			if _, err := reference(t, c); err == nil {
				t.Error("encoding/json encoded it")
			}
		})
	}
}

// FuzzEncodeJSON: for any ring the census fuzzer makes, EncodeJSON is
// encoding/json's document.
func FuzzEncodeJSON(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x01\x03\x00\x00\x05\x00\x01\x02\x00\x01\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"))
	f.Add([]byte("census fuzz seed: several members and rumors of every kind, gone ones too"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in := fuzzInput(data)
		s := &bytesource{b: data}
		// Elections and targets too, which fuzzInput does not make.
		for range s.pick(3) {
			e := elR(fuzzGroups[s.pick(len(fuzzGroups))], fuzzIDs[s.pick(len(fuzzIDs))], uint64(s.pick(3)), []string{rumor.Finished, rumor.Running, rumor.NoQuorum}[s.pick(3)])
			if s.pick(2) == 0 {
				e.Kind = rumor.KindElectionUpdate
			}
			in.Rumors = append(in.Rumors, e, rumor.Rumor{Kind: rumor.KindUpdate, Update: &rumor.Update{
				ServiceGroup: e.Election.ServiceGroup, Package: fuzzPackage[s.pick(len(fuzzPackage))], Incarnation: uint64(s.next()) << 56,
			}})
		}
		sameAsEncodingJSON(t, Build(in))
	})
}

// bigRing is n members, each running one service (in n/5 groups of 5),
// with its cfg, and configs and files in the first `configs` groups: the
// shape of bench/ring's census.
func bigRing(n, configs int) Input {
	in := Input{LocalID: "member000"}
	for i := range n {
		id := fmt.Sprintf("member%03d", i)
		in.Members = append(in.Members, Member{ID: id, Health: []string{"alive", "alive", "alive", "suspect", "confirmed"}[i%5], Address: "127.0.0.1", Port: 20000 + i, Incarnation: 1})
		in.Rumors = append(in.Rumors, rumor.Rumor{Kind: rumor.KindService, Service: &rumor.Service{
			MemberID: id, ServiceGroup: fmt.Sprintf("svc%d.default", i%max(1, n/5)), Package: "core/sleep/1.0.0/20240101000000",
			Incarnation: 1, Cfg: map[string]any{"port": int64(8000 + i), "host": id, "tls": map[string]any{"on": true, "ratio": 0.25}},
			Sys: sysOf("127.0.0.1"),
		}})
	}
	for g := range configs {
		sg := fmt.Sprintf("svc%d.default", g)
		in.Rumors = append(in.Rumors, cfgR(sg, 3, "port = 9000\n[tls]\non = true\n"), fileR(sg, "a.pem", 1, "aaaa"))
	}
	return in
}

// BenchmarkCensus: /census encoded from a built census at 100 and 200
// members (1 service a member), by hand and through encoding/json, and
// Build itself. Each poll of a forming ring pays Build once per change
// and the encode once per change.
func BenchmarkCensus(b *testing.B) {
	for _, n := range []int{100, 200} {
		in := bigRing(n, 0)
		c := Build(in)
		b.Run(fmt.Sprintf("EncodeJSON/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.EncodeJSON(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("encoding-json/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := api.NewDoc(c.JSON).JSON(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("Build/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Build(in)
			}
		})
	}
}
