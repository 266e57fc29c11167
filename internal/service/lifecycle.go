package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/cgroup"
	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/hook"
	"github.com/tend-sh/tend/internal/process"
	"golang.org/x/sys/unix"
)

// start brings the service up once: render, init, spawn run, post-run.
// Failures schedule a restart with backoff. The init hook runs in the
// background (initDone takes it from there), so the loop stays free for
// stop, status and the supervisor's start-up whatever init does.
func (r *Runner) start(ctx context.Context, st *state) {
	if r.beginStart(ctx, st) {
		r.markTried()
		return
	}
	r.attemptDone()
}

// beginStart runs a start up to the init hook, or to the spawn when there
// is none. It reports whether init now runs in the background.
func (r *Runner) beginStart(ctx context.Context, st *state) bool {
	if st.pkgPending {
		r.showPackage(st) // no process of the old package is left
	}
	st.w().NextRestart = time.Time{}
	r.stopRestartTimer(st)
	if ctx.Err() != nil {
		r.enter(st, phaseDown)
		return false
	}
	if r.waitingForBinds(st) || r.waitingForElection(st) {
		return false
	}
	if st.leftRunning {
		if st.group != nil && !killBriefly(st.group) {
			r.startFailed(ctx, st, errLeftRunning, "run_hook_failed")
			return false
		}
		st.leftRunning = false
	}
	release, ok := r.acquireGate(ctx)
	if !ok {
		r.enter(st, phaseDown)
		return false
	}
	defer release()
	if err := r.prepare(st); err != nil {
		r.startFailed(ctx, st, err, "run_hook_failed")
		return false
	}
	if _, ok := st.tpl.hooks["init"]; ok {
		r.runInit(ctx, st)
		return true
	}
	r.spawn(ctx, st)
	return false
}

// acquireGate takes a place in Deps.Gate; ok is false when ctx ended first.
func (r *Runner) acquireGate(ctx context.Context) (release func(), ok bool) {
	if r.d.Gate == nil {
		return func() {}, true
	}
	select {
	case r.d.Gate <- struct{}{}:
		return func() { <-r.d.Gate }, true
	case <-ctx.Done():
		return nil, false
	}
}

// runInit starts the init hook in the background; its result comes back
// to the loop as initDone.
func (r *Runner) runInit(ctx context.Context, st *state) {
	r.enter(st, phaseStarting)
	ictx, cancel := context.WithCancel(ctx)
	st.initCancel = cancel
	st.makeLogs()
	spec := r.hookSpec(st, "init", st.spec.HookTimeoutD())
	out := resultChan(&st.initRes, 1)
	st.bg.Go(func() {
		res := r.runHookIn(ictx, spec)
		out <- &res
	})
	r.publish(st)
}

// initDone continues a start once its init hook has ended.
func (r *Runner) initDone(ctx context.Context, st *state, res *hook.Result) {
	defer r.attemptDone()
	st.initCancel()
	st.initCancel = nil
	switch {
	case !st.spec.Up() || ctx.Err() != nil:
		r.enter(st, phaseDown) // stopped while init ran
		r.publish(st)
		return
	case res.TimedOut:
		r.startFailed(ctx, st, fmt.Errorf("init hook timed out after %s", st.spec.HookTimeoutD()), "init_hook_failed")
		return
	case !res.OK():
		r.startFailed(ctx, st, fmt.Errorf("init hook %s", describe(*res)), "init_hook_failed")
		return
	}
	release, ok := r.acquireGate(ctx)
	if !ok {
		r.enter(st, phaseDown)
		r.publish(st)
		return
	}
	defer release()
	r.spawn(ctx, st)
}

