package ring

import (
	"context"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Reconnect, as Serf does it: memberlist stops contacting a member once it
// has declared it dead, so the two halves of a healed partition would never
// merge, and a permanent member that came back would not be probed again.
// Every ReconnectInterval the ring tries a join (a push/pull over TCP) to
// every member it holds confirmed, to every permanent member that is not
// alive, and to every configured peer no alive member answers at. A
// departed member is never tried.

// DefaultReconnectInterval is Timing.ReconnectInterval when zero.
const DefaultReconnectInterval = 5 * time.Second

// reconnectFor is how long a dead member that is not permanent is tried
// again, as Habitat keeps probing a confirmed member for three days: a host
// gone for good costs a failed connection per interval only that long.
const reconnectFor = 72 * time.Hour

// reconnectParallel bounds the joins of one round: a join to an unreachable
// address takes memberlist's TCP timeout.
const reconnectParallel = 4

// reconnectPerRound is how many targets one round tries, chosen at random
// among all of them (Serf tries one failed member per interval). A join is
// a push/pull (of the whole state until session 10; of digests and what
// differs now): with every target tried every round, a
// ring of 100 on a loaded machine, where starved members were declared
// dead, spent most of its CPU on reconnects (a profile: 14 % in
// reconnect's joins, 17 % merging the states they brought), which starved
// it more: more members declared dead, more reconnects. A healed
// partition needs one join across it; the push/pull and gossip do the rest.
const reconnectPerRound = 2

// peerLookupTimeout bounds resolving a peer's host name.
const peerLookupTimeout = 2 * time.Second

// reconnectTarget is an address to join; id is the member last seen there,
// "" for a configured peer.
type reconnectTarget struct {
	id   string
	addr string
}

func (r *Ring) reconnectInterval() time.Duration {
	if d := r.cfg.Timing.ReconnectInterval; d > 0 {
		return d
	}
	return DefaultReconnectInterval
}

// reconnectLoop runs a reconnect round every interval until ctx ends. The
// round runs here, so rounds never overlap; ticks missed by a slow round
// are dropped.
func (r *Ring) reconnectLoop(ctx context.Context, ml *memberlist.Memberlist) {
	everyTick(ctx, r.reconnectInterval(), func() { r.reconnect(ctx, ml) })
}

// everyTick runs f every d until ctx ends, on the caller's goroutine, so
// runs never overlap; ticks missed by a slow run are dropped.
func everyTick(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// reconnect tries every target once, a few at a time, and returns when all
// joins have ended.
func (r *Ring) reconnect(ctx context.Context, ml *memberlist.Memberlist) {
	targets := pickTargets(r.reconnectTargets(ctx), reconnectPerRound)
	if len(targets) == 0 {
		return
	}
	sem := make(chan struct{}, reconnectParallel)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, tg := range targets {
		select {
		case <-ctx.Done():
			return
		case sem <- struct{}{}:
		}
		wg.Go(func() {
			defer func() { <-sem }()
			r.rejoin(ctx, ml, tg)
		})
	}
}

func (r *Ring) rejoin(ctx context.Context, ml *memberlist.Memberlist, tg reconnectTarget) {
	// A departure may have arrived since the targets were chosen.
	if ctx.Err() != nil || (tg.id != "" && r.store.Departed(tg.id)) {
		return
	}
	n, err := ml.Join([]string{tg.addr})
	switch {
	case n > 0 && tg.id != "":
		r.log.Info("ring: reconnected", "member", tg.id, "addr", tg.addr)
	case n > 0:
		r.log.Info("ring: reconnected to peer", "peer", tg.addr)
	default:
		r.log.Debug("ring: reconnect failed", "member", tg.id, "addr", tg.addr, "err", err)
	}
}

// reconnectTargets lists the addresses to join: confirmed members (not
// departed, not left, not this member), permanent members that are neither
// alive nor suspect nor departed (even after leaving), and the configured
// peers where no alive member is. Each address once.
func (r *Ring) reconnectTargets(ctx context.Context) []reconnectTarget {
	members := r.Members()
	reached := map[string]bool{} // addresses of members memberlist still probes
	for _, m := range members {
		if (m.Health == Alive || m.Health == Suspect) && m.Port > 0 {
			reached[hostPort(m.Address, m.Port)] = true
		}
	}
	var out []reconnectTarget
	seen := map[string]bool{}
	for _, m := range members {
		if m.ID == r.cfg.MemberID || m.Port == 0 || m.Address == "" || r.store.Departed(m.ID) {
			continue
		}
		// Members shows a member that announced leaving as departed;
		// only a permanent one is tried again.
		if m.Health != Confirmed && (m.Health != Departed || !m.Permanent) {
			continue
		}
		if !m.Permanent && r.goneFor(m.ID) > reconnectFor {
			continue
		}
		addr := hostPort(m.Address, m.Port)
		if reached[addr] || seen[addr] {
			continue
		}
		seen[addr] = true
		out = append(out, reconnectTarget{id: m.ID, addr: addr})
	}
	for _, p := range r.cfg.Peers {
		key := normPeer(p)
		if seen[key] || r.peerReached(ctx, p, reached) {
			continue
		}
		seen[key] = true
		out = append(out, reconnectTarget{addr: p})
	}
	return out
}

// peerReached tells whether an alive or suspect member is at peer
// (host:port, the host resolved if it is a name). A name that does not
// resolve counts as not reached: the join will say why.
func (r *Ring) peerReached(ctx context.Context, peer string, reached map[string]bool) bool {
	host, portStr, err := net.SplitHostPort(peer)
	if err != nil {
		return false
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return reached[hostPort(ip.String(), port)]
	}
	lctx, cancel := context.WithTimeout(ctx, peerLookupTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(lctx, host)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if reached[hostPort(a.IP.String(), port)] {
			return true
		}
	}
	return false
}

func hostPort(ip string, port int) string {
	if p := net.ParseIP(ip); p != nil {
		ip = p.String()
	}
	return net.JoinHostPort(ip, strconv.Itoa(port))
}

// normPeer writes an ip:port peer as hostPort does; a name stays as is.
func normPeer(peer string) string {
	host, portStr, err := net.SplitHostPort(peer)
	if err != nil || net.ParseIP(host) == nil {
		return peer
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return peer
	}
	return hostPort(host, port)
}

// goneFor is how long ago memberlist reported the member dead or left; 0
// when it did not.
func (r *Ring) goneFor(id string) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, ok := r.nodes[id]; ok && n.gone && !n.goneAt.IsZero() {
		return time.Since(n.goneAt)
	}
	return 0
}

// pickTargets returns at most k of targets, chosen at random.
func pickTargets(targets []reconnectTarget, k int) []reconnectTarget {
	if len(targets) <= k {
		return targets
	}
	rand.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
	return targets[:k]
}
