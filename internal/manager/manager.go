// Package manager is the supervisor: it owns the set of loaded services (one
// service.Runner each), keeps the spec files on disk in step with them, and
// publishes the immutable api.Snapshot the gateways read. It implements the
// control gateway's operations.
package manager

import (
	"context"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/process"
	"github.com/tend-sh/tend/internal/ring"
	"github.com/tend-sh/tend/internal/rumor"
	"github.com/tend-sh/tend/internal/service"
	"github.com/tend-sh/tend/internal/spec"
	"github.com/tend-sh/tend/internal/store"
)

// Config is how the supervisor was started.
type Config struct {
	Root     string
	StateDir string
	Org      string
	MemberID string
	Version  string
	Sys      api.Sys
	Backoff  service.Backoff
	// Startup services come from the YAML file: loaded when no spec of that
	// name exists yet (a persisted spec, with the operator's later changes,
	// wins over the file).
	Startup []api.LoadRequest
	Env     []string // environment for hooks, secrets removed
	Getenv  func(string) string
	Log     *slog.Logger
	Output  func(sg string, stream byte, line []byte)
	Reaper  *process.Reaper
	// Term asks the whole supervisor to shut down.
	Term func()
	// Ring is the gossip ring; nil runs the supervisor alone.
	Ring *ring.Ring
	// Healthy reports the supervisor's health and reasons (the monitor's
	// verdict); nil until the monitor exists.
	Healthy func() (bool, []string)
	// Settled, if set, is called once start-up is over (every service has
	// tried to start): the burst of renders, spawns and rumors is past.
	Settled func()
}

// Manager is the supervisor core.
type Manager struct {
	cfg       Config
	log       *slog.Logger
	startedAt time.Time
	specsDir  string
	sys       map[string]any // template data "sys", one map every service reads

	opMu      sync.Mutex    // one control operation at a time
	installMu sync.Mutex    // one package install at a time
	running   chan struct{} // closed once start-up has loaded every service
	settled   chan struct{} // closed once start-up is over: service.Deps.Settled

	runCtx context.Context

	mu       sync.Mutex // guards services and storeRec
	services map[string]*entry
	runners  sync.WaitGroup
	storeRec []api.Record

	snap       atomic.Pointer[api.Snapshot]
	pubMu      sync.Mutex
	gen        uint64
	lastGossip time.Time // guarded by pubMu
	dirty      chan struct{}
	ready      atomic.Bool
	shutting   atomic.Bool
	manual     atomic.Pointer[manualHealth]

	watch *watcher
	pids  *store.PIDJournal // nil: PID files are written at once
	paths *service.PathCache
	gate  chan struct{} // see service.Deps.Gate
	ring  ringState     // guarded by mu (and pubMu for lastSent)
}

type manualHealth struct {
	unhealthy bool
	reason    string
}

// entry is one loaded service.
type entry struct {
	name     string
	spec     spec.Spec
	specFile string
	specErr  string // the spec file on disk could not be used
	// pending: read from its spec file, not prepared, during start-up
	// only (loadPersisted): the start-up file names it too.
	pending bool
	runner  *service.Runner
	cancel  context.CancelFunc
}

// New prepares a manager. It does no I/O and starts nothing.
func New(cfg Config) *Manager {
	m := &Manager{
		cfg:       cfg,
		log:       cfg.Log,
		startedAt: time.Now(),
		specsDir:  filepath.Join(cfg.StateDir, "specs"),
		services:  map[string]*entry{},
		dirty:     make(chan struct{}, 1),
		running:   make(chan struct{}),
		settled:   make(chan struct{}),
		gate:      make(chan struct{}, 2*runtime.NumCPU()),
		paths:     service.NewPathCache(),
	}
	m.sys = m.sysData()
	m.ring.lastSent = map[string]rumor.Service{}
	m.ring.views = map[string]string{}
	m.manual.Store(&manualHealth{})
	m.publish()
	return m
}

// Snapshot is the latest published state; never nil.
func (m *Manager) Snapshot() *api.Snapshot { return m.snap.Load() }

