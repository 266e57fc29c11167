package manager

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/service"
	"github.com/tend-sh/tend/internal/spec"
	"github.com/tend-sh/tend/internal/store"
)

// Load loads a service (svc load). The spec is on disk before the service
// starts, so a supervisor killed right after Load returns still runs it.
// With req.Wait it returns once the first start is over, and an error when
// that start failed: the service stays loaded and is retried with backoff.
func (m *Manager) Load(ctx context.Context, req api.LoadRequest, progress func(string)) (err error) {
	defer func() { m.control("load", req.Pkg, err) }()
	e, err := m.prepareLoad(req) // names the service, so it can be locked
	if err != nil {
		return err
	}
	done, err := m.begin(ctx, e.name)
	if err != nil {
		return err
	}
	defer done()
	if m.current(e.name) != e.replaces {
		// Another operation changed this service meanwhile: check again.
		if e, err = m.prepareLoad(req); err != nil {
			return err
		}
	}
	if err := m.swapIn(e, "loaded again with --force", progress); err != nil {
		return err
	}
	progress(fmt.Sprintf("The %s service was successfully loaded", e.spec.Ident))
	if req.Wait {
		return m.reportStart(ctx, e, 0, progress)
	}
	return nil
}

// swapIn saves e's spec and makes e the loaded service, stopping the
// entry it replaces (why says why, for the log) and starting e. The
// caller holds the service's operation lock.
func (m *Manager) swapIn(e *entry, why string, progress func(string)) error {
	old := e.replaces
	var oldGroup string
	var err error
	if cerr := m.call(func(o *owned) {
		// The spec file and the services map change together, on the
		// owner, where saveStartup writes too.
		if err = store.WriteFile(e.specFile, e.spec.Encode(), 0o644); err == nil && old != nil {
			old.gone = true
			oldGroup = old.spec.ServiceGroup(m.cfg.Org)
		}
	}); cerr != nil {
		return cerr
	}
	if err != nil {
		return api.Errorf(api.Internal, "save spec: %v", err)
	}
	if old != nil {
		was := old.spec.Ident
		if old.runner != nil {
			was = old.runner.Status().Pkg.Ident
		}
		m.log.Info("restarting: "+why, "service", oldGroup, "package", e.runner.Status().Pkg.Ident, "was", was)
		progress(fmt.Sprintf("Stopping %s to apply the new options", oldGroup))
		m.stopRunner(old) // outside the owner: this waits for the stop
	}
	started := false
	if err := m.call(func(o *owned) {
		o.services[e.name] = e
		// Nothing reads what e replaced once it is in: kept, it would hold
		// the old runner (its whole state) for as long as e runs.
		e.replaces = nil
		delete(o.ring.views, e.name)
		m.watchUser(e.name)
		m.startRunner(e)
		started = e.cancel != nil
		m.changed()
	}); err != nil || !started {
		return errStopped // shutting down: the spec is saved for the next start
	}
	return nil
}

// reportStart waits for the start attempt after n and says how it went: an
// error when the service did not come up.
func (m *Manager) reportStart(ctx context.Context, e *entry, n int64, progress func(string)) error {
	s, err := e.runner.WaitAttempt(ctx, n)
	// What the command reports, the gateways show once it returns: a
	// script's `svc load X && curl .../X/config` must not read a snapshot
	// taken before the start (the publish loop would catch up a moment
	// later).
	m.publishNow()
	switch {
	case err != nil:
		return api.Errorf(api.Internal, "%s: not started yet: %v", s.ServiceGroup, err)
	case s.Running:
		progress(fmt.Sprintf("%s is up (pid %d)", s.ServiceGroup, s.PID))
	case strings.HasPrefix(s.StartError, service.WaitingForBinds):
		progress(fmt.Sprintf("%s is %s; it starts once they are in the ring", s.ServiceGroup, s.StartError))
	case strings.HasPrefix(s.StartError, service.WaitingForElection):
		progress(fmt.Sprintf("%s is %s; it starts once its group's leader election is finished", s.ServiceGroup, s.StartError))
	case s.StartError != "":
		return api.Errorf(api.Internal, "%s failed to start: %s; next try in %s", s.ServiceGroup, s.StartError, until(s.NextRestart))
	case s.LastExit != nil:
		return api.Errorf(api.Internal, "%s exited (code %d); next try in %s", s.ServiceGroup, s.LastExit.Code, until(s.NextRestart))
	}
	return nil
}

func until(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return max(time.Until(t), 0).Round(time.Millisecond).String()
}

