package manager

import (
	"context"
	"math"

	"github.com/tend-sh/tend/internal/census"
	"github.com/tend-sh/tend/internal/election"
	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/rumor"
	"github.com/tend-sh/tend/internal/update"
)

// runUpdateElections takes this member's step in the update-leader
// election of each group it runs a rolling service of (Habitat's
// ElectionUpdate), as runElections does for leaders: the same rules, a
// rumor of its own kind. In leader topology the group's leader stands
// with suitability 0 and every follower with the highest, so a follower
// leads the update and the leader updates last (Habitat's choice).
// In leader topology a member stands only once the group's leader
// election is finished. topology maps each rolling group to its topology.
// Ring loop only.
func (m *Manager) runUpdateElections(c *census.Census, topology map[string]string) {
	for sg, topo := range topology {
		g := c.Group(sg)
		if g == nil {
			continue
		}
		var suit uint64
		if topo == "leader" {
			if g.LeaderID() == "" {
				// Until the group has a leader every member would stand
				// alike, and the update could fall to the member that
				// then leads the group.
				continue
			}
			if g.LeaderID() != m.cfg.MemberID {
				suit = math.MaxUint64
			}
		}
		held := g.UpdateElection()
		eg := election.Group{Self: m.cfg.MemberID, Name: sg, Members: g.MemberHealth(), Held: held, Suitability: suit}
		if held != nil {
			eg.CandidateHealth = c.Health(held.MemberID)
		}
		a := election.Decide(eg)
		if a == nil {
			continue
		}
		if err := m.cfg.Ring.Publish(rumor.Rumor{Kind: rumor.KindElectionUpdate, Election: a.Election}); err != nil {
			m.log.Warn("update election rumor not published", "service_group", sg, "err", err)
		} else if held == nil || a.Election.Term != held.Term {
			m.log.Info("update leader election", "service_group", sg, "term", a.Election.Term, "status", a.Election.Status, "why", a.Why)
		}
	}
}

// roll takes this member's step in its group's rolling update: the update
// leader, at a poll, installs a newer package and publishes it as the
// group's target;
// every member (the leader too) moves to the target when update.Turn says
// it is its turn.
func (m *Manager) roll(ctx context.Context, u *updater, s updatable, polled bool) {
	c := m.census.Load()
	if c == nil {
		return
	}
	sg := s.e.runner.ServiceGroup()
	g := c.Group(sg)
	if g == nil {
		return
	}
	self := m.cfg.MemberID
	target, hasTarget := g.Target()
	if polled && g.UpdateLeaderID() == self {
		base := s.running
		if hasTarget {
			if t, err := ident.Parse(target.Package); err == nil {
				base = t
			}
		}
		if id, ok := m.pick(u, s, base); ok && (!hasTarget || id.String() != target.Package) {
			// The leader installs first: a package that does not install
			// here is not offered to the group.
			if _, err := m.fetch(u, id); err != nil {
				u.fail(m, s.e.name, "rolling update: package not installed", id, err)
				return
			}
			next := rumor.Update{ServiceGroup: sg, Package: id.String(), Incarnation: target.Incarnation + 1, FromID: self}
			if err := m.cfg.Ring.Publish(rumor.Rumor{Kind: rumor.KindUpdate, Update: &next}); err != nil {
				m.log.Warn("rolling update target not published", "service_group", sg, "err", err)
				return
			}
			m.log.Info("rolling update: new target for the group", "service_group", sg, "package", next.Package, "incarnation", next.Incarnation)
			target, hasTarget = next, true
		}
	}
	if !hasTarget {
		return
	}
	tid, err := ident.Parse(target.Package)
	if err != nil || !tid.Satisfies(s.fuzzy) || tid == s.running {
		return
	}
	r := update.Roll{Self: self, UpdateLeader: g.UpdateLeaderID(), Target: target.Package}
	if s.e.spec.Topology == "leader" {
		r.TopologyLeader = g.LeaderID()
	}
	for _, rm := range g.RollMembers() {
		mb := update.Member{ID: rm.ID, Alive: rm.Health == census.Alive, Up: rm.Up, Package: rm.Package}
		if rm.ID == self {
			mb.Package = s.running.String() // what runs here, ahead of its rumor
		}
		r.Members = append(r.Members, mb)
	}
	turn, why := update.Turn(r)
	if u.waiting[s.e.name] != why {
		u.waiting[s.e.name] = why
		m.log.Info("rolling update", "service_group", sg, "target", target.Package, "my_turn", turn, "why", why)
	}
	if turn {
		m.moveTo(ctx, u, s, tid)
	}
}
