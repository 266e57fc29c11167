package e2e

// The HTTP gateway of a real running tend (SPEC §7): every route and status
// code, Habitat's schemas and golden files of live output.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/tend-sh/tend/internal/httpgw/gwtest"
)

// gammaPkg is a service with a config template, default config and exports.
func gammaPkg(t *testing.T) string {
	return pkgDir(t, map[string]string{
		"IDENT":           "test/gamma/2.1.0/20260101000000",
		"default.toml":    "port = 8080\nname = \"gamma\"\ntags = [\"a\", \"b\"]\n\n[db]\nhost = \"db.local\"\npool = 4\n",
		"config/app.conf": "listen={{cfg.port}}\ndb={{cfg.db.host}}:{{cfg.db.pool}}\n",
		"EXPORTS":         "port=port\ndb-host=db.host\n",
		"hooks/run":       "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
	})
}

// crashyPkg exits 1 shortly after each start: with no backoff it restarts
// for ever.
func crashyPkg(t *testing.T) string {
	return pkgDir(t, map[string]string{
		"IDENT":     "test/crashy/1.0.0/20260101000000",
		"hooks/run": "#!/bin/sh\nsleep 0.2\nexit 1\n",
	})
}

// gwFourServices loads alpha (running), beta (stopped), crashy (crash
// looping) and gamma (config template) and waits until crashy has been
// restarted twice.
func gwFourServices(t *testing.T, s *sup, c *gwClient) {
	t.Helper()
	s.mustTend("svc", "load", sleeper(t, "alpha", uniqueTag()))
	s.mustTend("svc", "load", sleeper(t, "beta", uniqueTag()))
	s.mustTend("svc", "stop", "test/beta")
	s.mustTend("svc", "load", crashyPkg(t))
	s.mustTend("svc", "load", gammaPkg(t))
	waitFor(t, 20*time.Second, "crashy restarted twice", func() bool {
		var obj struct {
			RestartCount int `json:"restart_count"`
		}
		r, err := c.try("GET", "/services/crashy/default")
		return err == nil && r.code == 200 && json.Unmarshal(r.body, &obj) == nil && obj.RestartCount >= 2
	})
}