// spawn starts the run process, its health checks and post-run.
func (r *Runner) spawn(ctx context.Context, st *state) {
	st.w().Initialized = true
	st.runLogs = newLogPair(st.paths.logs, "run", st.gid, r.logLimits(st))
	logs := st.runLogs
	env := r.env(st)
	ps := process.Spec{
		Path:       st.paths.hook("run"),
		Env:        env,
		Dir:        st.paths.root,
		Credential: st.cred,
		Outputs:    r.outputs(st),
		Leader:     true,
	}
	ps.Stdout, ps.Stderr = r.outputFuncs(logs)
	if st.group != nil {
		ps.Group = st.group
	}
	if run := st.last.directRun(env, r.pathCache()); run.ok {
		ps.Path, ps.Arg0, ps.Args = run.path, run.argv[0], run.argv[1:]
	}
	if err := r.armReadiness(st, &ps); err != nil {
		logs.close()
		r.startFailed(ctx, st, fmt.Errorf("readiness: %w", err), "run_hook_failed")
		return
	}
	p, err := r.d.Reaper.Start(ps)
	if err != nil {
		st.disarmReadiness()
		if st.group != nil && errors.Is(err, unix.ENOENT) {
			// The cgroup may have been removed under the supervisor: make
			// it again for the next attempt.
			_, _ = r.d.Tracker.Group(st.spec.Name())
		}
		logs.close()
		r.startFailed(ctx, st, fmt.Errorf("run hook: %w", err), "run_hook_failed")
		return
	}
	r.running(ctx, st, p, "started (pid %d)")
}

// running takes the run process p, just started or adopted, from there:
// PID file, status, health checks, post-run. record says so, with the pid.
func (r *Runner) running(ctx context.Context, st *state, p hook.Process, record string) {
	now := time.Now()
	st.proc, st.procDone, st.startedAt = p, p.Done(), now
	r.enter(st, phaseUp) // after proc is set: the state event carries its pid
	r.writePID(st, p)
	st.w().Running, st.w().PID, st.w().StateEntered, st.w().StartError = true, p.PID(), now, ""
	st.spawned()
	r.record(st, true, record, p.PID())
	st.healthOKSeen = false
	if _, ok := st.tpl.hooks["health-check"]; ok {
		st.setHealth(api.HealthUnknown)
		r.checkHealth(ctx, st)
	} else {
		st.setHealth(api.HealthOK)
	}
	if _, ok := st.tpl.hooks["post-run"]; ok {
		r.postRun(ctx, st)
	}
	r.runSuitability(ctx, st)
	r.publish(st)
}

func (r *Runner) startFailed(ctx context.Context, st *state, err error, reason string) {
	now := time.Now()
	st.w().StartError = err.Error()
	st.w().LastExit = &api.Exit{At: now, Code: -1, Reason: reason}
	st.setHealth(api.HealthCritical)
	d := st.restarts.next(0)
	r.record(st, false, "start failed: %v%s", err, r.nextStart(st, ctx, d))
	r.scheduleRestart(ctx, st, d, "start failed: "+err.Error())
	r.publish(st)
}

// scheduleRestart backs off for d before the next start; a service that
// should not run any more goes down instead.
func (r *Runner) scheduleRestart(ctx context.Context, st *state, d time.Duration, why string) {
	if !st.spec.Up() || ctx.Err() != nil {
		r.enter(st, phaseDown)
		return
	}
	r.enter(st, phaseBackingOff)
	st.w().RestartCount++
	st.w().NextRestart = time.Now().Add(d)
	r.emitRestart(d, st.svc.NextRestart, why)
	r.stopRestartTimer(st)
	st.restartT = time.NewTimer(d)
	st.restartC = st.restartT.C
}

// emitRestart says a restart is due after d, at next, and why.
func (r *Runner) emitRestart(d time.Duration, next time.Time, why string) {
	r.emit(events.Event{Type: events.ServiceRestart, Backoff: events.Seconds(d), NextStart: next, Reason: why,
		Text: fmt.Sprintf("%s restarts in %s: %s", r.sg, d.Round(time.Millisecond), why)})
}

func (r *Runner) stopRestartTimer(st *state) {
	if st.restartT != nil {
		st.restartT.Stop()
		st.restartC = nil
	}
}

