package service

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/hook"
	"github.com/tend-sh/tend/internal/process"
	"github.com/tend-sh/tend/internal/service/servicetest"
	"github.com/tend-sh/tend/internal/spec"
)

// `svc update` takes effect without a restart: the check waiting for the
// old interval waits the new one instead, the next stop gives the run
// process the new shutdown timeout before SIGKILL, and the status says
// both and the update strategy.
func TestSetOptionsWithoutARestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		// A failing check is due again after a quarter of the interval.
		f.Behave("health-check", func(int) servicetest.Life { return servicetest.Exits(2) })
		f.Behave("run", func(int) servicetest.Life { return servicetest.Life{D: -1, IgnoreTerm: true} })
		fx := newFixture(t, f, testPkg(t, map[string]string{"health-check": "#!/bin/sh\nexit 2\n"}),
			withSpec(func(s *spec.Spec) { s.HealthCheckInterval = spec.FromD(60 * time.Second) }))
		defer fx.close()
		synctest.Wait()
		if n := f.Count("health-check"); n != 1 {
			t.Fatalf("%d checks after the start, want 1", n)
		}
		specs := make(chan spec.Spec, 1)
		if err := fx.r.do(context.Background(), func(_ context.Context, st *state) { specs <- st.spec }); err != nil {
			t.Fatal(err)
		}
		sp := <-specs
		sp.HealthCheckInterval = spec.FromD(8 * time.Second)
		sp.ShutdownTimeout = seconds(3)
		sp.UpdateStrategy = "rolling"
		if err := fx.r.SetOptions(context.Background(), sp); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // SetOptions returns once the loop has the change
		s := fx.r.Status()
		if s.HealthInterval != 8*time.Second || s.ShutdownTimeout != 3*time.Second || s.UpdateStrategy != "rolling" || !hasRecord(s, "options updated") {
			t.Fatalf("status after the update: interval %s, timeout %s, strategy %s, records %+v",
				s.HealthInterval, s.ShutdownTimeout, s.UpdateStrategy, s.Records)
		}
		// 2s (a quarter of 8s), where the old interval had it wait 15s.
		time.Sleep(2*time.Second + time.Millisecond)
		synctest.Wait()
		if n := f.Count("health-check"); n != 2 {
			t.Fatalf("%d checks 2s after the update, want 2: the old interval still holds", n)
		}
		if f.Count("run") != 1 {
			t.Fatalf("%d starts: the update restarted the service", f.Count("run"))
		}

		n := fx.r.Attempts()
		begin := time.Now()
		if err := fx.r.SetDesired(context.Background(), false); err != nil {
			t.Fatal(err)
		}
		s, err := fx.r.WaitAttempt(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d != 3*time.Second || s.LastExit == nil || s.LastExit.Signal != "SIGKILL" {
			t.Fatalf("stopped after %s, last exit %+v; want SIGKILL at the new 3s timeout", d, s.LastExit)
		}
	})
}

// printingStarter is the fake starter whose processes print a last line
// of stdout of the test's choosing, by name and start.
type printingStarter struct {
	*servicetest.Starter
	mu    sync.Mutex
	lines map[string]func(n int) string
	n     map[string]int
}

func (s *printingStarter) Start(ps process.Spec) (hook.Process, error) {
	p, err := s.Starter.Start(ps)
	if err != nil {
		return p, err
	}
	name := servicetest.NameOf(ps)
	s.mu.Lock()
	line := s.lines[name]
	n := s.n[name]
	s.n[name]++
	s.mu.Unlock()
	// Before Start returns: hook.Run reads the output once the process
	// is done, and a fake one may be done already.
	if line != nil && ps.Stdout != nil {
		ps.Stdout([]byte(line(n)))
	}
	return p, nil
}

// The suitability hook's last line of stdout is the service's answer to
// its group's leader election, asked each time the service comes up; a
// hook that fails answers 0.
func TestSuitabilityIsTheHooksLastLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		f.Behave("suitability", func(n int) servicetest.Life { return servicetest.Exits(n) }) // fails the second time
		ps := &printingStarter{Starter: f, n: map[string]int{},
			lines: map[string]func(int) string{"suitability": func(n int) string { return strconv.Itoa(42 + n) }}}
		fx := newIdleFixture(t, ps, testPkg(t, map[string]string{"suitability": "#!/bin/sh\necho 42\n"}), nil)
		fx.f = f
		fx.run()
		defer fx.close()
		synctest.Wait()
		if got := fx.r.Suitability(); got != 42 || f.Count("suitability") != 1 {
			t.Fatalf("suitability %d after %d runs, want 42", got, f.Count("suitability"))
		}
		f.Last("run").Crash() // restarted at once: the hook runs again, and fails
		synctest.Wait()
		if got := fx.r.Suitability(); got != 0 || f.Count("suitability") != 2 {
			t.Fatalf("suitability %d after %d runs, want 0 from the failed hook", got, f.Count("suitability"))
		}
	})
}

// A service that needs nothing of hooks/ or config/ (its run hook is
// exec'd directly) starts during the supervisor's start-up before they
// are written, and Settle writes them: after it, the rendered run hook
// and the service's directories are in place.
func TestSettleWritesWhatTheStartUpOwed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		settled := make(chan struct{})
		fx := newFixture(t, f, testPkg(t, map[string]string{}), func(o *Options) { o.Deps.Settled = settled })
		defer fx.close()
		synctest.Wait()
		if s := fx.r.Status(); !s.Running {
			t.Fatalf("not started during the start-up: %+v", s)
		}
		paths := fx.r.st.paths
		if _, err := os.Stat(paths.hook("run")); !os.IsNotExist(err) {
			t.Fatalf("hooks/run written during the start-up (%v): its inode was to wait for Settle", err)
		}
		close(settled)
		if err := fx.r.Settle(context.Background()); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(paths.hook("run"))
		if err != nil || !bytes.Contains(b, []byte("exec sleep 1000")) {
			t.Fatalf("hooks/run after Settle: %q, %v", b, err)
		}
		for _, d := range []string{"data", "var", "config", "hooks"} {
			if fi, err := os.Stat(filepath.Join(paths.root, d)); err != nil || !fi.IsDir() {
				t.Fatalf("%s/ after Settle: %v", d, err)
			}
		}
		if s := fx.r.Status(); !s.Running || f.Count("run") != 1 || s.Health != api.HealthOK {
			t.Fatalf("after Settle: %d starts, %+v; want the same process, untouched", f.Count("run"), s)
		}
	})
}
