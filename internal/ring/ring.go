// Package ring is the gossip ring: SWIM membership and failure detection by
// hashicorp/memberlist, and the rumors of internal/rumor carried on it.
//
// Small rumors ride memberlist's gossip (piggybacked on UDP packets, each
// member re-broadcasting what is new to it); rumors too big for a packet
// (configs and files up to 64 KiB) go to every alive member over TCP at
// once. Push/pull anti-entropy exchanges digests of the rumor stores, then
// each side sends the rumors the other lacks (digest.go), so a member
// that was away, partitioned or just joined catches up. Members held dead
// and peers no alive member answers at are joined again every few seconds
// (reconnect.go), so the halves of a healed partition merge.
package ring

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/tend-sh/tend/internal/rumor"
	"github.com/tend-sh/tend/internal/store"
)

// Config configures a ring member.
type Config struct {
	MemberID  string   // the memberlist node name
	Bind      string   // host:port, UDP and TCP; port 0 picks a free one
	Advertise string   // optional host:port others reach us at
	Peers     []string // host:port to join, retried until it works or ctx ends
	Permanent bool     // announced in the node meta
	KeyFile   string   // "" = no encryption; else a file from GenerateKey
	DataDir   string   // rumors persist to DataDir/rumors.json; "" = not persisted
	// Persisted, when set, is ReadPersisted(DataDir), read ahead: Run
	// serves its store rather than reading DataDir's file itself.
	Persisted *Persisted
	Timing    Timing // zero fields = memberlist.DefaultLANConfig values
	Log       *slog.Logger
	// Sockets, when set, are served instead of binding Bind: a hand-over's
	// (SocketFiles). Inc, when set, is the incarnation to announce, the
	// predecessor's, so peers see the same member carry on.
	Sockets *Sockets
	Inc     uint64
}

// Timing overrides memberlist's LAN timings; a zero field keeps the default.
// When ProbeTimeout is set, the TCP timeout becomes max(20×ProbeTimeout, 1 s).
// ReconnectInterval is the ring's own: how often confirmed members and
// unanswered peers are tried again (default DefaultReconnectInterval).
// EarlyPushPull is the ring's own too: when a new member makes the first of
// its push/pulls with a random member, the next ones coming as often while
// push/pulls still teach it something, else doubling the delay (default
// DefaultEarlyPushPull; early.go).
type Timing struct {
	ProbeInterval, ProbeTimeout, GossipInterval, PushPullInterval time.Duration
	SuspicionMult                                                 int
	GossipNodes                                                   int
	ReconnectInterval                                             time.Duration
	EarlyPushPull                                                 time.Duration
}

// Member is one member as this member sees it.
type Member struct {
	ID        string `json:"id"`
	Address   string `json:"address"`
	Port      int    `json:"port"`
	Health    string `json:"health"` // alive | suspect | confirmed | departed
	Permanent bool   `json:"permanent"`
	// Incarnation is the member's start time in Unix milliseconds from its
	// node meta: it grows each time the member restarts (memberlist keeps
	// its own SWIM incarnation private). 0 when unknown.
	Incarnation uint64 `json:"incarnation"`
}

// Health values of Member.
const (
	Alive     = "alive"
	Suspect   = "suspect"
	Confirmed = "confirmed"
	Departed  = "departed"
)

const (
	msgRumor byte = 1 // tag of a rumor user message: then its JSON
	msgDelta byte = 2 // tag of a push/pull delta (digest.go)

	// maxGossip is the largest rumor message put on the UDP gossip queue;
	// memberlist offers about 1360 bytes per packet (1400 less headers and
	// encryption), and a message that never fits never leaves the queue.
	maxGossip = 1100

	persistDebounce = 500 * time.Millisecond
	leaveTimeout    = time.Second
	sendQueue       = 64
	rumorsFile      = "rumors.json"
)

