package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// /livez and /readyz answer as kube-apiserver's do (plain text, "[+]name
// ok" lines with ?verbose, "livez check passed" / "readyz check failed"
// trailers, 500 on failure, ?exclude), with one check per loop and per
// service.
func TestProbesLikeKubernetes(t *testing.T) {
	t.Parallel()
	// A long backoff keeps a crashed service down between two checks.
	s := startSup(t, t.TempDir(), "--service-min-backoff-period", "60", "--service-max-backoff-period", "60")
	base := "http://" + s.http
	s.mustTend("svc", "load", sleeper(t, "web", uniqueTag()))
	waitFor(t, 20*time.Second, "web up", func() bool { return s.status()["web.default"].State == "up" })

	for _, tc := range []struct {
		path string
		code int
		body string
	}{
		{"/livez", 200, "ok"},
		{"/livez?verbose", 200, "[+]ping ok\n[+]manager ok\n[+]ring ok\nlivez check passed\n"},
		{"/livez?verbose&exclude=ring&exclude=etcd", 200, "[+]ping ok\n[+]manager ok\n[+]ring excluded: ok\nwarn: some health checks cannot be excluded: no matches for \"etcd\"\nlivez check passed\n"},
		{"/readyz", 200, "ok"},
		{"/readyz?verbose", 200, "[+]ping ok\n[+]ready ok\n[+]shutdown ok\n[+]web.default ok\nreadyz check passed\n"},
		{"/readyz/web.default", 200, "ok"},
		{"/livez/ring", 200, "ok"},
	} {
		if code, body := monGet(t, "GET", base+tc.path); code != tc.code || body != tc.body {
			t.Errorf("%s: %d\n%s\nwant %d\n%s", tc.path, code, body, tc.code, tc.body)
		}
	}

	// A service that should run and cannot fails /readyz; the reason is
	// withheld unless ?verbose asks, as Kubernetes withholds it.
	s.mustTend("svc", "load", pkgDir(t, map[string]string{
		"IDENT":     "test/broken/1.0.0/20260101000000",
		"hooks/run": "#!/bin/sh\nexit 3\n",
	}))
	monWaitCode(t, base+"/readyz", 500, "/readyz failing for broken")
	code, body := monGet(t, "GET", base+"/readyz")
	if want := "[+]ping ok\n[+]ready ok\n[+]shutdown ok\n[-]broken.default failed: reason withheld\n[+]web.default ok\nreadyz check failed\n"; code != 500 || body != want {
		t.Errorf("/readyz: %d\n%s\nwant 500\n%s", code, body, want)
	}
	_, body = monGet(t, "GET", base+"/readyz?verbose")
	if !strings.Contains(body, "[-]broken.default failed: not running: exited with code 3; next restart at ") || !strings.HasSuffix(body, "readyz check failed\n") {
		t.Errorf("/readyz?verbose:\n%s", body)
	}
	if code, body := monGet(t, "GET", base+"/readyz/broken.default"); code != 500 || !strings.HasPrefix(body, "internal server error: not running: exited with code 3") {
		t.Errorf("/readyz/broken.default: %d %q", code, body)
	}
	if code, body := monGet(t, "GET", base+"/readyz?exclude=broken.default"); code != 200 || body != "ok" {
		t.Errorf("excluding broken: %d %q", code, body)
	}
	// Stopped on purpose, it no longer holds readiness.
	s.mustTend("svc", "stop", "broken")
	monWaitCode(t, base+"/readyz", 200, "/readyz once broken is stopped")
}

