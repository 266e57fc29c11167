package service

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/service/servicetest"
	"github.com/tend-sh/tend/internal/spec"
)

func seconds(n int) *int { return &n }

// A service starts, runs, and stops on request; its phases follow the
// table and its status tells each step.
func TestStartAndStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		fx := newFixture(t, f, testPkg(t, map[string]string{}))
		defer fx.close()
		synctest.Wait()
		if s := fx.r.Status(); !s.Running || s.PID == 0 || s.Health != api.HealthOK {
			t.Fatalf("after start: %+v", s)
		}
		if p := fx.phaseOf(); p != phaseUp {
			t.Fatalf("phase %s, want up", p)
		}
		select {
		case <-fx.r.Tried():
		default:
			t.Fatal("Tried not closed after the first start")
		}
		n := fx.r.Attempts()
		if err := fx.r.SetDesired(context.Background(), false); err != nil {
			t.Fatal(err)
		}
		s, err := fx.r.WaitAttempt(context.Background(), n)
		if err != nil || s.Running || s.DesiredUp || s.LastExit == nil || s.LastExit.Signal != "SIGTERM" {
			t.Fatalf("after stop: %+v, %v", s, err)
		}
		if p := fx.phaseOf(); p != phaseDown {
			t.Fatalf("phase %s, want down", p)
		}
		if f.Alive() != 0 {
			t.Fatalf("%d processes alive after stop", f.Alive())
		}
		n = fx.r.Attempts()
		fx.r.SetDesired(context.Background(), true)
		if s, _ := fx.r.WaitAttempt(context.Background(), n); !s.Running {
			t.Fatalf("after start: %+v", s)
		}
		if f.Count("run") != 2 {
			t.Fatalf("%d run processes started, want 2", f.Count("run"))
		}
	})
}

// A crash is restarted at once, the next one after the backoff.
func TestCrashBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		fx := newFixture(t, f, testPkg(t, map[string]string{}))
		defer fx.close()
		synctest.Wait()
		f.Last("run").Crash()
		synctest.Wait()
		if f.Count("run") != 2 {
			t.Fatalf("first crash: %d starts, want an immediate restart", f.Count("run"))
		}
		f.Last("run").Crash()
		synctest.Wait()
		s := fx.r.Status()
		if f.Count("run") != 2 || s.Running || s.RestartCount != 2 || s.NextRestart.IsZero() {
			t.Fatalf("second crash: %d starts, status %+v; want a restart scheduled", f.Count("run"), s)
		}
		if p := fx.phaseOf(); p != phaseBackingOff {
			t.Fatalf("phase %s, want backing off", p)
		}
		wait := time.Until(s.NextRestart)
		if wait < time.Second || wait > 3*time.Second {
			t.Fatalf("backoff %s, want 1s to 3s", wait)
		}
		time.Sleep(wait + time.Millisecond)
		synctest.Wait()
		if f.Count("run") != 3 || !fx.r.Status().Running {
			t.Fatalf("after the backoff: %d starts, running %v", f.Count("run"), fx.r.Status().Running)
		}
	})
}

// An init hook that never returns is killed at the hook timeout and the
// start fails; meanwhile the runner answers and counts as tried.
func TestInitTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		fx := newFixture(t, f, testPkg(t, map[string]string{"init": "#!/bin/sh\nsleep 1000\n"}),
			withSpec(func(s *spec.Spec) { s.HookTimeout = seconds(5) }))
		defer fx.close()
		synctest.Wait()
		select {
		case <-fx.r.Tried():
		default:
			t.Fatal("not tried while init runs")
		}
		if p := fx.phaseOf(); p != phaseStarting {
			t.Fatalf("phase %s while init runs, want starting", p)
		}
		if err := fx.r.Settle(context.Background()); err != nil {
			t.Fatalf("Settle while init runs: %v", err)
		}
		begin := time.Now()
		s, err := fx.r.WaitAttempt(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d < 5*time.Second || d > 7*time.Second {
			t.Fatalf("init ended after %s, want the 5s timeout", d)
		}
		if !strings.Contains(s.StartError, "init hook timed out after 5s") || s.Running || f.Count("run") != 0 {
			t.Fatalf("status %+v, %d run starts", s, f.Count("run"))
		}
		// The first restart is immediate: init runs again.
		synctest.Wait()
		if p := fx.phaseOf(); p != phaseStarting || f.Count("init") != 2 {
			t.Fatalf("phase %s, %d inits; want init tried again at once", p, f.Count("init"))
		}
	})
}

