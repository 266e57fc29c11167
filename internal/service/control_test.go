package service

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"testing/synctest"

	"github.com/tend-sh/tend/internal/service/servicetest"
)

// svc restart ends the run process and starts a new one at once; svc
// signal reaches the run process, and finds none once it has crashed and
// is backing off.
func TestRestartAndSignal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		f := servicetest.NewStarter()
		fx := newFixture(t, f, testPkg(t, map[string]string{}))
		defer fx.close()
		synctest.Wait()
		first := f.Last("run")
		if err := fx.r.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if f.Count("run") != 2 || f.Last("run") == first || fx.phaseOf() != phaseUp {
			t.Fatalf("after restart: %d starts, phase %s", f.Count("run"), fx.phaseOf())
		}
		if s := fx.r.Status(); s.RestartCount != 0 {
			t.Fatalf("an asked-for restart counted as a crash: %+v", s)
		}

		// The fake process ends on the signal and may be restarted before
		// Signal returns: the pid to expect is the one running before.
		want := f.Last("run").PID()
		pid, err := fx.r.Signal(ctx, syscall.SIGHUP)
		if err != nil || pid != want {
			t.Fatalf("signal: pid %d, %v; want %d", pid, err, want)
		}
		synctest.Wait() // the fake process ends on any signal
		if p := fx.phaseOf(); p == phaseUp && f.Count("run") == 2 {
			t.Fatalf("the signal did not reach the run process (phase %s)", p)
		}

		// Down: nothing to signal; a restart starts it.
		if err := fx.r.SetDesired(ctx, false); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if _, err := fx.r.Signal(ctx, syscall.SIGHUP); !errors.Is(err, ErrNotRunning) {
			t.Fatalf("signal to a stopped service: %v", err)
		}
		n := f.Count("run")
		if err := fx.r.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if f.Count("run") != n+1 || fx.phaseOf() != phaseUp {
			t.Fatalf("restart of a down service: %d starts, phase %s", f.Count("run"), fx.phaseOf())
		}
	})
}
