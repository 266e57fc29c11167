package ctl

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// closedAddr returns an address on which nothing listens.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// fakePeer listens and hands each connection to handle, for servers that
// misbehave in ways a real one never would.
func fakePeer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				handle(conn)
			})
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// readRequest reads the request head, so the client is done sending.
func readRequest(conn net.Conn) {
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	var got strings.Builder
	for !strings.Contains(got.String(), "\r\n\r\n") {
		n, err := conn.Read(buf)
		if err != nil {
			return
		}
		got.Write(buf[:n])
	}
}

func TestUnreachable(t *testing.T) {
	tests := []struct {
		name string
		addr func(t *testing.T) string
		ctx  func(t *testing.T) context.Context
		want string // in the message
	}{
		{"connection refused", closedAddr, testCtx, "connection refused"},
		{"no answer before the deadline", func(t *testing.T) string {
			return fakePeer(t, func(c net.Conn) { readRequest(c); _, _ = io.Copy(io.Discard, c) }) // until the client hangs up
		}, func(t *testing.T) context.Context {
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			t.Cleanup(cancel)
			return ctx
		}, "deadline exceeded"},
		{"closed without answering", func(t *testing.T) string {
			return fakePeer(t, readRequest)
		}, testCtx, "EOF"},
		{"lost mid-stream", func(t *testing.T) string {
			return fakePeer(t, func(c net.Conn) {
				readRequest(c)
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n\r\n"+`{"progress":"installing"}`+"\n")
			})
		}, testCtx, "connection lost before the operation finished (its outcome is unknown): unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := tt.addr(t)
			var progress strings.Builder
			err := NewClient(addr, []byte(testSecret)).Load(tt.ctx(t), api.LoadRequest{Pkg: "core/redis"}, &progress)
			if !errors.Is(err, ErrUnreachable) {
				t.Fatalf("Load = %v; want ErrUnreachable", err)
			}
			if !strings.HasPrefix(err.Error(), "supervisor not reachable at "+addr+": ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("message %q; want it to name %s and %q", err, addr, tt.want)
			}
		})
	}
}

func TestNotUnreachable(t *testing.T) {
	// The caller giving up is not the supervisor's fault.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := NewClient(closedAddr(t), []byte(testSecret)).Term(ctx)
	if errors.Is(err, ErrUnreachable) || !errors.Is(err, context.Canceled) {
		t.Errorf("Term with a canceled context = %v; want context.Canceled only", err)
	}

	// Something that is not a supervisor answers: a typed error from the
	// status, not "unreachable".
	addr := fakePeer(t, func(c net.Conn) {
		readRequest(c)
		_, _ = io.WriteString(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot here\n")
	})
	err = NewClient(addr, []byte(testSecret)).Term(testCtx(t))
	if api.KindOf(err) != api.NotFound || errors.Is(err, ErrUnreachable) {
		t.Errorf("Term against a plain 404 = %v; want not_found", err)
	}

	// A secret a header cannot carry is refused before dialing.
	err = NewClient(closedAddr(t), []byte("two words")).Term(testCtx(t))
	if err == nil || errors.Is(err, ErrUnreachable) {
		t.Errorf("Term with a bad secret = %v; want a plain error", err)
	}
}

func TestClientDefaultPort(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1":      "127.0.0.1:9632",
		"localhost:7000": "localhost:7000",
		"::1":            "[::1]:9632",
		"[::1]":          "[::1]:9632",
		"[::1]:7000":     "[::1]:7000",
	} {
		if got := NewClient(in, nil).addr; got != want {
			t.Errorf("NewClient(%q).addr = %q; want %q", in, got, want)
		}
	}
}
