package process

import (
	"errors"
	"io"
	"net"
	"os"
	"strconv"
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
	if r.spawner.tid == os.Getpid() {
		t.Fatal("spawner on the main thread: /proc/PID/fd would show its table")
	}
	ents, err := os.ReadDir("/proc/self/task/" + strconv.Itoa(r.spawner.tid) + "/fd")
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