// exited handles the run process ending on its own. What the run process
// started goes with it: a restart must not run beside its predecessor's
// children. Almost always they are gone already or die at once; ones that
// take longer (a process stuck in the kernel) are waited for beside the
// loop, which stays free for commands meanwhile, and crashed takes over
// when they are gone.
func (r *Runner) exited(ctx context.Context, st *state) {
	c := &crash{exit: st.proc.Exit(), pid: st.proc.PID()}
	c.upFor = c.exit.At.Sub(st.startedAt)
	r.dropProcess(st)
	st.w().LastExit = &api.Exit{PID: c.pid, Code: c.exit.Code, Signal: sigName(c.exit.Signal), At: c.exit.At, Reason: "run_hook_failed"}
	st.setHealth(api.HealthCritical)
	if g := st.group; g != nil && !killBriefly(g) {
		r.enter(st, phaseStopping)
		out := resultChan(&st.stopRes, 1)
		st.bg.Go(func() {
			left := outlived(r.kill(g))
			out <- &stopResult{crash: c, left: left}
		})
		r.publish(st)
		return
	}
	r.crashed(ctx, st, c)
}

// crash is a run process that exited on its own.
type crash struct {
	exit  process.Exit
	pid   int
	upFor time.Duration
	// text, when set, says how it ended instead of exit.
	text string
}

// String says how the run process ended.
func (c *crash) String() string {
	if c.text != "" {
		return c.text
	}
	return c.exit.String()
}

// briefKill is how long a crash's leftovers are waited for on the loop.
const briefKill = 50 * time.Millisecond

// killBriefly kills what is left of the service, and reports whether it
// was gone within briefKill.
func killBriefly(g procGroup) bool {
	ctx, cancel := context.WithTimeout(context.Background(), briefKill)
	defer cancel()
	return !outlived(g.Kill(ctx))
}

// outlived reports whether a kill that ended with err left processes
// running. A cgroup removed under the supervisor holds none: the next
// start makes it again (spawn), and must not wait for it.
func outlived(err error) bool { return err != nil && !errors.Is(err, fs.ErrNotExist) }

// crashed restarts a service whose run process exited on its own, once
// nothing of it is left: at once, or after the backoff.
func (r *Runner) crashed(ctx context.Context, st *state, c *crash) {
	d := st.restarts.next(c.upFor)
	r.record(st, false, "%s; crashed%s", c, r.nextStart(st, ctx, d))
	if d == 0 && st.spec.Up() && ctx.Err() == nil {
		// The fast path: no timer, no extra trip through the loop.
		r.enter(st, phaseBackingOff)
		st.w().RestartCount++
		r.emitRestart(0, time.Now(), c.String())
		r.start(ctx, st)
		return
	}
	r.scheduleRestart(ctx, st, d, c.String())
	r.publish(st)
}

// dropProcess forgets the process and everything tied to its life.
func (r *Runner) dropProcess(st *state) {
	r.endProcessHelpers(st)
	st.disarmReadiness()
	if st.runLogs != nil {
		st.runLogs.close()
		st.runLogs = nil
	}
	st.proc, st.procDone = nil, nil
	cgroup.RetirePIDFile(st.paths.pidFile)
	st.w().Running, st.w().PID, st.w().StateEntered = false, 0, time.Now()
}

// endProcessHelpers stops the health checks and post-run of the process.
func (r *Runner) endProcessHelpers(st *state) {
	r.cancelHealth(st)
	if st.postRunCancel != nil {
		st.postRunCancel()
		st.postRunCancel = nil
	}
}

// stopResult is how a stop done in the background ended.
type stopResult struct {
	exit     process.Exit
	pid      int          // 0: no process was running, what it left was killed
	postStop *hook.Result // nil: the service has no post-stop hook
	crash    *crash       // set: the run process had exited; its leftovers were killed
	left     bool         // processes of the service outlived the kill
}

