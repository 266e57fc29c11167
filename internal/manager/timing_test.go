package manager

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/service/servicetest"
)

// The health-check interval a load sets is the service's: the first
// check right after the start, a failed one again after a quarter of the
// interval, and the snapshot tells each result.
func TestHealthCheckIntervalFromLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.f.Behave("health-check", func(n int) servicetest.Life {
			if n == 0 {
				return servicetest.Exits(1) // WARNING
			}
			return servicetest.Exits(0)
		})
		interval := 20
		dir := testPkg(t, "hc", map[string]string{"hooks/health-check": "#!/bin/sh\nexit 0\n"})
		if err := fx.m.Load(bg, api.LoadRequest{Pkg: dir, HealthCheckInterval: &interval, Wait: true}, func(string) {}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if s := fx.service("hc"); s.Health != api.HealthWarning || s.HealthInterval != 20*time.Second || fx.f.Count("health-check") != 1 {
			t.Fatalf("after the first check: %s every %s, %d checks", s.Health, s.HealthInterval, fx.f.Count("health-check"))
		}
		time.Sleep(5*time.Second - time.Millisecond)
		synctest.Wait()
		if n := fx.f.Count("health-check"); n != 1 {
			t.Fatalf("%d checks before a quarter of the interval", n)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if s := fx.service("hc"); s.Health != api.HealthOK || fx.f.Count("health-check") != 2 {
			t.Fatalf("after the re-check: %s, %d checks", s.Health, fx.f.Count("health-check"))
		}
	})
}

// The shutdown and hook timeouts a load sets are the service's: a run
// process that ignores its shutdown signal is killed once the shutdown
// timeout is over, and an init hook that hangs once the hook timeout is.
func TestTimeoutsFromLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.f.Behave("run", func(int) servicetest.Life { return servicetest.Life{D: -1, IgnoreTerm: true} })
		shutdown, hookTimeout := 3, 2
		if err := fx.m.Load(bg, api.LoadRequest{Pkg: testPkg(t, "stubborn", nil), ShutdownTimeout: &shutdown, Wait: true}, func(string) {}); err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		if err := fx.m.Stop(bg, "stubborn", func(string) {}); err != nil {
			t.Fatal(err)
		}
		s := fx.service("stubborn")
		if d := time.Since(begin); d != 3*time.Second || s.LastExit == nil || s.LastExit.Signal != "SIGKILL" {
			t.Fatalf("stopped after %s, last exit %+v; want killed at the 3s shutdown timeout", d, s.LastExit)
		}

		hung := testPkg(t, "hung", map[string]string{"hooks/init": "#!/bin/sh\nsleep 1000\n"})
		begin = time.Now()
		err := fx.m.Load(bg, api.LoadRequest{Pkg: hung, HookTimeout: &hookTimeout, Wait: true}, func(string) {})
		if d := time.Since(begin); d != 2*time.Second || err == nil || !strings.Contains(err.Error(), "init hook timed out after 2s") {
			t.Fatalf("load after %s: %v; want the init killed at the 2s hook timeout", d, err)
		}
	})
}

// Until the supervisor is ready, the ring loop gossips the services'
// statuses at most every startupGossipEvery: a status that changes again
// meanwhile is gossiped once, as it is when the wait is over; once ready,
// at once.
func TestStartupGossipIsHeld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newFakeRing()
		m := New(Config{MemberID: "m1", Ring: r, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		ctx, cancel := context.WithCancel(context.Background())
		var loops sync.WaitGroup
		loops.Go(func() { m.own(ctx) })
		loops.Go(func() { m.ringLoop(ctx) })
		defer loops.Wait()
		defer cancel()
		// What the owner publishes as the loops start (no service) is
		// gossiped; from then on the test alone hands the ring loop
		// statuses, as the owner would.
		time.Sleep(startupGossipEvery)
		synctest.Wait()
		status := func(ready bool, health api.Health) {
			offer(m.gossip, gossipBatch{ready: ready, taken: time.Now(), statuses: []*api.Service{{
				ServiceGroup: "alpha.default", Pkg: api.Pkg{Ident: "test/alpha/1/2"}, Health: health, Running: health != "",
			}}})
			synctest.Wait()
		}
		healths := func() []string {
			var out []string
			for _, s := range r.serviceRumors("alpha.default") {
				out = append(out, s.Health)
			}
			return out
		}
		status(false, "")
		if got := healths(); len(got) != 1 {
			t.Fatalf("rumors %q; want the first status gossiped at once", got)
		}
		time.Sleep(100 * time.Millisecond)
		status(false, api.HealthUnknown)
		time.Sleep(100 * time.Millisecond)
		status(false, api.HealthOK)
		time.Sleep(startupGossipEvery - 200*time.Millisecond - time.Millisecond)
		synctest.Wait()
		if got := healths(); len(got) != 1 {
			t.Fatalf("rumors %q; want nothing more before %s", got, startupGossipEvery)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if got := healths(); len(got) != 2 || got[1] != string(api.HealthOK) {
			t.Fatalf("rumors %q; want the latest status gossiped once the wait is over", got)
		}
		status(true, api.HealthWarning)
		if got := healths(); len(got) != 3 || got[2] != string(api.HealthWarning) {
			t.Fatalf("rumors %q; want a status gossiped at once when ready", got)
		}
	})
}

// A start-up that is over (ready) within startupGossipEvery, as 500
// services on 2 cores are, gossips each service once, with the state it
// reached, and nothing while the services start.
func TestShortStartupGossipsEachServiceOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newFakeRing()
		m := New(Config{MemberID: "m1", Ring: r, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		ctx, cancel := context.WithCancel(context.Background())
		var loops sync.WaitGroup
		loops.Go(func() { m.own(ctx) })
		loops.Go(func() { m.ringLoop(ctx) })
		defer loops.Wait()
		defer cancel()
		synctest.Wait() // the owner's first (empty) snapshot is gossiped
		names := []string{"a.default", "b.default", "c.default"}
		publish := func(ready bool, health api.Health) {
			var sts []*api.Service
			for _, sg := range names {
				sts = append(sts, &api.Service{ServiceGroup: sg, Pkg: api.Pkg{Ident: "test/x/1/2"}, Health: health, Running: health != ""})
			}
			offer(m.gossip, gossipBatch{ready: ready, taken: time.Now(), statuses: sts})
			synctest.Wait()
		}
		// Statuses change every 100 ms for 1.5 s as the services start.
		for i := range 15 {
			h := api.HealthUnknown
			if i == 0 {
				h = ""
			}
			publish(false, h)
			time.Sleep(100 * time.Millisecond)
		}
		for _, sg := range names {
			if got := r.serviceRumors(sg); len(got) != 0 {
				t.Fatalf("%s: %d rumors while starting; want none before ready", sg, len(got))
			}
		}
		publish(true, api.HealthOK)
		for _, sg := range names {
			if got := r.serviceRumors(sg); len(got) != 1 || got[0].Health != string(api.HealthOK) {
				t.Fatalf("%s: rumors %+v; want one, OK, once ready", sg, got)
			}
		}
	})
}
