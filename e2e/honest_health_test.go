package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A service stopped by the CLI is CRITICAL with no hook output beside it
// (its last check said OK, and that output belongs to that status), and its
// last process did not fail: last_process_state is not run_hook_failed.
func TestStoppedServiceHealthIsHonest(t *testing.T) {
	t.Parallel()
	s, c := gwStart(t, t.TempDir())
	s.mustTend("svc", "load", pkgDir(t, map[string]string{
		"IDENT":              "test/honest/1.0.0/20260101000000",
		"hooks/run":          "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
		"hooks/health-check": "#!/bin/sh\necho all good\nexit 0\n",
	}), "--health-check-interval", "1")
	health := func() (int, map[string]string) {
		r, err := c.try("GET", "/services/honest/default/health")
		if err != nil {
			return 0, nil
		}
		var h map[string]string
		if json.Unmarshal(r.body, &h) != nil {
			return r.code, nil
		}
		return r.code, h
	}
	waitFor(t, 15*time.Second, "health OK with its output", func() bool {
		code, h := health()
		return code == 200 && h["status"] == "OK" && h["stdout"] == "all good\n"
	})
	s.mustTend("svc", "stop", "test/honest")
	waitFor(t, 15*time.Second, "process down", func() bool {
		return s.status()["honest.default"].State == "down"
	})
	if code, h := health(); code != 503 || h["status"] != "CRITICAL" || h["stdout"] != "" || h["stderr"] != "" {
		t.Errorf("/health of a stopped service: %d %v; want 503 CRITICAL with no hook output", code, h)
	}
	var svc struct {
		LastProcessState json.RawMessage `json:"last_process_state"`
	}
	if err := json.Unmarshal(c.get("/services/honest/default", 200), &svc); err != nil {
		t.Fatal(err)
	}
	if string(svc.LastProcessState) != "null" {
		t.Errorf("last_process_state after svc stop: %s; want null (run_hook_failed blames the service for a stop asked for)", svc.LastProcessState)
	}
}

// svc load --health-check-grace: a service that has not opened its port yet
// is UNKNOWN, not CRITICAL, until its check passes.
func TestHealthCheckGraceThroughCLI(t *testing.T) {
	t.Parallel()
	s, c := gwStart(t, t.TempDir())
	ready := filepath.Join(t.TempDir(), "ready")
	s.mustTend("svc", "load", pkgDir(t, map[string]string{
		"IDENT":              "test/slowstart/1.0.0/20260101000000",
		"hooks/run":          "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
		"hooks/health-check": "#!/bin/sh\n[ -e " + ready + " ] && exit 0\necho not listening yet\nexit 2\n",
	}), "--health-check-interval", "1", "--health-check-grace", "300")
	health := func() (int, map[string]string) {
		r, err := c.try("GET", "/services/slowstart/default/health")
		if err != nil {
			return 0, nil
		}
		var h map[string]string
		if json.Unmarshal(r.body, &h) != nil {
			return r.code, nil
		}
		return r.code, h
	}
	// The output shows a check ran (UNKNOWN before the first has none).
	var code int
	var h map[string]string
	waitFor(t, 15*time.Second, "a first failing check", func() bool {
		code, h = health()
		return h["stdout"] == "not listening yet\n"
	})
	if code != 500 || h["status"] != "UNKNOWN" {
		t.Fatalf("failing check within the grace: %d %v; want 500 UNKNOWN", code, h)
	}
	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "OK once the check passes", func() bool {
		code, h := health()
		return code == 200 && h["status"] == "OK"
	})
}