// stop takes the service down without blocking the loop: the shutdown
// signal to its group, the timeout, SIGKILL, then post-stop run in the
// background, and stopped takes over when they are done. A start whose
// init is running is cancelled (initDone finds it stopped); a service
// otherwise not up has what it left running killed (killLeftovers).
// reason is Habitat's termination_reason.
func (r *Runner) stop(st *state, reason string) {
	r.stopRestartTimer(st)
	st.w().NextRestart = time.Time{}
	switch st.phase {
	case phaseStopping:
		return
	case phaseStarting:
		st.initCancel()
		return
	case phaseUp:
	default:
		r.cancelHealth(st)
		st.setHealth(api.HealthCritical) // SPEC §5: CRITICAL when the process is not up
		r.killLeftovers(st)
		return
	}
	r.enter(st, phaseStopping)
	r.endProcessHelpers(st)
	st.procDone = nil // its exit is the stop's, not a crash
	st.stopReason = reason
	p := st.proc
	sig, timeout := st.shutdownSignal(), st.shutdownTimeout()
	var post *hook.Spec
	if _, ok := st.tpl.hooks["post-stop"]; ok {
		st.makeLogs()
		s := r.hookSpec(st, "post-stop", st.spec.HookTimeoutD())
		post = &s
	}
	out := resultChan(&st.stopRes, 1)
	g := st.group
	st.bg.Go(func() {
		// Stopping must finish even when the supervisor is shutting down.
		res := stopResult{exit: p.Stop(context.Background(), sig, timeout), pid: p.PID()}
		// Stop gives up on members that outlive its SIGKILL (and says
		// so); a restart must not run beside them.
		res.left = g != nil && !killBriefly(g)
		if post != nil {
			h := r.runHookIn(context.Background(), *post)
			res.postStop = &h
		}
		out <- &res
	})
}

// killLeftovers stops a service whose run process is not up: a hook's
// descendants may still run, and stopped means nothing runs. Killing them
// may wait (up to killGroup's bound, for a process stuck in the kernel),
// so it is done beside the loop, like a stop of the run process: the
// service is stopping until stopped takes the result.
func (r *Runner) killLeftovers(st *state) {
	g := st.group
	if g == nil {
		r.enter(st, phaseDown) // nothing to look for
		return
	}
	r.enter(st, phaseStopping)
	out := resultChan(&st.stopRes, 1)
	st.bg.Go(func() {
		left := outlived(r.kill(g))
		out <- &stopResult{left: left}
	})
}

// stopped ends a stop: the service is down, and starts again at once if
// it was asked to be up meanwhile (a restart, or svc start while stopping).
// After a crash whose leftovers took a while to die, it restarts the
// service as a crash does (crashed).
func (r *Runner) stopped(ctx context.Context, st *state, res *stopResult) {
	st.leftRunning = st.leftRunning || res.left
	if res.crash != nil {
		r.enter(st, phaseDown)
		r.crashed(ctx, st, res.crash)
		return
	}
	if res.pid != 0 { // else only leftovers were killed: the last exit stays
		r.dropProcess(st)
		e := res.exit
		st.w().LastExit = &api.Exit{PID: res.pid, Code: e.Code, Signal: sigName(e.Signal), At: e.At, Reason: st.stopReason}
		st.setHealth(api.HealthCritical)
		if h := res.postStop; h != nil && !h.OK() {
			r.record(st, false, "post-stop hook %s", describeTimed(*h, st.spec.HookTimeoutD()))
		}
		r.record(st, true, "stopped (%s)", e.String())
	}
	r.enter(st, phaseDown)
	if st.pkgPending {
		r.showPackage(st)
	}
	if st.spec.Up() && ctx.Err() == nil {
		st.restarts.reset() // asked for, not caused by a crash
		r.start(ctx, st)
		return
	}
	r.publish(st)
	r.attemptDone()
}

// shutdown stops the service for good as Run ends (ctx is done): it waits
// for an init or a stop in flight, and stops a running process.
func (r *Runner) shutdown(ctx context.Context, st *state) {
	if st.phase == phaseStarting {
		r.initDone(ctx, st, <-st.initRes) // ctx ended: init was cancelled
	}
	r.stop(st, api.ExitStopped)
	if st.phase == phaseStopping {
		r.stopped(ctx, st, <-st.stopRes)
	}
}

func (st *state) shutdownSignal() syscall.Signal {
	if s := unix.SignalNum("SIG" + strings.TrimPrefix(st.pkg.ShutdownSignal, "SIG")); s != 0 {
		return s
	}
	return syscall.SIGTERM
}

