package service

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/service/servicetest"
	"github.com/tend-sh/tend/internal/spec"
)

// writeUserTOML writes ROOT/user/NAME/config/user.toml.
func writeUserTOML(t *testing.T, fx *fixture, body string) {
	t.Helper()
	dir := filepath.Join(fx.r.d.Root, "user", "svc", "config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "user.toml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Changed config without a reconfigure hook restarts the service, with the
// file re-rendered first.
func TestConfigChangeRestarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		p := testPkg(t, map[string]string{})
		p.DefaultTOML = []byte("port = 1\n")
		p.ConfigTemplates = map[string]string{"app.conf": "port={{cfg.port}}\n"}
		p.Exports = map[string]string{"port": "port"}
		fx := newFixture(t, f, p)
		defer fx.close()
		synctest.Wait()
		conf := filepath.Join(fx.r.d.Root, "svc", "svc", "config", "app.conf")
		if b, _ := os.ReadFile(conf); string(b) != "port=1\n" {
			t.Fatalf("app.conf %q", b)
		}
		writeUserTOML(t, fx, "port = 2\n")
		fx.r.Reconfigure()
		synctest.Wait()
		if b, _ := os.ReadFile(conf); string(b) != "port=2\n" {
			t.Fatalf("app.conf after the change %q", b)
		}
		s, _ := fx.r.WaitFor(context.Background(), func(s *api.Service) bool { return s.Running && f.Count("run") == 2 })
		if s.Exported["port"] != int64(2) || s.LastExit == nil || s.LastExit.Reason != "app_config_updated" || !s.UserConfigUpdated {
			t.Fatalf("after the restart: %+v", s)
		}
		// The same config again changes nothing.
		fx.r.Reconfigure()
		synctest.Wait()
		if f.Count("run") != 2 {
			t.Fatalf("%d starts after an unchanged reconfigure", f.Count("run"))
		}
		// A config that does not parse is recorded, not applied.
		writeUserTOML(t, fx, "port = = 3\n")
		fx.r.Reconfigure()
		synctest.Wait()
		recs := fx.r.Status().Records
		if !strings.Contains(recs[len(recs)-1].Text, "config not applied") || f.Count("run") != 2 {
			t.Fatalf("records %+v", recs)
		}
	})
}

// With a reconfigure hook, changed config runs the hook instead of a
// restart; a changed run hook restarts.
func TestReconfigureHookAndHookChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		f.Behave("reconfigure", func(int) servicetest.Life { return servicetest.Exits(0) })
		p := testPkg(t, map[string]string{
			"reconfigure": "#!/bin/sh\nexit 0\n",
			"run":         "#!/bin/sh\n# {{cfg.mode}}\nexec sleep 1000\n",
		})
		p.DefaultTOML = []byte("mode = 'a'\nport = 1\n")
		p.ConfigTemplates = map[string]string{"app.conf": "port={{cfg.port}}\n"}
		fx := newFixture(t, f, p)
		defer fx.close()
		synctest.Wait()
		writeUserTOML(t, fx, "port = 2\n")
		fx.r.Reconfigure()
		synctest.Wait()
		if f.Count("reconfigure") != 1 || f.Count("run") != 1 {
			t.Fatalf("%d reconfigure hooks, %d starts; want the hook and no restart", f.Count("reconfigure"), f.Count("run"))
		}
		writeUserTOML(t, fx, "port = 2\nmode = 'b'\n")
		fx.r.Reconfigure()
		synctest.Wait()
		s := fx.r.Status()
		if f.Count("run") != 2 || s.LastExit == nil || s.LastExit.Reason != "run_hook_updated" {
			t.Fatalf("%d starts, last exit %+v; want a restart for the run hook", f.Count("run"), s.LastExit)
		}
	})
}

// post-run is run again a second apart until it exits 0.
func TestPostRunRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		f.Behave("post-run", func(n int) servicetest.Life {
			if n < 2 {
				return servicetest.Exits(1)
			}
			return servicetest.Exits(0)
		})
		fx := newFixture(t, f, testPkg(t, map[string]string{"post-run": "#!/bin/sh\nexit 0\n"}))
		defer fx.close()
		synctest.Wait()
		if f.Count("post-run") != 1 {
			t.Fatalf("%d post-runs", f.Count("post-run"))
		}
		time.Sleep(2*time.Second + time.Millisecond)
		synctest.Wait()
		if f.Count("post-run") != 3 {
			t.Fatalf("%d post-runs after 2s, want 3", f.Count("post-run"))
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if f.Count("post-run") != 3 {
			t.Fatalf("post-run run again after it exited 0")
		}
	})
}

