package ctl

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

const (
	// writeTimeout bounds each write to the CLI, so a client that stopped
	// reading cannot hold its handler (and the stream's writer) forever.
	writeTimeout = 30 * time.Second
	// maxQueued bounds progress lines waiting for a slow client; later ones
	// are counted and reported as dropped rather than held in memory.
	maxQueued = 1024
)

// stream is one NDJSON response. Progress lines are queued by progress and
// written by a goroutine of the stream's own, so a Controller that reports
// progress never waits on the network; finish joins that goroutine and
// writes the final line.
type stream struct {
	w  http.ResponseWriter
	rc *http.ResponseController

	mu      sync.Mutex // guards queue, closed and dropped
	queue   []string
	closed  bool
	dropped int

	wake chan struct{} // capacity 1: "the queue may have lines"
	done chan struct{} // closed when the writer goroutine has returned

	// Owned by the writer goroutine until done is closed, then by finish.
	started bool // the 200 header went out with the first progress line
	broken  bool // a write failed: the client is gone, stop writing
}

func newStream(w http.ResponseWriter) *stream {
	s := &stream{
		w:    w,
		rc:   http.NewResponseController(w),
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
	go s.writer()
	return s
}

// progress queues a line for the client. It is safe for concurrent use and
// does nothing after finish.
func (s *stream) progress(msg string) {
	s.mu.Lock()
	switch {
	case s.closed:
	case len(s.queue) >= maxQueued:
		s.dropped++
	default:
		s.queue = append(s.queue, msg)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// writer sends queued lines until the stream is closed and drained.
func (s *stream) writer() {
	defer close(s.done)
	for range s.wake {
		s.mu.Lock()
		batch, closed, dropped := s.queue, s.closed, s.dropped
		s.queue, s.dropped = nil, 0
		s.mu.Unlock()

		if dropped > 0 {
			batch = append(batch, fmt.Sprintf("(%d progress lines dropped: the client reads too slowly)", dropped))
		}
		for _, msg := range batch {
			s.write(progressLine{Progress: msg})
		}
		if len(batch) > 0 {
			s.flush()
		}
		if closed {
			// closed and the queue taken under one lock: nothing can follow.
			return
		}
	}
}

// finish ends the stream with the final line for (result, err).
func (s *stream) finish(result any, err error) {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is pending; the writer will see closed when it takes it
	}
	<-s.done

	var final any = okLine{OK: true, Result: result}
	if err != nil {
		final = errorLine{toAPIError(err)}
	} else if _, jerr := json.Marshal(result); jerr != nil {
		final = errorLine{&api.Error{Kind: api.Internal, Msg: fmt.Sprintf("encoding result: %v", jerr)}}
	}
	if !s.started {
		status := http.StatusOK
		if e, ok := final.(errorLine); ok {
			status = statusOf(e.Error.Kind)
		}
		writeFinal(s.w, status, final)
		return
	}
	s.write(final)
	s.flush()
}

func (s *stream) write(v any) {
	if s.broken {
		return
	}
	if !s.started {
		setHeaders(s.w)
		s.w.WriteHeader(http.StatusOK)
		s.started = true
	}
	_ = s.rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // unsupported by a test recorder: fine
	if err := json.NewEncoder(s.w).Encode(v); err != nil {
		s.broken = true
	}
}

func (s *stream) flush() {
	if s.broken {
		return
	}
	// A writer that cannot flush (wrapped by middleware) still delivers,
	// only later; only a failed flush means the client is gone.
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.broken = true
	}
}

// toAPIError gives every error a kind for the wire; an error that carries
// none is internal. The message is the whole chain, context included.
func toAPIError(err error) *api.Error {
	return &api.Error{Kind: api.KindOf(err), Msg: err.Error()}
}

func setHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", contentTypeNDJSON)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// writeFinal answers with a single final line and the given status.
func writeFinal(w http.ResponseWriter, status int, v any) {
	setHeaders(w)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do about it
}
