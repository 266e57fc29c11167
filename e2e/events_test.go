package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tend-sh/tend/internal/events"
)

// sseEvent is one event read off /events, with when it arrived.
type sseEvent struct {
	id   string
	name string
	data string
	ev   events.Event
	got  time.Time
}

// followEvents opens GET /events on s's gateway (with Last-Event-ID when
// last is not "") and sends every event it reads to the channel, which is
// closed when the stream ends. The stream is closed at cleanup.
func followEvents(t *testing.T, s *sup, last string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.http+"/events", nil)
	if last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("GET /events: %s, %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var cur sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur.name != "" || cur.data != "" {
					cur.got = time.Now()
					_ = json.Unmarshal([]byte(cur.data), &cur.ev)
					out <- cur
				}
				cur = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				cur.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				cur.name = line[7:]
			case strings.HasPrefix(line, "data: "):
				cur.data = line[6:]
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	return out
}

// nextEvent returns the first event from ch that match accepts, failing
// the test after timeout.
func nextEvent(t *testing.T, ch <-chan sseEvent, timeout time.Duration, what string, match func(sseEvent) bool) sseEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("/events ended before %s", what)
			}
			if match(e) {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s within %s", what, timeout)
		}
	}
}

// A kill -9 of a service shows on /events as a service.state event within
// 100 ms, and a client that comes back with Last-Event-ID gets exactly the
// events that followed that id.
func TestEventsStateChangeOnKillAndReplay(t *testing.T) {
	t.Parallel()
	tag := uniqueTag()
	s := startSup(t, t.TempDir())
	live := followEvents(t, s, "")
	s.mustTend("svc", "load", sleeper(t, "evsleeper", tag))
	up := nextEvent(t, live, 10*time.Second, "service.state up", func(e sseEvent) bool {
		return e.name == events.ServiceState && e.ev.Service == "evsleeper.default" && e.ev.State == "up"
	})
	if up.id != strconv.FormatUint(up.ev.ID, 10) || up.ev.PID == 0 {
		t.Fatalf("up event: id %q, %+v", up.id, up.ev)
	}

	killed := time.Now()
	if err := syscall.Kill(up.ev.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var after []sseEvent
	down := nextEvent(t, live, 5*time.Second, "service.state after the kill", func(e sseEvent) bool {
		after = append(after, e)
		return e.name == events.ServiceState && e.ev.From == "up"
	})
	d := down.got.Sub(killed)
	t.Logf("service.state %q came %s after kill -9", down.ev.State, d)
	if d > 100*time.Millisecond {
		t.Errorf("service.state came %s after kill -9; want within 100ms", d)
	}
	// It restarts (backoff 0): the restart event, then up again.
	nextEvent(t, live, 10*time.Second, "service.state up again", func(e sseEvent) bool {
		after = append(after, e)
		return e.name == events.ServiceState && e.ev.State == "up"
	})
	var restart *sseEvent
	for i := range after {
		if after[i].name == events.ServiceRestart {
			restart = &after[i]
		}
	}
	if restart == nil || restart.ev.Backoff == nil || !strings.Contains(restart.ev.Reason, "SIGKILL") {
		t.Errorf("no service.restart with its backoff and the kill as reason among %v", names(after))
	}

	// Coming back after the up event: exactly what followed it.
	replay := followEvents(t, s, up.id)
	for i, want := range after {
		got := nextEvent(t, replay, 5*time.Second, "replayed event "+want.id, func(sseEvent) bool { return true })
		if got.id != want.id || got.name != want.name || got.data != want.data {
			t.Fatalf("replayed event %d: %s %s %s; want %s %s %s", i, got.id, got.name, got.data, want.id, want.name, want.data)
		}
	}
	// And then live events, numbered on.
	s.mustTend("svc", "stop", "evsleeper")
	stop := nextEvent(t, replay, 10*time.Second, "control stop", func(e sseEvent) bool { return e.name == events.Control })
	if stop.ev.Action != "stop" || stop.ev.OK == nil || !*stop.ev.OK {
		t.Errorf("control event %+v", stop.ev)
	}
	last, _ := strconv.ParseUint(after[len(after)-1].id, 10, 64)
	if stop.ev.ID <= last {
		t.Errorf("live event id %d not after the replay's last %d", stop.ev.ID, last)
	}
}

func names(evs []sseEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.id+":"+e.name)
	}
	return out
}

// sup events prints what happened for people, and --json for scripts.
func TestSupEventsPrintsEvents(t *testing.T) {
	t.Parallel()
	s := startSup(t, t.TempDir())
	s.mustTend("svc", "load", sleeper(t, "evcli", uniqueTag()))
	s.mustTend("svc", "stop", "evcli")
	out := s.mustTend("sup", "events")
	for _, want := range []string{"service.state   evcli.default is up (pid ", "control         load ", "evcli.default is down", "control         stop evcli: done"} {
		if !strings.Contains(out, want) {
			t.Errorf("sup events lacks %q:\n%s", want, out)
		}
	}
	js := s.mustTend("sup", "events", "--json")
	var n int
	for line := range strings.Lines(js) {
		var e events.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.ID == 0 || e.Type == "" {
			t.Fatalf("sup events --json line %q: %v", line, err)
		}
		n++
	}
	if n != strings.Count(out, "\n") {
		t.Errorf("%d JSON events, %d printed", n, strings.Count(out, "\n"))
	}
}