// Stopping a service while its init runs cancels the init: nothing is
// spawned.
func TestStopDuringInit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		fx := newFixture(t, f, testPkg(t, map[string]string{"init": "#!/bin/sh\nsleep 1000\n"}))
		defer fx.close()
		synctest.Wait()
		if err := fx.r.SetDesired(context.Background(), false); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.r.WaitAttempt(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if p := fx.phaseOf(); p != phaseDown || f.Count("run") != 0 || f.Alive() != 0 {
			t.Fatalf("phase %s, %d run starts, %d alive", p, f.Count("run"), f.Alive())
		}
	})
}

// A process that ignores the shutdown signal is killed after the
// shutdown timeout; meanwhile the runner's loop answers.
func TestStopDoesNotBlockTheLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		f.Behave("run", func(int) servicetest.Life { return servicetest.Life{D: -1, IgnoreTerm: true} })
		fx := newFixture(t, f, testPkg(t, map[string]string{}))
		defer fx.close()
		synctest.Wait()
		n := fx.r.Attempts()
		fx.r.SetDesired(context.Background(), false)
		synctest.Wait()
		if p := fx.phaseOf(); p != phaseStopping {
			t.Fatalf("phase %s, want stopping", p)
		}
		// Asked to be up again while stopping: it starts once stopped.
		if err := fx.r.SetDesired(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		s, _ := fx.r.WaitAttempt(context.Background(), n)
		if d := time.Since(begin); d < 8*time.Second {
			t.Fatalf("stopped after %s, before the 8s shutdown timeout", d)
		}
		if !s.Running || f.Count("run") != 2 || f.Procs("run")[0].Exit().Signal != syscall.SIGKILL {
			t.Fatalf("status %+v, %d starts, first exit %v", s, f.Count("run"), f.Procs("run")[0].Exit())
		}
	})
}

// A post-stop hook that never returns is killed at the hook timeout.
func TestPostStopTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		fx := newFixture(t, f, testPkg(t, map[string]string{"post-stop": "#!/bin/sh\nsleep 1000\n"}),
			withSpec(func(s *spec.Spec) { s.HookTimeout = seconds(3) }))
		defer fx.close()
		synctest.Wait()
		n := fx.r.Attempts()
		begin := time.Now()
		fx.r.SetDesired(context.Background(), false)
		s, _ := fx.r.WaitAttempt(context.Background(), n)
		if d := time.Since(begin); d < 3*time.Second || d > 5*time.Second {
			t.Fatalf("stop took %s, want the 3s hook timeout", d)
		}
		found := false
		for _, r := range s.Records {
			found = found || strings.Contains(r.Text, "post-stop hook timed out after 3s")
		}
		if !found || f.Alive() != 0 {
			t.Fatalf("records %+v, %d alive", s.Records, f.Alive())
		}
	})
}

