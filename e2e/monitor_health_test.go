package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMonitorReadyNeverFlips polls /ready all along load, unload, a health
// flip and the shutdown: once 200, it never answers anything else while the
// listener still answers.
func TestMonitorReadyNeverFlips(t *testing.T) {
	s := startSup(t, t.TempDir())
	url := "http://" + s.http + "/ready"
	var bad atomic.Value
	var polls atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := monClient.Get(url)
			if err != nil {
				continue // listener closed while shutting down
			}
			resp.Body.Close()
			polls.Add(1)
			if resp.StatusCode != http.StatusOK && bad.Load() == nil {
				bad.Store(resp.Status)
			}
			time.Sleep(5 * time.Millisecond) // polling interval
		}
	})
	t.Cleanup(func() { close(stop); wg.Wait() })

	s.mustTend("svc", "load", sleeper(t, "rdy", uniqueTag()))
	waitFor(t, 20*time.Second, "rdy up", func() bool { return s.status()["rdy.default"].State == "up" })
	s.mustTend("health", "set", "--unhealthy", "--reason", "flip")
	monWaitCode(t, "http://"+s.http+"/healthy", 503, "unhealthy")
	s.mustTend("health", "set", "--healthy")
	monWaitCode(t, "http://"+s.http+"/healthy", 200, "healthy again")
	s.mustTend("svc", "unload", "rdy")
	waitFor(t, 20*time.Second, "rdy unloaded", func() bool { _, ok := s.status()["rdy.default"]; return !ok })
	s.term()
	if v := bad.Load(); v != nil {
		t.Fatalf("/ready answered %v after having answered 200", v)
	}
	if polls.Load() < 10 {
		t.Fatalf("only %d polls of /ready", polls.Load())
	}
}

// TestMonitorHealthyFlips drives /healthy by hand and through a CRITICAL
// health check, and checks sup stats agrees.
func TestMonitorHealthyFlips(t *testing.T) {
	s := startSup(t, t.TempDir())
	url := "http://" + s.http + "/healthy"
	if c, body := monGet(t, "GET", url); c != 200 || strings.TrimSpace(body) != "healthy" {
		t.Fatalf("/healthy at start: %d %q", c, body)
	}

	s.mustTend("health", "set", "--unhealthy", "--reason", "maintenance-window-42")
	body := monWaitCode(t, url, 503, "manual unhealthy")
	if !strings.Contains(body, "set unhealthy by hand: maintenance-window-42") {
		t.Fatalf("503 body lacks the reason: %q", body)
	}
	st := s.mustTend("sup", "stats")
	if !strings.Contains(st, "ready: true") || !strings.Contains(st, "healthy: false") || !strings.Contains(st, "maintenance-window-42") {
		t.Fatalf("sup stats while unhealthy:\n%s", st)
	}
	s.mustTend("health", "set", "--healthy")
	monWaitCode(t, url, 200, "healthy after --healthy")
	if st := s.mustTend("sup", "stats"); !strings.Contains(st, "healthy: true") || strings.Contains(st, "reason:") {
		t.Fatalf("sup stats after --healthy:\n%s", st)
	}

	// A service going CRITICAL crosses the default services threshold (upper 1).
	code := monCodeFile(t, "0")
	s.mustTend("svc", "load", "--health-check-interval", "1", monChecked(t, "crit", code))
	waitFor(t, 20*time.Second, "crit up", func() bool { return s.status()["crit.default"].State == "up" })
	monWaitCode(t, url, 200, "healthy with crit OK")
	monSetCode(t, code, "2")
	body = monWaitCode(t, url, 503, "unhealthy when crit is CRITICAL")
	if !strings.Contains(body, "service down or CRITICAL") || !strings.Contains(body, "crit.default") {
		t.Fatalf("503 body: %q", body)
	}
	var js struct {
		Ready, Healthy bool
		Reasons        []string
	}
	if err := json.Unmarshal([]byte(s.mustTend("sup", "stats", "--json")), &js); err != nil {
		t.Fatal(err)
	}
	if !js.Ready || js.Healthy || len(js.Reasons) == 0 || !strings.Contains(strings.Join(js.Reasons, "\n"), "crit.default") {
		t.Fatalf("sup stats --json while CRITICAL: %+v", js)
	}
	monSetCode(t, code, "0")
	monWaitCode(t, url, 200, "healthy when crit OK again")
}

