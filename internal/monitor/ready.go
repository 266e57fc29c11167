package monitor

import (
	"io"
	"net/http"

	"github.com/tend-sh/tend/internal/api"
)

// Probe bodies are constants: /ready and /healthy are hit by load balancers
// several times a second and must cost about as much as a handler writing a
// constant.
const (
	bodyReady    = "ready\n"
	bodyNotReady = "not ready\n"
	bodyHealthy  = "healthy\n"
)

// probeHeaders holds header values built once per Monitor. net/http only
// reads them, and Header.Add on a slice of capacity one copies rather than
// writes in place, so sharing them between responses is safe and spares an
// allocation per probe.
type probeHeaders struct {
	contentType, noStore []string
}

func newProbeHeaders() probeHeaders {
	return probeHeaders{
		contentType: []string{"text/plain; charset=utf-8"},
		// Probes must see the live answer, never a cached one.
		noStore: []string{"no-store"},
	}
}

func (p probeHeaders) set(h http.Header) {
	h["Content-Type"] = p.contentType
	h["Cache-Control"] = p.noStore
}

// isReady latches readiness: once a snapshot said Ready, the Monitor stays
// ready even if a later snapshot says otherwise, as Halon's /ready is a
// one-way transition.
func (m *Monitor) isReady(s *api.Snapshot) bool {
	if m.ready.Load() {
		return true
	}
	if s.Ready {
		m.ready.Store(true)
		return true
	}
	return false
}

// serveReady answers 503 until the supervisor has finished starting, then 200
// for the rest of its life.
func (m *Monitor) serveReady(w http.ResponseWriter, _ *http.Request) {
	m.headers.set(w.Header())
	if m.ready.Load() || m.isReady(m.snap()) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, bodyReady)
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, bodyNotReady)
}
