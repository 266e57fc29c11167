package httpgw

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/httpx"
)

// The gateway as the lead wires it, over a real listener: auth, then
// instrumentation labelled by route pattern, never by raw path.
func TestWiredOverHTTP(t *testing.T) {
	// observe runs after the handler returns, which may be after the client
	// has read the whole response: each request's observation is awaited.
	obs := make(chan string, 16)
	observe := func(pattern, method string, code int, _ time.Duration) {
		obs <- method + " " + pattern + " " + http.StatusText(code)
	}
	mux := serve(fixtureSnapshot(""), false)
	srv := httptest.NewServer(httpx.Instrument(observe, httpx.Auth([][]byte{[]byte("tok")}, mux)))
	defer srv.Close()
	client := srv.Client()
	get := func(method, path, token string) int {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	steps := []struct {
		method, path, token string
		code                int
	}{
		{"GET", "/services", "", 401},
		{"GET", "/services", "nope", 401},
		{"GET", "/services", "tok", 200},
		{"HEAD", "/services/redis/default", "tok", 200},
		{"GET", "/services/web/default/health", "tok", 503},
		{"GET", "/no/such/route", "tok", 404},
		{"POST", "/census", "tok", 405},
	}
	want := []string{
		"GET unmatched Unauthorized",
		"GET unmatched Unauthorized",
		"GET GET /services OK",
		"HEAD GET /services/{svc}/{group} OK",
		"GET GET /services/{svc}/{group}/health Service Unavailable",
		"GET unmatched Not Found",
		"POST unmatched Method Not Allowed",
	}
	for i, s := range steps {
		if got := get(s.method, s.path, s.token); got != s.code {
			t.Errorf("%s %s: %d, want %d", s.method, s.path, got, s.code)
		}
		select {
		case got := <-obs:
			if got != want[i] {
				t.Errorf("%s %s observed as %q, want %q", s.method, s.path, got, want[i])
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s %s was never observed", s.method, s.path)
		}
	}
	select {
	case extra := <-obs:
		t.Errorf("unexpected observation %q", extra)
	default:
	}
}
