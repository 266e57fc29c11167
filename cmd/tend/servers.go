package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// servers are the supervisor's listeners and the HTTP servers on them. A
// hand-over stops serving them while keeping their sockets
// (dupListeners, shutdown), and serves them again if it fails (restart).
type servers struct {
	mu   sync.Mutex
	raw  *rawListeners
	lns  []listener
	make func(*rawListeners) ([]listener, error) // serveListeners
	wg   *sync.WaitGroup
	log  *slog.Logger
	term func()
	// stopped is closed by shutdown: listeners still held (serve) give up.
	stopped chan struct{}
	// draining: drain closed the listeners, so Serve's error is expected.
	draining bool
}

// current is the listeners served now.
func (s *servers) current() []listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lns
}

// serve starts a goroutine per listener on s.wg. With hold, every
// listener but the control gateway's waits for it to close first: after
// a hand-over, requests wait in the sockets' backlogs until the services
// are adopted, rather than being answered "not ready".
func (s *servers) serve(hold <-chan struct{}) {
	s.mu.Lock()
	if s.stopped == nil {
		s.stopped = make(chan struct{})
	}
	stopped := s.stopped
	s.mu.Unlock()
	for _, l := range s.current() {
		s.wg.Go(func() {
			if hold != nil && l.name != "ctl" {
				select {
				case <-hold:
				case <-stopped:
					l.ln.Close() // never served: Shutdown did not know it
					return
				}
			}
			err := l.srv.Serve(l.ln)
			s.mu.Lock()
			draining := s.draining
			s.mu.Unlock()
			if err != nil && !errors.Is(err, http.ErrServerClosed) && !(draining && errors.Is(err, net.ErrClosed)) {
				s.log.Error("listener failed; shutting down", "listener", l.name, "err", err)
				s.term()
			}
		})
	}
}

// shutdown stops every server: no more accepts, requests in flight
// finish (within d, after which they are cut), idle connections close.
func (s *servers) shutdown(d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	s.mu.Lock()
	if s.stopped != nil {
		close(s.stopped)
		s.stopped = nil
	}
	s.mu.Unlock()
	for _, l := range s.current() {
		if l.srv.Shutdown(ctx) != nil {
			l.srv.Close()
		}
	}
}

// drain stops accepting on every listener and returns once every
// connection it had is closed (within d, after which they are cut). Not
// http.Server.Shutdown: that drops, unanswered, a request read after it
// began, and a client that connected a moment before would see its
// connection closed. Here every request read is answered, each with
// "Connection: close", and connections not yet accepted wait in the
// sockets' backlogs (the caller holds a duplicate of each).
func (s *servers) drain(d time.Duration) {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	for _, l := range s.current() {
		l.srv.SetKeepAlivesEnabled(false) // closes the idle connections too
		l.ln.Close()
	}
	deadline := time.After(d)
	for _, l := range s.current() {
		select {
		case <-l.conns.idle():
		case <-deadline:
		}
		l.srv.Close()
	}
}

// connCount counts a server's open connections (its ConnState hook).
type connCount struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed while n is 0
}

func newConnCount() *connCount {
	z := make(chan struct{})
	close(z)
	return &connCount{zero: z}
}

func (c *connCount) track(_ net.Conn, st http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch st {
	case http.StateNew:
		if c.n == 0 {
			c.zero = make(chan struct{})
		}
		c.n++
	case http.StateClosed, http.StateHijacked:
		c.n--
		if c.n == 0 {
			close(c.zero)
		}
	}
}

// idle is closed once no connection is open.
func (c *connCount) idle() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.zero
}

// dupListeners duplicates each listening socket, so it outlives its
// listener's close: connections arriving meanwhile wait in its backlog.
func (s *servers) dupListeners() (map[string]*os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	files := map[string]*os.File{}
	for name, ln := range map[string]net.Listener{"ctl": s.raw.ctl, "http": s.raw.http, "monitor": s.raw.monitor} {
		if ln == nil {
			continue
		}
		tl, ok := ln.(*net.TCPListener)
		if !ok {
			closeFiles(files)
			return nil, fmt.Errorf("%s listener: not TCP", name)
		}
		f, err := tl.File()
		if err != nil {
			closeFiles(files)
			return nil, fmt.Errorf("%s listener: %w", name, err)
		}
		files[name] = f
	}
	return files, nil
}

// restart serves the sockets of files again, after a failed hand-over.
func (s *servers) restart(files map[string]*os.File) error {
	defer closeFiles(files)
	raw := &rawListeners{}
	for _, name := range []string{"ctl", "http", "monitor"} { // not the gossip sockets: the ring still serves its own
		f, ok := files[name]
		if !ok {
			continue
		}
		ln, err := net.FileListener(f)
		if err != nil {
			closeRaw(raw)
			return fmt.Errorf("%s listener: %w", name, err)
		}
		raw.set(name, ln)
	}
	lns, err := s.make(raw)
	if err != nil {
		closeRaw(raw)
		return err
	}
	s.mu.Lock()
	s.raw, s.lns, s.draining = raw, lns, false
	s.mu.Unlock()
	s.serve(nil)
	return nil
}

func closeFiles(files map[string]*os.File) {
	for _, f := range files {
		f.Close()
	}
}
