package monitor

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// mediaHealthJSON is the media type of draft-inadarei-api-health-check.
const mediaHealthJSON = "application/health+json"

// healthDoc is a health check response (draft-inadarei-api-health-check).
type healthDoc struct {
	Status      string                   `json:"status"`
	Version     string                   `json:"version,omitempty"`
	ServiceID   string                   `json:"serviceId,omitempty"`
	Description string                   `json:"description"`
	Notes       []string                 `json:"notes,omitempty"`
	Output      string                   `json:"output,omitempty"`
	Checks      map[string][]healthCheck `json:"checks"`
}

// healthCheck is one entry of a check's array. Keys of checks are
// "componentName" (a service group, ring, store, processes): none holds
// a colon, the draft's separator.
type healthCheck struct {
	ComponentType string `json:"componentType"`
	Status        string `json:"status"`
	Time          string `json:"time"`
	// Output is the reason of a warn or fail; the draft says it SHOULD be
	// absent on pass.
	Output string `json:"output,omitempty"`
}

// The draft's three statuses.
const (
	healthPass = "pass"
	healthWarn = "warn"
	healthFail = "fail"
)

// draftStatus maps /status's ConfigCat words to the draft's.
func draftStatus(s string) string {
	switch s {
	case statusHealthy:
		return healthPass
	case statusDegraded:
		return healthWarn
	}
	return healthFail
}

// healthChecks turns /status's components into the draft's checks.
func healthChecks(s *api.Snapshot, doc statusDoc) map[string][]healthCheck {
	at := s.Taken
	if at.IsZero() {
		at = time.Now()
	}
	when := at.UTC().Format(time.RFC3339)
	out := make(map[string][]healthCheck, len(doc.Components))
	for name, c := range doc.Components {
		typ := "system"
		if strings.Contains(name, ".") {
			typ = "component" // a service group
		}
		hc := healthCheck{ComponentType: typ, Status: draftStatus(c.Status), Time: when}
		if hc.Status != healthPass {
			hc.Output = c.Reason
		}
		out[name] = []healthCheck{hc}
	}
	return out
}

func (m *Monitor) healthDoc(s *api.Snapshot, status string) healthDoc {
	return healthDoc{
		Status: status, Version: s.Sup.Version, ServiceID: s.Sup.MemberID,
		Description: "tend supervisor",
		Checks:      healthChecks(s, m.buildStatus(s)),
	}
}

// writeHealthJSON sends doc with the draft's media type and a code that
// agrees with it: 2xx for pass and warn, 503 for fail.
func writeHealthJSON(w http.ResponseWriter, doc healthDoc) {
	b, err := json.Marshal(doc)
	if err != nil {
		http.Error(w, "encoding health: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", mediaHealthJSON)
	h.Set("Cache-Control", "no-store")
	code := http.StatusOK
	if doc.Status == healthFail {
		code = http.StatusServiceUnavailable
	}
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// wantsHealthJSON reports whether the Accept header prefers the draft's
// media type: it is named with a q above 0, and no other range is
// preferred to it. Wildcards never select it: the existing formats stay
// the default for browsers and curl.
func wantsHealthJSON(accept string) bool {
	if !strings.Contains(accept, mediaHealthJSON) {
		return false
	}
	health, best := -1.0, 0.0
	for _, part := range strings.Split(accept, ",") {
		typ, params, _ := strings.Cut(part, ";")
		typ = strings.ToLower(strings.TrimSpace(typ))
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if typ == mediaHealthJSON {
			health = max(health, q)
		} else if typ != "*/*" && typ != "application/*" {
			best = max(best, q)
		}
	}
	return health > 0 && health >= best
}
