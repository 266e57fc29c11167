package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tend-sh/tend/internal/api"
)

func intp(n int) *int { return &n }

// TestOperations: each client call reaches the matching controller method
// with its arguments, and results come back whole.
func TestOperations(t *testing.T) {
	stats := api.Stats{MemberID: "m1", PID: 42, Ready: true, Healthy: false, Reasons: []string{"disk"},
		Services: 2, ByState: map[string]int{"up": 1, "down": 1}, StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	statuses := []api.ServiceStatus{{Ident: "core/redis/7/1", Type: "standalone", DesiredState: "up", State: "up",
		Elapsed: 12.5, PID: 99, ServiceGroup: "redis.default", Health: api.HealthOK, Restarts: 3}}
	f := &fake{fn: func(_ context.Context, c call, _ func(string)) (any, error) {
		switch c.op {
		case "status":
			return statuses, nil
		case "stats":
			return stats, nil
		}
		return nil, nil
	}}
	c := NewClient(serve(t, f), []byte(testSecret))
	ctx := testCtx(t)
	load := api.LoadRequest{Pkg: "core/redis", Group: "prod", Topology: "leader", Strategy: "rolling",
		UpdateCondition: "latest", Binds: []string{"db:pg.default"}, BindingMode: "relaxed",
		HealthCheckInterval: intp(10), ShutdownTimeout: intp(0), Force: true, Wait: true}

	if err := c.Load(ctx, load, nil); err != nil {
		t.Fatal(err)
	}
	for _, op := range []func(context.Context, string, io.Writer) error{c.Unload, c.Start, c.Stop} {
		if err := op(ctx, "core/redis/7", nil); err != nil {
			t.Fatal(err)
		}
	}
	gotStatus, err := c.Status(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status(ctx, "core/redis x&y"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetHealth(ctx, true, "maintenance window"); err != nil {
		t.Fatal(err)
	}
	gotStats, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Term(ctx); err != nil {
		t.Fatal(err)
	}

	want := []call{
		{"load", load},
		{"unload", "core/redis/7"}, {"start", "core/redis/7"}, {"stop", "core/redis/7"},
		{"status", ""}, {"status", "core/redis x&y"},
		{"health", healthRequest{Unhealthy: true, Reason: "maintenance window"}},
		{"stats", nil}, {"term", nil},
	}
	if diff := cmp.Diff(want, f.Calls(), cmp.AllowUnexported(call{})); diff != "" {
		t.Errorf("controller calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(statuses, gotStatus); diff != "" {
		t.Errorf("Status (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(stats, gotStats); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

// TestErrorKindsRoundTrip: every kind reaches the client as an *api.Error
// of that kind, whether it happened before any progress (HTTP status of the
// kind) or after (200, then the error line).
func TestErrorKindsRoundTrip(t *testing.T) {
	kinds := []struct {
		kind   api.ErrorKind
		status int
	}{
		{api.NotFound, 404}, {api.Conflict, 409}, {api.BadRequest, 400},
		{api.Unauthorized, 401}, {api.TooLarge, 413}, {api.Internal, 500},
	}
	var failWith error
	var withProgress bool
	f := &fake{fn: func(_ context.Context, _ call, progress func(string)) (any, error) {
		if withProgress {
			progress("working")
		}
		return nil, failWith
	}}
	addr := serve(t, f)
	c := NewClient(addr, []byte(testSecret))
	for _, k := range kinds {
		for _, withProgress = range []bool{false, true} {
			name := fmt.Sprintf("%s progress=%v", k.kind, withProgress)
			failWith = fmt.Errorf("loading core/redis: %w", api.Errorf(k.kind, "it went %s", k.kind))

			var out strings.Builder
			err := c.Load(testCtx(t), api.LoadRequest{Pkg: "core/redis"}, &out)
			var e *api.Error
			if !errors.As(err, &e) || e.Kind != k.kind {
				t.Errorf("%s: Load = %v (%T); want *api.Error of kind %s", name, err, err, k.kind)
				continue
			}
			if want := "loading core/redis: it went " + string(k.kind); e.Msg != want {
				t.Errorf("%s: message %q; want %q", name, e.Msg, want)
			}
			if errors.Is(err, ErrUnreachable) {
				t.Errorf("%s: typed error also reads as unreachable", name)
			}

			resp, _ := rawBody(t, addr, "POST /v1/svc/load HTTP/1.1\r\nAuthorization: Bearer "+testSecret, `{"pkg":"x/y"}`)
			want := k.status
			if withProgress {
				want = 200
			}
			if resp.StatusCode != want {
				t.Errorf("%s: HTTP status %d; want %d", name, resp.StatusCode, want)
			}
		}
	}

	// An error without a kind is internal, its message kept.
	withProgress, failWith = false, errors.New("disk on fire")
	err := c.Stop(testCtx(t), "core/redis", nil)
	if api.KindOf(err) != api.Internal || err.Error() != "disk on fire" {
		t.Errorf("plain error: %v (kind %s); want internal, same message", err, api.KindOf(err))
	}
}

func TestBadRequests(t *testing.T) {
	f := &fake{}
	addr := serve(t, f)
	auth := "\r\nAuthorization: Bearer " + testSecret
	tests := []struct {
		name, head, body string
		status           int
		kind             api.ErrorKind
		msg              string
	}{
		{"unknown path", "POST /v1/svc/reload HTTP/1.1" + auth, "", 404, api.NotFound,
			"no operation /v1/svc/reload on this supervisor"},
		{"wrong method", "GET /v1/svc/load HTTP/1.1" + auth, "", 405, api.BadRequest,
			"GET /v1/svc/load: use POST"},
		{"malformed JSON", "POST /v1/svc/load HTTP/1.1" + auth, `{"pkg":`, 400, api.BadRequest,
			"request body: unexpected EOF"},
		{"unknown field", "POST /v1/svc/stop HTTP/1.1" + auth, `{"pkg":"a/b","timeout":3}`, 400, api.BadRequest,
			`request body: json: unknown field "timeout"`},
		{"two values", "POST /v1/svc/stop HTTP/1.1" + auth, `{"pkg":"a/b"} {}`, 400, api.BadRequest,
			"request body: more than one JSON value"},
		{"missing pkg", "POST /v1/svc/start HTTP/1.1" + auth, `{}`, 400, api.BadRequest, "pkg is required"},
		{"load without pkg", "POST /v1/svc/load HTTP/1.1" + auth, ``, 400, api.BadRequest, "pkg is required"},
		{"long reason", "POST /v1/sup/health HTTP/1.1" + auth, `{"unhealthy":true,"reason":"` + strings.Repeat("x", 2000) + `"}`,
			400, api.BadRequest, "reason longer than 1024 bytes"},
		{"body over 1 MiB", "POST /v1/svc/load HTTP/1.1" + auth, `{"pkg":"a/b","group":"` + strings.Repeat("x", 1<<20) + `"}`,
			413, api.TooLarge, "request body larger than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := rawBody(t, addr, tt.head, tt.body)
			want := fmt.Sprintf(`{"error":{"kind":%q,"message":%q}}`+"\n", tt.kind, tt.msg)
			if resp.StatusCode != tt.status || body != want {
				t.Errorf("got %d %s\nwant %d %s", resp.StatusCode, body, tt.status, want)
			}
		})
	}
	if len(f.Calls()) != 0 {
		t.Errorf("controller called for bad requests: %v", f.Calls())
	}

	// The body limit through the client.
	err := NewClient(addr, []byte(testSecret)).Load(testCtx(t), api.LoadRequest{Pkg: "a/b", Binds: []string{strings.Repeat("x", 1<<20)}}, nil)
	if api.KindOf(err) != api.TooLarge {
		t.Errorf("oversized Load = %v; want too_large", err)
	}
	if resp, _ := rawBody(t, addr, "POST /v1/svc/load HTTP/1.1"+auth, `{"pkg":"a/b"}`); resp.StatusCode != http.StatusOK {
		t.Errorf("server unusable after an oversized body: %d", resp.StatusCode)
	}
}

func TestPanicIsInternalError(t *testing.T) {
	f := &fake{fn: func(context.Context, call, func(string)) (any, error) { panic("boom") }}
	c := NewClient(serve(t, f), []byte(testSecret))
	err := c.Start(testCtx(t), "core/redis", nil)
	if api.KindOf(err) != api.Internal || !strings.Contains(err.Error(), "boom") {
		t.Errorf("Start with a panicking controller = %v; want an internal error", err)
	}
	if err := c.Term(testCtx(t)); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("server did not survive the panic: %v", err)
	}
}

func TestNewServer(t *testing.T) {
	s := NewServer(http.NotFoundHandler())
	if s.ReadHeaderTimeout == 0 || s.IdleTimeout == 0 || s.MaxHeaderBytes == 0 {
		t.Errorf("NewServer limits: %+v", s)
	}
	if s.WriteTimeout != 0 || s.ReadTimeout != 0 {
		t.Errorf("NewServer sets ReadTimeout %v / WriteTimeout %v; both would cut streaming loads", s.ReadTimeout, s.WriteTimeout)
	}
}
