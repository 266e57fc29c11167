package monitor

import (
	"net/http"
	"testing"

	"github.com/tend-sh/tend/internal/api"
)

func TestReadyLatches(t *testing.T) {
	f := newFixture()
	m := mustNew(t, f.options())

	for _, tc := range []struct {
		name string
		set  func()
		code int
		body string
	}{
		{"no snapshot yet", func() {}, http.StatusServiceUnavailable, "not ready\n"},
		{"starting", func() { f.set(&api.Snapshot{Taken: t0}) }, http.StatusServiceUnavailable, "not ready\n"},
		{"ready", func() { f.set(readySnap()) }, http.StatusOK, "ready\n"},
		// A snapshot that says otherwise later cannot take it back.
		{"not ready again", func() { f.set(&api.Snapshot{Taken: t0}) }, http.StatusOK, "ready\n"},
		{"no snapshot again", func() { f.set(nil) }, http.StatusOK, "ready\n"},
	} {
		tc.set()
		r := get(t, m, http.MethodGet, "/ready")
		if got := body(t, r); r.StatusCode != tc.code || got != tc.body {
			t.Errorf("%s: %d %q, want %d %q", tc.name, r.StatusCode, got, tc.code, tc.body)
		}
		if ct := r.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", tc.name, ct)
		}
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q", tc.name, cc)
		}
	}
}

func TestReadyHead(t *testing.T) {
	f := newFixture()
	f.set(readySnap())
	m := mustNew(t, f.options())
	if r := get(t, m, http.MethodHead, "/ready"); r.StatusCode != http.StatusOK {
		t.Fatalf("HEAD /ready: %d", r.StatusCode)
	}
	if r := get(t, m, http.MethodPost, "/ready"); r.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /ready: %d", r.StatusCode)
	}
}
