package ring

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/tend-sh/tend/internal/rumor"
)

// logBuf is a slog destination tests can read while the ring writes.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// noDeadGossip stops memberlist's gossip to members it has just declared
// dead (for 30 s by default): a restarted member would hear of the ring
// that way, and the tests must see that only reconnect brings it back.
func noDeadGossip(mc *memberlist.Config) { mc.GossipToTheDeadTime = time.Nanosecond }

// TestReconnectAfterCrash: b crashes, a holds it confirmed; b comes back on
// the same port knowing no peer, and only a's reconnect can find it.
func TestReconnectAfterCrash(t *testing.T) {
	var logs logBuf
	a := startTweaked(t, Config{MemberID: "a", Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))}, noDeadGossip)
	b := start(t, Config{MemberID: "b", Peers: []string{a.Addr()}})
	waitFor(t, "a and b alive in both views", allAlive([]*node{a, b}, "a", "b"))
	addr := b.Addr()
	b.kill(t)
	waitFor(t, "b confirmed on a", func() bool { return health(a.Ring, "b") == Confirmed })

	b2 := start(t, Config{MemberID: "b", Bind: addr})
	if len(b2.cfg.Peers) != 0 {
		t.Fatalf("b2 has peers")
	}
	waitFor(t, "b back alive in both views", allAlive([]*node{a, b2}, "a", "b"))
	if !strings.Contains(logs.String(), `msg="ring: reconnected" component=ring member=b addr=`+addr) {
		t.Errorf("no reconnect logged at Info:\n%s", logs.String())
	}
}

// TestReconnectSkipsDeparted: a member departed by a rumor is never joined
// again, even when it answers at its old address.
func TestReconnectSkipsDeparted(t *testing.T) {
	a := startTweaked(t, Config{MemberID: "a"}, noDeadGossip)
	b := start(t, Config{MemberID: "b", Peers: []string{a.Addr()}})
	waitFor(t, "a and b alive in both views", allAlive([]*node{a, b}, "a", "b"))
	addr := b.Addr()
	b.kill(t)
	waitFor(t, "b confirmed on a", func() bool { return health(a.Ring, "b") == Confirmed })
	if err := a.Publish(rumor.Rumor{Kind: rumor.KindDeparture, Departure: &rumor.Departure{MemberID: "b"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b departed on a", func() bool { return health(a.Ring, "b") == Departed })

	b2 := start(t, Config{MemberID: "b", Bind: addr})
	// Had a joined b2, b2 would know a (and of its departure by push/pull).
	never(t, "a reconnected to departed b", 8*fast().ReconnectInterval, func() bool {
		if _, ok := member(b2.Ring, "a"); ok {
			return true
		}
		select {
		case <-b2.Departed():
			return true
		default:
		}
		return health(a.Ring, "b") != Departed
	})
	for _, tg := range a.reconnectTargets(context.Background()) {
		if tg.id == "b" || tg.addr == addr {
			t.Fatalf("departed b is a reconnect target: %+v", tg)
		}
	}
}

// TestReconnectTargets: confirmed members, permanent members that left and
// unanswered peers are tried; alive, left and departed members, this member
// and answered peers are not.
func TestReconnectTargets(t *testing.T) {
	const deadPeer = "127.0.0.1:1" // nothing listens on port 1
	rings := cluster(t, []string{"a", "b", "c", "d", "e", "f"}, func(c *Config) {
		switch c.MemberID {
		case "b":
			c.Permanent = true
		case "d":
			c.Peers = append(c.Peers, deadPeer)
		}
	})
	a, b, c, d, e, f := rings[0], rings[1], rings[2], rings[3], rings[4], rings[5]
	addrs := map[string]string{}
	for _, r := range rings {
		addrs[r.cfg.MemberID] = r.Addr()
	}
	b.stop(t) // permanent, left
	c.stop(t) // left
	e.kill(t) // crashed
	f.kill(t) // crashed, then departed
	if err := a.Publish(rumor.Rumor{Kind: rumor.KindDeparture, Departure: &rumor.Departure{MemberID: "f"}}); err != nil {
		t.Fatal(err)
	}
	// A stopped member shows departed once its last metadata update
	// (Leaving) reaches d. Under load that broadcast can time out, and
	// the member then shows confirmed, as a crash would: b (permanent) is
	// a target either way, c only then. The targets are checked against
	// the health d shows around reading them.
	var seen string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("health on d at the last look: %s", seen)
		}
	})
	stopped := func(h string) bool { return h == Departed || h == Confirmed }
	healths := func() [4]string { // b, c, e, f
		return [4]string{health(d.Ring, "b"), health(d.Ring, "c"), health(d.Ring, "e"), health(d.Ring, "f")}
	}
	var got, want []string
	waitFor(t, "b c stopped, e confirmed, f departed on d, and the targets read", func() bool {
		h := healths()
		seen = fmt.Sprintf("b %s, c %s, e %s, f %s", h[0], h[1], h[2], h[3])
		if !stopped(h[0]) || !stopped(h[1]) || h[2] != Confirmed || h[3] != Departed {
			return false
		}
		got = got[:0]
		for _, tg := range d.reconnectTargets(context.Background()) {
			got = append(got, tg.id+"@"+tg.addr)
		}
		if healths() != h {
			return false // health changed while the targets were read
		}
		want = []string{"@" + deadPeer, "b@" + addrs["b"], "e@" + addrs["e"]}
		if h[1] == Confirmed {
			t.Logf("c's leave did not reach d: it shows confirmed")
			want = append(want, "c@"+addrs["c"])
		}
		return true
	})
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("targets %q, want %q (%s)", got, want, seen)
	}

	// Dead for longer than reconnectFor: e (and c, if confirmed) is given
	// up, b is permanent.
	d.mu.Lock()
	for _, id := range []string{"b", "c", "e"} {
		if n := d.nodes[id]; n != nil {
			n.goneAt = time.Now().Add(-reconnectFor - time.Hour)
		}
	}
	d.mu.Unlock()
	got = got[:0]
	for _, tg := range d.reconnectTargets(context.Background()) {
		got = append(got, tg.id+"@"+tg.addr)
	}
	slices.Sort(got)
	want = []string{"@" + deadPeer, "b@" + addrs["b"]}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("after %v: targets %q, want %q", reconnectFor, got, want)
	}
}