func (st *state) shutdownTimeout() time.Duration {
	if st.spec.ShutdownTimeout != nil {
		return time.Duration(*st.spec.ShutdownTimeout) * time.Second
	}
	if st.pkg.ShutdownTimeout > 0 {
		return st.pkg.ShutdownTimeout
	}
	return 8 * time.Second
}

// restart stops the service; stopped starts it again with the backoff
// reset, since the restart was asked for, not caused by a crash. The
// record says why.
func (r *Runner) restart(st *state, reason string) {
	if st.phase == phaseUp {
		r.record(st, true, "restarting: %s", restartWhy(reason))
	}
	r.stop(st, reason)
}

// restartWhy says a termination reason in words, for the log.
func restartWhy(reason string) string {
	switch reason {
	case "app_config_updated":
		return "its config changed"
	case "package_updated":
		return "its package was updated"
	case api.ExitStopped:
		return "asked for"
	}
	if hook, ok := strings.CutSuffix(reason, "_hook_updated"); ok {
		return "its " + strings.ReplaceAll(hook, "_", "-") + " hook changed"
	}
	return reason
}

// nextStart says when a service that went down starts again, for the
// record of its crash or failed start: d is the backoff.
func (r *Runner) nextStart(st *state, ctx context.Context, d time.Duration) string {
	switch {
	case !st.spec.Up() || ctx.Err() != nil:
		return "; not restarted (it should not run)"
	case d == 0:
		return "; next start now"
	}
	return fmt.Sprintf("; next start in %s, at %s (backoff)", d.Round(time.Millisecond), time.Now().Add(d).UTC().Format(time.RFC3339))
}

// reconfigure re-renders after a config change (why says which) and
// restarts or runs the reconfigure hook as SPEC §5 says.
func (r *Runner) reconfigure(ctx context.Context, st *state, why string) {
	cfg, user, err := r.config(st)
	if err == nil && st.prepared {
		var cur *rendered
		if cur, err = st.tpl.render(r.dataFor(st, cfg)); err == nil {
			if err = r.writeRendered(st, cur); err == nil {
				ch := diff(st.last, cur)
				st.last = cur
				st.setCfg(cfg)
				st.w().UserConfigUpdated = userConfigChanged(st, user)
				r.applyChanges(ctx, st, ch, why)
				r.publish(st)
				return
			}
		}
	}
	if err != nil {
		r.record(st, false, "config not applied: %v", err)
		r.emitConfig("failed", why+": "+err.Error())
		r.publish(st)
		return
	}
	st.setCfg(cfg) // not started yet: the next start renders it
	r.publish(st)
}

func (r *Runner) applyChanges(ctx context.Context, st *state, ch changes, why string) {
	if !ch.config && !ch.reconfigure && len(ch.restartHooks) == 0 {
		return
	}
	r.record(st, true, "config re-rendered")
	if st.phase != phaseUp {
		r.emitConfig("re-rendered", why+"; not running: the next start uses it")
		return
	}
	_, hasReconfigure := st.tpl.hooks["reconfigure"]
	switch {
	case len(ch.restartHooks) > 0:
		reason := strings.ReplaceAll(ch.restartHooks[0], "-", "_") + "_hook_updated"
		r.emitConfig("restarted", reason+": "+why)
		r.restart(st, reason)
	case ch.config && !hasReconfigure:
		r.emitConfig("restarted", "app_config_updated: "+why)
		r.restart(st, "app_config_updated")
	case hasReconfigure:
		r.emitConfig("reconfigured", "app_config_updated: "+why+"; the reconfigure hook runs")
		r.runHook(ctx, st, "reconfigure")
	default:
		r.emitConfig("re-rendered", why+"; only hooks other than init, run and post-run changed")
	}
}

// emitConfig says what a config change did to the service, and why.
func (r *Runner) emitConfig(action, why string) {
	r.emit(events.Event{Type: events.ServiceConfig, Action: action, Reason: why,
		Text: fmt.Sprintf("%s config %s: %s", r.sg, action, why)})
}