// Ring is one member of the gossip ring.
type Ring struct {
	cfg   Config
	log   *slog.Logger
	host  string // bind host
	port  int    // bind port asked for
	store *rumor.Store
	queue *gossipQueue

	ready    chan struct{}
	changed  chan struct{}
	departed chan struct{}
	deptOnce sync.Once
	persistC chan struct{}
	sendC    chan []byte
	deltas   *deltaQueue
	ran      atomic.Bool
	live     atomic.Bool // Run has loaded the persisted rumors and not ended
	abrupt   atomic.Bool // tests: shut down without leaving

	mu   sync.Mutex
	ml   *memberlist.Memberlist
	addr string
	// selfIP and selfPort are where memberlist advertises this member,
	// for the push/pull digest.
	selfIP   net.IP
	selfPort uint16
	nodes    map[string]*nodeRec // every node seen
	meta     []byte
	inc      uint64
	health   string // digest of the last Members view, for Changed

	persistMu sync.Mutex
	gen       atomic.Uint64 // bumped on every store change
	// learned counts the rumors push/pulls taught this member (its own
	// and other members'): while it grows the ring is still forming, and
	// the early exchanges go on (early.go).
	learned atomic.Uint64
	// pulling counts this member's own joins and early exchanges in
	// flight: what they teach it, the others mostly hold already, and is
	// not gossiped on (its digest says so: digest.go).
	pulling atomic.Int32
	saved   uint64 // gen last persisted, under persistMu

	stats stats

	tweak        func(*memberlist.Config) // tests: adjust memberlist's config
	suspectEvery time.Duration            // tests: how often suspects are pinged
	earlyTaught  func(taught bool)        // tests: each early exchange's verdict
}

