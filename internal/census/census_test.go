package census

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/tend-sh/tend/internal/httpgw/gwtest"
	"github.com/tend-sh/tend/internal/rumor"
)

func sysOf(ip string) rumor.Sys {
	return rumor.Sys{
		IP: ip, Hostname: "host-" + ip, GossipIP: "0.0.0.0", GossipPort: 9638,
		HTTPGatewayIP: "0.0.0.0", HTTPGatewayPort: 9631, CtlGatewayIP: "127.0.0.1", CtlGatewayPort: 9632,
	}
}

func svcR(member, sg string, inc uint64, cfg map[string]any) rumor.Rumor {
	return rumor.Rumor{Kind: rumor.KindService, Service: &rumor.Service{
		MemberID: member, ServiceGroup: sg, Package: "core/" + sgName(sg) + "/1.0.0/20240101000000",
		Incarnation: inc, Cfg: cfg, Sys: sysOf("10.0.0." + member[len(member)-1:]),
		Initialized: true, Health: "OK", Up: true,
	}}
}

func goneR(member, sg string, inc uint64) rumor.Rumor {
	r := svcR(member, sg, inc, nil)
	r.Service.Gone = true
	return r
}

func cfgR(sg string, inc uint64, toml string) rumor.Rumor {
	return rumor.Rumor{Kind: rumor.KindConfig, Config: &rumor.Config{ServiceGroup: sg, Incarnation: inc, FromID: "cli", Config: []byte(toml)}}
}

func fileR(sg, name string, inc uint64, body string) rumor.Rumor {
	return rumor.Rumor{Kind: rumor.KindFile, File: &rumor.File{ServiceGroup: sg, Filename: name, Incarnation: inc, FromID: "cli", Body: []byte(body)}}
}

func depR(member string) rumor.Rumor {
	return rumor.Rumor{Kind: rumor.KindDeparture, Departure: &rumor.Departure{MemberID: member}}
}

func sgName(sg string) string {
	id, ok := parseGroup(sg)
	if !ok {
		return "x"
	}
	return id.service
}

func mem(id, health string) Member {
	return Member{ID: id, Health: health, Address: "192.168.1." + id[len(id)-1:], Port: 9638, Incarnation: 1}
}

// ring is two members with redis in two groups, a suspect, a confirmed and
// a departed member, configs, files, and a member without services.
func ring() Input {
	return Input{
		LocalID: "m1",
		Members: []Member{mem("m1", "alive"), mem("m2", "alive"), mem("m3", "suspect"), mem("m4", "confirmed"), mem("m5", "alive"), mem("m6", "alive")},
		Rumors: []rumor.Rumor{
			svcR("m1", "redis.default", 3, map[string]any{"port": int64(6379), "host": "a"}),
			svcR("m2", "redis.default", 1, map[string]any{"port": int64(6380)}),
			svcR("m2", "web.prod@acme", 2, map[string]any{"url": "http://b"}),
			svcR("m3", "redis.default", 1, map[string]any{"port": int64(6381)}),
			svcR("m4", "redis.default", 1, map[string]any{"port": int64(6382)}),
			svcR("m5", "redis.default", 1, map[string]any{"port": int64(6383)}),
			depR("m5"),
			// m6 has no services.
			cfgR("redis.default", 2, "maxmemory = \"1gb\"\n[tls]\nport = 6390\n"),
			cfgR("redis.default", 1, "maxmemory = \"old\"\n"),
			fileR("redis.default", "ca.pem", 1, "old"),
			fileR("redis.default", "ca.pem", 2, "AB"),
			fileR("redis.default", "../escape", 9, "no"),
			fileR("web.prod@acme", "index.html", 1, "<p>"),
		},
	}
}

