package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/cgroup"
	"github.com/tend-sh/tend/internal/hook"
	"github.com/tend-sh/tend/internal/process"
	"github.com/tend-sh/tend/internal/service/servicetest"
	"github.com/tend-sh/tend/internal/spec"
)

// adoptingStarter is a fake reaper that can also take over a process a
// killed supervisor left running (hook.Adopter), as process.Reaper can.
type adoptingStarter struct {
	*servicetest.Starter
	adopt func(process.Adoption) (hook.Process, []string, error)
	mu    sync.Mutex
	asked []process.Adoption
}

func (s *adoptingStarter) Adopt(a process.Adoption) (hook.Process, []string, error) {
	s.mu.Lock()
	s.asked = append(s.asked, a)
	s.mu.Unlock()
	return s.adopt(a)
}

func (s *adoptingStarter) adoptions() []process.Adoption {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]process.Adoption(nil), s.asked...)
}

// leftover is a fake process standing for a run process that a killed
// supervisor left running: started under a name of its own, so that it
// is not counted as a start of the service's run process.
func leftover(t *testing.T, f *servicetest.Starter) *servicetest.Proc {
	t.Helper()
	p, err := f.Start(process.Spec{Path: "/previous/hooks/leftover"})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*servicetest.Proc)
}

// withPID is a fake process under another pid: a real one's, for
// the runner to adopt.
type withPID struct {
	*servicetest.Proc
	pid int
}

func (p withPID) PID() int { return p.pid }

func hasRecord(s *api.Service, text string) bool {
	for _, r := range s.Records {
		if strings.Contains(r.Text, text) {
			return true
		}
	}
	return false
}

// The run process a killed supervisor left running is taken over, not
// started again: no run or init hook runs, the status names its pid and
// keeps the uptime and restart count handed over, the output it writes
// goes on into its log files (FlushOutput puts it there), a stream that
// could not be reattached is recorded, and its crash is restarted like
// any other.
func TestAdoptsTheRunProcessLeftRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		f.Behave("init", func(int) servicetest.Life { return servicetest.Exits(0) })
		left := leftover(t, f)
		as := &adoptingStarter{Starter: f, adopt: func(a process.Adoption) (hook.Process, []string, error) {
			a.Stdout([]byte("written while no supervisor ran"))
			return left, []string{"stderr"}, nil
		}}
		entered := time.Now().Add(-time.Hour)
		fx := newIdleFixture(t, as, testPkg(t, map[string]string{"init": "#!/bin/sh\nexit 0\n"}), nil,
			withCarried(&Carried{PID: left.PID(), StateEntered: entered, RestartCount: 4}),
			func(o *Options) { o.Deps.OutputDir = t.TempDir() })
		fx.f = f
		fx.r.st.adopt = &process.Adoption{PID: left.PID(), Outputs: fx.r.outputs(fx.r.st), Leader: true}
		fx.run()
		defer fx.close()
		synctest.Wait()

		s := fx.r.Status()
		if !s.Running || s.PID != left.PID() || f.Count("run") != 0 || f.Count("init") != 0 {
			t.Fatalf("after the adoption: running %v pid %d (want %d), %d run and %d init starts; want adopted, nothing run",
				s.Running, s.PID, left.PID(), f.Count("run"), f.Count("init"))
		}
		if p := fx.phaseOf(); p != phaseUp {
			t.Fatalf("phase %s, want up", p)
		}
		if !s.StateEntered.Equal(entered) || s.RestartCount != 4 || !s.Initialized {
			t.Fatalf("state entered %s (want %s), restart count %d (want 4), initialized %v: the hand-over was lost",
				s.StateEntered, entered, s.RestartCount, s.Initialized)
		}
		if !hasRecord(s, fmt.Sprintf("adopted (pid %d) from a previous supervisor", left.PID())) ||
			!hasRecord(s, "output of the adopted process not reattached (stderr): it is lost") {
			t.Fatalf("records %+v; want the adoption and the lost stream", s.Records)
		}
		if a := as.adoptions(); len(a) != 1 || a[0].Outputs != fx.r.outputs(fx.r.st) {
			t.Fatalf("adoptions asked %+v; want one, with the service's FIFOs", a)
		}

		if err := fx.r.FlushOutput(context.Background()); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(fx.r.st.paths.logs, "run.stdout.log"))
		if err != nil || !strings.Contains(string(b), "written while no supervisor ran") {
			t.Fatalf("run.stdout.log after FlushOutput: %q, %v", b, err)
		}
		var older []string
		for _, l := range fx.r.Output().Older(api.StreamStdout, 0, 10) {
			older = append(older, l.Text)
		}
		if !strings.Contains(strings.Join(older, "\n"), "written while no supervisor ran") {
			t.Fatalf("svc logs' older lines %q; want the adopted process's line", older)
		}

		left.Crash()
		synctest.Wait()
		s = fx.r.Status()
		if f.Count("run") != 1 || f.Count("init") != 1 || !s.Running || s.LastExit == nil || s.LastExit.PID != left.PID() {
			t.Fatalf("after the adopted process crashed: %d run and %d init starts, %+v; want restarted, init first",
				f.Count("run"), f.Count("init"), s)
		}
	})
}

