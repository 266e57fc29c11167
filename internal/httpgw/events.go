package httpgw

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/httpx"
)

// EventSource is what /events needs of the supervisor: its event stream
// (*events.Stream, owned by the manager). It must be comparable (a
// pointer): the followers of one source share its frames (httpx.Feed).
type EventSource interface {
	Follow(from uint64) (*events.Reader[events.Event], int64)
	Watch(func()) (stop func())
}

// eventBatch bounds the events one write takes from the stream. Each
// follower holds a slice of that many while it waits (8 KiB: a thousand
// followers hold 8 MiB; 256 events, 67 KiB each, were 67 MiB), and lets
// go of a write buffer grown past idleBuf.
const (
	eventBatch = 32
	idleBuf    = 16 << 10
)

// Events serves GET /events: the supervisor's events as
// text/event-stream, from now on, or from what followed Last-Event-ID
// (the header, or ?last_event_id= for a first connection) as far as it
// is still kept. It ends when the supervisor stops, the client goes, or
// the client falls so far behind that what it has not read is no longer
// kept (an "event: dropped" line says so, when it can still be written).
// It is exported so that a listener other than the gateway's (the
// monitor's) can serve it too.
func Events(src EventSource) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last := r.Header.Get("Last-Event-ID")
		if last == "" {
			last = r.URL.Query().Get("last_event_id")
		}
		var from uint64
		if last != "" {
			id, err := strconv.ParseUint(strings.TrimSpace(last), 10, 64)
			if err != nil {
				http.Error(w, "Last-Event-ID must be an event id (a whole number)", http.StatusBadRequest)
				return
			}
			from = id + 1
		}
		rd, missed := src.Follow(from)
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no") // nginx in front: do not hold events back
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		s := httpx.NewStream(w, r)
		buf := []byte("retry: 1000\n\n")
		if missed != 0 {
			// Not an event of the supervisor's (it has no id): the client
			// should read the state afresh (/services).
			buf = append(buf, "event: lost\ndata: {\"missed\":"+strconv.FormatInt(missed, 10)+"}\n\n"...)
		}
		streamEvents(r, s, src, rd, buf)
	})
}

func streamEvents(r *http.Request, s *httpx.Stream, src EventSource, rd *events.Reader[events.Event], buf []byte) {
	beat := time.NewTicker(httpx.Heartbeat)
	defer beat.Stop()
	defer rd.Leave()
	keepAlive := []byte(": keep-alive\n\n") // the SSE comment sent while nothing happens
	feed := eventFeed{src}
	evs := make([]events.Event, 0, eventBatch)
	for {
		var wait <-chan struct{}
		var err error
		evs, wait, err = rd.Take(evs[:0], eventBatch)
		switch {
		case errors.Is(err, events.ErrDropped):
			buf = append(buf, "event: dropped\ndata: {\"reason\":\"the client read too slowly\"}\n\n"...)
			_, _ = s.Write(buf)
			_ = s.Flush()
			return
		case err != nil: // closed: the supervisor has stopped
			_, _ = s.Write(buf)
			_ = s.Flush()
			return
		}
		for i := range evs {
			buf = appendEvent(buf, &evs[i])
		}
		if wait != nil && len(buf) > 0 {
			// The first lines, and nothing to replay: the write may
			// block, so not while waiting; take again after it.
			rd.Leave()
			wait = nil
		}
		if len(buf) > 0 {
			if _, err := s.Write(buf); err != nil {
				return
			}
			if err := s.Flush(); err != nil {
				return
			}
			buf = buf[:0]
		}
		if wait == nil {
			continue
		}
		clear(evs) // keep no old events while waiting
		if cap(buf) > idleBuf {
			buf = nil
		}
		// Up to date: the server's writer thread writes what comes next
		// while this goroutine sleeps (see httpx.Feed).
		pos, ok := s.Park(r.Context(), feed, rd.Position(), wait, rd.Leave, beat.C, keepAlive)
		if !ok {
			return
		}
		rd.SkipTo(pos)
	}
}

// appendEvent appends e as one SSE event: its id, its type as the event
// name, and the event as JSON data (one line: JSON escapes newlines).
// Nothing in it is the follower's own: every follower gets the same
// bytes, which the server's writer thread encodes once for all of them.
func appendEvent(buf []byte, e *events.Event) []byte {
	buf = append(buf, "id: "...)
	buf = strconv.AppendUint(buf, e.ID, 10)
	buf = append(buf, "\nevent: "...)
	buf = append(buf, e.Type...)
	buf = append(buf, "\ndata: "...)
	buf = append(buf, e.JSON()...)
	return append(buf, "\n\n"...)
}

// eventFeed is /events as an httpx.Feed: its followers share one
// cursor on the event stream.
type eventFeed struct{ src EventSource }

func (f eventFeed) Cursor(pos uint64, notify func()) httpx.FeedCursor {
	return newReaderCursor[events.Event](f.src, pos, notify, eventBatch, appendEvent)
}
