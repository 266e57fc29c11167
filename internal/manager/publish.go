package manager

import (
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

// gossipBatch is what the ring loop gossips from: the local services'
// statuses as one snapshot had them.
type gossipBatch struct {
	ready    bool
	taken    time.Time
	statuses []*api.Service
}

// publish builds and swaps in a fresh snapshot, and hands its statuses to
// the ring loop (which gossips them); it does nothing else. Owner only.
func (m *Manager) publish(o *owned) {
	o.gen++
	s := &api.Snapshot{
		Generation:   o.gen,
		Taken:        time.Now(),
		Ready:        o.ready,
		ShuttingDown: o.shutting,
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
			ManualUnhealthy: o.manual.unhealthy,
			ManualReason:    o.manual.reason,
			MinBackoff:      m.cfg.Backoff.Min,
			MaxBackoff:      m.cfg.Backoff.Max,
			Cooldown:        m.cfg.Backoff.Cooldown,
			ProcessTracking: m.trackingText(),
		},
		StoreRecords: o.storeRec,
		Ring:         o.ring.snap,
	}
	all := make([]*api.Service, 0, len(o.services))
	statuses := make([]*api.Service, 0, len(o.services))
	for _, e := range o.services {
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
	// The statuses themselves, not copies: a status is immutable, and a
	// copy of each per snapshot was 0.4 MB held and as much again made
	// at every publish with 500 services.
	slices.SortFunc(all, func(a, b *api.Service) int { return strings.Compare(a.ServiceGroup, b.ServiceGroup) })
	s.Services = all
	m.snap.Store(s)
	offer(m.gossip, gossipBatch{ready: s.Ready, taken: s.Taken, statuses: statuses})
}

// offer puts v in ch (capacity 1), replacing what its reader has not taken
// yet; it never blocks. One goroutine only may offer to ch.
func offer[T any](ch chan T, v T) {
	for {
		select {
		case ch <- v:
			return
		default:
			select {
			case <-ch:
			default:
			}
		}
	}
}

// publishNow publishes and returns a snapshot that includes every change
// made so far, for callers that must not see a state older than their own
// request.
func (m *Manager) publishNow() *api.Snapshot {
	m.call(m.publish)
	return m.Snapshot()
}

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
