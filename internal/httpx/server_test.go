package httpx

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNewServerLimits(t *testing.T) {
	var buf bytes.Buffer
	srv := NewServer(okHandler(), slog.New(slog.NewTextHandler(&buf, nil)))
	if srv.ReadHeaderTimeout != 5*time.Second || srv.ReadTimeout != 10*time.Second ||
		srv.WriteTimeout != 30*time.Second || srv.IdleTimeout != 60*time.Second ||
		srv.MaxHeaderBytes != HeaderLimit {
		t.Errorf("limits: %+v", srv)
	}
	srv.ErrorLog.Print("http: TLS handshake error")
	if !bytes.Contains(buf.Bytes(), []byte("level=WARN")) || !bytes.Contains(buf.Bytes(), []byte("TLS handshake error")) {
		t.Errorf("ErrorLog did not reach slog: %q", buf.String())
	}
}

// Headers over the documented 16 KiB get 431; under it they are served.
// net/http on its own would take up to 20 KiB.
func TestHeaderLimit(t *testing.T) {
	srv := NewServer(okHandler(), slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	for _, tt := range []struct {
		size int
		want int
	}{{HeaderLimit - 200, 200}, {HeaderLimit, 200}, {HeaderLimit + 1, 431}, {HeaderLimit + 3<<10, 431}, {HeaderLimit + 8<<10, 431}} {
		if got := headerRequest(t, ln.Addr().String(), tt.size); got != tt.want {
			t.Errorf("request of %d header bytes: %d, want %d", tt.size, got, tt.want)
		}
	}
}

// headerRequest sends a GET whose request line and headers are size bytes
// and returns the status.
func headerRequest(t *testing.T, addr string, size int) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	head := "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: "
	pad := size - len(head) - len("\r\n\r\n")
	req := head + strings.Repeat("a", pad) + "\r\n\r\n"
	if len(req) != size {
		t.Fatalf("built %d bytes, want %d", len(req), size)
	}
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Close {
		// Wait for the server to close its side, so its goroutine is done.
		io.Copy(io.Discard, c)
	}
	return resp.StatusCode
}
