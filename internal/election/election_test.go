package election

import (
	"fmt"
	"testing"

	"github.com/tend-sh/tend/internal/rumor"
	"pgregory.net/rapid"
)

// node is one simulated member: its store, as the ring keeps it.
type node struct {
	id    string
	suit  uint64
	store *rumor.Store
}

// msg is an election rumor in flight to a member.
type msg struct {
	to int
	e  *rumor.Election
}

// sim is a group whose members all see the same membership (every one
// alive), exchanging election rumors the way internal/ring does: a
// publish that changes the store sends what the store holds to everyone;
// a receipt that changes it, or that lost to what it holds, passes on
// what it holds.
type sim struct {
	t        *rapid.T
	nodes    []*node
	inflight []msg
	members  map[string]string
	finished map[uint64]string // term -> leader of every Finished election seen anywhere
}

const sg = "redis.default"

func key() string { return "election/" + sg }

func (s *sim) held(i int) *rumor.Election {
	r, ok := s.nodes[i].store.Get(key())
	if !ok {
		return nil
	}
	return r.Election
}

func (s *sim) observe(e *rumor.Election) {
	if e == nil || !e.Finished() {
		return
	}
	if l, ok := s.finished[e.Term]; ok && l != e.MemberID {
		s.t.Fatalf("two Finished elections at term %d: leaders %s and %s", e.Term, l, e.MemberID)
	}
	s.finished[e.Term] = e.MemberID
}

func (s *sim) sendAll(from int, e *rumor.Election) {
	s.observe(e)
	for i := range s.nodes {
		if i != from {
			s.inflight = append(s.inflight, msg{i, e.Clone()})
		}
	}
}

// act lets member i take its step; it reports whether it did anything.
func (s *sim) act(i int) bool {
	n := s.nodes[i]
	held := s.held(i)
	g := Group{Self: n.id, Name: sg, Members: s.members, Held: held, Suitability: n.suit}
	if held != nil {
		g.CandidateHealth = s.members[held.MemberID]
	}
	a := Decide(g)
	if a == nil {
		return false
	}
	if n.store.Merge(rumor.Rumor{Kind: rumor.KindElection, Election: a.Election}) {
		s.sendAll(i, s.held(i))
	}
	return true
}

func (s *sim) deliver(k int) {
	m := s.inflight[k]
	s.inflight = append(s.inflight[:k], s.inflight[k+1:]...)
	n := s.nodes[m.to]
	changed := n.store.Merge(rumor.Rumor{Kind: rumor.KindElection, Election: m.e})
	h := s.held(m.to)
	s.observe(h)
	if changed || !sameElection(h, m.e) {
		s.sendAll(m.to, h)
	}
}

func sameElection(a, b *rumor.Election) bool {
	return fmt.Sprint(*a) == fmt.Sprint(*b)
}

func newSim(t *rapid.T) *sim {
	n := rapid.IntRange(1, 5).Draw(t, "members")
	s := &sim{t: t, members: map[string]string{}, finished: map[uint64]string{}}
	for i := range n {
		id := fmt.Sprintf("m%02d", rapid.IntRange(0, 99).Draw(t, fmt.Sprintf("id%d", i)))
		if _, dup := s.members[id]; dup {
			id = fmt.Sprintf("%s-%d", id, i)
		}
		s.members[id] = Alive
		s.nodes = append(s.nodes, &node{id: id, suit: uint64(rapid.IntRange(0, 2).Draw(t, "suit")), store: rumor.NewStore()})
	}
	return s
}

// settle runs every member and delivers every rumor until nothing moves.
func (s *sim) settle() {
	for round := 0; ; round++ {
		if round > 10000 {
			s.t.Fatalf("no quiescence after %d rounds", round)
		}
		moved := false
		for i := range s.nodes {
			moved = s.act(i) || moved
		}
		for len(s.inflight) > 0 {
			s.deliver(0)
			moved = true
		}
		if !moved {
			return
		}
	}
}

// TestConvergence: from any interleaving of steps and deliveries, members
// that see the same membership end on one Finished election naming one
// leader, and no two Finished elections of one term ever name different
// leaders.
func TestConvergence(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := newSim(t)
		steps := rapid.IntRange(0, 120).Draw(t, "steps")
		for range steps {
			if len(s.inflight) > 0 && rapid.Bool().Draw(t, "deliver") {
				s.deliver(rapid.IntRange(0, len(s.inflight)-1).Draw(t, "msg"))
				continue
			}
			s.act(rapid.IntRange(0, len(s.nodes)-1).Draw(t, "actor"))
		}
		s.settle()
		first := s.held(0)
		if first == nil || !first.Finished() {
			t.Fatalf("member %s holds %+v, want a Finished election", s.nodes[0].id, first)
		}
		for i := range s.nodes {
			if h := s.held(i); !sameElection(h, first) {
				t.Fatalf("member %s holds %+v, member %s holds %+v", s.nodes[i].id, h, s.nodes[0].id, first)
			}
		}
		// The winner is the best candidate: highest suitability, then the
		// greatest id.
		best := s.nodes[0]
		for _, n := range s.nodes[1:] {
			if n.suit > best.suit || (n.suit == best.suit && n.id > best.id) {
				best = n
			}
		}
		if first.MemberID != best.id {
			t.Fatalf("leader %s (suitability %d), want %s (suitability %d)", first.MemberID, first.Suitability, best.id, best.suit)
		}
	})
}