// New checks c; it does no I/O and starts nothing.
func New(c Config) (*Ring, error) {
	if c.MemberID == "" {
		return nil, errors.New("ring: empty member id")
	}
	host, portStr, err := net.SplitHostPort(c.Bind)
	if err != nil {
		return nil, fmt.Errorf("ring: bind %q: %w", c.Bind, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("ring: bind %q: bad port", c.Bind)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	if net.ParseIP(host) == nil {
		return nil, fmt.Errorf("ring: bind %q: host must be an IP address", c.Bind)
	}
	if c.Advertise != "" {
		ah, ap, err := net.SplitHostPort(c.Advertise)
		if err != nil {
			return nil, fmt.Errorf("ring: advertise %q: %w", c.Advertise, err)
		}
		if net.ParseIP(ah) == nil {
			return nil, fmt.Errorf("ring: advertise %q: host must be an IP address", c.Advertise)
		}
		if p, err := strconv.Atoi(ap); err != nil || p <= 0 || p > 65535 {
			return nil, fmt.Errorf("ring: advertise %q: bad port", c.Advertise)
		}
	}
	for _, p := range c.Peers {
		if _, _, err := net.SplitHostPort(p); err != nil {
			return nil, fmt.Errorf("ring: peer %q: %w", p, err)
		}
	}
	t := c.Timing
	if t.ProbeInterval < 0 || t.ProbeTimeout < 0 || t.GossipInterval < 0 || t.PushPullInterval < 0 || t.SuspicionMult < 0 || t.GossipNodes < 0 || t.ReconnectInterval < 0 || t.EarlyPushPull < 0 {
		return nil, errors.New("ring: negative timing")
	}
	lg := c.Log
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	st := rumor.NewStore()
	if c.Persisted != nil {
		st = c.Persisted.store
	}
	r := &Ring{
		cfg:      c,
		log:      lg.With("component", "ring"),
		host:     host,
		port:     port,
		store:    st,
		ready:    make(chan struct{}),
		changed:  make(chan struct{}, 1),
		departed: make(chan struct{}),
		persistC: make(chan struct{}, 1),
		sendC:    make(chan []byte, sendQueue),
		deltas:   newDeltaQueue(),
		nodes:    map[string]*nodeRec{},
		stats:    newStats(),
	}
	r.queue = newGossipQueue(4, r.numNodes)
	return r, nil
}

func (r *Ring) numNodes() int {
	r.mu.Lock()
	ml := r.ml
	r.mu.Unlock()
	if ml == nil {
		return 1
	}
	return ml.NumMembers()
}

// memberlistConfig builds memberlist's configuration from ours.
func (r *Ring) memberlistConfig() (*memberlist.Config, error) {
	mc := memberlist.DefaultLANConfig()
	mc.Name = r.cfg.MemberID
	mc.BindAddr = r.host
	mc.BindPort = r.port
	mc.AdvertisePort = r.port
	if r.cfg.Advertise != "" {
		ah, ap, _ := net.SplitHostPort(r.cfg.Advertise)
		mc.AdvertiseAddr = ah
		mc.AdvertisePort, _ = strconv.Atoi(ap)
	}
	t := r.cfg.Timing
	if t.ProbeInterval > 0 {
		mc.ProbeInterval = t.ProbeInterval
	}
	if t.ProbeTimeout > 0 {
		mc.ProbeTimeout = t.ProbeTimeout
		mc.TCPTimeout = max(20*t.ProbeTimeout, time.Second)
	}
	if t.GossipInterval > 0 {
		mc.GossipInterval = t.GossipInterval
	}
	if t.PushPullInterval > 0 {
		mc.PushPullInterval = t.PushPullInterval
	}
	if t.SuspicionMult > 0 {
		mc.SuspicionMult = t.SuspicionMult
	}
	if t.GossipNodes > 0 {
		mc.GossipNodes = t.GossipNodes
	}
	// A member restarted on another address is refused as a conflict
	// until its old self is dead for this long.
	mc.DeadNodeReclaimTime = mc.PushPullInterval
	if r.cfg.KeyFile != "" {
		key, err := ReadKey(r.cfg.KeyFile)
		if err != nil {
			return nil, err
		}
		mc.SecretKey = key
		mc.GossipVerifyIncoming = true
		mc.GossipVerifyOutgoing = true
	}
	d := &delegate{r}
	mc.Delegate = d
	mc.Events = d
	mc.Alive = d
	mc.Ping = d
	mc.Logger = log.New(logWriter{r}, "", 0)
	if r.tweak != nil {
		r.tweak(mc)
	}
	return mc, nil
}

// Run starts the member, joins the peers and serves until ctx ends; then it
// persists the rumors, leaves the ring, shuts down and waits for every
// goroutine it started. It runs once.
func (r *Ring) Run(ctx context.Context) error {
	if !r.ran.CompareAndSwap(false, true) {
		return errors.New("ring: Run called twice")
	}
	mc, err := r.memberlistConfig()
	if err != nil {
		return err
	}
	r.load()
	r.inc = r.cfg.Inc
	if r.inc == 0 {
		r.inc = uint64(time.Now().UnixMilli())
	}
	meta, err := json.Marshal(nodeMeta{Permanent: r.cfg.Permanent, Inc: r.inc})
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.meta = meta
	r.mu.Unlock()

	// Our own transport, to count the bytes on the wire. Its dials end
	// with ctx, so a join to an unreachable address cannot delay the exit.
	tr, err := newCountingTransport(ctx, r.host, r.port, mc.Logger, r.stats.get(statWire), r.cfg.Sockets)
	if err != nil {
		return fmt.Errorf("ring: start gossip on %s: %w", r.cfg.Bind, err)
	}
	mc.Transport = tr
	mc.BindPort = tr.Port()
	if r.cfg.Advertise == "" {
		mc.AdvertisePort = mc.BindPort
	}
	ml, err := memberlist.Create(mc)
	if err != nil {
		_ = tr.Shutdown()
		return fmt.Errorf("ring: start gossip on %s: %w", r.cfg.Bind, err)
	}
	r.mu.Lock()
	r.ml = ml
	r.addr = net.JoinHostPort(r.host, strconv.Itoa(mc.BindPort))
	if self := ml.LocalNode(); self != nil {
		r.selfIP, r.selfPort = append(net.IP(nil), self.Addr...), self.Port
		if ip4 := r.selfIP.To4(); ip4 != nil {
			r.selfIP = ip4
		}
	}
	r.mu.Unlock()
	r.live.Store(true)
	if r.store.Departed(r.cfg.MemberID) {
		r.closeDeparted()
	}
	close(r.ready)
	r.log.Info("ring: listening", "addr", r.Addr(), "member", r.cfg.MemberID, "encrypted", r.cfg.KeyFile != "")

	// Rumors loaded from disk reach the peers by the push/pull of the join.
	var wg sync.WaitGroup
	if len(r.cfg.Peers) > 0 {
		wg.Go(func() { r.joinLoop(ctx, ml) })
	}
	wg.Go(func() { r.sendLoop(ctx, ml) })
	wg.Go(func() { r.deltaLoop(ctx, ml) })
	wg.Go(func() { r.reconnectLoop(ctx, ml) })
	wg.Go(func() { r.earlyLoop(ctx, ml) })
	wg.Go(func() { r.suspectLoop(ctx, ml, mc.ProbeInterval) })

	r.loop(ctx)

	wg.Wait()
	r.live.Store(false)
	if err := r.persist(); err != nil {
		r.log.Error("ring: persist rumors", "err", err)
	}
	if !r.abrupt.Load() {
		// Say we are leaving, so the others show departed, not confirmed.
		meta, _ := json.Marshal(nodeMeta{Permanent: r.cfg.Permanent, Inc: r.inc, Leaving: true})
		r.mu.Lock()
		r.meta = meta
		r.mu.Unlock()
		if err := ml.UpdateNode(leaveTimeout); err != nil {
			r.log.Warn("ring: announce leaving", "err", err)
		}
		if err := ml.Leave(leaveTimeout); err != nil {
			r.log.Warn("ring: leave", "err", err)
		}
	}
	if err := ml.Shutdown(); err != nil {
		r.log.Warn("ring: shutdown", "err", err)
	}
	r.log.Info("ring: stopped", "member", r.cfg.MemberID)
	return nil
}

// loop debounces persistence until ctx ends.
func (r *Ring) loop(ctx context.Context) {
	var timer *time.Timer
	var timerC <-chan time.Time
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.persistC:
			if timerC == nil {
				timer = time.NewTimer(persistDebounce)
				timerC = timer.C
			}
		case <-timerC:
			timerC = nil
			if err := r.persist(); err != nil {
				r.log.Error("ring: persist rumors", "err", err)
			}
		}
	}
}

