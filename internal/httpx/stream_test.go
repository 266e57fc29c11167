package httpx

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// streamServer serves a response of n lines, one every gap, through
// Stream (or plain writes), on a server with tend's settings but read and
// write timeouts of limit.
func streamServer(t *testing.T, limit time.Duration, n int, gap time.Duration, useStream bool) *httptest.Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var out io.Writer = w
		flush := func() error { return http.NewResponseController(w).Flush() }
		if useStream {
			s := NewStream(w, r)
			out, flush = s, s.Flush
		}
		for i := range n {
			if _, err := fmt.Fprintf(out, "line %d\n", i); err != nil {
				return
			}
			if flush() != nil {
				return
			}
			select {
			case <-time.After(gap): // the pace of the stream under test
			case <-r.Context().Done():
				return
			}
		}
	})
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = NewServer(h, slog.New(slog.DiscardHandler))
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = limit, limit
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func readLines(t *testing.T, url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	n := 0
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}

// A stream lasts many times the server's write and read timeouts; the
// same response written plainly is cut at the write timeout.
func TestStreamOutlivesTheServerTimeouts(t *testing.T) {
	const limit, gap, n = 150 * time.Millisecond, 20 * time.Millisecond, 40 // 800 ms
	if got, err := readLines(t, streamServer(t, limit, n, gap, true).URL); got != n {
		t.Errorf("through Stream: %d lines of %d (%v)", got, n, err)
	}
	if got, _ := readLines(t, streamServer(t, limit, n, gap, false).URL); got == n {
		t.Errorf("plain writes: all %d lines arrived; the test's write timeout does not bite", n)
	}
}

// A client that stops reading is cut once a write has waited for the
// write timeout: the handler returns.
func TestStreamCutsAClientThatDoesNotRead(t *testing.T) {
	done := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		s := NewStream(w, r)
		line := []byte(strings.Repeat("x", 64<<10) + "\n")
		for {
			if _, err := s.Write(line); err != nil {
				return
			}
		}
	})
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = NewServer(h, slog.New(slog.DiscardHandler))
	srv.Config.WriteTimeout = 200 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the handler still writes to a client that does not read")
	}
}
