package monitor

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-sh/tend/internal/api"
)

// The expected bodies follow kube-apiserver's healthz handler
// (k8s.io/apiserver/pkg/server/healthz): "ok" alone when all pass and
// verbose is not asked; "[+]name ok" lines and "NAME check passed" with
// verbose; every line and "NAME check failed" with 500 on a failure.
func TestReadyzLikeKubernetes(t *testing.T) {
	f := newFixture()
	m := mustNew(t, f.options())
	web := running("web")
	slow := running("slow")
	slow.Readiness, slow.Ready = api.ReadinessFD, false
	stopped := running("batch")
	stopped.DesiredUp, stopped.Running = false, false
	web.Ready = true

	f.set(readySnap(stopped, web))
	for _, tc := range []struct {
		path string
		code int
		body string
	}{
		{"/readyz", 200, "ok"},
		{"/readyz?verbose", 200, "[+]ping ok\n[+]ready ok\n[+]shutdown ok\n[+]batch.default ok\n[+]web.default ok\nreadyz check passed\n"},
		{"/readyz?verbose&exclude=web.default", 200, "[+]ping ok\n[+]ready ok\n[+]shutdown ok\n[+]batch.default ok\n[+]web.default excluded: ok\nreadyz check passed\n"},
		{"/readyz?verbose&exclude=nope&exclude=gone", 200, "[+]ping ok\n[+]ready ok\n[+]shutdown ok\n[+]batch.default ok\n[+]web.default ok\nwarn: some health checks cannot be excluded: no matches for \"gone\",\"nope\"\nreadyz check passed\n"},
	} {
		r := get(t, m, http.MethodGet, tc.path)
		if got := body(t, r); r.StatusCode != tc.code || got != tc.body {
			t.Errorf("%s: %d\n%s\nwant %d\n%s", tc.path, r.StatusCode, got, tc.code, tc.body)
		}
		if ct := r.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
		if n := r.Header.Get("X-Content-Type-Options"); n != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", tc.path, n)
		}
	}

	// A service that is up but has not said it is ready holds /readyz.
	f.set(readySnap(stopped, slow, web))
	for _, tc := range []struct{ path, body string }{
		{"/readyz", "[+]ping ok\n[+]ready ok\n[+]shutdown ok\n[+]batch.default ok\n[-]slow.default failed: reason withheld\n[+]web.default ok\nreadyz check failed\n"},
		{"/readyz?verbose", "[+]ping ok\n[+]ready ok\n[+]shutdown ok\n[+]batch.default ok\n[-]slow.default failed: up but not ready: waiting for a newline on its notification fd\n[+]web.default ok\nreadyz check failed\n"},
	} {
		r := get(t, m, http.MethodGet, tc.path)
		if got := body(t, r); r.StatusCode != http.StatusInternalServerError || got != tc.body {
			t.Errorf("%s: %d\n%s\nwant 500\n%s", tc.path, r.StatusCode, got, tc.body)
		}
	}
	if r := get(t, m, http.MethodGet, "/readyz?exclude=slow.default"); r.StatusCode != 200 || body(t, r) != "ok" {
		t.Errorf("excluding the unready service: %d", r.StatusCode)
	}

	// Down, CRITICAL, shutting down.
	down := running("web")
	down.Running, down.Ready, down.LastExit = false, false, &api.Exit{Code: 3}
	crit := running("api")
	crit.Ready, crit.Health = true, api.HealthCritical
	s := readySnap(crit, down)
	s.ShuttingDown = true
	f.set(s)
	want := "[+]ping ok\n[+]ready ok\n[-]shutdown failed: shutting down\n[-]api.default failed: health check CRITICAL\n[-]web.default failed: not running: exited with code 3\nreadyz check failed\n"
	if r := get(t, m, http.MethodGet, "/readyz?verbose=1"); body(t, r) != want {
		t.Errorf("down and critical:\n%s\nwant\n%s", body(t, get(t, m, http.MethodGet, "/readyz?verbose=1")), want)
	}
}

func TestReadyzBeforeStart(t *testing.T) {
	f := newFixture()
	m := mustNew(t, f.options())
	r := get(t, m, http.MethodGet, "/readyz?verbose")
	want := "[+]ping ok\n[-]ready failed: the supervisor is still starting\n[+]shutdown ok\nreadyz check failed\n"
	if got := body(t, r); r.StatusCode != 500 || got != want {
		t.Errorf("%d\n%s\nwant 500\n%s", r.StatusCode, got, want)
	}
}

