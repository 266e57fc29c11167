package process

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// adoptGrandchild starts script through r in a shell that prints the pids
// it names, one a line, then waits; it returns them. The shell reaps its
// children, so they are not this process's and their pids are freed the
// moment they exit, as those of a killed supervisor's services are (their
// parent is init).
func adoptGrandchild(t *testing.T, r *Reaper, script string, n int) []int {
	t.Helper()
	out := newLines()
	s := sh(script + "; wait")
	s.Stdout = out.add
	shell := start(t, r, s)
	t.Cleanup(func() { shell.Signal(syscall.SIGKILL) })
	var pids []int
	for _, l := range out.wait(t, n) {
		pid, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil {
			t.Fatalf("pid line %q", l)
		}
		pids = append(pids, pid)
	}
	return pids
}

// takePID starts, through r, a process with the pid that pid had, as a
// host that forks a lot does once pids wrap: it is the leader of a
// process group of that id, as one that called setsid or setpgid is.
// Skipped where the next pid cannot be chosen (ns_last_pid needs root) or
// another process takes it first every time.
func takePID(t *testing.T, r *Reaper, pid int) *Proc {
	t.Helper()
	for range 20 {
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pid-1)), 0); err != nil {
			t.Skipf("cannot choose the next pid: %v", err)
		}
		p := start(t, r, Spec{Path: "/bin/sleep", Args: []string{"1000"}})
		if p.PID() == pid {
			t.Cleanup(func() { p.Signal(syscall.SIGKILL) })
			return p
		}
		p.Signal(syscall.SIGKILL)
		waitDone(t, p)
	}
	t.Skipf("pid %d was taken by another process each time", pid)
	return nil
}

// An adopted process is no child of the supervisor: its parent reaps it
// at once, and its pid can be taken by another process (here one that
// makes a process group of it) before the supervisor has learnt of the
// exit. Signal and SignalLeader then say the process is done, and the
// kill of what is left of its group at the exit reaches nothing: the
// process that took the pid is not touched.
func TestAdoptedExitSignalsNoReusedPID(t *testing.T) {
	r := startReaper(t)
	pid := adoptGrandchild(t, r, "setsid sleep 1000 & echo $!", 1)[0]
	_, st, ok := procStat(pid)
	if !ok {
		t.Fatalf("pid %d not running", pid)
	}
	p, _, err := r.Adopt(Adoption{PID: pid, Start: st, Leader: true})
	if err != nil {
		t.Fatal(err)
	}
	// Not until Resume does the poller see the pidfd's readiness, so
	// the exit stays unknown to the reaper meanwhile.
	r.Pause()
	resumed := false
	defer func() {
		if !resumed {
			r.Resume()
		}
	}()
	if err := unix.Kill(pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	intruder := takePID(t, r, pid)
	if err := p.Signal(syscall.SIGKILL); !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("Signal after the exit: %v, want ErrProcessDone", err)
	}
	if err := p.SignalLeader(syscall.SIGKILL); !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("SignalLeader after the exit: %v, want ErrProcessDone", err)
	}
	r.Resume()
	resumed = true
	if e := waitDone(t, p); !e.Unknown {
		t.Errorf("exit %s, want unknown", e)
	}
	// The first fatal signal is the one a process dies of: had any of the
	// above reached it, this SIGTERM would not be.
	if err := intruder.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if e := waitDone(t, intruder); e.Signal != syscall.SIGTERM {
		t.Fatalf("the process that took the pid %s, want killed by SIGTERM", e)
	}
}

// When an adopted leader exits, what is left of its process group is
// killed with it, through the pidfd, its pid being freed already.
func TestAdoptedExitKillsItsGroup(t *testing.T) {
	r := startReaper(t)
	pids := adoptGrandchild(t, r, `setsid sh -c 'sleep 1000 & echo $!; exec sleep 1001' & echo $!`, 2)
	// The order of the two lines is the two shells'; the leader is the
	// one whose group is its own pid.
	leader, member := pids[0], pids[1]
	if pgid, _ := unix.Getpgid(member); pgid == member {
		leader, member = member, leader
	}
	_, st, ok := procStat(leader)
	if !ok {
		t.Fatalf("pid %d not running", leader)
	}
	p, _, err := r.Adopt(Adoption{PID: leader, Start: st, Leader: true})
	if err != nil {
		t.Fatal(err)
	}
	if pgid, _ := unix.Getpgid(member); pgid != leader {
		t.Fatalf("member %d in group %d, want %d", member, pgid, leader)
	}
	if err := unix.Kill(leader, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDone(t, p)
	waitGone(t, member)
}