// Health checks: the first right after the start, a failed one again
// after a quarter of the interval.
func TestHealthChecks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		f.Behave("health-check", func(n int) servicetest.Life {
			if n == 0 {
				return servicetest.Exits(1) // WARNING
			}
			return servicetest.Exits(0)
		})
		fx := newFixture(t, f, testPkg(t, map[string]string{"health-check": "#!/bin/sh\nexit 0\n"}),
			withSpec(func(s *spec.Spec) { s.HealthCheckInterval = spec.FromD(20 * time.Second) }))
		defer fx.close()
		synctest.Wait()
		if s := fx.r.Status(); s.Health != api.HealthWarning || f.Count("health-check") != 1 {
			t.Fatalf("after the first check: %s, %d checks", s.Health, f.Count("health-check"))
		}
		time.Sleep(5*time.Second - time.Millisecond)
		synctest.Wait()
		if f.Count("health-check") != 1 {
			t.Fatal("re-checked before a quarter of the interval")
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		if s := fx.r.Status(); s.Health != api.HealthOK || f.Count("health-check") != 2 || len(s.HealthHistory) != 2 {
			t.Fatalf("after the re-check: %s, %d checks", s.Health, f.Count("health-check"))
		}
	})
}

// A health check that outlives the interval is killed and counts as
// UNKNOWN.
func TestHealthCheckTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		f.Behave("health-check", func(int) servicetest.Life { return servicetest.Forever })
		fx := newFixture(t, f, testPkg(t, map[string]string{"health-check": "#!/bin/sh\nsleep 1000\n"}),
			withSpec(func(s *spec.Spec) { s.HealthCheckInterval = spec.FromD(4 * time.Second) }))
		defer fx.close()
		time.Sleep(6 * time.Second)
		synctest.Wait()
		if s := fx.r.Status(); s.Health != api.HealthUnknown || len(s.HealthHistory) == 0 {
			t.Fatalf("after a hung check: %s %+v", s.Health, s.HealthHistory)
		}
	})
}

// A strict bind holds the start until the ring satisfies it.
func TestWaitsForBinds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		p := testPkg(t, map[string]string{})
		p.Binds = map[string][]string{"db": {"port"}}
		fx := newFixture(t, f, p, func(o *Options) {
			o.Spec.Binds = []string{"db:postgres.default"}
			o.Ring = RingView{Key: "a", Unsatisfied: []string{"db"}}
		})
		defer fx.close()
		synctest.Wait()
		if p := fx.phaseOf(); p != phaseWaitingBinds || f.Count("run") != 0 {
			t.Fatalf("phase %s, %d starts", p, f.Count("run"))
		}
		if s := fx.r.Status(); !strings.Contains(s.StartError, "waiting for binds: db") {
			t.Fatalf("status %+v", s)
		}
		fx.r.SetRing(RingView{Key: "b", Binds: map[string]any{"db": map[string]any{}}})
		synctest.Wait()
		if p := fx.phaseOf(); p != phaseUp || f.Count("run") != 1 {
			t.Fatalf("after the bind: phase %s, %d starts", p, f.Count("run"))
		}
	})
}

// A run process that cannot be started is a failed start, retried.
func TestSpawnFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		f.Fail(syscall.ENOEXEC)
		fx := newFixture(t, f, testPkg(t, map[string]string{}))
		defer fx.close()
		s, _ := fx.r.WaitAttempt(context.Background(), 0)
		if !strings.Contains(s.StartError, "run hook") || s.Running {
			t.Fatalf("status %+v", s)
		}
		f.Fail(nil)
		time.Sleep(time.Second)
		synctest.Wait()
		if !fx.r.Status().Running {
			t.Fatal("not restarted")
		}
	})
}

// Shutdown stops a service whose init runs, and one that is stopping.
func TestShutdownWaitsForInitAndStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		fx := newFixture(t, f, testPkg(t, map[string]string{"init": "#!/bin/sh\nsleep 1000\n"}))
		synctest.Wait()
		fx.close()
		if f.Alive() != 0 {
			t.Fatalf("%d alive after shutdown during init", f.Alive())
		}

		f2 := servicetest.NewStarter()
		f2.Behave("run", func(int) servicetest.Life { return servicetest.Life{D: -1, IgnoreTerm: true} })
		fx2 := newFixture(t, f2, testPkg(t, map[string]string{}))
		synctest.Wait()
		fx2.r.SetDesired(context.Background(), false)
		synctest.Wait()
		fx2.close()
		if f2.Alive() != 0 || fx2.r.Status().Running {
			t.Fatalf("%d alive after shutdown during a stop", f2.Alive())
		}
	})
}