// pull is a join of this member's own (the first, or an early exchange):
// a push/pull whose lessons are not gossiped on.
func (r *Ring) pull(ml *memberlist.Memberlist, peers []string) (int, error) {
	r.pulling.Add(1)
	defer r.pulling.Add(-1)
	return ml.Join(peers)
}

// joinLoop joins the peers, retrying with backoff until one answers.
func (r *Ring) joinLoop(ctx context.Context, ml *memberlist.Memberlist) {
	backoff := 100 * time.Millisecond
	for {
		n, err := r.pull(ml, r.cfg.Peers)
		if n > 0 {
			r.log.Info("ring: joined", "peers", r.cfg.Peers, "contacted", n)
			return
		}
		r.log.Warn("ring: join failed, retrying", "peers", r.cfg.Peers, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// sendLoop sends big rumors to every alive member over TCP, sendParallel
// members at a time: one after the other, a 64 KiB config took ~20 ms a
// member on a loaded 2-core machine, seconds for a ring of 200.
func (r *Ring) sendLoop(ctx context.Context, ml *memberlist.Memberlist) {
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-r.sendC:
			r.sendAll(ctx, ml, msg)
		}
	}
}

// sendParallel bounds the TCP sends of one big rumor in flight at once.
const sendParallel = 8

func (r *Ring) sendAll(ctx context.Context, ml *memberlist.Memberlist, msg []byte) {
	kind := kindOf(msg)
	sem := make(chan struct{}, sendParallel)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, m := range r.Members() {
		if m.ID == r.cfg.MemberID || m.Health != Alive || m.Port == 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case sem <- struct{}{}:
		}
		wg.Go(func() {
			defer func() { <-sem }()
			n := &memberlist.Node{Name: m.ID, Addr: net.ParseIP(m.Address), Port: uint16(m.Port)}
			if err := ml.SendReliable(n, msg); err != nil {
				r.log.Warn("ring: send rumor", "to", m.ID, "err", err)
				return
			}
			r.stats.sent(kind, len(msg))
		})
	}
}