// TestLeaderDeath: once the leader is confirmed dead, the others elect a
// new leader at the next term, whatever the interleaving.
func TestLeaderDeath(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := newSim(t)
		if len(s.nodes) < 2 {
			return
		}
		s.settle()
		old := s.held(0)
		var rest []*node
		for _, n := range s.nodes {
			if n.id != old.MemberID {
				rest = append(rest, n)
			}
		}
		s.nodes = rest
		s.members[old.MemberID] = Confirmed
		if len(rest) < len(s.members)/2+1 {
			// Without quorum nobody may finish a new term.
			s.settle()
			for i := range s.nodes {
				if h := s.held(i); h.Term > old.Term && h.Finished() {
					t.Fatalf("minority finished %+v", h)
				}
			}
			return
		}
		for range rapid.IntRange(0, 50).Draw(t, "steps") {
			if len(s.inflight) > 0 && rapid.Bool().Draw(t, "deliver") {
				s.deliver(rapid.IntRange(0, len(s.inflight)-1).Draw(t, "msg"))
				continue
			}
			s.act(rapid.IntRange(0, len(s.nodes)-1).Draw(t, "actor"))
		}
		s.settle()
		for i := range s.nodes {
			h := s.held(i)
			if !h.Finished() || h.Term != old.Term+1 || h.MemberID == old.MemberID {
				t.Fatalf("member %s holds %+v after leader %s (term %d) died, want a Finished term %d", s.nodes[i].id, h, old.MemberID, old.Term, old.Term+1)
			}
		}
	})
}

func TestQuorum(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members map[string]string
		want    bool
	}{
		{"alone", map[string]string{"a": Alive}, true},
		{"3 of 5", map[string]string{"a": Alive, "b": Alive, "c": Alive, "d": Confirmed, "e": Suspect}, true},
		{"2 of 5", map[string]string{"a": Alive, "b": Alive, "c": Confirmed, "d": Confirmed, "e": Suspect}, false},
		{"half", map[string]string{"a": Alive, "b": Confirmed}, false},
		{"departed left out", map[string]string{"a": Alive, "b": Departed, "c": Departed}, true},
	} {
		if got := Quorum(tc.members); got != tc.want {
			t.Errorf("%s: Quorum = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDecideLeaderLostQuorum(t *testing.T) {
	held := &rumor.Election{MemberID: "a", ServiceGroup: sg, Term: 3, Status: rumor.Finished, Votes: []string{"a", "b", "c"}}
	g := Group{Self: "a", Name: sg, Members: map[string]string{"a": Alive, "b": Confirmed, "c": Suspect}, Held: held, CandidateHealth: Alive}
	a := Decide(g)
	if a == nil || a.Election.Term != 4 || a.Election.Status != rumor.NoQuorum || a.Election.Suitability != ^uint64(0) {
		t.Fatalf("Decide = %+v, want a NoQuorum term 4 candidacy at the highest suitability", a)
	}
	// A follower without quorum does not start a term for a dead leader:
	// its side could not finish it.
	minority := Group{Self: "b", Name: sg, Members: map[string]string{"a": Confirmed, "b": Alive, "c": Confirmed}, Held: held, CandidateHealth: Confirmed}
	if a := Decide(minority); a != nil {
		t.Fatalf("follower without quorum, leader dead: Decide = %+v, want nothing", a)
	}
	minority.Members["c"] = Alive
	if a := Decide(minority); a == nil || a.Election.Term != 4 || a.Election.Status != rumor.Running {
		t.Fatalf("follower with quorum, leader dead: Decide = %+v, want a running term 4", a)
	}
	// A departed member takes no part, not even in a new term.
	running := &rumor.Election{MemberID: "b", ServiceGroup: sg, Term: 4, Status: rumor.Running, Votes: []string{"b"}}
	gone := Group{Self: "z", Name: sg, Members: map[string]string{"b": Alive, "c": Alive, "z": Departed}, Held: running, CandidateHealth: Alive}
	if a := Decide(gone); a != nil {
		t.Fatalf("departed member: Decide = %+v, want nothing", a)
	}
	// A follower on the same side sees a live leader: nothing to do.
	g.Self = "b"
	g.Members = map[string]string{"a": Alive, "b": Alive, "c": Confirmed, "d": Confirmed, "e": Confirmed}
	if a := Decide(g); a != nil {
		t.Fatalf("follower with a live leader: Decide = %+v, want nothing", a)
	}
}
