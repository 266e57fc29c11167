package manager

import (
	"context"
	"fmt"
	"path"
	"reflect"
	"slices"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/census"
	"github.com/tend-sh/tend/internal/ring"
	"github.com/tend-sh/tend/internal/rumor"
	"github.com/tend-sh/tend/internal/service"
	"github.com/tend-sh/tend/internal/spec"
	"github.com/tend-sh/tend/internal/svccfg"
)

// Ring is what the manager needs of the gossip ring (*ring.Ring), so that
// it can be tested with a fake.
type Ring interface {
	// Rumors lists every rumor; their payloads must not be changed.
	Rumors() []rumor.Rumor
	Members() []ring.Member
	Stats() ring.Stats
	Publish(rumor.Rumor) error
	// Changed is signalled when rumors or members changed.
	Changed() <-chan struct{}
	// Departed is closed when this member was departed from the ring.
	Departed() <-chan struct{}
}

// ringState is what the owner keeps of the ring.
type ringState struct {
	snap    *api.Ring
	records []api.Record
	views   map[string]string // service name -> viewKey of the view it was handed
}

// startupGossipEvery spaces the gossip of service rumors during start-up:
// until the supervisor is ready (every service has tried to start), the
// ring hears of its services at most this often. A start-up shorter than
// this (500 services on 2 cores take under a second) gossips each service
// once, as ready, with the state it reached, instead of also once or twice
// mid-way: each rumor is encoded, merged and queued on the cores the
// services are being started on (10 % of the supervisor's CPU until the
// last start, restarting 500: docs/BENCHMARKS.md, session 8). A longer one
// still tells the ring every 2 s.
const startupGossipEvery = 2 * time.Second

// gossipState is the ring loop's own: what it told the ring.
type gossipState struct {
	// lastSent: service group -> last service rumor published; by
	// pointer, the one handed to the ring, not a second copy of each.
	lastSent   map[string]*rumor.Service
	lastStatus map[string]*api.Service // service group -> status gossiped last
	lastGossip time.Time
	members    map[string]string // member id -> health, to record changes
	elections  *electionState
}

// ringLoop folds the ring into the census whenever it changes and hands it
// to the owner (which gives each service its view), gossips the local
// services' statuses the owner publishes, and stops the supervisor when
// this member is departed.
func (m *Manager) ringLoop(ctx context.Context) {
	r := m.cfg.Ring
	g := &gossipState{lastSent: map[string]*rumor.Service{}, elections: newElectionState()}
	departed := r.Departed()
	// Traffic counters move without the ring changing; refresh them now and
	// then for /metrics and /status (one timer, whatever the service count).
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	// A burst of rumors (500 services loading) folds once per 100 ms, not
	// once per rumor: each fold visits every local service. A fold also
	// visits every rumor of the ring (census.Build alone is ~0.35 ms at
	// 200 members), and a forming ring changes all the time; folds are
	// spaced by foldSpacing times the last one's duration, so folding
	// takes at most a twentieth of the time. On a host that gives tend a
	// sliver of a core (wall time far above CPU time) the census then
	// follows the ring less often, up to every maxFoldGap, instead of
	// taking the CPU its services and its probes need: at 200 members on
	// 2 cores, folds ten times a second were 18 % of three sampled
	// members' CPU while the ring failed to form (bench/ring, issue 14).
	last := time.Now()
	m.foldRing(g)
	gap := foldGap(time.Since(last))
	// Until ready, gossip at most every startupGossipEvery: a service's
	// rumor changes several times as it starts (loaded, spawned, up), and
	// each is encoded, merged and queued while hundreds of services start;
	// the ring learns the state they reached a moment later instead.
	held := time.NewTimer(0)
	<-held.C
	defer held.Stop()
	var pending *gossipBatch
	gossip := func(b gossipBatch) {
		if !b.ready && b.taken.Sub(g.lastGossip) < startupGossipEvery {
			if pending == nil {
				held.Reset(startupGossipEvery - b.taken.Sub(g.lastGossip))
			}
			pending = &b
			return
		}
		pending = nil
		g.lastGossip = b.taken
		m.gossipServices(g, b.statuses)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-m.gossip:
			gossip(b)
		case <-held.C:
			if pending != nil {
				b := *pending
				b.ready = true // held long enough
				gossip(b)
			}
		case <-m.ringPing:
			m.ringBeat.Store(time.Now().UnixNano())
		case <-tick.C:
			m.refreshRingStats()
		case <-r.Changed():
			if wait := gap - time.Since(last); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
			last = time.Now()
			m.foldRing(g)
			gap = foldGap(time.Since(last))
		case <-departed:
			departed = nil
			m.log.Warn("this member was departed from the ring; stopping its services and exiting")
			m.ringRecord(false, "departed from the ring")
			if m.cfg.Term != nil {
				m.cfg.Term()
			}
		}
	}
}

