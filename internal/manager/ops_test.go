package manager

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/pkg"
	"github.com/tend-sh/tend/internal/ring"
	"github.com/tend-sh/tend/internal/rumor"
	"github.com/tend-sh/tend/internal/service/servicetest"
)

var bg = context.Background()

// load, stop, start and unload: each changes the spec file, the snapshot
// and the processes together.
func TestLoadStopStartUnload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		dir := testPkg(t, "alpha", nil)
		p := fx.load(t, dir)
		if !strings.Contains(p.String(), "alpha.default is up") {
			t.Fatalf("progress %q", p.String())
		}
		spec := filepath.Join(fx.m.specsDir, "alpha.spec")
		if b, err := os.ReadFile(spec); err != nil || !strings.Contains(string(b), `desired_state = "up"`) {
			t.Fatalf("spec %q %v", b, err)
		}
		if s := fx.service("alpha"); s == nil || !s.Running {
			t.Fatalf("snapshot: %+v", s)
		}
		if err := fx.m.Load(bg, api.LoadRequest{Pkg: dir}, p.add); api.KindOf(err) != api.Conflict {
			t.Fatalf("second load: %v, want a conflict", err)
		}

		if err := fx.m.Stop(bg, "alpha", p.add); err != nil {
			t.Fatal(err)
		}
		if s := fx.service("alpha"); s.Running || s.DesiredUp {
			t.Fatalf("after stop: %+v", s)
		}
		if b, _ := os.ReadFile(spec); !strings.Contains(string(b), `desired_state = "down"`) {
			t.Fatalf("spec after stop: %s", b)
		}
		if err := fx.m.Stop(bg, "alpha", p.add); err != nil || !strings.Contains(p.String(), "already down") {
			t.Fatalf("second stop: %v %q", err, p.String())
		}
		st, err := fx.m.Status(bg, "test/alpha")
		if err != nil || len(st) != 1 || st[0].State != "down" || st[0].DesiredState != "down" {
			t.Fatalf("status: %+v %v", st, err)
		}
		stats, _ := fx.m.Stats(bg)
		if stats.Services != 1 || stats.ByState["stopped"] != 1 || !stats.Ready {
			t.Fatalf("stats: %+v", stats)
		}

		if err := fx.m.Start(bg, "test/alpha/1.0.0", p.add); err != nil {
			t.Fatal(err)
		}
		if s := fx.service("alpha"); !s.Running || fx.f.Count("run") != 2 {
			t.Fatalf("after start: %+v, %d runs", s, fx.f.Count("run"))
		}
		if _, err := fx.m.Status(bg, "other/alpha"); api.KindOf(err) != api.NotFound {
			t.Fatalf("status of another origin: %v", err)
		}

		// What a supervisor SIGKILLed while writing the PID file left
		// beside it: no later write reuses it once the service is gone.
		pidNew := filepath.Join(fx.m.cfg.Root, "svc", "alpha", "PID.new")
		if err := os.WriteFile(pidNew, []byte("4242\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := fx.m.Unload(bg, "alpha", p.add); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(spec); !os.IsNotExist(err) {
			t.Fatalf("spec after unload: %v", err)
		}
		if _, err := os.Lstat(pidNew); !os.IsNotExist(err) {
			t.Fatalf("PID.new after unload: %v", err)
		}
		if s := fx.service("alpha"); s != nil || fx.f.Alive() != 0 {
			t.Fatalf("after unload: %+v, %d alive", s, fx.f.Alive())
		}
		if err := fx.m.Unload(bg, "alpha", p.add); api.KindOf(err) != api.NotFound {
			t.Fatalf("second unload: %v", err)
		}
		if _, err := fx.m.Status(bg, "bad//ident"); api.KindOf(err) != api.BadRequest {
			t.Fatalf("status of a bad ident: %v", err)
		}
	})
}

// --force replaces a loaded service: the old process stops, a new one
// starts with the new options.
func TestLoadForceReplaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		dir := testPkg(t, "alpha", nil)
		p := fx.load(t, dir)
		timeout := 3
		if err := fx.m.Load(bg, api.LoadRequest{Pkg: dir, Force: true, Wait: true, ShutdownTimeout: &timeout, HookTimeout: &timeout}, p.add); err != nil {
			t.Fatal(err)
		}
		if s := fx.service("alpha"); !s.Running || s.ShutdownTimeout != 3*time.Second || fx.f.Count("run") != 2 || fx.f.Alive() != 1 {
			t.Fatalf("after --force: %+v, %d runs, %d alive", s, fx.f.Count("run"), fx.f.Alive())
		}
		if b, _ := os.ReadFile(filepath.Join(fx.m.specsDir, "alpha.spec")); !strings.Contains(string(b), "hook_timeout = 3") {
			t.Fatalf("spec: %s", b)
		}
	})
}

