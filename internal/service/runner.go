// Package service runs one loaded service: it renders its templates, runs its
// hooks, keeps its run process alive with backoff, checks its health and
// publishes an immutable status after every change. One goroutine (Run) owns
// all of a service's state; everything else talks to it through commands.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/cgroup"
	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/hook"
	"github.com/tend-sh/tend/internal/logfile"
	"github.com/tend-sh/tend/internal/pkg"
	"github.com/tend-sh/tend/internal/process"
	"github.com/tend-sh/tend/internal/sdnotify"
	"github.com/tend-sh/tend/internal/spec"
)

// Deps is what every runner of one supervisor shares.
type Deps struct {
	// Reaper starts the run process and every hook: hook.Reaper of the
	// supervisor's *process.Reaper.
	Reaper   hook.Starter
	Log      *slog.Logger
	Output   func(sg string, stream byte, line []byte) // the run hook's output, for the supervisor log
	Root     string
	Org      string
	MemberID string
	Sys      map[string]any // template data under "sys"
	Backoff  Backoff
	Getenv   func(string) string
	Env      []string // base environment of every hook, secrets removed
	Changed  func()   // called after every status change; must not block
	// Event is handed every event of the service (state, health, restart,
	// config change); it must not block. nil: none.
	Event func(events.Event)
	// Gate bounds how many services prepare and spawn at once: hundreds of
	// goroutines all in mkdir/open/fork at once spend their time in thread
	// creation and kernel lock contention, not in work. nil = no bound.
	Gate chan struct{}
	// Settled is closed once the supervisor's start-up is over. Until
	// then a service that needs no file of hooks/ or config/ to run (its
	// run hook is exec'd directly, it has no other hook and no config
	// template) starts without them, and Settle writes them: see
	// state.owed. nil: written at once.
	Settled <-chan struct{}
	// Tracker finds every process of a service, its cgroup or its
	// marked processes; nil: only the run process's group is known (unit
	// tests).
	Tracker *cgroup.Tracker
	// Paths shares PATH searches while the supervisor starts; nil: none.
	Paths *PathCache
	// OutputDir holds the FIFOs of every run process's output
	// (NAME.stdout, NAME.stderr), the supervisor's alone (mode 0700): the
	// run process holds them open, so its output survives a supervisor
	// killed with SIGKILL and its successor reads on where it stopped.
	// "": anonymous pipes, and a process left running is never adopted.
	OutputDir string
	// Logs bounds each log file under svc/NAME/logs/ where the service's
	// spec does not; the zero value never rotates.
	Logs logfile.Limits
	// Privileged says the supervisor runs as root (effective uid 0): a
	// package's SVC_USER and SVC_GROUP are looked up, and its processes
	// run as them. false: they run as the supervisor's own user. Told
	// once rather than asked of the kernel at every start.
	Privileged bool
}

// Options describe one service.
type Options struct {
	Spec     spec.Spec
	Pkg      *pkg.Package
	SpecFile string
	Deps     Deps
	// Ring is the ring's view at load, so a strict bind is checked before
	// the first start.
	Ring RingView
	// Carried is the status a predecessor handed over (`sup restart`),
	// taken if the runner adopts the same process; nil: none.
	Carried *Carried
	// Checked is what Check made of Pkg, so New does not parse its
	// templates again; nil, or Check's of another package (an install
	// of it, at another path): New parses them.
	Checked *Checked
}

// ErrGone means the runner has stopped and takes no more commands.
var ErrGone = errors.New("service is unloaded")

// Runner owns one service.
type Runner struct {
	d        Deps
	sg       string
	cmds     chan func(context.Context, *state)
	ringCh   chan *RingView
	reconfCh chan struct{}
	done     chan struct{}
	tried    chan struct{} // closed once the first start has been made
	status   atomic.Pointer[api.Service]
	notify   atomic.Pointer[chan struct{}]
	attempts atomic.Int64 // finished start attempts, for waiters
	output   *events.Broadcaster[api.LogLine]
	// suitability is the suitability hook's last answer (Suitability).
	suitability atomic.Uint64
	// pkgIdent is the package the service runs or, after UpdatePackage,
	// is moving to (the status names it once the old process is gone).
	pkgIdent atomic.Pointer[string]
	st       *state
}

// Checked is a package that Check passed, with its parsed templates, for
// New to take.
type Checked struct {
	pkg *pkg.Package
	tpl *templates
}

