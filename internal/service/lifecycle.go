package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/cgroup"
	"github.com/tend-sh/tend/internal/hook"
	"github.com/tend-sh/tend/internal/process"
	"golang.org/x/sys/unix"
)

// start brings the service up once: render, init, spawn run, post-run.
// Failures schedule a restart with backoff.
func (r *Runner) start(ctx context.Context, st *state) {
	defer r.attemptDone()
	st.svc.NextRestart = time.Time{}
	if ctx.Err() != nil || r.waitingForBinds(st) {
		return
	}
	if r.d.Gate != nil {
		select {
		case r.d.Gate <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-r.d.Gate }()
	}
	if err := r.prepare(st); err != nil {
		r.startFailed(ctx, st, err, "run_hook_failed")
		return
	}
	if _, ok := st.tpl.hooks["init"]; ok {
		res := r.runHook(ctx, st, "init", 0)
		if res.Err != nil || res.Exit.Code != 0 || res.TimedOut {
			r.startFailed(ctx, st, fmt.Errorf("init hook %s", describe(res)), "init_hook_failed")
			return
		}
	}
	st.svc.Initialized = true
	st.runLogs = newLogPair(st.paths.logs, "run", st.gid, r.logLimits(st))
	logs := st.runLogs
	ps := process.Spec{
		Path:       st.paths.hook("run"),
		Env:        st.env,
		Dir:        st.paths.root,
		Credential: st.cred,
		Stdout:     func(line []byte) { r.d.Output(r.sg, 'O', line); logs.out.write(line) },
		Stderr:     func(line []byte) { r.d.Output(r.sg, 'E', line); logs.err.write(line) },
		Leader:     true,
	}
	if st.group != nil {
		ps.Group = st.group
	}
	if run := st.last.directRun(st.env, r.pathCache()); run.ok {
		ps.Path, ps.Arg0, ps.Args = run.path, run.argv[0], run.argv[1:]
	}
	p, err := r.d.Reaper.Start(ps)
	if err != nil {
		if st.group != nil && errors.Is(err, unix.ENOENT) {
			// The cgroup may have been removed under the supervisor: make
			// it again for the next attempt.
			_, _ = r.d.Tracker.Group(st.spec.Name())
		}
		logs.close()
		r.startFailed(ctx, st, fmt.Errorf("run hook: %w", err), "run_hook_failed")
		return
	}
	now := time.Now()
	st.proc, st.procDone, st.startedAt = p, p.Done(), now
	r.writePID(st, p.PID())
	st.svc.Running, st.svc.PID, st.svc.StateEntered, st.svc.StartError = true, p.PID(), now, ""
	r.record(st, true, "started (pid %d)", p.PID())
	st.healthOKSeen = false
	if _, ok := st.tpl.hooks["health-check"]; ok {
		st.svc.Health = api.HealthUnknown
		r.checkHealth(ctx, st)
	} else {
		st.svc.Health = api.HealthOK
	}
	if _, ok := st.tpl.hooks["post-run"]; ok {
		r.postRun(ctx, st)
	}
	r.publish(st)
}

func (r *Runner) startFailed(ctx context.Context, st *state, err error, reason string) {
	now := time.Now()
	st.svc.StartError = err.Error()
	st.svc.LastExit = &api.Exit{At: now, Code: -1, Reason: reason}
	st.svc.Health = api.HealthCritical
	r.record(st, false, "start failed: %v", err)
	r.scheduleRestart(ctx, st, st.restarts.next(0))
	r.publish(st)
}

func (r *Runner) scheduleRestart(ctx context.Context, st *state, d time.Duration) {
	if !st.spec.Up() || ctx.Err() != nil {
		return
	}
	st.svc.RestartCount++
	st.svc.NextRestart = time.Now().Add(d)
	if st.restartT != nil {
		st.restartT.Stop()
	}
	st.restartT = time.NewTimer(d)
	st.restartC = st.restartT.C
}

// exited handles the run process ending on its own.
func (r *Runner) exited(ctx context.Context, st *state) {
	e := st.proc.Exit()
	pid := st.proc.PID()
	upFor := e.At.Sub(st.startedAt)
	r.dropProcess(st)
	// What the run process started goes with it: a restart must not run
	// beside its predecessor's children.
	r.killGroup(st)
	st.svc.LastExit = &api.Exit{PID: pid, Code: e.Code, Signal: sigName(e.Signal), At: e.At, Reason: "run_hook_failed"}
	st.svc.Health = api.HealthCritical
	r.record(st, false, "%s", e.String())
	d := st.restarts.next(upFor)
	if d == 0 && st.spec.Up() && ctx.Err() == nil {
		// The fast path: no timer, no extra trip through the loop.
		st.svc.RestartCount++
		r.start(ctx, st)
		return
	}
	r.scheduleRestart(ctx, st, d)
	r.publish(st)
}

// dropProcess forgets the process and everything tied to its life.
func (r *Runner) dropProcess(st *state) {
	r.cancelHealth(st)
	if st.postRunCancel != nil {
		st.postRunCancel()
		st.postRunCancel = nil
	}
	if st.runLogs != nil {
		st.runLogs.close()
		st.runLogs = nil
	}
	st.proc, st.procDone = nil, nil
	removePID(st.paths.pidFile)
	st.svc.Running, st.svc.PID, st.svc.StateEntered = false, 0, time.Now()
}