// A load whose start fails is an error, and the service stays loaded:
// retried at once, then after the supervisor's backoff (1 s here).
func TestLoadReportsAFailedStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.f.Behave("init", func(int) servicetest.Life { return servicetest.Exits(3) })
		var p progress
		err := fx.m.Load(bg, api.LoadRequest{Pkg: testPkg(t, "bad", map[string]string{"hooks/init": "#!/bin/sh\nexit 3\n"}), Wait: true}, p.add)
		if err == nil || !strings.Contains(err.Error(), "bad.default failed to start: init hook exited with code 3") {
			t.Fatalf("load: %v", err)
		}
		if s := fx.service("bad"); s == nil || s.Running {
			t.Fatalf("not loaded: %+v", s)
		}
		synctest.Wait()
		s := fx.service("bad")
		if n := fx.f.Count("init"); n != 2 || s.RestartCount != 2 || time.Until(s.NextRestart) != time.Second {
			t.Fatalf("%d inits, status %+v; want the second try at once, the third in 1s", n, s)
		}
		time.Sleep(time.Second - time.Millisecond)
		synctest.Wait()
		if n := fx.f.Count("init"); n != 2 {
			t.Fatalf("%d inits before the backoff is over", n)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if n := fx.f.Count("init"); n != 3 {
			t.Fatalf("%d inits once the backoff is over, want 3", n)
		}
	})
}

// An operation waiting on one service's hook holds up no other service.
func TestOperationsWaitOnlyOnTheirService(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		var p progress
		hung := testPkg(t, "hung", map[string]string{"hooks/init": "#!/bin/sh\nsleep 1000\n"})
		loaded := make(chan error, 1)
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		go func() { loaded <- fx.m.Load(ctx, api.LoadRequest{Pkg: hung, Wait: true}, p.add) }()
		synctest.Wait()
		if n := fx.f.Count("init"); n != 1 {
			t.Fatalf("%d inits started, want hung's", n)
		}

		if err := fx.m.Load(bg, api.LoadRequest{Pkg: testPkg(t, "other", nil), Wait: true}, p.add); err != nil {
			t.Fatal(err)
		}
		if err := fx.m.Stop(bg, "other", p.add); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-loaded:
			t.Fatalf("load of hung returned while its init runs: %v", err)
		default:
		}
		// Another operation on hung itself waits for the first.
		opCtx, opCancel := context.WithTimeout(bg, 50*time.Millisecond)
		defer opCancel()
		if err := fx.m.Stop(opCtx, "hung", p.add); err == nil || !strings.Contains(err.Error(), "still running") {
			t.Fatalf("stop of hung during its load: %v", err)
		}
		cancel()
		if err := <-loaded; err == nil {
			t.Fatal("cancelled load reported success")
		}
		if err := fx.m.Unload(bg, "hung", p.add); err != nil {
			t.Fatal(err)
		}
	})
}

// Spec files on disk are loaded at start-up; one that cannot be used is
// reported, not run, and cannot be changed.
func TestPersistedSpecs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, func(c *Config) {
			dir := filepath.Join(c.StateDir, "specs")
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "broken.spec"), []byte("ident = 'test/broken'\ntopology = 'mesh'\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "missing.spec"), []byte("ident = 'test/missing'\ndesired_state = 'up'\n"), 0o644)
		})
		s := fx.service("broken")
		if s == nil || s.SpecError == "" || s.Running {
			t.Fatalf("broken: %+v", s)
		}
		if err := fx.m.Stop(bg, "broken", func(string) {}); api.KindOf(err) != api.BadRequest {
			t.Fatalf("stop broken: %v", err)
		}
		if snap := fx.m.Snapshot(); len(snap.StoreRecords) < 2 {
			t.Fatalf("store records: %+v", snap.StoreRecords)
		}
	})
}