// FlushOutput of a runner that has ended is no error: a supervisor
// handing over may find a service unloaded meanwhile.
func TestFlushOutputAfterRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, servicetest.NewStarter(), testPkg(t, map[string]string{}))
		synctest.Wait()
		fx.close()
		if err := fx.r.FlushOutput(context.Background()); err != nil {
			t.Fatalf("FlushOutput after Run: %v", err)
		}
	})
}

// leftGroup is the processes a killed supervisor left of a service, which
// ignore the shutdown signal: WaitEmpty waits until its context ends,
// and only Kill ends them.
type leftGroup struct {
	procs   []*servicetest.Proc // ended by Kill
	mu      sync.Mutex
	signals []syscall.Signal
	waited  []time.Duration
	kills   int
}

func (g *leftGroup) Dir() string   { return "" }
func (g *leftGroup) Remove() error { return nil }
func (g *leftGroup) Kill(context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.kills++
	for _, p := range g.procs {
		p.Signal(syscall.SIGKILL)
	}
	return nil
}

func (g *leftGroup) Signal(sig syscall.Signal) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.signals = append(g.signals, sig)
	return nil
}

func (g *leftGroup) WaitEmpty(ctx context.Context) error {
	begin := time.Now()
	<-ctx.Done()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.waited = append(g.waited, time.Since(begin))
	return ctx.Err()
}

// A run process left running that cannot be adopted after all is
// stopped as a stop would: the package's shutdown signal (and SIGCONT,
// for a stopped one) to everything left, the service's shutdown timeout,
// then SIGKILL; only then does the service start afresh, so it never
// runs twice.
func TestLeftRunProcessNotAdoptedIsStoppedBeforeAStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		left := leftover(t, f)
		as := &adoptingStarter{Starter: f, adopt: func(process.Adoption) (hook.Process, []string, error) {
			return nil, nil, errors.New("its output FIFOs are gone")
		}}
		p := testPkg(t, map[string]string{})
		p.ShutdownSignal = "INT"
		g := &leftGroup{procs: []*servicetest.Proc{left}}
		fx := newIdleFixture(t, as, p, g,
			withSpec(func(s *spec.Spec) { s.ShutdownTimeout = seconds(3) }),
			func(o *Options) { o.Deps.OutputDir = t.TempDir() })
		fx.f = f
		fx.r.st.adopt = &process.Adoption{PID: left.PID(), Leader: true}
		begin := time.Now()
		fx.run()
		defer fx.close()
		s, err := fx.r.WaitFor(context.Background(), func(s *api.Service) bool { return s.Running })
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d != 3*time.Second {
			t.Fatalf("started after %s; want after the 3s shutdown timeout the leftovers were given", d)
		}
		g.mu.Lock()
		signals, waited, kills := g.signals, g.waited, g.kills
		g.mu.Unlock()
		if len(signals) != 2 || signals[0] != syscall.SIGINT || signals[1] != syscall.SIGCONT {
			t.Fatalf("signals to the leftovers %v; want SIGINT (the package's) then SIGCONT", signals)
		}
		if len(waited) != 1 || waited[0] != 3*time.Second || kills == 0 {
			t.Fatalf("waited %v, %d kills; want 3s, then SIGKILL", waited, kills)
		}
		synctest.Wait()
		select {
		case <-left.Done():
			if sig := left.Exit().Signal; sig != syscall.SIGKILL {
				t.Fatalf("the leftover ended by %v, want SIGKILL", sig)
			}
		default:
			t.Fatal("the leftover still runs")
		}
		if f.Count("run") != 1 || s.PID == left.PID() {
			t.Fatalf("%d starts, pid %d; want one fresh start", f.Count("run"), s.PID)
		}
		if !hasRecord(s, "stopped 1 processes left by a previous supervisor") {
			t.Fatalf("records %+v; want the leftovers' stop", s.Records)
		}
		if l := fx.log.String(); !strings.Contains(l, "cannot adopt the run process left by a previous supervisor") {
			t.Fatalf("the failed adoption was not logged:\n%s", l)
		}
	})
}

