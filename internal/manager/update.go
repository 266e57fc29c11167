package manager

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/pkg"
	"github.com/tend-sh/tend/internal/update"
)

// defaultUpdatePeriod is Habitat's --service-update-period.
const defaultUpdatePeriod = time.Minute

// updater is the update loop's own state.
type updater struct {
	source  []update.Candidate // the update source as last scanned
	skipped map[string]bool    // source entries already logged as unusable
	// waiting: why each rolling service last did not take its turn, so a
	// reason is logged once.
	waiting map[string]string
	// failed: the last failure of each service's update, so one that
	// repeats at every poll or ring change is logged once.
	failed map[string]string
}

// updateLoop moves services with an update strategy to newer packages:
// every period (plus a random splay, so members sharing one source do not
// all read it at once) it scans the update source and looks at what is
// installed; between periods, a wake (a ring change, for rolling updates)
// runs the decisions again on what it last scanned.
func (m *Manager) updateLoop(ctx context.Context) {
	select {
	case <-m.running:
	case <-ctx.Done():
		return
	}
	period := m.cfg.UpdatePeriod
	if period <= 0 {
		period = defaultUpdatePeriod
	}
	u := &updater{skipped: map[string]bool{}, waiting: map[string]string{}, failed: map[string]string{}}
	t := time.NewTimer(splay(period))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			u.scan(m)
			m.runUpdates(ctx, u, true)
			t.Reset(period + splay(period))
		case <-m.updates:
			m.runUpdates(ctx, u, false)
		}
	}
}

// splay is a random wait of up to a quarter of period.
func splay(period time.Duration) time.Duration {
	return time.Duration(rand.Int64N(int64(period/4) + 1))
}

// wakeUpdates asks the update loop to decide again now.
func (m *Manager) wakeUpdates() {
	select {
	case m.updates <- struct{}{}:
	default:
	}
}

// scan reads the update source, logging each unusable entry once.
func (u *updater) scan(m *Manager) {
	if m.cfg.UpdateSource == "" {
		return
	}
	found, skipped, err := update.Scan(m.cfg.UpdateSource)
	if err != nil {
		m.log.Warn("update source not read", "err", err)
		return
	}
	for _, e := range skipped {
		if !u.skipped[e.Error()] {
			u.skipped[e.Error()] = true
			m.log.Warn("update source entry skipped", "err", e)
		}
	}
	u.source = found
}

// updatable is a loaded service with an update strategy.
type updatable struct {
	e        *entry
	fuzzy    ident.Ident // what its spec asks for
	running  ident.Ident // the package it runs
	strategy string
	cond     string
}

// updatables lists the loaded services with an update strategy.
func (m *Manager) updatables() []updatable {
	var out []updatable
	m.call(func(o *owned) {
		for _, e := range o.services {
			if e.runner == nil || e.specErr != "" || e.gone || e.spec.UpdateStrategy == "" || e.spec.UpdateStrategy == "none" {
				continue
			}
			fuzzy, err := ident.Parse(e.spec.Ident)
			if err != nil {
				continue
			}
			running, err := ident.Parse(e.runner.Package())
			if err != nil {
				continue
			}
			out = append(out, updatable{e: e, fuzzy: fuzzy, running: running, strategy: e.spec.UpdateStrategy, cond: e.spec.UpdateCondition})
		}
	})
	return out
}

// runUpdates takes each service's update step. Looking for newer packages
// (reading what is installed) is done on the periodic polls only; a wake
// between them (a ring change) only moves rolling services whose turn came.
func (m *Manager) runUpdates(ctx context.Context, u *updater, polled bool) {
	for _, s := range m.updatables() {
		switch s.strategy {
		case "at-once":
			if !polled {
				continue
			}
			if id, ok := m.pick(u, s, s.running); ok {
				m.moveTo(ctx, u, s, id)
			}
		case "rolling":
			m.roll(ctx, u, s, polled)
		}
	}
}

// pick is the package s should move to from base, by its update
// condition, from the source and what is installed.
func (m *Manager) pick(u *updater, s updatable, base ident.Ident) (ident.Ident, bool) {
	src, inSource := update.Newest(u.source, s.fuzzy)
	var installed ident.Ident
	p, err := pkg.Find(m.cfg.Root, s.fuzzy)
	if err == nil {
		installed = p.Ident
	}
	return update.Pick(s.cond, base, src.Ident, inSource, installed, err == nil)
}

// fetch installs id from the update source unless it is installed, and
// returns it.
func (m *Manager) fetch(u *updater, id ident.Ident) (*pkg.Package, error) {
	if p, err := pkg.Find(m.cfg.Root, id); err == nil {
		return p, nil
	} else if !errors.Is(err, pkg.ErrNotFound) {
		return nil, err
	}
	c, ok := findCandidate(u.source, id)
	if !ok {
		u.scan(m) // it may have arrived since the last scan
		if c, ok = findCandidate(u.source, id); !ok {
			return nil, errNotInSource
		}
	}
	m.installMu.Lock()
	defer m.installMu.Unlock()
	return update.Install(m.cfg.Root, c)
}

var errNotInSource = errors.New("neither installed nor in the update source")

func findCandidate(cs []update.Candidate, id ident.Ident) (update.Candidate, bool) {
	for _, c := range cs {
		if c.Ident == id {
			return c, true
		}
	}
	return update.Candidate{}, false
}

// moveTo installs id if need be and restarts s on it. It holds the
// service's control lock, so it does not interleave with svc operations.
func (m *Manager) moveTo(ctx context.Context, u *updater, s updatable, id ident.Ident) {
	p, err := m.fetch(u, id)
	if err != nil {
		u.fail(m, s.e.name, "package update not installed", id, err)
		return
	}
	done, err := m.begin(ctx, s.e.name)
	if err != nil {
		return
	}
	defer done()
	if m.current(s.e.name) != s.e {
		return // unloaded or replaced meanwhile
	}
	m.log.Info("package update", "service", s.e.runner.ServiceGroup(), "from", s.running.String(), "to", id.String(), "strategy", s.strategy)
	if err := s.e.runner.UpdatePackage(ctx, p); err != nil {
		u.fail(m, s.e.name, "package update refused", id, err)
		return
	}
	delete(u.failed, s.e.name)
}

// fail logs why a service's update failed, once for each new reason.
func (u *updater) fail(m *Manager, name, what string, id ident.Ident, err error) {
	key := what + id.String() + err.Error()
	if u.failed[name] == key {
		return
	}
	u.failed[name] = key
	m.log.Warn(what, "service", name, "package", id.String(), "err", err)
}
