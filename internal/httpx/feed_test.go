package httpx

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testFeed is a Feed of frames: item i (from 1) is at position i.
type testFeed struct {
	mu       sync.Mutex
	items    [][]byte
	closed   bool
	watchers map[*testCursor]func()
	next     atomic.Int32 // cursors' Next calls
}

func newTestFeed() *testFeed { return &testFeed{watchers: map[*testCursor]func(){}} }

func (f *testFeed) publish(p []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items = append(f.items, p)
	for _, n := range f.watchers {
		n()
	}
}

func (f *testFeed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for _, n := range f.watchers {
		n()
	}
}

// from appends the items from pos on to p; closed: nothing follows.
func (f *testFeed) from(p []byte, pos uint64) ([]byte, uint64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ; pos <= uint64(len(f.items)); pos++ {
		p = append(p, f.items[pos-1]...)
	}
	return p, pos, f.closed
}

func (f *testFeed) Cursor(pos uint64, notify func()) FeedCursor {
	c := &testCursor{f: f, pos: pos}
	f.mu.Lock()
	f.watchers[c] = notify
	f.mu.Unlock()
	return c
}

type testCursor struct {
	f   *testFeed
	pos uint64
}

var errTestFeedClosed = errors.New("closed")

func (c *testCursor) Next(p []byte) ([]byte, uint64, error) {
	c.f.next.Add(1)
	p, pos, closed := c.f.from(p, c.pos)
	if closed && pos == c.pos {
		return p, pos, errTestFeedClosed
	}
	c.pos = pos
	return p, pos, nil
}

func (c *testCursor) Close() {
	c.f.mu.Lock()
	delete(c.f.watchers, c)
	c.f.mu.Unlock()
}

// feedServer serves feed to streams that park on it while up to date;
// woken counts the times a parked stream's goroutine came back to work,
// ended the streams that ended.
func feedServer(t *testing.T, feed *testFeed, woken, ended *atomic.Int64, writeTimeout time.Duration, tick <-chan time.Time) *httptest.Server {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer ended.Add(1)
		w.WriteHeader(http.StatusOK)
		s := NewStream(w, r)
		if _, err := s.Write([]byte("hello\n")); err != nil {
			return
		}
		pos := uint64(1)
		for {
			var p []byte
			var closed bool
			p, pos, closed = feed.from(nil, pos)
			if len(p) > 0 {
				if _, err := s.Write(p); err != nil {
					return
				}
			}
			if closed {
				return
			}
			var ok bool
			pos, ok = s.Park(r.Context(), feed, pos, nil, nil, tick, []byte("beat\n"))
			woken.Add(1)
			if !ok {
				return
			}
		}
	})
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = NewServer(h, slog.New(slog.DiscardHandler))
	srv.Config.WriteTimeout = writeTimeout
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// parkedOn is how many streams are parked on feed.
func parkedOn(srv *httptest.Server, feed Feed) int {
	f := srv.Config.ConnContext(context.Background(), nil).Value(connKey{}).(*connInfo).fan
	f.mu.Lock()
	g := f.groups[feed]
	f.mu.Unlock()
	if g == nil {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.members)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("waited 10 s for %s", what)
		}
	}
}