// track finds the service's group and deals with what a supervisor
// killed with SIGKILL left of the service, before anything of it starts,
// so a service never runs twice: its run process, still running and
// desired up, is kept for Run to adopt (adoptable); anything else is
// stopped (stopLeftovers).
func (r *Runner) track(ctx context.Context, st *state) {
	if r.d.Tracker == nil {
		return
	}
	g, err := r.d.Tracker.Group(st.spec.Name())
	if err != nil {
		r.d.Log.Error("processes of this service are not tracked", "service", r.sg, "err", err)
		return
	}
	st.group = g
	if g.Dir() != "" {
		st.w().Usage = func() (api.Usage, bool) {
			s, ok := g.Stats()
			return api.Usage{CPUSeconds: s.CPUSeconds, MemoryBytes: s.MemoryBytes}, ok
		}
	}
	if g.Made() {
		return // a cgroup made just now holds nothing left behind
	}
	pids, err := g.Members()
	if err != nil || len(pids) == 0 {
		return
	}
	if st.adopt = r.adoptable(st, pids); st.adopt != nil {
		return
	}
	r.stopLeftovers(ctx, st, pids)
}

// stopLeftovers stops pids, what a previous supervisor left of the
// service: its shutdown signal to every process left, the shutdown
// timeout, then SIGKILL.
func (r *Runner) stopLeftovers(ctx context.Context, st *state, pids []int) {
	g := st.group
	r.d.Log.Warn("stopping processes left by a previous supervisor", "service", r.sg, "pids", pids)
	_ = g.Signal(st.shutdownSignal())
	_ = g.Signal(unix.SIGCONT)
	tctx, cancel := context.WithTimeout(ctx, st.shutdownTimeout())
	_ = g.WaitEmpty(tctx)
	cancel()
	if outlived(r.killGroup(st)) {
		st.leftRunning = true
	}
	cgroup.RetirePIDFile(st.paths.pidFile)
	r.record(st, true, "stopped %d processes left by a previous supervisor", len(pids))
}

// untrack removes the service's cgroup once Run has stopped the service.
// Its output FIFOs stay for the next start over this root (a create costs
// more than an open on a restart: process.fifoReader); an unload removes them
// (RemoveLeftovers).
func (r *Runner) untrack(st *state) {
	if st.group == nil {
		return
	}
	r.killGroup(st)
	if err := st.group.Remove(); err != nil {
		r.d.Log.Warn("cgroup not removed", "service", r.sg, "err", err)
	}
}

// killGroup kills whatever is left of the service and waits until it is
// gone (bounded: a process stuck in the kernel must not hold the runner).
func (r *Runner) killGroup(st *state) error {
	if st.group == nil {
		return nil
	}
	return r.kill(st.group)
}

// killWait bounds how long a kill waits for the service's processes to go.
const killWait = 10 * time.Second

// kill is killGroup on any goroutine: it reads nothing of the state.
func (r *Runner) kill(g procGroup) error {
	ctx, cancel := context.WithTimeout(context.Background(), killWait)
	defer cancel()
	err := g.Kill(ctx)
	if err != nil {
		r.d.Log.Error("processes of the service left running", "service", r.sg, "err", err)
	}
	return err
}

// errLeftRunning is why a start waits: the last kill of the service's
// processes gave up with some left, and a new copy would run beside them.
var errLeftRunning = errors.New("processes of its last run outlived SIGKILL (stuck in the kernel?): no second copy starts until they are gone")

// writePID writes the PID file right after the fork, with the process's
// start time: a supervisor killed a moment later leaves it to its
// successor, which can tell this process from one that reused its pid.
func (r *Runner) writePID(st *state, p hook.Process) {
	pid := p.PID()
	if st.pidFiled == pid {
		// Adopted from this very file, which names it with its start
		// time already: rewritten, it would cost a create and free an
		// inode per service on every hand-over.
		st.pidFiled = 0
		return
	}
	var start uint64
	var known bool
	if t, ok := p.(startTimer); ok {
		start, known = t.StartTime()
	}
	var err error
	if known {
		err = cgroup.WritePIDFileAt(st.paths.pidFile, pid, start)
	} else {
		err = cgroup.WritePIDFile(st.paths.pidFile, pid)
	}
	if err != nil && !errors.Is(err, cgroup.ErrExited) {
		r.d.Log.Warn("write PID file", "service", r.sg, "err", err)
	}
}

