package httpgw

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/httpx"
)

// sink is a ResponseWriter that keeps nothing, so that the benchmarks
// measure the handlers rather than a recorder copying 300 KB per request.
type sink struct {
	h    http.Header
	code int
	n    int
}

func (s *sink) Header() http.Header  { return s.h }
func (s *sink) WriteHeader(code int) { s.code = code }
func (s *sink) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	s.n += len(b)
	return len(b), nil
}

// BenchmarkServices is GET /services with 100 services. "gateway" is the
// handler as wired (instrumentation, auth, mux) serving the snapshot's cached
// bytes; "bare" is a handler writing the same bytes from memory, the
// reference the wrk benchmark compares with. A cached request should
// allocate a few small objects and never re-encode.
func BenchmarkServices(b *testing.B) {
	s := manyServices(100)
	mux := New(Options{Snapshot: func() *api.Snapshot { return s }, Log: discardLog()})
	observe := func(string, string, int, time.Duration) {}
	gateway := httpx.Instrument(observe, httpx.Auth([][]byte{[]byte("tok")}, mux))
	body := do(b, mux, "GET", "/services").body
	bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"gateway", gateway}, {"bare", bare}} {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/services", nil)
			r.Header.Set("X-API-Key", "tok")
			w := &sink{h: http.Header{}}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				clear(w.h)
				w.n, w.code = 0, 0
				c.h.ServeHTTP(w, r)
			}
			if w.code != 200 || w.n != len(body) {
				b.Fatalf("code %d, %d bytes", w.code, w.n)
			}
		})
	}
}

// BenchmarkServicesRecorder is the same request through httptest's recorder.
func BenchmarkServicesRecorder(b *testing.B) {
	s := manyServices(100)
	mux := New(Options{Snapshot: func() *api.Snapshot { return s }, Log: discardLog()})
	r := httptest.NewRequest("GET", "/services", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
	}
}

// BenchmarkServicesEncode is the first request after a new snapshot: every
// service encoded once.
func BenchmarkServicesEncode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		s := manyServices(100)
		mux := New(Options{Snapshot: func() *api.Snapshot { return s }, Log: discardLog()})
		mux.ServeHTTP(&sink{h: http.Header{}}, httptest.NewRequest("GET", "/services", nil))
	}
}
