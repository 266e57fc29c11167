package monitor

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tend-sh/tend/internal/api"
)

// t0 is the fixtures' epoch: Mon, 29 May 2023 16:36:40 UTC.
var t0 = time.Date(2023, 5, 29, 16, 36, 40, 0, time.UTC)

// fixture feeds a Monitor literal snapshots, a hand-driven clock and a fake
// statfs.
type fixture struct {
	snap atomic.Pointer[api.Snapshot]

	mu      sync.Mutex
	now     time.Time
	free    uint64
	inodes  uint64
	statErr error
	statfs  int // calls
}

func newFixture() *fixture {
	return &fixture{now: t0, free: 1 << 40, inodes: 1 << 20}
}

func (f *fixture) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func (f *fixture) setDisk(free, inodes uint64, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.free, f.inodes, f.statErr = free, inodes, err
}

func (f *fixture) Statfs(string) (uint64, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statfs++
	return f.free, f.inodes, f.statErr
}

func (f *fixture) statfsCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statfs
}

func (f *fixture) set(s *api.Snapshot) { f.snap.Store(s) }

// options are all endpoints on, wired to the fixture.
func (f *fixture) options() Options {
	return Options{
		Snapshot: f.snap.Load,
		Ready:    true, Healthy: true, Status: true, Metrics: true,
		Registry: prometheus.NewRegistry(),
		Now:      f.Now,
		Statfs:   f.Statfs,
	}
}

func mustNew(t testing.TB, o Options) *Monitor {
	t.Helper()
	m, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// get runs one request through the monitor's routes, as the server's mux would.
func get(t testing.TB, m *Monitor, method, path string, hdr ...string) *http.Response {
	t.Helper()
	mux := http.NewServeMux()
	for p, h := range m.Routes() {
		mux.Handle(p, h)
	}
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t testing.TB, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// running is a healthy running service.
func running(name string) api.Service {
	return api.Service{
		Name: name, Group: "default", ServiceGroup: name + ".default",
		DesiredUp: true, Running: true, PID: 100, Health: api.HealthOK,
		StateEntered: t0.Add(-time.Hour),
	}
}

// readySnap is a ready snapshot holding svcs.
func readySnap(svcs ...api.Service) *api.Snapshot {
	return &api.Snapshot{Ready: true, Taken: t0, Sup: api.Supervisor{PID: 4242, StartedAt: t0.Add(-2 * time.Hour)}, Services: ptrs(svcs)}
}

// ptrs points at each of svcs, as a snapshot holds them.
func ptrs(svcs []api.Service) []*api.Service {
	out := make([]*api.Service, len(svcs))
	for i := range svcs {
		out[i] = &svcs[i]
	}
	return out
}

// manyServices makes n running services with health histories.
func manyServices(n int) []api.Service {
	out := make([]api.Service, n)
	for i := range out {
		s := running(fmt.Sprintf("svc%04d", i))
		s.RestartCount = i % 7
		s.LastExit = &api.Exit{Code: i % 3, At: t0.Add(-time.Hour)}
		for j := 0; j < 30; j++ {
			s.HealthHistory = append(s.HealthHistory, api.HealthResult{
				At: t0.Add(time.Duration(j-30) * 30 * time.Second), Status: api.HealthOK,
				Duration: time.Duration(j+1) * 3 * time.Millisecond,
			})
		}
		for j := 0; j < 5; j++ {
			s.Records = append(s.Records, api.Record{At: t0.Add(time.Duration(j) * time.Second), OK: true, Text: "health check OK"})
		}
		out[i] = s
	}
	return out
}

// cmpSorted compares string slices as sets.
var cmpSorted = cmpopts.SortSlices(func(a, b string) bool { return a < b })
