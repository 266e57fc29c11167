package process

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testTimeout bounds every wait in these tests; nothing should come near it.
const testTimeout = 10 * time.Second

// startReaper runs a Reaper for the test and stops it, checking Run's
// result, at cleanup. Tests in this package must not run in parallel: a
// process has one reaper.
func startReaper(t testing.TB) *Reaper {
	t.Helper()
	r := NewReaper(nil)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return r
}

func start(t testing.TB, r *Reaper, s Spec) *Proc {
	t.Helper()
	p, err := r.Start(s)
	if err != nil {
		t.Fatalf("Start(%s %q): %v", s.Path, s.Args, err)
	}
	return p
}

func sh(script string) Spec {
	return Spec{Path: "/bin/sh", Args: []string{"-c", script}, Env: []string{"PATH=/usr/bin:/bin"}}
}

func waitDone(t testing.TB, p *Proc) Exit {
	t.Helper()
	select {
	case <-p.Done():
		return p.Exit()
	case <-time.After(testTimeout):
		t.Fatalf("pid %d: not done after %v", p.PID(), testTimeout)
		return Exit{}
	}
}

// lines collects output lines and lets a test wait for one.
type lines struct {
	mu    sync.Mutex
	got   []string
	added chan struct{}
}

func newLines() *lines { return &lines{added: make(chan struct{}, 1)} }

func (l *lines) add(b []byte) {
	l.mu.Lock()
	l.got = append(l.got, string(b))
	l.mu.Unlock()
	select {
	case l.added <- struct{}{}:
	default:
	}
}

func (l *lines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got...)
}

// wait returns the first n lines once they have arrived.
func (l *lines) wait(t testing.TB, n int) []string {
	t.Helper()
	deadline := time.After(testTimeout)
	for {
		if got := l.all(); len(got) >= n {
			return got[:n]
		}
		select {
		case <-l.added:
		case <-deadline:
			t.Fatalf("got lines %q, want %d", l.all(), n)
		}
	}
}

// procState returns the state letter of pid from /proc ("" when it is gone)
// and its parent.
func procState(pid int) (state string, ppid int) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0
	}
	// The command name is in parentheses and may hold spaces.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	ppid, _ = strconv.Atoi(f[1])
	return f[0], ppid
}

// waitGone waits until pid has left /proc, i.e. was killed and reaped: a
// zombie would stay there.
func waitGone(t testing.TB, pid int) {
	t.Helper()
	waitFor(t, "pid "+strconv.Itoa(pid)+" gone", func() bool {
		st, _ := procState(pid)
		return st == ""
	})
}

// waitFor checks cond until it holds. For what the kernel does with
// processes that are not our children there is no event to wait on.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// zombies lists our children that nobody reaped.
func zombies() []int {
	ents, _ := os.ReadDir("/proc")
	var zs []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ppid := procState(pid); st == "Z" && ppid == os.Getpid() {
			zs = append(zs, pid)
		}
	}
	return zs
}

func alive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}