// Unload stops a service and forgets it.
func (m *Manager) Unload(ctx context.Context, pkgArg string, progress func(string)) (err error) {
	defer func() { m.control("unload", pkgArg, err) }()
	e, done, err := m.beginFound(ctx, pkgArg)
	if err != nil {
		return err
	}
	defer done()
	if cerr := m.call(func(o *owned) {
		if err = store.Remove(e.specFile); err == nil {
			e.gone = true
		}
	}); cerr != nil {
		return cerr
	}
	if err != nil {
		return api.Errorf(api.Internal, "%v", err)
	}
	progress(fmt.Sprintf("Unloading %s", e.name))
	m.stopRunner(e) // outside the owner: this waits for the stop
	if e.runner != nil {
		e.runner.RemoveLeftovers()
	}
	m.call(func(o *owned) {
		if o.services[e.name] == e {
			delete(o.services, e.name)
			delete(o.ring.views, e.name)
		}
		m.unwatchUser(e.name)
		m.changed() // the ring loop says it is gone once it is not published
	})
	progress(fmt.Sprintf("The %s service was successfully unloaded", e.name))
	return nil
}

// beginFound resolves pkgArg to a loaded service and begins an operation
// on it (begin).
func (m *Manager) beginFound(ctx context.Context, pkgArg string) (*entry, func(), error) {
	e, err := m.find(pkgArg)
	if err != nil {
		return nil, nil, err
	}
	done, err := m.begin(ctx, e.name)
	if err != nil {
		return nil, nil, err
	}
	// What was found may have been replaced or unloaded meanwhile.
	if e, err = m.find(pkgArg); err != nil {
		done()
		return nil, nil, err
	}
	return e, done, nil
}

// Stop stops a service and keeps its spec, desired state down.
func (m *Manager) Stop(ctx context.Context, pkgArg string, progress func(string)) (err error) {
	defer func() { m.control("stop", pkgArg, err) }()
	return m.setDesired(ctx, pkgArg, false, progress)
}

// Start starts a stopped service with the options it was loaded with.
func (m *Manager) Start(ctx context.Context, pkgArg string, progress func(string)) (err error) {
	defer func() { m.control("start", pkgArg, err) }()
	return m.setDesired(ctx, pkgArg, true, progress)
}

func (m *Manager) setDesired(ctx context.Context, pkgArg string, up bool, progress func(string)) error {
	e, done, err := m.beginFound(ctx, pkgArg)
	if err != nil {
		return err
	}
	defer done()
	if e.specErr != "" {
		return api.Errorf(api.BadRequest, "service %s cannot be changed: %s", e.name, e.specErr)
	}
	var sp spec.Spec
	already := false
	if cerr := m.call(func(o *owned) {
		sp = e.spec
		if already = sp.Up() == up; already {
			return
		}
		sp.DesiredState = spec.Down
		if up {
			sp.DesiredState = spec.Up
		}
		if err = store.WriteFile(e.specFile, sp.Encode(), 0o644); err == nil {
			e.spec = sp
		}
	}); cerr != nil {
		return cerr
	}
	if already {
		progress(fmt.Sprintf("%s is already %s", sp.ServiceGroup(m.cfg.Org), sp.DesiredState))
		return nil
	}
	if err != nil {
		return api.Errorf(api.Internal, "save spec: %v", err)
	}
	n := e.runner.Attempts()
	if up {
		progress(fmt.Sprintf("Starting %s", sp.ServiceGroup(m.cfg.Org)))
	} else {
		progress(fmt.Sprintf("Stopping %s", sp.ServiceGroup(m.cfg.Org)))
	}
	if err := e.runner.SetDesired(ctx, up); err != nil {
		return api.Errorf(api.Internal, "%v", err)
	}
	if up {
		return m.reportStart(ctx, e, n, progress)
	}
	if _, err := e.runner.WaitAttempt(ctx, n); err != nil {
		return api.Errorf(api.Internal, "%v", err)
	}
	progress(fmt.Sprintf("%s stopped", sp.ServiceGroup(m.cfg.Org)))
	return nil
}

// find resolves the CLI's PKG argument ("redis", "core/redis",
// "core/redis/1.2") to a loaded service.
func (m *Manager) find(arg string) (*entry, error) {
	name := arg
	var want ident.Ident
	if strings.Contains(arg, "/") {
		id, err := ident.Parse(arg)
		if err != nil {
			return nil, api.Errorf(api.BadRequest, "%v", err)
		}
		want, name = id, id.Name
	}
	e := m.current(name)
	if e == nil {
		return nil, api.Errorf(api.NotFound, "service %s is not loaded", arg)
	}
	if want.Origin != "" && e.runner != nil {
		got, err := ident.Parse(e.runner.Status().Pkg.Ident)
		if err == nil && !got.Satisfies(want) {
			return nil, api.Errorf(api.NotFound, "service %s is not loaded (%s is)", arg, got)
		}
	}
	return e, nil
}

