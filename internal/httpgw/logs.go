package httpgw

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/httpx"
)

// LogSource is what /logs needs of the supervisor: a loaded service's
// recent output, by service name (the manager's Logs).
type LogSource interface {
	Logs(name string) (events.Output, error)
}

// wantsSSE reports whether the request's Accept header lists
// text/event-stream.
func wantsSSE(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/event-stream" {
				return true
			}
		}
	}
	return false
}

// serveLogs is GET /services/{svc}/{group}[/{org}]/logs: the service's
// last lines as NDJSON, one api.LogLine a line, or as text/event-stream
// when asked; with follow=1 new lines as they come. --redact hides it
// (404) like /census: output can carry anything the service prints.
func (g *gateway) serveLogs(w http.ResponseWriter, r *http.Request) {
	if g.redact || g.logs == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	q, err := events.ParseLogQuery(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sc := g.lookup(w, r)
	if sc == nil {
		return
	}
	out, err := g.logs.Logs(sc.svc.Name)
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	sse := wantsSSE(r)
	h := w.Header()
	if sse {
		h.Set("Content-Type", "text/event-stream")
	} else {
		h.Set("Content-Type", "application/x-ndjson")
	}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	s := httpx.NewStream(w, r)
	var buf bytes.Buffer
	beat := time.NewTicker(httpx.Heartbeat)
	defer beat.Stop()
	emit := func(lines []api.LogLine) error {
		for i := range lines {
			b, err := json.Marshal(&lines[i])
			if err != nil {
				continue
			}
			if sse {
				buf.WriteString("event: log\ndata: ")
				buf.Write(b)
				buf.WriteString("\n\n")
			} else {
				buf.Write(b)
				buf.WriteByte('\n')
			}
		}
		if buf.Len() == 0 {
			return nil
		}
		defer buf.Reset()
		if _, err := s.Write(buf.Bytes()); err != nil {
			return err
		}
		return s.Flush()
	}
	// An empty line (NDJSON) or a comment (SSE) keeps the connection and
	// finds a client that went away.
	beatLine := []byte("\n")
	if sse {
		beatLine = []byte(": keep-alive\n\n")
	}
	_ = events.FollowLogs(out, q, emit, func(ch <-chan struct{}, away func()) bool {
		return s.Wait(r.Context(), ch, away, beat.C, beatLine)
	})
}