// gwMaskCrashy replaces what changes with every restart of crashy (in
// service objects, census members and service rumors) with "VOLATILE".
func gwMaskCrashy(t *testing.T, body []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	volatile := []string{"process", "last_process_state", "next_restart_at", "restart_count",
		"health_check", "initialized", "alive", "suspect", "confirmed"}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["service_group"] == "crashy.default" || v["service"] == "crashy" {
				for _, k := range volatile {
					if _, ok := v[k]; ok {
						v[k] = "VOLATILE"
					}
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGatewayLiveRoutes(t *testing.T) {
	t.Parallel()
	s, c := gwStart(t, t.TempDir())
	gwFourServices(t, s, c)
	v := gwtest.MustValidator(t)
	lit := gwLiterals(t, s, c)

	// GET /: the index page.
	r := c.do("GET", "/")
	if r.code != 200 || !strings.HasPrefix(r.hdr.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), "GET /services") {
		t.Fatalf("GET /: %d %s\n%s", r.code, r.hdr.Get("Content-Type"), r.body)
	}

	// GET /services: every service, stopped and crashing ones included.
	body := c.get("/services", 200)
	if err := v.Validate(gwtest.Services, body); err != nil {
		t.Errorf("live /services: %v", err)
	}
	var list []struct {
		ServiceGroup string          `json:"service_group"`
		DesiredState string          `json:"desired_state"`
		RestartCount int             `json:"restart_count"`
		Cfg          json.RawMessage `json:"cfg"`
		Process      struct {
			State string `json:"state"`
			PID   *int   `json:"pid"`
		} `json:"process"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range list {
		got[o.ServiceGroup] = o.DesiredState + "/" + o.Process.State
	}
	want := map[string]string{"alpha.default": "Up/up", "beta.default": "Down/down", "gamma.default": "Up/up"}
	for sg, w := range want {
		if got[sg] != w {
			t.Errorf("%s: desired/process %q, want %q (all: %v)", sg, got[sg], w, got)
		}
	}
	if _, ok := got["crashy.default"]; !ok || len(list) != 4 {
		t.Errorf("services listed: %v", got)
	}
	if ct := c.do("GET", "/services").hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("/services Content-Type %q", ct)
	}
	gwGolden(t, "services.json", gwMaskCrashy(t, body), lit)

	// One service, with its merged config; HEAD has the same status.
	gwGolden(t, "service_gamma.json", c.get("/services/gamma/default", 200), lit)
	c.get("/services/beta/default", 200)
	if r := c.do("HEAD", "/services/alpha/default"); r.code != 200 || len(r.body) != 0 {
		t.Errorf("HEAD /services/alpha/default: %d %q", r.code, r.body)
	}

	// .../config: JSON, or TOML when asked.
	r = c.do("GET", "/services/gamma/default/config")
	var cfg map[string]any
	if r.code != 200 || r.hdr.Get("Content-Type") != "application/json" || json.Unmarshal(r.body, &cfg) != nil {
		t.Fatalf("config: %d %s %s", r.code, r.hdr.Get("Content-Type"), r.body)
	}
	wantCfg := map[string]any{"port": 8080.0, "name": "gamma", "tags": []any{"a", "b"},
		"db": map[string]any{"host": "db.local", "pool": 4.0}}
	if !reflect.DeepEqual(cfg, wantCfg) {
		t.Errorf("config %v, want %v", cfg, wantCfg)
	}
	gwGolden(t, "config_gamma.json", r.body, lit)
	for _, accept := range []string{"application/toml", "text/html, application/toml;q=0.9"} {
		r = c.do("GET", "/services/gamma/default/config", "Accept", accept)
		var tc map[string]any
		if r.code != 200 || r.hdr.Get("Content-Type") != "application/toml" || toml.Unmarshal(r.body, &tc) != nil {
			t.Fatalf("config as TOML (Accept %s): %d %s\n%s", accept, r.code, r.hdr.Get("Content-Type"), r.body)
		}
		if tc["port"] != int64(8080) || tc["db"].(map[string]any)["host"] != "db.local" {
			t.Errorf("TOML config %v", tc)
		}
	}
	gwGoldenText(t, "config_gamma.toml", r.body, lit)
	if got := readFile(filepath.Join(s.root, "svc", "gamma", "config", "app.conf")); got != "listen=8080\ndb=db.local:4\n" {
		t.Errorf("rendered template %q", got)
	}

	// A service without config: {} and an empty TOML document.
	if b := c.get("/services/alpha/default/config", 200); string(b) != "{}" {
		t.Errorf("config of alpha %q, want {}", b)
	}
	if b := c.get("/services/alpha/default/config", 200, "Accept", "application/toml"); len(b) != 0 {
		t.Errorf("TOML config of alpha %q, want empty", b)
	}
	// A query string changes nothing; oversized headers are refused.
	if b := c.get("/services/gamma/default?pretty=1", 200); !strings.Contains(string(b), `"service_group":"gamma.default"`) {
		t.Errorf("with a query string: %s", b)
	}
	if r := c.do("GET", "/services", "X-Big", strings.Repeat("x", 32<<10)); r.code != 431 {
		t.Errorf("GET /services with a 32 KiB header: %d, want 431", r.code)
	}

	// .../health of a service without a health-check hook: OK while it runs.
	var h map[string]string
	if err := json.Unmarshal(c.get("/services/alpha/default/health", 200), &h); err != nil || h["status"] != "OK" {
		t.Errorf("alpha health %v %v", h, err)
	}

	// /census and /butterfly, validated.
	census := c.get("/census", 200)
	if err := v.Validate(gwtest.Census, census); err != nil {
		t.Errorf("live /census: %v", err)
	}
	gwGolden(t, "census.json", gwMaskCrashy(t, census), lit)
	butterfly := c.get("/butterfly", 200)
	if err := v.Validate(gwtest.Butterfly, butterfly); err != nil {
		t.Errorf("live /butterfly: %v", err)
	}
	gwGolden(t, "butterfly.json", gwMaskCrashy(t, butterfly), lit)

	// Errors: status and an empty body.
	for _, e := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/services/al.pha/default", 400},
		{"GET", "/services/alpha/de.fault", 400},
		{"GET", "/services/alpha/default@acme", 400},
		{"GET", "/services/re%2Edis/default", 400},
		{"GET", "/services/al%23pha/default/config", 400},
		{"GET", "/services/alpha/default/ac.me", 400},
		{"GET", "/services/al.pha/default/health", 400},
		{"GET", "/services/nope/default", 404},
		{"GET", "/services/nope/default/config", 404},
		{"GET", "/services/nope/default/health", 404},
		{"GET", "/services/alpha/prod", 404},
		{"GET", "/services/alpha/default/acme", 404}, // no --org: alpha.default has no org
		{"GET", "/nope", 404},
		{"GET", "/services/alpha/default/acme/config/x", 404},
		{"GET", "/census/x", 404},
		{"POST", "/services", 405},
		{"PUT", "/services/alpha/default", 405},
		{"DELETE", "/services/gamma/default/config", 405},
		{"POST", "/services/alpha/default/health", 405},
		{"PATCH", "/census", 405},
		{"POST", "/butterfly", 405},
		{"POST", "/", 405},
	} {
		r := c.do(e.method, e.path)
		if r.code != e.code || len(r.body) != 0 {
			t.Errorf("%s %s: %d %q, want %d with an empty body", e.method, e.path, r.code, r.body, e.code)
		}
		if e.code == 405 && !strings.Contains(r.hdr.Get("Allow"), "GET") {
			t.Errorf("%s %s: Allow %q", e.method, e.path, r.hdr.Get("Allow"))
		}
	}
}

// With --org every service group is svc.group@org and the 3-segment routes
// find them.
func TestGatewayLiveOrg(t *testing.T) {
	t.Parallel()
	s, c := gwStart(t, t.TempDir(), "--org", "acme")
	s.mustTend("svc", "load", gammaPkg(t))
	var obj struct {
		ServiceGroup string `json:"service_group"`
	}
	if err := json.Unmarshal(c.get("/services/gamma/default/acme", 200), &obj); err != nil || obj.ServiceGroup != "gamma.default@acme" {
		t.Fatalf("service_group %q %v", obj.ServiceGroup, err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(c.get("/services/gamma/default/acme/config", 200), &cfg); err != nil || cfg["name"] != "gamma" {
		t.Errorf("org config %v %v", cfg, err)
	}
	if b := c.get("/services/gamma/default/acme/config", 200, "Accept", "application/toml"); !strings.Contains(string(b), "name = 'gamma'") {
		t.Errorf("org config as TOML %q", b)
	}
	c.get("/services/gamma/default/acme/health", 200)
	for path, code := range map[string]int{
		"/services/gamma/default":              404,
		"/services/gamma/default/config":       404,
		"/services/gamma/default/health":       404,
		"/services/gamma/default/other":        404,
		"/services/gamma/default/other/health": 404,
		"/services/gamma/default/ac.me":        400,
		"/services/gamma/default/ac@me/config": 400,
	} {
		if r := c.do("GET", path); r.code != code {
			t.Errorf("GET %s: %d, want %d", path, r.code, code)
		}
	}
	v := gwtest.MustValidator(t)
	for path, schema := range map[string]gwtest.Schema{"/services": gwtest.Services, "/census": gwtest.Census, "/butterfly": gwtest.Butterfly} {
		if err := v.Validate(schema, c.get(path, 200)); err != nil {
			t.Errorf("live %s with --org: %v", path, err)
		}
	}
}

// /health follows a real health-check hook: 200 OK and WARNING, 503
// CRITICAL, 500 UNKNOWN, with the hook's stdout and stderr in the body.
func TestGatewayLiveHealth(t *testing.T) {
	t.Parallel()
	s, c := gwStart(t, t.TempDir())
	code := filepath.Join(t.TempDir(), "code")
	if err := os.WriteFile(code, []byte("0"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.mustTend("svc", "load", pkgDir(t, map[string]string{
		"IDENT":              "test/checked/1.0.0/20260101000000",
		"hooks/run":          "#!/bin/sh\nexec sleep 1000" + uniqueTag() + "\n",
		"hooks/health-check": "#!/bin/sh\nc=$(cat " + code + ")\necho \"out code=$c\"\necho \"err code=$c\" >&2\nexit $c\n",
	}), "--health-check-interval", "1")
	lit := gwLiterals(t, s, c)
	for _, step := range []struct {
		exit, status string
		http         int
	}{{"0", "OK", 200}, {"1", "WARNING", 200}, {"2", "CRITICAL", 503}, {"3", "UNKNOWN", 500}, {"7", "UNKNOWN", 500}, {"0", "OK", 200}} {
		if err := os.WriteFile(code, []byte(step.exit), 0o644); err != nil {
			t.Fatal(err)
		}
		var last gwResp
		waitFor(t, 15*time.Second, "health "+step.status+" after exit "+step.exit, func() bool {
			r, err := c.try("GET", "/services/checked/default/health")
			if err != nil {
				return false
			}
			last = r
			var h map[string]string
			return r.code == step.http && json.Unmarshal(r.body, &h) == nil && h["status"] == step.status &&
				h["stdout"] == "out code="+step.exit+"\n" && h["stderr"] == "err code="+step.exit+"\n"
		})
		if ct := last.hdr.Get("Content-Type"); ct != "application/json" {
			t.Errorf("health Content-Type %q", ct)
		}
		if step.exit == "2" {
			gwGolden(t, "health_critical.json", last.body, lit)
		}
	}
}