// Leftovers that outlive SIGKILL (a process stuck in the kernel) keep the
// service from starting a second copy beside them: it backs off, saying
// why, instead.
func TestLeftoversThatOutliveKillHoldTheStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		left := leftover(t, f)
		as := &adoptingStarter{Starter: f, adopt: func(process.Adoption) (hook.Process, []string, error) {
			return nil, nil, errors.New("its output FIFOs are gone")
		}}
		defer left.Signal(syscall.SIGKILL) // stuck in the kernel until the test ends
		g := &stuckGroup{release: make(chan struct{})}
		fx := newIdleFixture(t, as, testPkg(t, map[string]string{}), g,
			func(o *Options) { o.Deps.OutputDir = t.TempDir() })
		fx.f = f
		fx.r.st.adopt = &process.Adoption{PID: left.PID(), Leader: true}
		fx.run()
		defer fx.close()
		s, err := fx.r.WaitAttempt(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if f.Count("run") != 0 || s.Running || !strings.Contains(s.StartError, "outlived SIGKILL") {
			t.Fatalf("%d starts, %+v; want no start beside what outlived SIGKILL", f.Count("run"), s)
		}
		if p := fx.phaseOf(); p != phaseBackingOff {
			t.Fatalf("phase %s, want backing off", p)
		}
		close(g.release)
		time.Sleep(fx.r.d.Backoff.Max)
		synctest.Wait()
		if s := fx.r.Status(); f.Count("run") != 1 || !s.Running {
			t.Fatalf("once they are gone: %d starts, %+v; want started", f.Count("run"), s)
		}
	})
}

// A run process that was handed over (`sup restart`) but is gone by the
// time it is adopted counts as a crash: the service backs off as the
// handed-over streak says, rather than starting hot.
func TestHandedOverProcessGoneBeforeAdoption(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		as := &adoptingStarter{Starter: f, adopt: func(a process.Adoption) (hook.Process, []string, error) {
			return nil, nil, fmt.Errorf("%w: pid %d is gone", process.ErrNotAdoptable, a.PID)
		}}
		const pid = 1<<30 - 7
		fx := newIdleFixture(t, as, testPkg(t, map[string]string{}), &leftGroup{},
			withCarried(&Carried{PID: pid, StateEntered: time.Now(), RestartCount: 2, Streak: 2, LastBackoff: 2 * time.Second}),
			func(o *Options) { o.Deps.OutputDir = t.TempDir() })
		fx.f = f
		fx.r.st.adopt = &process.Adoption{PID: pid, Leader: true}
		fx.run()
		defer fx.close()
		// What is left is stopped first (its shutdown timeout).
		s, err := fx.r.WaitAttempt(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if f.Count("run") != 0 || s.Running || s.RestartCount != 3 || s.RestartStreak != 3 || time.Until(s.NextRestart) < time.Second {
			t.Fatalf("%d starts, restart count %d, streak %d, next start in %s; want the third restart in a row, backing off, no start",
				f.Count("run"), s.RestartCount, s.RestartStreak, time.Until(s.NextRestart))
		}
		if s.LastExit == nil || s.LastExit.PID != pid || !hasRecord(s, "exited during the hand-over") {
			t.Fatalf("last exit %+v, records %+v; want the handed-over pid's exit", s.LastExit, s.Records)
		}
	})
}

