package ctl

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tend-sh/tend/internal/api"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="

// fake is a Controller whose every method reports the call and then runs fn,
// so each test decides what an operation does.
type fake struct {
	mu    sync.Mutex
	calls []call
	fn    func(ctx context.Context, c call, progress func(string)) (any, error)
}

type call struct {
	op  string
	arg any
}

func (f *fake) do(ctx context.Context, op string, arg any, progress func(string)) (any, error) {
	c := call{op, arg}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	fn := f.fn
	f.mu.Unlock()
	if fn == nil {
		return nil, nil
	}
	return fn(ctx, c, progress)
}

func (f *fake) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fake) Load(ctx context.Context, req api.LoadRequest, p func(string)) error {
	_, err := f.do(ctx, "load", req, p)
	return err
}
func (f *fake) Unload(ctx context.Context, pkg string, p func(string)) error {
	_, err := f.do(ctx, "unload", pkg, p)
	return err
}
func (f *fake) Start(ctx context.Context, pkg string, p func(string)) error {
	_, err := f.do(ctx, "start", pkg, p)
	return err
}
func (f *fake) Stop(ctx context.Context, pkg string, p func(string)) error {
	_, err := f.do(ctx, "stop", pkg, p)
	return err
}
func (f *fake) Restart(ctx context.Context, pkg string, p func(string)) error {
	_, err := f.do(ctx, "restart", pkg, p)
	return err
}
func (f *fake) Signal(ctx context.Context, pkg, sig string, p func(string)) error {
	_, err := f.do(ctx, "signal", signalRequest{pkg, sig}, p)
	return err
}
func (f *fake) Status(ctx context.Context, pkg string) ([]api.ServiceStatus, error) {
	r, err := f.do(ctx, "status", pkg, func(string) {})
	st, _ := r.([]api.ServiceStatus)
	return st, err
}
func (f *fake) SetHealth(ctx context.Context, unhealthy bool, reason string) error {
	_, err := f.do(ctx, "health", healthRequest{unhealthy, reason}, func(string) {})
	return err
}
func (f *fake) Stats(ctx context.Context) (api.Stats, error) {
	r, err := f.do(ctx, "stats", nil, func(string) {})
	st, _ := r.(api.Stats)
	return st, err
}
func (f *fake) ConfigApply(ctx context.Context, req api.ConfigApply, p func(string)) error {
	_, err := f.do(ctx, "config apply", req, p)
	return err
}
func (f *fake) FileUpload(ctx context.Context, req api.FileUpload, p func(string)) error {
	_, err := f.do(ctx, "file upload", req, p)
	return err
}
func (f *fake) Update(ctx context.Context, req api.UpdateRequest, p func(string)) error {
	_, err := f.do(ctx, "update", req, p)
	return err
}
func (f *fake) Depart(ctx context.Context, memberID string, p func(string)) error {
	_, err := f.do(ctx, "depart", memberID, p)
	return err
}
func (f *fake) Handover(ctx context.Context, binary string, progress func(string)) error {
	return nil
}

func (f *fake) Term(ctx context.Context) error {
	_, err := f.do(ctx, "term", nil, func(string) {})
	return err
}

var _ Controller = (*fake)(nil)

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serve runs the gateway on a real TCP listener on 127.0.0.1 for the
// duration of the test and returns its address. The server's log is checked
// at the end for the secret.
func serve(t *testing.T, c Controller) string {
	t.Helper()
	return serveTLS(t, c, nil)
}

// serveTLS is serve over TLS with cfg (nil: plain TCP), as `sup run` wires
// it: the listener wraps the TCP one, the server keeps its timeouts.
func serveTLS(t *testing.T, c Controller, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	srv := NewServer(NewHandler(c, []byte(testSecret), slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	srv.ErrorLog = log.New(&logs, "", 0) // handshake failures, not the test's stderr
	if cfg != nil {
		srv.TLSConfig = cfg
		ln = tls.NewListener(ln, cfg)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		if bytes.Contains([]byte(logs.String()), []byte(testSecret)) {
			t.Errorf("the server logged the secret:\n%s", logs.String())
		}
	})
	return ln.Addr().String()
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
