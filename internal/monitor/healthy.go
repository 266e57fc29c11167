package monitor

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tend-sh/tend/internal/api"
)

// maxDownNames caps how many services a /healthy reason names: the body must
// stay small enough for a load balancer's log line.
const maxDownNames = 10

// verdict is one evaluation of /healthy. It is a value, and the reasons text
// is only built from it when something is wrong, so the healthy path does not
// allocate.
type verdict struct {
	notReady, shuttingDown, manual bool
	disk                           *diskSample // nil when no disk threshold is set
	down                           *downCount  // nil when ServicesDown is not set
	tooManyDown                    bool
}

func (v *verdict) ok() bool {
	return !v.notReady && !v.shuttingDown && !v.manual && !v.tooManyDown &&
		(v.disk == nil || v.disk.ok())
}

// downCount is the number of services of one snapshot that should be up but
// are not (not running, spec error, or CRITICAL), with the first few names.
type downCount struct {
	snap  *api.Snapshot
	n     int
	names []string
}

// serviceDown is the ServicesDown predicate. A service stopped on purpose
// (desired down) never counts.
func serviceDown(svc *api.Service) bool {
	return svc.DesiredUp && (!svc.Running || svc.SpecError != "" || svc.Health == api.HealthCritical)
}

func countDown(s *api.Snapshot) *downCount {
	c := &downCount{snap: s}
	for i := range s.Services {
		if svc := s.Services[i]; serviceDown(svc) {
			c.n++
			if len(c.names) < maxDownNames {
				c.names = append(c.names, svc.ServiceGroup)
			}
		}
	}
	return c
}

// downFor counts the down services of s once per snapshot: the count is kept
// beside the snapshot it came from, so probes between two snapshots only
// compare a pointer.
func (m *Monitor) downFor(s *api.Snapshot) *downCount {
	if c := m.down.Load(); c != nil && c.snap == s {
		return c
	}
	c := countDown(s)
	m.down.Store(c)
	return c
}

// check evaluates every /healthy condition against s and steps the
// hysteresis state.
func (m *Monitor) check(s *api.Snapshot) verdict {
	v := verdict{
		notReady:     !m.isReady(s),
		shuttingDown: s.ShuttingDown,
		manual:       s.Sup.ManualUnhealthy,
	}
	if m.disk != nil && m.disk.enabled() {
		v.disk = m.disk.sample(m.now())
	}
	if m.o.ServicesDown.onAbove() {
		v.down = m.downFor(s)
		was := m.downBad.Load()
		now := m.o.ServicesDown.stepAbove(was, float64(v.down.n))
		if now != was {
			// Store only on change: probes on both cores would otherwise
			// bounce the cache line on every request.
			m.downBad.Store(now)
		}
		v.tooManyDown = now
	}
	return v
}

// reasons renders every reason of an unhealthy verdict, one line each.
func (m *Monitor) reasons(s *api.Snapshot, v *verdict) []string {
	var out []string
	if v.notReady {
		out = append(out, "not ready: the supervisor is still starting")
	}
	if v.shuttingDown {
		out = append(out, "shutting down")
	}
	if v.disk != nil {
		out = m.disk.reasons(v.disk, out)
	}
	if v.tooManyDown {
		out = append(out, downReason(v.down, m.o.ServicesDown))
	}
	if v.manual {
		r := "set unhealthy by hand"
		if s.Sup.ManualReason != "" {
			r += ": " + mask(oneLine(s.Sup.ManualReason), m.o.Secrets)
		}
		out = append(out, r)
	}
	return out
}

func downReason(c *downCount, t Threshold) string {
	var b strings.Builder
	noun := "services"
	if c.n == 1 {
		noun = "service"
	}
	fmt.Fprintf(&b, "%d %s down or CRITICAL (unhealthy at %g or more, healthy again at %g or fewer)", c.n, noun, t.Upper, t.Lower)
	if len(c.names) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(c.names, ", "))
		if more := c.n - len(c.names); more > 0 {
			fmt.Fprintf(&b, " and %d more", more)
		}
	}
	return b.String()
}

// oneLine keeps a reason on its line: /healthy lists one reason per line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

// Healthy evaluates /healthy now: ok, or every reason why not. It is what
// `tend sup stats` shows.
func (m *Monitor) Healthy() (ok bool, reasons []string) {
	s := m.snap()
	v := m.check(s)
	if v.ok() {
		return true, nil
	}
	return false, m.reasons(s, &v)
}

// serveHealthy answers 200 "healthy", or 503 with one reason per line; or
// application/health+json when the request prefers it (Accept).
func (m *Monitor) serveHealthy(w http.ResponseWriter, r *http.Request) {
	s := m.snap()
	v := m.check(s)
	if a := r.Header["Accept"]; len(a) > 0 && wantsHealthJSON(strings.Join(a, ",")) {
		doc := m.healthDoc(s, healthPass)
		if !v.ok() {
			doc.Status, doc.Notes = healthFail, m.reasons(s, &v)
			doc.Output = strings.Join(doc.Notes, "; ")
		}
		writeHealthJSON(w, doc)
		return
	}
	m.headers.set(w.Header())
	if v.ok() {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, bodyHealthy)
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, strings.Join(m.reasons(s, &v), "\n")+"\n")
}