// adoptable names a process only when it is, for sure, the service's own
// run process, still running and wanted: never a pid reused by another
// process, never one outside the service, never one whose output could
// not be read or which should not run.
func TestAdoptableOnlyTheServicesOwnRunProcess(t *testing.T) {
	self := os.Getpid()
	start, err := cgroup.StartTime(self)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		down      bool
		noOutputs bool
		noAdopter bool
		pidFile   string // "" = none
		members   []int
		want      bool
	}{
		{name: "its run process", pidFile: fmt.Sprintf("%d\n%d\n", self, start), members: []int{self}, want: true},
		{name: "desired down", down: true, pidFile: fmt.Sprintf("%d\n%d\n", self, start), members: []int{self}},
		{name: "no output FIFOs", noOutputs: true, pidFile: fmt.Sprintf("%d\n%d\n", self, start), members: []int{self}},
		{name: "reaper cannot adopt", noAdopter: true, pidFile: fmt.Sprintf("%d\n%d\n", self, start), members: []int{self}},
		{name: "not among the service's processes", pidFile: fmt.Sprintf("%d\n%d\n", self, start), members: []int{self + 1}},
		{name: "pid reused", pidFile: fmt.Sprintf("%d\n%d\n", self, start+1), members: []int{self}},
		{name: "no start time", pidFile: fmt.Sprintf("%d\n", self), members: []int{self}},
		{name: "no PID file", members: []int{self}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := servicetest.NewStarter()
			var starter hook.Starter = &adoptingStarter{Starter: f}
			if c.noAdopter {
				starter = f
			}
			fx := newIdleFixture(t, starter, testPkg(t, map[string]string{}), nil, func(o *Options) {
				if !c.noOutputs {
					o.Deps.OutputDir = t.TempDir()
				}
				if c.down {
					o.Spec.DesiredState = spec.Down
				}
			})
			st := fx.r.st
			if c.pidFile != "" {
				if err := os.MkdirAll(filepath.Dir(st.paths.pidFile), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(st.paths.pidFile, []byte(c.pidFile), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			a := fx.r.adoptable(st, c.members)
			if !c.want {
				if a != nil {
					t.Fatalf("adoptable = %+v, want nil", *a)
				}
				return
			}
			if a == nil || a.PID != self || a.Start != start || a.Outputs != fx.r.outputs(st) || a.Outputs[0] == "" || !a.Leader {
				t.Fatalf("adoptable = %+v; want pid %d, start %d, the service's FIFOs", a, self, start)
			}
		})
	}
}

// leftoverProcess starts a real process marked as the run process of
// service svc of member: what a supervisor SIGKILLed leaves behind. It is
// reaped as soon as it exits; exited reports how.
func leftoverProcess(t *testing.T, member string) (pid int, exited <-chan *os.ProcessState) {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	cmd.Env = []string{"TEND_SERVICE_ID=" + member + "/svc.default"}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan *os.ProcessState, 1)
	reaped := make(chan struct{})
	go func() {
		cmd.Wait()
		ch <- cmd.ProcessState
		close(reaped)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-reaped
	})
	// Start returns once execve has passed its point of no return, but
	// the kernel sets up the new environment after that: a scan in
	// between reads an empty /proc/PID/environ, finds no marker and
	// misses the leftover (a supervisor's leftovers have long exec'd).
	environ := fmt.Sprintf("/proc/%d/environ", cmd.Process.Pid)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if b, _ := os.ReadFile(environ); bytes.Contains(b, []byte("TEND_SERVICE_ID=")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the leftover process has no marker in its environment")
		}
		time.Sleep(time.Millisecond)
	}
	return cmd.Process.Pid, ch
}

