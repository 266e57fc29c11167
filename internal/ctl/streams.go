package ctl

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/httpx"
)

// Streams are the operations that follow a feed for as long as the CLI
// reads (svc logs -f, sup events -f) rather than run once. They answer
// NDJSON like every operation: one {"log":{...}} or {"event":{...}} line
// per item, then the final line when the feed ends (without follow, once
// what is kept was sent). Unlike the other operations they end when the
// client goes, and have no operation timeout: each write has its own
// deadline (httpx.Stream), and an idle stream writes an empty line every
// httpx.Heartbeat to find a client that went away.
const (
	pathLogs   = "/v1/svc/logs"
	pathEvents = "/v1/sup/events"
)

// Streamer is what the streaming operations need of the supervisor; a
// Controller that is not one answers them 404.
type Streamer interface {
	// Logs is the recent output of the service pkg names.
	Logs(pkg string) (events.Output, error)
	// Events is the supervisor's event stream.
	Events() *events.Stream
}

type logLine struct {
	Log *api.LogLine `json:"log"`
}

type eventLine struct {
	Event json.RawMessage `json:"event"` // events.Event, encoded once for every follower
}

// serveStream answers a streaming operation; it reports false when path
// is not one.
func (h *handler) serveStream(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path != pathLogs && r.URL.Path != pathEvents {
		return false
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeFinal(w, http.StatusMethodNotAllowed, errorLine{&api.Error{Kind: api.BadRequest, Msg: r.Method + " " + r.URL.Path + ": use GET"}})
		return true
	}
	st, ok := h.c.(Streamer)
	if !ok {
		writeFinal(w, http.StatusNotFound, errorLine{&api.Error{Kind: api.NotFound, Msg: "no operation " + r.URL.Path + " on this supervisor"}})
		return true
	}
	if r.URL.Path == pathLogs {
		h.serveLogs(w, r, st)
	} else {
		h.serveEvents(w, r, st)
	}
	return true
}

// ndjson writes a stream's lines, each write with its own deadline.
type ndjson struct {
	s   *httpx.Stream
	buf bytes.Buffer
}

func startNDJSON(w http.ResponseWriter, r *http.Request) *ndjson {
	setHeaders(w)
	w.WriteHeader(http.StatusOK)
	return &ndjson{s: httpx.NewStream(w, r)}
}

func (n *ndjson) add(v any) {
	b, err := json.Marshal(v)
	if err == nil {
		n.buf.Write(b)
		n.buf.WriteByte('\n')
	}
}

func (n *ndjson) flush() error {
	if n.buf.Len() == 0 {
		return nil
	}
	defer n.buf.Reset()
	if _, err := n.s.Write(n.buf.Bytes()); err != nil {
		return err
	}
	return n.s.Flush()
}

// wait waits for ch, writing an empty line every httpx.Heartbeat; false:
// the client went.
func (n *ndjson) wait(r *http.Request, beat *time.Ticker, ch <-chan struct{}, away func()) bool {
	return n.s.Wait(r.Context(), ch, away, beat.C, []byte("\n"))
}

func (n *ndjson) finish(err error) {
	var final any = okLine{OK: true}
	if err != nil {
		final = errorLine{toAPIError(err)}
	}
	n.add(final)
	_ = n.flush()
}

func (h *handler) serveLogs(w http.ResponseWriter, r *http.Request, st Streamer) {
	q, err := events.ParseLogQuery(r.URL.Query())
	if err != nil {
		writeFinal(w, http.StatusBadRequest, errorLine{&api.Error{Kind: api.BadRequest, Msg: err.Error()}})
		return
	}
	pkg := r.URL.Query().Get("pkg")
	if pkg == "" {
		writeFinal(w, http.StatusBadRequest, errorLine{&api.Error{Kind: api.BadRequest, Msg: "pkg is required"}})
		return
	}
	out, err := st.Logs(pkg)
	if err != nil {
		writeFinal(w, statusOf(api.KindOf(err)), errorLine{toAPIError(err)})
		return
	}
	n := startNDJSON(w, r)
	beat := time.NewTicker(httpx.Heartbeat)
	defer beat.Stop()
	err = events.FollowLogs(out, q, func(lines []api.LogLine) error {
		for i := range lines {
			n.add(logLine{&lines[i]})
		}
		return n.flush()
	}, func(ch <-chan struct{}, rd *events.Reader[api.LogLine]) bool { return n.wait(r, beat, ch, rd.Leave) })
	if r.Context().Err() == nil {
		n.finish(err) // err: a write failed, and this one will too
	}
}

func (h *handler) serveEvents(w http.ResponseWriter, r *http.Request, st Streamer) {
	qv := r.URL.Query()
	follow := qv.Get("follow") == "1"
	// Without last_event_id: every event kept, then (follow) what comes.
	from := uint64(1)
	if v := qv.Get("last_event_id"); v != "" {
		id, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeFinal(w, http.StatusBadRequest, errorLine{&api.Error{Kind: api.BadRequest, Msg: "last_event_id must be an event id (a whole number)"}})
			return
		}
		from = id + 1
	}
	rd, _ := st.Events().Follow(from)
	defer rd.Leave()
	n := startNDJSON(w, r)
	beat := time.NewTicker(httpx.Heartbeat)
	defer beat.Stop()
	evs := make([]events.Event, 0, 256)
	for {
		var ch <-chan struct{}
		var err error
		evs, ch, err = rd.Take(evs[:0], 256)
		if err != nil {
			if errors.Is(err, events.ErrDropped) {
				n.finish(api.Errorf(api.Internal, "dropped: this client read the events too slowly"))
			} else {
				n.finish(nil) // the supervisor has stopped
			}
			return
		}
		for i := range evs {
			n.add(eventLine{evs[i].JSON()})
		}
		if n.flush() != nil {
			return
		}
		if ch == nil {
			continue
		}
		if !follow {
			rd.Leave() // not waiting: the last write may block
			n.finish(nil)
			return
		}
		if !n.wait(r, beat, ch, rd.Leave) {
			return
		}
	}
}
