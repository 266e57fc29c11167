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
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/census"
	"github.com/tend-sh/tend/internal/cgroup"
	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/hook"
	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/logfile"
	"github.com/tend-sh/tend/internal/service"
	"github.com/tend-sh/tend/internal/spec"
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
	Logs     logfile.Limits // each service's log files, where its spec sets none
	// Startup services come from the YAML file: loaded when no spec of that
	// name exists yet (a persisted spec, with the operator's later changes,
	// wins over the file).
	Startup []api.LoadRequest
	// StartupFound is the installed package each of Startup's Pkg names
	// resolved to when sup run checked the file (by Pkg), so that start-up
	// does not list every package's versions a second time.
	StartupFound map[string]ident.Ident
	Env          []string // environment for hooks, secrets removed
	Getenv       func(string) string
	Log          *slog.Logger
	Output       func(sg string, stream byte, line []byte)
	// Reaper starts every service's processes and hooks:
	// hook.Reaper(*process.Reaper), or a fake in tests.
	Reaper hook.Starter
	// Term asks the whole supervisor to shut down.
	Term func()
	// Events are a predecessor's latest events (`sup restart`): the
	// stream keeps them and numbers on after them.
	Events []events.Event
	// Carried is the services' status a predecessor handed over (`sup
	// restart`), by service name.
	Carried map[string]*service.Carried
	// StoreRecords and RingRecords are a predecessor's own /status
	// records (`sup restart`), kept as this supervisor's first.
	StoreRecords, RingRecords []api.Record
	// Handover checks binary and, if it passes, begins the supervisor's
	// re-execution as it (`sup restart`); nil: not supported.
	Handover func(ctx context.Context, binary string, progress func(string)) error
	// Ring is the gossip ring (*ring.Ring): every supervisor has one.
	Ring Ring
	// Healthy reports the supervisor's health and reasons (the monitor's
	// verdict); nil until the monitor exists.
	Healthy func() (bool, []string)
	// Settled, if set, is called once start-up is over (every service has
	// tried to start): the burst of renders, spawns and rumors is past.
	Settled func()
	// Cgroups is cgroup.Auto or cgroup.Off (see trackProcesses).
	Cgroups string
	// Privileged says the supervisor runs as root: services run as their
	// package's SVC_USER (service.Deps.Privileged).
	Privileged bool
	// Heartbeat is how often the owner and ring loops are asked to answer
	// (Loops); 0 means a second.
	Heartbeat time.Duration
	// UpdateSource is the directory services with an update strategy take
	// newer packages from ("" = only what is installed under Root);
	// UpdatePeriod how often it is looked at (0: a minute), plus a
	// random splay of up to a quarter of it.
	UpdateSource string
	UpdatePeriod time.Duration
	// Specs, when set, returns the state directory's spec files read
	// ahead (ReadSpecs), waiting for them if need be; nil: Run reads them.
	Specs func() *Specs
	// NewWatcher makes the watcher of the services' user.toml files; nil:
	// InotifyWatcher, the one `sup run` uses.
	NewWatcher NewWatcherFunc
}

