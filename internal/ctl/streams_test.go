package ctl

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/events"
)

// streamer is a Controller with feeds.
type streamer struct {
	fake
	out    *events.Broadcaster[api.LogLine]
	stream *events.Stream
}

func (s *streamer) Logs(pkg string) (events.Output, error) {
	if pkg != "web" {
		return events.Output{}, api.Errorf(api.NotFound, "service %s is not loaded", pkg)
	}
	return events.Output{Recent: s.out}, nil
}

func (s *streamer) Events() *events.Stream { return s.stream }

func newStreamer() *streamer {
	return &streamer{out: events.New[api.LogLine](events.Limits{Keep: 100}, nil, nil), stream: events.NewStream()}
}

// svc logs: the tail, then followed lines as they come, and the end of
// the call once the service goes.
func TestClientLogsTailThenFollow(t *testing.T) {
	st := newStreamer()
	for _, l := range []string{"a", "b", "c"} {
		st.out.Publish(api.LogLine{At: time.Now(), Stream: api.StreamStdout, Text: l})
	}
	c := NewClient(serve(t, st), []byte(testSecret))

	var mu sync.Mutex
	var got []string
	add := func(l api.LogLine) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, l.Stream+":"+l.Text)
	}
	lines := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(got, ",")
	}
	if err := c.Logs(testCtx(t), LogsRequest{Pkg: "web", Tail: 2}, add); err != nil {
		t.Fatal(err)
	}
	if lines() != "stdout:b,stdout:c" {
		t.Fatalf("tail 2: %s", lines())
	}

	got = nil
	done := make(chan error, 1)
	go func() { done <- c.Logs(testCtx(t), LogsRequest{Pkg: "web", Tail: 1, Follow: true}, add) }()
	// The tail is sent once the follower reads the buffer: a line
	// published after it arrives is followed.
	waitLines(t, lines, "stdout:c")
	st.out.Publish(api.LogLine{At: time.Now(), Stream: api.StreamStderr, Text: "d"})
	waitLines(t, lines, "stdout:c,stderr:d")
	st.out.Close() // the service was unloaded
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("follow ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("follow did not end when the service went")
	}
	if err := c.Logs(testCtx(t), LogsRequest{Pkg: "nope"}, add); api.KindOf(err) != api.NotFound {
		t.Errorf("an unknown service: %v", err)
	}
}

// sup events: every event kept (or those after an id), then the end.
func TestClientEventsReplay(t *testing.T) {
	st := newStreamer()
	for _, s := range []string{"a", "b", "c"} {
		st.stream.Publish(events.Event{Type: events.Control, Action: "load", Text: s})
	}
	c := NewClient(serve(t, st), []byte(testSecret))
	var ids []uint64
	if err := c.Events(testCtx(t), 1, false, func(e events.Event) { ids = append(ids, e.ID) }); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0] != 2 || ids[1] != 3 {
		t.Fatalf("after 1: %v", ids)
	}
	// Following: ends when the supervisor stops (the stream closes).
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	done := make(chan error, 1)
	n := 0
	go func() { done <- c.Events(ctx, 3, true, func(events.Event) { n++ }) }()
	st.stream.Close()
	select {
	case err := <-done:
		if err != nil || n != 0 {
			t.Fatalf("follow after the last event: %v, %d events", err, n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("follow did not end when the stream closed")
	}
}

// A Controller without feeds answers the stream paths 404.
func TestStreamsNeedAStreamer(t *testing.T) {
	c := NewClient(serve(t, &fake{}), []byte(testSecret))
	err := c.Events(testCtx(t), 0, false, func(events.Event) {})
	var e *api.Error
	if !errors.As(err, &e) || e.Kind != api.NotFound {
		t.Errorf("events of a plain Controller: %v", err)
	}
}

func waitLines(t *testing.T, lines func() string, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for lines() != want {
		if time.Now().After(deadline) {
			t.Fatalf("lines %q; want %q", lines(), want)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}
