package monitor

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tend-sh/tend/internal/api"
)

func TestHealthyOK(t *testing.T) {
	f := newFixture()
	f.set(readySnap(running("redis"), running("nginx")))
	m := mustNew(t, f.options())
	r := get(t, m, http.MethodGet, "/healthy")
	if got := body(t, r); r.StatusCode != http.StatusOK || got != "healthy\n" {
		t.Fatalf("/healthy: %d %q", r.StatusCode, got)
	}
	if ok, reasons := m.Healthy(); !ok || reasons != nil {
		t.Fatalf("Healthy() = %v, %q", ok, reasons)
	}
}

// TestHealthyEveryReason: every reason is listed, one per line, in a fixed
// order.
func TestHealthyEveryReason(t *testing.T) {
	f := newFixture()
	o := f.options()
	o.Root = "/srv/tend"
	o.DiskFreeBytes = Threshold{Lower: 1000, Upper: 2000}
	o.ServicesDown = Threshold{Lower: 0, Upper: 1}
	f.setDisk(10, 1<<20, nil)
	crit := running("db")
	crit.Health = api.HealthCritical
	s := &api.Snapshot{
		ShuttingDown: true,
		Sup:          api.Supervisor{ManualUnhealthy: true, ManualReason: "draining for\nmaintenance token=s3cr3tvalue123456"},
		Services:     ptrs([]api.Service{crit, running("web")}),
	}
	f.set(s)
	m := mustNew(t, o)
	r := get(t, m, http.MethodGet, "/healthy")
	want := strings.Join([]string{
		"not ready: the supervisor is still starting",
		"shutting down",
		"low disk space on /srv/tend: 10 bytes free (unhealthy below 1000, healthy again above 2000)",
		"1 service down or CRITICAL (unhealthy at 1 or more, healthy again at 0 or fewer): db.default",
		"set unhealthy by hand: draining for maintenance token=****3456",
	}, "\n") + "\n"
	if got := body(t, r); r.StatusCode != http.StatusServiceUnavailable || got != want {
		t.Fatalf("/healthy: %d\n%s\nwant\n%s", r.StatusCode, got, want)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	ok, reasons := m.Healthy()
	if ok || strings.Join(reasons, "\n")+"\n" != want {
		t.Fatalf("Healthy() = %v %q", ok, reasons)
	}
}

func TestHealthyManualWithoutReason(t *testing.T) {
	f := newFixture()
	s := readySnap()
	s.Sup.ManualUnhealthy = true
	f.set(s)
	m := mustNew(t, f.options())
	if ok, reasons := m.Healthy(); ok || len(reasons) != 1 || reasons[0] != "set unhealthy by hand" {
		t.Fatalf("Healthy() = %v %q", ok, reasons)
	}
}

func TestServiceDownPredicate(t *testing.T) {
	mk := func(mod func(*api.Service)) *api.Service {
		s := running("x")
		mod(&s)
		return &s
	}
	for _, tc := range []struct {
		name string
		svc  *api.Service
		down bool
	}{
		{"running OK", mk(func(*api.Service) {}), false},
		{"running WARNING", mk(func(s *api.Service) { s.Health = api.HealthWarning }), false},
		{"running CRITICAL", mk(func(s *api.Service) { s.Health = api.HealthCritical }), true},
		{"should run, not running", mk(func(s *api.Service) { s.Running = false }), true},
		{"spec error", mk(func(s *api.Service) { s.SpecError = "bad toml" }), true},
		{"stopped on purpose", mk(func(s *api.Service) { s.DesiredUp, s.Running = false, false }), false},
		{"stopped on purpose, CRITICAL before", mk(func(s *api.Service) {
			s.DesiredUp, s.Running, s.Health = false, false, api.HealthCritical
		}), false},
	} {
		if got := serviceDown(tc.svc); got != tc.down {
			t.Errorf("%s: down=%v, want %v", tc.name, got, tc.down)
		}
	}
}

func TestServicesDownHysteresis(t *testing.T) {
	f := newFixture()
	o := f.options()
	o.ServicesDown = Threshold{Lower: 1, Upper: 3}
	m := mustNew(t, o)
	snapWithDown := func(n int) *api.Snapshot {
		svcs := make([]api.Service, 20)
		for i := range svcs {
			svcs[i] = running(fmt.Sprintf("s%02d", i))
			svcs[i].Running = i >= n
		}
		return readySnap(svcs...)
	}
	for _, tc := range []struct {
		down int
		ok   bool
	}{{2, true}, {3, false}, {2, false}, {1, true}, {2, true}, {15, false}, {0, true}} {
		f.set(snapWithDown(tc.down))
		ok, reasons := m.Healthy()
		if ok != tc.ok {
			t.Fatalf("%d down: ok=%v %q, want %v", tc.down, ok, reasons, tc.ok)
		}
		if tc.down == 15 {
			want := "15 services down or CRITICAL (unhealthy at 3 or more, healthy again at 1 or fewer): " +
				"s00.default, s01.default, s02.default, s03.default, s04.default, s05.default, " +
				"s06.default, s07.default, s08.default, s09.default and 5 more"
			if reasons[0] != want {
				t.Fatalf("reason\n%s\nwant\n%s", reasons[0], want)
			}
		}
	}
}

// noopWriter is the cheapest ResponseWriter, to count the handler's own
// allocations.
type noopWriter struct{ h http.Header }

func (w *noopWriter) Header() http.Header         { return w.h }
func (w *noopWriter) WriteHeader(int)             {}
func (w *noopWriter) Write(p []byte) (int, error) { return len(p), nil }

// WriteString, as net/http's response has, so io.WriteString does not copy.
func (w *noopWriter) WriteString(s string) (int, error) { return len(s), nil }

// TestProbesDoNotAllocate: the healthy path of /healthy and /ready allocates
// nothing, with every check enabled.
func TestProbesDoNotAllocate(t *testing.T) {
	f := newFixture()
	o := f.options()
	o.Root = "/srv/tend"
	o.DiskFreeBytes = Threshold{Lower: 1, Upper: 2}
	o.DiskFreeInodes = Threshold{Lower: 1, Upper: 2}
	o.ServicesDown = Threshold{Lower: 0, Upper: 1}
	f.set(readySnap(manyServices(50)...))
	m := mustNew(t, o)
	routes := m.Routes()
	w := &noopWriter{h: http.Header{}}
	for _, p := range []string{"/ready", "/healthy"} {
		h := routes["GET "+p]
		req := httptest.NewRequest(http.MethodGet, p, nil)
		h.ServeHTTP(w, req) // first call latches ready and counts services
		if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) }); n != 0 {
			t.Errorf("%s allocates %v times per request", p, n)
		}
	}
}
