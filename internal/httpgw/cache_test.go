package httpgw

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tend-sh/tend/internal/api"
)

// counting is a config value that counts how often it is encoded.
type counting struct{ n *atomic.Int64 }

func (c counting) MarshalJSON() ([]byte, error) {
	c.n.Add(1)
	return []byte(`"counted"`), nil
}

// Every route encodes a service's config once per snapshot, however many
// requests and routes read it; a new snapshot encodes again.
func TestEncodedOncePerSnapshot(t *testing.T) {
	var n atomic.Int64
	s := fixtureSnapshot("")
	s.Services[1].Cfg = map[string]any{"x": counting{&n}}
	l := newLive(s, false)
	for range 3 {
		for _, p := range []string{"/services", "/services/redis/default", "/services/redis/default/config"} {
			if r := do(t, l.h, "GET", p); r.code != 200 {
				t.Fatalf("%s: %d", p, r.code)
			}
		}
	}
	if got := n.Load(); got != 1 {
		t.Errorf("config encoded %d times for one snapshot, want 1", got)
	}
	s2 := fixtureSnapshot("")
	s2.Services[1].Cfg = map[string]any{"x": counting{&n}}
	l.cur.Store(s2)
	do(t, l.h, "GET", "/services")
	if got := n.Load(); got != 2 {
		t.Errorf("config encoded %d times after a new snapshot, want 2", got)
	}
}

// A redacting gateway and a plain one can read the same snapshot.
func TestRedactAndPlainShareSnapshot(t *testing.T) {
	s := fixtureSnapshot("")
	plain, redacted := serve(s, false), serve(s, true)
	if !bytes.Contains(do(t, plain, "GET", "/services").body, []byte(`"cfg"`)) {
		t.Error("plain gateway lost cfg")
	}
	if bytes.Contains(do(t, redacted, "GET", "/services").body, []byte(`"cfg"`)) {
		t.Error("redacted gateway shows cfg")
	}
	if !bytes.Contains(do(t, plain, "GET", "/services").body, []byte(`"cfg"`)) {
		t.Error("plain gateway lost cfg after the redacted one read the snapshot")
	}
	// RUNTIME_ENVIRONMENT values are config too: the names stay, the
	// values go.
	path := []byte(`"PATH":"/hab/pkgs/core/`)
	if !bytes.Contains(do(t, plain, "GET", "/services").body, path) {
		t.Error("plain gateway lost pkg.env")
	}
	for _, p := range []string{"/services", "/services/redis/default"} {
		body := do(t, redacted, "GET", p).body
		if bytes.Contains(body, path) || !bytes.Contains(body, []byte(`"PATH":"<redacted>"`)) {
			t.Errorf("redacted gateway %s shows pkg.env values: %s", p, body)
		}
	}
}

// Readers and a publisher run at once; -race checks nothing is shared unsafely.
func TestConcurrentReadersAndPublisher(t *testing.T) {
	l := newLive(fixtureSnapshot(""), false)
	paths := []string{"/services", "/services/redis/default", "/services/redis/default/config",
		"/services/web/default/health", "/census", "/butterfly"}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				p := paths[(i+j)%len(paths)]
				rec := httptest.NewRecorder()
				l.h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
				if rec.Code != 200 && rec.Code != 503 {
					t.Errorf("%s: %d", p, rec.Code)
				}
			}
		})
	}
	for g := range 20 {
		s := fixtureSnapshot("")
		s.Generation = uint64(g)
		s.Services[1].RestartCount = g
		l.cur.Store(s)
	}
	wg.Wait()
	r := do(t, l.h, "GET", "/services/redis/default")
	if !bytes.Contains(r.body, []byte(`"restart_count":19`)) {
		t.Errorf("latest snapshot not served: %s", r.body)
	}
}

func TestConfigNonFiniteFloats(t *testing.T) {
	s := fixtureSnapshot("")
	s.Services[1].Cfg = map[string]any{"nan": nan(), "t": map[string]any{"inf": inf()}, "ok": int64(1)}
	h := serve(s, false)
	r := do(t, h, "GET", "/services/redis/default/config")
	if r.code != 200 || string(r.body) != `{"nan":null,"ok":1,"t":{"inf":null}}` {
		t.Errorf("config: %d %s", r.code, r.body)
	}
	r = do(t, h, "GET", "/services/redis/default/config", "Accept", "application/toml")
	if r.code != 200 || !bytes.Contains(r.body, []byte("nan = nan")) {
		t.Errorf("TOML config: %d %s", r.code, r.body)
	}
}

func TestUnencodableConfig(t *testing.T) {
	s := fixtureSnapshot("")
	s.Services[1].Cfg = map[string]any{"ch": make(chan int)}
	h := serve(s, false)
	// The service object still renders, with cfg null.
	r := do(t, h, "GET", "/services/redis/default")
	if r.code != 200 || !bytes.Contains(r.body, []byte(`"cfg":null`)) {
		t.Errorf("service: %d %s", r.code, r.body)
	}
	if r := do(t, h, "GET", "/services/redis/default/config", "Accept", "application/toml"); r.code != http.StatusInternalServerError {
		t.Errorf("TOML of a channel: %d", r.code)
	}
}

func ExampleNew() {
	snap := &api.Snapshot{Ready: true, Services: []*api.Service{{Name: "redis", Group: "default", ServiceGroup: "redis.default"}}}
	mux := New(Options{Snapshot: func() *api.Snapshot { return snap }})
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/services/redis/default/health", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output: 500 {"status":"UNKNOWN","stdout":"","stderr":""}
}

// A poller that sends back the ETag it got is answered 304 without a body
// while the document is the same bytes, even from a new snapshot (a
// supervisor republishes its snapshot on every health check), and gets the
// new document once it changed.
func TestNotModifiedUntilTheDocumentChanges(t *testing.T) {
	l := newLive(fixtureSnapshot(""), false)
	for _, p := range []string{"/census", "/services", "/butterfly"} {
		t.Run(p[1:], func(t *testing.T) {
			l.cur.Store(fixtureSnapshot(""))
			first := do(t, l.h, "GET", p)
			tag := first.header.Get("ETag")
			if first.code != 200 || len(first.body) == 0 || tag == "" {
				t.Fatalf("first GET %s: %d, %d bytes, ETag %q", p, first.code, len(first.body), tag)
			}
			l.cur.Store(fixtureSnapshot("")) // the same document from a new snapshot
			same := do(t, l.h, "GET", p, "If-None-Match", tag)
			if same.code != http.StatusNotModified || len(same.body) != 0 || same.header.Get("ETag") != tag {
				t.Errorf("unchanged %s with If-None-Match: %d, %d bytes, ETag %q; want 304, no body, %s", p, same.code, len(same.body), same.header.Get("ETag"), tag)
			}
			if r := do(t, l.h, "GET", p, "If-None-Match", `"other", W/`+tag); r.code != http.StatusNotModified {
				t.Errorf("%s with the tag second in a list, weak: %d, want 304", p, r.code)
			}
			changed := fixtureSnapshot("")
			changed.Services = changed.Services[:1]
			l.cur.Store(changed)
			r := do(t, l.h, "GET", p, "If-None-Match", tag)
			if r.code != 200 || len(r.body) == 0 || r.header.Get("ETag") == tag || r.header.Get("ETag") == "" {
				t.Errorf("changed %s with the old tag: %d, %d bytes, ETag %q (old %s); want 200, the new document, a new tag", p, r.code, len(r.body), r.header.Get("ETag"), tag)
			}
		})
	}
}