// stop takes the service down: shutdown signal to its group, the timeout,
// SIGKILL, then post-stop. reason is Habitat's termination_reason.
func (r *Runner) stop(st *state, reason string) {
	if st.restartT != nil {
		st.restartT.Stop()
		st.restartC = nil
	}
	st.svc.NextRestart = time.Time{}
	if st.proc == nil {
		r.cancelHealth(st)
		// A hook's descendants may still run: stopped means nothing runs.
		r.killGroup(st)
		st.svc.Health = api.HealthCritical // SPEC §5: CRITICAL when the process is not up
		return
	}
	pid := st.proc.PID()
	// Stopping must finish even when the supervisor is shutting down.
	e := st.proc.Stop(context.Background(), st.shutdownSignal(), st.shutdownTimeout())
	r.dropProcess(st)
	st.svc.LastExit = &api.Exit{PID: pid, Code: e.Code, Signal: sigName(e.Signal), At: e.At, Reason: reason}
	st.svc.Health = api.HealthCritical
	if _, ok := st.tpl.hooks["post-stop"]; ok {
		r.runHook(context.Background(), st, "post-stop", time.Minute)
	}
	r.record(st, true, "stopped (%s)", e.String())
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

// restart stops and starts at once, with the backoff reset: the restart was
// asked for, not caused by a crash.
func (r *Runner) restart(ctx context.Context, st *state, reason string) {
	r.stop(st, reason)
	st.restarts.reset()
	r.start(ctx, st)
}

// reconfigure re-renders after a config change and restarts or runs the
// reconfigure hook as SPEC §5 says.
func (r *Runner) reconfigure(ctx context.Context, st *state) {
	cfg, err := r.config(st)
	if err == nil && st.prepared {
		var cur *rendered
		if cur, err = st.tpl.render(r.dataFor(st, cfg)); err == nil {
			if err = r.writeRendered(st, cur); err == nil {
				ch := diff(st.last, cur)
				st.last = cur
				st.setCfg(cfg)
				st.svc.UserConfigUpdated = true
				r.applyChanges(ctx, st, ch)
				r.publish(st)
				return
			}
		}
	}
	if err != nil {
		r.record(st, false, "config not applied: %v", err)
		r.publish(st)
		return
	}
	st.setCfg(cfg) // not started yet: the next start renders it
	r.publish(st)
}

func (r *Runner) applyChanges(ctx context.Context, st *state, ch changes) {
	if !ch.config && !ch.reconfigure && len(ch.restartHooks) == 0 {
		return
	}
	r.record(st, true, "config re-rendered")
	if st.proc == nil {
		return
	}
	_, hasReconfigure := st.tpl.hooks["reconfigure"]
	switch {
	case len(ch.restartHooks) > 0:
		r.restart(ctx, st, strings.ReplaceAll(ch.restartHooks[0], "-", "_")+"_hook_updated")
	case ch.config && !hasReconfigure:
		r.restart(ctx, st, "app_config_updated")
	case hasReconfigure:
		res := r.runHook(ctx, st, "reconfigure", 0)
		r.record(st, res.Err == nil && res.Exit.Code == 0, "reconfigure hook %s", describe(res))
		r.cancelHealth(st)
		r.checkHealth(ctx, st)
	}
}

// track finds the service's group and stops what a supervisor killed
// with SIGKILL left of the service, before anything of it starts, so a
// service never runs twice: its shutdown signal to every process left,
// the shutdown timeout, then SIGKILL.
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
		st.svc.Usage = func() (api.Usage, bool) {
			s, ok := g.Stats()
			return api.Usage{CPUSeconds: s.CPUSeconds, MemoryBytes: s.MemoryBytes}, ok
		}
	}
	pids, err := g.Members()
	if err != nil || len(pids) == 0 {
		return
	}
	r.d.Log.Warn("stopping processes left by a previous supervisor", "service", r.sg, "pids", pids)
	_ = g.Signal(st.shutdownSignal())
	_ = g.Signal(unix.SIGCONT)
	tctx, cancel := context.WithTimeout(ctx, st.shutdownTimeout())
	_ = g.WaitEmpty(tctx)
	cancel()
	r.killGroup(st)
	removePID(st.paths.pidFile)
	r.record(st, true, "stopped %d processes left by a previous supervisor", len(pids))
}

// untrack removes the service's cgroup once Run has stopped the service.
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
func (r *Runner) killGroup(st *state) {
	if st.group == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := st.group.Kill(ctx); err != nil {
		r.d.Log.Error("processes of the service left running", "service", r.sg, "err", err)
	}
}

// writePID writes the PID file right after the fork, with the process's
// start time: a supervisor killed a moment later leaves it to its
// successor, which can tell this process from one that reused its pid.
func (r *Runner) writePID(st *state, pid int) {
	if err := cgroup.WritePIDFile(st.paths.pidFile, pid); err != nil && !errors.Is(err, cgroup.ErrExited) {
		r.d.Log.Warn("write PID file", "service", r.sg, "err", err)
	}
}

// marker is the environment entry that names a run process as ours.
func (r *Runner) marker() string { return "TEND_SERVICE_ID=" + r.d.MemberID + "/" + r.sg }

// runHook runs a non-run hook to completion on the runner's goroutine.
func (r *Runner) runHook(ctx context.Context, st *state, name string, timeout time.Duration) hook.Result {
	st.makeLogs()
	res := hook.Run(ctx, r.d.Reaper, r.hookSpec(st, name, timeout))
	if res.Err != nil {
		r.d.Log.Warn("hook failed to run", "service", r.sg, "hook", name, "err", res.Err)
	}
	return res
}

func (r *Runner) hookSpec(st *state, name string, timeout time.Duration) hook.Spec {
	s := hook.Spec{
		Name: name, Path: st.paths.hook(name), Env: st.env, Dir: st.paths.root,
		Credential: st.cred, Timeout: timeout, LogDir: st.paths.logs, LogLimits: r.logLimits(st),
		Log: func(stream byte, line []byte) {
			r.d.Output(r.sg+" hook["+name+"]", stream, line)
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