// A frame published to streams parked on a feed reaches every client,
// written by the writer thread alone: it is encoded once (one Next for
// all of them), and not one stream's goroutine wakes for it. A thousand
// followers of /events cost the gateway's goroutines nothing per event.
func TestParkedStreamsGetFramesWithoutWaking(t *testing.T) {
	const clients = 50
	feed := newTestFeed()
	var woken, ended atomic.Int64
	srv := feedServer(t, feed, &woken, &ended, writeTimeout, nil)
	lines := make(chan string, clients*4)
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	for range clients {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		wg.Go(func() {
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				return
			}
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if sc.Text() != "hello" {
					lines <- sc.Text()
				}
			}
		})
	}
	waitUntil(t, "every stream to park", func() bool { return parkedOn(srv, feed) == clients })
	for i := range 3 {
		next0 := feed.next.Load()
		want := fmt.Sprintf("event %d", i)
		feed.publish([]byte(want + "\n"))
		for range clients {
			select {
			case got := <-lines:
				if got != want {
					t.Fatalf("a client read %q, want %q", got, want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("not every client got %q", want)
			}
		}
		// The writer reads the feed once per publish (and once more to
		// find nothing new), not once per stream.
		if n := feed.next.Load() - next0; n > 4 {
			t.Errorf("event %d: the feed was read %d times for %d streams", i, n, clients)
		}
	}
	if n := woken.Load(); n != 0 {
		t.Errorf("%d parked streams woke to deliver 3 events", n)
	}
	if n := parkedOn(srv, feed); n != clients {
		t.Errorf("%d of %d streams parked after the events", n, clients)
	}
	feed.close() // every stream ends
	waitUntil(t, "the streams to end", func() bool { return ended.Load() == clients })
}

// A parked stream whose client stops reading is woken once its socket
// is full, finishes the frame itself and is cut after the write
// timeout; meanwhile the other parked streams get every frame.
func TestParkedStreamThatStopsReadingIsCut(t *testing.T) {
	const frames = 200
	frame := bytes.Repeat([]byte("x"), 64<<10) // 12.8 MB: more than a socket holds
	frame[len(frame)-1] = '\n'
	feed := newTestFeed()
	var woken, ended atomic.Int64
	srv := feedServer(t, feed, &woken, &ended, time.Second, nil)

	stuck, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stuck.Close() })
	fmt.Fprintf(stuck, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
	got := make(chan int, 1)
	reader, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Close() })
	fmt.Fprintf(reader, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(reader), nil)
		if err != nil {
			got <- -1
			return
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		n := 0
		for n < frames && sc.Scan() {
			if len(sc.Bytes()) == len(frame)-1 {
				n++
			}
		}
		got <- n
	}()
	waitUntil(t, "both streams to park", func() bool { return parkedOn(srv, feed) == 2 })
	start := time.Now()
	for range frames {
		feed.publish(frame)
	}
	select {
	case n := <-got:
		if n != frames {
			t.Errorf("the reading client got %d frames of %d", n, frames)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reading client did not get every frame in 10 s")
	}
	// The stuck client's stream ends once a write waited the timeout
	// (1 s), though the writes before were the writer thread's.
	waitUntil(t, "the stuck client's stream to end", func() bool { return ended.Load() == 1 })
	if el := time.Since(start); el > 8*time.Second {
		t.Errorf("the stuck client's stream ended after %v", el)
	}
	feed.close()
	waitUntil(t, "the other stream to end", func() bool { return ended.Load() == 2 })
}

// A parked stream writes its heartbeat on a tick and parks again, and
// its handler ends as soon as its client hangs up.
func TestParkedStreamBeatsAndEndsWithItsClient(t *testing.T) {
	feed := newTestFeed()
	var woken, ended atomic.Int64
	tick := make(chan time.Time)
	srv := feedServer(t, feed, &woken, &ended, writeTimeout, tick)
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body := bufio.NewReader(resp.Body)
	waitUntil(t, "the stream to park", func() bool { return parkedOn(srv, feed) == 1 })
	tick <- time.Now()
	for _, want := range []string{"hello\n", "beat\n"} {
		if l, err := body.ReadString('\n'); l != want {
			t.Fatalf("read %q (%v), want %q", l, err, want)
		}
	}
	waitUntil(t, "the stream to park again", func() bool { return woken.Load() == 1 && parkedOn(srv, feed) == 1 })
	feed.publish([]byte("after the beat\n"))
	if l, err := body.ReadString('\n'); l != "after the beat\n" {
		t.Fatalf("read %q (%v) after the beat", l, err)
	}
	c.Close()
	waitUntil(t, "the handler to end with its client", func() bool { return ended.Load() == 1 })
	if n := parkedOn(srv, feed); n != 0 {
		t.Errorf("%d streams parked after the only client left", n)
	}
}