// Status lists loaded services (svc status).
func (m *Manager) Status(ctx context.Context, pkgArg string) ([]api.ServiceStatus, error) {
	snap := m.publishNow()
	var only string
	if pkgArg != "" {
		e, err := m.find(pkgArg)
		if err != nil {
			return nil, err
		}
		only = e.name
	}
	out := []api.ServiceStatus{}
	for _, s := range snap.Services {
		if only != "" && s.Name != only {
			continue
		}
		st := api.ServiceStatus{
			Ident: s.Pkg.Ident, Type: s.Topology, DesiredState: "down", State: "down",
			PID: s.PID, ServiceGroup: s.ServiceGroup, Health: s.Health, Restarts: s.RestartCount,
			Error: s.StartError,
		}
		if st.Ident == "" {
			st.Ident = s.SpecIdent
		}
		if s.DesiredUp {
			st.DesiredState = "up"
		}
		if s.Running {
			st.State = "up"
		}
		if !s.StateEntered.IsZero() {
			st.Elapsed = time.Since(s.StateEntered).Round(time.Second).Seconds()
		}
		out = append(out, st)
	}
	return out, nil
}

// SetHealth sets or clears the manual unhealthy flag.
func (m *Manager) SetHealth(ctx context.Context, unhealthy bool, reason string) (err error) {
	if !unhealthy {
		reason = ""
	}
	op := "health set healthy"
	if unhealthy {
		op = "health set unhealthy"
	}
	defer func() { m.control(op, reason, err) }()
	return m.call(func(o *owned) {
		o.manual = manualHealth{unhealthy: unhealthy, reason: reason}
		m.publish(o)
	})
}

// Stats is sup stats.
func (m *Manager) Stats(ctx context.Context) (api.Stats, error) {
	snap := m.publishNow()
	st := api.Stats{
		MemberID: snap.Sup.MemberID, PID: os.Getpid(), StartedAt: m.startedAt,
		Uptime: time.Since(m.startedAt).Round(time.Millisecond).Seconds(),
		Ready:  snap.Ready, Services: len(snap.Services),
		ByState: map[string]int{"up": 0, "down": 0, "stopped": 0},
	}
	for _, s := range snap.Services {
		switch {
		case !s.DesiredUp:
			st.ByState["stopped"]++
		case s.Running:
			st.ByState["up"]++
		default:
			st.ByState["down"]++
		}
	}
	st.Healthy = snap.Ready && !snap.Sup.ManualUnhealthy
	if m.cfg.Healthy != nil {
		st.Healthy, st.Reasons = m.cfg.Healthy()
	} else if snap.Sup.ManualUnhealthy {
		st.Reasons = []string{"set unhealthy by hand: " + snap.Sup.ManualReason}
	}
	slices.Sort(st.Reasons)
	if e := m.handoverErr.Load(); e != nil {
		st.HandoverError = *e
	}
	return st, nil
}

// Handover asks the supervisor to re-execute itself as binary ("" the
// tend binary it was started as), keeping its pid, services and
// listeners (Config.Handover). It returns once the binary passed its
// check and the hand-over has begun, or why it will not happen.
func (m *Manager) Handover(ctx context.Context, binary string, progress func(string)) error {
	err := api.Errorf(api.Conflict, "this supervisor cannot hand over")
	if m.cfg.Handover != nil {
		err = m.cfg.Handover(ctx, binary, progress)
	}
	m.control("sup restart", binary, err)
	return err
}

// HandoverFailed records why a hand-over failed after its check passed,
// for Stats: the CLI waiting for the new binary learns it there.
func (m *Manager) HandoverFailed(err error) {
	s := err.Error()
	m.handoverErr.Store(&s)
}

// FlushOutput returns once the output every run process delivered so far
// is in its log files (Runner.FlushOutput), for a hand-over.
func (m *Manager) FlushOutput(ctx context.Context) error {
	for _, r := range m.loadedRunners() {
		if err := r.FlushOutput(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Term asks the supervisor to stop.
func (m *Manager) Term(ctx context.Context) error {
	m.control("term", "", nil)
	if m.cfg.Term != nil {
		m.cfg.Term()
	}
	return nil
}