// Every phase has its row, and the table allows what the runner does.
func TestPhaseTable(t *testing.T) {
	for p := phaseDown; p <= phaseStopping; p++ {
		if p.String() == "" || len(transitions[p]) == 0 {
			t.Errorf("phase %d has no name or no way out", p)
		}
		if !canMove(p, p) {
			t.Errorf("%s cannot stay", p)
		}
	}
	for _, m := range [][2]phase{{phaseStopping, phaseUp}, {phaseStarting, phaseStopping}, {phaseStopping, phaseBackingOff}} {
		if canMove(m[0], m[1]) {
			t.Errorf("%s -> %s allowed", m[0], m[1])
		}
	}
}

// stuckGroup is a service's processes, one of which is stuck in the
// kernel: a kill waits until released or until it gives up.
type stuckGroup struct {
	release chan struct{}
	kills   atomic.Int32
}

func (g *stuckGroup) Dir() string                         { return "" }
func (g *stuckGroup) Signal(syscall.Signal) error         { return nil }
func (g *stuckGroup) WaitEmpty(ctx context.Context) error { return nil }
func (g *stuckGroup) Remove() error                       { return nil }
func (g *stuckGroup) Kill(ctx context.Context) error {
	g.kills.Add(1)
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("1 process left: %w", ctx.Err())
	}
}

// startStuck starts a service whose processes include one stuck in the
// kernel (its group's kills wait for g.release), and waits for its first
// start.
func startStuck(t *testing.T) (*servicetest.Starter, *stuckGroup, *fixture) {
	t.Helper()
	f := servicetest.NewStarter()
	g := &stuckGroup{release: make(chan struct{})}
	fx := newGroupFixture(t, f, testPkg(t, map[string]string{}), g)
	synctest.Wait()
	if f.Count("run") != 1 {
		fx.close()
		t.Fatalf("%d starts, want 1", f.Count("run"))
	}
	return f, g, fx
}

// Stopping a service that is not up kills what it left running beside
// the loop: while the kill waits the runner answers status and commands,
// and once the kill gives up the service is down (and starts again when
// it was asked to meanwhile).
func TestStopWhileNotUpDoesNotBlockTheLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		g := &stuckGroup{release: make(chan struct{})}
		p := testPkg(t, map[string]string{})
		p.Binds = map[string][]string{"db": {"port"}}
		fx := newGroupFixture(t, f, p, g, func(o *Options) {
			o.Spec.Binds = []string{"db:postgres.default"}
			o.Ring = RingView{Key: "a", Unsatisfied: []string{"db"}}
		})
		defer fx.close()
		synctest.Wait()
		if p := fx.phaseOf(); p != phaseWaitingBinds {
			t.Fatalf("phase %s, want waiting for binds", p)
		}
		n := fx.r.Attempts()
		begin := time.Now()
		if err := fx.r.SetDesired(context.Background(), false); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if p := fx.phaseOf(); p != phaseStopping || g.kills.Load() != 1 {
			t.Fatalf("phase %s, %d kills; want stopping while the kill waits", p, g.kills.Load())
		}
		if s := fx.r.Status(); s.DesiredUp || s.Health != api.HealthCritical {
			t.Fatalf("status while the kill waits: %+v", s)
		}
		// Asked to be up again while its leftovers are killed.
		if err := fx.r.SetDesired(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d != 0 {
			t.Fatalf("the runner answered after %s: its loop waited for the kill", d)
		}
		time.Sleep(killWait - time.Millisecond)
		synctest.Wait()
		if p := fx.phaseOf(); p != phaseStopping || fx.r.Attempts() != n {
			t.Fatalf("phase %s before the kill gave up, want stopping", p)
		}
		time.Sleep(time.Millisecond)
		s, err := fx.r.WaitAttempt(context.Background(), n)
		if err != nil || !strings.Contains(s.StartError, "waiting for binds: db") || !s.DesiredUp {
			t.Fatalf("after the kill gave up: %+v, %v", s, err)
		}
		if p := fx.phaseOf(); p != phaseWaitingBinds {
			t.Fatalf("phase %s after the kill, want waiting for binds again", p)
		}
		if l := fx.log.String(); !strings.Contains(l, "processes of the service left running") {
			t.Fatalf("the failed kill was not logged:\n%s", l)
		}

		// A kill that ends takes the service down at once.
		n = fx.r.Attempts()
		close(g.release)
		fx.r.SetDesired(context.Background(), false)
		if s, _ := fx.r.WaitAttempt(context.Background(), n); s.DesiredUp || s.Running {
			t.Fatalf("after a stop: %+v", s)
		}
		if p := fx.phaseOf(); p != phaseDown || f.Count("run") != 0 {
			t.Fatalf("phase %s, %d run starts; want down, never started", p, f.Count("run"))
		}
	})
}

