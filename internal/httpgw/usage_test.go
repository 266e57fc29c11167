package httpgw

import (
	"sync/atomic"
	"testing"

	"github.com/tend-sh/tend/internal/api"
)

// TestUsage: a service's CPU and memory come from its cgroup at request
// time, a service without one answers nulls, and the route is refused as
// the service's own routes are.
func TestUsage(t *testing.T) {
	s := fixtureSnapshot("")
	var mem atomic.Uint64
	mem.Store(4096)
	for i := range s.Services {
		switch s.Services[i].Name {
		case "redis":
			s.Services[i].Usage = func() (api.Usage, bool) {
				return api.Usage{CPUSeconds: 1.5, MemoryBytes: mem.Load()}, true
			}
		case "web": // a cgroup that could not be read
			s.Services[i].Usage = func() (api.Usage, bool) { return api.Usage{}, false }
		}
	}
	h := serve(s, false)
	for _, c := range []struct{ path, body string }{
		{"/services/redis/default/usage", `{"cpu_seconds":1.5,"memory_bytes":4096}`},
		{"/services/web/default/usage", `{"cpu_seconds":null,"memory_bytes":null}`},
		{"/services/worker/default/usage", `{"cpu_seconds":null,"memory_bytes":null}`},
	} {
		r := do(t, h, "GET", c.path)
		if r.code != 200 || string(r.body) != c.body {
			t.Errorf("GET %s: %d %s, want 200 %s", c.path, r.code, r.body, c.body)
		}
	}
	// Read again on each request, not cached with the snapshot.
	mem.Store(8192)
	if r := do(t, h, "GET", "/services/redis/default/usage"); string(r.body) != `{"cpu_seconds":1.5,"memory_bytes":8192}` {
		t.Errorf("after the cgroup grew: %s", r.body)
	}
	for _, c := range []struct {
		path string
		code int
	}{
		{"/services/nope/default/usage", 404},
		{"/services/re.dis/default/usage", 400},
	} {
		if r := do(t, h, "GET", c.path); r.code != c.code || len(r.body) != 0 {
			t.Errorf("GET %s: %d %q, want %d and no body", c.path, r.code, r.body, c.code)
		}
	}
	if r := do(t, h, "POST", "/services/redis/default/usage"); r.code != 405 {
		t.Errorf("POST: %d, want 405", r.code)
	}
	org := fixtureSnapshot("acme")
	org.Services[0].Usage = s.Services[0].Usage
	if r := do(t, serve(org, false), "GET", "/services/"+org.Services[0].Name+"/default/acme/usage"); r.code != 200 || !jsonValid(r.body) {
		t.Errorf("org usage: %d %s", r.code, r.body)
	}
	notReady := fixtureSnapshot("")
	notReady.Ready = false
	if r := do(t, serve(notReady, false), "GET", "/services/redis/default/usage"); r.code != 503 {
		t.Errorf("before ready: %d, want 503", r.code)
	}
}
