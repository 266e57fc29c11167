package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestElectionPartitionMinorityHasNoLeader runs five members in network
// namespaces with a leader-topology service, cuts the leader and one
// follower (2) from the other three (3): the 2 side reports NoQuorum and
// no leader, the 3 side elects a new leader at term + 1, and after the
// heal all five agree on one leader. At no sampled moment do two members
// of the majority side both claim leadership. Not parallel: the network's
// names are the test process's.
func TestElectionPartitionMinorityHasNoLeader(t *testing.T) {
	pn := newPnet(t, 5)
	var sups []*sup
	for i := range 5 {
		var extra []string
		if i > 0 {
			extra = []string{"--peer", sups[0].gossip}
		}
		sups = append(sups, startSupVia(t, pn.exec(i), pn.addr(i), t.TempDir(), extra...))
	}
	name := "pelect"
	sg := name + ".default"
	dir := leaderPkg(t, name, uniqueTag())
	for _, s := range sups {
		s.mustTend("svc", "load", dir, "--topology", "leader")
	}
	leader, term := agreeOnLeader(t, sups, sg, 60*time.Second, "", -1)
	// The cut is 2 of 5 only if every member counts five in the group.
	// The first member to load finishes term 0 alone, so the agreement
	// can come before the last loads' service rumors reach everyone (half
	// a second before the cut, under load), and a census without them
	// counts quorum over fewer: a leader that knew 3 (itself, its partner
	// and one of the other side) kept quorum, 2 of 3, through the cut.
	waitUntil(t, 60*time.Second, "every member's census lists the five in "+sg, func() (bool, string) {
		var seen []string
		ok := true
		for _, s := range sups {
			n := len(s.census(t)[sg])
			seen = append(seen, fmt.Sprintf("%s: %d", s.memberID(), n))
			ok = ok && n == 5
		}
		return ok, strings.Join(seen, "; ")
	})

	// The minority is the leader and the next member; the majority the
	// other three.
	li := slices.IndexFunc(sups, func(s *sup) bool { return s.memberID() == leader })
	minority := []int{li, (li + 1) % 5}
	var majority []int
	for i := range 5 {
		if !slices.Contains(minority, i) {
			majority = append(majority, i)
		}
	}
	pick := func(idx []int) []*sup {
		var out []*sup
		for _, i := range idx {
			out = append(out, sups[i])
		}
		return out
	}

	// claims samples the majority: which of its members say (in their
	// own census) that they lead.
	twoClaims := ""
	sample := func() {
		var claim []string
		for _, s := range pick(majority) {
			if v := s.election(sg); v.leader == s.memberID() {
				claim = append(claim, fmt.Sprintf("%s (term %d)", s.memberID(), v.term))
			}
		}
		if len(claim) > 1 && twoClaims == "" {
			twoClaims = strings.Join(claim, ", ")
		}
	}

	cutAt := time.Now()
	pn.cut(minority, majority)
	healed := false
	t.Cleanup(func() {
		if !healed {
			pn.heal(minority, majority)
		}
	})
	waitUntil(t, 120*time.Second, "the 2 side without quorum and leader", func() (bool, string) {
		sample()
		var seen []string
		ok := true
		for _, s := range pick(minority) {
			v := s.election(sg)
			seen = append(seen, fmt.Sprintf("%s: %+v", s.memberID(), v))
			ok = ok && v.status == "ElectionNoQuorum" && v.leader == "" && len(v.leaders) == 0
		}
		return ok, strings.Join(seen, "; ")
	})
	t.Logf("cut: the 2 side reports NoQuorum after %s", time.Since(cutAt).Round(time.Millisecond))
	var newLeader string
	var newTerm uint64
	waitUntil(t, 120*time.Second, "the 3 side elects at term + 1", func() (bool, string) {
		sample()
		var seen []string
		ok := true
		for i, s := range pick(majority) {
			v := s.election(sg)
			seen = append(seen, fmt.Sprintf("%s: %+v", s.memberID(), v))
			ok = ok && v.status == "ElectionFinished" && len(v.leaders) == 1 && v.leader != leader && v.leader != "" && v.term > term
			if i == 0 {
				newLeader, newTerm = v.leader, v.term
			} else {
				ok = ok && v.leader == newLeader && v.term == newTerm
			}
		}
		return ok, strings.Join(seen, "; ")
	})
	t.Logf("cut: the 3 side elected %s at term %d after %s", newLeader, newTerm, time.Since(cutAt).Round(time.Millisecond))
	if newTerm != term+1 {
		t.Fatalf("the 3 side elected at term %d, want %d", newTerm, term+1)
	}
	// The 2 side still has no leader.
	for _, s := range pick(minority) {
		if v := s.election(sg); v.leader != "" || v.status == "ElectionFinished" {
			t.Fatalf("%s on the 2 side shows %+v while cut", s.memberID(), v)
		}
	}

	healAt := time.Now()
	pn.heal(minority, majority)
	healed = true
	final, finalTerm := agreeOnLeader(t, sups, sg, 180*time.Second, "", -1)
	sample()
	t.Logf("heal: all five agree on %s (term %d) after %s", final, finalTerm, time.Since(healAt).Round(time.Millisecond))
	// All five agree on one leader (agreeOnLeader). The heal usually keeps
	// the 3 side's election; one run in several a further term follows it
	// (seen at term + 2 with the same leader), which the issue allows but
	// which is one election more than needed: logged, not failed.
	if finalTerm < newTerm {
		t.Errorf("after the heal: term %d, below the 3 side's %d", finalTerm, newTerm)
	}
	if final != newLeader || finalTerm != newTerm {
		t.Logf("after the heal: leader %s at term %d; the 3 side had %s at term %d", final, finalTerm, newLeader, newTerm)
	}
	if twoClaims != "" {
		t.Fatalf("two members of the majority side claimed leadership at once: %s", twoClaims)
	}
	checkRoles(t, sups, name, final)
}
