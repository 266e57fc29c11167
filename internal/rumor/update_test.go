package rumor

import (
	"strings"
	"testing"
)

func updElection(sg, member string, term, suit uint64, status string, votes ...string) Rumor {
	return Rumor{Kind: KindElectionUpdate, Election: &Election{MemberID: member, ServiceGroup: sg, Term: term, Suitability: suit, Status: status, Votes: votes}}
}

func target(sg, pkg string, inc uint64) Rumor {
	return Rumor{Kind: KindUpdate, Update: &Update{ServiceGroup: sg, Package: pkg, Incarnation: inc, FromID: "m1"}}
}

// An update election lives beside the leader election of its group (its
// own key) and merges as one: votes pool on the better candidate. A
// rolling target is replaced by a higher incarnation only.
func TestUpdateRumorsMerge(t *testing.T) {
	s := NewStore()
	le := el("m1", 1, 0, Finished, "m1")
	le.ServiceGroup = "g.default"
	s.Merge(Rumor{Kind: KindElection, Election: le})
	s.Merge(updElection("g.default", "m1", 0, 0, Running, "m1"))
	if !s.Merge(updElection("g.default", "m2", 0, 0, Running, "m2")) {
		t.Fatal("a second candidacy changed nothing")
	}
	got, ok := s.Get("election_update/g.default")
	if !ok || got.Election.MemberID != "m2" || strings.Join(got.Election.Votes, ",") != "m1,m2" {
		t.Fatalf("update election %+v", got.Election)
	}
	if le, _ := s.Get("election/g.default"); le.Election.MemberID != "m1" || !le.Election.Finished() {
		t.Fatalf("the leader election changed: %+v", le.Election)
	}

	s.Merge(target("g.default", "core/app/2.0.0/20260101000000", 2))
	if s.Merge(target("g.default", "core/app/1.0.0/20260101000000", 1)) {
		t.Error("a lower target incarnation replaced a higher one")
	}
	if !s.Merge(target("g.default", "core/app/3.0.0/20260101000000", 3)) {
		t.Error("a higher target incarnation was ignored")
	}
	if u, _ := s.Get("update/g.default"); u.Update.Package != "core/app/3.0.0/20260101000000" {
		t.Errorf("target %+v", u.Update)
	}
}

func TestUpdateRumorsValidate(t *testing.T) {
	for _, c := range []struct {
		r    Rumor
		want string
	}{
		{target("g.default", "core/app", 1), "want origin/name/version/release"},
		{target("", "core/app/1/2", 1), "empty service group"},
		{Rumor{Kind: KindUpdate, Update: &Update{ServiceGroup: "g", Package: "a/b/c/d"}}, "empty member id"},
		{Rumor{Kind: KindUpdate}, "0 payloads"},
		{updElection("g.default", "m1", 0, 0, "Maybe"), "status"},
		{Rumor{Kind: KindElectionUpdate, Update: &Update{ServiceGroup: "g", Package: "a/b/c/d", FromID: "m"}}, "without an election payload"},
	} {
		if err := c.r.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want %q", c.r, err, c.want)
		}
	}
}