// Ready is closed once memberlist is listening.
func (r *Ring) Ready() <-chan struct{} { return r.ready }

// Addr is the bound gossip address, "" before Ready.
func (r *Ring) Addr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

// Inc is the incarnation this member announces (Config.Inc).
func (r *Ring) Inc() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inc
}

// Changed receives a value (coalesced) whenever members or rumors change.
func (r *Ring) Changed() <-chan struct{} { return r.changed }

// Departed is closed when a departure rumor names this member.
func (r *Ring) Departed() <-chan struct{} { return r.departed }

// Rumors returns every rumor known, sorted by key. Their payloads are
// the store's own (rumor.Store.Shared): read them, never change them.
func (r *Ring) Rumors() []rumor.Rumor { return r.store.Shared() }

func (r *Ring) signal() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *Ring) closeDeparted() {
	r.deptOnce.Do(func() {
		r.log.Warn("ring: this member has been departed from the ring", "member", r.cfg.MemberID)
		close(r.departed)
	})
}

// Publish originates a rumor here: a config or file must be newer than
// the one held ("version N is not higher than M"). It is merged, persisted
// (configs and files before Publish returns) and sent to every member. A
// service or departure rumor that is not newer changes nothing.
func (r *Ring) Publish(rm rumor.Rumor) error {
	if !r.live.Load() {
		return errors.New("ring: not running")
	}
	changed, err := r.store.MergeChecked(rm)
	if err != nil || !changed {
		return err
	}
	rm = r.held(rm)
	r.onChange(rm)
	if rm.Kind == rumor.KindConfig || rm.Kind == rumor.KindFile {
		if err := r.persist(); err != nil {
			return fmt.Errorf("ring: persist %s: %w", rm.Key(), err)
		}
	}
	r.disseminate(rm)
	return nil
}

// onChange follows a change of the store.
func (r *Ring) onChange(rm rumor.Rumor) {
	r.gen.Add(1)
	select {
	case r.persistC <- struct{}{}:
	default:
	}
	if rm.Kind == rumor.KindDeparture && rm.Departure.MemberID == r.cfg.MemberID {
		r.closeDeparted()
	}
	r.signal()
}

// disseminate queues a small rumor for gossip and a big one for TCP.
func (r *Ring) disseminate(rm rumor.Rumor) {
	msg, err := encodeMsg(rm)
	if err != nil {
		r.log.Error("ring: encode rumor", "key", rm.Key(), "err", err)
		return
	}
	if len(msg) <= maxGossip {
		r.queue.put(rm.Key(), msg)
		return
	}
	select {
	case r.sendC <- msg:
	default:
		r.log.Warn("ring: send queue full; anti-entropy will carry the rumor", "key", rm.Key())
	}
}

func encodeMsg(rm rumor.Rumor) ([]byte, error) {
	b, err := json.Marshal(rm)
	if err != nil {
		return nil, err
	}
	return append([]byte{msgRumor}, b...), nil
}

