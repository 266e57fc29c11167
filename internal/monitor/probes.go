package monitor

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// Loop is one of the supervisor's own loops as /livez sees it: when it
// last answered a heartbeat.
type Loop struct {
	Name string
	Last time.Time
}

// defaultLoopStale is how long a loop may go without answering before
// /livez fails: the heartbeat asks every second, so five missed answers.
const defaultLoopStale = 5 * time.Second

// probeCheck is one line of /livez or /readyz: ok when reason is "".
type probeCheck struct {
	name, reason string
}

// liveChecks are /livez's checks: ping (the listener answers) and one per
// loop, failed when it has not answered a heartbeat for LoopStale.
func (m *Monitor) liveChecks() []probeCheck {
	checks := []probeCheck{{name: "ping"}}
	if m.o.Loops == nil {
		return checks
	}
	now := m.now()
	for _, l := range m.o.Loops() {
		c := probeCheck{name: l.Name}
		switch {
		case l.Last.IsZero():
			c.reason = "has not answered a heartbeat yet"
		case now.Sub(l.Last) > m.o.LoopStale:
			c.reason = fmt.Sprintf("no heartbeat answered for %s (limit %s)", now.Sub(l.Last).Round(time.Millisecond), m.o.LoopStale)
		}
		checks = append(checks, c)
	}
	return checks
}

// readyChecks are /readyz's checks: the supervisor has started and is not
// shutting down, and one per service: a service that should be up is up,
// ready and not CRITICAL. A service stopped on purpose passes.
func (m *Monitor) readyChecks(s *api.Snapshot) []probeCheck {
	checks := make([]probeCheck, 0, 3+len(s.Services))
	checks = append(checks, probeCheck{name: "ping"})
	c := probeCheck{name: "ready"}
	if !m.isReady(s) {
		c.reason = "the supervisor is still starting"
	}
	checks = append(checks, c)
	c = probeCheck{name: "shutdown"}
	if s.ShuttingDown {
		c.reason = "shutting down"
	}
	checks = append(checks, c)
	for i := range s.Services {
		svc := s.Services[i]
		checks = append(checks, probeCheck{name: svc.ServiceGroup, reason: mask(oneLine(serviceNotReady(svc)), m.o.Secrets)})
	}
	return checks
}

// serviceNotReady says why a service keeps /readyz failing, or "".
func serviceNotReady(svc *api.Service) string {
	switch {
	case svc.SpecError != "":
		return "spec file cannot be read: " + svc.SpecError
	case !svc.DesiredUp:
		return ""
	case !svc.Running:
		return notRunningReason(svc)
	case svc.Readiness != "" && !svc.Ready:
		return "up but not ready: " + waitingFor(svc.Readiness)
	case svc.Health == api.HealthCritical:
		return "health check CRITICAL"
	}
	return ""
}

// waitingFor names what a service that is up but not ready has not sent.
func waitingFor(protocol string) string {
	switch protocol {
	case api.ReadinessFD:
		return "waiting for a newline on its notification fd"
	case api.ReadinessNotify:
		return "waiting for READY=1 on its NOTIFY_SOCKET"
	}
	return "waiting for its readiness notification"
}

func (m *Monitor) serveLivez(w http.ResponseWriter, r *http.Request) {
	serveChecks(w, r, "livez", m.liveChecks())
}

func (m *Monitor) serveReadyz(w http.ResponseWriter, r *http.Request) {
	serveChecks(w, r, "readyz", m.readyChecks(m.snap()))
}

func (m *Monitor) serveLivezCheck(w http.ResponseWriter, r *http.Request) {
	serveOneCheck(w, r.PathValue("check"), m.liveChecks())
}

func (m *Monitor) serveReadyzCheck(w http.ResponseWriter, r *http.Request) {
	serveOneCheck(w, r.PathValue("check"), m.readyChecks(m.snap()))
}

