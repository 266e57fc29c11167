package httpgw

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/tend-sh/tend/internal/api"
)

func TestRoutes(t *testing.T) {
	notReady := fixtureSnapshot("")
	notReady.Ready = false
	var (
		plain    = serve(fixtureSnapshot(""), false)
		redacted = serve(fixtureSnapshot(""), true)
		withOrg  = serve(fixtureSnapshot("acme"), false)
		starting = serve(notReady, false)
		empty    = serve(withRing(&api.Snapshot{Ready: true, Sup: fixtureSup("")}), false)
	)
	const (
		json = "application/json"
		html = "text/html; charset=utf-8"
		toml = "application/toml"
	)
	cases := []struct {
		name   string
		h      http.Handler
		method string
		path   string
		accept string
		code   int
		ctype  string // "" for an empty error body
	}{
		{"index", plain, "GET", "/", "", 200, html},
		{"index before ready", starting, "GET", "/", "", 200, html},
		{"index wrong method", plain, "POST", "/", "", 405, ""},
		{"services", plain, "GET", "/services", "", 200, json},
		{"services empty", empty, "GET", "/services", "", 200, json},
		{"services HEAD", plain, "HEAD", "/services", "", 200, json},
		{"services POST", plain, "POST", "/services", "", 405, ""},
		{"services PUT", plain, "PUT", "/services", "", 405, ""},
		{"service DELETE", plain, "DELETE", "/services/redis/default", "", 405, ""},
		{"service", plain, "GET", "/services/redis/default", "", 200, json},
		{"service broken spec", plain, "GET", "/services/broken/default", "", 200, json},
		{"service HEAD", plain, "HEAD", "/services/redis/default", "", 200, json},
		{"service not loaded", plain, "GET", "/services/nope/default", "", 404, ""},
		{"service other group", plain, "GET", "/services/redis/prod", "", 404, ""},
		{"service dot in name", plain, "GET", "/services/re.dis/default", "", 400, ""},
		{"service at in group", plain, "GET", "/services/redis/de@fault", "", 400, ""},
		{"service hash in name", plain, "GET", "/services/re%23dis/default", "", 400, ""},
		{"service escaped dot", plain, "GET", "/services/redis/de%2Efault", "", 400, ""},
		{"service dot in org", plain, "GET", "/services/redis/default/ac.me", "", 400, ""},
		{"service unknown org", plain, "GET", "/services/redis/default/acme", "", 404, ""},
		{"service trailing slash", plain, "GET", "/services/redis/default/", "", 404, ""},
		{"service too deep", plain, "GET", "/services/a/b/c/d/e", "", 404, ""},
		{"config", plain, "GET", "/services/redis/default/config", "", 200, json},
		{"config TOML", plain, "GET", "/services/redis/default/config", "application/toml", 200, toml},
		{"config TOML among others", plain, "GET", "/services/redis/default/config", "text/plain;q=0.5, application/toml;q=0.9", 200, toml},
		{"config JSON asked", plain, "GET", "/services/redis/default/config", "application/json", 200, json},
		{"config unknown", plain, "GET", "/services/broken/default/config", "", 200, json},
		{"config not loaded", plain, "GET", "/services/nope/default/config", "", 404, ""},
		{"config malformed", plain, "GET", "/services/no.pe/default/config", "", 400, ""},
		{"config POST", plain, "POST", "/services/redis/default/config", "", 405, ""},
		{"health OK", plain, "GET", "/services/redis/default/health", "", 200, json},
		{"health WARNING", plain, "GET", "/services/worker/default/health", "", 200, json},
		{"health CRITICAL", plain, "GET", "/services/web/default/health", "", 503, json},
		{"health UNKNOWN", plain, "GET", "/services/broken/default/health", "", 500, json},
		{"health not loaded", plain, "GET", "/services/nope/default/health", "", 404, ""},
		{"health malformed", plain, "GET", "/services/redis/def@ult/health", "", 400, ""},
		{"census", plain, "GET", "/census", "", 200, json},
		{"census empty", empty, "GET", "/census", "", 200, json},
		{"census POST", plain, "POST", "/census", "", 405, ""},
		{"butterfly", plain, "GET", "/butterfly", "", 200, json},
		{"butterfly HEAD", plain, "HEAD", "/butterfly", "", 200, json},
		{"unknown route", plain, "GET", "/nope", "", 404, ""},
		{"unknown route POST", plain, "POST", "/nope", "", 404, ""},
		{"services slash", plain, "GET", "/services/", "", 404, ""},
		{"metrics not mounted", plain, "GET", "/metrics", "", 404, ""},

		{"not ready services", starting, "GET", "/services", "", 503, ""},
		{"not ready service", starting, "GET", "/services/redis/default", "", 503, ""},
		{"not ready malformed", starting, "GET", "/services/re.dis/default", "", 503, ""},
		{"not ready config", starting, "GET", "/services/redis/default/config", "", 503, ""},
		{"not ready health", starting, "GET", "/services/redis/default/health", "", 503, ""},
		{"not ready census", starting, "GET", "/census", "", 503, ""},
		{"not ready butterfly", starting, "GET", "/butterfly", "", 503, ""},

		{"redacted census", redacted, "GET", "/census", "", 404, ""},
		{"redacted butterfly", redacted, "GET", "/butterfly", "", 404, ""},
		{"redacted config", redacted, "GET", "/services/redis/default/config", "", 200, json},
		{"redacted config TOML", redacted, "GET", "/services/redis/default/config", "application/toml", 200, json},
		{"redacted services", redacted, "GET", "/services", "", 200, json},

		{"org 2-segment", withOrg, "GET", "/services/redis/default", "", 404, ""},
		{"org 3-segment", withOrg, "GET", "/services/redis/default/acme", "", 200, json},
		{"org other org", withOrg, "GET", "/services/redis/default/other", "", 404, ""},
		{"org config", withOrg, "GET", "/services/redis/default/acme/config", "", 200, json},
		{"org health", withOrg, "GET", "/services/redis/default/acme/health", "", 200, json},
		{"org health critical", withOrg, "GET", "/services/web/default/acme/health", "", 503, json},
		{"org config 2-segment", withOrg, "GET", "/services/redis/default/config", "", 404, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var hdr []string
			if c.accept != "" {
				hdr = []string{"Accept", c.accept}
			}
			r := do(t, c.h, c.method, c.path, hdr...)
			if r.code != c.code {
				t.Fatalf("%s %s: code %d, want %d", c.method, c.path, r.code, c.code)
			}
			if got := r.header.Get("Content-Type"); c.ctype != "" && got != c.ctype {
				t.Errorf("Content-Type %q, want %q", got, c.ctype)
			}
			if c.ctype == "" && len(r.body) != 0 {
				t.Errorf("error body %q, want empty", r.body)
			}
			if c.code == 405 && r.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
			if c.ctype == "" || c.method == "HEAD" {
				return
			}
			if got := r.header.Get("Content-Length"); got != strconv.Itoa(len(r.body)) {
				t.Errorf("Content-Length %s, body %d bytes", got, len(r.body))
			}
			if c.ctype == "application/json" && !jsonValid(r.body) {
				t.Errorf("body is not JSON: %s", r.body)
			}
		})
	}
}