func TestLivezFollowsLoops(t *testing.T) {
	f := newFixture()
	beat := t0
	o := f.options()
	o.Loops = func() []Loop { return []Loop{{Name: "manager", Last: beat}, {Name: "ring", Last: t0}} }
	m := mustNew(t, o)
	if r := get(t, m, http.MethodGet, "/livez"); r.StatusCode != 200 || body(t, r) != "ok" {
		t.Fatalf("fresh loops: %d", r.StatusCode)
	}
	f.advance(5 * time.Second) // exactly the limit: still live
	if r := get(t, m, http.MethodGet, "/livez?verbose"); body(t, r) != "[+]ping ok\n[+]manager ok\n[+]ring ok\nlivez check passed\n" {
		t.Fatalf("at the limit: %q", body(t, get(t, m, http.MethodGet, "/livez?verbose")))
	}
	beat = t0.Add(5 * time.Second)
	f.advance(time.Second) // the ring loop stopped answering
	r := get(t, m, http.MethodGet, "/livez?verbose")
	want := "[+]ping ok\n[+]manager ok\n[-]ring failed: no heartbeat answered for 6s (limit 5s)\nlivez check failed\n"
	if got := body(t, r); r.StatusCode != 500 || got != want {
		t.Fatalf("stale ring: %d\n%s\nwant\n%s", r.StatusCode, got, want)
	}
	if r := get(t, m, http.MethodGet, "/livez?exclude=ring"); r.StatusCode != 200 {
		t.Fatalf("ring excluded: %d", r.StatusCode)
	}
}

func TestHealthJSONNegotiation(t *testing.T) {
	for _, tc := range []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", false},
		{"text/html,application/xhtml+xml,*/*;q=0.8", false},
		{"application/health+json", true},
		{"application/health+json;q=0.9, application/json;q=0.5", true},
		{"application/json, application/health+json;q=0.5", false},
		{"application/health+json;q=0", false},
		{"application/health+json, */*", true},
	} {
		if got := wantsHealthJSON(tc.accept); got != tc.want {
			t.Errorf("Accept %q: %v, want %v", tc.accept, got, tc.want)
		}
	}
}

// The draft's response: status pass|warn|fail, checks keyed by component,
// each an array of objects with componentType, status and time; output
// only on warn and fail; media type application/health+json; a fail
// answered with 503.
func TestHealthJSONBodies(t *testing.T) {
	f := newFixture()
	m := mustNew(t, f.options())
	web := running("web")
	web.Ready = true
	down := running("db")
	down.Running, down.LastExit = false, &api.Exit{Code: 1}
	s := readySnap(down, web)
	s.Sup.Version, s.Sup.MemberID = "0.1.0/20260101", "abcd"
	s.Sup.ProcessTracking = "subreaper and /proc (cgroups turned off)"
	f.set(s)
	type doc struct {
		Status, Version, ServiceID, Description, Output string
		Notes                                           []string
		Checks                                          map[string][]map[string]string
	}
	decode := func(r *http.Response) doc {
		t.Helper()
		if ct := r.Header.Get("Content-Type"); ct != "application/health+json" {
			t.Fatalf("Content-Type %q", ct)
		}
		var d doc
		if err := json.Unmarshal([]byte(body(t, r)), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	when := t0.Format(time.RFC3339)
	checks := map[string][]map[string]string{
		"db.default":  {{"componentType": "component", "status": "fail", "time": when, "output": "not running: exited with code 1"}},
		"web.default": {{"componentType": "component", "status": "pass", "time": when}},
		"ring":        {{"componentType": "system", "status": "pass", "time": when}},
		"store":       {{"componentType": "system", "status": "pass", "time": when}},
		"processes":   {{"componentType": "system", "status": "pass", "time": when}},
	}

	wantHealthy := doc{
		Status: "fail", Version: "0.1.0/20260101", ServiceID: "abcd", Description: "tend supervisor",
		Notes:  []string{"1 service down or CRITICAL (unhealthy at 1 or more, healthy again at 0 or fewer): db.default"},
		Output: "1 service down or CRITICAL (unhealthy at 1 or more, healthy again at 0 or fewer): db.default",
		Checks: checks,
	}
	m2 := mustNew(t, func() Options { o := f.options(); o.ServicesDown = Threshold{Lower: 0, Upper: 1}; return o }())
	r := get(t, m2, http.MethodGet, "/healthy", "Accept", "application/health+json")
	if r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/healthy: %d", r.StatusCode)
	}
	if d := decode(r); !cmp.Equal(d, wantHealthy) {
		t.Errorf("/healthy health+json: %s", cmp.Diff(wantHealthy, d))
	}

	// One of two services down: degraded, which the draft calls warn (2xx).
	r = get(t, m, http.MethodGet, "/status", "Accept", "application/json;q=0.5, application/health+json")
	if r.StatusCode != http.StatusOK {
		t.Errorf("/status warn: %d", r.StatusCode)
	}
	wantStatus := doc{Status: "warn", Version: "0.1.0/20260101", ServiceID: "abcd", Description: "tend supervisor", Checks: checks}
	if d := decode(r); !cmp.Equal(d, wantStatus) {
		t.Errorf("/status health+json: %s", cmp.Diff(wantStatus, d))
	}

	// Without the header, the existing formats are unchanged.
	if r := get(t, m, http.MethodGet, "/status"); r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("/status default: %q", r.Header.Get("Content-Type"))
	}
	if r := get(t, m, http.MethodGet, "/healthy", "Accept", "*/*"); r.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("/healthy default: %q", r.Header.Get("Content-Type"))
	}
}