const (
	foldCoalesce = 100 * time.Millisecond
	foldSpacing  = 20
	maxFoldGap   = time.Second
)

// foldGap is the least time from the start of a fold that took took to
// the start of the next.
func foldGap(took time.Duration) time.Duration {
	return min(max(foldCoalesce, foldSpacing*took), maxFoldGap)
}

// foldRing builds the census from the ring and hands it to the owner,
// which gives every service whose view changed its new one.
func (m *Manager) foldRing(g *gossipState) {
	r := m.cfg.Ring
	in := census.Input{LocalID: m.cfg.MemberID, Rumors: r.Rumors()}
	var members []api.Member
	health := map[string]string{}
	var changes []api.Record
	for _, mb := range r.Members() {
		in.Members = append(in.Members, census.Member{ID: mb.ID, Health: mb.Health, Address: mb.Address, Port: mb.Port, Permanent: mb.Permanent, Incarnation: mb.Incarnation})
		members = append(members, api.Member{ID: mb.ID, Address: mb.Address, Port: mb.Port, Health: mb.Health, Permanent: mb.Permanent})
		health[mb.ID] = mb.Health
		if old, ok := g.members[mb.ID]; !ok || old != mb.Health {
			m.memberEvent(mb.ID, mb.Health, old)
			changes = append(changes, api.Record{At: time.Now(), OK: mb.Health == "alive", Text: fmt.Sprintf("member %s is %s", mb.ID, mb.Health)})
		}
	}
	g.members = health
	c := census.Build(in)
	m.census.Store(c)
	st := r.Stats()
	leaders := map[string]uint64{} // leader-topology groups here -> suitability
	rolling := map[string]string{} // rolling-update groups here -> topology
	m.call(func(o *owned) {
		rs := &o.ring
		for _, rec := range changes {
			rs.record(rec)
		}
		rs.snap = &api.Ring{
			Members: members, Census: api.NewEncodedDoc(c.EncodeJSON), Butterfly: lazyJSON(func() any { return census.Butterfly(in) }), Records: rs.records,
		}
		setRingStats(rs.snap, st)
		for _, e := range o.services {
			if e.runner == nil {
				continue
			}
			s := e.runner.Status()
			if s.Topology == "leader" {
				leaders[s.ServiceGroup] = e.runner.Suitability()
			}
			if s.UpdateStrategy == "rolling" {
				rolling[s.ServiceGroup] = s.Topology
			}
			key := viewKey(c, s)
			if rs.views[e.name] == key {
				continue
			}
			rs.views[e.name] = key
			v := m.viewFor(c, s)
			v.Key = key
			e.runner.SetRing(v)
		}
		m.changed()
	})
	if len(rolling) > 0 {
		m.runUpdateElections(c, rolling)
		m.wakeUpdates()
	}
	recs, elections := m.runElections(g.elections, c, leaders)
	if len(recs) == 0 && len(elections) == 0 {
		return // no leader-topology service here: nothing to show
	}
	m.call(func(o *owned) {
		for _, rec := range recs {
			o.ring.record(rec)
		}
		if o.ring.snap != nil {
			// A new snapshot value: the one published may be being read.
			cp := *o.ring.snap
			cp.Records, cp.Elections = o.ring.records, elections
			o.ring.snap = &cp
		}
		m.changed()
	})
}

// viewKey names what a service's view is built from (its group's and its
// bound groups' digests), so a fold that changed none of them builds no
// view: with hundreds of services, building and comparing every view on
// every fold was most of a start-up's CPU.
func viewKey(c *census.Census, s *api.Service) string {
	digest := func(sg string) string {
		if g := c.Group(sg); g != nil {
			return g.Digest()
		}
		return "-"
	}
	key := digest(s.ServiceGroup)
	for _, b := range s.Binds {
		if _, sg, err := spec.ParseBind(b); err == nil {
			key += "\x00" + b + "\x00" + digest(sg)
		}
	}
	return key
}

// refreshRingStats republishes the ring's traffic counters without
// folding the census again: an idle supervisor with hundreds of services
// must not rebuild their views every few seconds.
func (m *Manager) refreshRingStats() {
	st := m.cfg.Ring.Stats()
	m.call(func(o *owned) {
		if o.ring.snap != nil {
			cp := *o.ring.snap
			setRingStats(&cp, st)
			o.ring.snap = &cp
		}
		m.changed()
	})
}

