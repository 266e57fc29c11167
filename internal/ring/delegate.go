package ring

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/tend-sh/tend/internal/rumor"
)

// delegate is the ring's face to memberlist; every method is called from
// memberlist's goroutines and must not block.
type delegate struct{ r *Ring }

var (
	_ memberlist.Delegate      = (*delegate)(nil)
	_ memberlist.EventDelegate = (*delegate)(nil)
	_ memberlist.AliveDelegate = (*delegate)(nil)
	_ memberlist.PingDelegate  = (*delegate)(nil)
)

func (d *delegate) NodeMeta(limit int) []byte {
	d.r.mu.Lock()
	defer d.r.mu.Unlock()
	if len(d.r.meta) > limit {
		return nil
	}
	return d.r.meta
}

func (d *delegate) NotifyMsg(b []byte) {
	if len(b) >= 1 && b[0] == msgDelta {
		d.r.mergeDelta(b)
		return
	}
	if len(b) < 2 || b[0] != msgRumor {
		d.r.stats.recv("unknown", len(b))
		return
	}
	m, err := d.r.store.MergeJSON(b[1:])
	kind := string(m.Kind)
	if kind == "" {
		kind = "unknown"
	}
	d.r.stats.recv(kind, len(b))
	if err != nil {
		d.r.log.Warn("ring: bad rumor", "err", err)
		return
	}
	d.r.receive(m, b[1:], len(b))
}

func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	msgs := d.r.queue.take(overhead, limit)
	for _, m := range msgs {
		d.r.stats.sent(kindOf(m), len(m))
	}
	return msgs
}

// LocalState is this member's digest (digest.go), not its store.
func (d *delegate) LocalState(join bool) []byte {
	b := d.r.encodeDigest()
	d.r.stats.sent(statDigest, len(b))
	return b
}

// MergeRemoteState queues the peer's digest for the delta of what it
// lacks, sent by deltaLoop (the delegate must not block). A whole store,
// from an older tend, is merged as before.
func (d *delegate) MergeRemoteState(buf []byte, join bool) {
	if len(buf) == 0 {
		return
	}
	if buf[0] == '{' {
		d.r.stats.recv(statPushPull, len(buf))
		pulled := d.r.pulling.Load()
		changed, err := d.r.store.MergeState(buf)
		if err != nil {
			d.r.log.Warn("ring: push/pull state", "err", err)
		}
		d.r.learnedFrom(changed, pulled == 0)
		return
	}
	d.r.stats.recv(statDigest, len(buf))
	dg, err := decodeDigest(buf)
	if err != nil {
		d.r.log.Warn("ring: push/pull state", "err", err, "first_byte", buf[0])
		return
	}
	if dg.member == d.r.cfg.MemberID || dg.sum == d.r.store.Sum() {
		return // nothing to send: the same rumors (or ourselves)
	}
	if d.r.deltas.put(deltaReq{peer: dg.member, ip: dg.ip, port: dg.port, regossip: !dg.ownPull, items: dg.items}) {
		d.r.log.Debug("ring: push/pull delta queue full; dropped the oldest")
	}
}

func (d *delegate) NotifyAlive(n *memberlist.Node) error {
	if n.Name != d.r.cfg.MemberID && d.r.store.Departed(n.Name) {
		return fmt.Errorf("member %s has departed", n.Name)
	}
	return nil
}

// The event callbacks run under memberlist's node lock: record and signal
// only.
func (d *delegate) NotifyJoin(n *memberlist.Node)   { d.record(n, false) }
func (d *delegate) NotifyLeave(n *memberlist.Node)  { d.record(n, true) }
func (d *delegate) NotifyUpdate(n *memberlist.Node) { d.record(n, false) }

func (d *delegate) record(n *memberlist.Node, gone bool) {
	c := *n
	c.Addr = append([]byte(nil), n.Addr...)
	c.Meta = append([]byte(nil), n.Meta...)
	rec := &nodeRec{node: c, gone: gone}
	// Decoded here, once per event, not by every Members call (each probe
	// interval, and every fold).
	_ = json.Unmarshal(c.Meta, &rec.meta)
	if gone {
		rec.goneAt = time.Now()
	}
	d.r.mu.Lock()
	d.r.nodes[n.Name] = rec
	d.r.mu.Unlock()
	d.r.stats.recv(statMembership, 0)
	d.r.signal()
}

// AckPayload and NotifyPingComplete: an ack clears a suspicion.
func (d *delegate) AckPayload() []byte { return nil }

