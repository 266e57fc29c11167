package httpx

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Heartbeat is how often a long-lived response with nothing to say
// writes something anyway (an SSE comment, an empty NDJSON line): a
// client that went away is then found within Heartbeat plus the write
// timeout, and proxies do not take the stream for idle.
const Heartbeat = 15 * time.Second

// Stream writes a response that lasts as long as its client follows it
// (/events, logs?follow=1). The server's ReadTimeout and WriteTimeout are
// deadlines counted from the request and would cut it: Stream lifts the
// read deadline (a GET has no body to wait for, and net/http's background
// read then only notices the client leaving) and gives every write a
// deadline of its own, the server's WriteTimeout (else 30 s) from now. A client that
// stops reading is cut once one write has waited that long, so nothing
// holds a connection for longer than a write takes; idle keep-alive
// connections keep the server's IdleTimeout.
type Stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

// NewStream prepares w, the response to r, for a long-lived response.
// Call it before the first write.
func NewStream(w http.ResponseWriter, r *http.Request) *Stream {
	s := &Stream{w: w, rc: http.NewResponseController(w), timeout: writeTimeout}
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.WriteTimeout > 0 {
		s.timeout = srv.WriteTimeout
	}
	_ = s.rc.SetReadDeadline(time.Time{}) // unsupported by a test recorder: fine
	return s
}

// Write writes p with a deadline of its own.
func (s *Stream) Write(p []byte) (int, error) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	return s.w.Write(p)
}

// Flush sends what is buffered, with a deadline of its own. A writer that
// cannot flush is not an error: it delivers, only later.
func (s *Stream) Flush() error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// Wait waits for ch, or for a tick, when it calls away (if not nil:
// whatever ch stands for stops counting on this wait, see
// events.Reader.Leave) and writes line (a heartbeat: it keeps the
// connection and finds a client that went away). It returns false when
// ctx ends or the heartbeat cannot be written, else true: then the caller
// looks for what is new, and waits again.
func (s *Stream) Wait(ctx context.Context, ch <-chan struct{}, away func(), tick <-chan time.Time, line []byte) bool {
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	case <-tick:
		if away != nil {
			away()
		}
		_, err := s.Write(line)
		return err == nil && s.Flush() == nil
	}
}
