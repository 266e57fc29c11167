package census

import "github.com/tend-sh/tend/internal/rumor"

// Election is the group's leader election as the ring holds it (a copy);
// nil when none was gossiped.
func (g *Group) Election() *rumor.Election {
	if g.election == nil {
		return nil
	}
	return g.election.Clone()
}

// MemberHealth is every member of the group with its health, for the
// election's quorum.
func (g *Group) MemberHealth() map[string]string {
	out := make(map[string]string, len(g.members))
	for _, m := range g.members {
		out[m.id] = m.health
	}
	return out
}

// LeaderID is the leader of a finished election, "" while there is none.
// Like Habitat's census, only a member of the group can be its leader.
func (g *Group) LeaderID() string {
	if e := g.election; e != nil && e.Finished() {
		for _, m := range g.members {
			if m.id == e.MemberID {
				return m.id
			}
		}
	}
	return ""
}

// electionStatus is the group's election_status as Habitat's census
// names it.
func (g *Group) electionStatus() string { return statusName(g.election) }

// statusName is an election's status as Habitat's census names it.
func statusName(e *rumor.Election) string {
	if e == nil {
		return "None"
	}
	switch e.Status {
	case rumor.Finished:
		return "ElectionFinished"
	case rumor.NoQuorum:
		return "ElectionNoQuorum"
	}
	return "ElectionInProgress"
}

// electionFlags are the election keys of a member (Habitat's
// update_from_election_rumor): every member carries the group's status;
// leader and follower are set once the election finished.
func (g *Group) electionFlags(m *member, into map[string]any) {
	memberFlags(g.election, m, "", into)
}

// memberFlags are a member's keys of election e, named with prefix ("" or
// "update_"): the status, and once finished whether m won it.
func memberFlags(e *rumor.Election, m *member, prefix string, into map[string]any) {
	if e == nil {
		return
	}
	statusFlags(e, prefix, into)
	if e.Finished() {
		into[prefix+"leader"] = m.id == e.MemberID
		into[prefix+"follower"] = m.id != e.MemberID
	}
}

// statusFlags are election e's status keys, named with prefix.
func statusFlags(e *rumor.Election, prefix string, into map[string]any) {
	into[prefix+"election_is_running"] = e.Status == rumor.Running
	into[prefix+"election_is_no_quorum"] = e.Status == rumor.NoQuorum
	into[prefix+"election_is_finished"] = e.Finished()
}

// svcElection is the svc template data's election flags.
func (g *Group) svcElection(into map[string]any) {
	if e := g.election; e != nil {
		statusFlags(e, "", into)
	}
}

// leaderMap is the leader's member map, nil while there is none.
func (g *Group) leaderMap() any {
	id := g.LeaderID()
	if id == "" {
		return nil
	}
	for _, m := range g.members {
		if m.id == id {
			return g.memberMap(m)
		}
	}
	return nil
}
