package census

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/tend-sh/tend/internal/httpgw/gwtest"
	"github.com/tend-sh/tend/internal/rumor"
)

// bytesource hands out fuzz bytes as small choices; past the end it
// returns zeros.
type bytesource struct {
	b []byte
	i int
}

func (s *bytesource) next() byte {
	if s.i >= len(s.b) {
		return 0
	}
	c := s.b[s.i]
	s.i++
	return c
}

func (s *bytesource) pick(n int) int { return int(s.next()) % n }

func (s *bytesource) more() bool { return s.i < len(s.b) }

var (
	fuzzIDs     = []string{"m0", "m1", "m2", "m3", "m4", "", "m\x00\"<>"}
	fuzzHealth  = []string{"alive", "suspect", "confirmed", "departed", "Alive", "", "weird"}
	fuzzGroups  = []string{"redis.default", "web.prod@acme", "db.x", "nogroup", "a.b.c", ".x", "a.b@", "a#b.c", ""}
	fuzzNames   = []string{"f.txt", "ca.pem", "../up", "a/b", "", ".", ".."}
	fuzzPackage = []string{"core/redis/1.0/2024", "core/redis", "redis", "", "a/b/c/d/e"}
	fuzzTOML    = []string{"", "x = 1", "x = 1\n[t]\ny = 1.5\nz = \"s\"", "bad [", "inf = inf\nnan = nan", "d = 1979-05-27", "[a.b]\nc = [1, 2.5, \"x\"]", "x = 2\nx = 3"}
)

// value is a random cfg value. Only nested values may be fractional (in
// TOML configs too): the
// census schema allows no non-integer number at the top of a cfg (Habitat
// has the same restriction, see TestTopLevelFloat).
func (s *bytesource) value(depth int, top bool) any {
	switch s.pick(9) {
	case 0:
		return int64(s.next()) - 100
	case 1:
		return fmt.Sprintf("s%d", s.next())
	case 2:
		return s.next()%2 == 0
	case 3:
		if top {
			return float64(s.next())
		}
		return float64(s.next()) / 7
	case 4:
		return math.NaN()
	case 5:
		return nil
	case 6:
		if depth > 2 {
			return nil
		}
		return s.cfg(depth + 1)
	case 7:
		if depth > 2 {
			return []any{}
		}
		l := make([]any, s.pick(3))
		for i := range l {
			l[i] = s.value(depth+1, false)
		}
		return l
	default:
		return math.Inf(-1)
	}
}

func (s *bytesource) cfg(depth int) map[string]any {
	if s.pick(5) == 0 {
		return nil
	}
	m := map[string]any{}
	for range s.pick(4) {
		m[fmt.Sprintf("k%d", s.pick(5))] = s.value(depth, depth == 0)
	}
	return m
}

func fuzzInput(data []byte) Input {
	s := &bytesource{b: data}
	in := Input{LocalID: fuzzIDs[s.pick(len(fuzzIDs))]}
	for range s.pick(6) {
		in.Members = append(in.Members, Member{
			ID: fuzzIDs[s.pick(len(fuzzIDs))], Health: fuzzHealth[s.pick(len(fuzzHealth))],
			Address: fmt.Sprintf("10.0.0.%d", s.next()), Port: int(s.next()) * 100,
			Permanent: s.next()%2 == 0, Incarnation: uint64(s.pick(4)),
		})
	}
	for s.more() {
		sg := fuzzGroups[s.pick(len(fuzzGroups))]
		var r rumor.Rumor
		switch s.pick(6) {
		case 0, 1:
			r = rumor.Rumor{Kind: rumor.KindService, Service: &rumor.Service{
				MemberID: fuzzIDs[s.pick(len(fuzzIDs))], ServiceGroup: sg,
				Package: fuzzPackage[s.pick(len(fuzzPackage))], Incarnation: uint64(s.pick(4)),
				Cfg: s.cfg(0), Sys: sysOf(fmt.Sprint(s.next())), Initialized: s.next()%2 == 0,
				Gone: s.pick(4) == 0,
			}}
		case 2:
			r = rumor.Rumor{Kind: rumor.KindConfig, Config: &rumor.Config{
				ServiceGroup: sg, Incarnation: uint64(s.pick(4)), FromID: "x",
				Config: []byte(fuzzTOML[s.pick(len(fuzzTOML))]),
			}}
		case 3:
			r = rumor.Rumor{Kind: rumor.KindFile, File: &rumor.File{
				ServiceGroup: sg, Filename: fuzzNames[s.pick(len(fuzzNames))],
				Incarnation: uint64(s.pick(4)), Body: data[:s.pick(len(data)+1)],
			}}
		case 4:
			r = rumor.Rumor{Kind: rumor.KindDeparture, Departure: &rumor.Departure{MemberID: fuzzIDs[s.pick(len(fuzzIDs))]}}
		default: // a kind without its payload, or a stray one
			r = rumor.Rumor{Kind: []rumor.Kind{rumor.KindService, rumor.KindConfig, rumor.KindFile, rumor.KindDeparture, "x"}[s.pick(5)]}
		}
		in.Rumors = append(in.Rumors, r)
	}
	return in
}

