package ring

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/tend-sh/tend/internal/rumor"
)

// idle is a member that is not running: its delegate is called by hand.
func idle(t *testing.T, id string, rs ...rumor.Rumor) *Ring {
	t.Helper()
	r, err := New(Config{MemberID: id, Bind: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, rm := range rs {
		r.store.Merge(rm)
	}
	return r
}

// TestDigestIsAFractionOfTheStore: a push/pull of a 200-member ring
// carries a digest of under a fifth of the whole store, which an exchange
// used to carry both ways (~120 kB), and the digest reads back.
func TestDigestIsAFractionOfTheStore(t *testing.T) {
	var rs []rumor.Rumor
	for i := range 200 {
		rs = append(rs, benchRumor(i, 1))
	}
	r := idle(t, "m", rs...)
	whole, err := r.store.Encode()
	if err != nil {
		t.Fatal(err)
	}
	dg := r.encodeDigest()
	if 5*len(dg) >= len(whole) {
		t.Fatalf("digest of 200 rumors is %d bytes, the store %d: want under a fifth", len(dg), len(whole))
	}
	t.Logf("200 rumors: digest %d B, whole store %d B", len(dg), len(whole))
	d, err := decodeDigest(dg)
	if err != nil {
		t.Fatal(err)
	}
	if d.member != "m" || d.ownPull || len(d.items) != 200 || d.sum != r.store.Sum() {
		t.Fatalf("decoded %q ownPull=%v items=%d sum=%x", d.member, d.ownPull, len(d.items), d.sum)
	}
}

// TestMalformedDigestIsRefused: a cut or unknown state changes nothing
// and queues nothing.
func TestMalformedDigestIsRefused(t *testing.T) {
	a := idle(t, "a", svcRumor("a", 1))
	b := idle(t, "b")
	dg := b.encodeDigest()
	for _, buf := range [][]byte{dg[:1], dg[:len(dg)-1], append(bytes.Clone(dg), 0), {0xd2, 0}, []byte("[]")} {
		if _, err := decodeDigest(buf); err == nil {
			t.Errorf("digest %x accepted", buf)
		}
		(&delegate{a}).MergeRemoteState(buf, false)
		if _, ok := a.deltas.take(); ok {
			t.Errorf("digest %x queued a delta", buf)
		}
	}
}

// deliver runs what deltaLoop would for the delta to's digest asks of
// from: the message is built and handed to to's delegate. It reports the
// rumors sent.
func deliver(t *testing.T, from, to *Ring) int {
	t.Helper()
	(&delegate{from}).MergeRemoteState(to.encodeDigest(), false)
	req, ok := from.deltas.take()
	if !ok {
		return 0
	}
	msg, n := from.deltaMsg(req)
	if n > 0 {
		(&delegate{to}).NotifyMsg(msg)
	}
	return n
}

// TestPushPullDeltaPolicy: what a member's own pull teaches it (the
// member it asked sends it what it lacks) is not gossiped on; what the
// member it asked learns from it is, as is what a push/pull that is no
// one's own pull teaches (memberlist's periodic one, a reconnect).
func TestPushPullDeltaPolicy(t *testing.T) {
	ra, rb := svcRumor("a", 1), svcRumor("b", 1)
	a, b := idle(t, "a", ra), idle(t, "b", rb)
	b.pulling.Add(1) // b's join or early exchange, with a
	if n := deliver(t, a, b); n != 1 || !has(b, ra.Key(), 1) {
		t.Fatalf("a sent b %d rumors; b holds a's: %v", n, has(b, ra.Key(), 1))
	}
	if queuedFor(b, ra.Key()) {
		t.Errorf("b gossips on a's rumor, learned by its own pull")
	}
	if n := deliver(t, b, a); n != 1 || !has(a, rb.Key(), 1) {
		t.Fatalf("b sent a %d rumors; a holds b's: %v", n, has(a, rb.Key(), 1))
	}
	if !queuedFor(a, rb.Key()) {
		t.Errorf("a does not gossip on b's rumor, learned from b's pull")
	}
	if a.learned.Load() != 1 || b.learned.Load() != 1 {
		t.Errorf("learned a=%d b=%d, want 1 each", a.learned.Load(), b.learned.Load())
	}
	b.pulling.Add(-1)

	c := idle(t, "c", svcRumor("c", 1))
	if deliver(t, c, b); !queuedFor(b, svcRumor("c", 1).Key()) {
		t.Errorf("b does not gossip on c's rumor, learned by a push/pull that was not its own")
	}
	// Stores that hold the same rumors queue no delta.
	if n := deliver(t, a, b); n != 0 {
		t.Errorf("a sent b %d rumors b held", n)
	}
	if _, ok := b.deltas.take(); ok {
		t.Errorf("a delta was queued")
	}
}

// TestOlderMembersWholeStateStillMerges: a tend of before the digests
// sends its whole store; it is merged, and gossiped on, as before.
func TestOlderMembersWholeStateStillMerges(t *testing.T) {
	r := idle(t, "a")
	old := idle(t, "old", svcRumor("old", 1), svcRumor("x", 2))
	whole, err := old.store.Encode()
	if err != nil {
		t.Fatal(err)
	}
	(&delegate{r}).MergeRemoteState(whole, false)
	if !has(r, svcRumor("old", 1).Key(), 1) || !has(r, svcRumor("x", 2).Key(), 2) {
		t.Fatalf("older member's state not merged: %v", r.Rumors())
	}
	if !queuedFor(r, svcRumor("x", 2).Key()) {
		t.Errorf("what the older member's state taught is not gossiped on")
	}
	if st := r.Stats().Kinds[statPushPull]; st.MsgsRecv != 1 || st.BytesRecv != uint64(len(whole)) {
		t.Errorf("whole state counted as %+v", st)
	}
}

// TestPushPullConvergesByDeltas: two members holding different rumors
// (and different versions of one) both hold the union, the newer version,
// after b's join, with gossip and periodic push/pull off; digests and
// deltas carry it, never a whole store.
func TestPushPullConvergesByDeltas(t *testing.T) {
	shared := func(inc uint64) rumor.Rumor { return svcRumor("s", inc) }
	a := startPrepared(t, Config{MemberID: "a"}, quiet, func(r *Ring) {
		r.store.Merge(svcRumor("a", 1))
		r.store.Merge(shared(1))
		r.store.Merge(cfgRumor(3, "big = \""+string(bytes.Repeat([]byte("x"), 8000))+"\""))
	})
	b := startPrepared(t, Config{MemberID: "b", Peers: []string{a.Addr()}}, quiet, func(r *Ring) {
		r.store.Merge(svcRumor("b", 1))
		r.store.Merge(shared(2))
	})
	for _, n := range []*node{a, b} {
		waitFor(t, n.cfg.MemberID+" holds both members' rumors", func() bool {
			return has(n.Ring, svcRumor("a", 1).Key(), 1) && has(n.Ring, svcRumor("b", 1).Key(), 1) &&
				has(n.Ring, shared(2).Key(), 2) && has(n.Ring, cfgRumor(3, "").Key(), 3)
		})
	}
	if a.store.Sum() != b.store.Sum() {
		t.Errorf("a and b hold the same rumors, sums differ")
	}
	for _, n := range []*node{a, b} {
		st := n.Stats().Kinds
		if st[statDelta].MsgsRecv == 0 || st[statDigest].MsgsSent == 0 {
			t.Errorf("%s: digests sent %d, deltas received %d", n.cfg.MemberID, st[statDigest].MsgsSent, st[statDelta].MsgsRecv)
		}
		if st[statPushPull].MsgsRecv != 0 {
			t.Errorf("%s received %d whole stores", n.cfg.MemberID, st[statPushPull].MsgsRecv)
		}
	}
}

// TestIdenticalStoresSendNoDelta: push/pulls between members holding the
// same rumors (a formed ring at rest) carry the digests and nothing else.
func TestIdenticalStoresSendNoDelta(t *testing.T) {
	tm := fast()
	tm.EarlyPushPull = 50 * time.Millisecond
	prep := func(r *Ring) {
		for i := range 20 {
			r.store.Merge(benchRumor(i, 1))
		}
	}
	a := startPrepared(t, Config{MemberID: "a", Timing: tm}, quiet, prep)
	b := startPrepared(t, Config{MemberID: "b", Timing: tm, Peers: []string{a.Addr()}}, quiet, prep)
	waitFor(t, "b's join and 3 early exchanges", func() bool {
		return b.Stats().Kinds[statDigest].MsgsSent >= 4 && a.Stats().Kinds[statDigest].MsgsRecv >= 4
	})
	for _, n := range []*node{a, b} {
		if st := n.Stats().Kinds[statDelta]; st.MsgsSent+st.MsgsRecv != 0 {
			t.Errorf("%s: deltas %+v between identical stores", n.cfg.MemberID, st)
		}
	}
}

// TestEarlyExchangeCountsTheDeltaThatFollows: an early exchange's lesson
// arrives after the exchange returns (the peer's delta, over TCP); it
// still counts as taught, so the next exchange comes as soon.
func TestEarlyExchangeCountsTheDeltaThatFollows(t *testing.T) {
	tm, late := fast(), fast()
	tm.EarlyPushPull = 200 * time.Millisecond
	late.EarlyPushPull = time.Hour
	verdicts := make(chan bool, earlyMax)
	a := startTweaked(t, Config{MemberID: "a", Timing: late}, quiet)
	startPrepared(t, Config{MemberID: "b", Timing: tm, Peers: []string{a.Addr()}}, quiet, func(r *Ring) {
		r.earlyTaught = func(taught bool) { verdicts <- taught }
	})
	if taught := <-verdicts; taught {
		t.Fatal("the first exchange taught b something; a held nothing")
	}
	// b learns this only from its next exchange: no gossip.
	if err := a.Publish(svcRumor("a", 1)); err != nil {
		t.Fatal(err)
	}
	select {
	case taught := <-verdicts:
		if !taught {
			t.Fatal("the exchange that brought a's rumor counted as teaching nothing")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no second early exchange")
	}
}

// TestStreamToAStalledPeerEnds: a stream the transport dials (a delta, a
// big rumor: memberlist sets no deadline on a user message) to a peer that
// accepts and never reads fails after the dial's timeout, instead of
// holding its sender, and the ring's shutdown, forever.
func TestStreamToAStalledPeerEnds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held, never read
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-accepted
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
	})
	tr := newTestTransport(t, &counters{})
	conn, err := tr.DialAddressTimeout(memberlist.Address{Addr: ln.Addr().String()}, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	done := make(chan error, 1)
	go func() {
		chunk := make([]byte, 1<<20)
		for {
			if _, err := conn.Write(chunk); err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = conn.Close()
		<-done
		t.Fatal("the stream to a stalled peer did not end")
	}
}