func setRingStats(snap *api.Ring, st ring.Stats) {
	snap.MsgsSent, snap.MsgsRecv = map[string]uint64{}, map[string]uint64{}
	snap.BytesSent, snap.BytesRecv = map[string]uint64{}, map[string]uint64{}
	for kind, t := range st.Kinds {
		snap.MsgsSent[kind], snap.MsgsRecv[kind] = t.MsgsSent, t.MsgsRecv
		snap.BytesSent[kind], snap.BytesRecv[kind] = t.BytesSent, t.BytesRecv
	}
}

// viewFor derives what one service sees of the ring.
func (m *Manager) viewFor(c *census.Census, s *api.Service) service.RingView {
	var v service.RingView
	if c == nil {
		return v
	}
	if s.Topology == "leader" {
		v.ElectionWait = electionWait(c.Group(s.ServiceGroup))
	}
	if g := c.Group(s.ServiceGroup); g != nil {
		v.Svc = func() map[string]any { return g.SvcData(m.cfg.MemberID) }
		if inc, body, ok := g.Config(); ok {
			if cfg, err := svccfg.ParseTOML(s.ServiceGroup+" config version "+fmt.Sprint(inc), body); err == nil {
				v.Gossip, v.GossipInc = cfg, inc
			}
		}
		for _, f := range g.Files() {
			v.Files = append(v.Files, service.File{Name: f.Filename, Incarnation: f.Incarnation, Body: f.Body})
		}
	}
	for _, b := range s.Binds {
		name, sg, err := spec.ParseBind(b)
		if err != nil {
			continue
		}
		var exports []string
		optional := true
		for _, pb := range s.AllPkgBinds {
			if pb.Service == name {
				exports, optional = pb.Exports, pb.Optional
			}
		}
		if g := c.Group(sg); g != nil && g.Satisfies(exports) {
			if v.Binds == nil {
				v.Binds = map[string]any{}
			}
			v.Binds[name] = g.BindData()
		} else if !optional {
			v.Unsatisfied = append(v.Unsatisfied, name)
		}
	}
	return v
}

// initialView is the ring's view for a service about to be loaded, so a
// strict bind holds its first start.
func (m *Manager) initialView(s *api.Service) service.RingView {
	c := m.census.Load()
	if c == nil {
		c = census.Build(census.Input{LocalID: m.cfg.MemberID})
	}
	v := m.viewFor(c, s)
	v.Key = viewKey(c, s)
	return v
}

// gossipServices publishes a service rumor for each local service whose
// gossiped state changed since the last one, and says a service is gone
// when it is no longer among them (unloaded, or loaded into another
// group). Ring loop only.
func (m *Manager) gossipServices(g *gossipState, services []*api.Service) {
	seen := make(map[string]*api.Service, len(services))
	for _, s := range services {
		seen[s.ServiceGroup] = s
		// Statuses are immutable: the same pointer means nothing changed,
		// so an idle supervisor skips every service here.
		if g.lastStatus[s.ServiceGroup] == s || s.SpecError != "" {
			continue
		}
		r := &rumor.Service{
			MemberID: m.cfg.MemberID, ServiceGroup: s.ServiceGroup, Package: s.Pkg.Ident,
			Cfg: s.Exported, Sys: m.cfg.Sys.Rumor(), Initialized: s.Initialized,
			Health: string(s.Health), Up: s.Running,
			NotReady: s.Readiness != "" && !s.Ready,
		}
		last, ok := g.lastSent[s.ServiceGroup]
		if ok {
			r.Incarnation = last.Incarnation
			if reflect.DeepEqual(last, r) {
				continue
			}
		}
		r.Incarnation = nextIncarnation(r.Incarnation)
		if err := m.cfg.Ring.Publish(rumor.Rumor{Kind: rumor.KindService, Service: r}); err != nil {
			m.log.Warn("service rumor not published", "service", s.ServiceGroup, "err", err)
			delete(seen, s.ServiceGroup) // try again at the next publish
			continue
		}
		g.lastSent[s.ServiceGroup] = r
	}
	g.lastStatus = seen
	for sg, last := range g.lastSent {
		if _, ok := seen[sg]; !ok {
			m.gossipGone(g, sg, last)
		}
	}
}

