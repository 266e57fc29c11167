package sdnotify

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// A Notifier's datagrams arrive whole, assignments one per line, on a
// socket named by path or by an abstract name ('@').
func TestNotifierSendsDatagrams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	abstract := fmt.Sprintf("@tend-test-%d", time.Now().UnixNano())
	for _, name := range []string{path, abstract} {
		conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		n, err := FromEnv(func(k string) string {
			if k == "NOTIFY_SOCKET" {
				return name
			}
			return ""
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Send("READY=1", "STATUS=two\nlines"); err != nil {
			t.Fatal(err)
		}
		n.Close()
		buf := make([]byte, 100)
		k, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf[:k]); got != "READY=1\nSTATUS=two lines" {
			t.Errorf("%s: got %q", name, got)
		}
	}
	if _, err := FromEnv(func(string) string { return "" }); err != ErrNoSocket {
		t.Errorf("unset: %v", err)
	}
	if _, err := Dial("relative"); err == nil {
		t.Error("a relative name was accepted")
	}
}

func TestWatchdogFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, tc := range []struct {
		env  func(string) string
		want time.Duration
		ok   bool
	}{
		{env(), 0, false},
		{env("WATCHDOG_USEC", "2000000"), 2 * time.Second, true},
		{env("WATCHDOG_USEC", "2000000", "WATCHDOG_PID", "42"), 2 * time.Second, true},
		{env("WATCHDOG_USEC", "2000000", "WATCHDOG_PID", "43"), 0, false},
		{env("WATCHDOG_USEC", "x"), 0, false},
	} {
		d, ok := Watchdog(tc.env, 42)
		if d != tc.want || ok != tc.ok {
			t.Errorf("got %v %v, want %v %v", d, ok, tc.want, tc.ok)
		}
	}
}

// Listen receives what a service sends to its NOTIFY_SOCKET.
func TestListenReceives(t *testing.T) {
	l, err := Listen(filepath.Join(t.TempDir(), "notify.sock"), -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n, err := Dial(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	n.Send("STATUS=warming", "READY=1", "junk")
	got, err := l.Receive()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["READY"] != "1" || got["STATUS"] != "warming" {
		t.Errorf("got %v", got)
	}
}

type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Send(a ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, strings.Join(a, "|"))
	return nil
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.msgs
	r.msgs = nil
	return out
}

// Run's order: STATUS at once, READY=1 when ready, STATUS on change,
// WATCHDOG=1 every half interval only while live, STOPPING=1 when
// shutdown begins, and the watchdog fed until the end, live or not.
func TestRunSendsInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		ready, stopping := make(chan struct{}), make(chan struct{})
		var status atomic.Value
		status.Store("starting")
		var live atomic.Bool
		live.Store(true)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			Run(ctx, &rec, Supervisor{
				Ready: ready, Stopping: stopping,
				Status:   func() string { return status.Load().(string) },
				Live:     live.Load,
				Watchdog: 4 * time.Second, Every: time.Second,
			})
		}()
		synctest.Wait()
		expect := func(when string, want ...string) {
			t.Helper()
			if got := rec.take(); !slices.Equal(got, want) {
				t.Fatalf("%s: %q, want %q", when, got, want)
			}
		}
		expect("start", "STATUS=starting")
		status.Store("ready; 1 service up")
		close(ready)
		synctest.Wait()
		expect("ready", "READY=1|STATUS=ready; 1 service up")
		time.Sleep(2 * time.Second)
		synctest.Wait()
		expect("half the watchdog interval", "WATCHDOG=1")
		status.Store("ready; 1 service down")
		time.Sleep(time.Second)
		synctest.Wait()
		expect("status changed", "STATUS=ready; 1 service down")
		live.Store(false)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		expect("loops stuck")
		close(stopping)
		synctest.Wait()
		expect("stopping", "STOPPING=1|STATUS=stopping")
		time.Sleep(2 * time.Second) // the loops have wound down: fed anyway
		synctest.Wait()
		expect("fed while stopping", "WATCHDOG=1")
		cancel()
		<-done
	})
}
