package census

import (
	"reflect"
	"testing"

	"github.com/tend-sh/tend/internal/rumor"
)

// TestDigest: a group's digest changes exactly when its views would.
func TestDigest(t *testing.T) {
	const sg = "redis.default"
	base := Build(ring())
	same := Build(ring())
	if base.Group(sg).Digest() != same.Group(sg).Digest() {
		t.Fatal("equal inputs give different digests")
	}
	if !reflect.DeepEqual(base.Group(sg).SvcData("m1"), same.Group(sg).SvcData("m1")) {
		t.Fatal("equal inputs give different svc data")
	}
	changes := map[string]func(in *Input){
		"member health":       func(in *Input) { in.Members[1].Health = "suspect" },
		"service incarnation": func(in *Input) { in.Rumors[1] = svcR("m2", sg, 5, map[string]any{"port": int64(7000)}) },
		"service unloaded":    func(in *Input) { in.Rumors = append(in.Rumors, goneR("m2", sg, 1)) },
		"new member":          func(in *Input) { in.Rumors = append(in.Rumors, svcR("m6", sg, 1, nil)) },
		"config version":      func(in *Input) { in.Rumors = append(in.Rumors, cfgR(sg, 3, "x = 1\n")) },
		"file version":        func(in *Input) { in.Rumors = append(in.Rumors, fileR(sg, "ca.pem", 3, "CD")) },
		"new file":            func(in *Input) { in.Rumors = append(in.Rumors, fileR(sg, "b.pem", 1, "x")) },
		"gossip address":      func(in *Input) { in.Members[1].Address = "192.168.9.9" },
		"departed":            func(in *Input) { in.Rumors = append(in.Rumors, depR("m2")) },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			in := ring()
			change(&in)
			if Build(in).Group(sg).Digest() == base.Group(sg).Digest() {
				t.Fatal("digest did not change")
			}
		})
	}
	t.Run("other group", func(t *testing.T) {
		in := ring()
		in.Rumors = append(in.Rumors, fileR("web.prod@acme", "index.html", 2, "<b>"))
		if Build(in).Group(sg).Digest() != base.Group(sg).Digest() {
			t.Fatal("a change in another group changed the digest")
		}
	})
}

// TestDigestFollowsUpdateElection: a change of only the update election or
// the rolling target changes the template data (svc.update_election_*,
// svc.update_leader, pkg_incarnation), so it must change the digest, or
// the templates that use them are never rendered again.
func TestDigestFollowsUpdateElection(t *testing.T) {
	const sg = "redis.default"
	upR := func(member string, term uint64, status string) rumor.Rumor {
		r := elR(sg, member, term, status)
		r.Kind = rumor.KindElectionUpdate
		return r
	}
	targetR := func(inc uint64) rumor.Rumor {
		return rumor.Rumor{Kind: rumor.KindUpdate, Update: &rumor.Update{ServiceGroup: sg, Package: "core/redis/1.0.0/20240101000000", Incarnation: inc, FromID: "m1"}}
	}
	base := func() Input {
		in := ring()
		in.Rumors = append(in.Rumors, upR("m1", 1, rumor.Running))
		return in
	}
	before := Build(base()).Group(sg)
	changes := map[string]func(in *Input){
		"update election finished": func(in *Input) { in.Rumors = append(in.Rumors, upR("m1", 1, rumor.Finished)) },
		"update leader elected":    func(in *Input) { in.Rumors = append(in.Rumors, upR("m2", 2, rumor.Finished)) },
		"target published":         func(in *Input) { in.Rumors = append(in.Rumors, targetR(1)) },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			in := base()
			change(&in)
			after := Build(in).Group(sg)
			if reflect.DeepEqual(before.SvcData("m1"), after.SvcData("m1")) && reflect.DeepEqual(before.memberMapsOf(), after.memberMapsOf()) {
				t.Fatal("the change shows in no template data: the test no longer tests anything")
			}
			if after.Digest() == before.Digest() {
				t.Fatal("digest did not change: templates using the update election are not rendered again")
			}
		})
	}
	t.Run("target incarnation", func(t *testing.T) {
		in := base()
		in.Rumors = append(in.Rumors, targetR(1))
		one := Build(in).Group(sg)
		in.Rumors = append(in.Rumors, targetR(2))
		if Build(in).Group(sg).Digest() == one.Digest() {
			t.Fatal("digest did not change with pkg_incarnation")
		}
	})
}

// memberMapsOf is every member's template map, for comparing two folds.
func (g *Group) memberMapsOf() []map[string]any {
	var out []map[string]any
	for _, m := range g.members {
		out = append(out, g.memberMap(m))
	}
	return out
}