// TestWireStats: the wire kind counts at least every rumor and push/pull
// byte, both ways (without compression, which would shrink them on the
// wire).
func TestWireStats(t *testing.T) {
	noCompression := func(mc *memberlist.Config) { mc.EnableCompression = false }
	a := startTweaked(t, Config{MemberID: "a"}, noCompression)
	b := startTweaked(t, Config{MemberID: "b", Peers: []string{a.Addr()}}, noCompression)
	rings := []*node{a, b}
	waitFor(t, "a and b alive in both views", allAlive(rings, "a", "b"))
	if err := rings[0].Publish(svcRumor("a", 1)); err != nil {
		t.Fatal(err)
	}
	if err := rings[0].Publish(cfgRumor(1, strings.Repeat("x", 4000))); err != nil { // over TCP
		t.Fatal(err)
	}
	waitFor(t, "rumors reach b", func() bool {
		return has(rings[1].Ring, "service/redis.default/a", 1) && has(rings[1].Ring, "config/redis.default", 1)
	})
	waitFor(t, "wire counts cover the rumors", func() bool {
		for _, r := range rings {
			st := r.Stats()
			w := st.Kinds[statWire]
			var sent, recv uint64
			for k, tr := range st.Kinds {
				if k != statWire {
					sent += tr.BytesSent
					recv += tr.BytesRecv
				}
			}
			if w.MsgsSent == 0 || w.MsgsRecv == 0 || w.BytesSent < sent || w.BytesRecv < recv || sent == 0 || recv == 0 {
				return false
			}
		}
		return true
	})
	if s := a.Stats().Kinds["service"]; s.BytesSent == 0 {
		t.Fatalf("no service rumor sent: %+v", s)
	}
}