// serveOneCheck answers /livez/NAME and /readyz/NAME as Kubernetes does:
// "ok", or 500 "internal server error: REASON"; 404 for a name that is no
// check.
func serveOneCheck(w http.ResponseWriter, name string, checks []probeCheck) {
	for _, c := range checks {
		if c.name != name {
			continue
		}
		if c.reason != "" {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "internal server error: "+c.reason, http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, "ok")
		return
	}
	http.NotFound(w, nil)
}

// serveChecks answers as kube-apiserver's /livez and /readyz do: "ok"
// when every check passes; with ?verbose one "[+]name ok" line per check
// and "NAME check passed"; on any failure 500 with every line and "NAME
// check failed". ?exclude=NAME (repeatable) turns a check into
// "[+]name excluded: ok"; a name that matches nothing is reported in a
// "warn:" line. Kubernetes withholds every failure's reason; tend shows
// it (masked) when ?verbose asks, since its listener has its own auth,
// and withholds it otherwise.
func serveChecks(w http.ResponseWriter, r *http.Request, name string, checks []probeCheck) {
	q := r.URL.Query()
	_, verbose := q["verbose"]
	excluded := map[string]bool{}
	for _, e := range q["exclude"] {
		excluded[strings.TrimSpace(e)] = true
	}
	var b strings.Builder
	failed := false
	for _, c := range checks {
		switch {
		case excluded[c.name]:
			delete(excluded, c.name)
			fmt.Fprintf(&b, "[+]%s excluded: ok\n", c.name)
		case c.reason == "":
			fmt.Fprintf(&b, "[+]%s ok\n", c.name)
		case verbose:
			failed = true
			fmt.Fprintf(&b, "[-]%s failed: %s\n", c.name, c.reason)
		default:
			failed = true
			fmt.Fprintf(&b, "[-]%s failed: reason withheld\n", c.name)
		}
	}
	if len(excluded) > 0 {
		names := make([]string, 0, len(excluded))
		for n := range excluded {
			names = append(names, fmt.Sprintf("%q", n))
		}
		slices.Sort(names)
		fmt.Fprintf(&b, "warn: some health checks cannot be excluded: no matches for %s\n", strings.Join(names, ","))
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if failed {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "%s%s check failed\n", b.String(), name)
		return
	}
	w.WriteHeader(http.StatusOK)
	if !verbose {
		fmt.Fprint(w, "ok")
		return
	}
	fmt.Fprintf(w, "%s%s check passed\n", b.String(), name)
}

// Live reports whether every /livez check passes: what feeds systemd's
// watchdog.
func (m *Monitor) Live() bool {
	for _, c := range m.liveChecks() {
		if c.reason != "" {
			return false
		}
	}
	return true
}

// Summary is a one-line account of the supervisor for systemd's STATUS=:
// "ready, healthy; 3 services: 2 up, 1 not ready".
func (m *Monitor) Summary() string {
	s := m.snap()
	var b strings.Builder
	switch {
	case s.ShuttingDown:
		b.WriteString("shutting down")
	case !m.isReady(s):
		b.WriteString("starting")
	default:
		b.WriteString("ready")
		if ok, reasons := m.Healthy(); ok {
			b.WriteString(", healthy")
		} else {
			fmt.Fprintf(&b, ", unhealthy (%d %s)", len(reasons), plural(len(reasons), "reason", "reasons"))
		}
	}
	var up, notReady, down, stopped int
	for i := range s.Services {
		svc := s.Services[i]
		switch {
		case !svc.DesiredUp && !svc.Running:
			stopped++
		case svc.Running && svc.Readiness != "" && !svc.Ready:
			notReady++
		case svc.Running:
			up++
		default:
			down++
		}
	}
	fmt.Fprintf(&b, "; %d %s", len(s.Services), plural(len(s.Services), "service", "services"))
	sep := ": "
	for _, c := range []struct {
		n    int
		what string
	}{{up, "up"}, {notReady, "not ready"}, {down, "down"}, {stopped, "stopped"}} {
		if c.n > 0 {
			fmt.Fprintf(&b, "%s%d %s", sep, c.n, c.what)
			sep = ", "
		}
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
