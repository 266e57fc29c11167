package httpgw

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/httpx"
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

func (f fakeLogs) Logs(name string) (events.Output, error) {
	return events.Output{Recent: f[name]}, nil
}

// olderLogs has the log files' lines say what was asked of them.
type olderLogs struct {
	recent *events.Broadcaster[api.LogLine]
}

func (o olderLogs) Logs(string) (events.Output, error) {
	return events.Output{Recent: o.recent, Older: func(stream string, skip, n int) []api.LogLine {
		out := []api.LogLine{}
		for i := range n {
			out = append(out, api.LogLine{Stream: stream, Text: fmt.Sprintf("file %s skip %d", stream, skip+n-1-i)})
		}
		return out
	}}, nil
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
		// Beyond what memory keeps: the log files' older lines, without
		// a time, skipping those memory has.
		mux = New(Options{Snapshot: func() *api.Snapshot { return snap }, Log: discardLog(), Logs: olderLogs{out}})
		if r := do(t, mux, "GET", path+"?tail=4&stream=stdout"); string(r.body) != "{\"stream\":\"stdout\",\"line\":\"file stdout skip 3\"}\n"+
			"{\"time\":\"1970-01-01T00:00:00Z\",\"stream\":\"stdout\",\"line\":\"stdout0\"}\n"+want {
			t.Errorf("tail=4 of stdout, 3 in memory: %q", r.body)
		}
		for _, q := range []string{"?tail=-1", "?tail=x", "?follow=yes", "?stream=stdin"} {
			if r := do(t, mux, "GET", path+q); r.code != 400 {
				t.Errorf("%s: %d; want 400", q, r.code)
			}
		}
	}
}

// stalledWriter is a client connection whose first write hangs until
// released: a follower that stopped reading.
type stalledWriter struct {
	h       http.Header
	mu      sync.Mutex
	out     bytes.Buffer
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (w *stalledWriter) Header() http.Header { return w.h }
func (w *stalledWriter) WriteHeader(int)     {}
func (w *stalledWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered); <-w.release })
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.Write(p)
}

// A follower that falls more than the ring behind is told it was dropped
// and its response ends; publishing never waited for it.
func TestEventsDropsASlowFollower(t *testing.T) {
	stream := events.NewStream()
	defer stream.Close()
	w := &stalledWriter{h: http.Header{}, entered: make(chan struct{}), release: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Events(stream).ServeHTTP(w, httptest.NewRequest("GET", "/events", nil))
	}()
	<-w.entered // the handler is stuck in its first write
	for range events.Keep + 5 {
		stream.Publish(events.Event{Type: events.Control, Text: "x"})
	}
	close(w.release)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler of a dropped follower did not return")
	}
	if got := w.out.String(); !strings.HasSuffix(got, "event: dropped\ndata: {\"reason\":\"the client read too slowly\"}\n\n") {
		t.Errorf("the follower got %q", got)
	}
}

// idleWriter is a follower's connection that takes what is written and
// counts the writes.
type idleWriter struct {
	h      http.Header
	writes *atomic.Int64
}

func (w idleWriter) Header() http.Header { return w.h }
func (w idleWriter) WriteHeader(int)     {}
func (w idleWriter) Write(p []byte) (int, error) {
	w.writes.Add(1)
	return len(p), nil
}

// A thousand followers waiting for events cost the supervisor little
// memory: a follower holds a small batch of events while it waits (each
// held one of 256 events, 67 KB: 67 MB of heap for 1,000 followers).
func TestIdleFollowersHoldLittle(t *testing.T) {
	const followers = 200
	stream := events.NewStream()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		stream.Close()
		wg.Wait()
	}()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var writes atomic.Int64
	for range followers {
		wg.Go(func() {
			w := idleWriter{http.Header{}, &writes}
			Events(stream).ServeHTTP(w, httptest.NewRequest("GET", "/events", nil).WithContext(ctx))
		})
	}
	// Each has written its first lines, and waits.
	deadline := time.Now().Add(10 * time.Second)
	for writes.Load() < followers {
		if time.Now().After(deadline) {
			t.Fatalf("%d followers of %d started", writes.Load(), followers)
		}
		time.Sleep(time.Millisecond)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / followers; per > 16<<10 {
		t.Errorf("an idle follower holds %d bytes of heap; want at most 16 KiB", per)
	}
}

// heartbeatStuck is a follower whose connection takes the stream's first
// lines, then stops: its next write (a heartbeat) hangs until released.
type heartbeatStuck struct {
	h       http.Header
	writes  int
	release chan struct{}
}

func (w *heartbeatStuck) Header() http.Header { return w.h }
func (w *heartbeatStuck) WriteHeader(int)     {}
func (w *heartbeatStuck) Write(p []byte) (int, error) {
	if w.writes++; w.writes > 1 {
		<-w.release
	}
	return len(p), nil
}

// syncRecorder is a follower that reads everything.
type syncRecorder struct {
	h   http.Header
	mu  sync.Mutex
	out bytes.Buffer
}

func (w *syncRecorder) Header() http.Header { return w.h }
func (w *syncRecorder) WriteHeader(int)     {}
func (w *syncRecorder) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.Write(p)
}

func (w *syncRecorder) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.String()
}

// Followers are woken a few at a time, each waking the next as it takes
// (internal/events): followers stuck in a heartbeat's write to a client
// that stopped reading are out of that line, and the one that reads gets
// the next event at once.
func TestEventsFollowersStuckInAHeartbeatHoldUpNoOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stream := events.NewStream()
		defer stream.Close()
		ctx, cancel := context.WithCancel(context.Background())
		release := make(chan struct{})
		var wg sync.WaitGroup
		serve := func(w http.ResponseWriter) {
			wg.Go(func() {
				Events(stream).ServeHTTP(w, httptest.NewRequest("GET", "/events", nil).WithContext(ctx))
			})
			synctest.Wait() // it waits for events, after those before it
		}
		// As many stuck as the stream wakes at once, or more: first in line.
		for range runtime.GOMAXPROCS(0) {
			serve(&heartbeatStuck{h: http.Header{}, release: release})
		}
		reader := &syncRecorder{h: http.Header{}}
		serve(reader)
		time.Sleep(httpx.Heartbeat) // every follower writes a heartbeat: the stuck ones hang in it
		synctest.Wait()
		stream.Publish(events.Event{Type: events.Control, Text: "x"})
		synctest.Wait()
		if got := reader.String(); !strings.Contains(got, "id: 1\n") {
			t.Errorf("the reading follower got %q; want event 1", got)
		}
		close(release)
		cancel()
		wg.Wait()
	})
}
