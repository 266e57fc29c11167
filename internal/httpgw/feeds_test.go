package httpgw

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/httpx"
)

// follow GETs url (accept: the Accept header, or "") and returns the
// body's lines, the empty ones left out, as they come. The request ends
// with the test.
func follow(t *testing.T, url, accept string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	tr := &http.Transport{}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		tr.CloseIdleConnections()
	})
	wg.Go(func() {
		defer resp.Body.Close()
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if sc.Text() != "" {
				lines <- sc.Text()
			}
		}
	})
	return lines
}

// next is the next line of lines that passes keep, within 10 s.
func next(t *testing.T, lines <-chan string, keep func(string) bool) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended")
			}
			if keep(l) {
				return l
			}
		case <-timeout:
			t.Fatal("no line in 10 s")
		}
	}
}

// Followers of /events get every event once, in order, whether they are
// up to date and parked (the server's writer thread writes for them) or
// catching up themselves, through bursts longer than one frame holds.
func TestEventFollowersGetEveryEventInOrder(t *testing.T) {
	const followers, bursts, burst = 20, 10, eventBatch + 7
	srv, stream := eventServer(t)
	var all []<-chan string
	isID := func(l string) bool { return strings.HasPrefix(l, "id: ") }
	for range followers {
		lines := follow(t, srv.URL+"/events", "")
		if l := next(t, lines, func(string) bool { return true }); l != "retry: 1000" {
			t.Fatalf("first line %q", l)
		}
		all = append(all, lines)
	}
	id := 0
	for range bursts {
		for range burst {
			stream.Publish(events.Event{Type: events.Control, Text: "x"})
		}
		// Every follower has the burst before the next: they park again
		// between bursts.
		for f, lines := range all {
			for i := range burst {
				if got, want := next(t, lines, isID), fmt.Sprintf("id: %d", id+i+1); got != want {
					t.Fatalf("follower %d read %q, want %q", f, got, want)
				}
			}
		}
		id += burst
	}
}

// logFeedServer serves one service's output, out, over loopback as
// tend's listeners do, and returns the URL of its logs.
func logFeedServer(t *testing.T, out *events.Broadcaster[api.LogLine]) string {
	snap := manyServices(1)
	sv := snap.Services[0]
	mux := New(Options{Snapshot: func() *api.Snapshot { return snap }, Logs: fakeLogs{sv.Name: out}, Log: discardLog()})
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = httpx.NewServer(mux, discardLog())
	srv.Start()
	t.Cleanup(func() {
		out.Close() // ends every follower
		srv.Close()
	})
	return srv.URL + "/services/" + sv.Name + "/" + sv.Group + "/logs"
}

// logs?follow=1 followers asking for different streams and formats share
// the service's output and each gets its own: the lines of the streams
// it asked for, as NDJSON or SSE.
func TestLogFollowersGetTheirStreamsInTheirFormat(t *testing.T) {
	out := events.New[api.LogLine](events.Limits{Keep: 1000}, nil, nil)
	url := logFeedServer(t, out)
	type follower struct {
		query, accept string
		want          func(i int) string // the line for the i-th line published; "": none
	}
	stream := func(i int) string { return []string{"stdout", "stderr"}[i%2] }
	ndjson := func(i int) string {
		return fmt.Sprintf(`{"time":"1970-01-01T00:00:%02dZ","stream":"%s","line":"line %d"}`, i, stream(i), i)
	}
	fs := []follower{
		{"?follow=1&tail=0", "", ndjson},
		{"?follow=1&tail=0", "", ndjson},
		{"?follow=1&tail=0&stream=stderr", "", func(i int) string {
			if stream(i) != "stderr" {
				return ""
			}
			return ndjson(i)
		}},
		{"?follow=1&tail=0", "text/event-stream", func(i int) string { return "data: " + ndjson(i) }},
	}
	var all []<-chan string
	for _, f := range fs {
		all = append(all, follow(t, url+f.query, f.accept))
	}
	// A first line, after every follower has started (a follower with
	// tail=0 says nothing until then): then they are following.
	const lines = 40
	for i := range lines {
		out.Publish(api.LogLine{At: time.Unix(int64(i), 0).UTC(), Stream: stream(i), Text: fmt.Sprintf("line %d", i)})
	}
	for n, f := range fs {
		for i := range lines {
			want := f.want(i)
			if want == "" {
				continue
			}
			if got := next(t, all[n], func(l string) bool { return !strings.HasPrefix(l, "event: ") }); got != want {
				t.Fatalf("follower %d (%s %s): read %q, want %q", n, f.query, f.accept, got, want)
			}
		}
	}
}