// Manager is the supervisor core. Like a service.Runner, one goroutine
// (own, started by Run) owns its state: the loaded services, the records,
// what it keeps of the ring, and the snapshot it publishes. Everything
// else reaches that state through call, with a function the owner runs;
// what takes long (waiting for a runner to stop or to start) is done by
// the caller outside, between calls, so the owner never waits on a
// service.
type Manager struct {
	cfg       Config
	log       *slog.Logger
	startedAt time.Time
	// handoverErr is why the last hand-over failed (HandoverFailed).
	handoverErr atomic.Pointer[string]
	specsDir    string
	sys         map[string]any // template data "sys", one map every service reads

	svcOps    svcLocks      // serialises the control operations on one service
	installMu sync.Mutex    // one package install at a time
	running   chan struct{} // closed once start-up has loaded every service
	settled   chan struct{} // closed once start-up is over: service.Deps.Settled

	runCtx  context.Context // the runners' context, set by Run before they start
	runners sync.WaitGroup

	ops       chan func(*owned) // to the owner
	ownerDone chan struct{}     // closed when the owner has returned
	dirty     chan struct{}     // a runner changed: publish soon
	snap      atomic.Pointer[api.Snapshot]
	census    atomic.Pointer[census.Census] // the latest fold, for views of services about to load
	gossip    chan gossipBatch              // the latest published statuses, to the ring loop
	o         owned                         // the owner's; see own

	// events is the event stream (/events, sup events): the manager's
	// own events and every runner's, numbered as they are published.
	events *events.Stream

	watch Watcher
	paths *service.PathCache
	gate  chan struct{} // see service.Deps.Gate

	// ownerBeat and ringBeat are when the loops last answered a
	// heartbeat, in Unix nanoseconds (heartbeat.go); ringPing asks the
	// ring loop.
	ownerBeat, ringBeat atomic.Int64
	ringPing            chan struct{}

	// updates wakes the updater (update.go) between its periods.
	updates chan struct{}

	// tracker finds every process of a service (cgroups.go).
	tracker *cgroup.Tracker
	// outputDir holds the run processes' output FIFOs (service.Deps.OutputDir).
	outputDir string
	tracking  atomic.Pointer[string] // tracker.Mechanism(), for the snapshot
}

// owned is the state only the owner goroutine touches (and New, before it
// runs).
type owned struct {
	services map[string]*entry
	storeRec []api.Record
	ring     ringState
	gen      uint64
	ready    bool
	shutting bool
	manual   manualHealth
}

type manualHealth struct {
	unhealthy bool
	reason    string
}

// entry is one loaded service. Its fields are the owner's, except name,
// specFile and runner, which never change.
type entry struct {
	name     string
	spec     spec.Spec
	specFile string
	specErr  string // the spec file on disk could not be used
	replaces *entry // the entry loaded when this one was prepared
	gone     bool   // unloaded or replaced: its spec file is no longer its own
	// pending: read from its spec file, not prepared, during start-up
	// only (loadPersisted): the start-up file names it too.
	pending bool
	runner  *service.Runner
	cancel  context.CancelFunc
}

// errStopped: the supervisor is no longer running.
var errStopped = api.Errorf(api.Internal, "the supervisor is shutting down")

// New prepares a manager. It does no I/O and starts nothing.
func New(cfg Config) *Manager {
	m := &Manager{
		cfg:       cfg,
		log:       cfg.Log,
		startedAt: time.Now(),
		specsDir:  filepath.Join(cfg.StateDir, "specs"),
		ops:       make(chan func(*owned)),
		ownerDone: make(chan struct{}),
		dirty:     make(chan struct{}, 1),
		gossip:    make(chan gossipBatch, 1),
		ringPing:  make(chan struct{}, 1),
		updates:   make(chan struct{}, 1),
		running:   make(chan struct{}),
		settled:   make(chan struct{}),
		gate:      make(chan struct{}, 2*runtime.NumCPU()),
		paths:     service.NewPathCache(),
		events:    events.NewStream(),
	}
	if len(cfg.Events) > 0 {
		m.events.Continue(cfg.Events, cfg.Events[len(cfg.Events)-1].ID+1)
	}
	m.sys = m.sysData()
	m.o.services = map[string]*entry{}
	m.o.ring.views = map[string]string{}
	m.o.storeRec = lastRecords(cfg.StoreRecords)
	m.o.ring.records = lastRecords(cfg.RingRecords)
	m.publish(&m.o)
	return m
}

// Snapshot is the latest published state; never nil.
func (m *Manager) Snapshot() *api.Snapshot { return m.snap.Load() }

// call runs f on the owner goroutine and returns once it has. It fails
// only when the owner has stopped.
func (m *Manager) call(f func(*owned)) error {
	done := make(chan struct{})
	select {
	case m.ops <- func(o *owned) { f(o); close(done) }:
	case <-m.ownerDone:
		return errStopped
	}
	<-done
	return nil
}