func TestBuildFold(t *testing.T) {
	type check func(t *testing.T, c *Census)
	population := func(sg string, want ...string) check {
		return func(t *testing.T, c *Census) {
			t.Helper()
			g := c.Group(sg)
			if g == nil {
				t.Fatalf("no group %s in %v", sg, c.Groups())
			}
			var got []string
			for _, m := range g.members {
				got = append(got, m.id)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s population = %v, want %v", sg, got, want)
			}
		}
	}
	health := func(sg, id, want string) check {
		return func(t *testing.T, c *Census) {
			t.Helper()
			for _, m := range c.Group(sg).members {
				if m.id == id {
					if m.health != want {
						t.Errorf("%s health = %s, want %s", id, m.health, want)
					}
					return
				}
			}
			t.Errorf("%s not in %s", id, sg)
		}
	}
	groups := func(want ...string) check {
		return func(t *testing.T, c *Census) {
			t.Helper()
			if got := c.Groups(); !slices.Equal(got, want) {
				t.Errorf("groups = %v, want %v", got, want)
			}
		}
	}
	cases := []struct {
		name   string
		in     Input
		checks []check
	}{
		{"empty", Input{LocalID: "m1"}, []check{groups()}},
		{"ring", ring(), []check{
			groups("redis.default", "web.prod@acme"),
			population("redis.default", "m1", "m2", "m3", "m4", "m5"),
			population("web.prod@acme", "m2"),
			health("redis.default", "m1", Alive),
			health("redis.default", "m3", Suspect),
			health("redis.default", "m4", Confirmed),
			health("redis.default", "m5", Departed),
			func(t *testing.T, c *Census) {
				inc, toml, ok := c.Group("redis.default").Config()
				if !ok || inc != 2 || string(toml) != "maxmemory = \"1gb\"\n[tls]\nport = 6390\n" {
					t.Errorf("config = %d %q %v", inc, toml, ok)
				}
				if _, _, ok := c.Group("web.prod@acme").Config(); ok {
					t.Error("web has a config")
				}
				files := c.Group("redis.default").Files()
				if len(files) != 1 || files[0].Filename != "ca.pem" || string(files[0].Body) != "AB" || files[0].Incarnation != 2 {
					t.Errorf("files = %+v", files)
				}
				want := map[string]int{Alive: 3, Suspect: 1, Confirmed: 1, Departed: 1}
				if got := c.MemberHealth(); !reflect.DeepEqual(got, want) {
					t.Errorf("health = %v, want %v", got, want)
				}
			},
		}},
		{"gone service leaves the group; gone on every member drops it", Input{
			LocalID: "a1", Members: []Member{mem("a1", "alive"), mem("a2", "alive")},
			Rumors: []rumor.Rumor{
				svcR("a1", "redis.default", 1, nil), goneR("a1", "redis.default", 2),
				svcR("a2", "redis.default", 5, nil),
				goneR("a1", "web.default", 4), svcR("a1", "web.default", 3, nil),
				svcR("a2", "db.default", 7, nil), goneR("a2", "db.default", 7), // a tie: the tombstone wins
			},
		}, []check{groups("redis.default"), population("redis.default", "a2")}},
		{"higher incarnation wins whatever the order", Input{
			LocalID: "a1", Members: []Member{mem("a1", "alive")},
			Rumors: []rumor.Rumor{
				svcR("a1", "redis.default", 4, map[string]any{"port": int64(2)}),
				svcR("a1", "redis.default", 3, map[string]any{"port": int64(1)}),
			},
		}, []check{func(t *testing.T, c *Census) {
			if got := c.Group("redis.default").members[0].cfg["port"]; got != int64(2) {
				t.Errorf("port = %v", got)
			}
		}}},
		{"unknown members: the local one is alive, others confirmed; bad groups skipped", Input{
			LocalID: "a1",
			Rumors: []rumor.Rumor{
				svcR("a1", "redis.default", 1, nil), svcR("a2", "redis.default", 1, nil),
				svcR("a1", "nogroup", 1, nil), svcR("a1", "a.b.c", 1, nil), svcR("a1", "a.b@", 1, nil),
				{Kind: rumor.KindService}, {Kind: rumor.KindConfig}, {Kind: "bogus"},
			},
		}, []check{groups("redis.default"), health("redis.default", "a1", Alive), health("redis.default", "a2", Confirmed)}},
		{"config: the highest that parses; config without a group is not a group", Input{
			LocalID: "a1", Members: []Member{mem("a1", "alive")},
			Rumors: []rumor.Rumor{
				svcR("a1", "redis.default", 1, nil),
				cfgR("redis.default", 3, "not [toml"), cfgR("redis.default", 2, "x = 1"),
				cfgR("orphan.default", 1, "x = 1"), fileR("orphan.default", "f", 1, "x"),
			},
		}, []check{groups("redis.default"), func(t *testing.T, c *Census) {
			if inc, _, ok := c.Group("redis.default").Config(); !ok || inc != 2 {
				t.Errorf("config incarnation = %d %v, want 2", inc, ok)
			}
		}}},
		{"members with the same id: highest incarnation", Input{
			LocalID: "a1",
			Members: []Member{{ID: "a1", Health: "alive", Incarnation: 2}, {ID: "a1", Health: "suspect", Incarnation: 1}},
			Rumors:  []rumor.Rumor{svcR("a1", "redis.default", 1, nil)},
		}, []check{health("redis.default", "a1", Alive)}},
	}
	v := gwtest.MustValidator(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Build(tc.in)
			for _, ch := range tc.checks {
				ch(t, c)
			}
			validate(t, v, tc.in, c)
		})
	}
}

