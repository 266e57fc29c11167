package service

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/service/servicetest"
)

// eventLog keeps what a runner emits.
type eventLog struct {
	mu  sync.Mutex
	evs []events.Event
}

func (l *eventLog) add(e events.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, e)
}

// take returns what was emitted since the last take, as "type state/from"
// lines, and the events themselves.
func (l *eventLog) take() ([]string, []events.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.evs
	l.evs = nil
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s %s/%s", e.Type, e.State, e.From))
	}
	return out, evs
}

func withEvents(l *eventLog) fixtureOpt {
	return func(o *Options) { o.Deps.Event = l.add }
}

// A start, a crash restarted at once, and a crash restarted after a
// backoff each say so, with the pid, the backoff and the reason.
func TestRunnerEmitsStateAndRestartEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log eventLog
		f := servicetest.NewStarter()
		fx := newFixture(t, f, testPkg(t, map[string]string{}), withEvents(&log))
		defer fx.close()
		synctest.Wait()
		got, evs := log.take()
		if strings.Join(got, ",") != "service.state up/down" || evs[0].PID != f.Last("run").PID() || evs[0].Service != "svc.default" {
			t.Fatalf("start: %q %+v", got, evs)
		}

		f.Last("run").Crash()
		synctest.Wait()
		got, evs = log.take()
		if want := "service.state backing off/up,service.restart /,service.state up/backing off"; strings.Join(got, ",") != want {
			t.Fatalf("first crash: %q; want %q", got, want)
		}
		if r := evs[1]; r.Backoff == nil || *r.Backoff != 0 || !strings.Contains(r.Reason, "SIGSEGV") {
			t.Errorf("immediate restart: %+v", r)
		}

		f.Last("run").Crash()
		synctest.Wait()
		got, evs = log.take()
		if want := "service.state backing off/up,service.restart /"; strings.Join(got, ",") != want {
			t.Fatalf("second crash: %q; want %q", got, want)
		}
		r := evs[1]
		if r.Backoff == nil || *r.Backoff < 1 || *r.Backoff > 3 || !r.NextStart.Equal(fx.r.Status().NextRestart) {
			t.Errorf("restart after a backoff: %+v (status next restart %v)", r, fx.r.Status().NextRestart)
		}
		time.Sleep(time.Until(r.NextStart) + time.Millisecond)
		synctest.Wait()
		if got, _ := log.take(); strings.Join(got, ",") != "service.state up/backing off" {
			t.Errorf("after the backoff: %q", got)
		}
	})
}

// A health check whose result changes says so, with its output; the same
// result again says nothing.
func TestRunnerEmitsHealthChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log eventLog
		f := servicetest.NewStarter()
		codes := []int{0, 0, 2}
		f.Behave("health-check", func(n int) servicetest.Life { return servicetest.Exits(codes[min(n, len(codes)-1)]) })
		fx := newFixture(t, f, testPkg(t, map[string]string{"health-check": "#!/bin/sh\n"}), withEvents(&log))
		defer fx.close()
		var health []string
		for range 40 {
			synctest.Wait()
			_, evs := log.take()
			for _, e := range evs {
				if e.Type == events.ServiceHealth {
					health = append(health, e.State+"/"+e.From)
				}
			}
			if len(health) >= 2 {
				break
			}
			time.Sleep(10 * time.Second) // the next check, in the bubble's time
		}
		if want := "OK/UNKNOWN,CRITICAL/OK"; strings.Join(health, ",") != want {
			t.Fatalf("health events %q; want %q", health, want)
		}
	})
}

// The run hook's lines go to the service's output buffer with their
// stream and time.
func TestRunnerKeepsItsOutput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		fx := newFixture(t, f, testPkg(t, map[string]string{}))
		defer fx.close()
		synctest.Wait()
		lines, _, err := fx.r.Output().Recent.Tail(10).Take(nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []api.LogLine{{At: time.Now(), Stream: "stdout", Text: "run says hello"}, {At: time.Now(), Stream: "stderr", Text: "run complains"}}
		if fmt.Sprint(lines) != fmt.Sprint(want) {
			t.Errorf("output %+v; want %+v", lines, want)
		}
	})
}

// A config change says what it did and why: restarted for a changed
// user.toml without a reconfigure hook, reconfigured with one.
func TestRunnerEmitsConfigChanges(t *testing.T) {
	for _, c := range []struct {
		hooks map[string]string
		want  string
	}{
		{map[string]string{}, "restarted app_config_updated: user.toml changed"},
		{map[string]string{"reconfigure": "#!/bin/sh\n"}, "reconfigured app_config_updated: user.toml changed; the reconfigure hook runs"},
	} {
		synctest.Test(t, func(t *testing.T) {
			var log eventLog
			f := servicetest.NewStarter()
			p := testPkg(t, c.hooks)
			p.DefaultTOML = []byte("port = 1\n")
			p.ConfigTemplates = map[string]string{"app.conf": "port={{cfg.port}}\n"}
			fx := newFixture(t, f, p, withEvents(&log))
			defer fx.close()
			synctest.Wait()
			log.take()
			writeUserTOML(t, fx, "port = 2\n")
			fx.r.Reconfigure()
			synctest.Wait()
			_, evs := log.take()
			var got []string
			for _, e := range evs {
				if e.Type == events.ServiceConfig {
					got = append(got, e.Action+" "+e.Reason)
				}
			}
			if len(got) != 1 || got[0] != c.want {
				t.Errorf("config events %q; want %q", got, c.want)
			}
		})
	}
}
