package ring

import (
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/tend-sh/tend/internal/rumor"
)

// quiet leaves a member no way to spread what it learns but joins and the
// new member's early push/pulls: no gossip, no periodic push/pull, and no
// probes (which would carry gossip on their packets).
func quiet(mc *memberlist.Config) {
	mc.GossipInterval = 0
	mc.PushPullInterval = 0
	mc.ProbeInterval = time.Hour
}

func knows(r *Ring, key string) func() bool {
	return func() bool {
		return slices.ContainsFunc(r.Rumors(), func(rm rumor.Rumor) bool { return rm.Key() == key })
	}
}

// TestNewMemberPushPullsEarly: a rumor published by a new member after its
// join reaches a member that joined elsewhere with no gossip at all,
// through the new members' early exchanges with random members (b's teach
// a, c's learn from a or b); memberlist's own push/pull would wait 30 s.
func TestNewMemberPushPullsEarly(t *testing.T) {
	tm := fast()
	tm.EarlyPushPull = 200 * time.Millisecond
	a := startTweaked(t, Config{MemberID: "a", Timing: tm}, quiet)
	b := startTweaked(t, Config{MemberID: "b", Timing: tm, Peers: []string{a.Addr()}}, quiet)
	c := startTweaked(t, Config{MemberID: "c", Timing: tm, Peers: []string{a.Addr()}}, quiet)
	waitFor(t, "b and c joined a", func() bool { return b.numNodes() >= 2 && c.numNodes() >= 2 })
	rm := svcRumor("b", 1)
	if err := b.Publish(rm); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c knows b's rumor", knows(c.Ring, rm.Key()))
}

// TestSuspectClearedByOwnPing: a member this one suspects, alive again,
// shows alive within a few pings, not only after memberlist's next probe
// of it (here never: probes are off; a whole ring of probes later in a
// real ring).
func TestSuspectClearedByOwnPing(t *testing.T) {
	a := startPrepared(t, Config{MemberID: "a"}, quiet, func(r *Ring) { r.suspectEvery = 50 * time.Millisecond })
	startTweaked(t, Config{MemberID: "b", Peers: []string{a.Addr()}}, quiet)
	waitFor(t, "a lists b alive", func() bool { return health(a.Ring, "b") == Alive })
	a.setSuspect("b", true) // as when a's probe of b failed
	if h := health(a.Ring, "b"); h != Suspect {
		t.Fatalf("b is %q on a after its probe failed; want suspect", h)
	}
	waitFor(t, "a shows b alive again", func() bool { return health(a.Ring, "b") == Alive })
}

// The early exchanges go on each second while push/pulls keep teaching
// the member rumors (a ring forming around it), and end after earlyQuiet
// exchanges in a row that taught nothing, the delay doubling: a member
// that joins a formed ring makes earlyQuiet+1, at 1, 2, 4, 8 and 16 s. A
// member that is always taught something (a large ring, where some rumor
// changes every few seconds) stops after earlyMax.
func TestEarlyExchangesLastWhileTheyTeach(t *testing.T) {
	schedule := func(taught int) []time.Duration {
		first := time.Second
		at, wait, quiet := time.Duration(0), first, 0
		var times []time.Duration
		for i := range earlyMax {
			at += wait
			times = append(times, at)
			var ok bool
			if wait, quiet, ok = earlySchedule(first, wait, quiet, i < taught); !ok {
				break
			}
		}
		return times
	}
	times := schedule(10)
	if len(times) != 10+earlyQuiet || times[9] != 10*time.Second {
		t.Fatalf("exchanges at %v; want one a second while taught, then %d more", times, earlyQuiet)
	}
	if last := times[len(times)-1]; last != 25*time.Second {
		t.Fatalf("last exchange at %s, want the quiet ones 1, 2, 4, 8 s apart (25 s)", last)
	}
	if times := schedule(1); len(times) != 1+earlyQuiet || times[len(times)-1] != 16*time.Second {
		t.Fatalf("joining a formed ring: exchanges at %v; want 1, 2, 4, 8, 16 s", times)
	}
	if times := schedule(1 << 30); len(times) != earlyMax || times[len(times)-1] != earlyMax*time.Second {
		t.Fatalf("always taught: exchanges at %v; want %d, a second apart", times, earlyMax)
	}
}

// What a member's own join and early exchanges teach it (the delta the
// member it asked sends it) is not gossiped on: the ring holds it already
// (a newcomer learns every rumor by its join). (What the member it asked
// learns from it is news there, and is gossiped on: a learns b's rumor
// from b's exchanges, or from b's own send, whichever comes first, so
// that is asserted without a ring, in TestPushPullDeltaPolicy.)
func TestOwnPullsAreNotGossipedOn(t *testing.T) {
	tm, late := fast(), fast()
	tm.EarlyPushPull = 100 * time.Millisecond
	late.EarlyPushPull = time.Hour // a learns only from b's exchanges
	a := startTweaked(t, Config{MemberID: "a", Timing: late}, quiet)
	ra := svcRumor("a", 1)
	if err := a.Publish(ra); err != nil {
		t.Fatal(err)
	}
	b := startTweaked(t, Config{MemberID: "b", Timing: tm, Peers: []string{a.Addr()}}, quiet)
	waitFor(t, "b learned a's rumor by its join", knows(b.Ring, ra.Key()))
	rb := svcRumor("b", 1)
	if err := b.Publish(rb); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a learned b's rumor from b's early exchange", knows(a.Ring, rb.Key()))
	if queuedFor(b.Ring, ra.Key()) {
		t.Errorf("b queued a's rumor, learned by its own join, for gossip")
	}
}

// queuedFor reports whether r's gossip queue holds a rumor under key.
func queuedFor(r *Ring, key string) bool {
	r.queue.mu.Lock()
	defer r.queue.mu.Unlock()
	_, ok := r.queue.items[key]
	return ok
}