func TestSummaryLine(t *testing.T) {
	f := newFixture()
	o := f.options()
	o.ServicesDown = Threshold{Lower: 0, Upper: 1}
	m := mustNew(t, o)
	if got := m.Summary(); got != "starting; 0 services" {
		t.Errorf("before the first snapshot: %q", got)
	}
	web := running("web")
	web.Ready = true
	slow := running("slow")
	slow.Readiness = api.ReadinessNotify
	batch := running("batch")
	batch.DesiredUp, batch.Running = false, false
	f.set(readySnap(batch, slow, web))
	if got, want := m.Summary(), "ready, healthy; 3 services: 1 up, 1 not ready, 1 stopped"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	web.Running, web.Ready = false, false
	f.set(readySnap(web))
	if got, want := m.Summary(), "ready, unhealthy (1 reason); 1 service: 1 down"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A service up but not ready is degraded in /status, with the reason, and
// 0 in tend_service_ready; ready, it is healthy and 1.
func TestNotReadyInStatusAndMetrics(t *testing.T) {
	f := newFixture()
	m := mustNew(t, f.options())
	slow := running("slow")
	slow.Readiness = api.ReadinessNotify
	f.set(readySnap(slow))
	var doc struct {
		Components map[string]struct{ Status, Reason string }
	}
	if err := json.Unmarshal([]byte(body(t, get(t, m, http.MethodGet, "/status"))), &doc); err != nil {
		t.Fatal(err)
	}
	if c := doc.Components["slow.default"]; c.Status != "degraded" || c.Reason != "up but not ready: waiting for READY=1 on its NOTIFY_SOCKET" {
		t.Errorf("not ready: %+v", c)
	}
	metrics := body(t, get(t, m, http.MethodGet, "/metrics"))
	if !strings.Contains(metrics, `tend_service_ready{group="default",service="slow",service_group="slow.default"} 0`) {
		t.Errorf("tend_service_ready not 0:\n%s", metrics)
	}
	slow.Ready = true
	f.set(readySnap(slow))
	if !strings.Contains(body(t, get(t, m, http.MethodGet, "/metrics")), `tend_service_ready{group="default",service="slow",service_group="slow.default"} 1`) {
		t.Error("tend_service_ready not 1 once ready")
	}
}

// /readyz/NAME and /livez/NAME answer one check, as Kubernetes'
// individual health checks: "ok", or 500 with the reason; 404 for no such
// check.
func TestProbeSingleCheck(t *testing.T) {
	f := newFixture()
	m := mustNew(t, f.options())
	web := running("web")
	web.Ready = true
	slow := running("slow")
	slow.Readiness = api.ReadinessFD
	f.set(readySnap(slow, web))
	for _, tc := range []struct {
		path string
		code int
		body string
	}{
		{"/readyz/web.default", 200, "ok"},
		{"/readyz/ping", 200, "ok"},
		{"/readyz/slow.default", 500, "internal server error: up but not ready: waiting for a newline on its notification fd\n"},
		{"/readyz/nope", 404, "404 page not found\n"},
		{"/livez/ping", 200, "ok"},
	} {
		r := get(t, m, http.MethodGet, tc.path)
		if got := body(t, r); r.StatusCode != tc.code || got != tc.body {
			t.Errorf("%s: %d %q, want %d %q", tc.path, r.StatusCode, got, tc.code, tc.body)
		}
	}
}
