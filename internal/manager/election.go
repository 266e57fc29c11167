package manager

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/census"
	"github.com/tend-sh/tend/internal/election"
	"github.com/tend-sh/tend/internal/rumor"
)

// electionBuckets suit elections, which take from milliseconds (a lone
// member) to the failure detector's bound (a dead leader).
var electionBuckets = []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// electionState is the ring loop's own record of its groups' elections.
type electionState struct {
	began map[string]time.Time     // group -> when this member first saw its current election unfinished
	done  map[string]string        // group -> "term leader" of the last finished election recorded
	stats map[string]*api.Election // group -> what /metrics shows
}

func newElectionState() *electionState {
	return &electionState{began: map[string]time.Time{}, done: map[string]string{}, stats: map[string]*api.Election{}}
}

// runElections takes this member's step in the election of each group it
// runs a leader-topology service of (suitability by group), publishing
// what the election package decides; the ring merges it and the next
// fold sees the result. It returns the records for /status and the
// elections for /metrics. Ring loop only.
func (m *Manager) runElections(es *electionState, c *census.Census, local map[string]uint64) ([]api.Record, []api.Election) {
	var recs []api.Record
	now := time.Now()
	for sg, suit := range local {
		g := c.Group(sg)
		if g == nil {
			continue // our own service rumor is not in the census yet
		}
		held := g.Election()
		eg := election.Group{Self: m.cfg.MemberID, Name: sg, Members: g.MemberHealth(), Held: held, Suitability: suit}
		if held != nil {
			eg.CandidateHealth = c.Health(held.MemberID)
		}
		if a := election.Decide(eg); a != nil {
			if err := m.cfg.Ring.Publish(rumor.Rumor{Kind: rumor.KindElection, Election: a.Election}); err != nil {
				m.log.Warn("election rumor not published", "service_group", sg, "err", err)
			} else if a.Election.Term != termOf(held) || held == nil {
				m.log.Info("leader election", "service_group", sg, "term", a.Election.Term, "status", a.Election.Status, "why", a.Why)
			}
		}
		recs = append(recs, es.observe(sg, held, now)...)
	}
	for sg := range es.stats {
		if _, ok := local[sg]; !ok {
			delete(es.stats, sg)
			delete(es.began, sg)
			delete(es.done, sg)
		}
	}
	out := make([]api.Election, 0, len(es.stats))
	for _, st := range es.stats {
		cp := *st
		cp.Buckets = make(map[float64]uint64, len(st.Buckets))
		for k, v := range st.Buckets {
			cp.Buckets[k] = v
		}
		out = append(out, cp)
	}
	slices.SortFunc(out, func(a, b api.Election) int { return strings.Compare(a.Group, b.Group) })
	return recs, out
}

func termOf(e *rumor.Election) uint64 {
	if e == nil {
		return 0
	}
	return e.Term
}

// observe times an election from the first fold that sees it unfinished
// to the first that sees it finished, and records each finished one.
func (es *electionState) observe(sg string, held *rumor.Election, now time.Time) []api.Record {
	st := es.stats[sg]
	if st == nil {
		st = &api.Election{Group: sg, Buckets: map[float64]uint64{}}
		for _, b := range electionBuckets {
			st.Buckets[b] = 0
		}
		es.stats[sg] = st
	}
	if held == nil {
		if _, ok := es.began[sg]; !ok {
			es.began[sg] = now
		}
		st.Status, st.Leader = "", ""
		return nil
	}
	st.Term, st.Status, st.Leader = held.Term, held.Status, ""
	if !held.Finished() {
		if _, ok := es.began[sg]; !ok {
			es.began[sg] = now
		}
		return nil
	}
	st.Leader = held.MemberID
	key := fmt.Sprintf("%d %s", held.Term, held.MemberID)
	if es.done[sg] == key {
		return nil
	}
	es.done[sg] = key
	if began, ok := es.began[sg]; ok {
		d := now.Sub(began).Seconds()
		st.Count++
		st.Sum += d
		for _, b := range electionBuckets {
			if d <= b {
				st.Buckets[b]++
			}
		}
		delete(es.began, sg)
	}
	return []api.Record{{At: now, OK: true, Text: fmt.Sprintf("election of %s finished: term %d, leader %s", sg, held.Term, held.MemberID)}}
}

// electionWait says why a leader-topology service of group g waits for
// its election (Habitat's "Waiting to execute hooks" reasons); "" once it
// is finished.
func electionWait(g *census.Group) string {
	var e *rumor.Election
	if g != nil {
		e = g.Election()
	}
	switch {
	case e == nil:
		return "election hasn't started"
	case e.Status == rumor.NoQuorum:
		return "election in progress, and there is no quorum"
	case e.Status == rumor.Running:
		return "election in progress"
	}
	return ""
}