func TestMemberMap(t *testing.T) {
	c := Build(ring())
	pop := c.JSON().(censusJSON).CensusGroups["web.prod@acme"].Population
	m := pop["m2"]
	if len(m) != 24 {
		t.Errorf("%d keys, want 24", len(m))
	}
	want := map[string]any{
		"member_id": "m2", "service": "web", "group": "prod", "org": "acme",
		"package": "core/web/1.0.0/20240101000000", "alive": true, "suspect": false,
		"pkg": map[string]any{"origin": "core", "name": "web", "version": "1.0.0", "release": "20240101000000"},
	}
	for k, w := range want {
		if !reflect.DeepEqual(m[k], w) {
			t.Errorf("%s = %#v, want %#v", k, m[k], w)
		}
	}
	sys := m["sys"].(map[string]any)
	// gossip_ip/gossip_port come from the ring's member record.
	if sys["gossip_ip"] != "192.168.1.2" || sys["ip"] != "10.0.0.2" || sys["gossip_port"] != int64(9638) {
		t.Errorf("sys = %v", sys)
	}
	if org := c.JSON().(censusJSON).CensusGroups["redis.default"].Population["m1"]["org"]; org != nil {
		t.Errorf("org = %v, want nil", org)
	}
	if got := pkgMap("", "redis"); got["name"] != "redis" || got["version"] != nil {
		t.Errorf("pkgMap empty = %v", got)
	}
}

func TestCensusJSONDocument(t *testing.T) {
	body := marshal(t, Build(ring()).JSON())
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	g := doc["census_groups"].(map[string]any)["redis.default"].(map[string]any)
	sc := g["service_config"].(map[string]any)
	if sc["incarnation"] != float64(2) || !reflect.DeepEqual(sc["value"], map[string]any{"maxmemory": "1gb", "tls": map[string]any{"port": float64(6390)}}) {
		t.Errorf("service_config = %v", sc)
	}
	f := g["service_files"].(map[string]any)["ca.pem"].(map[string]any)
	if !reflect.DeepEqual(f["body"], []any{float64('A'), float64('B')}) {
		t.Errorf("file = %v", f)
	}
	if doc["local_member_id"] != "m1" || g["local_member_id"] != "m1" {
		t.Errorf("local_member_id wrong: %v", doc["local_member_id"])
	}
	web := doc["census_groups"].(map[string]any)["web.prod@acme"].(map[string]any)
	if web["service_config"] != nil {
		t.Errorf("web service_config = %v", web["service_config"])
	}
}

func TestButterflyDocument(t *testing.T) {
	body := marshal(t, Butterfly(ring()))
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc) != 14 {
		t.Errorf("%d top-level keys, want 14", len(doc))
	}
	health := doc["member"].(map[string]any)["health"].(map[string]any)
	want := map[string]any{"m1": "Alive", "m2": "Alive", "m3": "Suspect", "m4": "Confirmed", "m5": "Departed", "m6": "Alive"}
	if !reflect.DeepEqual(health, want) {
		t.Errorf("health = %v", health)
	}
	if !reflect.DeepEqual(doc["departed_members"], []any{"m5"}) {
		t.Errorf("departed_members = %v", doc["departed_members"])
	}
	svcs := doc["services"].(map[string]any)["redis.default"].(map[string]any)
	if len(svcs) != 5 {
		t.Errorf("redis.default has %d rumors, want 5", len(svcs))
	}
	lsc := doc["latest_service_config"].(map[string]any)["redis.default"].(map[string]any)
	if lsc["incarnation"] != float64(2) {
		t.Errorf("latest config = %v", lsc)
	}
}