// Within the start-up grace a failing check reports UNKNOWN (the service
// has not opened its port yet); after it, the check's own status.
func TestHealthCheckGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		f.Behave("health-check", func(int) servicetest.Life { return servicetest.Exits(2) })
		grace := 10
		fx := newFixture(t, f, testPkg(t, map[string]string{"health-check": "#!/bin/sh\nexit 2\n"}),
			withSpec(func(s *spec.Spec) {
				s.HealthCheckInterval = spec.FromD(4 * time.Second)
				s.HealthCheckGrace = &grace
			}))
		defer fx.close()
		synctest.Wait()
		if s := fx.r.Status(); s.Health != api.HealthUnknown || f.Count("health-check") != 1 {
			t.Fatalf("first failing check within the grace: %s, %d checks; want UNKNOWN", s.Health, f.Count("health-check"))
		}
		time.Sleep(9 * time.Second)
		synctest.Wait()
		if s := fx.r.Status(); s.Health != api.HealthUnknown {
			t.Fatalf("failing check at 9 s of a 10 s grace: %s; want UNKNOWN", s.Health)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if s := fx.r.Status(); s.Health != api.HealthCritical {
			t.Fatalf("failing check after the grace: %s; want CRITICAL", s.Health)
		}
	})
}

// A leader-topology service does not start until its group's election is
// finished, and keeps running through a later election.
func TestWaitsForElection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		fx := newFixture(t, f, testPkg(t, map[string]string{}), func(o *Options) {
			o.Spec.Topology = "leader"
			o.Ring = RingView{Key: "a", ElectionWait: "election in progress"}
		})
		defer fx.close()
		synctest.Wait()
		if p := fx.phaseOf(); p != phaseWaitingElection || f.Count("run") != 0 {
			t.Fatalf("phase %s, %d starts", p, f.Count("run"))
		}
		if s := fx.r.Status(); s.StartError != WaitingForElection+"election in progress" {
			t.Fatalf("status %+v", s)
		}
		fx.r.SetRing(RingView{Key: "b"})
		synctest.Wait()
		if p := fx.phaseOf(); p != phaseUp || f.Count("run") != 1 {
			t.Fatalf("after the election: phase %s, %d starts", p, f.Count("run"))
		}
		fx.r.SetRing(RingView{Key: "c", ElectionWait: "election in progress"})
		synctest.Wait()
		fx.r.SetRing(RingView{Key: "d"})
		synctest.Wait()
		if p := fx.phaseOf(); p != phaseUp || f.Count("run") != 1 {
			t.Fatalf("through a new election: phase %s, %d starts", p, f.Count("run"))
		}
	})
}

