package monitor

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// defaultStatusRecords is ConfigCat Proxy's maxRecordCount.
const defaultStatusRecords = 5

// Component states of /status, ConfigCat Proxy's words.
const (
	statusHealthy  = "healthy"
	statusDegraded = "degraded"
	statusDown     = "down"
)

// Names of the components that are not services. Service groups always
// contain a dot ("name.group"), so they can never collide with these.
const (
	componentRing      = "ring"
	componentStore     = "store"
	componentProcesses = "processes"
)

// statusDoc is the /status document.
type statusDoc struct {
	Status     string               `json:"status"`
	Components map[string]component `json:"components"`
}

// component is one entry of /status. Reason says in a few words why a service
// is down or not running; the records are the history.
type component struct {
	Status  string   `json:"status"`
	Reason  string   `json:"reason,omitempty"`
	Records []string `json:"records"`
}

// recordTimeFormat renders "Mon, 29 May 2023 16:36:40 UTC" (times are
// converted to UTC first, so the zone is always UTC).
const recordTimeFormat = time.RFC1123

// renderRecords formats the last n records, newest last, masked.
func renderRecords(recs []api.Record, n int, secrets []string) []string {
	if len(recs) > n {
		recs = recs[len(recs)-n:]
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		tag := "[error]"
		if r.OK {
			tag = "[ok]"
		}
		out[i] = r.At.UTC().Format(recordTimeFormat) + ": " + tag + " " + mask(oneLine(r.Text), secrets)
	}
	return out
}

// recordsStatus is ConfigCat's rule: degraded when the last two records are
// errors (maxLastErrorsMeaningDegraded = 2); one [ok] heals it.
func recordsStatus(recs []api.Record) string {
	if n := len(recs); n >= 2 && !recs[n-1].OK && !recs[n-2].OK {
		return statusDegraded
	}
	return statusHealthy
}

// serviceComponent applies the service rules: a spec error, or a service that
// should run but does not (never started, exited, waiting for a restart) is
// down; a service stopped on purpose is reported healthy, since nothing is
// wrong with it; a running one follows its records.
func serviceComponent(svc *api.Service, n int, secrets []string) component {
	c := component{Records: renderRecords(svc.Records, n, secrets)}
	switch {
	case svc.SpecError != "":
		c.Status, c.Reason = statusDown, "spec file cannot be read: "+svc.SpecError
	case svc.DesiredUp && !svc.Running:
		c.Status, c.Reason = statusDown, notRunningReason(svc)
	case !svc.DesiredUp && !svc.Running:
		c.Status, c.Reason = statusHealthy, "stopped"
	case !svc.DesiredUp:
		c.Status, c.Reason = statusHealthy, "stopping"
	case svc.Readiness != "" && !svc.Ready:
		// Up, but not serving yet: worth a look if it lasts.
		c.Status, c.Reason = statusDegraded, "up but not ready: "+waitingFor(svc.Readiness)
	default:
		c.Status = recordsStatus(svc.Records)
	}
	c.Reason = mask(oneLine(c.Reason), secrets)
	return c
}

func notRunningReason(svc *api.Service) string {
	var r string
	switch {
	case svc.StartError != "":
		r = "not running: " + svc.StartError
	case svc.LastExit != nil && svc.LastExit.Signal != "":
		r = "not running: killed by " + svc.LastExit.Signal
	case svc.LastExit != nil:
		r = fmt.Sprintf("not running: exited with code %d", svc.LastExit.Code)
	default:
		r = "not running: never started"
	}
	if !svc.NextRestart.IsZero() {
		r += "; next restart at " + svc.NextRestart.UTC().Format(recordTimeFormat)
	}
	return r
}

// ringComponent describes the gossip ring: its status and reason from the
// members' health (ringStatus), its records the health changes seen. Before
// the ring exists, this single member (nothing to be unhealthy about).
func ringComponent(s *api.Snapshot, n int, secrets []string) component {
	if s.Ring == nil {
		at := s.Sup.StartedAt
		if at.IsZero() {
			at = s.Taken
		}
		return component{
			Status:  statusHealthy,
			Records: renderRecords([]api.Record{{At: at, OK: true, Text: "single member, no ring"}}, n, secrets),
		}
	}
	c := component{Records: renderRecords(s.Ring.Records, n, secrets)}
	c.Status, c.Reason = ringStatus(s.Ring.Members, s.Sup.MemberID)
	c.Reason = mask(oneLine(c.Reason), secrets)
	return c
}

