package ctl

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// An authenticated request whose body never arrives is answered 408 once
// the body's time is up, instead of holding its connection for good.
func TestBodyNeverSentTimesOut(t *testing.T) {
	f := &fake{}
	h := NewHandler(f, []byte(testSecret), nil).(*handler)
	h.bodyTimeout = 200 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()
	resp, body := rawRequest(t, ln.Addr().String(), "POST /v1/svc/load HTTP/1.1\r\nAuthorization: Bearer "+testSecret, 100, false)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(body, "not received within 200ms") {
		t.Errorf("%d %q; want 408", resp.StatusCode, body)
	}
	if len(f.Calls()) != 0 {
		t.Errorf("controller called without a body: %v", f.Calls())
	}
}

// A client hammering with a wrong secret gets a log line a second, each
// saying how many refusals it stands for.
func TestRefusalsLoggedAtBoundedRate(t *testing.T) {
	var logs syncBuffer
	now := time.Unix(1e9, 0)
	h := NewHandler(&fake{}, []byte(testSecret), slog.New(slog.NewTextHandler(&logs, nil))).(*handler)
	h.refused.now = func() time.Time { return now }
	refuse := func(n int) {
		for range n {
			r, _ := http.NewRequest(http.MethodPost, "/v1/sup/term", nil)
			r.Header.Set("Authorization", "Bearer wrong")
			w := &recorder{header: http.Header{}}
			h.ServeHTTP(w, r)
			if w.status != http.StatusUnauthorized {
				t.Fatalf("status %d", w.status)
			}
		}
	}
	refuse(500)
	if n := strings.Count(logs.String(), "request refused"); n != 1 {
		t.Fatalf("%d lines for 500 refusals in the same second:\n%s", n, logs.String())
	}
	now = now.Add(999 * time.Millisecond)
	refuse(10)
	now = now.Add(time.Millisecond)
	refuse(1)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "suppressed=0") || !strings.Contains(lines[1], "suppressed=509") {
		t.Errorf("log:\n%s", logs.String())
	}
}

// A file name no member could write is a bad request, refused before the
// supervisor is asked.
func TestFileUploadBadNameIsBadRequest(t *testing.T) {
	f := &fake{}
	c := NewClient(serve(t, f), []byte(testSecret))
	for _, name := range []string{"nul\x00", "two\nlines", strings.Repeat("n", 256), "a/b", ".."} {
		err := c.FileUpload(testCtx(t), api.FileUpload{ServiceGroup: "web.default", Version: 1, Filename: name}, nil)
		if api.KindOf(err) != api.BadRequest {
			t.Errorf("file name %q: %v; want a bad request", name, err)
		}
	}
	if len(f.Calls()) != 0 {
		t.Errorf("controller called: %v", f.Calls())
	}
	if err := c.FileUpload(testCtx(t), api.FileUpload{ServiceGroup: "web.default", Version: 1, Filename: "app.conf"}, nil); err != nil {
		t.Errorf("good name: %v", err)
	}
}
