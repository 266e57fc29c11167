package manager

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"

	"github.com/tend-sh/tend/internal/api"
)

// svc restart starts a running service again; svc signal reaches its run
// process; both refuse a stopped service, and svc logs finds the output of
// a loaded one only.
func TestRestartSignalAndLogs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		dir := testPkg(t, "alpha", nil)
		p := fx.load(t, dir)
		first := fx.f.Last("run")

		if err := fx.m.Restart(bg, "alpha", p.add); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if n := fx.f.Count("run"); n != 2 || fx.f.Last("run") == first {
			t.Fatalf("after svc restart: %d run processes started, want 2", n)
		}
		if s := fx.service("alpha"); !s.Running {
			t.Fatalf("after svc restart: %+v", s)
		}
		if !strings.Contains(p.String(), "Restarting alpha.default") {
			t.Fatalf("progress %q", p.String())
		}

		pid := fx.f.Last("run").PID()
		if err := fx.m.Signal(bg, "test/alpha", "hup", p.add); err != nil {
			t.Fatal(err)
		}
		if want := "SIGHUP sent to alpha.default"; !strings.Contains(p.String(), want) || !strings.Contains(p.String(), "pid "+strconv.Itoa(pid)) {
			t.Fatalf("progress %q, want %q and the pid", p.String(), want)
		}
		if err := fx.m.Signal(bg, "alpha", "NOPE", p.add); api.KindOf(err) != api.BadRequest {
			t.Fatalf("unknown signal: %v, want a bad request", err)
		}

		out, err := fx.m.Logs("alpha")
		if err != nil || out.Recent == nil {
			t.Fatalf("logs of a loaded service: %v", err)
		}
		if _, err := fx.m.Logs("nope"); api.KindOf(err) != api.NotFound {
			t.Fatalf("logs of an unknown service: %v", err)
		}

		if err := fx.m.Stop(bg, "alpha", p.add); err != nil {
			t.Fatal(err)
		}
		if err := fx.m.Restart(bg, "alpha", p.add); api.KindOf(err) != api.Conflict {
			t.Fatalf("restart of a stopped service: %v, want a conflict", err)
		}
		if err := fx.m.Signal(bg, "alpha", "TERM", p.add); api.KindOf(err) != api.Conflict {
			t.Fatalf("signal to a stopped service: %v, want a conflict", err)
		}
	})
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{"HUP": syscall.SIGHUP, "sigusr1": syscall.SIGUSR1, " term": syscall.SIGTERM, "10": syscall.SIGUSR1} {
		if got, err := ParseSignal(in); err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "65", "-1", "BOGUS"} {
		if _, err := ParseSignal(in); err == nil {
			t.Errorf("ParseSignal(%q) accepted", in)
		}
	}
}