func TestSatisfies(t *testing.T) {
	in := Input{
		LocalID: "a1",
		Members: []Member{mem("a1", "alive"), mem("a2", "suspect"), mem("a3", "confirmed")},
		Rumors: []rumor.Rumor{
			svcR("a1", "db.default", 1, map[string]any{"port": int64(1)}),
			svcR("a2", "db.default", 1, map[string]any{"port": int64(2), "user": "u"}),
			svcR("a3", "db.default", 1, map[string]any{"port": int64(3), "user": "u", "pass": "p"}),
			svcR("a1", "down.default", 1, map[string]any{"port": int64(1)}),
			depR("a1"),
			svcR("a1", "nil.default", 1, map[string]any{"port": nil, "nan": math.NaN()}),
		},
	}
	in.Members = append(in.Members, mem("a9", "alive"))
	c := Build(in)
	g := c.Group("db.default")
	for _, tc := range []struct {
		exports []string
		want    bool
	}{
		{nil, true},
		{[]string{"port"}, true},
		{[]string{"port", "user"}, true},          // the suspect member has both
		{[]string{"port", "user", "pass"}, false}, // only the confirmed one does
		{[]string{"missing"}, false},
	} {
		if got := g.Satisfies(tc.exports); got != tc.want {
			t.Errorf("Satisfies(%v) = %v, want %v", tc.exports, got, tc.want)
		}
	}
	if c.Group("down.default").Satisfies(nil) {
		t.Error("a group whose only member departed satisfies a bind")
	}
	if c.Group("nil.default").Satisfies([]string{"port"}) || c.Group("nil.default").Satisfies([]string{"nan"}) {
		t.Error("an export without a value satisfies a bind")
	}
}

func TestTemplateData(t *testing.T) {
	c := Build(ring())
	g := c.Group("redis.default")
	svc := g.SvcData("m1")
	var ids []string
	for _, m := range svc["members"].([]any) {
		ids = append(ids, m.(map[string]any)["member_id"].(string))
	}
	if !slices.Equal(ids, []string{"m1", "m2", "m3"}) { // alive or suspect only
		t.Errorf("members = %v", ids)
	}
	if svc["first"].(map[string]any)["member_id"] != "m1" || svc["me"].(map[string]any)["member_id"] != "m1" {
		t.Errorf("first/me wrong: %v", svc)
	}
	if svc["leader"] != nil || svc["update_leader"] != nil || svc["org"] != nil || svc["service"] != "redis" || svc["group"] != "default" {
		t.Errorf("svc = %v", svc)
	}
	if me := g.SvcData("m6")["me"]; me != nil {
		t.Errorf("me of a member without the service = %v", me)
	}
	bind := g.BindData()
	if len(bind) != 3 || len(bind["members"].([]any)) != 3 || bind["leader"] != nil {
		t.Errorf("bind = %v", bind)
	}
	if web := c.Group("web.prod@acme").SvcData("m2"); web["org"] != "acme" {
		t.Errorf("org = %v", web["org"])
	}
	// Nobody active: first is null, members empty (not null).
	dead := Build(Input{LocalID: "x1", Members: []Member{mem("x1", "confirmed")}, Rumors: []rumor.Rumor{svcR("x1", "a.b", 1, nil)}}).Group("a.b").BindData()
	if dead["first"] != nil || dead["members"] == nil || len(dead["members"].([]any)) != 0 {
		t.Errorf("bind of a dead group = %v", dead)
	}
}

func TestTemplateDataSchema(t *testing.T) {
	tv := mustTemplateValidator(t)
	for name, in := range inputs() {
		c := Build(in)
		for _, sg := range c.Groups() {
			g := c.Group(sg)
			// The schema wants me and first to be members: they are null
			// only for a member not active in the group, which renders no
			// templates for it (see TestTemplateData).
			for _, m := range g.active() {
				tv.svc(t, name+" "+sg+" "+m.id, g.SvcData(m.id))
			}
			tv.bind(t, name+" "+sg, map[string]any{"b": g.BindData()})
		}
	}
}

// inputs are the census's test rings.
func inputs() map[string]Input {
	return map[string]Input{
		"ring":       ring(),
		"empty":      {LocalID: "m1"},
		"elected":    elected(rumor.Finished),
		"no quorum":  elected(rumor.NoQuorum),
		"no members": {LocalID: "m1", Rumors: []rumor.Rumor{svcR("m2", "a.b", 1, nil)}},
		"odd values": {LocalID: "m1", Members: []Member{mem("m1", "ALIVE")}, Rumors: []rumor.Rumor{
			svcR("m1", "a.b@c", 1, map[string]any{"nan": math.Inf(1), "nested": map[string]any{"x": math.NaN(), "f": 1.5}, "list": []any{1.5, nil}, "n": nil}),
			cfgR("a.b@c", 1, "inf = inf\nwhen = 1979-05-27T07:32:00Z\nday = 1979-05-27\n[t]\nf = 1.5\nnan = nan\n"),
			fileR("a.b@c", "empty", 1, ""),
		}},
	}
}

