package httpgw

import (
	"encoding/json"
	"maps"
	"mime"
	"net/http"
	"slices"
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
	beat := time.NewTicker(httpx.Heartbeat)
	defer beat.Stop()
	var buf []byte
	emit := func(lines []api.LogLine) error {
		for i := range lines {
			buf = appendLogLine(buf, &lines[i], sse)
		}
		if len(buf) == 0 {
			return nil
		}
		defer func() { buf = buf[:0] }()
		if _, err := s.Write(buf); err != nil {
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
	feed := newLogFeed(out.Recent, q, sse)
	_ = events.FollowLogs(out, q, emit, func(ch <-chan struct{}, rd *events.Reader[api.LogLine]) bool {
		// Up to date: the server's writer thread writes what comes next
		// while this goroutine sleeps (see httpx.Feed).
		pos, ok := s.Park(r.Context(), feed, rd.Position(), ch, rd.Leave, beat.C, beatLine)
		rd.SkipTo(pos)
		return ok
	})
}

// appendLogLine appends l as the logs endpoint sends it: an SSE "log"
// event, or an NDJSON line.
func appendLogLine(buf []byte, l *api.LogLine, sse bool) []byte {
	b, err := json.Marshal(l)
	if err != nil {
		return buf
	}
	if sse {
		buf = append(buf, "event: log\ndata: "...)
		buf = append(buf, b...)
		return append(buf, "\n\n"...)
	}
	buf = append(buf, b...)
	return append(buf, '\n')
}

// logFeed is one service's output, in one format, as an httpx.Feed:
// its followers that want the same streams share one cursor.
type logFeed struct {
	out     *events.Broadcaster[api.LogLine]
	sse     bool
	streams string // the streams wanted, sorted and joined; "": all
}

func newLogFeed(out *events.Broadcaster[api.LogLine], q events.LogQuery, sse bool) logFeed {
	return logFeed{out: out, sse: sse, streams: strings.Join(slices.Sorted(maps.Keys(q.Streams)), ",")}
}

func (f logFeed) Cursor(pos uint64, notify func()) httpx.FeedCursor {
	var q events.LogQuery
	for s := range strings.SplitSeq(f.streams, ",") {
		if s != "" {
			if q.Streams == nil {
				q.Streams = map[string]bool{}
			}
			q.Streams[s] = true
		}
	}
	return newReaderCursor(f.out, pos, notify, logBatch, func(p []byte, l *api.LogLine) []byte {
		if !q.Wants(l) {
			return p
		}
		return appendLogLine(p, l, f.sse)
	})
}

// logBatch bounds the lines one frame of a log feed holds.
const logBatch = 256
