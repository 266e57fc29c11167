package manager

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// svc update with the options a service already has changes nothing and
// says so; with other options it changes them.
func TestUpdateWithTheSameOptionsChangesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		dir := testPkg(t, "alpha", nil)
		fx.load(t, dir)
		req := api.UpdateRequest{Pkg: "alpha", Strategy: "at-once"}
		var first, second progress
		if err := fx.m.Update(bg, req, first.add); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(first.String(), "nothing changed") {
			t.Fatalf("first update: %q", first.String())
		}
		if err := fx.m.Update(bg, req, second.add); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(second.String(), "already has these options; nothing changed") {
			t.Fatalf("second update with the same options: %q", second.String())
		}
	})
}

// svc update of the options a running service takes as it runs (update
// condition, health-check interval, shutdown timeout) saves them and says
// which changed, without restarting the service.
func TestUpdateOptionsWithoutARestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.load(t, testPkg(t, "alpha", nil))
		interval, timeout := 5, 3
		var p progress
		req := api.UpdateRequest{Pkg: "alpha", UpdateCondition: "track-channel", HealthCheckInterval: &interval, ShutdownTimeout: &timeout}
		if err := fx.m.Update(bg, req, p.add); err != nil {
			t.Fatal(err)
		}
		want := "Updated alpha.default (update condition track-channel, health-check interval 5s, shutdown timeout 3s) without a restart"
		if p.String() != want {
			t.Fatalf("progress %q, want %q", p.String(), want)
		}
		b, _ := os.ReadFile(filepath.Join(fx.m.specsDir, "alpha.spec"))
		for _, line := range []string{`update_condition = "track-channel"`, "shutdown_timeout = 3"} {
			if !strings.Contains(string(b), line) {
				t.Errorf("spec lacks %q:\n%s", line, b)
			}
		}
		// At once: svc update returns once the runner applied the options.
		if s := fx.service("alpha"); !s.Running || s.ShutdownTimeout != 3*time.Second || s.HealthInterval != 5*time.Second || fx.f.Count("run") != 1 {
			t.Fatalf("after svc update: %+v, %d runs", s, fx.f.Count("run"))
		}
	})
}

// svc update with new binds restarts the service on the package it runs,
// with the binds saved; binds the package does not declare, a required
// bind left out, an unknown strategy, a service not loaded and one whose
// spec file is broken are refused, with nothing changed.
func TestUpdateBindsRestartsAndRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, func(c *Config) {
			dir := filepath.Join(c.StateDir, "specs")
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "broken.spec"), []byte("ident = 'test/broken'\n"), 0o644)
		})
		dir := testPkg(t, "web", map[string]string{"BINDS_OPTIONAL": "cache=port\n"})
		var p progress
		if err := fx.m.Load(bg, api.LoadRequest{Pkg: dir, Wait: true}, p.add); err != nil {
			t.Fatal(err)
		}
		specFile := filepath.Join(fx.m.specsDir, "web.spec")
		before, _ := os.ReadFile(specFile)
		refused := []struct {
			req  api.UpdateRequest
			kind api.ErrorKind
			msg  string
		}{
			{api.UpdateRequest{Pkg: "web", Binds: &[]string{"db:db.default"}}, api.BadRequest, `unknown bind "db": package test/web/1.0.0/20260101000000 declares binds cache`},
			{api.UpdateRequest{Pkg: "web", Strategy: "sometimes"}, api.BadRequest, "sometimes"},
			{api.UpdateRequest{Pkg: "nope", Strategy: "at-once"}, api.NotFound, "service nope is not loaded"},
			{api.UpdateRequest{Pkg: "broken", Strategy: "at-once"}, api.BadRequest, "service broken cannot be changed"},
		}
		for _, c := range refused {
			err := fx.m.Update(bg, c.req, p.add)
			if api.KindOf(err) != c.kind || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("update %+v: %v, want %v with %q", c.req, err, c.kind, c.msg)
			}
		}
		if after, _ := os.ReadFile(specFile); string(after) != string(before) || fx.f.Count("run") != 1 {
			t.Fatalf("a refused update changed the service: %d runs, spec\n%s", fx.f.Count("run"), after)
		}

		p = progress{}
		if err := fx.m.Update(bg, api.UpdateRequest{Pkg: "web", Binds: &[]string{"cache:redis.default"}}, p.add); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(p.String(), "Updated web.default: binds cache:redis.default; restarted") {
			t.Fatalf("progress %q", p.String())
		}
		if b, _ := os.ReadFile(specFile); !strings.Contains(string(b), "cache:redis.default") {
			t.Fatalf("binds not saved:\n%s", b)
		}
		synctest.Wait()
		s := fx.service("web")
		if s == nil || !s.Running || len(s.Binds) != 1 || fx.f.Count("run") != 2 || fx.f.Alive() != 1 {
			t.Fatalf("after new binds: %+v, %d runs, %d alive", s, fx.f.Count("run"), fx.f.Alive())
		}
	})
}

// svc load refuses binds the package does not declare, naming what it
// declares, and a required bind left out; nothing is loaded.
func TestLoadRefusesBinds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		var p progress
		plain := testPkg(t, "plain", nil)
		if err := fx.m.Load(bg, api.LoadRequest{Pkg: plain, Binds: []string{"db:db.default"}}, p.add); api.KindOf(err) != api.BadRequest ||
			!strings.Contains(err.Error(), `unknown bind "db": package test/plain/1.0.0/20260101000000 declares no binds`) {
			t.Fatalf("load with an undeclared bind: %v", err)
		}
		web := testPkg(t, "web", map[string]string{"BINDS": "db=port\n"})
		if err := fx.m.Load(bg, api.LoadRequest{Pkg: web}, p.add); api.KindOf(err) != api.BadRequest ||
			!strings.Contains(err.Error(), `missing bind "db": package test/web/1.0.0/20260101000000 requires --bind db:SERVICE.GROUP`) {
			t.Fatalf("load without a required bind: %v", err)
		}
		if err := fx.m.Load(bg, api.LoadRequest{Pkg: web, Binds: []string{"db"}}, p.add); api.KindOf(err) != api.BadRequest {
			t.Fatalf("load with a malformed bind: %v", err)
		}
		if s := fx.m.publishNow().Services; len(s) != 0 || fx.f.Count("run") != 0 {
			t.Fatalf("a refused load loaded %+v", s)
		}
		if ents, _ := os.ReadDir(fx.m.specsDir); len(ents) != 0 {
			t.Fatalf("a refused load left spec files: %v", ents)
		}
	})
}