// startTimer is a process that knows its start time as /proc/PID/stat
// gives it (*process.Proc, when its fork could tell).
type startTimer interface{ StartTime() (uint64, bool) }

// marker is the environment entry that names a run process as ours.
func (r *Runner) marker() string { return "TEND_SERVICE_ID=" + r.d.MemberID + "/" + r.sg }

// hookDone is how a hook run by runHook ended.
type hookDone struct {
	name string
	res  hook.Result
}

// runHook runs a hook whose result is only recorded (reconfigure,
// file-updated) beside the loop, bounded by the service's hook timeout;
// hookFinished records it.
func (r *Runner) runHook(ctx context.Context, st *state, name string) {
	st.makeLogs()
	spec := r.hookSpec(st, name, st.spec.HookTimeoutD())
	out := resultChan(&st.hookRes, 0)
	st.bg.Go(func() {
		d := &hookDone{name: name, res: r.runHookIn(ctx, spec)}
		select {
		case out <- d:
		case <-ctx.Done(): // Run has ended or is ending: nobody records it
		}
	})
}

// hookFinished records how a hook run by runHook ended. A reconfigured
// service is checked again at once.
func (r *Runner) hookFinished(ctx context.Context, st *state, d *hookDone) {
	r.record(st, d.res.OK(), "%s hook %s", d.name, describeTimed(d.res, st.spec.HookTimeoutD()))
	if d.name == "reconfigure" && st.phase == phaseUp {
		r.cancelHealth(st)
		r.checkHealth(ctx, st)
		r.runSuitability(ctx, st)
	}
	r.publish(st)
}

// runHookIn runs a hook on any goroutine: it reads nothing of the state.
func (r *Runner) runHookIn(ctx context.Context, s hook.Spec) hook.Result {
	res := hook.Run(ctx, r.d.Reaper, s)
	if res.Err != nil {
		r.d.Log.Warn("hook failed to run", "service", r.sg, "hook", s.Name, "err", res.Err)
	}
	return res
}

func (r *Runner) hookSpec(st *state, name string, timeout time.Duration) hook.Spec {
	s := hook.Spec{
		Name: name, Path: st.paths.hook(name), Env: r.env(st), Dir: st.paths.root,
		Credential: st.cred, Timeout: timeout, LogDir: st.paths.logs, LogLimits: r.logLimits(st),
		Log: func(stream byte, line []byte) {
			r.d.Output(r.sg+" hook["+name+"]", stream, line)
			r.outputLine(api.StreamHooks, name, line)
		},
	}
	if st.group != nil {
		s.Group = st.group
	}
	return s
}

// makeLogs creates logs/ before the first hook writes there.
func (st *state) makeLogs() {
	if st.logsMade {
		return
	}
	os.Mkdir(st.paths.logs, 0o755) // the supervisor's, as svcPaths.make says
	st.logsMade = true
}

// postRun runs post-run until it exits 0, a second apart, for as long as
// this process lives.
func (r *Runner) postRun(ctx context.Context, st *state) {
	pctx, cancel := context.WithCancel(ctx)
	st.postRunCancel = cancel
	st.makeLogs()
	spec := r.hookSpec(st, "post-run", 0)
	st.bg.Go(func() {
		for {
			res := hook.Run(pctx, r.d.Reaper, spec)
			if pctx.Err() != nil || (res.Err == nil && !res.TimedOut && res.Exit.Code == 0) {
				return
			}
			t := time.NewTimer(time.Second)
			select {
			case <-pctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	})
}

// describeTimed is describe with the limit a timed-out hook ran into.
func describeTimed(res hook.Result, limit time.Duration) string {
	if res.TimedOut {
		return "timed out after " + limit.String()
	}
	return describe(res)
}

func describe(res hook.Result) string {
	switch {
	case res.Err != nil:
		return "failed to run: " + res.Err.Error()
	case res.TimedOut:
		return "timed out"
	default:
		return res.Exit.String()
	}
}

func sigName(s syscall.Signal) string {
	if s == 0 {
		return ""
	}
	return unix.SignalName(s)
}