// Run loads the persisted specs and the start-up services, starts them,
// marks the supervisor ready, and keeps everything running until ctx ends;
// then it stops every service (in parallel) and returns.
func (m *Manager) Run(ctx context.Context) error {
	w, err := newWatcher(m.log, filepath.Join(m.cfg.Root, "user"), m.loaded)
	if err != nil {
		return err
	}
	m.watch = w
	var bg sync.WaitGroup
	bg.Go(func() { w.run(func(name string) { m.userConfigChanged(ctx, name) }) })
	if err := w.watchRoot(); err != nil {
		m.log.Warn("new user.toml files will not be seen", "err", err)
	}
	bg.Go(func() { m.publishLoop(ctx) })
	if m.cfg.Ring != nil {
		bg.Go(func() { m.ringLoop(ctx) })
	}

	m.runCtx = ctx // before any runner or control operation can read it
	if err := service.MakeServicesDir(m.cfg.Root); err != nil {
		w.close()
		bg.Wait()
		return err
	}
	m.openPIDJournal()
	if err := m.loadPersisted(); err != nil {
		w.close()
		bg.Wait()
		return err
	}
	fromStartup := m.loadStartup(func(e *entry) {
		m.mu.Lock()
		m.watchUser(e.name)
		m.startRunner(e)
		m.mu.Unlock()
	})
	m.preparePending()
	m.mu.Lock()
	for _, e := range m.services {
		if e.cancel != nil {
			continue // started by loadStartup
		}
		m.watchUser(e.name)
		if e.runner != nil {
			m.startRunner(e)
		}
	}
	m.mu.Unlock()
	close(m.running)
	m.waitFirstAttempts(ctx)
	m.saveStartup(fromStartup)
	m.settle(ctx)
	m.ready.Store(true)
	m.publish()
	m.log.Info("supervisor ready", "services", len(m.Snapshot().Services))
	if m.cfg.Settled != nil {
		m.cfg.Settled()
	}

	<-ctx.Done()
	m.shutting.Store(true)
	m.publish()
	m.runners.Wait() // every runner stops its service when ctx ends
	w.close()
	bg.Wait()
	m.publish()
	return nil
}

// settle ends start-up for the runners: from now on they write every file
// at once, and what they left for later is written before this returns,
// so the heap and the pages that costs are given back with the rest
// (Config.Settled).
func (m *Manager) settle(ctx context.Context) {
	close(m.settled)
	for _, r := range m.loadedRunners() {
		r.Settle(ctx)
	}
	// Every pid in the journal is now in a PID file, unless shutdown cut
	// settling short: then it stays for the next supervisor.
	if m.pids != nil && ctx.Err() == nil {
		if err := m.pids.Remove(); err != nil {
			m.log.Warn("start-up pid journal not removed", "err", err)
		}
	}
}

// openPIDJournal opens STATE/STARTUP_PIDS (service.Deps.PIDs). Without it
// the runners write their PID files at once, as after start-up.
func (m *Manager) openPIDJournal() {
	j, err := store.OpenPIDJournal(filepath.Join(m.cfg.StateDir, "STARTUP_PIDS"))
	if err != nil {
		m.log.Warn("PID files are written at each start", "err", err)
		return
	}
	m.pids = j
}

// loadedRunners lists the loaded services' runners.
func (m *Manager) loadedRunners() []*service.Runner {
	m.mu.Lock()
	defer m.mu.Unlock()
	rs := make([]*service.Runner, 0, len(m.services))
	for _, e := range m.services {
		if e.runner != nil {
			rs = append(rs, e.runner)
		}
	}
	return rs
}

// waitFirstAttempts blocks until every service has tried to start once, so
// "ready" means the supervisor has done what it was asked at start-up.
func (m *Manager) waitFirstAttempts(ctx context.Context) {
	for _, r := range m.loadedRunners() {
		r.WaitAttempt(ctx, 0)
	}
}

// startRunner runs e's runner until its context is cancelled.
// Callers hold m.mu or own e exclusively.
func (m *Manager) startRunner(e *entry) {
	ctx := m.runCtx
	rctx, cancel := context.WithCancel(ctx)
	e.cancel = cancel
	r := e.runner
	m.runners.Go(func() { r.Run(rctx) })
}

// stopRunner stops e's runner and waits until its service is down.
func (m *Manager) stopRunner(e *entry) {
	if e.runner == nil {
		return
	}
	e.cancel()
	<-e.runner.Done()
}

func (m *Manager) storeRecord(ok bool, text string) {
	m.mu.Lock()
	rec := api.Record{At: time.Now(), OK: ok, Text: text}
	recs := make([]api.Record, 0, len(m.storeRec)+1)
	if len(m.storeRec) >= 32 {
		recs = append(recs, m.storeRec[1:]...)
	} else {
		recs = append(recs, m.storeRec...)
	}
	m.storeRec = append(recs, rec)
	m.mu.Unlock()
	m.changed()
}

// begin admits a control operation once start-up has loaded every service,
// and holds others off until it is done.
func (m *Manager) begin(ctx context.Context) (func(), error) {
	select {
	case <-m.running:
	case <-ctx.Done():
		return nil, api.Errorf(api.Internal, "supervisor is still starting: %v", ctx.Err())
	}
	m.opMu.Lock()
	return m.opMu.Unlock, nil
}

// loaded reports whether a service of that name is loaded.
func (m *Manager) loaded(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.services[name] != nil
}