// own is the owner loop: it runs what call sends and publishes a snapshot
// when something changed, at most every 10 ms: 500 services starting at
// once make one snapshot per tick, not 500. Until start-up is over (ready)
// it waits 500 ms between snapshots: while hundreds of services start,
// copying every status competes with starting them for the CPU, for a
// snapshot nobody is waiting on (the supervisor is not ready; a control
// operation publishes its own, publishNow). At 100 ms, 500 services
// starting made 7-13 snapshots of 0.4 MB each, a fifth of what the
// supervisor allocated until ready (docs/BENCHMARKS.md, session 8).
func (m *Manager) own(ctx context.Context) {
	defer close(m.ownerDone)
	const coalesce, coalesceStarting = 10 * time.Millisecond, 500 * time.Millisecond
	t := time.NewTimer(0)
	<-t.C
	defer t.Stop()
	var last time.Time
	pending := false
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-m.ops:
			f(&m.o)
		case <-m.dirty:
			if pending {
				continue
			}
			every := coalesce
			if !m.o.ready {
				every = coalesceStarting
			}
			if wait := every - time.Since(last); wait > 0 {
				pending = true
				t.Reset(wait)
				continue
			}
			m.publish(&m.o)
			last = time.Now()
		case <-t.C:
			pending = false
			m.publish(&m.o)
			last = time.Now()
		}
	}
}

// Run loads the persisted specs and the start-up services, starts them,
// marks the supervisor ready, and keeps everything running until ctx ends;
// then it stops every service (in parallel) and returns. Whatever way it
// returns, everything it started has stopped: it cancels its own contexts
// and waits for its goroutines, so a failure in its own set-up cannot
// leave it waiting for a caller that never cancels.
func (m *Manager) Run(parent context.Context) error {
	// The owner outlives the runners, so the snapshot follows them down.
	ownCtx, stopOwner := context.WithCancel(context.Background())
	var owner sync.WaitGroup
	owner.Go(func() { m.own(ownCtx) })
	defer owner.Wait()
	defer stopOwner()
	ctx, cancel := context.WithCancel(parent)
	var bg sync.WaitGroup
	defer bg.Wait()
	defer m.untrackProcesses() // once every service has stopped
	defer m.runners.Wait()
	defer cancel()
	if err := m.trackProcesses(ctx); err != nil {
		return err
	}

	newWatcher := m.cfg.NewWatcher
	if newWatcher == nil {
		newWatcher = InotifyWatcher
	}
	w, err := newWatcher(m.log, filepath.Join(m.cfg.Root, "user"), m.loaded)
	if err != nil {
		return err
	}
	defer w.Close()
	m.watch = w
	bg.Go(func() { w.Run(m.userConfigChanged) })
	// The loops count as having answered when they start: /livez fails a
	// loop that is late (LoopStale), not one that has had no turn yet
	// while the owner is busy with start-up (it spaces its work then).
	now := time.Now().UnixNano()
	m.ownerBeat.Store(now)
	m.ringBeat.Store(now)
	bg.Go(func() { m.ringLoop(ctx) })
	bg.Go(func() { m.heartbeat(ctx) })
	bg.Go(func() { m.updateLoop(ctx) })

	m.runCtx = ctx // before any runner or control operation can read it
	if err := service.MakeServicesDir(m.cfg.Root); err != nil {
		return err
	}
	if err := m.loadPersisted(); err != nil {
		return err
	}
	fromStartup := m.loadStartup(func(e *entry) {
		m.watchUser(e.name)
		m.startRunner(e)
	})
	m.preparePending()
	m.call(func(o *owned) {
		for _, e := range o.services {
			if e.cancel != nil {
				continue // started by loadStartup
			}
			m.watchUser(e.name)
			if e.runner != nil {
				m.startRunner(e)
			}
		}
	})
	close(m.running)
	m.waitFirstAttempts(ctx)
	m.saveStartup(fromStartup)
	// The start-up file's entries are read while starting only: a host's
	// hundreds of them are not kept for the supervisor's lifetime.
	m.cfg.Startup, m.cfg.StartupFound = nil, nil
	m.settle(ctx)
	var n int
	m.call(func(o *owned) {
		o.ready = true
		m.publish(o)
		n = len(o.services)
	})
	m.log.Info("supervisor ready", "services", n)
	if m.cfg.Settled != nil {
		m.cfg.Settled()
	}

	<-ctx.Done()
	m.call(func(o *owned) {
		o.shutting = true
		m.publish(o)
	})
	m.runners.Wait() // every runner stops its service when ctx ends
	w.Close()
	bg.Wait()
	m.call(m.publish)
	m.events.Close() // the last service has stopped: followers may go
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
}