// gossipGone tells the ring a service was unloaded.
func (m *Manager) gossipGone(g *gossipState, sg string, last *rumor.Service) {
	r := rumor.Service{MemberID: m.cfg.MemberID, ServiceGroup: sg, Package: last.Package, Sys: m.cfg.Sys.Rumor(), Gone: true, Incarnation: nextIncarnation(last.Incarnation)}
	if err := m.cfg.Ring.Publish(rumor.Rumor{Kind: rumor.KindService, Service: &r}); err != nil {
		m.log.Warn("unload not gossiped", "service", sg, "err", err)
		return // said again at the next publish
	}
	delete(g.lastSent, sg)
}

// nextIncarnation grows with the clock, so a restarted supervisor (which
// forgot its counters) still outranks what it said before.
func nextIncarnation(last uint64) uint64 {
	now := uint64(time.Now().UnixNano())
	if now <= last {
		return last + 1
	}
	return now
}

func (m *Manager) ringRecord(ok bool, text string) {
	m.call(func(o *owned) {
		o.ring.record(api.Record{At: time.Now(), OK: ok, Text: text})
		m.changed()
	})
}

// record keeps one of the last 32 records of the ring.
func (rs *ringState) record(rec api.Record) {
	recs := rs.records
	if len(recs) >= 32 {
		recs = recs[1:]
	}
	rs.records = append(slices.Clip(recs), rec)
}

// ConfigApply pushes config to a service group (config apply).
func (m *Manager) ConfigApply(ctx context.Context, req api.ConfigApply, progress func(string)) (err error) {
	defer func() { m.control("config apply", fmt.Sprintf("%s version %d", req.ServiceGroup, req.Version), err) }()
	if err := checkGroup(req.ServiceGroup); err != nil {
		return err
	}
	if len(req.Config) > svccfg.MaxSize {
		return api.Errorf(api.TooLarge, "config is %d bytes; the limit is %d", len(req.Config), svccfg.MaxSize)
	}
	if _, err := svccfg.ParseTOML("config", req.Config); err != nil {
		return api.Errorf(api.BadRequest, "%v", err)
	}
	r := rumor.Config{ServiceGroup: req.ServiceGroup, Incarnation: req.Version, FromID: m.cfg.MemberID, Config: req.Config}
	if err := m.cfg.Ring.Publish(rumor.Rumor{Kind: rumor.KindConfig, Config: &r}); err != nil {
		return api.Errorf(api.Conflict, "%v", err)
	}
	progress(fmt.Sprintf("Applied config version %d to %s", req.Version, req.ServiceGroup))
	return nil
}

// FileUpload pushes a file to a service group (file upload).
func (m *Manager) FileUpload(ctx context.Context, req api.FileUpload, progress func(string)) (err error) {
	defer func() {
		m.control("file upload", fmt.Sprintf("%s %s version %d", req.ServiceGroup, req.Filename, req.Version), err)
	}()
	if err := checkGroup(req.ServiceGroup); err != nil {
		return err
	}
	if req.Filename == "" || path.Base(req.Filename) != req.Filename || req.Filename == "." || req.Filename == ".." {
		return api.Errorf(api.BadRequest, "file name %q must be a plain base name", req.Filename)
	}
	if len(req.Body) > svccfg.MaxSize {
		return api.Errorf(api.TooLarge, "file is %d bytes; the limit is %d", len(req.Body), svccfg.MaxSize)
	}
	r := rumor.File{ServiceGroup: req.ServiceGroup, Filename: req.Filename, Incarnation: req.Version, FromID: m.cfg.MemberID, Body: req.Body}
	if err := m.cfg.Ring.Publish(rumor.Rumor{Kind: rumor.KindFile, File: &r}); err != nil {
		return api.Errorf(api.Conflict, "%v", err)
	}
	progress(fmt.Sprintf("Uploaded %s version %d to %s", req.Filename, req.Version, req.ServiceGroup))
	return nil
}

// Depart tells the ring a member has left for good.
func (m *Manager) Depart(ctx context.Context, memberID string, progress func(string)) (err error) {
	defer func() { m.control("depart", memberID, err) }()
	if err := m.cfg.Ring.Publish(rumor.Rumor{Kind: rumor.KindDeparture, Departure: &rumor.Departure{MemberID: memberID}}); err != nil {
		return api.Errorf(api.BadRequest, "%v", err)
	}
	progress(fmt.Sprintf("Member %s departed", memberID))
	return nil
}

// checkGroup refuses a service group that is not name.group[@org].
func checkGroup(sg string) error {
	if _, _, _, err := spec.ParseServiceGroup(sg); err != nil {
		return api.Errorf(api.BadRequest, "%v", err)
	}
	return nil
}

// lazyJSON is the document f builds, built when first served.
func lazyJSON(f func() any) *api.Doc { return api.NewDoc(f) }