func (d *delegate) NotifyPingComplete(n *memberlist.Node, _ time.Duration, _ []byte) {
	d.r.setSuspect(n.Name, false)
}

// logWriter turns memberlist's "[LEVEL] memberlist: ..." lines into slog.
// memberlist reports a member it starts to suspect only in its log, so
// that line is also read here.
type logWriter struct{ r *Ring }

const (
	suspectPrefix = "memberlist: Suspect "
	suspectSuffix = " has failed, no acks received"
)

func (w logWriter) Write(p []byte) (int, error) {
	line := bytes.TrimSpace(p)
	level := slog.LevelInfo
	for _, lv := range []struct {
		tag   string
		level slog.Level
	}{{"[DEBUG]", slog.LevelDebug}, {"[INFO]", slog.LevelInfo}, {"[WARN]", slog.LevelWarn}, {"[ERR]", slog.LevelError}, {"[ERROR]", slog.LevelError}} {
		if bytes.HasPrefix(line, []byte(lv.tag)) {
			level = lv.level
			line = bytes.TrimSpace(line[len(lv.tag):])
			break
		}
	}
	s := string(line)
	if strings.HasPrefix(s, suspectPrefix) && strings.HasSuffix(s, suspectSuffix) {
		w.r.setSuspect(strings.TrimSuffix(strings.TrimPrefix(s, suspectPrefix), suspectSuffix), true)
	}
	// memberlist's warnings are mostly about peers coming and going.
	if level > slog.LevelInfo {
		level = slog.LevelInfo
	}
	w.r.log.Log(context.Background(), level, s)
	return len(p), nil
}

// Stats counts the ring's traffic by kind: the rumor kinds (user messages
// on gossip and TCP, one count per transmission, payload bytes only),
// "pushpull_digest" (the digests push/pulls exchange), "pushpull_delta"
// (the rumors sent after one, that the peer lacked), "pushpull" (whole
// stores received from older members), "membership" (membership
// events received: joins, leaves, updates; bytes not counted) and "wire"
// (everything on the gossip port as it crosses the network, compressed
// and, when a key is set, encrypted: every UDP packet, SWIM's pings and
// acks included, and every TCP stream byte; messages are UDP packets plus
// TCP streams, a stream counting once in each direction it carries bytes).
// The rumor and push/pull bytes travel inside the wire bytes, compressed.
type Stats struct {
	Kinds map[string]Traffic `json:"kinds"`
}

// Traffic is the counters of one kind.
type Traffic struct {
	MsgsSent  uint64 `json:"msgs_sent"`
	BytesSent uint64 `json:"bytes_sent"`
	MsgsRecv  uint64 `json:"msgs_recv"`
	BytesRecv uint64 `json:"bytes_recv"`
}

const (
	statPushPull   = "pushpull"
	statDigest     = "pushpull_digest"
	statDelta      = "pushpull_delta"
	statMembership = "membership"
	statWire       = "wire"
)

type counters struct{ msgsSent, bytesSent, msgsRecv, bytesRecv atomic.Uint64 }

type stats map[string]*counters

func newStats() stats {
	s := stats{}
	for _, k := range []string{string(rumor.KindService), string(rumor.KindConfig), string(rumor.KindFile), string(rumor.KindDeparture), string(rumor.KindElection), string(rumor.KindElectionUpdate), string(rumor.KindUpdate), statPushPull, statDigest, statDelta, statMembership, statWire, "unknown"} {
		s[k] = &counters{}
	}
	return s
}

func (s stats) get(kind string) *counters {
	if c, ok := s[kind]; ok {
		return c
	}
	return s["unknown"]
}

func (s stats) sent(kind string, n int) {
	c := s.get(kind)
	c.msgsSent.Add(1)
	c.bytesSent.Add(uint64(n))
}

func (s stats) recv(kind string, n int) {
	c := s.get(kind)
	c.msgsRecv.Add(1)
	c.bytesRecv.Add(uint64(n))
}

// Stats returns the traffic counters.
func (r *Ring) Stats() Stats {
	out := Stats{Kinds: make(map[string]Traffic, len(r.stats))}
	for k, c := range r.stats {
		out.Kinds[k] = Traffic{
			MsgsSent: c.msgsSent.Load(), BytesSent: c.bytesSent.Load(),
			MsgsRecv: c.msgsRecv.Load(), BytesRecv: c.bytesRecv.Load(),
		}
	}
	return out
}
