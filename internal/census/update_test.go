package census

import (
	"strings"
	"testing"

	"github.com/tend-sh/tend/internal/httpgw/gwtest"

	"github.com/tend-sh/tend/internal/rumor"
)

// TestUpdateElectionShown: the update election and the rolling target show
// in /census (group status, update_leader_id, pkg_incarnation; member
// flags), in the template data (svc.update_leader) and in /butterfly,
// beside the leader election and independent of it; the highest target
// incarnation wins, and the documents still validate against Habitat's
// schemas.
func TestUpdateElectionShown(t *testing.T) {
	in := ring()
	up := elR("redis.default", "m1", 2, rumor.Finished)
	up.Kind = rumor.KindElectionUpdate
	target := func(inc uint64, pkg string) rumor.Rumor {
		return rumor.Rumor{Kind: rumor.KindUpdate, Update: &rumor.Update{ServiceGroup: "redis.default", Package: pkg, Incarnation: inc, FromID: "m1"}}
	}
	in.Rumors = append(in.Rumors, up, target(1, "core/redis/0.9.0/20240101000000"), target(3, "core/redis/1.0.0/20240101000000"))
	c := Build(in)
	g := c.Group("redis.default")
	if g.UpdateLeaderID() != "m1" || g.LeaderID() != "" {
		t.Fatalf("update leader %q, leader %q", g.UpdateLeaderID(), g.LeaderID())
	}
	if u, ok := g.Target(); !ok || u.Incarnation != 3 || u.Package != "core/redis/1.0.0/20240101000000" {
		t.Fatalf("target %+v %v", u, ok)
	}
	doc := c.JSON().(censusJSON).CensusGroups["redis.default"]
	if doc.UpdateElectionStatus != "ElectionFinished" || doc.UpdateLeaderID == nil || *doc.UpdateLeaderID != "m1" || doc.PkgIncarnation != 3 || doc.ElectionStatus != "None" {
		t.Fatalf("group: %+v", doc)
	}
	for id, m := range doc.Population {
		if m["update_leader"] != (id == "m1") || m["update_follower"] != (id != "m1") || m["update_election_is_finished"] != true || m["leader"] != false {
			t.Errorf("member %s: %v", id, m)
		}
		// Every member runs core/redis/1.0.0, the target.
		if m["pkg_incarnation"] != int64(3) {
			t.Errorf("member %s: pkg_incarnation %v", id, m["pkg_incarnation"])
		}
	}
	svc := g.SvcData("m2")
	if l, ok := svc["update_leader"].(map[string]any); !ok || l["member_id"] != "m1" || svc["update_election_is_finished"] != true {
		t.Errorf("svc = %v", svc)
	}
	bf := marshal(t, Butterfly(in))
	if want := `"latest_election_update":{"redis.default":{`; !strings.Contains(string(bf), want) {
		t.Errorf("butterfly lacks %s:\n%s", want, bf)
	}
	validate(t, gwtest.MustValidator(t), in, c)
}
