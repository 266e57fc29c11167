package e2e

// Tokens, TLS, client certificates and redaction on a real gateway.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tend-sh/tend/internal/httpgw/gwtest"
)

// gwRoutes is one request to every kind of route, with its answer once
// authorised.
var gwRoutes = []struct {
	method, path string
	code         int
}{
	{"GET", "/", 200},
	{"GET", "/services", 200},
	{"GET", "/services/alpha/default", 200},
	{"GET", "/services/alpha/default/config", 200},
	{"GET", "/services/alpha/default/health", 200},
	{"GET", "/services/alpha/default/acme", 404},
	{"GET", "/services/alpha/default/acme/config", 404},
	{"GET", "/services/alpha/default/acme/health", 404},
	{"GET", "/services/nope/default", 404},
	{"GET", "/services/al.pha/default", 400},
	{"GET", "/census", 200},
	{"GET", "/butterfly", 200},
	{"GET", "/ready", 200},
	{"GET", "/healthy", 200},
	{"GET", "/status", 200},
	{"GET", "/metrics", 200},
	{"GET", "/nope", 404},
	{"POST", "/services", 405},
	{"HEAD", "/services", 200},
}

// gwCheckAuth checks that every route needs one of tokens, as a bearer token
// or an API key, and that anything else gets 401 with an empty body.
func gwCheckAuth(t *testing.T, s *sup, tokens ...string) {
	t.Helper()
	c := gwHTTP(t, s)
	c.hdr = map[string][]string{"Authorization": {"Bearer " + tokens[0]}}
	c.waitReady()
	c.hdr = nil
	s.mustTend("svc", "load", sleeper(t, "alpha", uniqueTag()))

	for _, rt := range gwRoutes {
		if r := c.do(rt.method, rt.path); r.code != 401 || len(r.body) != 0 || r.hdr.Get("WWW-Authenticate") != "" {
			t.Errorf("%s %s without a token: %d %q, want 401 with an empty body", rt.method, rt.path, r.code, r.body)
		}
		for _, tok := range tokens {
			for _, h := range [][2]string{{"Authorization", "Bearer " + tok}, {"X-API-Key", tok}} {
				if r := c.do(rt.method, rt.path, h[0], h[1]); r.code != rt.code {
					t.Errorf("%s %s with %s: %d, want %d", rt.method, rt.path, h[0], r.code, rt.code)
				}
			}
		}
	}
	tok := tokens[0]
	for _, h := range [][2]string{
		{"Authorization", "Basic " + tok},
		{"Authorization", "bearer " + tok},
		{"Authorization", "BEARER " + tok},
		{"Authorization", "Bearer " + tok + " extra"},
		{"Authorization", "Bearer  " + tok + " " + tok},
		{"Authorization", "Bearer"},
		{"Authorization", "Bearer "},
		{"Authorization", tok},
		{"Authorization", "Bearer " + tok + "x"},
		{"Authorization", "Bearer " + tok[:len(tok)-1]},
		{"Authorization", "Bearer wrong-token"},
		{"X-API-Key", "wrong-token"},
		{"X-API-Key", "Bearer " + tok},
		{"X-API-Key", ""},
		{"X-Api-Token", tok},
	} {
		for _, p := range []string{"/services", "/services/alpha/default/config", "/census", "/metrics"} {
			if r := c.do("GET", p, h[0], h[1]); r.code != 401 || len(r.body) != 0 {
				t.Errorf("GET %s with %s: %q: %d %q, want 401 with an empty body", p, h[0], h[1], r.code, r.body)
			}
		}
	}
}

func TestGatewayLiveAuthEnvToken(t *testing.T) {
	t.Parallel()
	gwRequireTool(t, "curl")
	s := gwLaunch(t, t.TempDir(), []string{"TEND_GATEWAY_AUTH_TOKEN=tend-env-token-1"})
	gwCheckAuth(t, s, "tend-env-token-1")

	// The same with a real curl.
	url := "http://" + s.http + "/services/alpha/default"
	for _, c := range []struct {
		args []string
		code string
	}{
		{[]string{"-H", "Authorization: Bearer tend-env-token-1"}, "200"},
		{[]string{"-H", "X-API-Key: tend-env-token-1"}, "200"},
		{[]string{"--oauth2-bearer", "tend-env-token-1"}, "200"},
		{nil, "401"},
		{[]string{"-H", "Authorization: bearer tend-env-token-1"}, "401"},
		{[]string{"-u", "user:tend-env-token-1"}, "401"},
		{[]string{"-H", "Authorization: Bearer wrong"}, "401"},
	} {
		code, body, err := gwCurl(t, append(c.args, url)...)
		if err != nil {
			t.Fatalf("curl %v: %v", c.args, err)
		}
		if code != c.code || (c.code == "401" && body != "") || (c.code == "200" && !strings.Contains(body, `"service_group":"alpha.default"`)) {
			t.Errorf("curl %v: %s %q, want %s", c.args, code, body, c.code)
		}
	}
}

func TestGatewayLiveAuthHabitatEnvToken(t *testing.T) {
	t.Parallel()
	s := gwLaunch(t, t.TempDir(), []string{"HAB_SUP_GATEWAY_AUTH_TOKEN=hab-token-2"})
	gwCheckAuth(t, s, "hab-token-2")
}

