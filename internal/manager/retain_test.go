package manager

import (
	"fmt"
	"runtime"
	"testing"
	"testing/synctest"
	"weak"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/service"
)

// runnerOf is the runner loaded as name, as the owner has it.
func (fx *fixture) runnerOf(name string) *service.Runner {
	var r *service.Runner
	fx.m.call(func(o *owned) {
		if e := o.services[name]; e != nil {
			r = e.runner
		}
	})
	return r
}

// A service loaded again with --force lets the runner it replaced go:
// its state (a few kB a service) is held by nothing once it has stopped.
func TestReplacedRunnerIsNotRetained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		dir := testPkg(t, "alpha", nil)
		p := fx.load(t, dir)
		old := weak.Make(fx.runnerOf("alpha"))
		if err := fx.m.Load(bg, api.LoadRequest{Pkg: dir, Force: true, Wait: true}, p.add); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		runtime.GC()
		if old.Value() != nil {
			t.Fatal("the replaced runner is still reachable")
		}
	})
}

// A snapshot holds the services' statuses, not a copy of each: with
// hundreds of services a copy per publish was as much garbage again as
// every status together, and as much held.
func TestPublishCopiesNoStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		const n = 40
		var p progress
		for i := range n {
			if err := fx.m.Load(bg, api.LoadRequest{Pkg: testPkg(t, fmt.Sprintf("svc%02d", i), nil), Wait: true}, p.add); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		fx.m.publishNow()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const rounds = 10
		for range rounds {
			fx.m.publishNow()
		}
		runtime.ReadMemStats(&after)
		perService := (after.TotalAlloc - before.TotalAlloc) / rounds / n
		// A status is ~850 bytes; a pointer to it, 8.
		if perService > 200 {
			t.Errorf("a publish allocates %d bytes per service, want a pointer's worth", perService)
		}
	})
}

// The start-up file's entries are read while the supervisor starts, and
// let go once it has: hundreds of them on a host, held for nobody.
func TestStartupEntriesNotRetained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var entries weak.Pointer[api.LoadRequest]
		fx := newFixture(t, func(c *Config) {
			c.Startup = []api.LoadRequest{{Pkg: testPkg(t, "early", nil), Force: true}}
			entries = weak.Make(&c.Startup[0])
		})
		if s := fx.service("early"); s == nil || !s.Running {
			t.Fatalf("early: %+v", s)
		}
		synctest.Wait()
		runtime.GC()
		if entries.Value() != nil {
			t.Error("the start-up entries are still reachable once started")
		}
	})
}