// ringStatus is the ring's rule: members' health decides, not records.
// Degraded when a member is suspect or confirmed, or when this member
// (self, "" when unknown) has been departed; healthy when every member is
// alive or departed. The reason counts the members by health, as
// "3 members: 2 alive, 1 suspect".
func ringStatus(members []api.Member, self string) (status, reason string) {
	counts := map[string]int{}
	var others []string // health values beyond the four, in order met
	status = statusHealthy
	selfDeparted := false
	for _, m := range members {
		h := m.Health
		if h == "" {
			h = "unknown"
		}
		if _, ok := counts[h]; !ok && !slices.Contains(ringHealths(), h) {
			others = append(others, h)
		}
		counts[h]++
		switch {
		case h == "suspect" || h == "confirmed":
			status = statusDegraded
		case h == "departed" && self != "" && m.ID == self:
			status, selfDeparted = statusDegraded, true
		}
	}
	noun := "members"
	if len(members) == 1 {
		noun = "member"
	}
	reason = fmt.Sprintf("%d %s", len(members), noun)
	sep := ": "
	for _, h := range append(ringHealths(), others...) {
		if counts[h] > 0 {
			reason += fmt.Sprintf("%s%d %s", sep, counts[h], h)
			sep = ", "
		}
	}
	if selfDeparted {
		reason += "; this member has been departed"
	}
	return status, reason
}

// buildStatus applies every /status rule to s.
func (m *Monitor) buildStatus(s *api.Snapshot) statusDoc {
	n, secrets := m.o.StatusRecords, m.o.Secrets
	doc := statusDoc{Components: make(map[string]component, len(s.Services)+2)}
	allHealthy, down := true, 0
	for i := range s.Services {
		c := serviceComponent(s.Services[i], n, secrets)
		doc.Components[s.Services[i].ServiceGroup] = c
		allHealthy = allHealthy && c.Status == statusHealthy
		if c.Status == statusDown {
			down++
		}
	}
	ring := ringComponent(s, n, secrets)
	store := component{Status: recordsStatus(s.StoreRecords), Records: renderRecords(s.StoreRecords, n, secrets)}
	doc.Components[componentRing] = ring
	doc.Components[componentStore] = store
	if s.Sup.ProcessTracking != "" {
		// Says how a service's descendants are found: exactly (a cgroup
		// each) or through /proc. Either way nothing is wrong.
		doc.Components[componentProcesses] = component{Status: statusHealthy, Reason: s.Sup.ProcessTracking, Records: []string{}}
	}
	allHealthy = allHealthy && ring.Status == statusHealthy && store.Status == statusHealthy
	doc.Status = rootStatus(len(s.Services), down, allHealthy)
	return doc
}

// rootStatus: healthy when every component is, down when every service is
// down (and there is at least one), else degraded.
func rootStatus(services, down int, allHealthy bool) string {
	switch {
	case services > 0 && down == services:
		return statusDown
	case allHealthy:
		return statusHealthy
	}
	return statusDegraded
}

// encodedStatus is the /status body of one snapshot.
type encodedStatus struct {
	body []byte
	err  error
}

// statusBody encodes /status once per snapshot: every request until the next
// snapshot gets the same bytes.
func (m *Monitor) statusBody(s *api.Snapshot) ([]byte, error) {
	e := s.Memo(m.statusKey, func() any {
		b, err := json.Marshal(m.buildStatus(s))
		if err != nil {
			return encodedStatus{err: fmt.Errorf("encoding status: %w", err)}
		}
		return encodedStatus{body: append(b, '\n')}
	}).(encodedStatus)
	return e.body, e.err
}

// serveStatus always answers 200 when it can encode, as ConfigCat Proxy: the
// verdict is in the body; machines that need a status code use /healthy.
// A request that prefers application/health+json gets the same verdict in
// the draft's form (and its status code: 503 on fail).
func (m *Monitor) serveStatus(w http.ResponseWriter, r *http.Request) {
	s := m.snap()
	if a := r.Header["Accept"]; len(a) > 0 && wantsHealthJSON(strings.Join(a, ",")) {
		doc := m.buildStatus(s)
		h := m.healthDoc(s, draftStatus(doc.Status))
		writeHealthJSON(w, h)
		return
	}
	body, err := m.statusBody(s)
	if err != nil {
		http.Error(w, strings.TrimSpace(err.Error()), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// serveStatusOptions answers OPTIONS /status with the methods it allows.
func serveStatusOptions(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "GET, HEAD, OPTIONS")
	w.WriteHeader(http.StatusNoContent)
}
