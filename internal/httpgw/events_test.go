package httpgw

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/events"
)

// sseRead opens /events with the headers given and returns the blocks
// read (each "field: value" lines joined by "|") until n were read.
func sseRead(t *testing.T, url string, n int, hdr ...string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %s", url, resp.Status)
	}
	var blocks []string
	var cur []string
	sc := bufio.NewScanner(resp.Body)
	for len(blocks) < n && sc.Scan() {
		if sc.Text() == "" {
			blocks = append(blocks, strings.Join(cur, "|"))
			cur = nil
			continue
		}
		cur = append(cur, sc.Text())
	}
	if len(blocks) < n {
		t.Fatalf("%d SSE blocks of %d: %q (%v)", len(blocks), n, blocks, sc.Err())
	}
	return blocks
}

func TestEventsReplayAfterLastEventID(t *testing.T) {
	srv, stream := eventServer(t)
	for _, s := range []string{"a", "b", "c"} {
		stream.Publish(events.Event{Type: events.ServiceState, Service: s + ".default", State: "up", Text: s})
	}
	got := sseRead(t, srv.URL+"/events", 3, "Last-Event-ID", "1")
	if got[0] != "retry: 1000" {
		t.Errorf("first block %q", got[0])
	}
	for i, want := range []string{"id: 2|event: service.state|data: {\"id\":2,", "id: 3|event: service.state|data: {\"id\":3,"} {
		if !strings.HasPrefix(got[i+1], want) || !strings.Contains(got[i+1], `"service":"`+string(rune('b'+i))+`.default"`) {
			t.Errorf("block %d = %q; want it to begin %q", i+1, got[i+1], want)
		}
	}
	// ?last_event_id= does the same for a first connection.
	if got := sseRead(t, srv.URL+"/events?last_event_id=2", 2); !strings.HasPrefix(got[1], "id: 3|") {
		t.Errorf("?last_event_id=2 replayed %q", got[1])
	}
}

// An id no longer kept replays what is, after a "lost" event that says
// how many went: the client should read the state afresh.
func TestEventsSaysWhatWasLost(t *testing.T) {
	srv, stream := eventServer(t)
	for range events.Keep + 10 {
		stream.Publish(events.Event{Type: events.Control, Text: "x"})
	}
	got := sseRead(t, srv.URL+"/events", 3, "Last-Event-ID", "5")
	if got[1] != `event: lost|data: {"missed":5}` {
		t.Errorf("block %q; want the lost event", got[1])
	}
	if !strings.HasPrefix(got[2], "id: 11|") {
		t.Errorf("then %q; want the oldest kept, id 11", got[2])
	}
}

func TestEventsRefusesABadLastEventID(t *testing.T) {
	srv, _ := eventServer(t)
	req, _ := http.NewRequest("GET", srv.URL+"/events", nil)
	req.Header.Set("Last-Event-ID", "yesterday")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("Last-Event-ID yesterday: %s; want 400", resp.Status)
	}
}

// /logs: the tail filtered by stream, 400 for a bad query, 404 when
// redacted.
type fakeLogs map[string]*events.Broadcaster[api.LogLine]

func (f fakeLogs) Logs(name string) (*events.Broadcaster[api.LogLine], error) {
	return f[name], nil
}

func TestLogsTailByStreamAndRedact(t *testing.T) {
	snap := manyServices(3)
	name := snap.Services[0].Name
	out := events.New[api.LogLine](events.Limits{Keep: 100}, nil, nil)
	for i, s := range []string{"stdout", "stderr", "hooks", "stdout", "stdout"} {
		out.Publish(api.LogLine{At: time.Unix(int64(i), 0), Stream: s, Text: s + string(rune('0'+i))})
	}
	path := "/services/" + name + "/" + snap.Services[0].Group + "/logs"
	for _, redact := range []bool{false, true} {
		mux := New(Options{Snapshot: func() *api.Snapshot { return snap }, Redact: redact, Logs: fakeLogs{name: out}, Log: discardLog()})
		r := do(t, mux, "GET", path+"?tail=2&stream=stdout,stderr")
		if redact {
			if r.code != 404 {
				t.Errorf("redacted: %d; want 404", r.code)
			}
			continue
		}
		want := "{\"time\":\"1970-01-01T00:00:03Z\",\"stream\":\"stdout\",\"line\":\"stdout3\"}\n{\"time\":\"1970-01-01T00:00:04Z\",\"stream\":\"stdout\",\"line\":\"stdout4\"}\n"
		if r.code != 200 || string(r.body) != want {
			t.Errorf("tail=2: %d %q; want %q", r.code, r.body, want)
		}
		if r := do(t, mux, "GET", path+"?stream=stderr&tail=5"); !strings.Contains(string(r.body), "stderr1") || strings.Count(string(r.body), "\n") != 1 {
			t.Errorf("stream=stderr: %q", r.body)
		}
		for _, q := range []string{"?tail=-1", "?tail=x", "?follow=yes", "?stream=stdin"} {
			if r := do(t, mux, "GET", path+q); r.code != 400 {
				t.Errorf("%s: %d; want 400", q, r.code)
			}
		}
	}
}