// Check refuses a package whose templates do not parse, that has no run
// hook, or whose service user does not exist when a privileged supervisor
// would run it as that user (Deps.Privileged).
func Check(p *pkg.Package, privileged bool) (*Checked, error) {
	tpl, err := checkedTemplates(p)
	if err != nil {
		return nil, err
	}
	if err := checkUser(p, privileged); err != nil {
		return nil, err
	}
	return &Checked{pkg: p, tpl: tpl}, nil
}

func checkedTemplates(p *pkg.Package) (*templates, error) {
	tpl, err := parseTemplates(p)
	if err != nil {
		return nil, err
	}
	if _, ok := tpl.hooks["run"]; !ok {
		return nil, fmt.Errorf("%s: package has no run hook", p.Path)
	}
	return tpl, nil
}

// New checks a package's templates and prepares a runner. It does no I/O
// and starts nothing.
func New(o Options) (*Runner, error) {
	var tpl *templates
	if c := o.Checked; c != nil && c.pkg == o.Pkg {
		// Parsed once per load: templates are only ever read.
		tpl = c.tpl
	} else {
		var err error
		if tpl, err = checkedTemplates(o.Pkg); err != nil {
			return nil, err
		}
	}
	r := &Runner{
		d:        o.Deps,
		sg:       o.Spec.ServiceGroup(o.Deps.Org),
		cmds:     make(chan func(context.Context, *state)),
		ringCh:   make(chan *RingView, 1),
		reconfCh: make(chan struct{}, 1),
		done:     make(chan struct{}),
		tried:    make(chan struct{}),
		output:   newOutput(),
	}
	ch := make(chan struct{})
	r.notify.Store(&ch)
	r.st = &state{
		spec:     o.Spec,
		pkg:      o.Pkg,
		tpl:      tpl,
		paths:    newSvcPaths(o.Deps.Root, o.Spec.Name()),
		restarts: newRestarts(o.Deps.Backoff),
		uid:      -1,
		gid:      -1,
		ring:     o.Ring,
		carried:  o.Carried,
	}
	base := r.baseStatus(o.SpecFile)
	r.st.svc = &base
	id := o.Pkg.Ident.String()
	r.pkgIdent.Store(&id)
	r.status.Store(r.st.svc)
	r.st.svcShared = true
	return r, nil
}

// w is the status to change: the published one is copied first, as
// published statuses are never written.
func (st *state) w() *api.Service {
	if st.svcShared {
		c := *st.svc
		st.svc, st.svcShared = &c, false
	}
	return st.svc
}

// state is touched only by the Run goroutine.
type state struct {
	spec     spec.Spec
	pkg      *pkg.Package
	tpl      *templates
	paths    svcPaths
	last     *rendered
	cfg      map[string]any
	exported map[string]any // st.cfg's EXPORTS, kept with it by setCfg
	userTOML *string        // user.toml as first rendered (nil: not read yet); see userConfigChanged

	prepared bool // dirs made, credentials and environment computed
	logsMade bool
	// owed: hooks/, config/ and the rendered files in them are still to be
	// written (from st.last), by Settle.
	owed     bool
	uid, gid int
	cred     *syscall.Credential
	// envTail is what the service adds to Deps.Env (env): kept apart,
	// so that 500 services do not each hold a copy of the supervisor's
	// environment between starts.
	envTail []string

	phase     phase
	proc      hook.Process
	procDone  <-chan struct{}
	startedAt time.Time
	runLogs   *logPair
	restarts  *restarts
	restartT  *time.Timer
	restartC  <-chan time.Time

	healthT      *time.Timer
	healthC      <-chan time.Time
	healthRes    chan *healthResult // made by the first check (see resultChan)
	healthGen    int
	healthCancel context.CancelFunc
	healthOKSeen bool

	postRunCancel context.CancelFunc

	// readyC is closed when the run process says it is ready (readiness.go);
	// nil without a protocol or once taken. notify is its NOTIFY_SOCKET.
	readyC <-chan struct{}
	notify *sdnotify.Listener

	// The results of what runs in the background, each channel made by
	// the first run that needs it (resultChan).
	initRes    chan *hook.Result // the init hook
	initCancel context.CancelFunc
	stopRes    chan *stopResult // a stop
	hookRes    chan *hookDone   // reconfigure and file-updated hooks
	stopReason string
	// pkgPending: pkg was updated while a process of the old one ran;
	// the status shows it once that process is gone.
	pkgPending bool
	triedSent  bool

	bg sync.WaitGroup // hooks, health checks, stops and post-run loops in flight

	group procGroup // nil without a Tracker
	// leftRunning: a kill of the group gave up with members left (a
	// process stuck in the kernel). No start forks a new copy beside
	// them: each attempt kills again and backs off while any is left.
	leftRunning bool
	// adopt is the run process a killed supervisor left running, found by
	// track, for Run to take over instead of starting one.
	adopt *process.Adoption
	// pidFiled is the pid of the adopted run process, which its PID file
	// names already (adoptable read it), so running writes it not again.
	pidFiled int
	// carried is Options.Carried until the first adoption or start.
	carried *Carried
	ring    RingView
	files   map[string]uint64 // gossiped files written, by name
	// svc is the status, published (svcShared) or being changed: every
	// change goes through w, which copies a published one first. Holding
	// the published status itself until it changes, not a working copy
	// beside it, saves a whole status (~850 bytes) a service.
	svc       *api.Service
	svcShared bool
}