// Spec files read ahead (ReadSpecs, as sup run reads them while it checks
// its start-up file) are what Run loads: it does not list or read the
// directory again, and a broken one is reported as when Run reads it.
func TestPersistedSpecsReadAhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		fx := newFixture(t, func(c *Config) {
			dir := filepath.Join(c.StateDir, "specs")
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "broken.spec"), []byte("ident = 'test/broken'\ntopology = 'mesh'\n"), 0o644)
			os.WriteFile(filepath.Join(dir, ".broken.spec.tmp1"), []byte("half"), 0o644)
			specs := ReadSpecs(c.StateDir)
			// Gone from the disk once read: only the read-ahead copy has it.
			os.Remove(filepath.Join(dir, "broken.spec"))
			c.Specs = func() *Specs { calls++; return specs }
		})
		if s := fx.service("broken"); s == nil || s.SpecError == "" || s.Running {
			t.Fatalf("broken, read ahead: %+v", s)
		}
		if calls != 1 {
			t.Errorf("read-ahead specs asked for %d times, want once", calls)
		}
		if _, err := os.Stat(filepath.Join(fx.m.specsDir, ".broken.spec.tmp1")); !os.IsNotExist(err) {
			t.Errorf("a temporary spec file is left: %v", err)
		}
	})
}

// Start-up services start, and their specs are written once tried.
func TestStartupServices(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var dir string
		fx := newFixture(t, func(c *Config) {
			dir = testPkg(t, "early", nil)
			c.Startup = []api.LoadRequest{{Pkg: dir, Force: true}, {Pkg: dir, Force: true}, {Pkg: "/no/such/pkg", Force: true}}
		})
		if s := fx.service("early"); s == nil || !s.Running {
			t.Fatalf("early: %+v", s)
		}
		if _, err := os.Stat(filepath.Join(fx.m.specsDir, "early.spec")); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range fx.m.Snapshot().StoreRecords {
			found = found || strings.Contains(r.Text, "saved 1 start-up service specs")
		}
		if !found {
			t.Fatalf("records: %+v", fx.m.Snapshot().StoreRecords)
		}
	})
}

// A start-up entry runs the package sup run found when it checked the
// file, even if a newer one was installed since: one look-up, not two.
func TestStartupRunsPackageFound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		older := ident.Ident{Origin: "test", Name: "early", Version: "1.0.0", Release: "20260101000000"}
		newer := older
		newer.Release = "20260202000000"
		fx := newFixture(t, func(c *Config) {
			for _, id := range []ident.Ident{older, newer} {
				dir := pkg.InstallDir(c.Root, id)
				if err := os.MkdirAll(filepath.Join(dir, "hooks"), 0o755); err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(dir, "IDENT"), []byte(id.String()+"\n"), 0o644)
				os.WriteFile(filepath.Join(dir, "hooks", "run"), []byte("#!/bin/sh\nexec sleep 1000\n"), 0o755)
			}
			c.Startup = []api.LoadRequest{{Pkg: "test/early", Force: true}}
			c.StartupFound = map[string]ident.Ident{"test/early": older}
		})
		s := fx.service("early")
		if s == nil || !s.Running || s.Pkg.Ident != older.String() || s.SpecIdent != "test/early" {
			t.Fatalf("early: %+v", s)
		}
	})
}

// Manual health is published.
func TestSetHealth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.m.SetHealth(bg, true, "maintenance")
		if s := fx.m.Snapshot().Sup; !s.ManualUnhealthy || s.ManualReason != "maintenance" {
			t.Fatalf("%+v", s)
		}
		st, _ := fx.m.Stats(bg)
		if st.Healthy || len(st.Reasons) != 1 {
			t.Fatalf("stats: %+v", st)
		}
		fx.m.SetHealth(bg, false, "ignored")
		if s := fx.m.Snapshot().Sup; s.ManualUnhealthy || s.ManualReason != "" {
			t.Fatalf("%+v", s)
		}
		fx.m.Term(bg)
		select {
		case <-fx.terms:
		default:
			t.Fatal("Term not passed on")
		}
	})
}