// A crash whose leftovers do not die at once (a process stuck in the
// kernel) is restarted only once they are gone, and meanwhile the runner
// answers: the kill waits beside the loop, not on it.
func TestCrashLeftoversKilledBesideTheLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, g, fx := startStuck(t)
		defer fx.close()
		kills := g.kills.Load()
		f.Last("run").Crash()
		synctest.Wait() // the loop waits briefKill for the leftovers
		time.Sleep(briefKill)
		synctest.Wait()
		if p := fx.phaseOf(); p != phaseStopping || f.Count("run") != 1 || g.kills.Load() != kills+2 {
			t.Fatalf("phase %s, %d starts, %d kills; want stopping, no restart beside the leftovers", p, f.Count("run"), g.kills.Load()-kills)
		}
		if s := fx.r.Status(); s.Running || s.LastExit == nil || s.Health != api.HealthCritical {
			t.Fatalf("status while the leftovers are killed: %+v", s)
		}
		begin := time.Now()
		if err := fx.r.SetDesired(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if d := time.Since(begin); d != 0 {
			t.Fatalf("the runner answered after %s: its loop waited for the kill", d)
		}
		close(g.release)
		synctest.Wait()
		if f.Count("run") != 2 || !fx.r.Status().Running || fx.r.Status().RestartCount != 1 {
			t.Fatalf("after the leftovers died: %d starts, %+v; want restarted at once", f.Count("run"), fx.r.Status())
		}
		if l := fx.log.String(); !strings.Contains(l, "crashed; next start now") {
			t.Fatalf("the crash was not recorded:\n%s", l)
		}
	})
}

// Processes of the service that outlive SIGKILL (stuck in the kernel)
// never get a second copy beside them: after a crash, and after a stop
// the service was asked to come back from, every start attempt kills
// again and backs off while any is left, and the service starts once
// they are gone.
func TestNoSecondCopyBesideProcessesThatOutliveKill(t *testing.T) {
	for _, how := range []string{"crash", "restart"} {
		t.Run(how, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f, g, fx := startStuck(t)
				defer fx.close()
				switch how {
				case "crash":
					f.Last("run").Crash()
				case "restart":
					go fx.r.Restart(context.Background())
				}
				time.Sleep(time.Minute) // the kill gives up after killWait; attempts follow
				synctest.Wait()
				s := fx.r.Status()
				if n := f.Count("run"); n != 1 || s.Running {
					t.Fatalf("%d starts, running %v: a copy started beside processes that outlived SIGKILL", n, s.Running)
				}
				if !strings.Contains(s.StartError, "outlived SIGKILL") || s.RestartCount < 3 || !s.DesiredUp {
					t.Fatalf("status while they are left: %+v; want the reason and attempts backing off", s)
				}
				if p := fx.phaseOf(); p != phaseBackingOff {
					t.Fatalf("phase %s, want backing off", p)
				}
				close(g.release)
				time.Sleep(fx.r.d.Backoff.Max + time.Millisecond)
				synctest.Wait()
				if s := fx.r.Status(); f.Count("run") != 2 || !s.Running || s.StartError != "" {
					t.Fatalf("once they are gone: %d starts, %+v; want started again", f.Count("run"), s)
				}
			})
		})
	}
}

// goneGroup is a service's cgroup removed under the supervisor: every
// kill fails to read it.
type goneGroup struct{ stuckGroup }

func (g *goneGroup) Kill(context.Context) error {
	return &fs.PathError{Op: "open", Path: "cgroup.procs", Err: fs.ErrNotExist}
}

// A cgroup removed under the supervisor holds no process: a crash
// restarts the service (whose start makes the cgroup again), it is not
// held back as if processes had outlived SIGKILL.
func TestRemovedGroupDoesNotHoldStartsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		fx := newGroupFixture(t, f, testPkg(t, map[string]string{}), &goneGroup{})
		defer fx.close()
		synctest.Wait()
		f.Last("run").Crash()
		time.Sleep(time.Minute)
		synctest.Wait()
		if s := fx.r.Status(); f.Count("run") != 2 || !s.Running || s.StartError != "" {
			t.Fatalf("after a crash with the cgroup gone: %d starts, %+v; want restarted", f.Count("run"), s)
		}
	})
}
