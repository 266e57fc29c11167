package process

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"testing"
)

// statStart reads field 22 of /proc/PID/stat, the start time a PID file
// names a process with.
func statStart(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	fields := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
	v, err := strconv.ParseUint(string(fields[22-3]), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The start time a fork reads from the clock is the one /proc/PID/stat
// shows, from the supervisor's own table and from the spawner's, and the
// fork knows it for most children (it does not when a clock tick ends
// while it forks).
func TestStartTimeIsProcs(t *testing.T) {
	for _, spawner := range []bool{false, true} {
		t.Run("spawner="+strconv.FormatBool(spawner), func(t *testing.T) { startTimesAreProcs(t, spawner) })
	}
}

func startTimesAreProcs(t *testing.T, spawner bool) {
	r := startReaper(t) // one reaper at a time: stopped at the subtest's end
	if spawner {
		r.spawnFrom = 0
	}
	const n = 40
	known := 0
	for range n {
		p, err := r.Start(Spec{Path: "/bin/sleep", Args: []string{"600"}, Stdout: func([]byte) {}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Signal(syscall.SIGKILL); <-p.Done() })
		start, ok := p.StartTime()
		if !ok {
			continue
		}
		known++
		if want := statStart(t, p.PID()); start != want {
			t.Fatalf("pid %d: StartTime %d, /proc/PID/stat says %d", p.PID(), start, want)
		}
	}
	if spawner && r.spawner == nil {
		t.Fatalf("no spawner: %v", r.spawnErr)
	}
	if known < n/2 {
		t.Errorf("the start time known for %d of %d children; want most", known, n)
	}
}

// A tick that ends while the fork runs leaves the start time unknown.
func TestStartBetween(t *testing.T) {
	for _, c := range []struct{ before, after, want uint64 }{
		{5, 5, 5}, {5, 6, 0}, {0, 0, 0},
	} {
		if got := startBetween(c.before, c.after); got != c.want {
			t.Errorf("startBetween(%d, %d) = %d, want %d", c.before, c.after, got, c.want)
		}
	}
}
