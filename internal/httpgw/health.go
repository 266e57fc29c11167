package httpgw

import (
	"net/http"

	"github.com/tend-sh/tend/internal/api"
)

// healthJSON is Habitat's HealthCheckBody.
type healthJSON struct {
	Status string `json:"status"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
}

// serveHealth answers the last health check with the hook's output. Both
// come from the snapshot, where the runner put them together: the log files
// are rewritten by every check, so reading them here could pair a status
// with another check's output. A health no check set (after a stop or a
// crash, before the first check) has empty output. Status: 200 OK and
// WARNING, 503 CRITICAL, 500 UNKNOWN (also before the first check), as
// Habitat maps it.
func (g *gateway) serveHealth(w http.ResponseWriter, r *http.Request) {
	sc := g.lookup(w, r)
	if sc == nil {
		return
	}
	status := sc.svc.Health
	code := http.StatusOK
	switch status {
	case api.HealthOK, api.HealthWarning:
	case api.HealthCritical:
		code = http.StatusServiceUnavailable
	default:
		status, code = api.HealthUnknown, http.StatusInternalServerError
	}
	body := healthJSON{Status: string(status)}
	if out := sc.svc.HealthOutput; out != nil {
		body.Stdout, body.Stderr = out.Stdout, out.Stderr
	}
	b, err := marshal(body)
	if err != nil {
		g.log.Error("http gateway: encode health", "service_group", sc.svc.ServiceGroup, "err", err)
		failure.write(w, r)
		return
	}
	resp := newResponse(ctypeJSON, b)
	resp.code = code
	resp.write(w, r)
}