// procGroup is what the loop does with every process of the service
// (*cgroup.Group): an interface so that a test can hold a kill.
type procGroup interface {
	process.Group
	Remove() error
}

// ServiceGroup is the runner's service group.
func (r *Runner) ServiceGroup() string { return r.sg }

// Status is the latest published status; never nil, never mutated.
func (r *Runner) Status() *api.Service { return r.status.Load() }

// Attempts counts finished start attempts.
func (r *Runner) Attempts() int64 { return r.attempts.Load() }

// Done is closed when Run has returned.
func (r *Runner) Done() <-chan struct{} { return r.done }

// Run keeps the service in its desired state until ctx ends, then stops it.
// Its channels carry pointers: a value received in the select takes its own
// slot in Run's frame, and a parked runner whose frame is much over ~750 B
// keeps the 8 KiB stack its fork grew instead of shrinking back to 4 KiB.
func (r *Runner) Run(ctx context.Context) error {
	defer close(r.done)
	defer r.output.Close() // followers of the output end with the runner
	st := r.st
	defer st.bg.Wait()
	r.track(ctx, st)
	defer r.untrack(st)
	switch {
	case st.adopt != nil:
		r.adoptRun(ctx, st)
	case st.spec.Up() && r.resumeBackoff(st):
	case st.spec.Up() && r.lostInHandover(ctx, st):
	case st.spec.Up():
		r.start(ctx, st)
	default:
		r.publish(st)
		r.attemptDone()
	}
	for {
		select {
		case <-ctx.Done():
			r.shutdown(ctx, st)
			r.publish(st)
			return nil
		case f := <-r.cmds:
			f(ctx, st)
		case <-r.reconfCh:
			r.reconfigure(ctx, st, "user.toml changed")
		case res := <-st.initRes:
			r.initDone(ctx, st, res)
		case res := <-st.stopRes:
			r.stopped(ctx, st, res)
		case d := <-st.hookRes:
			r.hookFinished(ctx, st, d)
		case v := <-r.ringCh:
			r.applyRing(ctx, st, v)
		case <-st.procDone:
			r.exited(ctx, st)
		case <-st.readyC:
			r.becameReady(st)
		case <-st.restartC:
			st.restartC = nil
			r.start(ctx, st)
		case <-st.healthC:
			st.healthC = nil
			r.checkHealth(ctx, st)
		case res := <-st.healthRes:
			r.healthDone(st, res)
		}
	}
}

// do runs f on the runner's goroutine.
func (r *Runner) do(ctx context.Context, f func(context.Context, *state)) error {
	select {
	case r.cmds <- f:
		return nil
	case <-r.done:
		return ErrGone
	case <-ctx.Done():
		return ctx.Err()
	}
}

