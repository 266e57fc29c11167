package ctl

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// lineWatcher is the CLI's terminal: it records progress and signals the
// first line.
type lineWatcher struct {
	mu    sync.Mutex
	b     strings.Builder
	first chan struct{}
	once  sync.Once
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.once.Do(func() { close(w.first) })
	return w.b.Write(p)
}

func (w *lineWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestProgressArrivesBeforeTheEnd proves that progress is streamed: the
// operation does not finish until the client has seen its first line.
func TestProgressArrivesBeforeTheEnd(t *testing.T) {
	release := make(chan struct{})
	var finished atomic.Bool
	f := &fake{fn: func(ctx context.Context, c call, progress func(string)) (any, error) {
		progress("resolving core/redis")
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		for i := range 50 {
			progress(fmt.Sprintf("step %d", i))
		}
		finished.Store(true)
		return nil, nil
	}}
	c := NewClient(serve(t, f), []byte(testSecret))

	w := &lineWatcher{first: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- c.Load(testCtx(t), api.LoadRequest{Pkg: "core/redis"}, w) }()

	select {
	case <-w.first:
	case err := <-done:
		t.Fatalf("Load returned %v before any progress was seen", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no progress line within 5s while the operation was blocked")
	}
	if finished.Load() {
		t.Fatal("operation finished before the first line was seen")
	}
	if got := w.String(); got != "resolving core/redis\n" {
		t.Errorf("first progress %q", got)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Load: %v", err)
	}
	var want strings.Builder
	want.WriteString("resolving core/redis\n")
	for i := range 50 {
		fmt.Fprintf(&want, "step %d\n", i)
	}
	if got := w.String(); got != want.String() {
		t.Errorf("progress, in order:\n got %q\nwant %q", got, want.String())
	}
}

// TestWireFormat pins the bytes on the wire: NDJSON, one final line.
func TestWireFormat(t *testing.T) {
	f := &fake{fn: func(_ context.Context, c call, progress func(string)) (any, error) {
		switch c.op {
		case "start":
			progress("starting")
			return nil, nil
		case "stop":
			progress("stopping")
			return nil, api.Errorf(api.NotFound, "service redis is not loaded")
		case "status":
			if c.arg == "core/redis" {
				return []api.ServiceStatus{{Ident: "core/redis/7/1", State: "up"}}, nil
			}
			return nil, nil // no services: the gateway sends [], not null
		}
		return nil, nil
	}}
	addr := serve(t, f)
	auth := "\r\nAuthorization: Bearer " + testSecret
	body := `{"pkg":"core/redis"}`
	tests := []struct {
		head, body string
		status     int
		want       string
	}{
		{"POST /v1/svc/start HTTP/1.1" + auth, body, 200,
			`{"progress":"starting"}` + "\n" + `{"ok":true,"result":null}` + "\n"},
		{"POST /v1/svc/stop HTTP/1.1" + auth, body, 200,
			`{"progress":"stopping"}` + "\n" + `{"error":{"kind":"not_found","message":"service redis is not loaded"}}` + "\n"},
		{"GET /v1/svc/status?pkg=core/redis HTTP/1.1" + auth, "", 200,
			`{"ok":true,"result":[{"ident":"core/redis/7/1","type":"","desired_state":"","state":"up","elapsed_s":0,"service_group":"","health":"","restart_count":0}]}` + "\n"},
		{"GET /v1/svc/status HTTP/1.1" + auth, "", 200, `{"ok":true,"result":[]}` + "\n"},
	}
	for _, tt := range tests {
		resp, got := rawBody(t, addr, tt.head, tt.body)
		if resp.StatusCode != tt.status || got != tt.want {
			t.Errorf("%s:\n got %d %s\nwant %d %s", tt.head, resp.StatusCode, got, tt.status, tt.want)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
			t.Errorf("%s: Content-Type %q", tt.head, ct)
		}
	}
}

// rawBody sends a request with a body and returns the response and its body.
func rawBody(t *testing.T, addr, head, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), strings.Fields(head)[0], "http://"+addr+strings.Fields(head)[1], strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range strings.Split(head, "\r\n")[1:] {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestProgressAfterReturn: a controller that keeps the progress function
// and calls it later, from other goroutines, must not disturb anything.
func TestProgressAfterReturn(t *testing.T) {
	var kept func(string)
	var wg sync.WaitGroup
	f := &fake{fn: func(_ context.Context, _ call, progress func(string)) (any, error) {
		kept = progress
		for i := range 8 {
			wg.Go(func() { progress(fmt.Sprintf("from goroutine %d", i)) })
		}
		wg.Wait()
		return nil, nil
	}}
	c := NewClient(serve(t, f), []byte(testSecret))
	var out strings.Builder
	if err := c.Start(testCtx(t), "core/redis", &out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 8 {
		t.Errorf("%d progress lines; want 8:\n%s", n, out.String())
	}
	kept("too late") // must be a no-op, not a write on a finished response
}

// TestSlowClientDoesNotBlockController: progress never waits for the
// network; lines beyond the queue are counted, not held.
func TestSlowClientDoesNotBlockController(t *testing.T) {
	w := &blockingWriter{header: http.Header{}, unblock: make(chan struct{})}
	s := newStream(w)
	start := time.Now()
	for i := range maxQueued * 3 {
		s.progress(fmt.Sprintf("line %d", i))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("progress took %v with a stuck client", d)
	}
	close(w.unblock)
	s.finish(nil, nil)
	if !strings.Contains(w.body.String(), "progress lines dropped") || !strings.HasSuffix(w.body.String(), `{"ok":true,"result":null}`+"\n") {
		t.Errorf("body ends %q", tail(w.body.String()))
	}
}

func tail(s string) string {
	if len(s) > 200 {
		return s[len(s)-200:]
	}
	return s
}

// blockingWriter stalls every write until unblock is closed, like a client
// that stopped reading.
type blockingWriter struct {
	header  http.Header
	unblock chan struct{}
	mu      sync.Mutex
	body    strings.Builder
}

func (w *blockingWriter) Header() http.Header { return w.header }
func (w *blockingWriter) WriteHeader(int)     {}
func (w *blockingWriter) Write(b []byte) (int, error) {
	<-w.unblock
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.body.Write(b)
}
