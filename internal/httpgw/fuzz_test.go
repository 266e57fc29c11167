package httpgw

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/httpx"
)

// FuzzRouter sends any method and target through the full handler, ready
// and not, plain and redacted: it must never panic and must answer with one
// of the gateway's codes (3xx being ServeMux's redirects to a cleaned path).
func FuzzRouter(f *testing.F) {
	for _, seed := range [][3]string{
		{"GET", "/services", ""},
		{"HEAD", "/services/redis/default", ""},
		{"GET", "/services/redis/default/config", "application/toml"},
		{"GET", "/services/redis/default/acme/health", ""},
		{"POST", "/census", ""},
		{"GET", "/services/re.dis/default", ""},
		{"GET", "/services/%2e/%40", ""},
		{"GET", "/services/../butterfly", ""},
		{"CONNECT", "/services", ""},
		{"BREW", "*", ""},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	notReady := fixtureSnapshot("")
	notReady.Ready = false
	observe := func(pattern, _ string, _ int, _ time.Duration) {
		if strings.HasPrefix(pattern, "/") && pattern != "/" {
			panic("raw path reported as pattern: " + pattern)
		}
	}
	handlers := []http.Handler{
		httpx.Instrument(observe, httpx.Auth(nil, serve(fixtureSnapshot(""), false))),
		httpx.Instrument(observe, serve(fixtureSnapshot("acme"), true)),
		serve(notReady, false),
		serve(&api.Snapshot{Ready: true}, false),
	}
	f.Fuzz(func(t *testing.T, method, target, accept string) {
		u, err := url.ParseRequestURI(target)
		if err != nil || method == "" {
			return // net/http answers 400 before any handler runs
		}
		for _, h := range handlers {
			r := &http.Request{
				Method: method, URL: u, RequestURI: target, Host: "tend.test",
				Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Header: http.Header{}, Body: http.NoBody,
			}
			if accept != "" {
				r.Header.Set("Accept", accept)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			switch rec.Code {
			case 200, 301, 307, 308, 400, 404, 405, 500, 503:
			default:
				t.Fatalf("%q %q: status %d", method, target, rec.Code)
			}
		}
	})
}