// The ring loop gossips the services the owner publishes, says when one
// is gone, folds the ring into the snapshot and into each service's view.
func TestRingGossipAndFold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		fx := newFixture(t, nil)
		var p progress
		if err := fx.m.Load(bg, api.LoadRequest{Pkg: testPkg(t, "alpha", nil), Wait: true}, p.add); err != nil {
			t.Fatal(err)
		}
		// The owner publishes a change within 10 ms; the ring loop gossips
		// what it publishes.
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		if rs := fx.ring.serviceRumors("alpha.default"); len(rs) == 0 || !rs[len(rs)-1].Up {
			t.Fatalf("alpha not gossiped up: %+v", rs)
		}
		fx.ring.set([]ring.Member{{ID: "m1", Health: "alive"}, {ID: "m2", Health: "suspect"}}, []rumor.Rumor{
			{Kind: rumor.KindService, Service: &rumor.Service{MemberID: "m2", ServiceGroup: "db.default", Package: "test/db/1/2", Incarnation: 1, Up: true}},
		})
		// A change of the ring is folded within 100 ms.
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if s := fx.m.publishNow(); s.Ring == nil || len(s.Ring.Members) != 2 || len(s.Ring.Records) != 2 {
			t.Fatalf("ring not folded: %+v", s.Ring)
		}
		if b, err := json.Marshal(fx.m.Snapshot().Ring.Census); err != nil || !strings.Contains(string(b), "db.default") {
			t.Fatalf("census %s %v", b, err)
		}
		if err := fx.m.Unload(bg, "alpha", p.add); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		if rs := fx.ring.serviceRumors("alpha.default"); len(rs) == 0 || !rs[len(rs)-1].Gone {
			t.Fatalf("alpha not gossiped gone: %+v", rs)
		}
		// Traffic counters move without the ring changing: they are
		// refreshed every 10 s (the ring loop started at time 0).
		fx.ring.mu.Lock()
		fx.ring.sent = 7
		fx.ring.mu.Unlock()
		if s := fx.m.publishNow(); s.Ring.MsgsSent["service"] != 1 {
			t.Fatalf("ring stats before the refresh: %+v", s.Ring.MsgsSent)
		}
		time.Sleep(10*time.Second - time.Since(start))
		synctest.Wait()
		if s := fx.m.publishNow(); s.Ring.MsgsSent["service"] != 7 {
			t.Fatalf("ring stats after 10 s: %+v", s.Ring.MsgsSent)
		}
		close(fx.ring.departed)
		synctest.Wait()
		select {
		case <-fx.terms:
		default:
			t.Fatal("departure did not ask the supervisor to stop")
		}
	})
}

// A ring whose fold is slow (a big ring, a starved host) is folded less
// often: at most a twentieth of the time goes to folding, and a change is
// still folded within maxFoldGap.
func TestSlowFoldsAreSpacedOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.ring.mu.Lock()
		fx.ring.readTook = 50 * time.Millisecond
		fx.ring.mu.Unlock()
		member := []ring.Member{{ID: "m1", Health: "alive"}}
		// The ring changes every 10 ms for 3 s.
		start := time.Now()
		for time.Since(start) < 3*time.Second {
			fx.ring.set(member, nil)
			time.Sleep(10 * time.Millisecond)
		}
		synctest.Wait()
		var during []time.Time
		for _, at := range fx.ring.folds() {
			if at.After(start) { // not the first fold, of the empty ring
				during = append(during, at)
			}
		}
		// A fold of 50 ms is followed by the next 1 s later (not 100 ms).
		if len(during) < 2 || len(during) > 4 {
			t.Fatalf("%d folds in 3 s of changes with 50 ms folds, want 2-4: %v", len(during), during)
		}
		for i := 1; i < len(during); i++ {
			if d := during[i].Sub(during[i-1]); d < time.Second {
				t.Fatalf("folds %v apart, want >= 1 s (20 x 50 ms)", d)
			}
		}
		// A last change is still folded, within maxFoldGap.
		fx.ring.mu.Lock()
		fx.ring.readTook = 0
		fx.ring.mu.Unlock()
		n := len(fx.ring.folds())
		fx.ring.set(member, nil)
		time.Sleep(maxFoldGap)
		synctest.Wait()
		if len(fx.ring.folds()) == n {
			t.Fatal("a change was not folded within maxFoldGap")
		}
	})
}

