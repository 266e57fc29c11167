package ctl

import (
	"encoding/json"
	"net/http"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/events"
)

// Routes. Paths carry a version so that an old CLI talking to a newer
// supervisor (or the reverse) gets a clear 404 rather than a misread body.
const (
	pathLoad     = "/v1/svc/load"
	pathUnload   = "/v1/svc/unload"
	pathStart    = "/v1/svc/start"
	pathStop     = "/v1/svc/stop"
	pathRestart  = "/v1/svc/restart"
	pathUpdate   = "/v1/svc/update"
	pathSignal   = "/v1/svc/signal"
	pathStatus   = "/v1/svc/status"
	pathHealth   = "/v1/sup/health"
	pathStats    = "/v1/sup/stats"
	pathTerm     = "/v1/sup/term"
	pathHandover = "/v1/sup/restart"
)

const contentTypeNDJSON = "application/x-ndjson"

// Request bodies other than api.LoadRequest.
type pkgRequest struct {
	Pkg string `json:"pkg"`
}

// handoverRequest is `sup restart`'s: Binary "" means the tend binary
// the supervisor was started as.
type handoverRequest struct {
	Binary string `json:"binary,omitempty"`
}

type signalRequest struct {
	Pkg    string `json:"pkg"`
	Signal string `json:"signal"`
}

type healthRequest struct {
	Unhealthy bool   `json:"unhealthy"`
	Reason    string `json:"reason,omitempty"`
}

// Response lines. The server writes the three shapes separately so the
// final line always has exactly the fields the protocol promises
// ("result":null included); the client reads them all through line.
type progressLine struct {
	Progress string `json:"progress"`
}

type okLine struct {
	OK     bool `json:"ok"`
	Result any  `json:"result"`
}

type errorLine struct {
	Error *api.Error `json:"error"`
}

type line struct {
	Progress *string         `json:"progress"`
	OK       bool            `json:"ok"`
	Result   json.RawMessage `json:"result"`
	Error    *api.Error      `json:"error"`
	// A streaming operation's items.
	Log   *api.LogLine  `json:"log"`
	Event *events.Event `json:"event"`
}

// statusOf maps an error kind to the HTTP status of a response that failed
// before any progress was sent.
func statusOf(k api.ErrorKind) int {
	switch k {
	case api.NotFound:
		return http.StatusNotFound
	case api.Conflict:
		return http.StatusConflict
	case api.BadRequest:
		return http.StatusBadRequest
	case api.Unauthorized:
		return http.StatusUnauthorized
	case api.TooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// kindOf is the reverse, for responses whose body could not be read (a
// proxy's or the HTTP server's own error page).
func kindOf(status int) api.ErrorKind {
	switch status {
	case http.StatusNotFound:
		return api.NotFound
	case http.StatusConflict:
		return api.Conflict
	case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusRequestHeaderFieldsTooLarge:
		return api.BadRequest
	case http.StatusUnauthorized, http.StatusForbidden:
		return api.Unauthorized
	case http.StatusRequestEntityTooLarge:
		return api.TooLarge
	}
	return api.Internal
}
