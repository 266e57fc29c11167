package process

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Once many children run, the next are forked from a table that does not
// grow with them: with 100 more children with two output pipes each (200
// more read ends in the supervisor's table), the spawner's table still
// holds only what it started with.
func TestSpawnerTableDoesNotGrow(t *testing.T) {
	r := startReaper(t)
	startSleepers(t, r, spawnerMinChildren+100)
	if r.spawner == nil {
		t.Fatalf("no spawner: %v", r.spawnErr)
	}
	if r.spawner.all[0].tid == os.Getpid() {
		t.Fatal("spawner on the main thread: /proc/PID/fd would show its table")
	}
	ents, err := os.ReadDir("/proc/self/task/" + strconv.Itoa(r.spawner.all[0].tid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) > 24 {
		t.Fatalf("spawner's table holds %d descriptors after 100 children; want it not to grow with them", len(ents))
	}
	own, _ := os.ReadDir("/proc/self/fd")
	if want := 2 * (spawnerMinChildren + 100); len(own) < want {
		t.Fatalf("supervisor's table holds %d descriptors; want the %d read ends in it", len(own), want)
	}
}

// The spawner threads start with the first child, while the supervisor's
// table is short, not when spawnerMinChildren children run: by then each
// thread copied and closed one by one the 2 output read ends of each of
// them, ~4.5 ms with 256 running, while every other start waited.
func TestSpawnerStartsWithTheFirstChild(t *testing.T) {
	r := startReaper(t)
	startSleepers(t, r, 1)
	r.mu.Lock()
	pool, err := r.spawner, r.spawnErr
	r.mu.Unlock()
	if pool == nil {
		t.Fatalf("no spawner after the first child: %v", err)
	}
	if len(pool.all) != spawnerThreads {
		t.Fatalf("%d spawner threads, want %d", len(pool.all), spawnerThreads)
	}
}

// A connection open when the spawner copies the supervisor's table is not
// kept open by the copy: when the supervisor closes it, the peer sees the
// end at once.
func TestSpawnerKeepsNoCopiedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	r := startReaper(t)
	r.spawnFrom = 0 // the spawner starts with the first child, server open
	p, err := r.Start(Spec{Path: "/bin/true", Stdout: func([]byte) {}})
	if err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	server.Close()
	client.SetReadDeadline(time.Now().Add(testTimeout))
	if _, err := client.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("client read after the server closed: %v; want EOF", err)
	}
}

// startSleepers starts n children that sleep, each with both output pipes;
// they are killed at cleanup, before the reaper stops.
func startSleepers(tb testing.TB, r *Reaper, n int) {
	tb.Helper()
	var procs []*Proc
	tb.Cleanup(func() {
		for _, p := range procs {
			p.Signal(syscall.SIGKILL)
			<-p.Done()
		}
	})
	discard := func([]byte) {}
	for range n {
		p, err := r.Start(Spec{Path: "/bin/sleep", Args: []string{"600"}, Stdout: discard, Stderr: discard})
		if err != nil {
			tb.Fatal(err)
		}
		procs = append(procs, p)
	}
}

// Forks through the spawner threads run side by side: with one thread
// busy, a start goes through another instead of waiting for it.
func TestStartWhileOneSpawnerIsBusy(t *testing.T) {
	r := startReaper(t)
	r.spawnFrom = 0
	waitDone(t, start(t, r, Spec{Path: "/bin/true", Stdout: func([]byte) {}}))
	if r.spawner == nil || len(r.spawner.all) < 2 {
		t.Fatalf("want %d spawner threads (%v)", spawnerThreads, r.spawnErr)
	}
	busy := <-r.spawner.free
	returned := false
	giveBack := func() {
		if !returned {
			returned = true
			r.spawner.free <- busy
		}
	}
	defer giveBack()
	started := make(chan error, 1)
	go func() {
		p, err := r.Start(Spec{Path: "/bin/true", Stdout: func([]byte) {}})
		if err == nil {
			<-p.Done()
		}
		started <- err
	}()
	select {
	case err := <-started:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(testTimeout):
		giveBack()
		<-started
		t.Fatal("a start waited for a busy spawner thread while another was free")
	}
}

// Starts under way at the same time each get their own output and exit
// status: the descriptors a spawner thread passes reach the start they
// belong to.
func TestConcurrentStartsGetTheirOwnOutput(t *testing.T) {
	r := startReaper(t)
	r.spawnFrom = 0
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			out, errOut := newLines(), newLines()
			s := sh(fmt.Sprintf("echo out%d; echo err%d >&2; exit %d", i, i, i%7))
			s.Stdout, s.Stderr = out.add, errOut.add
			p, err := r.Start(s)
			if err != nil {
				errs <- err.Error()
				return
			}
			select {
			case <-p.Done():
			case <-time.After(testTimeout):
				errs <- fmt.Sprintf("start %d: not done", i)
				return
			}
			e := p.Exit()
			if got := strings.Join(out.all(), ","); got != fmt.Sprintf("out%d", i) {
				errs <- fmt.Sprintf("start %d: stdout %q", i, got)
			}
			if got := strings.Join(errOut.all(), ","); got != fmt.Sprintf("err%d", i) {
				errs <- fmt.Sprintf("start %d: stderr %q", i, got)
			}
			if e.Code != i%7 {
				errs <- fmt.Sprintf("start %d: exit %v", i, e)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
