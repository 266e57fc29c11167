package service

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/service/servicetest"
)

func withCarried(c *Carried) fixtureOpt { return func(o *Options) { o.Carried = c } }

// handedOver is c as the next program reads it from the hand-over file.
func handedOver(t *testing.T, c *Carried) *Carried {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var out Carried
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// A service backing off at a `sup restart` starts when its predecessor
// would have started it, not at once, and its next crash backs off as the
// streak goes on: a loop of `sup restart` does not restart it hot.
func TestBackoffCarriedAcrossHandOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPkg(t, map[string]string{})
		f := servicetest.NewStarter()
		fx := newFixture(t, f, p)
		synctest.Wait()
		f.Last("run").Crash() // restarted at once
		synctest.Wait()
		f.Last("run").Crash() // backs off
		synctest.Wait()
		old := fx.r.Status()
		if old.Running || old.NextRestart.IsZero() {
			t.Fatalf("not backing off: %+v", old)
		}
		c := CarriedOf(old)
		if c == nil {
			t.Fatal("a service backing off hands nothing over")
		}
		c = handedOver(t, c)
		fx.close()

		f2 := servicetest.NewStarter()
		fx2 := newFixture(t, f2, p, withCarried(c))
		defer fx2.close()
		synctest.Wait()
		s := fx2.r.Status()
		if n := f2.Count("run"); n != 0 {
			t.Fatalf("started %d times at once; want the start due at %s", n, old.NextRestart)
		}
		if !s.NextRestart.Equal(old.NextRestart) || s.RestartCount != old.RestartCount || s.LastExit == nil || s.Health != api.HealthCritical {
			t.Fatalf("status not carried: %+v", s)
		}
		if p := fx2.phaseOf(); p != phaseBackingOff {
			t.Fatalf("phase %s, want backing off", p)
		}
		select {
		case <-fx2.r.Tried():
		default:
			t.Fatal("a service waiting out its backoff holds up the start-up")
		}
		time.Sleep(time.Until(s.NextRestart) + time.Millisecond)
		synctest.Wait()
		if n := f2.Count("run"); n != 1 || !fx2.r.Status().Running {
			t.Fatalf("after the carried backoff: %d starts", n)
		}
		f2.Last("run").Crash()
		synctest.Wait()
		if n, s := f2.Count("run"), fx2.r.Status(); n != 1 || time.Until(s.NextRestart) < time.Second {
			t.Fatalf("the crash after the hand-over restarted at once (%d starts, next %s): the streak was reset", n, s.NextRestart)
		}
	})
}

// A running service's backoff streak is handed over with it and taken by
// the adoption, so its next crash is not treated as a first one.
func TestBackoffCarriedWithARunningService(t *testing.T) {
	c := CarriedOf(&api.Service{Running: true, PID: 42, RestartCount: 5, RestartStreak: 3, LastBackoff: 4 * time.Second})
	if c == nil || c.PID != 42 || c.Streak != 3 || c.LastBackoff != 4*time.Second {
		t.Fatalf("carried %+v", c)
	}
	r, err := New(Options{Pkg: testPkg(t, map[string]string{}), Carried: handedOver(t, c),
		Deps: Deps{Backoff: Backoff{Min: time.Second, Max: 10 * time.Second, Cooldown: time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	r.st.carry(42)
	if r.st.svc.RestartCount != 5 {
		t.Fatalf("restart count %d, want 5", r.st.svc.RestartCount)
	}
	if d := r.st.restarts.next(time.Second); d < time.Second {
		t.Fatalf("the first crash after the adoption restarts in %s: the streak was reset", d)
	}
}

// A service whose run process was handed over running but exited before
// the new program could adopt it counts the exit as a crash: the status
// and the restart streak handed over go on (restart count and streak +1,
// so it backs off), and the exit is recorded, instead of a fresh start
// at once that forgets them.
func TestRunProcessLostInHandOverCountsAsACrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPkg(t, map[string]string{})
		f := servicetest.NewStarter()
		fx := newFixture(t, f, p)
		synctest.Wait()
		f.Last("run").Crash() // restarted at once: streak 1
		synctest.Wait()
		old := fx.r.Status()
		if !old.Running || old.RestartCount != 1 {
			t.Fatalf("not running again after a crash: %+v", old)
		}
		c := handedOver(t, CarriedOf(old))
		fx.close() // and the run process is gone before the adoption

		f2 := servicetest.NewStarter()
		fx2 := newFixture(t, f2, p, withCarried(c))
		defer fx2.close()
		synctest.Wait()
		s := fx2.r.Status()
		if n := f2.Count("run"); n != 0 {
			t.Fatalf("started %d times at once; want the backoff of a second crash in a row", n)
		}
		if s.RestartCount != 2 || time.Until(s.NextRestart) < time.Second || s.Health != api.HealthCritical {
			t.Fatalf("restart count %d, next start in %s, health %s; want 2, a backoff of at least 1s, critical",
				s.RestartCount, time.Until(s.NextRestart), s.Health)
		}
		if s.LastExit == nil || s.LastExit.PID != old.PID || s.LastExit.Reason != "run_hook_failed" {
			t.Fatalf("last exit %+v; want pid %d, run_hook_failed", s.LastExit, old.PID)
		}
		if n := len(s.Records); n == 0 || !strings.Contains(s.Records[n-1].Text, "exited during the hand-over") || len(s.Records) <= len(old.Records) {
			t.Fatalf("records %+v; want the earlier ones and the exit during the hand-over", s.Records)
		}
		select {
		case <-fx2.r.Tried():
		default:
			t.Fatal("a service backing off holds up the start-up")
		}
		time.Sleep(time.Until(s.NextRestart) + time.Millisecond)
		synctest.Wait()
		if n := f2.Count("run"); n != 1 || !fx2.r.Status().Running {
			t.Fatalf("after the backoff: %d starts", n)
		}
	})
}
