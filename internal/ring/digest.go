package ring

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync"

	"github.com/hashicorp/memberlist"

	"github.com/tend-sh/tend/internal/rumor"
)

// A push/pull (a join, an early exchange, a reconnect, memberlist's
// periodic one) carries a digest of each side's rumor store, not the
// store: ~16 B a rumor instead of ~600. Each side then sends the other,
// in one TCP message, the rumors the other's digest lacks or holds in
// another version (msgDelta), so both end with the union. At 200 members
// every exchange carried ~120 kB each way, which each side compressed,
// decompressed, split and compared: a 200-member ring did not form on 2
// cores (docs/BENCHMARKS.md, issue 14).
//
// Digest (LocalState), little-endian:
//
//	digestV1 | flags | uvarint len, member id | uvarint len, IP | port (2) |
//	sum (8) | uvarint n | n × (key hash (8), encoding hash (8))
//
// The IP and port are where the sender takes TCP, as memberlist
// advertises it (no IP: not known yet); the delta goes there. Not to
// memberlist's record of the sender: a member refused as departed is in
// none, and must still learn its departure.
//
// flags bit 0: the sender is making an own pull (a join or early exchange
// of its own): what it learns from the exchange is not gossiped on.
//
// Delta (a user message over TCP): msgDelta | flags | the rumors as
// rumor.Store.Encode writes a store. flags bit 0: regossip what changed.
//
// A state whose first byte is '{' is the whole store of an older tend
// (rumor.Store.Encode, version 1) and is merged as before. An older tend
// cannot read a digest (it logs a warning and learns nothing from the
// exchange) and is sent no delta: in a mixed ring it learns what the new
// members hold by gossip, and by push/pulls with other older members.

// digestV1 starts a digest of this format; another format takes another
// first byte.
const digestV1 byte = 0xd1

const (
	flagOwnPull  byte = 1 // digest: the sender is making an own pull
	flagRegossip byte = 1 // delta: gossip on what it teaches
)

// digest is a decoded push/pull digest.
type digest struct {
	member  string
	ip      net.IP
	port    uint16
	ownPull bool
	sum     uint64
	items   []rumor.DigestItem
}

func (r *Ring) encodeDigest() []byte {
	sum, items := r.store.Digest()
	id := r.cfg.MemberID
	b := make([]byte, 0, 2+binary.MaxVarintLen64*2+len(id)+8+16*len(items))
	b = append(b, digestV1, 0)
	if r.pulling.Load() > 0 {
		b[1] |= flagOwnPull
	}
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	r.mu.Lock()
	ip, port := r.selfIP, r.selfPort
	r.mu.Unlock()
	b = binary.AppendUvarint(b, uint64(len(ip)))
	b = append(b, ip...)
	b = binary.LittleEndian.AppendUint16(b, port)
	b = binary.LittleEndian.AppendUint64(b, sum)
	b = binary.AppendUvarint(b, uint64(len(items)))
	for _, it := range items {
		b = binary.LittleEndian.AppendUint64(b, it.Key)
		b = binary.LittleEndian.AppendUint64(b, it.Enc)
	}
	return b
}

var errDigest = errors.New("ring: malformed push/pull digest")

func decodeDigest(b []byte) (digest, error) {
	var d digest
	if len(b) < 2 || b[0] != digestV1 {
		return d, errDigest
	}
	d.ownPull = b[1]&flagOwnPull != 0
	b = b[2:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n == 0 || n > uint64(len(b)-k) {
		return d, errDigest
	}
	d.member = string(b[k : k+int(n)])
	b = b[k+int(n):]
	n, k = binary.Uvarint(b)
	if k <= 0 || (n != 0 && n != net.IPv4len && n != net.IPv6len) || n+2 > uint64(len(b)-k) {
		return d, errDigest
	}
	if n > 0 {
		d.ip = append(net.IP(nil), b[k:k+int(n)]...)
	}
	b = b[k+int(n):]
	d.port = binary.LittleEndian.Uint16(b)
	b = b[2:]
	if len(b) < 8 {
		return d, errDigest
	}
	d.sum = binary.LittleEndian.Uint64(b)
	b = b[8:]
	n, k = binary.Uvarint(b)
	if k <= 0 || n != uint64(len(b)-k)/16 || (len(b)-k)%16 != 0 {
		return d, errDigest
	}
	b = b[k:]
	d.items = make([]rumor.DigestItem, n)
	for i := range d.items {
		d.items[i] = rumor.DigestItem{Key: binary.LittleEndian.Uint64(b), Enc: binary.LittleEndian.Uint64(b[8:])}
		b = b[16:]
	}
	return d, nil
}

// deltaReq is a peer's digest, waiting for the rumors it lacks to be sent.
type deltaReq struct {
	peer     string
	ip       net.IP // "" = look the peer up in the node records
	port     uint16
	regossip bool
	items    []rumor.DigestItem
}

// deltaQueue holds the digests whose deltas are to be sent: the newest one
// of each peer (an older one is replaced: the delta is computed when it is
// sent, against the newest digest), at most deltaPending peers, the
// oldest dropped beyond (the next push/pull with it makes up).
type deltaQueue struct {
	mu    sync.Mutex
	reqs  map[string]deltaReq
	order []string // peers in the order first queued
	kick  chan struct{}
}

// deltaPending bounds the digests waiting for their delta: each holds
// 16 B a rumor (3 kB at 200 members).
const deltaPending = 64

// deltaParallel bounds the deltas in flight, each a TCP send that waits
// up to memberlist's TCP timeout for a peer that does not answer.
const deltaParallel = 4

func newDeltaQueue() *deltaQueue {
	return &deltaQueue{reqs: map[string]deltaReq{}, kick: make(chan struct{}, 1)}
}

// put queues req; it never blocks. It reports whether an older request
// was dropped to make room.
func (q *deltaQueue) put(req deltaReq) (dropped bool) {
	q.mu.Lock()
	if _, ok := q.reqs[req.peer]; !ok {
		if len(q.order) >= deltaPending {
			delete(q.reqs, q.order[0])
			q.order = q.order[1:]
			dropped = true
		}
		q.order = append(q.order, req.peer)
	}
	q.reqs[req.peer] = req
	q.mu.Unlock()
	select {
	case q.kick <- struct{}{}:
	default:
	}
	return dropped
}

// take removes and returns the oldest request.
func (q *deltaQueue) take() (deltaReq, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.order) == 0 {
		return deltaReq{}, false
	}
	peer := q.order[0]
	q.order = q.order[1:]
	req := q.reqs[peer]
	delete(q.reqs, peer)
	return req, true
}