// trackedFixture is a runner whose processes a real Tracker finds
// through /proc, as a supervisor without cgroups has them. member is
// unique to the test: the scan sees every process of the host.
func trackedFixture(t *testing.T, starter hook.Starter, member string, opts ...fixtureOpt) *fixture {
	t.Helper()
	root := t.TempDir()
	tr, err := cgroup.Open(cgroup.Options{Mode: cgroup.Off, MemberID: member, StateDir: t.TempDir(), SvcDir: filepath.Join(root, "svc")})
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]fixtureOpt{func(o *Options) {
		o.Deps.Tracker, o.Deps.Root, o.Deps.MemberID = tr, root, member
	}}, opts...)
	return newIdleFixture(t, starter, testPkg(t, map[string]string{}), nil, opts...)
}

// waitExit waits for a leftover process to exit.
func waitExit(t *testing.T, exited <-chan *os.ProcessState, what string) *os.ProcessState {
	t.Helper()
	select {
	case ps := <-exited:
		return ps
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: the leftover process is still running", what)
		return nil
	}
}

// What a SIGKILLed supervisor left of a service, found through /proc by
// its marker, is stopped by the shutdown signal before the service starts
// again: one copy, never two.
func TestTrackStopsWhatAKilledSupervisorLeft(t *testing.T) {
	member := fmt.Sprintf("covs%d", os.Getpid())
	pid, exited := leftoverProcess(t, member)
	f := servicetest.NewStarter()
	fx := trackedFixture(t, f, member)
	fx.run()
	defer fx.close()
	ps := waitExit(t, exited, "after the start")
	if ws, ok := ps.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGTERM {
		t.Fatalf("the leftover ended as %v; want by the shutdown signal, SIGTERM", ps)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := fx.r.WaitFor(ctx, func(s *api.Service) bool { return s.Running })
	if err != nil {
		t.Fatal(err)
	}
	if f.Count("run") != 1 || s.PID == pid || !hasRecord(s, "stopped 1 processes left by a previous supervisor") {
		t.Fatalf("%d starts, pid %d, records %+v; want the leftover stopped, then one start", f.Count("run"), s.PID, s.Records)
	}
}

// A run process a SIGKILLed supervisor left running, named by its PID
// file with its start time, is adopted instead of stopped, and an unload
// (Run ending) stops it with everything else of the service.
func TestTrackAdoptsTheRunProcessAKilledSupervisorLeft(t *testing.T) {
	member := fmt.Sprintf("covs%d", os.Getpid())
	pid, exited := leftoverProcess(t, member)
	start, err := cgroup.StartTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	f := servicetest.NewStarter()
	fake := leftover(t, f)
	as := &adoptingStarter{Starter: f, adopt: func(a process.Adoption) (hook.Process, []string, error) {
		return withPID{fake, a.PID}, nil, nil
	}}
	fx := trackedFixture(t, as, member, func(o *Options) { o.Deps.OutputDir = t.TempDir() })
	fx.f = f
	pidFile := fx.r.st.paths.pidFile
	if err := os.MkdirAll(filepath.Dir(pidFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := cgroup.WritePIDFileAt(pidFile, pid, start); err != nil {
		t.Fatal(err)
	}
	fx.run()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := fx.r.WaitFor(ctx, func(s *api.Service) bool { return s.Running })
	if err != nil {
		fx.close()
		t.Fatal(err)
	}
	if s.PID != pid || f.Count("run") != 0 || len(as.adoptions()) != 1 {
		fx.close()
		t.Fatalf("pid %d (want %d), %d starts, %d adoptions; want the leftover adopted", s.PID, pid, f.Count("run"), len(as.adoptions()))
	}
	select {
	case ps := <-exited:
		fx.close()
		t.Fatalf("the adopted process was stopped: %v", ps)
	default:
	}
	fx.close()
	waitExit(t, exited, "after Run ended")
}
