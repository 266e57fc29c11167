package ring

import (
	"bytes"
	"slices"
	"testing"
)

func msgOf(tag byte, n int) []byte { return bytes.Repeat([]byte{tag}, n) }

// A member that says "starting" then "up" and then passes on two peers'
// rumors of the same size gossips all three (memberlist's queue dropped its
// own here, and the ring learned it only from the next push/pull).
func TestGossipQueueKeepsAReplacedRumorBesideEqualSizedOnes(t *testing.T) {
	q := newGossipQueue(4, func() int { return 3 })
	q.put("service/w.default/self", msgOf('s', 436)) // starting
	q.put("service/w.default/self", msgOf('u', 427)) // up
	q.put("service/w.default/peer1", msgOf('a', 427))
	q.put("service/w.default/peer2", msgOf('b', 427))
	got := q.take(3, 1400)
	if len(got) != 3 {
		t.Fatalf("took %d messages, want 3", len(got))
	}
	if !slices.ContainsFunc(got, func(m []byte) bool { return m[0] == 'u' }) {
		t.Fatal("the member's own newest rumor was not sent")
	}
	if slices.ContainsFunc(got, func(m []byte) bool { return m[0] == 's' }) {
		t.Fatal("a replaced rumor was sent")
	}
}

// Each message goes out RetransmitMult × ⌈log10(n+1)⌉ times (4 in a ring
// of 3), then leaves the queue.
func TestGossipQueueSendsEachMessageALimitedNumberOfTimes(t *testing.T) {
	q := newGossipQueue(4, func() int { return 3 })
	q.put("a", msgOf('a', 10))
	for i := range 4 {
		if got := q.take(0, 100); len(got) != 1 {
			t.Fatalf("take %d: %d messages, want 1", i, len(got))
		}
	}
	if got := q.take(0, 100); len(got) != 0 || q.len() != 0 {
		t.Fatalf("after 4 transmissions: took %d, %d queued", len(got), q.len())
	}
}

// Least-sent first, then newest; one that does not fit is passed over for
// smaller ones, and stays queued.
func TestGossipQueueOrderAndFit(t *testing.T) {
	q := newGossipQueue(4, func() int { return 30 })
	q.put("old", msgOf('o', 40))
	if got := q.take(0, 100); len(got) != 1 {
		t.Fatalf("first take: %d", len(got))
	}
	q.put("big", msgOf('B', 90))
	q.put("new", msgOf('n', 40))
	got := q.take(0, 100)
	if len(got) != 2 || got[0][0] != 'n' || got[1][0] != 'o' {
		t.Fatalf("took %q; want the unsent small one, then the once-sent one", got)
	}
	got = q.take(5, 100)
	if len(got) != 1 || got[0][0] != 'B' {
		t.Fatalf("took %q; want the big one once there is room", got)
	}
	if q.len() != 3 {
		t.Fatalf("%d queued, want 3", q.len())
	}
}
