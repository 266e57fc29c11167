package census

import "github.com/tend-sh/tend/internal/rumor"

// UpdateElection is the group's update-leader election (a copy); nil when
// none was gossiped.
func (g *Group) UpdateElection() *rumor.Election {
	if g.updateElection == nil {
		return nil
	}
	return g.updateElection.Clone()
}

// UpdateLeaderID is the winner of a finished update election who is a
// member of the group, "" while there is none.
func (g *Group) UpdateLeaderID() string {
	if e := g.updateElection; e != nil && e.Finished() {
		for _, m := range g.members {
			if m.id == e.MemberID {
				return m.id
			}
		}
	}
	return ""
}

// Target is the package the group's rolling update moves it to; ok false
// when no update leader published one.
func (g *Group) Target() (u rumor.Update, ok bool) {
	if g.target == nil {
		return rumor.Update{}, false
	}
	return *g.target, true
}

// RollMember is what a rolling update needs of one member of the group.
type RollMember struct {
	ID      string
	Health  string
	Up      bool   // its run process is running
	Package string // the fully qualified ident it runs
}

// RollMembers is the group's members, sorted by id.
func (g *Group) RollMembers() []RollMember {
	out := make([]RollMember, 0, len(g.members))
	for _, m := range g.members {
		out = append(out, RollMember{ID: m.id, Health: m.health, Up: m.svc.Up, Package: m.svc.Package})
	}
	return out
}

// updateFlags are the update-election keys of a member, as electionFlags
// for the leader election; pkg_incarnation is the group's target's for a
// member that runs the target.
func (g *Group) updateFlags(m *member, into map[string]any) {
	if t := g.target; t != nil && m.svc.Package == t.Package {
		into["pkg_incarnation"] = int64(t.Incarnation)
	}
	memberFlags(g.updateElection, m, "update_", into)
}

// svcUpdate is the svc template data's update-election flags and
// update_leader.
func (g *Group) svcUpdate(into map[string]any) {
	e := g.updateElection
	if e == nil {
		return
	}
	statusFlags(e, "update_", into)
	if id := g.UpdateLeaderID(); id != "" {
		for _, m := range g.members {
			if m.id == id {
				into["update_leader"] = g.memberMap(m)
			}
		}
	}
}