// receive follows the merge of a rumor from the network (raw: its JSON as
// received) and passes a new small one on.
func (r *Ring) receive(m rumor.Merged, raw []byte, size int) {
	if m.Changed {
		r.onChange(m.Rumor)
	}
	switch {
	case m.Rumor.IsElection():
		// The merge pools votes into a value neither side had: what the
		// store holds goes on. When the sender's rumor lost to ours, ours
		// goes back out so that the sender learns it (Habitat keeps a
		// losing merge hot the same way).
		if m.Changed || !bytes.Equal(m.Enc, raw) {
			r.regossip(m.Key, m.Enc)
		}
	case m.Changed && size <= maxGossip:
		r.regossip(m.Key, m.Enc)
	}
}

// held is what the store holds under rm's key after merging rm: rm itself
// for every kind but elections.
func (r *Ring) held(rm rumor.Rumor) rumor.Rumor {
	if !rm.IsElection() {
		return rm
	}
	if h, ok := r.store.Get(rm.Key()); ok {
		return h
	}
	return rm
}

// regossip queues a rumor learned from another member for gossip, if it
// fits a packet; big ones were sent to every member by their origin. enc
// is its canonical JSON as the store holds it, what encodeMsg would make.
func (r *Ring) regossip(key string, enc []byte) {
	if 1+len(enc) > maxGossip {
		return
	}
	msg := make([]byte, 0, 1+len(enc))
	r.queue.put(key, append(append(msg, msgRumor), enc...))
}

// Persisted is a member's persisted rumors (DataDir/rumors.json) read into
// a store ahead of New (Config.Persisted).
type Persisted struct {
	store *rumor.Store
	path  string
	read  bool  // the file was there and read
	err   error // reading or merging it failed (the store holds what merged)
}

// ReadPersisted reads dataDir's persisted rumors into a new store. It only
// reads: `sup run` calls it as soon as it holds the state directory's
// lock, beside the rest of its start-up, since decoding 500 services'
// rumors took 11 ms of the 57 ms before a restart's first start (perf,
// docs/BENCHMARKS.md session 12); ~1 ms of CPU since session 13 reads
// tend's own encoding without encoding/json (rumor's fastState).
func ReadPersisted(dataDir string) *Persisted {
	return readPersisted(dataDir, rumor.NewStore())
}

func readPersisted(dataDir string, st *rumor.Store) *Persisted {
	p := &Persisted{store: st, path: filepath.Join(dataDir, rumorsFile)}
	b, err := os.ReadFile(p.path)
	if errors.Is(err, os.ErrNotExist) {
		return p
	}
	if err != nil {
		p.err = fmt.Errorf("read persisted rumors: %w", err)
		return p
	}
	p.read = true
	if _, err := st.MergeEncoded(b); err != nil {
		p.err = fmt.Errorf("load persisted rumors: %w", err)
	}
	return p
}

// load merges DataDir/rumors.json into the store, unless the store holds
// them already (Config.Persisted), and says what it holds.
func (r *Ring) load() {
	p := r.cfg.Persisted
	if p == nil {
		if r.cfg.DataDir == "" {
			return
		}
		p = readPersisted(r.cfg.DataDir, r.store)
	}
	if p.err != nil {
		r.log.Error("ring: persisted rumors", "path", p.path, "err", p.err)
	}
	if !p.read {
		return
	}
	r.log.Info("ring: loaded persisted rumors", "path", p.path, "rumors", r.store.Len())
}

// persist writes the store to DataDir/rumors.json if it changed since the
// last write.
func (r *Ring) persist() error {
	if r.cfg.DataDir == "" {
		return nil
	}
	r.persistMu.Lock()
	defer r.persistMu.Unlock()
	gen := r.gen.Load()
	if gen == r.saved {
		return nil
	}
	b, err := r.store.Encode()
	if err != nil {
		return err
	}
	if err := store.WriteFile(filepath.Join(r.cfg.DataDir, rumorsFile), b, 0o600); err != nil {
		return err
	}
	r.saved = gen
	return nil
}

