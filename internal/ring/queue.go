package ring

import (
	"math"
	"slices"
	"sync"
)

// gossipQueue holds the rumors waiting to be piggybacked on memberlist's
// packets: the newest rumor of each key, each sent a limited number of
// times (RetransmitMult × ⌈log10(members+1)⌉, memberlist's rule), least
// sent first, then newest first.
//
// It replaces memberlist.TransmitLimitedQueue, which loses messages: when
// a named broadcast replaces the only one queued, the queue empties for a
// moment and resets its id counter while the new message keeps its id, so
// the next messages queued get ids that collide with it, and its B-tree
// (ordered by transmits, length, id) silently replaces the older of two
// equal-length messages. A supervisor that said "starting" then "up" and
// then passed on two peers' rumors of the same size never gossiped its own
// until the next push/pull, 30 s later (seen as a census missing a member).
type gossipQueue struct {
	mult     int
	numNodes func() int

	mu    sync.Mutex
	seq   uint64
	items map[string]*queued
}

type queued struct {
	msg       []byte
	transmits int
	seq       uint64 // order of queueing: newer first among equals
}

func newGossipQueue(mult int, numNodes func() int) *gossipQueue {
	return &gossipQueue{mult: mult, numNodes: numNodes, items: map[string]*queued{}}
}

// put queues msg under name, replacing what was queued under it.
func (q *gossipQueue) put(name string, msg []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	q.items[name] = &queued{msg: msg, seq: q.seq}
}

// take returns the messages that fit in limit bytes, each costing overhead
// plus its length, and counts a transmission for each; a message sent its
// last time leaves the queue.
func (q *gossipQueue) take(overhead, limit int) [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return nil
	}
	most := q.mult * int(math.Ceil(math.Log10(float64(q.numNodes()+1))))
	names := make([]string, 0, len(q.items))
	for name := range q.items {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		x, y := q.items[a], q.items[b]
		if x.transmits != y.transmits {
			return x.transmits - y.transmits
		}
		if x.seq > y.seq {
			return -1
		}
		return 1
	})
	var out [][]byte
	used := 0
	for _, name := range names {
		it := q.items[name]
		if used+overhead+len(it.msg) > limit {
			continue // a smaller one may still fit
		}
		used += overhead + len(it.msg)
		out = append(out, it.msg)
		if it.transmits++; it.transmits >= most {
			delete(q.items, name)
		}
	}
	return out
}

// len is the number of messages queued.
func (q *gossipQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}