// elected is ring() with an election of redis.default naming m2.
func elected(status string) Input {
	in := ring()
	in.Rumors = append(in.Rumors, elR("redis.default", "m2", 4, status))
	return in
}

func elR(sg, member string, term uint64, status string) rumor.Rumor {
	return rumor.Rumor{Kind: rumor.KindElection, Election: &rumor.Election{
		MemberID: member, ServiceGroup: sg, Term: term, Suitability: ^uint64(0), Status: status, Votes: []string{"m1", "m2"},
	}}
}

// TestElectionShown: a finished election makes its candidate the leader
// and every other member a follower, in /census and in the template
// data; without quorum there is no leader and the flags say so.
func TestElectionShown(t *testing.T) {
	c := Build(elected(rumor.Finished))
	g := c.Group("redis.default")
	doc := c.JSON().(censusJSON).CensusGroups["redis.default"]
	if doc.ElectionStatus != "ElectionFinished" || doc.LeaderID == nil || *doc.LeaderID != "m2" {
		t.Fatalf("group: election_status %s, leader_id %v", doc.ElectionStatus, doc.LeaderID)
	}
	for id, m := range doc.Population {
		if m["leader"] != (id == "m2") || m["follower"] != (id != "m2") || m["election_is_finished"] != true {
			t.Errorf("member %s: leader %v follower %v finished %v", id, m["leader"], m["follower"], m["election_is_finished"])
		}
	}
	svc := g.SvcData("m1")
	if svc["leader"].(map[string]any)["member_id"] != "m2" || svc["first"].(map[string]any)["member_id"] != "m2" ||
		svc["me"].(map[string]any)["follower"] != true || svc["election_is_finished"] != true {
		t.Errorf("svc = %v", svc)
	}
	if b := g.BindData(); b["leader"].(map[string]any)["member_id"] != "m2" || b["first"].(map[string]any)["member_id"] != "m2" {
		t.Errorf("bind = %v", b)
	}

	c = Build(elected(rumor.NoQuorum))
	doc = c.JSON().(censusJSON).CensusGroups["redis.default"]
	if doc.ElectionStatus != "ElectionNoQuorum" || doc.LeaderID != nil {
		t.Fatalf("no quorum: election_status %s, leader_id %v", doc.ElectionStatus, doc.LeaderID)
	}
	if m := doc.Population["m2"]; m["leader"] != false || m["election_is_no_quorum"] != true {
		t.Errorf("no quorum: m2 = %v", m)
	}
	if svc := c.Group("redis.default").SvcData("m1"); svc["leader"] != nil || svc["election_is_no_quorum"] != true {
		t.Errorf("no quorum: svc = %v", svc)
	}
}

func TestJSONValidates(t *testing.T) {
	v := gwtest.MustValidator(t)
	for name, in := range inputs() {
		t.Run(name, func(t *testing.T) { validate(t, v, in, Build(in)) })
	}
}

func validate(t testing.TB, v *gwtest.Validator, in Input, c *Census) {
	t.Helper()
	if err := v.Validate(gwtest.Census, marshal(t, c.JSON())); err != nil {
		t.Errorf("census: %v", err)
	}
	if err := v.Validate(gwtest.Butterfly, marshal(t, Butterfly(in))); err != nil {
		t.Errorf("butterfly: %v", err)
	}
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A member whose service has not said it is ready does not satisfy a
// strict bind; once its rumor drops not_ready it does. A rumor without the
// field (an older member) is ready, as before.
func TestSatisfiesWaitsForReadiness(t *testing.T) {
	waiting := svcR("a1", "db.default", 1, map[string]any{"port": int64(1)})
	waiting.Service.NotReady = true
	in := Input{LocalID: "a1", Members: []Member{mem("a1", "alive")}, Rumors: []rumor.Rumor{waiting}}
	if Build(in).Group("db.default").Satisfies([]string{"port"}) {
		t.Error("a member not ready satisfies a bind")
	}
	ready := svcR("a1", "db.default", 2, map[string]any{"port": int64(1)})
	in.Rumors = append(in.Rumors, ready)
	if !Build(in).Group("db.default").Satisfies([]string{"port"}) {
		t.Error("the member's ready rumor does not satisfy a bind")
	}
	var old rumor.Service
	if err := json.Unmarshal([]byte(`{"member_id":"a1","service_group":"db.default","incarnation":3,"cfg":{"port":1},"up":true}`), &old); err != nil {
		t.Fatal(err)
	}
	if old.NotReady {
		t.Error("a rumor without not_ready reads as not ready")
	}
}
