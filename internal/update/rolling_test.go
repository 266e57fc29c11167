package update

import (
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

const target = "core/app/2.0.0/20260101000000"

// turns lists the members whose turn it is.
func turns(r Roll) []string {
	var out []string
	for _, m := range r.Members {
		if !m.Alive {
			continue
		}
		r.Self = m.ID
		if ok, _ := Turn(r); ok {
			out = append(out, m.ID)
		}
	}
	return out
}

// A rolling update, stepped member by member as the ring would see it:
// whoever's turn it is goes down and comes back on the target. Whatever
// the group (2 to 7 members, standalone or with a topology leader, any
// follower as update leader), and even when the update leader dies at any
// step and another follower takes over, at most one member may go at any
// time and none while another is down, the order is the member-id ring
// from the update leader with the topology leader last (when the topology
// leader won the update election, from the follower after it), and every
// alive member ends on the target.
func TestRollingTurnProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(2, 7).Draw(t, "members")
		ids := rapid.SliceOfNDistinct(rapid.StringMatching(`[0-9a-f]{4}`), n, n, rapid.ID[string]).Draw(t, "ids")
		r := Roll{Target: target}
		for _, id := range ids {
			r.Members = append(r.Members, Member{ID: id, Alive: true, Up: true, Package: "core/app/1.0.0/20260101000000"})
		}
		if rapid.Bool().Draw(t, "leader topology") {
			r.TopologyLeader = rapid.SampledFrom(ids).Draw(t, "topology leader")
		}
		followers := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == r.TopologyLeader })
		slices.Sort(followers)
		// The update leader is a follower, or (the group's leader changed
		// after the update election) the topology leader itself.
		r.UpdateLeader = rapid.SampledFrom(ids).Draw(t, "update leader")
		if r.TopologyLeader == "" || len(followers) == 0 {
			r.UpdateLeader = rapid.SampledFrom(followers).Draw(t, "standalone update leader")
		}
		killAt := rapid.IntRange(-1, n).Draw(t, "update leader dies at step")

		var order []string
		killed := false
		for step := 0; ; step++ {
			if step == killAt && len(followers) > 1 && r.UpdateLeader != r.TopologyLeader {
				for i := range r.Members {
					if r.Members[i].ID == r.UpdateLeader {
						r.Members[i].Alive = false
					}
				}
				followers = slices.DeleteFunc(followers, func(id string) bool { return id == r.UpdateLeader })
				r.UpdateLeader = rapid.SampledFrom(followers).Draw(t, "next update leader")
				killed = true
			}
			go1 := turns(r)
			if len(go1) > 1 {
				t.Fatalf("step %d: %v may all go at once", step, go1)
			}
			if len(go1) == 0 {
				break
			}
			i := slices.IndexFunc(r.Members, func(m Member) bool { return m.ID == go1[0] })
			r.Members[i].Up, r.Members[i].Package = false, target
			if down := turns(r); len(down) != 0 {
				t.Fatalf("step %d: %v may go while %s is down", step, down, go1[0])
			}
			r.Members[i].Up = true
			order = append(order, go1[0])
		}
		for _, m := range r.Members {
			if m.Alive && m.Package != target {
				t.Fatalf("%s never updated; order %v", m.ID, order)
			}
		}
		if killed {
			return // the ring closed over a dead leader: the order is checked when it lived
		}
		want := slices.Clone(followers)
		k, _ := slices.BinarySearch(want, r.UpdateLeader) // the topology leader's successor if it leads
		k %= len(want)
		want = append(want[k:], want[:k]...)
		if r.TopologyLeader != "" {
			want = append(want, r.TopologyLeader)
		}
		if !slices.Equal(order, want) {
			t.Fatalf("order %v, want %v", order, want)
		}
	})
}

func TestTurnReasons(t *testing.T) {
	m := func(id, pkg string, up, alive bool) Member { return Member{ID: id, Package: pkg, Up: up, Alive: alive} }
	old := "core/app/1.0.0/20260101000000"
	for _, c := range []struct {
		r    Roll
		ok   bool
		want string
	}{
		{Roll{Self: "a"}, false, "no target package"},
		{Roll{Self: "b", UpdateLeader: "a", Target: target, Members: []Member{m("a", old, true, true), m("b", old, true, true)}}, false, "waiting for the update leader"},
		{Roll{Self: "a", UpdateLeader: "a", Target: target, Members: []Member{m("a", old, true, true), m("b", old, false, true)}}, false, "member b is not up"},
		{Roll{Self: "a", UpdateLeader: "a", Target: target, Members: []Member{m("a", old, true, true), m("b", old, false, false)}}, true, "the update leader goes first"},
		{Roll{Self: "c", UpdateLeader: "a", Target: target, Members: []Member{m("a", target, true, true), m("b", old, true, true), m("c", old, true, true)}}, false, "waiting for member b"},
		{Roll{Self: "c", UpdateLeader: "a", Target: target, Members: []Member{m("a", target, true, true), m("b", old, true, false), m("c", old, true, true)}}, true, "member a before it"},
		{Roll{Self: "a", UpdateLeader: "b", TopologyLeader: "a", Target: target, Members: []Member{m("a", old, true, true), m("b", target, true, true), m("c", old, true, true)}}, false, "goes last; c has not"},
	} {
		ok, why := Turn(c.r)
		if ok != c.ok || !strings.Contains(why, c.want) {
			t.Errorf("%+v: Turn = %v %q, want %v %q", c.r, ok, why, c.ok, c.want)
		}
	}
}