func FuzzBuild(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x01\x03\x00\x00\x05\x00\x01\x02\x00\x01\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"))
	f.Add([]byte("census fuzz seed: several members and rumors of every kind, gone ones too"))
	v := gwtest.MustValidator(f)
	tv := mustTemplateValidator(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		in := fuzzInput(data)
		c := Build(in)
		validate(t, v, in, c)
		total := 0
		for _, n := range c.MemberHealth() {
			total += n
		}
		ids := map[string]bool{}
		for _, m := range in.Members {
			ids[m.ID] = true
		}
		if total != len(ids) {
			t.Errorf("MemberHealth counts %d members, the ring has %d", total, len(ids))
		}
		for _, sg := range c.Groups() {
			g := c.Group(sg)
			if len(g.members) == 0 {
				t.Errorf("group %s has no members", sg)
			}
			for _, m := range g.members {
				mm := g.memberMap(m)
				n := 0
				for _, k := range []string{"alive", "suspect", "confirmed", "departed"} {
					if mm[k] == true {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%s/%s: %d health flags set", sg, m.id, n)
				}
			}
			for _, m := range g.active() {
				tv.svc(t, sg, g.SvcData(m.id))
			}
			tv.bind(t, sg, map[string]any{"b": g.BindData()})
			if _, err := json.Marshal(g.SvcData(in.LocalID)); err != nil {
				t.Error(err)
			}
			g.Config()
			g.Files()
		}
	})
}

// TestTopLevelFloat documents the one value the census schema refuses
// that Habitat would emit as well: a fractional number at the top of a
// cfg. tend keeps it (templates need the number), so such a /census does
// not validate, as Habitat's would not.
func TestTopLevelFloat(t *testing.T) {
	in := Input{LocalID: "m1", Members: []Member{mem("m1", "alive")}, Rumors: []rumor.Rumor{svcR("m1", "a.b", 1, map[string]any{"ratio": 0.5})}}
	c := Build(in)
	if got := c.Group("a.b").members[0].cfg["ratio"]; got != 0.5 {
		t.Errorf("ratio = %v", got)
	}
	if err := gwtest.MustValidator(t).Validate(gwtest.Census, marshal(t, c.JSON())); err == nil {
		t.Error("schema now allows fractional cfg values: drop this test and the fuzz restriction")
	}
}

// BenchmarkBuild50 folds a ring of 50 members running 10 groups (5 each),
// with a config and 2 files per group, and encodes /census.
func BenchmarkBuild50(b *testing.B) {
	in := Input{LocalID: "member00"}
	for i := range 50 {
		id := fmt.Sprintf("member%02d", i)
		in.Members = append(in.Members, Member{ID: id, Health: []string{"alive", "alive", "alive", "suspect", "confirmed"}[i%5], Address: "10.0.0.1", Port: 9638})
		in.Rumors = append(in.Rumors, rumor.Rumor{Kind: rumor.KindService, Service: &rumor.Service{
			MemberID: id, ServiceGroup: fmt.Sprintf("svc%d.default", i%10), Package: "core/svc/1.0.0/20240101000000",
			Incarnation: 1, Cfg: map[string]any{"port": int64(8000 + i), "host": id, "tls": map[string]any{"on": true}},
			Sys: sysOf("10.0.0.1"),
		}})
	}
	for g := range 10 {
		sg := fmt.Sprintf("svc%d.default", g)
		in.Rumors = append(in.Rumors, cfgR(sg, 3, "port = 9000\n[tls]\non = true\n"), fileR(sg, "a.pem", 1, "aaaa"), fileR(sg, "b.pem", 2, "bbbb"))
	}
	in.Rumors = append(in.Rumors, depR("member49"))
	b.ReportAllocs()
	for b.Loop() {
		c := Build(in)
		if _, err := json.Marshal(c.JSON()); err != nil {
			b.Fatal(err)
		}
	}
}
