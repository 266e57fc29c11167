package rumor

import (
	"cmp"
	"slices"
)

// Election statuses, as Habitat's butterfly names them.
const (
	Running  = "Running"
	NoQuorum = "NoQuorum"
	Finished = "Finished"
)

// Election is a service group's leader election (Habitat's Election
// rumor): MemberID is the candidate the rumor argues for, Votes the
// members that have agreed to it. A group holds one election at a time;
// its rumors merge by MergeElection, not by incarnation.
type Election struct {
	MemberID     string   `json:"member_id"`
	ServiceGroup string   `json:"service_group"`
	Term         uint64   `json:"term"`
	Suitability  uint64   `json:"suitability"`
	Status       string   `json:"status"` // Running | NoQuorum | Finished
	Votes        []string `json:"votes"`  // sorted, no duplicates
}

// Finished reports whether the election has named its leader.
func (e *Election) Finished() bool { return e.Status == Finished }

// Voted reports whether id's vote is in the election.
func (e *Election) Voted(id string) bool {
	_, ok := slices.BinarySearch(e.Votes, id)
	return ok
}

// Clone is a copy that shares nothing with e.
func (e *Election) Clone() *Election {
	c := *e
	c.Votes = slices.Clone(e.Votes)
	return &c
}

// outranks orders candidates within one term: higher suitability, then
// the greater member id.
func (e *Election) outranks(o *Election) bool {
	if e.Suitability != o.Suitability {
		return e.Suitability > o.Suitability
	}
	return e.MemberID >= o.MemberID
}

// MergeElection is Habitat's election merge (butterfly rumor/election.rs),
// the result of ours learning theirs:
//   - a finished election whose term is at least ours wins;
//   - if the terms are equal and ours is finished, ours stays;
//   - the higher term wins;
//   - within a term the higher suitability, then the greater member id,
//     wins and takes the loser's votes.
//
// Two differences from Habitat, both so that every member converges on
// one value whatever order rumors arrive in: two finished elections of the
// same term keep the outranking one (Habitat takes whichever arrived
// last, so two could swap forever), and the higher term always wins
// (Habitat deletes its rumor before starting a new term locally, which a
// merge cannot express). The result shares nothing with its arguments.
func MergeElection(ours, theirs *Election) *Election {
	switch {
	case ours == nil:
		return theirs.Clone()
	case theirs.Finished() && ours.Finished() && theirs.Term == ours.Term:
		if theirs.outranks(ours) && theirs.MemberID != ours.MemberID {
			return theirs.Clone()
		}
		return ours.Clone()
	case theirs.Finished() && theirs.Term >= ours.Term:
		return theirs.Clone()
	case ours.Finished() && theirs.Term == ours.Term:
		return ours.Clone()
	case theirs.Term > ours.Term:
		return theirs.Clone()
	case ours.Term > theirs.Term:
		return ours.Clone()
	}
	win, lose := ours, theirs
	if !ours.outranks(theirs) {
		win, lose = theirs, ours
	}
	out := win.Clone()
	out.Votes = unionVotes(win.Votes, lose.Votes)
	return out
}

func unionVotes(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.SortFunc(out, cmp.Compare[string])
	return slices.Compact(out)
}
