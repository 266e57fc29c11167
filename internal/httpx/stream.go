package httpx

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"syscall"
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
//
// Over plain TCP and HTTP/1.1, on a server made by NewServer, a Stream
// writes its body to the connection itself, framed in HTTP/1.1 chunks
// as net/http would, after net/http has sent the head: the server's
// low-priority writer (fanOut) sends each frame, so that fanning an
// event out to a thousand followers takes the CPU only when the
// gateway's requests do not want it. The connection stays net/http's
// (not hijacked): it still ends the response with the last chunk, the
// server's Shutdown and Close still count it, and the request's context
// still ends when the client hangs up. TLS connections, HTTP/1.0 and HTTP/2 keep the
// ordinary path through the ResponseWriter.
//
// A stream that is up to date with what it follows parks (Park) while
// it waits: then the writer thread writes what comes next to it too,
// encoded once for every stream parked on the same Feed, and its
// goroutine sleeps until something only it can do (finish a write the
// socket did not take, a heartbeat, the client leaving).
type Stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration

	// The direct path: nil fan means the ordinary one.
	fan      *fanOut
	conn     net.Conn
	job      fanJob
	headSent bool
	err      error  // the first write that failed: the connection is closed
	park     parked // while parked on a feed (Park)
}

// NewStream prepares w, the response to r, for a long-lived response.
// Call it after WriteHeader (without a Content-Length) and before the
// first write.
func NewStream(w http.ResponseWriter, r *http.Request) *Stream {
	s := &Stream{w: w, rc: http.NewResponseController(w), timeout: writeTimeout}
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.WriteTimeout > 0 {
		s.timeout = srv.WriteTimeout
	}
	_ = s.rc.SetReadDeadline(time.Time{}) // unsupported by a test recorder: fine
	s.direct(w, r)
	return s
}

// direct sets the stream up to write to its connection itself, when it
// can: HTTP/1.1, where net/http chunks a body of no declared length, and
// a connection with a file descriptor (plain TCP or a Unix socket; not
// TLS).
func (s *Stream) direct(w http.ResponseWriter, r *http.Request) {
	ci, ok := r.Context().Value(connKey{}).(*connInfo)
	h := w.Header()
	if !ok || r.ProtoMajor != 1 || r.ProtoMinor < 1 || r.Method == http.MethodHead ||
		h.Get("Content-Length") != "" || h.Get("Transfer-Encoding") != "" {
		return
	}
	sc, ok := ci.conn.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	s.fan, s.conn = ci.fan, ci.conn
	s.job = fanJob{conn: ci.conn, rc: raw, timeout: s.timeout, done: make(chan struct{}, 1)}
}

// Write writes p with a deadline of its own.
func (s *Stream) Write(p []byte) (int, error) {
	if s.fan != nil {
		return s.writeDirect(p)
	}
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	return s.w.Write(p)
}

// writeDirect sends p as one chunk: first what the low-priority writer
// can send without waiting, then, when the client's socket is full, the
// rest from this goroutine, bounded by the deadline.
func (s *Stream) writeDirect(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if len(p) == 0 {
		return 0, nil // an empty chunk would end the body
	}
	if !s.headSent {
		if err := s.sendHead(); err != nil {
			return 0, err
		}
	}
	frame := strconv.AppendUint(s.job.p[:0], uint64(len(p)), 16)
	frame = append(frame, "\r\n"...)
	frame = append(frame, p...)
	frame = append(frame, "\r\n"...)
	s.job.p = frame
	s.fan.write(&s.job) // it sets the write deadline
	n, err := s.job.n, s.job.err
	if err == nil && n < len(frame) {
		_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
		_, err = s.conn.Write(frame[n:])
	}
	if cap(frame) > 64<<10 {
		s.job.p = nil // do not keep a large frame's buffer while idle
	}
	if err != nil {
		return 0, s.fail(err)
	}
	return len(p), nil
}

// sendHead sends the response's head: net/http holds it, with
// Transfer-Encoding: chunked, in its buffer, and it goes first.
func (s *Stream) sendHead() error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	if err := s.rc.Flush(); err != nil {
		return s.fail(err)
	}
	s.headSent = true
	return nil
}

// fail closes the connection after a direct write failed, perhaps in
// the middle of a chunk: nothing may follow it on the connection.
func (s *Stream) fail(err error) error {
	s.err = err
	_ = s.conn.Close()
	return err
}

// Flush sends what is buffered, with a deadline of its own. A writer that
// cannot flush is not an error: it delivers, only later.
func (s *Stream) Flush() error {
	if s.fan != nil {
		return s.err // each write was sent
	}
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
