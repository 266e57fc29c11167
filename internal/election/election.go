// Package election decides what one member does about its service
// group's leader election, with Habitat's semantics (butterfly server.rs):
// start one, vote in one, finish one it is the candidate of, or start a
// new term when the leader died or lost quorum. It is pure: the manager
// hands it what the ring knows and publishes what it returns; the ring's
// store merges election rumors by rumor.MergeElection.
package election

import (
	"math"
	"slices"

	"github.com/tend-sh/tend/internal/rumor"
)

// Member health, as the census names it.
const (
	Alive     = "alive"
	Suspect   = "suspect"
	Confirmed = "confirmed"
	Departed  = "departed"
)

// Group is what the local member knows of one service group it runs.
type Group struct {
	Self string // the local member id
	Name string // the service group
	// Members is every member with a live service rumor in the group, by
	// id, with its health (Alive, Suspect, Confirmed or Departed).
	Members map[string]string
	// Held is the election the local store holds for the group; nil if
	// none.
	Held *rumor.Election
	// CandidateHealth is the ring's health of Held's candidate, which may
	// have left the group; "" when the ring does not know it.
	CandidateHealth string
	// Suitability is the local member's (its suitability hook's answer).
	Suitability uint64
}

// Quorum is Habitat's check_quorum: more than half of the group's members
// that are alive, suspect or confirmed are alive. Departed members do not
// count.
func Quorum(members map[string]string) bool {
	alive, total := 0, 0
	for _, h := range members {
		switch h {
		case Alive:
			alive++
			total++
		case Suspect, Confirmed:
			total++
		}
	}
	return alive > total/2
}

// Electorate is the alive members of the group, sorted: every one must
// vote before the candidate finishes the election.
func Electorate(members map[string]string) []string {
	var out []string
	for id, h := range members {
		if h == Alive {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Action is an election rumor the local member publishes, and why.
type Action struct {
	Election *rumor.Election
	Why      string
}

// Decide is the one step the local member takes now, if any:
//   - no election held: start one at term 0;
//   - a running election without our vote: vote, by putting up our own
//     candidacy at its term (the merge pools both sides' votes on the
//     winner, as Habitat's insert_election does);
//   - our own candidacy with quorum and the vote of every alive member:
//     finish it;
//   - a finished election whose leader is confirmed or departed (or
//     unknown to the ring), or a running one whose candidate is: start
//     term + 1, if this side has quorum;
//   - a finished election naming us, without quorum: start term + 1 with
//     the highest suitability, so that we lead again once quorum is back.
//
// A member outside the group, or departed, does nothing (Habitat only votes in groups
// it runs). Two rules are not Habitat's: restarting for a dead candidate
// of a running election (there, an election whose candidate dies before
// finishing never ends), and not restarting for a dead leader without
// quorum (there, the minority side of a partition starts a term that,
// after the heal, can outbid the majority's finished one).
func Decide(g Group) *Action {
	if h, in := g.Members[g.Self]; !in || h == Departed {
		// A departed member is on its way out: its candidacy would win
		// on member id and leave an election nobody can finish.
		return nil
	}
	quorum := Quorum(g.Members)
	held := g.Held
	switch {
	case held == nil:
		return &Action{g.start(0, g.Suitability, quorum), "starting the election"}
	case held.Finished() && held.MemberID == g.Self:
		if !quorum {
			return &Action{g.start(held.Term+1, math.MaxUint64, quorum), "the leader (this member) lost quorum"}
		}
		return nil
	case dead(g.CandidateHealth):
		if !quorum {
			// This side could not elect anyway; starting a term here
			// would only outbid the other side's election when the ring
			// heals (the other side's leader looks dead from here until
			// membership catches up with the rumors).
			return nil
		}
		what := "the leader"
		if !held.Finished() {
			what = "the candidate"
		}
		return &Action{g.start(held.Term+1, g.Suitability, quorum), what + " " + held.MemberID + " is gone"}
	case held.Finished():
		return nil
	case !held.Voted(g.Self):
		return &Action{g.start(held.Term, g.Suitability, quorum), "voting"}
	case held.MemberID == g.Self && quorum && votedAll(held, Electorate(g.Members)):
		e := held.Clone()
		e.Status = rumor.Finished
		return &Action{e, "every alive member voted"}
	}
	return nil
}

// dead is a health that makes a leader or candidate gone: Habitat treats
// a member it has no health for as departed.
func dead(h string) bool { return h == Confirmed || h == Departed || h == "" }

func votedAll(e *rumor.Election, electorate []string) bool {
	for _, id := range electorate {
		if !e.Voted(id) {
			return false
		}
	}
	return true
}

// start is the local member's own candidacy at term.
func (g Group) start(term, suitability uint64, quorum bool) *rumor.Election {
	status := rumor.Running
	if !quorum {
		status = rumor.NoQuorum
	}
	return &rumor.Election{
		MemberID: g.Self, ServiceGroup: g.Name, Term: term, Suitability: suitability,
		Status: status, Votes: []string{g.Self},
	}
}