// Files pushed to the group are written to files/ and file-updated runs.
func TestFilesFromTheRing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		f.Behave("file-updated", func(int) servicetest.Life { return servicetest.Exits(0) })
		fx := newFixture(t, f, testPkg(t, map[string]string{"file-updated": "#!/bin/sh\nexit 0\n"}), func(o *Options) {
			o.Deps.Gate = make(chan struct{}, 1)
		})
		defer fx.close()
		synctest.Wait()
		fx.r.SetRing(RingView{Key: "k1", Files: []File{{Name: "a.txt", Incarnation: 1, Body: []byte("one")}, {Name: "../x", Incarnation: 1}}})
		synctest.Wait()
		path := filepath.Join(fx.r.d.Root, "svc", "svc", "files", "a.txt")
		if b, err := os.ReadFile(path); err != nil || string(b) != "one" {
			t.Fatalf("a.txt %q %v", b, err)
		}
		if f.Count("file-updated") != 1 {
			t.Fatalf("%d file-updated runs", f.Count("file-updated"))
		}
		// An older or equal version is ignored.
		fx.r.SetRing(RingView{Key: "k2", Files: []File{{Name: "a.txt", Incarnation: 1, Body: []byte("old")}}})
		synctest.Wait()
		if b, _ := os.ReadFile(path); string(b) != "one" || f.Count("file-updated") != 1 {
			t.Fatalf("a.txt %q after an old version", b)
		}
		if fx.r.ServiceGroup() != "svc.default" {
			t.Fatalf("service group %q", fx.r.ServiceGroup())
		}
		if _, err := Check(fx.r.st.pkg, false); err != nil {
			t.Fatal(err)
		}
	})
}

// The run process's output goes to the supervisor and to logs/.
func TestRunOutputLogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		var got []string
		fx := newFixture(t, f, testPkg(t, map[string]string{}), func(o *Options) {
			o.Deps.Output = func(sg string, stream byte, line []byte) { got = append(got, sg+string(stream)+string(line)) }
		})
		synctest.Wait()
		fx.close()
		<-fx.r.Done()
		if len(got) < 2 || got[0] != "svc.defaultOrun says hello" {
			t.Fatalf("output %q", got)
		}
		b, err := os.ReadFile(filepath.Join(fx.r.d.Root, "svc", "svc", "logs", "run.stdout.log"))
		if err != nil || !strings.Contains(string(b), "run says hello") {
			t.Fatalf("run.stdout.log %q %v", b, err)
		}
		if err := fx.r.SetDesired(context.Background(), true); err != ErrGone {
			t.Fatalf("SetDesired after Run: %v", err)
		}
	})
}

// A reconfigure hook that hangs holds up nothing: the service stops while
// it runs, and it is killed at the hook timeout.
func TestHungReconfigureHookBlocksNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		p := testPkg(t, map[string]string{"reconfigure": "#!/bin/sh\nsleep 1000\n"})
		p.DefaultTOML = []byte("port = 1\n")
		p.ConfigTemplates = map[string]string{"app.conf": "port={{cfg.port}}\n"}
		fx := newFixture(t, f, p, withSpec(func(s *spec.Spec) { s.HookTimeout = seconds(4) }))
		defer fx.close()
		synctest.Wait()
		writeUserTOML(t, fx, "port = 2\n")
		fx.r.Reconfigure()
		synctest.Wait()
		if f.Count("reconfigure") != 1 {
			t.Fatalf("%d reconfigure hooks", f.Count("reconfigure"))
		}
		n := fx.r.Attempts()
		fx.r.SetDesired(context.Background(), false)
		if s, _ := fx.r.WaitAttempt(context.Background(), n); s.Running {
			t.Fatalf("not stopped while the reconfigure hook runs: %+v", s)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		recs := fx.r.Status().Records
		found := false
		for _, r := range recs {
			found = found || strings.Contains(r.Text, "reconfigure hook timed out after 4s")
		}
		if !found || f.Alive() != 0 {
			t.Fatalf("records %+v, %d alive", recs, f.Alive())
		}
	})
}

// user_config_updated says user.toml changed, nothing else: config pushed to
// the group re-renders a service that has no user.toml and leaves it false.
func TestUserConfigUpdatedOnlyForUserTOML(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		p := testPkg(t, map[string]string{})
		p.DefaultTOML = []byte("port = 1\n")
		p.ConfigTemplates = map[string]string{"app.conf": "port={{cfg.port}} x={{cfg.x}}\n"}
		fx := newFixture(t, f, p)
		defer fx.close()
		synctest.Wait()
		fx.r.SetRing(RingView{Key: "g1", Gossip: map[string]any{"port": int64(5)}, GossipInc: 1})
		s, _ := fx.r.WaitFor(context.Background(), func(s *api.Service) bool { return s.Running && f.Count("run") == 2 })
		if s.UserConfigUpdated {
			t.Fatalf("user_config_updated true after a gossiped change, with no user.toml")
		}
		writeUserTOML(t, fx, "x = 2\n")
		fx.r.Reconfigure()
		synctest.Wait()
		s, _ = fx.r.WaitFor(context.Background(), func(s *api.Service) bool { return s.Running && f.Count("run") == 3 })
		if !s.UserConfigUpdated {
			t.Fatalf("user_config_updated false after user.toml changed")
		}
	})
}
