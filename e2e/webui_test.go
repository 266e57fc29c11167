package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWebUIInABrowser loads GET /ui in headless Chromium against a real
// supervisor whose gateway wants a token, and checks what a person sees:
// the page asks for the token once (a reload in the same tab does not ask
// again), lists the services as up with their pid and health-check output,
// and shows a service stopped with the CLI as down within a second. It
// keeps screenshots at laptop and phone sizes.
func TestWebUIInABrowser(t *testing.T) {
	t.Parallel()
	gwRequireTool(t, "chromium")
	const token = "webui-e2e-token-4f7c2a"
	s := gwLaunch(t, t.TempDir(), []string{"TEND_GATEWAY_AUTH_TOKEN=" + token})
	c := gwHTTP(t, s)
	c.hdr = map[string][]string{"Authorization": {"Bearer " + token}}
	c.waitReady()
	s.mustTend("svc", "load", sleeper(t, "web", uniqueTag()))
	s.mustTend("svc", "load", "--health-check-interval", "1", pkgDir(t, map[string]string{
		"IDENT":              "test/worker/2.1.0/20260101000000",
		"hooks/run":          "#!/bin/sh\necho worker ready to serve\nexec sleep 1000" + uniqueTag() + "\n",
		"hooks/health-check": "#!/bin/sh\necho queue drained\nexit 0\n",
	}))
	waitFor(t, 30*time.Second, "both services up", func() bool {
		st := s.status()
		return st["web.default"].State == "up" && st["worker.default"].State == "up"
	})

	// Started after the supervisor, so stopped before it.
	b := startBrowser(t)
	url := "http://" + s.http + "/ui"
	b.navigate(url)
	waitFor(t, 10*time.Second, "the page to ask for the token", func() bool {
		return b.eval(`!document.getElementById('login').hidden`) == true
	})
	if n := b.eval(`document.querySelectorAll('#services tbody tr').length`); n != float64(0) {
		t.Fatalf("%v service rows shown before the token was given", n)
	}
	enter := func(tok string) {
		b.eval(`(() => {
			document.getElementById('token').value = ` + strconv.Quote(tok) + `;
			document.querySelector('#login button').click();
		})()`)
	}
	// A wrong token is refused and asked for again.
	enter("not-the-token")
	waitUntil(t, 10*time.Second, "the page to say the token was refused", func() (bool, string) {
		msg := b.evalString(`document.getElementById('login').hidden ? '' : document.getElementById('login-msg').innerText`)
		return strings.Contains(msg, "refused"), msg
	})
	enter(token)
	web := webuiRow(b, "web.default")
	waitUntil(t, 10*time.Second, "web and worker shown up", func() (bool, string) {
		w, k := web.state(), webuiRow(b, "worker.default").state()
		return strings.HasPrefix(w, "up") && strings.HasPrefix(k, "up"), w + " / " + k
	})

	// Asked once: the token is kept for the tab, so a reload shows the
	// services without asking again.
	b.navigate(url)
	waitUntil(t, 10*time.Second, "services shown again after a reload", func() (bool, string) {
		w := web.state()
		return strings.HasPrefix(w, "up"), w
	})
	if b.eval(`document.getElementById('login').hidden`) != true {
		t.Fatal("the page asked for the token again after a reload in the same tab")
	}

	// What each row says is what the supervisor says.
	st := s.status()
	if got, want := web.cell("pid"), strconv.Itoa(st["web.default"].PID); got != want {
		t.Errorf("web's pid shown as %q, want %q", got, want)
	}
	if got := webuiRow(b, "worker.default").cell("package"); got != "test/worker/2.1.0/20260101000000" {
		t.Errorf("worker's package shown as %q", got)
	}
	if got := webuiRow(b, "worker.default").cell("group"); got != "default" {
		t.Errorf("worker's group shown as %q", got)
	}
	waitUntil(t, 15*time.Second, "worker's health check and its output", func() (bool, string) {
		h := webuiRow(b, "worker.default").cell("health")
		return strings.Contains(h, "Ok") && strings.Contains(h, "queue drained"), h
	})
	// The page follows /events, rather than polling.
	if got := b.evalString(`document.getElementById('live').innerText`); got != "live" {
		t.Errorf("the page says %q, want live (following /events)", got)
	}

	// A tap on a row shows the service's last health output, its /status
	// records and its log lines, new ones as they come (the health check
	// prints a line every second).
	b.eval(`document.querySelector('#services tr[data-sg="worker.default"]').click()`)
	waitUntil(t, 10*time.Second, "worker's details", func() (bool, string) {
		d := b.evalString(`(() => { const d = document.getElementById('detail'); return d.hidden ? '' : d.innerText })()`)
		return strings.Contains(d, "queue drained") && strings.Contains(d, "[ok] started") &&
			strings.Contains(d, "stdout worker ready to serve"), d
	})
	drained := func() int {
		return strings.Count(b.evalString(`document.getElementById('log').innerText`), "queue drained")
	}
	before := drained()
	waitUntil(t, 10*time.Second, "a new health-check line in worker's log", func() (bool, string) {
		n := drained()
		return n > before, fmt.Sprintf("%d lines, %d before", n, before)
	})
	if got := b.evalString(`document.getElementById('ready').innerText`); got != "ready" {
		t.Errorf("ready badge %q, want ready", got)
	}

	// A service stopped with the CLI shows as down within a second of the
	// CLI returning.
	s.mustTend("svc", "stop", "web")
	returned := time.Now()
	var shown string
	for {
		shown = web.state()
		if strings.HasPrefix(shown, "down") {
			break
		}
		if time.Since(returned) > 5*time.Second {
			t.Fatalf("web still shown as %q 5s after svc stop returned", shown)
		}
		time.Sleep(10 * time.Millisecond) // polling interval of the DOM
	}
	took := time.Since(returned)
	t.Logf("web shown as %q %v after svc stop returned", shown, took)
	if took > time.Second {
		t.Errorf("web shown down %v after svc stop returned, want within 1s", took)
	}
	if !strings.Contains(shown, "stopped") {
		t.Errorf("web shown as %q: a service stopped on purpose should say so", shown)
	}
	if w := webuiRow(b, "worker.default").state(); !strings.HasPrefix(w, "up") {
		t.Errorf("worker shown as %q after web was stopped", w)
	}
	b.screenshot("webui-laptop.png")

	// On a phone the rows become cards that fit the screen's width.
	// (On a phone the layout viewport grows to fit what overflows, so the
	// width is compared with the screen's, not with innerWidth.)
	b.viewport(390, 844, true)
	waitUntil(t, 5*time.Second, "the phone layout", func() (bool, string) {
		r := b.evalString(`getComputedStyle(document.querySelector('#services thead')).display + ' ' +
			document.documentElement.scrollWidth`)
		return r == "none 390", r
	})
	b.screenshot("webui-phone.png")
	b.eval(`1`) // reads the events sent so far
	if len(b.problems) > 0 {
		t.Errorf("the page had problems:\n%s", strings.Join(b.problems, "\n"))
	}
}