// doWait is do, returning once f has run on the loop: ErrGone when the
// runner ended first, ctx's error when ctx did.
func (r *Runner) doWait(ctx context.Context, f func(context.Context, *state)) error {
	ran := make(chan struct{})
	if err := r.do(ctx, func(ctx context.Context, st *state) { defer close(ran); f(ctx, st) }); err != nil {
		return err
	}
	select {
	case <-ran:
		return nil
	case <-r.done: // ran, then ended, or ended first
		select {
		case <-ran:
			return nil
		default:
			return ErrGone
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Settle writes what the service's start left for after the supervisor's
// start-up (Deps.Settled), and returns once that is done.
func (r *Runner) Settle(ctx context.Context) error {
	done := make(chan struct{})
	if err := r.do(ctx, func(_ context.Context, st *state) { r.settle(st); close(done) }); err != nil {
		return err
	}
	select {
	case <-done:
	case <-r.done:
	case <-ctx.Done():
	}
	return nil
}

// SetDesired starts or stops the service and keeps it loaded.
func (r *Runner) SetDesired(ctx context.Context, up bool) error {
	return r.do(ctx, func(ctx context.Context, st *state) {
		if up {
			st.spec.DesiredState = spec.Up
			st.w().DesiredUp = true
			switch st.phase {
			case phaseDown, phaseBackingOff, phaseWaitingBinds, phaseWaitingElection:
				st.restarts.reset()
				r.start(ctx, st)
			default: // starting or up already, or stopped will start it
				r.publish(st)
			}
			return
		}
		st.spec.DesiredState = spec.Down
		st.w().DesiredUp = false
		r.stop(st, api.ExitStopped)
		r.publish(st)
		if st.phase == phaseDown {
			r.attemptDone() // else initDone or stopped counts it
		}
	})
}

// Reconfigure asks the runner to re-read the service's config layers
// (user.toml, environment, gossip) and re-render; a changed
// init/run/post-run hook restarts the service, changed config runs the
// reconfigure hook when there is one, else restarts it (SPEC §5). It never
// blocks: asks made while one is pending are one.
func (r *Runner) Reconfigure() {
	select {
	case r.reconfCh <- struct{}{}:
	default:
	}
}

// Tried is closed once the service's first start has been made: it ran,
// failed, is held for binds or by its desired state, or its init hook is
// running.
func (r *Runner) Tried() <-chan struct{} { return r.tried }

func (r *Runner) markTried() {
	if !r.st.triedSent {
		r.st.triedSent = true
		close(r.tried)
	}
}

// WaitFor blocks until cond holds for the published status.
func (r *Runner) WaitFor(ctx context.Context, cond func(*api.Service) bool) (*api.Service, error) {
	for {
		ch := *r.notify.Load()
		s := r.status.Load()
		if cond(s) {
			return s, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return s, ctx.Err()
		case <-r.done:
			return r.status.Load(), ErrGone
		}
	}
}

// WaitAttempt waits until more than n start attempts have finished.
func (r *Runner) WaitAttempt(ctx context.Context, n int64) (*api.Service, error) {
	for {
		ch := *r.notify.Load()
		if r.attempts.Load() > n {
			return r.status.Load(), nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return r.status.Load(), ctx.Err()
		case <-r.done:
			return r.status.Load(), ErrGone
		}
	}
}

// attemptDone counts a finished start (or stop) attempt and wakes waiters.
// It runs after the attempt's publish: a waiter woken by that publish could
// otherwise see the old count and sleep through the attempt.
func (r *Runner) attemptDone() {
	r.markTried()
	r.attempts.Add(1)
	r.wake()
}

func (r *Runner) wake() {
	ch := make(chan struct{})
	old := r.notify.Swap(&ch)
	close(*old)
}

func (r *Runner) publish(st *state) {
	s := st.w()
	s.Cfg, s.Exported = st.cfg, st.exported
	s.RestartStreak, s.LastBackoff = st.restarts.streak, st.restarts.prev
	r.status.Store(s)
	st.svcShared = true
	r.wake()
	if r.d.Changed != nil {
		r.d.Changed()
	}
}

func (r *Runner) record(st *state, ok bool, format string, args ...any) {
	rec := api.Record{At: time.Now(), OK: ok, Text: fmt.Sprintf(format, args...)}
	st.w().Records = appendCapped(st.svc.Records, rec, maxRecords)
	if ok {
		r.d.Log.Info(rec.Text, "service", r.sg)
	} else {
		r.d.Log.Warn(rec.Text, "service", r.sg)
	}
}

// emit hands e, about this service, to Deps.Event.
func (r *Runner) emit(e events.Event) {
	if r.d.Event != nil {
		e.Service = r.sg
		r.d.Event(e)
	}
}

const (
	maxRecords = 32
	maxHistory = 20
)

// appendCapped appends to a copy: published statuses share slices, so a
// slice that was ever published is never written again.
func appendCapped[T any](s []T, v T, limit int) []T {
	start := 0
	if len(s) >= limit {
		start = len(s) - limit + 1
	}
	out := make([]T, 0, len(s)-start+1)
	out = append(out, s[start:]...)
	return append(out, v)
}

// resultChan is *ch, made first if it is nil. A service that never runs
// a hook, a health check or a stop in the background (most, between
// starts) has none of these channels: each would cost it a channel and,
// in Run's select while it waits, a waiting record, some 200 bytes a
// service.
func resultChan[T any](ch *chan T, size int) chan T {
	if *ch == nil {
		*ch = make(chan T, size)
	}
	return *ch
}

// setCfg keeps the merged config and what the package exports of it
// together, so exports are worked out once per config change.
func (st *state) setCfg(cfg map[string]any) {
	st.cfg, st.exported = cfg, exported(st.pkg, cfg)
}
