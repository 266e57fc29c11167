package ctl

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// rawRequest writes head (request line and headers, without the blank line)
// and, only if sendBody, a body of n bytes, then reads the response. The
// connection is held open without a body otherwise, so a server that read
// the body before answering would hang until the deadline.
func rawRequest(t *testing.T, addr, head string, n int, sendBody bool) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	req := head + "\r\nHost: tend\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(n) + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	if sendBody {
		if _, err := conn.Write([]byte(strings.Repeat(" ", n))); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response without the body (did the server wait for it?): %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestAuthRefusedBeforeAnything(t *testing.T) {
	f := &fake{}
	addr := serve(t, f)
	tests := []struct {
		name, head string
	}{
		{"no header", "POST /v1/svc/load HTTP/1.1"},
		{"wrong secret", "POST /v1/svc/load HTTP/1.1\r\nAuthorization: Bearer wrong"},
		{"secret prefix", "POST /v1/svc/load HTTP/1.1\r\nAuthorization: Bearer " + testSecret[:10]},
		{"secret plus more", "POST /v1/svc/load HTTP/1.1\r\nAuthorization: Bearer " + testSecret + "x"},
		{"other scheme", "POST /v1/svc/load HTTP/1.1\r\nAuthorization: Basic " + testSecret},
		{"no scheme", "POST /v1/svc/load HTTP/1.1\r\nAuthorization: " + testSecret},
		{"two headers", "POST /v1/svc/load HTTP/1.1\r\nAuthorization: Bearer " + testSecret + "\r\nAuthorization: Bearer wrong"},
		{"empty bearer", "POST /v1/svc/load HTTP/1.1\r\nAuthorization: Bearer "},
		// Unauthenticated requests learn nothing of routes or methods.
		{"unknown path", "POST /v1/nope HTTP/1.1\r\nAuthorization: Bearer wrong"},
		{"wrong method", "DELETE /v1/svc/load HTTP/1.1"},
		// Nor of the body limit: 401, not 413.
		{"huge body", "POST /v1/svc/load HTTP/1.1\r\nAuthorization: Bearer wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 100
			if tt.name == "huge body" {
				n = 10 << 20
			}
			resp, body := rawRequest(t, addr, tt.head, n, false)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d; want 401", resp.StatusCode)
			}
			want := `{"error":{"kind":"unauthorized","message":"wrong or missing control-gateway secret"}}` + "\n"
			if body != want {
				t.Errorf("body %q; want %q", body, want)
			}
		})
	}
	if calls := f.Calls(); len(calls) != 0 {
		t.Errorf("controller called without the secret: %v", calls)
	}

	// The same through the client.
	err := NewClient(addr, []byte("wrong")).Load(testCtx(t), api.LoadRequest{Pkg: "core/redis"}, nil)
	var e *api.Error
	if !errors.As(err, &e) || e.Kind != api.Unauthorized {
		t.Errorf("Load with a wrong secret = %v; want an unauthorized *api.Error", err)
	}
	if errors.Is(err, ErrUnreachable) {
		t.Errorf("a refused secret is not unreachable: %v", err)
	}
	if calls := f.Calls(); len(calls) != 0 {
		t.Errorf("controller called without the secret: %v", calls)
	}
}

func TestAuthAccepted(t *testing.T) {
	f := &fake{}
	addr := serve(t, f)
	for _, h := range []string{"Bearer " + testSecret, "bearer " + testSecret, "Bearer  " + testSecret + " "} {
		resp, body := rawRequest(t, addr, "POST /v1/sup/term HTTP/1.1\r\nAuthorization: "+h, 0, true)
		if resp.StatusCode != http.StatusOK || body != `{"ok":true,"result":null}`+"\n" {
			t.Errorf("Authorization %q: %d %q; want 200 ok", h, resp.StatusCode, body)
		}
	}
}

func TestEmptySecretRefusesAll(t *testing.T) {
	f := &fake{}
	h := NewHandler(f, nil, nil)
	for _, auth := range []string{"", "Bearer ", "Bearer x"} {
		r, _ := http.NewRequest(http.MethodPost, "/v1/sup/term", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := &recorder{header: http.Header{}}
		h.ServeHTTP(w, r)
		if w.status != http.StatusUnauthorized {
			t.Errorf("Authorization %q with no secret configured: %d; want 401", auth, w.status)
		}
	}
	if len(f.Calls()) != 0 {
		t.Errorf("controller called: %v", f.Calls())
	}
}

// recorder is the least of an http.ResponseWriter, for handler-only tests.
type recorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int)   { r.status = s }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