// /healthy and /status answer application/health+json
// (draft-inadarei-api-health-check) to a client that asks for it, and
// their usual formats to everyone else.
func TestHealthJSONByAccept(t *testing.T) {
	t.Parallel()
	s := startSup(t, t.TempDir())
	base := "http://" + s.http
	s.mustTend("svc", "load", sleeper(t, "api", uniqueTag()))
	waitFor(t, 20*time.Second, "api up", func() bool { return s.status()["api.default"].State == "up" })

	type check struct {
		ComponentType, Status, Time, Output string
	}
	type doc struct {
		Status, Version, ServiceID, Description string
		Checks                                  map[string][]check
	}
	get := func(path string) (int, doc) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Accept", "application/health+json")
		resp, err := monClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "application/health+json" {
			t.Fatalf("%s: Content-Type %q", path, ct)
		}
		var d doc
		if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, d
	}
	for _, path := range []string{"/healthy", "/status"} {
		code, d := get(path)
		if code != 200 || d.Status != "pass" || d.Description != "tend supervisor" || d.ServiceID == "" || d.Version == "" {
			t.Errorf("%s: %d %+v", path, code, d)
		}
		c := d.Checks["api.default"]
		if len(c) != 1 || c[0].Status != "pass" || c[0].ComponentType != "component" || c[0].Output != "" {
			t.Errorf("%s: api.default check %+v", path, c)
		}
		if _, err := time.Parse(time.RFC3339, c[0].Time); err != nil {
			t.Errorf("%s: time %q: %v", path, c[0].Time, err)
		}
		if r := d.Checks["ring"]; len(r) != 1 || r[0].ComponentType != "system" {
			t.Errorf("%s: ring check %+v", path, r)
		}
	}
	// The defaults are unchanged.
	if code, body := monGet(t, "GET", base+"/healthy"); code != 200 || body != "healthy\n" {
		t.Errorf("/healthy without Accept: %d %q", code, body)
	}
	s.mustTend("health", "set", "--unhealthy", "--reason", "drain")
	code, d := get("/healthy")
	if code != 503 || d.Status != "fail" {
		t.Errorf("/healthy set unhealthy: %d %+v", code, d)
	}
}

// The supervisor speaks sd_notify to the socket named by NOTIFY_SOCKET,
// as systemd's Type=notify expects: STATUS= lines, READY=1 once /ready
// answers 200, WATCHDOG=1 every half of WATCHDOG_USEC, and STOPPING=1 at
// sup term, in that order.
func TestSupervisorSdNotify(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	type msg struct {
		text string
		at   time.Time
	}
	msgs := make(chan msg, 1000)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- msg{string(buf[:n]), time.Now()}
		}
	}()
	next := func(what string) msg {
		t.Helper()
		select {
		case m := <-msgs:
			return m
		case <-time.After(20 * time.Second):
			t.Fatalf("no notification while waiting for %s", what)
			return msg{}
		}
	}
	root := t.TempDir()
	s := startSupEnv(t, root, []string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=400000"})

	var seen []string
	var readyMsg msg
	for readyMsg.text == "" {
		m := next("READY=1")
		seen = append(seen, m.text)
		if strings.HasPrefix(m.text, "READY=1\n") {
			readyMsg = m
		}
	}
	if !strings.HasPrefix(seen[0], "STATUS=") {
		t.Errorf("first notification %q, want a STATUS=", seen[0])
	}
	if !strings.HasPrefix(readyMsg.text, "READY=1\nSTATUS=ready") {
		t.Errorf("READY=1 notification %q", readyMsg.text)
	}
	if code, _ := monGet(t, "GET", "http://"+s.http+"/ready"); code != 200 {
		t.Errorf("/ready %d after READY=1", code)
	}
	for _, m := range seen {
		if m == "STOPPING=1\nSTATUS=stopping" {
			t.Fatalf("STOPPING=1 before sup term: %q", seen)
		}
	}

	// The watchdog, every 200 ms.
	var dog []time.Time
	for len(dog) < 4 {
		m := next("WATCHDOG=1")
		switch {
		case m.text == "WATCHDOG=1":
			dog = append(dog, m.at)
		case strings.HasPrefix(m.text, "STATUS="):
		default:
			t.Fatalf("unexpected notification %q while running", m.text)
		}
	}
	if gap := dog[3].Sub(dog[0]) / 3; gap < 100*time.Millisecond || gap > time.Second {
		t.Errorf("watchdog every %s, want about 200ms", gap)
	}

	// A service loaded changes the summary.
	s.mustTend("svc", "load", sleeper(t, "ntf", uniqueTag()))
	for {
		m := next("STATUS= naming the service")
		if strings.HasPrefix(m.text, "STATUS=ready") && strings.Contains(m.text, "1 service: 1 up") {
			break
		}
	}

	go s.tend("sup", "term")
	for {
		m := next("STOPPING=1")
		if m.text == "STOPPING=1\nSTATUS=stopping" {
			break
		}
		if strings.HasPrefix(m.text, "READY=1") {
			t.Fatalf("READY=1 again: %q", m.text)
		}
	}
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatal("supervisor did not exit after sup term")
	}
	// What came after STOPPING=1 only fed the watchdog.
	for {
		select {
		case m := <-msgs:
			if m.text != "WATCHDOG=1" {
				t.Errorf("after STOPPING=1: %q", m.text)
			}
			continue
		default:
		}
		break
	}
}