type monStatusDoc struct {
	Status     string `json:"status"`
	Components map[string]struct {
		Status  string   `json:"status"`
		Reason  string   `json:"reason"`
		Records []string `json:"records"`
	} `json:"components"`
}

func monStatus(t *testing.T, addr string) monStatusDoc {
	t.Helper()
	c, body := monGet(t, "GET", "http://"+addr+"/status")
	if c != 200 {
		t.Fatalf("/status: %d %s", c, body)
	}
	var d monStatusDoc
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("/status: %v\n%s", err, body)
	}
	return d
}

// TestMonitorStatus: degraded after two failed checks, healed by one OK; down
// for a service that cannot run; OPTIONS answers 204.
func TestMonitorStatus(t *testing.T) {
	s := startSup(t, t.TempDir(), "--monitor-healthy-servicesdown-upper", "0",
		"--service-min-backoff-period", "60", "--service-max-backoff-period", "60", "--service-restart-cooldown-period", "60")
	code := monCodeFile(t, "0")
	s.mustTend("svc", "load", "--health-check-interval", "1", monChecked(t, "deg", code))
	comp := func(name string) (string, []string) {
		c := monStatus(t, s.http).Components[name]
		return c.Status, c.Records
	}
	waitFor(t, 20*time.Second, "deg healthy with an OK check", func() bool {
		st, rec := comp("deg.default")
		return st == "healthy" && len(rec) > 0 && strings.Contains(rec[len(rec)-1], "[ok] health check")
	})
	monSetCode(t, code, "2")
	var sawOneError bool
	waitFor(t, 20*time.Second, "deg degraded", func() bool {
		st, rec := comp("deg.default")
		n := len(rec)
		if st == "healthy" && n > 0 && strings.Contains(rec[n-1], "[error]") {
			sawOneError = true // one error alone does not degrade
		}
		if st == "degraded" {
			if n < 2 || !strings.Contains(rec[n-1], "[error]") || !strings.Contains(rec[n-2], "[error]") {
				t.Fatalf("degraded without two trailing errors: %q", rec)
			}
			return true
		}
		return false
	})
	t.Logf("saw healthy with a single trailing error: %v", sawOneError)
	if d := monStatus(t, s.http); d.Status != "degraded" {
		t.Fatalf("root status %q with a degraded component", d.Status)
	}
	monSetCode(t, code, "0")
	waitFor(t, 20*time.Second, "deg healed by one OK", func() bool {
		st, _ := comp("deg.default")
		return st == "healthy"
	})
	waitFor(t, 20*time.Second, "root healthy", func() bool { return monStatus(t, s.http).Status == "healthy" })

	// A service whose run hook fails at once, with a long backoff: not running.
	broken := pkgDir(t, map[string]string{
		"IDENT":     "test/broken/1.0.0/20260101000000",
		"hooks/run": "#!/bin/sh\nexit 1\n",
	})
	s.mustTend("svc", "load", broken)
	waitFor(t, 20*time.Second, "broken down", func() bool {
		c := monStatus(t, s.http).Components["broken.default"]
		return c.Status == "down" && c.Reason != ""
	})
	if d := monStatus(t, s.http); d.Status != "degraded" {
		t.Fatalf("root %q with one of two services down", d.Status)
	}
	s.mustTend("svc", "unload", "deg")
	waitFor(t, 20*time.Second, "root down when every service is down", func() bool { return monStatus(t, s.http).Status == "down" })

	req, _ := http.NewRequest(http.MethodOptions, "http://"+s.http+"/status", nil)
	resp, err := monClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || !strings.Contains(resp.Header.Get("Allow"), "OPTIONS") {
		t.Fatalf("OPTIONS /status: %d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}
