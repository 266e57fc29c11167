package httpgw

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/tend-sh/tend/internal/httpgw/gwtest"
)

// TestGolden pins every JSON response of the literal snapshot. The files are
// indented with keys sorted (gwtest.Indent); nothing needs normalising, the
// snapshot's pids and times are fixed. docs/API.md takes its examples from
// them. go test -update rewrites them.
func TestGolden(t *testing.T) {
	plain := serve(fixtureSnapshot(""), false)
	redacted := serve(fixtureSnapshot(""), true)
	cases := []struct {
		file   string
		h      http.Handler
		path   string
		accept string
	}{
		{"services.json", plain, "/services", ""},
		{"services_redacted.json", redacted, "/services", ""},
		{"service_redis.json", plain, "/services/redis/default", ""},
		{"service_broken.json", plain, "/services/broken/default", ""},
		{"config_redis.json", plain, "/services/redis/default/config", ""},
		{"config_redis.toml", plain, "/services/redis/default/config", "application/toml"},
		{"health_redis.json", plain, "/services/redis/default/health", ""},
		{"health_web.json", plain, "/services/web/default/health", ""},
		{"census.json", plain, "/census", ""},
		{"butterfly.json", plain, "/butterfly", ""},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			var hdr []string
			if c.accept != "" {
				hdr = []string{"Accept", c.accept}
			}
			r := do(t, c.h, "GET", c.path, hdr...)
			got := r.body
			if filepath.Ext(c.file) == ".json" {
				var err error
				if got, err = gwtest.Indent(r.body); err != nil {
					t.Fatal(err)
				}
			}
			gwtest.Golden(t, filepath.Join("testdata", "golden", c.file), got, *update)
		})
	}
}
