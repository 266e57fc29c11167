package manager

import (
	"context"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// changed asks for a new snapshot; it never blocks (runners call it).
func (m *Manager) changed() {
	select {
	case m.dirty <- struct{}{}:
	default:
	}
}

// publishLoop rebuilds the snapshot when something changed, at most every
// 10 ms: 500 services starting at once make one snapshot per tick, not 500.
// Until start-up is over (ready) it waits 100 ms between snapshots: each
// copies every status and gossips what changed, and while hundreds of
// services start that work competes with starting them for the CPU, for a
// snapshot nobody is waiting on (the supervisor is not ready).
func (m *Manager) publishLoop(ctx context.Context) {
	const coalesce, coalesceStarting = 10 * time.Millisecond, 100 * time.Millisecond
	t := time.NewTimer(0)
	<-t.C
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.dirty:
		}
		m.publish()
		if m.ready.Load() {
			t.Reset(coalesce)
		} else {
			t.Reset(coalesceStarting)
		}
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// publish builds and swaps in a fresh snapshot.
func (m *Manager) publish() {
	m.pubMu.Lock()
	defer m.pubMu.Unlock()
	m.gen++
	mh := m.manual.Load()
	s := &api.Snapshot{
		Generation:   m.gen,
		Taken:        time.Now(),
		Ready:        m.ready.Load(),
		ShuttingDown: m.shutting.Load(),
		Sup: api.Supervisor{
			MemberID:        m.cfg.MemberID,
			PID:             os.Getpid(),
			StartedAt:       m.startedAt,
			Version:         m.cfg.Version,
			Org:             m.cfg.Org,
			Root:            m.cfg.Root,
			StateDir:        m.cfg.StateDir,
			SpecsPath:       m.specsDir,
			DataPath:        m.cfg.StateDir + "/data",
			MemberIDFile:    m.cfg.StateDir + "/MEMBER_ID",
			LockFile:        m.cfg.StateDir + "/LOCK",
			Sys:             m.cfg.Sys,
			ManualUnhealthy: mh.unhealthy,
			ManualReason:    mh.reason,
			MinBackoff:      m.cfg.Backoff.Min,
			MaxBackoff:      m.cfg.Backoff.Max,
			Cooldown:        m.cfg.Backoff.Cooldown,
		},
	}
	m.mu.Lock()
	all := make([]*api.Service, 0, len(m.services))
	statuses := make([]*api.Service, 0, len(m.services))
	for _, e := range m.services {
		if e.pending {
			continue // shown once prepared, moments later
		}
		if e.runner != nil {
			st := e.runner.Status()
			statuses = append(statuses, st)
			all = append(all, st)
			continue
		}
		b := brokenService(e, m.cfg.Org)
		all = append(all, &b)
	}
	s.StoreRecords = m.storeRec
	s.Ring = m.ring.snap
	m.mu.Unlock()
	// Sorted as pointers: swapping whole services is most of a sort's cost.
	slices.SortFunc(all, func(a, b *api.Service) int { return strings.Compare(a.ServiceGroup, b.ServiceGroup) })
	s.Services = make([]api.Service, len(all))
	for i, st := range all {
		s.Services[i] = *st
	}
	m.snap.Store(s)
	// Until ready, gossip at most every startupGossipEvery: a service's
	// rumor changes several times as it starts (loaded, spawned, up), and
	// each is encoded, merged and queued while hundreds of services start;
	// the ring learns the state they reached a moment later instead.
	if !s.Ready && s.Taken.Sub(m.lastGossip) < startupGossipEvery {
		m.changed() // publish again soon, so what was held back goes out
		return
	}
	m.lastGossip = s.Taken
	m.gossipServices(statuses)
}

// startupGossipEvery spaces the gossip of service rumors during start-up.
const startupGossipEvery = 500 * time.Millisecond

// brokenService describes a service whose spec file could not be used.
func brokenService(e *entry, org string) api.Service {
	group := e.spec.Group
	if group == "" {
		group = "default"
	}
	sg := e.name + "." + group
	if org != "" {
		sg += "@" + org
	}
	return api.Service{
		Name: e.name, Group: group, Org: org, ServiceGroup: sg,
		SpecIdent: e.spec.Ident, SpecFile: e.specFile, DesiredUp: true,
		Topology: "standalone", UpdateStrategy: "none", UpdateCondition: "latest", BindingMode: "strict",
		SpecError: e.specErr, Health: api.HealthCritical, StartError: e.specErr,
		Records: []api.Record{{At: time.Now(), OK: false, Text: e.specErr}},
	}
}