// webuiPage reads one service's row of the page as a person sees it.
type webuiPage struct {
	b  *browser
	sg string
}

func webuiRow(b *browser, sg string) webuiPage { return webuiPage{b: b, sg: sg} }

// cell is the rendered text of the row's cell labelled label, "" when the
// row is not shown.
func (p webuiPage) cell(label string) string {
	p.b.t.Helper()
	return strings.TrimSpace(p.b.evalString(fmt.Sprintf(`(() => {
		const td = document.querySelector('#services tr[data-sg=%s] td[data-label=%s]');
		return td && td.offsetParent !== null ? td.innerText : '';
	})()`, strconv.Quote(p.sg), strconv.Quote(label))))
}

func (p webuiPage) state() string { return p.cell("state") }

// TestWebUIWhereServed: /ui is answered without a token where the
// monitoring endpoints are (the page holds no data), and nothing else opens
// with it. On a monitoring listener of its own, the page's data is there
// too, redacted, behind the monitoring keys; the gateway has no page.
func TestWebUIWhereServed(t *testing.T) {
	t.Parallel()
	const token, key = "webui-gw-token-91b0e5", "webui-mon-key-3c5d77"
	gw := gwLaunch(t, t.TempDir(), []string{"TEND_GATEWAY_AUTH_TOKEN=" + token})
	g := gwHTTP(t, gw)
	g.hdr = map[string][]string{"Authorization": {"Bearer " + token}}
	g.waitReady()
	g.hdr = nil
	if r := g.do("GET", "/ui"); r.code != 200 || !strings.Contains(string(r.body), "<title>tend</title>") ||
		!strings.HasPrefix(r.hdr.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("gateway GET /ui without a token: %d, CSP %q", r.code, r.hdr.Get("Content-Security-Policy"))
	}
	for _, c := range []struct{ method, path string }{{"GET", "/services"}, {"GET", "/status"}, {"POST", "/ui"}, {"GET", "/ui/x"}} {
		if r := g.do(c.method, c.path); r.code != 401 {
			t.Errorf("gateway %s %s without a token: %d, want 401", c.method, c.path, r.code)
		}
	}

	mon := monFreePort(t)
	s := gwLaunch(t, t.TempDir(), []string{"TEND_MONITOR_API_KEYS=" + key}, "--listen-monitor", mon)
	m := &gwClient{t: t, base: "http://" + mon, c: g.c, hdr: map[string][]string{"X-API-Key": {key}}}
	m.waitReady()
	s.mustTend("svc", "load", pkgDir(t, map[string]string{
		"IDENT":        "test/vault/1.0.0/20260101000000",
		"hooks/run":    "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
		"default.toml": "password = \"hunter2-webui\"\n",
	}))
	waitFor(t, 30*time.Second, "vault listed on the monitoring listener", func() bool {
		return strings.Contains(string(m.get("/services", 200)), `"vault.default"`)
	})
	if b := m.get("/services", 200); strings.Contains(string(b), "hunter2") {
		t.Errorf("the monitoring listener shows a service's configuration: %s", b)
	}
	m.get("/census", 404)
	if b := m.get("/services/vault/default/config", 200); strings.TrimSpace(string(b)) != "null" {
		t.Errorf("/config on the monitoring listener: %s, want null", b)
	}
	m.hdr = nil
	if r := m.do("GET", "/ui"); r.code != 200 {
		t.Errorf("monitoring listener GET /ui without a key: %d", r.code)
	}
	if r := m.do("GET", "/services"); r.code != 401 {
		t.Errorf("monitoring listener GET /services without a key: %d, want 401", r.code)
	}
	if r := gwHTTP(t, s).do("GET", "/ui"); r.code != 404 {
		t.Errorf("gateway GET /ui with a monitoring listener: %d, want 404", r.code)
	}

	// Turned off, the page and the routes it needed are gone.
	mon2 := monFreePort(t)
	off := gwLaunch(t, t.TempDir(), nil, "--listen-monitor", mon2, "--monitor-ui-enabled=false")
	m2 := &gwClient{t: t, base: "http://" + mon2, c: g.c}
	m2.waitReady()
	m2.get("/ui", 404)
	m2.get("/services", 404)
	gwHTTP(t, off).get("/ui", 404)
}
