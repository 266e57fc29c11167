package ring

import (
	"context"
	"math/rand/v2"
	"net"
	"time"

	"github.com/hashicorp/memberlist"
)

// A member that has just started makes push/pulls (as a join does: a
// digest each way, then what each side lacks: digest.go) with random
// alive members, instead of waiting for memberlist's periodic push/pull:
// 30 s below 33 members, 60 s at 50, 180 s at 1,000.
//
// Gossip alone leaves stragglers while a ring forms. memberlist's own
// broadcast queue (TransmitLimitedQueue) loses messages the way ours did
// (queue.go): the alive messages of a forming ring all have the same
// length, so one that collides with another's id is dropped, and the
// members it did not reach do not list the newcomer (its services are
// not alive in their census) until a push/pull. And a forming ring's
// rumors outnumber what its packets carry: at 100 members each member
// has ~100 service rumors to pass on a dozen times each, two or three to
// a 1,400-byte packet. An exchange carries what is missing over TCP.
//
// The first exchange comes EarlyPushPull after the start. While push/
// pulls (this member's or others' with it) keep teaching it rumors it did
// not hold, the ring is still forming and the next exchange comes as
// soon; once one taught nothing, the delay doubles, and after
// earlyQuiet exchanges in a row that taught nothing the member stops.
// A member joining a ring that has formed learns everything from its
// join, so it makes earlyQuiet+1 exchanges, at 1, 2, 4, 8 and 16 s, as
// the fixed schedule before this one did; one in a ring of 100 that forms around it
// keeps exchanging each second until every rumor has reached it (with a
// fixed schedule the last ones waited for memberlist's push/pull, 40 s
// after the last start in bench/ring).
//
// earlyMax bounds the exchanges: in a large ring rumors change often, and
// exchanges that kept teaching something would otherwise never end.

// earlyQuiet is how many exchanges in a row that taught nothing end the
// early exchanges.
const earlyQuiet = 4

// earlyMax bounds a member's early exchanges: 20 s of them while they
// teach.
const earlyMax = 20

// DefaultEarlyPushPull is Timing.EarlyPushPull when zero.
const DefaultEarlyPushPull = time.Second

func (r *Ring) earlyPushPull() time.Duration {
	if d := r.cfg.Timing.EarlyPushPull; d > 0 {
		return d
	}
	return DefaultEarlyPushPull
}

// earlySchedule is the delay before the next early exchange and how many
// in a row taught nothing, after one that taught something or not; ok is
// false when the exchanges end.
func earlySchedule(first, wait time.Duration, quiet int, taught bool) (next time.Duration, q int, ok bool) {
	if taught {
		return first, 0, true
	}
	quiet++
	return 2 * wait, quiet, quiet < earlyQuiet
}

// EarlyLongest is the longest a member's early exchanges can go on after
// its start, first being Timing.EarlyPushPull: earlyMax exchanges in
// rounds of earlyQuiet, the delay doubling from first within a round
// (bench/ring opens its steady window after it; 75 s at 1 s).
func EarlyLongest(first time.Duration) time.Duration {
	var round time.Duration
	for i, w := 0, first; i < earlyQuiet; i, w = i+1, 2*w {
		round += w
	}
	return time.Duration(earlyMax/earlyQuiet) * round
}

// earlyLoop makes the new member's exchanges, until ctx ends.
//
// What an exchange teaches arrives a moment after it returns: the peer
// sends the rumors this member lacks over TCP once it has read its digest
// (digest.go). So whether it taught something is read `first` after it,
// the soonest the next exchange comes; anything learned from other
// members' exchanges with this one in the meantime counts too.
func (r *Ring) earlyLoop(ctx context.Context, ml *memberlist.Memberlist) {
	first := r.earlyPushPull()
	wait, quiet := first, 0
	t := time.NewTimer(wait)
	defer t.Stop()
	sleep := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	seen := r.learned.Load()
	for range earlyMax {
		if !sleep() {
			return
		}
		if peer := r.randomPeer(ml); peer != "" {
			if _, err := r.pull(ml, []string{peer}); err != nil {
				r.log.Debug("ring: early push/pull", "with", peer, "err", err)
			}
		}
		t.Reset(first)
		if !sleep() {
			return
		}
		now := r.learned.Load()
		taught := now != seen
		seen = now
		if r.earlyTaught != nil {
			r.earlyTaught(taught)
		}
		var ok bool
		if wait, quiet, ok = earlySchedule(first, wait, quiet, taught); !ok {
			return
		}
		t.Reset(wait - first)
	}
}

// randomPeer is the address of a random member memberlist lists (alive
// or suspect) other than this one, "" when there is none. Only names are
// read from memberlist's nodes; addresses come from the event records.
func (r *Ring) randomPeer(ml *memberlist.Memberlist) string {
	var addrs []string
	names := ml.Members()
	r.mu.Lock()
	for _, n := range names {
		if rec, ok := r.nodes[n.Name]; ok && n.Name != r.cfg.MemberID && rec.node.Port > 0 {
			addrs = append(addrs, hostPort(rec.node.Addr.String(), int(rec.node.Port)))
		}
	}
	r.mu.Unlock()
	if len(addrs) == 0 {
		return ""
	}
	return addrs[rand.IntN(len(addrs))]
}

// A member shows another suspect when its own probe of it failed, until
// an ack of its own comes back (delegate.go). memberlist probes the
// members in turn, one a probe interval, so its next probe of that member
// comes a whole ring later (~50 s at 50 members, 200 s at 200) even when
// the member refuted the suspicion at once: on a loaded machine a census
// of a ring that formed showed a member suspect for over a minute. So
// each probe interval the ring pings a few of the members it holds
// suspect itself.

// suspectPings is how many suspects are pinged each probe interval: each
// ping waits up to the probe timeout.
const suspectPings = 3

func (r *Ring) pingSuspects(ctx context.Context, ml *memberlist.Memberlist) {
	type target struct {
		name string
		addr *net.UDPAddr
	}
	var ts []target
	r.mu.Lock()
	for name, rec := range r.nodes {
		if rec.suspect && !rec.gone && rec.node.Port > 0 {
			ts = append(ts, target{name, &net.UDPAddr{IP: rec.node.Addr, Port: int(rec.node.Port)}})
		}
	}
	r.mu.Unlock()
	rand.Shuffle(len(ts), func(i, j int) { ts[i], ts[j] = ts[j], ts[i] })
	for _, t := range ts[:min(len(ts), suspectPings)] {
		if ctx.Err() != nil {
			return
		}
		if _, err := ml.Ping(t.name, t.addr); err == nil {
			r.setSuspect(t.name, false)
		}
	}
}

// suspectLoop notices health changes memberlist does not report and pings
// the members held suspect, every interval (tests: r.suspectEvery), until
// ctx ends: one timer for both, the fewer wake-ups of an idle member.
func (r *Ring) suspectLoop(ctx context.Context, ml *memberlist.Memberlist, every time.Duration) {
	if r.suspectEvery > 0 {
		every = r.suspectEvery
	}
	everyTick(ctx, every, func() {
		r.noticeHealth()
		r.pingSuspects(ctx, ml)
	})
}