// Several tokens in the YAML file, and more in a token file: any of them.
func TestGatewayLiveAuthFileTokens(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokFile, []byte("# rotated in\nfile-token-3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "tend.yaml")
	yaml := "http:\n  auth_tokens:\n    - yaml-token-1\n    - yaml-token-2\n  auth_token_files: [" + tokFile + "]\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	s := gwLaunch(t, t.TempDir(), nil, "--config", cfg)
	gwCheckAuth(t, s, "yaml-token-1", "yaml-token-2", "file-token-3")
}

// --key and --certs serve HTTPS.
func TestGatewayLiveTLS(t *testing.T) {
	t.Parallel()
	gwRequireTool(t, "curl")
	p := gwNewPKI(t)
	s := gwLaunch(t, t.TempDir(), nil, "--key", p.keyFile, "--certs", p.certFile)
	if !strings.Contains(s.errOut.String(), "https="+s.http) {
		t.Errorf("first log line does not name the https listener:\n%s", s.errOut.String())
	}
	c := gwHTTPS(t, s, p, false)
	c.waitReady()
	s.mustTend("svc", "load", sleeper(t, "alpha", uniqueTag()))
	c.get("/services/alpha/default", 200)
	c.get("/census", 200)
	if r, err := gwHTTP(t, s).try("GET", "/services"); err == nil && r.code == 200 {
		t.Errorf("plain HTTP to the HTTPS gateway answered 200")
	}
	code, body, err := gwCurl(t, "--cacert", p.caFile, "https://"+s.http+"/services")
	if err != nil || code != "200" || !strings.Contains(body, "alpha.default") {
		t.Errorf("curl --cacert: %s %v %q", code, err, body)
	}
	if _, _, err := gwCurl(t, "https://"+s.http+"/services"); err == nil {
		t.Errorf("curl trusted a certificate of an unknown CA")
	}
}

// --ca-certs makes client certificates mandatory.
func TestGatewayLiveMutualTLS(t *testing.T) {
	t.Parallel()
	gwRequireTool(t, "curl")
	p := gwNewPKI(t)
	s := gwLaunch(t, t.TempDir(), nil, "--key", p.keyFile, "--certs", p.certFile, "--ca-certs", p.caFile)
	c := gwHTTPS(t, s, p, true)
	c.waitReady()
	c.get("/services", 200)
	if r, err := gwHTTPS(t, s, p, false).try("GET", "/services"); err == nil {
		t.Errorf("client without a certificate: %d, want the handshake refused", r.code)
	}
	// A certificate from another CA is refused too.
	other := gwNewPKI(t)
	p2 := p
	p2.client = other.client
	if r, err := gwHTTPS(t, s, p2, true).try("GET", "/services"); err == nil {
		t.Errorf("client certificate of another CA: %d, want the handshake refused", r.code)
	}
	url := "https://" + s.http + "/services"
	code, body, err := gwCurl(t, "--cacert", p.caFile, "--cert", p.clientCert, "--key", p.clientKey, url)
	if err != nil || code != "200" || body != "[]" {
		t.Errorf("curl with a client certificate: %s %v %q", code, err, body)
	}
	if code, _, err := gwCurl(t, "--cacert", p.caFile, url); err == nil {
		t.Errorf("curl without a client certificate: %s, want refused", code)
	}
}

// --redact: no cfg, /config null, /census and /butterfly 404.
func TestGatewayLiveRedact(t *testing.T) {
	t.Parallel()
	s, c := gwStart(t, t.TempDir(), "--redact")
	s.mustTend("svc", "load", gammaPkg(t))
	s.mustTend("svc", "load", sleeper(t, "alpha", uniqueTag()))
	body := c.get("/services", 200)
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(body, &list); err != nil || len(list) != 2 {
		t.Fatalf("%v %s", err, body)
	}
	for _, o := range list {
		if _, ok := o["cfg"]; ok {
			t.Errorf("redacted /services has cfg: %s", o["service_group"])
		}
	}
	if strings.Contains(string(body), "db.local") {
		t.Errorf("redacted /services shows config values")
	}
	if err := gwtest.MustValidator(t).Validate(gwtest.Services, body); err != nil {
		t.Errorf("redacted /services: %v", err)
	}
	one := c.get("/services/gamma/default", 200)
	if strings.Contains(string(one), `"cfg"`) || strings.Contains(string(one), "db.local") {
		t.Errorf("redacted service object has cfg: %s", one)
	}
	gwGolden(t, "service_gamma_redacted.json", one, gwLiterals(t, s, c))
	for _, accept := range []string{"", "application/toml"} {
		r := c.do("GET", "/services/gamma/default/config", "Accept", accept)
		if r.code != 200 || string(r.body) != "null" || r.hdr.Get("Content-Type") != "application/json" {
			t.Errorf("redacted config (Accept %q): %d %s %q", accept, r.code, r.hdr.Get("Content-Type"), r.body)
		}
	}
	for _, p := range []string{"/census", "/butterfly"} {
		if r := c.do("GET", p); r.code != 404 || len(r.body) != 0 {
			t.Errorf("redacted GET %s: %d %q, want 404", p, r.code, r.body)
		}
	}
	c.get("/services/gamma/default/health", 200)
}