// Members is memberlist's view mapped to health, plus members known only
// from a departure rumor. Sorted by id.
func (r *Ring) Members() []Member {
	r.mu.Lock()
	ml := r.ml
	r.mu.Unlock()
	// Only names are read from memberlist's nodes: it changes the rest
	// under its own lock; the records hold copies made under that lock.
	live := map[string]bool{}
	if ml != nil {
		for _, n := range ml.Members() {
			live[n.Name] = true
		}
	}
	r.mu.Lock()
	known := make(map[string]nodeRec, len(r.nodes)+len(live))
	for k, v := range r.nodes {
		known[k] = *v
	}
	r.mu.Unlock()
	for name := range live {
		rec, ok := known[name]
		if !ok {
			rec = nodeRec{node: memberlist.Node{Name: name}}
		}
		rec.gone = false
		known[name] = rec
	}
	out := make([]Member, 0, len(known))
	for name, rec := range known {
		n, meta := rec.node, rec.meta
		m := Member{
			ID: name, Address: n.Addr.String(), Port: int(n.Port),
			Permanent: meta.Permanent, Incarnation: meta.Inc,
		}
		isLive := live[name]
		switch {
		case r.store.Departed(name):
			m.Health = Departed
		case isLive && rec.suspect && name != r.cfg.MemberID:
			m.Health = Suspect
		case isLive:
			m.Health = Alive
		case meta.Leaving:
			m.Health = Departed
		default:
			m.Health = Confirmed
		}
		out = append(out, m)
	}
	// Members runs every probe interval (noticeHealth): the departures
	// are read from their index, not from a copy of every rumor.
	for _, id := range r.store.DepartedMembers() {
		if _, ok := known[id]; !ok {
			out = append(out, Member{ID: id, Health: Departed})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// noticeHealth signals Changed when the members' health changed in a way
// memberlist's events do not report.
func (r *Ring) noticeHealth() {
	var digest []byte
	for _, m := range r.Members() {
		digest = append(digest, m.ID...)
		digest = append(digest, 0)
		digest = append(digest, m.Health...)
		digest = append(digest, 0)
	}
	r.mu.Lock()
	diff := string(digest) != r.health
	r.health = string(digest)
	r.mu.Unlock()
	if diff {
		r.signal()
	}
}

type nodeMeta struct {
	Permanent bool   `json:"permanent,omitempty"`
	Inc       uint64 `json:"inc,omitempty"`
	Leaving   bool   `json:"leaving,omitempty"`
}

// nodeRec is what the ring knows of a node from memberlist's events.
type nodeRec struct {
	node    memberlist.Node
	meta    nodeMeta  // node.Meta decoded
	gone    bool      // dead or left
	goneAt  time.Time // when memberlist said so
	suspect bool      // our probe failed and no ack came since
}

func (r *Ring) setSuspect(name string, on bool) {
	r.mu.Lock()
	n, ok := r.nodes[name]
	changed := ok && n.suspect != on
	if ok {
		n.suspect = on
	}
	r.mu.Unlock()
	if changed {
		r.signal()
	}
}

// kindOf names the rumor kind of a message for the stats. It runs for
// every message sent: a rumor encoded by json.Marshal starts with its kind
// (the first field of rumor.Rumor), read without decoding the rest.
func kindOf(msg []byte) string {
	const head = `{"kind":"`
	if len(msg) > 1 && msg[0] == msgRumor && bytes.HasPrefix(msg[1:], []byte(head)) {
		rest := msg[1+len(head):]
		if i := bytes.IndexByte(rest, '"'); i > 0 && bytes.IndexByte(rest[:i], '\\') < 0 {
			return string(rest[:i])
		}
	}
	var k struct {
		Kind string `json:"kind"`
	}
	if len(msg) > 1 && msg[0] == msgRumor && json.Unmarshal(msg[1:], &k) == nil && k.Kind != "" {
		return k.Kind
	}
	return "unknown"
}
