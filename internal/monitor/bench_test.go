package monitor

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"syscall"
	"testing"
	"time"
)

// discardWriter is a ResponseWriter that keeps nothing, like a server writing
// to a socket, so benchmarks measure the handler rather than a recorder's
// growing buffer.
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }
func (d *discardWriter) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }
func (d *discardWriter) WriteString(s string) (int, error) {
	d.n += len(s)
	return len(s), nil
}
func (d *discardWriter) reset() { clear(d.h); d.code, d.n = 0, 0 }

// BenchmarkScrape500 is one Prometheus scrape of a supervisor running 500
// services, in the worst case: every service has a new health-check result
// since the previous scrape. Budget: p99 <= 20 ms, <= 1 MiB allocated.
func BenchmarkScrape500(b *testing.B) {
	for _, tc := range []struct{ name, accept, encoding string }{
		{"text", "", ""},
		{"openmetrics", "application/openmetrics-text; version=1.0.0", ""},
		// What Prometheus 3 sends by default.
		{"prometheus-gzip", "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2", "gzip"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := newFixture()
			s := readySnap(manyServices(500)...)
			f.set(s)
			o := f.options()
			o.Root = "/"
			m := mustNew(b, o)
			h := m.Routes()["GET /metrics"]
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			if tc.encoding != "" {
				req.Header.Set("Accept-Encoding", tc.encoding)
			}
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, req) // warm up: the first scrape sizes the frame
			var lat, cpu []time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				// A new result for every service since the last scrape.
				for j := range s.Services {
					hh := s.Services[j].HealthHistory
					hh[len(hh)-1].At = t0.Add(time.Duration(i+1) * time.Minute)
				}
				w.reset()
				b.StartTimer()
				c0, start := cpuTime(b), time.Now()
				h.ServeHTTP(w, req)
				lat = append(lat, time.Since(start))
				cpu = append(cpu, cpuTime(b)-c0)
				if w.code != 0 && w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
			}
			// Wall time suffers from whatever else runs on the machine; CPU
			// time (this process, GC included) is the scrape's own cost.
			slices.Sort(lat)
			slices.Sort(cpu)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(cpu[len(cpu)*99/100].Microseconds())/1000, "p99-cpu-ms")
			b.ReportMetric(float64(w.n), "body-bytes")
		})
	}
}

// cpuTime is the CPU time this process has used so far, all threads.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkProbes is the handler cost of /ready and /healthy with every check
// enabled (the statfs result cached, as between two samples).
func BenchmarkProbes(b *testing.B) {
	f := newFixture()
	o := f.options()
	o.Root = "/srv/tend"
	o.DiskFreeBytes = Threshold{Lower: 1, Upper: 2}
	o.DiskFreeInodes = Threshold{Lower: 1, Upper: 2}
	o.ServicesDown = Threshold{Lower: 0, Upper: 1}
	f.set(readySnap(manyServices(500)...))
	m := mustNew(b, o)
	routes := m.Routes()
	for _, p := range []string{"/ready", "/healthy"} {
		b.Run(p[1:], func(b *testing.B) {
			h := routes["GET "+p]
			req := httptest.NewRequest(http.MethodGet, p, nil)
			w := &noopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkObserveHTTP is the per-request cost of feeding the HTTP histogram.
func BenchmarkObserveHTTP(b *testing.B) {
	f := newFixture()
	m := mustNew(b, f.options())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveHTTP("GET /healthy", http.MethodGet, http.StatusOK, time.Millisecond)
		}
	})
}

// BenchmarkStatus500 encodes /status for 500 services (once per snapshot;
// this is the cost of the first request after a new snapshot).
func BenchmarkStatus500(b *testing.B) {
	f := newFixture()
	m := mustNew(b, f.options())
	svcs := manyServices(500)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.statusBody(readySnap(svcs...)); err != nil {
			b.Fatal(err)
		}
	}
}
