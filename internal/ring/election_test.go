package ring

import (
	"fmt"
	"testing"

	"github.com/tend-sh/tend/internal/rumor"
)

// TestElectionVotesPoolOverGossip: each member puts up its own candidacy;
// over real gossip every member's store ends on the best candidate with
// every member's vote (the store merges elections instead of replacing
// them by version).
func TestElectionVotesPoolOverGossip(t *testing.T) {
	ids := []string{"a", "b", "c"}
	rings := cluster(t, ids, nil)
	for i, n := range rings {
		e := &rumor.Election{MemberID: ids[i], ServiceGroup: "redis.default", Status: rumor.Running, Votes: []string{ids[i]}}
		if err := n.Publish(rumor.Rumor{Kind: rumor.KindElection, Election: e}); err != nil {
			t.Fatal(err)
		}
	}
	want := "{c redis.default 0 0 Running [a b c]}"
	for i, n := range rings {
		waitFor(t, "the pooled election on "+ids[i], func() bool {
			r, ok := n.store.Get("election/redis.default")
			return ok && fmt.Sprint(*r.Election) == want
		})
	}
}