func jsonValid(b []byte) bool { return json.Valid(b) }

func TestAllowHeader(t *testing.T) {
	h := serve(fixtureSnapshot(""), false)
	r := do(t, h, "POST", "/services")
	if got := r.header.Get("Allow"); got != "GET, HEAD" {
		t.Errorf("Allow %q, want GET, HEAD", got)
	}
}

func TestHeadMatchesGet(t *testing.T) {
	h := serve(fixtureSnapshot(""), false)
	for _, path := range []string{"/", "/services", "/services/redis/default", "/census", "/butterfly"} {
		get, head := do(t, h, "GET", path), do(t, h, "HEAD", path)
		if head.code != get.code || len(head.body) != 0 ||
			head.header.Get("Content-Length") != strconv.Itoa(len(get.body)) {
			t.Errorf("HEAD %s: code %d, body %d bytes, Content-Length %s; GET: %d, %d bytes",
				path, head.code, len(head.body), head.header.Get("Content-Length"), get.code, len(get.body))
		}
	}
}

func TestExtraRoutes(t *testing.T) {
	s := fixtureSnapshot("")
	s.Ready = false
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("tend_up 1\n"))
	})
	h := New(Options{
		Snapshot: func() *api.Snapshot { return s },
		Extra:    map[string]http.Handler{"GET /metrics": metrics, "OPTIONS /status": metrics},
		Log:      discardLog(),
	})
	if r := do(t, h, "GET", "/metrics"); r.code != 200 || string(r.body) != "tend_up 1\n" {
		t.Errorf("GET /metrics: %d %q", r.code, r.body)
	}
	if r := do(t, h, "OPTIONS", "/status"); r.code != 200 {
		t.Errorf("OPTIONS /status: %d", r.code)
	}
	if r := do(t, h, "POST", "/metrics"); r.code != 405 || len(r.body) != 0 {
		t.Errorf("POST /metrics: %d %q", r.code, r.body)
	}
	if r := do(t, h, "GET", "/status"); r.code != 405 || r.header.Get("Allow") != "OPTIONS" {
		t.Errorf("GET /status: %d, Allow %q", r.code, r.header.Get("Allow"))
	}
	index := do(t, h, "GET", "/")
	for _, p := range []string{"GET /metrics", "OPTIONS /status", "GET /services/{svc}/{group}/{org}/health"} {
		if !strings.Contains(string(index.body), p) {
			t.Errorf("index does not list %s", p)
		}
	}
}

// Between the first snapshot and the ring's first census, /census and
// /butterfly answer 503; the rest is served.
func TestBeforeTheFirstCensus(t *testing.T) {
	s := fixtureSnapshot("")
	s.Ring = nil
	h := serve(s, false)
	for path, want := range map[string]int{"/census": 503, "/butterfly": 503, "/services": 200} {
		if r := do(t, h, "GET", path); r.code != want || (want == 503 && len(r.body) != 0) {
			t.Errorf("GET %s: %d %q, want %d", path, r.code, r.body, want)
		}
	}
}

func TestNilSnapshotIsNotReady(t *testing.T) {
	h := New(Options{Snapshot: func() *api.Snapshot { return nil }})
	if r := do(t, h, "GET", "/services"); r.code != 503 {
		t.Errorf("code %d, want 503", r.code)
	}
}