func newTestTransport(t *testing.T, c *counters) *countingTransport {
	t.Helper()
	tr, err := newCountingTransport(context.Background(), "127.0.0.1", 0, log.New(io.Discard, "", 0), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Port() == 0 {
		t.Fatalf("port 0 not resolved")
	}
	t.Cleanup(func() { _ = tr.Shutdown() })
	return tr
}

// TestCountingTransport counts packets and streams both ways, and shuts
// down with a packet nobody reads.
func TestCountingTransport(t *testing.T) {
	var c1, c2 counters
	t1, t2 := newTestTransport(t, &c1), newTestTransport(t, &c2)
	to := func(tr *countingTransport) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(tr.Port())) }

	pkt := []byte("hello ring")
	if _, err := t1.WriteTo(pkt, to(t2)); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-t2.PacketCh():
		if string(p.Buf) != string(pkt) {
			t.Fatalf("packet %q", p.Buf)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no packet")
	}

	conn, err := t1.DialAddressTimeout(memberlist.Address{Addr: to(t2)}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := bytes.Repeat([]byte("x"), 1000)
	if _, err := conn.Write(body[:400]); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(body[400:]); err != nil {
		t.Fatal(err)
	}
	var in net.Conn
	select {
	case in = <-t2.StreamCh():
	case <-time.After(5 * time.Second):
		t.Fatal("no stream")
	}
	defer in.Close()
	if _, err := io.ReadFull(in, make([]byte, len(body))); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Write([]byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(conn, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}

	type counts struct{ ms, bs, mr, br uint64 }
	load := func(c *counters) counts {
		return counts{c.msgsSent.Load(), c.bytesSent.Load(), c.msgsRecv.Load(), c.bytesRecv.Load()}
	}
	n := uint64(len(pkt))
	if got, want := load(&c1), (counts{2, n + 1000, 1, 10}); got != want {
		t.Errorf("sender: %+v, want %+v", got, want)
	}
	if got, want := load(&c2), (counts{1, 10, 2, n + 1000}); got != want {
		t.Errorf("receiver: %+v, want %+v", got, want)
	}

	// Nobody reads t2's packets any more: Shutdown must still return.
	for range 3 {
		if _, err := t1.WriteTo(pkt, to(t2)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a packet waiting on t2", func() bool { return c2.msgsRecv.Load() > 2 })
	done := make(chan struct{})
	go func() {
		_ = t2.Shutdown()
		_ = t2.Shutdown()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown hangs with an unread packet")
	}
}

// TestDialEndsWithContext: a dial to an address that never answers ends
// when the transport's context does.
func TestDialEndsWithContext(t *testing.T) {
	var c counters
	ctx, cancel := context.WithCancel(context.Background())
	tr, err := newCountingTransport(ctx, "127.0.0.1", 0, log.New(io.Discard, "", 0), &c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tr.Shutdown() }()
	cancel()
	// 192.0.2.0/24 is TEST-NET-1: nothing answers there.
	start := time.Now()
	if _, err := tr.DialTimeout("192.0.2.1:9638", 30*time.Second); err == nil {
		t.Fatal("dial succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("dial took %v after the context ended", d)
	}
}

// TestPushPullRumorsAreGossipedOn: what a member learns from a push/pull
// (a newcomer's rumors, at its join) goes on its gossip queue, as a rumor
// gossiped to it would; big ones do not.
func TestPushPullRumorsAreGossipedOn(t *testing.T) {
	r, err := New(Config{MemberID: "a", Bind: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	remote := rumor.NewStore()
	remote.Merge(svcRumor("b", 1))
	remote.Merge(cfgRumor(1, strings.Repeat("x", 4000)))
	buf, err := remote.Encode()
	if err != nil {
		t.Fatal(err)
	}
	(&delegate{r}).MergeRemoteState(buf, true)
	msgs := r.queue.take(0, 64<<10)
	if len(msgs) != 1 || kindOf(msgs[0]) != string(rumor.KindService) {
		t.Fatalf("queued %d messages (%q); want the service rumor only", len(msgs), msgs)
	}
}

// TestReconnectRoundIsBounded: a round tries at most reconnectPerRound of
// its targets, and over rounds every target gets its turn.
func TestReconnectRoundIsBounded(t *testing.T) {
	var all []reconnectTarget
	for i := range 20 {
		all = append(all, reconnectTarget{id: strconv.Itoa(i), addr: "127.0.0.1:" + strconv.Itoa(1000+i)})
	}
	tried := map[string]bool{}
	for range 500 {
		got := pickTargets(slices.Clone(all), reconnectPerRound)
		if len(got) != reconnectPerRound {
			t.Fatalf("a round tried %d targets; want %d", len(got), reconnectPerRound)
		}
		for _, tg := range got {
			tried[tg.id] = true
		}
	}
	if len(tried) != len(all) {
		t.Fatalf("500 rounds tried %d of %d targets", len(tried), len(all))
	}
	if got := pickTargets(all[:1], reconnectPerRound); len(got) != 1 {
		t.Fatalf("a single target: tried %d", len(got))
	}
}
