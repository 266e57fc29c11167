package update

import (
	"fmt"
	"slices"
)

// Member is what the ring says of one member of a rolling group.
type Member struct {
	ID      string
	Alive   bool   // the ring's health is alive
	Up      bool   // its service's run process is running
	Package string // the fully qualified ident it runs
}

// Roll is one member's view of its group's rolling update.
type Roll struct {
	Self string
	// UpdateLeader is the winner of the finished update election; ""
	// while there is none.
	UpdateLeader string
	// TopologyLeader is the group's leader in leader topology, "" in
	// standalone: it goes last.
	TopologyLeader string
	// Target is the fully qualified ident the update leader published.
	Target  string
	Members []Member
}

// Turn reports whether Self may update to Target now, and if not, why. The
// order is the member-id ring of the group's alive members, starting at
// the update leader, with the topology leader taken out and put last:
//
//   - nobody updates while another alive member's service is not up, so
//     at most one member is down for the update at any time;
//   - the topology leader goes once every other alive member runs Target;
//   - while no alive member runs Target, the update leader goes first (the
//     follower after it in the ring if it has become the topology leader);
//   - otherwise a member goes once the alive member before it in the ring
//     (member-id order, wrapping, the topology leader left out) runs
//     Target. If the update leader dies mid-roll the ring closes over it
//     and the roll carries on from the members that updated.
//
// A member runs Target when its rumor names Target and its service is up.
func Turn(r Roll) (bool, string) {
	if r.Target == "" {
		return false, "no target package"
	}
	var self *Member
	var alive []Member
	for i := range r.Members {
		m := &r.Members[i]
		if m.ID == r.Self {
			self = m
		}
		if m.Alive || m.ID == r.Self {
			alive = append(alive, *m)
		}
	}
	if self == nil {
		return false, "this member is not in the group yet"
	}
	if self.Package == r.Target {
		return false, "already on " + r.Target
	}
	anyOn := false
	for _, m := range alive {
		if m.ID == r.Self {
			continue
		}
		if !m.Up {
			return false, fmt.Sprintf("member %s is not up", m.ID)
		}
		anyOn = anyOn || m.Package == r.Target
	}
	if r.Self == r.TopologyLeader {
		for _, m := range alive {
			if m.ID != r.Self && m.Package != r.Target {
				return false, "the topology leader goes last; " + m.ID + " has not updated"
			}
		}
		return true, "every other member updated (the topology leader goes last)"
	}
	var ring []string
	for _, m := range alive {
		if m.ID != r.TopologyLeader {
			ring = append(ring, m.ID)
		}
	}
	slices.Sort(ring)
	if !anyOn {
		first := r.UpdateLeader
		if first != "" && first == r.TopologyLeader {
			// The group's leader changed after it won the update
			// election: it still goes last, and the follower after it
			// in the ring goes first.
			i, _ := slices.BinarySearch(ring, first)
			first = ring[i%len(ring)]
		}
		if r.Self == first {
			return true, "the update leader goes first"
		}
		return false, "waiting for the update leader"
	}
	i := slices.Index(ring, r.Self)
	prev := ring[(i+len(ring)-1)%len(ring)]
	for _, m := range alive {
		if m.ID == prev && m.Package == r.Target {
			return true, "member " + prev + " before it in the ring updated"
		}
	}
	return false, "waiting for member " + prev + " before it in the ring"
}
