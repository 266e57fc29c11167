package process

import (
	"fmt"
	"testing"
	"time"
)

// A child given a notification fd finds a pipe there: the first newline it
// writes calls Ready, once; what it wrote before is not a notification,
// and descriptors between stderr and it are closed. Both ways of forking
// (from the supervisor's table, from the spawner's) pass it.
func TestNotifyFD(t *testing.T) {
	for _, spawner := range []bool{false, true} {
		t.Run(fmt.Sprintf("spawner=%v", spawner), func(t *testing.T) {
			r := startReaper(t)
			if spawner {
				r.spawnFrom = 0
			}
			ready := make(chan struct{}, 2)
			out := newLines()
			s := sh(`[ -e /proc/self/fd/4 ] && echo fd4-open; printf not-yet >&5; read line; echo >&5; echo again >&5; echo done; exec sleep 1000`)
			s.NotifyFD, s.Ready, s.Stdout = 5, func() { ready <- struct{}{} }, out.add
			// The child reads stdin from /dev/null: "read" returns at once,
			// so the newline follows "not-yet" without a pause; what the
			// test checks is the count and the order against "done".
			p := start(t, r, s)
			defer func() { p.Stop(t.Context(), 0, time.Second) }()
			select {
			case <-ready:
			case <-time.After(testTimeout):
				t.Fatal("Ready not called")
			}
			if got := out.wait(t, 1); got[0] != "done" {
				t.Fatalf("output %q: fd 4 was open in the child, or the script failed", got)
			}
			p.Stop(t.Context(), 0, time.Second)
			waitDone(t, p)
			if n := len(ready); n != 0 {
				t.Fatalf("Ready called %d more times", n)
			}
		})
	}
}

// Bytes without a newline, even when the child closes the fd or exits,
// are not a notification (s6 waits for the newline).
func TestNotifyFDNeedsNewline(t *testing.T) {
	r := startReaper(t)
	called := make(chan struct{}, 1)
	s := sh(`printf almost >&3`)
	s.NotifyFD, s.Ready = 3, func() { called <- struct{}{} }
	waitDone(t, start(t, r, s))
	select {
	case <-called:
		t.Fatal("Ready called without a newline")
	default:
	}
}