// deltaLoop sends the queued deltas, deltaParallel at a time, until ctx
// ends; it waits for the sends it started.
func (r *Ring) deltaLoop(ctx context.Context, ml *memberlist.Memberlist) {
	sem := make(chan struct{}, deltaParallel)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.deltas.kick:
		}
		for {
			req, ok := r.deltas.take()
			if !ok {
				break
			}
			select {
			case <-ctx.Done():
				return
			case sem <- struct{}{}:
			}
			wg.Go(func() {
				defer func() { <-sem }()
				r.sendDelta(ml, req)
			})
		}
	}
}

// sendDelta sends req's peer the rumors its digest lacks.
func (r *Ring) sendDelta(ml *memberlist.Memberlist, req deltaReq) {
	msg, n := r.deltaMsg(req)
	if n == 0 {
		return
	}
	node := memberlist.Node{Name: req.peer, Addr: req.ip, Port: req.port}
	if req.ip == nil {
		r.mu.Lock()
		if rec, ok := r.nodes[req.peer]; ok {
			node.Addr, node.Port = append(net.IP(nil), rec.node.Addr...), rec.node.Port
		}
		r.mu.Unlock()
	}
	if node.Addr == nil || node.Port == 0 {
		r.log.Debug("ring: push/pull delta to an unknown member", "member", req.peer)
		return
	}
	if err := ml.SendReliable(&node, msg); err != nil {
		r.log.Debug("ring: send push/pull delta", "to", req.peer, "rumors", n, "err", err)
		return
	}
	r.stats.sent(statDelta, len(msg))
}

// deltaMsg is the delta message for req and how many rumors it carries;
// nil and 0 when the peer lacks nothing.
func (r *Ring) deltaMsg(req deltaReq) ([]byte, int) {
	doc, n := r.store.EncodeLacking(req.items)
	if n == 0 {
		return nil, 0
	}
	msg := make([]byte, 0, 2+len(doc))
	msg = append(msg, msgDelta, 0)
	if req.regossip {
		msg[1] |= flagRegossip
	}
	return append(msg, doc...), n
}

// mergeDelta merges a delta message (msgDelta) received from a peer.
func (r *Ring) mergeDelta(b []byte) {
	r.stats.recv(statDelta, len(b))
	if len(b) < 3 {
		r.log.Warn("ring: short push/pull delta")
		return
	}
	regossip := b[1]&flagRegossip != 0
	changed, err := r.store.MergeState(b[2:])
	if err != nil {
		r.log.Warn("ring: push/pull delta", "err", err)
	}
	r.learnedFrom(changed, regossip)
}

// learnedFrom follows what a push/pull (a delta, or an older member's
// whole state) taught this member.
func (r *Ring) learnedFrom(changed []rumor.Merged, regossip bool) {
	r.learned.Add(uint64(len(changed)))
	// Run onChange for what is new: departures must be noticed.
	for _, m := range changed {
		r.onChange(m.Rumor)
		// Passed on as if gossiped to us. The member a newcomer joins
		// learns the newcomer's rumors from this exchange, and the
		// newcomer's own few transmissions of them are spent while a
		// forming ring's membership news fills every packet; unless they
		// are gossiped on from here, the rest of the ring learns them
		// from its own push/pulls, minutes later in a ring of 50
		// (bench/ring). What this member's own join or early exchange
		// taught it is not: the member it asked, and the ring, hold
		// that already (a newcomer learns every rumor by its join), and
		// at 100 members gossiping it on still cost 2.3 kB/s a member
		// 45 s after the ring had formed (286 B/s without). A reconnect
		// after a partition is gossiped on: it teaches news to this
		// member's side.
		if regossip {
			r.regossip(m.Key, m.Enc)
		}
	}
}