// loadedRunners lists the loaded services' runners.
func (m *Manager) loadedRunners() []*service.Runner {
	var rs []*service.Runner
	m.call(func(o *owned) {
		rs = make([]*service.Runner, 0, len(o.services))
		for _, e := range o.services {
			if e.runner != nil {
				rs = append(rs, e.runner)
			}
		}
	})
	return rs
}

// waitFirstAttempts blocks until every service has tried to start once, so
// "ready" means the supervisor has done what it was asked at start-up. A
// start whose init hook still runs has been tried: no hook holds up the
// supervisor's readiness.
func (m *Manager) waitFirstAttempts(ctx context.Context) {
	for _, r := range m.loadedRunners() {
		select {
		case <-r.Tried():
		case <-r.Done():
		case <-ctx.Done():
			return
		}
	}
}

// startRunner runs e's runner until its context is cancelled. It runs on
// the owner, which sets e.cancel once, before anyone can stop e. Once the
// supervisor is shutting down it starts nothing: Run is waiting for the
// runners it has.
func (m *Manager) startRunner(e *entry) {
	ctx := m.runCtx
	if ctx.Err() != nil {
		return // e.cancel stays nil: stopRunner has nothing to wait for
	}
	rctx, cancel := context.WithCancel(ctx)
	e.cancel = cancel
	r := e.runner
	m.runners.Go(func() { r.Run(rctx) })
}

// stopRunner stops e's runner and waits until its service is down.
func (m *Manager) stopRunner(e *entry) {
	if e.runner == nil || e.cancel == nil {
		return
	}
	e.cancel()
	<-e.runner.Done()
}

// lastRecords is a copy of the last 32 of recs.
func lastRecords(recs []api.Record) []api.Record {
	return slices.Clone(recs[max(0, len(recs)-32):])
}

// storeRecord keeps one of the last 32 records of the spec store.
func (o *owned) storeRecord(ok bool, text string) {
	rec := api.Record{At: time.Now(), OK: ok, Text: text}
	recs := make([]api.Record, 0, len(o.storeRec)+1)
	if len(o.storeRec) >= 32 {
		recs = append(recs, o.storeRec[1:]...)
	} else {
		recs = append(recs, o.storeRec...)
	}
	o.storeRec = append(recs, rec)
}

// begin admits a control operation on the service named name once
// start-up has loaded every service, and holds off other operations on
// that service until it is done.
func (m *Manager) begin(ctx context.Context, name string) (func(), error) {
	select {
	case <-m.running:
	case <-ctx.Done():
		return nil, api.Errorf(api.Internal, "supervisor is still starting: %v", ctx.Err())
	}
	return m.svcOps.lock(ctx, name)
}

// current is the entry loaded under name, or nil.
func (m *Manager) current(name string) *entry {
	var e *entry
	m.call(func(o *owned) { e = o.services[name] })
	return e
}

// loaded reports whether a service of that name is loaded.
func (m *Manager) loaded(name string) bool { return m.current(name) != nil }