// A strict bind to a group the ring does not have holds the start; the
// group appearing in the census starts it.
func TestBindFromTheRing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		dir := testPkg(t, "web", map[string]string{"BINDS": "db=port\n"})
		var p progress
		err := fx.m.Load(bg, api.LoadRequest{Pkg: dir, Binds: []string{"db:db.default"}, Wait: true}, p.add)
		if err != nil || !strings.Contains(p.String(), "web.default is waiting for binds: db") {
			t.Fatalf("load: %v, progress %q", err, p.String())
		}
		fx.ring.set([]ring.Member{{ID: "m1", Health: "alive"}, {ID: "m2", Health: "alive"}}, []rumor.Rumor{
			{Kind: rumor.KindService, Service: &rumor.Service{MemberID: "m2", ServiceGroup: "db.default", Package: "test/db/1/2", Incarnation: 1, Up: true, Cfg: map[string]any{"port": 5432}}},
		})
		time.Sleep(100 * time.Millisecond) // the ring loop folds a change within 100 ms
		synctest.Wait()
		if s := fx.service("web"); s == nil || !s.Running {
			t.Fatalf("web not started once db appeared: %+v", s)
		}
	})
}

// config apply, file upload and depart go to the ring, checked first.
func TestRingOperations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		var p progress
		if err := fx.m.ConfigApply(bg, api.ConfigApply{ServiceGroup: "a.default", Version: 2, Config: []byte("x = 1\n")}, p.add); err != nil {
			t.Fatal(err)
		}
		if err := fx.m.ConfigApply(bg, api.ConfigApply{ServiceGroup: "a.default", Version: 3, Config: []byte("x = = 1\n")}, p.add); api.KindOf(err) != api.BadRequest {
			t.Fatalf("bad toml: %v", err)
		}
		if err := fx.m.ConfigApply(bg, api.ConfigApply{ServiceGroup: "nogroup", Version: 3}, p.add); api.KindOf(err) != api.BadRequest {
			t.Fatalf("bad group: %v", err)
		}
		if err := fx.m.FileUpload(bg, api.FileUpload{ServiceGroup: "a.default", Filename: "f.txt", Version: 1, Body: []byte("hi")}, p.add); err != nil {
			t.Fatal(err)
		}
		if err := fx.m.FileUpload(bg, api.FileUpload{ServiceGroup: "a.default", Filename: "../f", Version: 1}, p.add); api.KindOf(err) != api.BadRequest {
			t.Fatalf("bad name: %v", err)
		}
		if err := fx.m.Depart(bg, "m9", p.add); err != nil {
			t.Fatal(err)
		}
		fx.ring.mu.Lock()
		n := len(fx.ring.published)
		fx.ring.mu.Unlock()
		if n != 3 {
			t.Fatalf("%d rumors published, want 3", n)
		}
	})
}

// An edit of user.toml reaches the service: its config is re-read. The
// manager watches the user.toml of each service it loads, and no more
// once it is unloaded.
func TestUserTomlChangeReconfigures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		dir := testPkg(t, "alpha", map[string]string{"default.toml": "port = 1\n", "EXPORTS": "port=port\n"})
		if err := fx.m.Load(bg, api.LoadRequest{Pkg: dir, Wait: true}, func(string) {}); err != nil {
			t.Fatal(err)
		}
		if !fx.watch.watching("alpha") {
			t.Fatal("alpha's user.toml not watched once loaded")
		}
		cfgDir := filepath.Join(fx.root, "user", "alpha", "config")
		if err := os.MkdirAll(cfgDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cfgDir, "user.toml"), []byte("port = 2\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		fx.watch.changes <- "alpha"
		synctest.Wait()
		if s := fx.service("alpha"); s == nil || s.Exported["port"] != int64(2) {
			t.Fatalf("user.toml not applied: %+v", s)
		}
		if err := fx.m.Unload(bg, "alpha", func(string) {}); err != nil {
			t.Fatal(err)
		}
		if fx.watch.watching("alpha") {
			t.Fatal("alpha's user.toml still watched once unloaded")
		}
		fx.watch.changes <- "alpha" // a change after the unload changes nothing
		synctest.Wait()
	})
}

// A start-up service whose init hook never returns does not hold up
// readiness: it has been tried.
func TestReadyWhileStartupInitHangs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, func(c *Config) {
			c.Startup = []api.LoadRequest{{Pkg: testPkg(t, "hung", map[string]string{"hooks/init": "#!/bin/sh\nsleep 1000\n"}), Force: true}}
		}) // waits for ready
		// Ready comes once the service is tried; its init hook is
		// started just after, by the runner's own goroutine.
		synctest.Wait()
		if s := fx.service("hung"); s == nil || s.Running || fx.f.Count("init") != 1 {
			t.Fatalf("hung: %+v", s)
		}
	})
}
