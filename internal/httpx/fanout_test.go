package httpx

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// niceOf is the nice value of thread tid of this process, from
// /proc/self/task/TID/stat (its 19th field); -100 when the thread has
// ended. It may run in a handler: it reports an error, never stops the
// test.
func niceOf(t *testing.T, tid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/stat", tid))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return -100
	}
	if err != nil {
		t.Error(err)
		return -1
	}
	// The command name, in parentheses, may hold spaces: count the
	// fields after it (the 3rd field, the state, comes first).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	n, err := strconv.Atoi(f[19-3])
	if err != nil {
		t.Error(err)
		return -1
	}
	return n
}

// A stream's frames over plain TCP are written by a thread of the
// lowest priority, so that fanning an event out does not take the CPU
// from the gateway's requests; the client gets every frame.
func TestStreamFramesAreWrittenAtTheLowestPriority(t *testing.T) {
	// The test may itself run niced (`nice make test`): the other threads
	// keep the priority the process started with.
	base := niceOf(t, os.Getpid())
	nices := make(chan int, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		s := NewStream(w, r)
		for i := range 3 {
			if _, err := fmt.Fprintf(s, "frame %d\n", i); err != nil {
				return
			}
		}
		// The writer lingers after its last frame: it runs still.
		nices <- niceOf(t, r.Context().Value(connKey{}).(*connInfo).fan.writerTID())
	})
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = NewServer(h, slog.New(slog.DiscardHandler))
	srv.Start()
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "frame 0\nframe 1\nframe 2\n"; err != nil || string(body) != want {
		t.Errorf("got %q (%v), want %q", body, err, want)
	}
	switch n := <-nices; n {
	case fanOutNice:
	case -100:
		t.Error("no writer thread wrote the frames: the stream wrote them itself")
	default:
		t.Errorf("the frames' writer thread runs at nice %d, want %d", n, fanOutNice)
	}
	// The writer's thread only: not the main thread (whose nice is the
	// one ps shows), nor any thread started since.
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range tasks {
		tid, _ := strconv.Atoi(e.Name())
		if n := niceOf(t, tid); n != base && n != fanOutNice && n != -100 {
			t.Errorf("thread %d runs at nice %d", tid, n)
		} else if n == fanOutNice && n != base && tid == os.Getpid() {
			t.Errorf("the main thread runs at nice %d: the process shows as niced", n)
		}
	}
}

// A stream written directly is HTTP/1.1 as net/http writes it: chunked,
// ended by the last chunk, and the connection serves the next request.
func TestDirectStreamIsChunkedAndKeepsTheConnection(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		s := NewStream(w, r)
		for i := range 5 {
			_, _ = fmt.Fprintf(s, "data: %d\n\n", i)
			_ = s.Flush()
		}
	})
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = NewServer(h, slog.New(slog.DiscardHandler))
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for i := range 2 {
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d on one connection: %v", i+1, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
			t.Fatalf("request %d: transfer encoding %v, body error %v", i+1, resp.TransferEncoding, err)
		}
		if want := "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n"; string(body) != want {
			t.Fatalf("request %d: body %q, want %q", i+1, body, want)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Errorf("request %d: Content-Type %q", i+1, ct)
		}
	}
}

// Streams share one writer, and a client that stops reading does not
// hold it: with one stuck client whose socket is full, every other
// client gets all of its frames long before the write timeout.
func TestStuckClientHoldsUpNoOtherStream(t *testing.T) {
	const readers, frames = 20, 200
	frame := bytes.Repeat([]byte("x"), 32<<10) // 6.4 MB to each: more than sockets hold
	stuckEnded := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stuck" {
			defer close(stuckEnded)
		}
		s := NewStream(w, r)
		for range frames {
			if _, err := s.Write(frame); err != nil {
				return
			}
		}
	})
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = NewServer(h, slog.New(slog.DiscardHandler))
	srv.Start()
	t.Cleanup(srv.Close)

	stuck, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(stuck, "GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
	t.Cleanup(func() {
		stuck.Close() // its handler's write fails: it ends
		<-stuckEnded
	})

	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	start := time.Now()
	got := make(chan int, readers)
	for range readers {
		go func() {
			resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/r")
			if err != nil {
				got <- -1
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			got <- int(n)
		}()
	}
	for range readers {
		if n := <-got; n != frames*len(frame) {
			t.Errorf("a reading client got %d bytes of %d", n, frames*len(frame))
		}
	}
	// The write timeout is 30 s: a writer held by the stuck client
	// would keep the others waiting that long.
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("the reading clients took %v", el)
	}
	select {
	case <-stuckEnded:
		t.Error("the stuck client's stream ended: its socket never filled, the test proves nothing")
	default:
	}
}

// Whichever thread the writer's goroutine starts on, the main thread
// among them, the priority lowered is that of a thread of its own: the
// process (its main thread, which ps shows) stays at nice 0. Started ten
// times, the writer starts at least once on the main thread.
func TestFanOutNeverLowersTheMainThread(t *testing.T) {
	// The test may itself run niced (`nice make test`): the other threads
	// keep the priority the process started with.
	base := niceOf(t, os.Getpid())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		f := newFanOut()
		j := &fanJob{conn: c, rc: raw, timeout: 10 * time.Second, p: []byte("x"), done: make(chan struct{}, 1)}
		f.write(j)
		if j.n != 1 || j.err != nil {
			t.Fatalf("start %d: wrote %d bytes (%v)", i, j.n, j.err)
		}
		if n := niceOf(t, f.writerTID()); n != fanOutNice {
			t.Errorf("start %d: the writer runs at nice %d", i, n)
		}
		if n := niceOf(t, os.Getpid()); n != base {
			t.Fatalf("start %d: the main thread runs at nice %d", i, n)
		}
	}
}
